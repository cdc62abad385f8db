/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_plot.c: the trainer's PNG plot read back: its size, each curve in its colour through its data points and
 * nowhere else, text where the title, axis labels, legends and tick values go, logs with gaps, one row or none,
 * the directory named in the title, and errors that name the file. */
#include <cairo.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plot.h"
#include "tap.h"
#include "train_int.h"

#define NKIND 5
#define MAXROWS 100

static const unsigned series_rgb[4] = { PLOT_RGB_LOSS, PLOT_RGB_VLOSS, PLOT_RGB_ACC_TF, PLOT_RGB_ACC_S };
static const char *const what[NKIND] = { "a melody run", "one row", "2M steps, 7 decades, a gap and a zero",
	"no rows", "no validation yet" };

/* A plot read back: 0xRRGGBB pixels. */
struct img {
	int w, h;
	unsigned *px;           /* [h, w] */
};

static unsigned
at(const struct img *m, int x, int y)
{
	return m->px[(size_t)y * m->w + x];
}

/* Reads an RGB PNG; -1 if it cannot (or it is not RGB). */
static int
png_load(const char *path, struct img *m)
{
	cairo_surface_t *s = cairo_image_surface_create_from_png(path);
	int ok_ = cairo_surface_status(s) == CAIRO_STATUS_SUCCESS &&
	    cairo_image_surface_get_format(s) == CAIRO_FORMAT_RGB24;

	m->px = NULL;
	if (ok_) {
		const unsigned char *d = cairo_image_surface_get_data(s);
		int stride = cairo_image_surface_get_stride(s);
		m->w = cairo_image_surface_get_width(s), m->h = cairo_image_surface_get_height(s);
		if ((m->px = malloc((size_t)m->w * m->h * sizeof *m->px)) == NULL)
			abort();
		for (int y = 0; y < m->h; y++) {
			const uint32_t *row = (const uint32_t *)(d + (size_t)y * stride);
			for (int x = 0; x < m->w; x++)
				m->px[(size_t)y * m->w + x] = row[x] & 0xffffffu;       /* cairo's RGB24: 0x00RRGGBB */
		}
	}
	cairo_surface_destroy(s);
	return ok_ ? 0 : -1;
}

/* Each channel of c within tol of rgb's. */
static int
near(unsigned c, unsigned rgb, int tol)
{
	for (int sh = 0; sh <= 16; sh += 8)
		if (abs((int)(c >> sh & 255) - (int)(rgb >> sh & 255)) > tol)
			return 0;
	return 1;
}

static int
is_series(unsigned c, int s)
{
	return near(c, series_rgb[s], 30);
}

/* Text ink: all channels dark (the text is near-black, anti-aliased). */
static int
is_dark(unsigned c)
{
	return (c >> 16 & 255) < 110 && (c >> 8 & 255) < 110 && (c & 255) < 110;
}

static int
clampi(double v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : (int)v;
}

/* Dark pixels in the box (clipped to the image). */
static int
dark_in(const struct img *m, const struct plot_box *b)
{
	int n = 0;

	for (int y = clampi(floor(b->y0), 0, m->h); y < clampi(ceil(b->y1), 0, m->h); y++)
		for (int x = clampi(floor(b->x0), 0, m->w); x < clampi(ceil(b->x1), 0, m->w); x++)
			n += is_dark(at(m, x, y));
	return n;
}

static int
inside(const struct plot_box *b, double x, double y, double slack)
{
	return x >= b->x0 - slack && x <= b->x1 + slack && y >= b->y0 - slack && y <= b->y1 + slack;
}

/* Synthetic logs: 0 like models/mel_2bar's (validation every 10th row from row 19), 1 one row, 2 two million
 * steps and losses over 7 decades with a training NaN and a zero validation loss, 3 empty, 4 no validation and
 * losses over 2 decades. */
static void
make_log(struct train_log *l, int kind, long *st, double *lo, double *vl, double *at_, double *as)
{
	size_t n = kind == 0 ? 60 : kind == 1 ? 1 : kind == 2 ? 100 : kind == 3 ? 0 : 30;

	memset(l, 0, sizeof *l);
	l->n = l->cap = n, l->step = st, l->loss = lo, l->vloss = vl, l->acc_tf = at_, l->acc_s = as;
	for (size_t i = 0; i < n; i++) {
		int ev = kind == 0 ? i >= 19 && i % 10 == 9 : kind == 1 ? 1 : kind == 2 ? i % 7 == 0 : 0;
		st[i] = kind == 2 ? 20000 * (long)(i + 1) : 50 * (long)(i + 1);
		lo[i] = kind == 2 ? 1e4 * pow(1e-7, i / 99.0) : kind == 4 ? 150 * exp(-(double)i / 6.5) :
		    23 + 55 * exp(-(double)i / 8);
		vl[i] = ev ? lo[i] * (kind == 2 ? 3 : 0.85) : NAN;
		at_[i] = ev ? (kind == 2 ? 0.15 + 0.85 * i / 99 : 0.6 + 0.003 * i) : NAN;
		as[i] = ev ? (kind == 2 ? 0.05 + 0.5 * i / 99 : 0.5 + 0.0025 * i) : NAN;
	}
	if (kind == 2)
		vl[21] = 0, lo[50] = NAN;
}

/* Pixel of row i of series s (NAN when the row has no point there), as the geometry maps it. */
static void
point(const struct train_log *l, const struct plot_geom *g, int s, size_t i, double *x, double *y)
{
	const double *v[4] = { l->loss, l->vloss, l->acc_tf, l->acc_s };
	int k = s >= 2;
	const struct plot_box *b = &g->panel[k];
	double t = k == 0 ? (v[s][i] > 0 ? log(v[s][i]) : NAN) : v[s][i];

	*x = b->x0 + (l->step[i] - g->xlo) / (g->xhi - g->xlo) * (b->x1 - b->x0);
	*y = b->y1 - (t - g->ylo[k]) / (g->yhi[k] - g->ylo[k]) * (b->y1 - b->y0);
}

/* Whether pixel (x, y) of series s's colour has, within r, a pixel of that colour. */
static int
colour_near(const struct img *m, double x, double y, int s, int r)
{
	for (int dy = -r; dy <= r; dy++)
		for (int dx = -r; dx <= r; dx++) {
			int px = (int)floor(x) + dx, py = (int)floor(y) + dy;
			if (px >= 0 && py >= 0 && px < m->w && py < m->h && is_series(at(m, px, py), s))
				return 1;
		}
	return 0;
}

/* Data points of every curve with no pixel of its colour at them. */
static int
points_missed(const struct img *m, const struct train_log *l, const struct plot_geom *g, int *npoints)
{
	int miss = 0;

	*npoints = 0;
	for (int s = 0; s < 4; s++)
		for (size_t i = 0; i < l->n; i++) {
			double x, y;
			point(l, g, s, i, &x, &y);
			if (!isfinite(y))
				continue;
			++*npoints;
			if (!colour_near(m, x, y, s, 2))
				miss++, diag("%s point of row %zu (step %ld) not drawn near (%.0f, %.0f)",
				    (const char *[]){ "loss", "vloss", "acc_tf", "acc_s" }[s], i, l->step[i], x, y);
		}
	return miss;
}

static double
seg_dist(double px, double py, double x0, double y0, double x1, double y1)
{
	double dx = x1 - x0, dy = y1 - y0, len = dx * dx + dy * dy, t = 0;

	if (len > 0)
		t = fmax(0, fmin(1, ((px - x0) * dx + (py - y0) * dy) / len));
	return hypot(px - x0 - t * dx, py - y0 - t * dy);
}

/* Pixels of a curve's colour inside the panels or outside both panels and its legend, farther than 4 pixels
 * from its polyline through its finite points. */
static int
strays(const struct img *m, const struct train_log *l, const struct plot_geom *g)
{
	int n = 0;

	for (int y = 0; y < m->h; y++)
		for (int x = 0; x < m->w; x++)
			for (int s = 0; s < 4; s++) {
				int k = s >= 2, in = inside(&g->panel[k], x + 0.5, y + 0.5, 0);
				double best = HUGE_VAL, px = NAN, py = NAN;
				if (!is_series(at(m, x, y), s) || inside(&g->legend[k], x + 0.5, y + 0.5, 1))
					continue;
				for (size_t i = 0; in && i < l->n; i++) {
					double qx, qy;
					point(l, g, s, i, &qx, &qy);
					if (!isfinite(qy))
						continue;
					if (isnan(px))
						px = qx, py = qy;
					best = fmin(best, seg_dist(x + 0.5, y + 0.5, px, py, qx, qy));
					px = qx, py = qy;
				}
				if (best > 4 && n++ < 3)
					diag("stray %06x pixel of curve %d at (%d, %d)%s", at(m, x, y), s, x, y,
					    in ? "" : " outside its panel and legend");
			}
	return n;
}

/* Distinct runs along the rows (dir 0) or columns (dir 1) of box b holding dark pixels, runs closer than merge
 * joined; the longest in *longest. */
static int
dark_runs(const struct img *m, const struct plot_box *b, int dir, int merge, int *longest)
{
	int a0 = dir ? clampi(b->x0, 0, m->w) : clampi(b->y0, 0, m->h), a1 = dir ? clampi(b->x1, 0, m->w) :
	    clampi(b->y1, 0, m->h), runs = 0, start = -1, last = -1000;

	*longest = 0;
	for (int a = a0; a < a1; a++) {
		int any = 0;
		for (int c = dir ? clampi(b->y0, 0, m->h) : clampi(b->x0, 0, m->w);
		    c < (dir ? clampi(b->y1, 0, m->h) : clampi(b->x1, 0, m->w)) && !any; c++)
			any = is_dark(dir ? at(m, a, c) : at(m, c, a));
		if (!any)
			continue;
		if (a - last > merge)
			runs++, start = a;
		last = a;
		*longest = *longest > last - start + 1 ? *longest : last - start + 1;
	}
	return runs;
}

/* Between panel k's y label and its tick marks: where its tick values go. */
static struct plot_box
ytick_strip(const struct plot_geom *g, int k)
{
	return (struct plot_box){ g->ylabel[k].x1 + 1, g->panel[k].y0 - 9, g->panel[k].x0 - 7, g->panel[k].y1 + 9 };
}

static void
mkdir_or_bail(const char *dir)
{
	if (mkdir(dir, 0700) != 0) {
		printf("Bail out! cannot make %s\n", dir);
		exit(1);
	}
}

static int
exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

/* Draws log kind into dir/train_log.png with its geometry and reads it back. */
static int
plot_kind(const char *dir, int kind, struct img *m, struct plot_geom *g, struct train_log *l, long *st,
    double *v)
{
	char path[4200], tmp[4300], err[256];

	make_log(l, kind, st, v, v + MAXROWS, v + 2 * MAXROWS, v + 3 * MAXROWS);
	snprintf(path, sizeof path, "%s/train_log.png", dir);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (plot_draw(l, "mel_2bar: training, steps 50\xe2\x80\x93" "3000", path, g, err, sizeof err) != 0) {
		diag("%s", err);
		return -1;
	}
	if (exists(tmp)) {
		diag("%s left behind", tmp);
		return -1;
	}
	return png_load(path, m);
}

static void
box_diag(const char *name, const struct img *m, const struct plot_box *b)
{
	diag("%s [%.1f, %.1f] x [%.1f, %.1f]: %d dark pixels", name, b->x0, b->x1, b->y0, b->y1, dark_in(m, b));
}

/* Ink in the title, the x label and the y labels; title above the loss legend above the loss panel above the
 * accuracy legend above the accuracy panel above the x label; the y labels left of their panels. */
static int
text_placed(const struct img *m, const struct plot_geom *g)
{
	int r = dark_in(m, &g->title) > 60 && dark_in(m, &g->xlabel) > 10 && dark_in(m, &g->ylabel[0]) > 40 &&
	    dark_in(m, &g->ylabel[1]) > 40 && g->title.y0 >= 0 && g->title.y1 < g->legend[0].y0 &&
	    g->legend[0].y1 < g->panel[0].y0 && g->panel[0].y1 < g->legend[1].y0 && g->legend[1].y1 < g->panel[1].y0 &&
	    g->panel[1].y1 < g->xlabel.y0 && g->xlabel.y1 <= PLOT_H && g->ylabel[0].x1 < g->panel[0].x0 &&
	    g->ylabel[1].x1 < g->panel[1].x0 && g->ylabel[0].x0 >= 0;

	if (!r) {
		box_diag("title", m, &g->title);
		box_diag("x label", m, &g->xlabel);
		for (int k = 0; k < 2; k++) {
			box_diag(k ? "accuracy y label" : "loss y label", m, &g->ylabel[k]);
			box_diag(k ? "accuracy legend" : "loss legend", m, &g->legend[k]);
			box_diag(k ? "accuracy panel" : "loss panel", m, &g->panel[k]);
		}
	}
	return r;
}

static void
test_kind(const char *dir, int kind)
{
	long st[MAXROWS];
	double v[4 * MAXROWS];
	struct train_log l;
	struct plot_geom g;
	struct img m;
	int np = 0, missed, longest, runs;
	const char *w = what[kind];

	if (!ok(plot_kind(dir, kind, &m, &g, &l, st, v) == 0 && m.w == PLOT_W && m.h == PLOT_H,
	    "%s: written (no temporary left) and reads back as a %dx%d RGB PNG", w, PLOT_W, PLOT_H)) {
		skip(kind == 0 || kind == 2 ? 8 : kind == 4 ? 5 : 4, "no plot");
		return;
	}
	ok(text_placed(&m, &g), "%s: text in the title, the y labels and the x label, placed around the panels", w);
	ok(dark_in(&m, &g.legend[0]) > 40 && dark_in(&m, &g.legend[1]) > 40 &&
	    colour_near(&m, g.legend[0].x0 + 11, (g.legend[0].y0 + g.legend[0].y1) / 2, 0, 3) &&
	    colour_near(&m, g.legend[1].x0 + 11, (g.legend[1].y0 + g.legend[1].y1) / 2, 2, 3),
	    "%s: each panel's legend has names and the first curve's colour leads it", w);
	missed = points_missed(&m, &l, &g, &np);
	is_int(missed, 0, "%s: each of the %d data points is drawn in its curve's colour", w, np);
	is_int(strays(&m, &l, &g), 0, "%s: no curve's colour anywhere but along its data and in its legend", w);
	if (kind == 0 || kind == 2) {
		struct plot_box ystrip = ytick_strip(&g, 0);
		struct plot_box xstrip = { 0, g.panel[1].y1 + 6, PLOT_W, g.xlabel.y0 - 1 };
		runs = dark_runs(&m, &ystrip, 0, 4, &longest);
		ok(runs == (kind ? 8 : 7) && longest <= 14, "%s: %d loss tick values (want %s), apart (tallest %d px)",
		    w, runs, kind ? "8: decades 0.001 to 10000, 1-2-5 would crowd" :
		    "7: 20, 30 .. 80, 1-2-5 gives too few", longest);
		runs = dark_runs(&m, &xstrip, 1, 6, &longest);
		ok(runs >= 3 && longest <= 80, "%s: %d step tick values, apart (widest %d px)", w, runs, longest);
		if (kind == 0) {
			double x1000, y;
			struct plot_box before;
			int n = 0;
			point(&l, &g, 0, 19, &x1000, &y);
			before = (struct plot_box){ g.panel[0].x0, 0, x1000 - 5, PLOT_H };
			for (int yy = 0; yy < PLOT_H; yy++)
				for (int xx = (int)before.x0; xx < before.x1; xx++)
					n += is_series(at(&m, xx, yy), 1) || is_series(at(&m, xx, yy), 2) ||
					    is_series(at(&m, xx, yy), 3);
			is_int(n, 0, "%s: no validation curve before the first validation (step 1000)", w);
			ok(np == 60 + 3 * 5, "%s: the test's geometry saw every point (%d)", w, np);
		} else {
			struct plot_box acc = ytick_strip(&g, 1);
			runs = dark_runs(&m, &acc, 0, 4, &longest);
			is_int(runs, 5, "%s: accuracy ticks 0, 0.25, 0.5, 0.75, 1", w);
			ok(exp(g.yhi[0] - g.ylo[0]) > 1e6, "%s: the loss axis spans the 7 decades", w);
		}
	}
	if (kind == 4) {
		struct plot_box ystrip = ytick_strip(&g, 0);
		runs = dark_runs(&m, &ystrip, 0, 4, &longest);
		is_int(runs, 6, "%s: loss ticks 1-2-5 per decade: 2, 5, 10, 20, 50, 100", w);
	}
	free(m.px);
}

/* Left and right ends of the title's ink in a plot written by train_log_plot; -1 when none or not written. */
static int
title_span(const char *dir, const struct plot_geom *g, int *x0, int *x1)
{
	long st[MAXROWS];
	double v[4 * MAXROWS];
	struct train_log l;
	struct img m;
	char path[4200], err[256];

	make_log(&l, 0, st, v, v + MAXROWS, v + 2 * MAXROWS, v + 3 * MAXROWS);
	snprintf(path, sizeof path, "%s/train_log.png", dir);
	if (train_log_plot(&l, path, err, sizeof err) != 0) {
		diag("%s", err);
		return -1;
	}
	if (png_load(path, &m) != 0)
		return -1;
	*x0 = PLOT_W, *x1 = -1;
	for (int y = (int)g->title.y0 - 3; y < g->title.y1 + 3; y++)
		for (int x = 0; x < PLOT_W; x++)
			if (is_dark(at(&m, x, y)))
				*x0 = x < *x0 ? x : *x0, *x1 = x > *x1 ? x : *x1;
	free(m.px);
	return *x1 >= 0 ? 0 : -1;
}

static void
test_title(const char *work)
{
	long st[MAXROWS];
	double v[4 * MAXROWS];
	struct train_log l;
	struct plot_geom g, lg;
	struct img m;
	char named[4200], dot[4200], odd[4200], title[200], path[4300], err[256];
	int a0, a1, b0, b1, r;

	snprintf(named, sizeof named, "%s/mel_2bar", work);
	snprintf(dot, sizeof dot, "%s/mel_2bar/.", work);
	/* the UTF-8 micro sign, then a byte that is not UTF-8 */
	snprintf(odd, sizeof odd, "%s/m\xc2\xb5\xff", work);
	mkdir_or_bail(odd);
	if (plot_kind(named, 0, &m, &g, &l, st, v) != 0) {
		skip(3, "no plot");
		return;
	}
	free(m.px);
	r = title_span(named, &g, &a0, &a1) == 0 && title_span(dot, &g, &b0, &b1) == 0;
	ok(r && (a1 - a0) - (b1 - b0) > 50, "the title names the model directory (%d px wider than with \".\")",
	    r ? (a1 - a0) - (b1 - b0) : 0);
	snprintf(title, sizeof title, "%s", "a long model directory name, a long model directory name, a long model "
	    "directory name: training, steps 50\xe2\x80\x93" "3000");
	snprintf(path, sizeof path, "%s/train_log.png", named);
	r = plot_draw(&l, title, path, &lg, err, sizeof err) == 0 && png_load(path, &m) == 0;
	ok(r && lg.title.x0 >= 0 && lg.title.x1 <= PLOT_W && lg.title.x1 - lg.title.x0 > 600 &&
	    dark_in(&m, &lg.title) > 500, "a title too wide for the image is drawn smaller, all inside ([%.0f, %.0f])",
	    lg.title.x0, lg.title.x1);
	if (r)
		free(m.px);
	r = title_span(odd, &g, &a0, &a1) == 0;
	ok(r && a1 - a0 > 200, "a directory named with non-ASCII and invalid UTF-8 bytes still gets a title (%d px)",
	    r ? a1 - a0 : 0);
}

static void
test_errors(const char *work)
{
	long st[MAXROWS];
	double v[4 * MAXROWS];
	struct train_log l;
	char path[4200], tmp[4300], keep[4300], err[512] = "";
	FILE *f;

	make_log(&l, 0, st, v, v + MAXROWS, v + 2 * MAXROWS, v + 3 * MAXROWS);
	snprintf(path, sizeof path, "%s/missing/train_log.png", work);
	ok(train_log_plot(&l, path, err, sizeof err) == -1 && strstr(err, path) != NULL,
	    "a directory that does not exist: -1 and an error naming the file (%s)", err);
	snprintf(path, sizeof path, "%s/busy", work);
	mkdir_or_bail(path);
	snprintf(path, sizeof path, "%s/busy/train_log.png", work);
	mkdir_or_bail(path);
	snprintf(keep, sizeof keep, "%s/keep", path);
	if ((f = fopen(keep, "w")) != NULL)
		fclose(f);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	err[0] = '\0';
	ok(train_log_plot(&l, path, err, sizeof err) == -1 && strstr(err, path) != NULL && !exists(tmp) &&
	    exists(keep), "a non-empty directory in the way: -1, the error names it (%s), no temporary left", err);
	unlink(keep);
	rmdir(path);
}

int
main(void)
{
	static const char *const files[] = { "mel_2bar/train_log.png", "mel_2bar", "m\xc2\xb5\xff/train_log.png",
		"m\xc2\xb5\xff", "busy", NULL };
	char work[4096], path[4200];

	snprintf(work, sizeof work, "%s/test_plot.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(work) == NULL) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	plan(NKIND * 5 + 2 * 4 + 1 + 5);
	snprintf(path, sizeof path, "%s/mel_2bar", work);
	mkdir_or_bail(path);
	for (int kind = 0; kind < NKIND; kind++) {
		char dir[4300];
		snprintf(dir, sizeof dir, "%s/kind%d", work, kind);
		mkdir_or_bail(dir);
		test_kind(dir, kind);
		if (getenv("TEST_PLOT_KEEP") == NULL) {
			snprintf(path, sizeof path, "%s/train_log.png", dir);
			unlink(path);
			rmdir(dir);
		}
	}
	test_title(work);
	test_errors(work);
	if (getenv("TEST_PLOT_KEEP") != NULL)
		diag("plots kept in %s", work);
	else {
		for (int i = 0; files[i] != NULL; i++) {
			snprintf(path, sizeof path, "%s/%s", work, files[i]);
			if (unlink(path) != 0)
				rmdir(path);
		}
		rmdir(work);
	}
	return done_testing();
}
