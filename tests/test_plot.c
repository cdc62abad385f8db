/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_plot.c: the plot font (cells, extents, turned text, the box for bytes without a glyph) and the trainer's
 * PNG plot read back: written, labelled, and no label character drawn as a box. */
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plot_font.h"
#include "tap.h"
#include "train_int.h"

static const unsigned char black[3] = { 0, 0, 0 };

/* An RGB image, white where nothing was drawn. */
struct img {
	int w, h;
	unsigned char *px;      /* [h, w, 3] */
};

static void
img_new(struct img *m, int w, int h)
{
	m->w = w, m->h = h;
	if ((m->px = malloc((size_t)w * h * 3)) == NULL)
		abort();
	memset(m->px, 255, (size_t)w * h * 3);
}

static const unsigned char *
img_at(const struct img *m, int x, int y)
{
	return m->px + ((size_t)y * m->w + x) * 3;
}

static int
img_ink(const struct img *m, int x, int y)
{
	const unsigned char *c = img_at(m, x, y);

	return c[0] != 255 || c[1] != 255 || c[2] != 255;
}

/* Inked pixels outside the rectangle [x0, x1) x [y0, y1). */
static int
ink_outside(const struct img *m, int x0, int y0, int x1, int y1)
{
	int n = 0;

	for (int y = 0; y < m->h; y++)
		for (int x = 0; x < m->w; x++)
			n += img_ink(m, x, y) && (x < x0 || x >= x1 || y < y0 || y >= y1);
	return n;
}

static int
ink_inside(const struct img *m, int x0, int y0, int x1, int y1)
{
	int n = 0;

	for (int y = y0 < 0 ? 0 : y0; y < y1 && y < m->h; y++)
		for (int x = x0 < 0 ? 0 : x0; x < x1 && x < m->w; x++)
			n += img_ink(m, x, y);
	return n;
}

static int
draw(struct img *m, int x, int y, const char *s, int scale, int dir)
{
	struct plot_font_canvas cv = { m->px, m->w, m->h };

	return plot_font_draw(&cv, x, y, s, scale, dir, black);
}

/* Whether a box of a byte without a glyph, drawn at scale s, has its top-left corner at (x, y): the 5x7 outline
 * s pixels thick all in one colour, and that colour nowhere inside it nor in the ring of pixels around it. */
static int
box_at(const struct img *m, int x, int y, int s)
{
	int w = PLOT_FONT_W * s, h = PLOT_FONT_ASCENT * s;
	const unsigned char *c = img_at(m, x, y);

	if (x < 1 || y < 1 || x + w >= m->w || y + h >= m->h)
		return 0;
	for (int j = -1; j <= h; j++)
		for (int i = -1; i <= w; i++) {
			int ring = i < 0 || j < 0 || i == w || j == h;
			int edge = !ring && (i < s || j < s || i >= w - s || j >= h - s);
			if (edge != (memcmp(img_at(m, x + i, y + j), c, 3) == 0))
				return 0;
		}
	return 1;
}

/* Boxes drawn at scales 1 to 3 anywhere in m. */
static int
count_boxes(const struct img *m)
{
	int n = 0;

	for (int s = 1; s <= 3; s++)
		for (int y = 0; y < m->h; y++)
			for (int x = 0; x < m->w; x++)
				n += img_ink(m, x, y) && box_at(m, x, y, s);
	return n;
}

/* Reads an 8-bit RGB PNG; -1 if it cannot. */
static int
png_load(const char *path, struct img *m)
{
	FILE *f = fopen(path, "rb");
	png_structp png = f ? png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL) : NULL;
	png_infop info = png ? png_create_info_struct(png) : NULL;

	m->px = NULL;
	if (info == NULL || setjmp(png_jmpbuf(png))) {
		png_destroy_read_struct(&png, &info, NULL);
		if (f != NULL)
			fclose(f);
		free(m->px);
		m->px = NULL;
		return -1;
	}
	png_init_io(png, f);
	png_read_info(png, info);
	if (png_get_color_type(png, info) != PNG_COLOR_TYPE_RGB || png_get_bit_depth(png, info) != 8)
		png_error(png, "not 8-bit RGB");
	img_new(m, (int)png_get_image_width(png, info), (int)png_get_image_height(png, info));
	for (int y = 0; y < m->h; y++)
		png_read_row(png, m->px + (size_t)y * m->w * 3, NULL);
	png_read_end(png, NULL);
	png_destroy_read_struct(&png, &info, NULL);
	fclose(f);
	return 0;
}

static int
glyph_equal(int a, int b)
{
	for (int r = 0; r < PLOT_FONT_H; r++)
		for (int k = 0; k < PLOT_FONT_W; k++)
			if (plot_font_pixel(a, k, r) != plot_font_pixel(b, k, r))
				return 0;
	return 1;
}

static void
test_glyphs(void)
{
	int missing = 0, stray = 0, blank = 0, same = 0, boxlike = 0;
	const char *set = "0123456789abcdefghijklmnopqrstuvwxyz";

	for (int c = 32; c < 127; c++) {
		struct img m;
		img_new(&m, 16, 16);
		draw(&m, 3, 3, (char[]){ (char)c, 0 }, 1, PLOT_FONT_RIGHT);
		if (!plot_font_has(c))
			missing++, diag("no glyph for '%c'", c);
		if (ink_outside(&m, 3, 3, 3 + PLOT_FONT_W, 3 + PLOT_FONT_H))
			stray++, diag("'%c' inks outside its 5x9 cell", c);
		if ((ink_inside(&m, 0, 0, 16, 16) == 0) != (c == ' '))
			blank++, diag("'%c' is %s", c, c == ' ' ? "not blank" : "blank");
		if (glyph_equal(c, 0x01))
			boxlike++, diag("'%c' looks like the missing-glyph box", c);
		free(m.px);
	}
	for (const char *a = set; *a; a++)
		for (const char *b = a + 1; *b; b++)
			if (glyph_equal(*a, *b))
				same++, diag("'%c' and '%c' are drawn alike", *a, *b);
	is_int(missing, 0, "every printable ASCII character has a well-formed glyph");
	is_int(stray, 0, "every glyph stays inside its 5x9 cell");
	is_int(blank, 0, "only the space is blank");
	is_int(same, 0, "digits and lowercase letters are told apart");
	is_int(boxlike, 0, "no glyph is the missing-glyph box");
}

/* Ink of every non-space character's cell of s drawn horizontally at (x, y). */
static int
cells_inked(const struct img *m, int x, int y, const char *s, int scale)
{
	for (int i = 0; s[i]; i++) {
		int cx = x + i * PLOT_FONT_ADVANCE * scale;
		if (s[i] != ' ' && ink_inside(m, cx, y, cx + PLOT_FONT_W * scale, y + PLOT_FONT_H * scale) == 0)
			return 0;
	}
	return 1;
}

static void
test_strings(void)
{
	const char *s = "loss (nats) 0.25, tf-acc/step: 3";
	int w = plot_font_width(s, 2), h = PLOT_FONT_H * 2, turned = 1;
	struct img a, b;

	is_int(plot_font_width("", 2), 0, "the empty string is 0 wide");
	is_int(plot_font_width("a", 1), 5, "one character is 5 wide");
	is_int(plot_font_width("step", 1), 23, "four characters: 4 advances of 6 less the last blank");
	is_int(plot_font_width("step", 3), 69, "width scales");
	img_new(&a, w + 20, h + 10);
	is_int(draw(&a, 7, 5, s, 2, PLOT_FONT_RIGHT), 0, "a label string has a glyph for every character");
	is_int(ink_outside(&a, 7, 5, 7 + w, 5 + h), 0, "text inks only inside its bounding box");
	ok(cells_inked(&a, 7, 5, s, 2), "each character inks its own cell");
	img_new(&b, h + 10, w + 20);
	draw(&b, 4, 9, s, 2, PLOT_FONT_UP);
	is_int(ink_outside(&b, 4, 9, 4 + h, 9 + w), 0, "turned text inks only inside its turned box");
	for (int u = 0; u < w; u++)
		for (int v = 0; v < h; v++)
			turned &= img_ink(&a, 7 + u, 5 + v) == img_ink(&b, 4 + v, 9 + w - 1 - u);
	ok(turned, "upward text is the same text turned a quarter counterclockwise");
	free(a.px);
	free(b.px);
}

static void
test_missing(void)
{
	const char *s = "a\xc2\xb5" "b";     /* UTF-8 micro sign: two bytes without glyphs */
	char all[96];
	int found = 0;
	struct img m;

	img_new(&m, 80, 30);
	is_int(draw(&m, 4, 4, s, 2, PLOT_FONT_RIGHT), 2, "bytes without a glyph are counted");
	is_int(count_boxes(&m), 2, "and each is drawn as a visible box (the detector finds them)");
	free(m.px);
	for (int c = 32; c < 127; c++)
		all[c - 32] = (char)c;
	all[95] = '\0';
	for (int scale = 1; scale <= 2; scale++) {
		img_new(&m, 4 * 16 * PLOT_FONT_ADVANCE * scale + 20, 6 * PLOT_FONT_H * 2 * scale + 20);
		for (int line = 0; line < 6; line++) {
			char part[17];
			snprintf(part, sizeof part, "%.16s", all + 16 * line);
			draw(&m, 5, 5 + line * PLOT_FONT_H * 2 * scale, part, scale, PLOT_FONT_RIGHT);
		}
		found += count_boxes(&m);
		free(m.px);
	}
	is_int(found, 0, "the detector finds no box in text of every printable character");
}

/* Synthetic logs: 0 like models/mel_2bar's, 1 one row, 2 two million steps and losses over 7 decades with a
 * zero and a gap, 3 empty. */
static void
make_log(struct train_log *l, int kind, long *st, double *lo, double *vl, double *at, double *as)
{
	size_t n = kind == 0 ? 60 : kind == 1 ? 1 : kind == 2 ? 100 : 0;

	memset(l, 0, sizeof *l);
	l->n = l->cap = n, l->step = st, l->loss = lo, l->vloss = vl, l->acc_tf = at, l->acc_s = as;
	for (size_t i = 0; i < n; i++) {
		int ev = kind == 0 ? i >= 19 && i % 10 == 9 : kind == 1 ? 1 : i % 7 == 0;
		st[i] = kind == 2 ? 20000 * (long)(i + 1) : 50 * (long)(i + 1);
		lo[i] = kind == 2 ? 1e4 * pow(1e-7, i / 99.0) : 23 + 55 * exp(-(double)i / 8);
		vl[i] = ev ? lo[i] * 1.03 : NAN;
		at[i] = ev ? (kind == 2 ? (double)i / 99 : 0.6 + 0.003 * i) : NAN;
		as[i] = ev ? (kind == 2 ? 0 : 0.55 + 0.0025 * i) : NAN;
	}
	if (kind == 2)
		vl[21] = 0, lo[50] = NAN;
}

static void
mkdir_or_bail(const char *dir)
{
	if (mkdir(dir, 0700) != 0) {
		printf("Bail out! cannot make %s\n", dir);
		exit(1);
	}
}

/* Writes the plot of log kind into dir and reads it back. */
static int
plot_kind(const char *dir, int kind, struct img *m)
{
	long st[100];
	double lo[100], vl[100], at[100], as[100];
	struct train_log l;
	char path[4200], err[256];

	make_log(&l, kind, st, lo, vl, at, as);
	snprintf(path, sizeof path, "%s/train_log.png", dir);
	if (train_log_plot(&l, path, err, sizeof err) != 0) {
		diag("%s", err);
		return -1;
	}
	return png_load(path, m);
}

static int
dark(const struct img *m, int x0, int y0, int x1, int y1)
{
	int n = 0;

	for (int y = y0; y < y1; y++)
		for (int x = x0; x < x1; x++) {
			const unsigned char *c = img_at(m, x, y);
			n += c[0] < 80 && c[1] < 80 && c[2] < 80;
		}
	return n;
}

static void
test_plot(const char *work)
{
	static const char *what[4] = { "a melody run", "one row", "2M steps, 7 decades", "no rows" };
	char dir[4200];
	struct img m;

	snprintf(dir, sizeof dir, "%s/mel_2bar", work);
	mkdir_or_bail(dir);
	for (int kind = 0; kind < 4; kind++) {
		if (!ok(plot_kind(dir, kind, &m) == 0, "%s: the plot is written and reads back as RGB", what[kind])) {
			skip(2, "no plot");
			continue;
		}
		ok(m.w >= 400 && m.h >= 300 && dark(&m, 0, 0, m.w, 30) > 100 && dark(&m, 0, 60, 30, m.h - 60) > 100 &&
		    dark(&m, 0, m.h - 50, m.w, m.h) > (kind == 3 ? 50 : 200),
		    "%s: text in the title line, the y label strip and under the panels", what[kind]);
		is_int(count_boxes(&m), 0, "%s: no label character is drawn as a missing-glyph box", what[kind]);
		free(m.px);
	}
	snprintf(dir, sizeof dir, "%s/m\xc2\xb5", work);       /* the title names the directory */
	mkdir_or_bail(dir);
	if (ok(plot_kind(dir, 0, &m) == 0, "a plot in a directory named with a non-ASCII byte")) {
		is_int(count_boxes(&m), 2, "shows its two bytes as boxes in the title (the check above can fail)");
		free(m.px);
	} else
		skip(1, "no plot");
}

int
main(void)
{
	char work[4096], path[4200];

	snprintf(work, sizeof work, "%s/test_plot.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(work) == NULL) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	plan(31);
	test_glyphs();
	test_strings();
	test_missing();
	test_plot(work);
	if (getenv("TEST_PLOT_KEEP") != NULL)
		diag("plots kept in %s", work);
	else {
		snprintf(path, sizeof path, "%s/mel_2bar/train_log.png", work);
		unlink(path);
		snprintf(path, sizeof path, "%s/mel_2bar", work);
		rmdir(path);
		snprintf(path, sizeof path, "%s/m\xc2\xb5/train_log.png", work);
		unlink(path);
		snprintf(path, sizeof path, "%s/m\xc2\xb5", work);
		rmdir(path);
		rmdir(work);
	}
	return done_testing();
}
