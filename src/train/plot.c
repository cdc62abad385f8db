/* SPDX-License-Identifier: GPL-3.0-or-later */
/* plot.c: the training plot drawn with cairo (layout, axes and their ticks, curves, legends, title) and its PNG
 * written atomically. */
#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plot.h"

#define PLOT_FONT "sans-serif"
#define PLOT_FS 13.0            /* text size in pixels */
#define PLOT_TITLE_FS 15.0
#define PLOT_PAD 8.0            /* image edge to text */
#define PLOT_RIGHT (PLOT_W - 20)        /* panels' right edge */
#define PLOT_TICK 5.0           /* tick mark length */
#define PLOT_TICKS 32
#define PLOT_PI 3.14159265358979323846

#if defined(__SANITIZE_ADDRESS__)
#define PLOT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PLOT_ASAN 1
#endif
#endif

#ifdef PLOT_ASAN
/* LeakSanitizer's built-in suppressions (it calls this when defined): fontconfig, which cairo's text uses, keeps
 * its process-wide caches until exit, and LeakSanitizer would report them at the exit of every program that plots. */
const char *__lsan_default_suppressions(void);

const char *
__lsan_default_suppressions(void)
{
	return "leak:libfontconfig.so\n";
}
#endif

/* One axis: values lo..hi (their logs when log) onto pixels p0..p1, and its tick values (never logs). */
struct plot_axis {
	double lo, hi, p0, p1;
	int log, n;
	double tick[PLOT_TICKS];
};

/* The curves: legend name, colour, panel (0 losses, 1 accuracies), dots at the points (sparse validations). */
static const struct plot_series {
	const char *name;
	unsigned rgb;
	int panel, dots;
} plot_series[4] = {
	{ "training loss", PLOT_RGB_LOSS, 0, 0 },
	{ "validation loss", PLOT_RGB_VLOSS, 0, 1 },
	{ "teacher-forced", PLOT_RGB_ACC_TF, 1, 1 },
	{ "sampled", PLOT_RGB_ACC_S, 1, 1 },
};

static const char *const plot_ylabel[2] = { "loss (nats, log scale)", "validation accuracy" };

static void
plot_rgb(cairo_t *cr, unsigned rgb)
{
	cairo_set_source_rgb(cr, (rgb >> 16 & 255) / 255.0, (rgb >> 8 & 255) / 255.0, (rgb & 255) / 255.0);
}

/* s with every byte that does not start a well-formed UTF-8 sequence replaced by U+FFFD (cairo refuses them). */
static void
plot_utf8(const char *s, char *out, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	while (*p != '\0' && o + 4 < len) {
		int n = *p < 0x80 ? 1 : *p >= 0xc2 && *p <= 0xdf ? 2 : *p >= 0xe0 && *p <= 0xef ? 3 :
		    *p >= 0xf0 && *p <= 0xf4 ? 4 : 0;
		unsigned cp = n == 1 ? *p : n == 2 ? *p & 0x1fu : n == 3 ? *p & 0x0fu : *p & 0x07u;
		for (int i = 1; i < n; i++) {
			if ((p[i] & 0xc0) != 0x80) {
				n = 0;
				break;
			}
			cp = cp << 6 | (p[i] & 0x3fu);
		}
		if (n == 0 || (n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
			memcpy(out + o, "\xef\xbf\xbd", 3), o += 3, p++;
			continue;
		}
		memcpy(out + o, p, (size_t)n), o += (size_t)n, p += n;
	}
	out[o] = '\0';
}

static void
plot_font(cairo_t *cr, double size, int bold)
{
	cairo_select_font_face(cr, PLOT_FONT, CAIRO_FONT_SLANT_NORMAL,
	    bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, size);
}

/* Line height of the current font. */
static double
plot_line_h(cairo_t *cr)
{
	cairo_font_extents_t fe;

	cairo_font_extents(cr, &fe);
	return fe.ascent + fe.descent;
}

static double
plot_text_w(cairo_t *cr, const char *s)
{
	cairo_text_extents_t te;

	cairo_text_extents(cr, s, &te);
	return te.x_advance;
}

/* Draws s (valid UTF-8) turned by angle (radians, counterclockwise) so that the point ax of its advance (0 start,
 * 1 end) and ay of its line (0 top, 1 bottom) falls on (x, y). Stores its ink's bounding box in box unless NULL. */
static void
plot_text(cairo_t *cr, double x, double y, double ax, double ay, double angle, const char *s, struct plot_box *box)
{
	cairo_font_extents_t fe;
	cairo_text_extents_t te;
	double u0, v0;

	cairo_font_extents(cr, &fe);
	cairo_text_extents(cr, s, &te);
	cairo_save(cr);
	cairo_translate(cr, x, y);
	cairo_rotate(cr, -angle);
	u0 = -ax * te.x_advance, v0 = -ay * (fe.ascent + fe.descent) + fe.ascent;
	cairo_move_to(cr, u0, v0);
	cairo_show_text(cr, s);
	if (box != NULL) {
		box->x0 = box->y0 = HUGE_VAL, box->x1 = box->y1 = -HUGE_VAL;
		for (int k = 0; k < 4; k++) {
			double px = u0 + te.x_bearing + (k & 1) * te.width;
			double py = v0 + te.y_bearing + (k >> 1) * te.height;
			cairo_user_to_device(cr, &px, &py);
			box->x0 = fmin(box->x0, px), box->x1 = fmax(box->x1, px);
			box->y0 = fmin(box->y0, py), box->y1 = fmax(box->y1, py);
		}
	}
	cairo_restore(cr);
}

static void
plot_box_union(struct plot_box *a, const struct plot_box *b)
{
	a->x0 = fmin(a->x0, b->x0), a->y0 = fmin(a->y0, b->y0);
	a->x1 = fmax(a->x1, b->x1), a->y1 = fmax(a->y1, b->y1);
}

/* Pixel of value v on axis a (not finite for v <= 0 on a log axis). */
static double
plot_map(const struct plot_axis *a, double v)
{
	double t = a->log ? (v > 0 ? log(v) : NAN) : v;

	return a->p0 + (a->p1 - a->p0) * (t - a->lo) / (a->hi - a->lo);
}

/* The shortest of %.0f .. %.6f that reads back as v (tick values are round), else %.3g. */
static void
plot_fmt(double v, char *buf, size_t len)
{
	for (int d = 0; d <= 6; d++) {
		snprintf(buf, len, "%.*f", d, v);
		if (fabs(strtod(buf, NULL) - v) <= 1e-6 * fabs(v))
			return;
	}
	snprintf(buf, len, "%.3g", v);
}

/* 1, 2 or 5 times a power of ten, at least raw. */
static double
plot_nice(double raw)
{
	double b = pow(10, floor(log10(raw))), m = raw / b;

	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * b;
}

/* Ticks at the multiples of step in [lo, hi] (values, not logs). */
static void
plot_ticks_lin(struct plot_axis *a, double lo, double hi, double step)
{
	a->n = 0;
	for (double k = ceil(lo / step - 1e-9); k * step <= hi + 1e-9 * step && a->n < PLOT_TICKS; k++)
		a->tick[a->n++] = k * step + 0.0;       /* + 0.0: no "-0" */
}

/* Log axis ticks: mantissas m[0..nm) of every every-th decade in range. Returns the least pixel gap. */
static double
plot_ticks_ladder(struct plot_axis *a, const double *m, int nm, int every)
{
	double gap = HUGE_VAL;

	a->n = 0;
	for (int e = (int)floor(a->lo / log(10)) - 1; e <= (int)ceil(a->hi / log(10)); e++)
		for (int i = 0; i < nm && (e % every + every) % every == 0; i++) {
			double v = m[i] * pow(10, e);
			if (log(v) >= a->lo && log(v) <= a->hi && a->n < PLOT_TICKS)
				a->tick[a->n++] = v;
		}
	for (int i = 1; i < a->n; i++)
		gap = fmin(gap, fabs(plot_map(a, a->tick[i]) - plot_map(a, a->tick[i - 1])));
	return gap;
}

/* 1-2-5 in each decade; 1-2-...-9 when that gives fewer than 3 ticks, linear ones when even those do; decades (or
 * every few) when 1-2-5 crowds the labels closer than need pixels. */
static void
plot_ticks_log(struct plot_axis *a, double need)
{
	static const double m125[] = { 1, 2, 5 }, m19[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, m1[] = { 1 };
	double gap = plot_ticks_ladder(a, m125, 3, 1);

	if (a->n < 3) {
		struct plot_axis b = *a;
		if (plot_ticks_ladder(&b, m19, 9, 1) >= need && b.n > a->n)
			*a = b;
		if (a->n < 2) {
			double lo = exp(a->lo), hi = exp(a->hi);
			plot_ticks_lin(a, lo, hi, plot_nice((hi - lo) / 4));
		}
		return;
	}
	for (int every = 1; gap < need && every < 100; every++)
		gap = plot_ticks_ladder(a, m1, 1, every);
}

/* Steps from 0 (or from the first step when the log starts late; one step in the middle), ticks no closer than
 * their labels allow. */
static void
plot_axis_step(cairo_t *cr, struct plot_axis *a, const struct train_log *l)
{
	double s0, s1, step;
	char buf[32];

	a->lo = 0, a->hi = 1, a->log = 0, a->n = 0;
	if (l->n == 0)
		return;
	s0 = (double)l->step[0], s1 = (double)l->step[l->n - 1];
	a->lo = s0 > 0 && s0 <= (s1 - s0) / 10 ? 0 : s0, a->hi = s1;
	if (s1 <= s0)
		a->lo = s0 - 1, a->hi = s0 + 1;
	for (step = plot_nice(fmax((a->hi - a->lo) / 8, 1));; step = plot_nice(step * 1.5)) {
		plot_ticks_lin(a, a->lo, a->hi, step);
		if (a->n < 2)
			break;
		plot_fmt(a->tick[a->n - 1], buf, sizeof buf);
		if (step * (a->p1 - a->p0) / (a->hi - a->lo) >= plot_text_w(cr, buf) + 3 * PLOT_FS)
			break;
	}
}

/* The loss axis: logs of both losses (those > 0), 4% room above and below; no ticks when there is no loss. */
static void
plot_axis_loss(struct plot_axis *a, const struct train_log *l, double need)
{
	double lo = HUGE_VAL, hi = -HUGE_VAL, pad;

	for (size_t i = 0; i < l->n; i++)
		for (int k = 0; k < 2; k++) {
			double v = k ? l->vloss[i] : l->loss[i], t = v > 0 ? log(v) : NAN;
			if (isfinite(t))
				lo = fmin(lo, t), hi = fmax(hi, t);
		}
	a->log = 1, a->lo = 0, a->hi = log(10), a->n = 0;
	if (!(hi >= lo))
		return;
	pad = hi - lo > 1e-6 ? 0.04 * (hi - lo) : 0.05;
	a->lo = lo - pad, a->hi = hi + pad;
	plot_ticks_log(a, need);
}

/* One curve over the log's steps through its finite points (> 0 on a log axis), dots at them when asked and
 * there are few, and always for a lone point. */
static void
plot_curve(cairo_t *cr, const struct train_log *l, const double *v, const struct plot_axis *x,
    const struct plot_axis *y, const struct plot_series *s)
{
	size_t n = 0;

	plot_rgb(cr, s->rgb);
	cairo_new_path(cr);
	for (size_t i = 0; i < l->n; i++) {
		double px = plot_map(x, (double)l->step[i]), py = plot_map(y, v[i]);
		if (isfinite(py))
			(n++ ? cairo_line_to : cairo_move_to)(cr, px, py);
	}
	cairo_stroke(cr);
	if (n > 1 && !(s->dots && n <= 60))
		return;
	for (size_t i = 0; i < l->n; i++) {
		double px = plot_map(x, (double)l->step[i]), py = plot_map(y, v[i]);
		if (isfinite(py)) {
			cairo_new_sub_path(cr);
			cairo_arc(cr, px, py, 3, 0, 2 * PLOT_PI);
		}
	}
	cairo_fill(cr);
}

/* A panel: grid lines at the ticks, the curves clipped to it, the frame, y tick marks and values, the y label
 * turned upward at the image's left edge, and the legend flush right above it. */
static void
plot_panel(cairo_t *cr, const struct train_log *l, int k, const struct plot_axis *x, const struct plot_axis *y,
    struct plot_geom *g)
{
	const double *v[4] = { l->loss, l->vloss, l->acc_tf, l->acc_s };
	double left = x->p0, right = x->p1, top = y->p1, bot = y->p0, lx = right, lh;
	char buf[32];
	struct plot_box b;

	cairo_set_line_width(cr, 1);
	cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
	for (int i = 0; i < y->n; i++) {
		double py = round(plot_map(y, y->tick[i])) + 0.5;
		cairo_move_to(cr, left, py), cairo_line_to(cr, right, py);
	}
	for (int i = 0; i < x->n; i++) {
		double px = round(plot_map(x, x->tick[i])) + 0.5;
		cairo_move_to(cr, px, top), cairo_line_to(cr, px, bot);
	}
	cairo_stroke(cr);
	cairo_save(cr);
	cairo_rectangle(cr, left, top, right - left, bot - top);
	cairo_clip(cr);
	cairo_set_line_width(cr, 2);
	for (int s = 0; s < 4 && l->n > 0; s++)
		if (plot_series[s].panel == k)
			plot_curve(cr, l, v[s], x, y, &plot_series[s]);
	cairo_restore(cr);
	cairo_set_line_width(cr, 1);
	cairo_set_source_rgb(cr, 0.55, 0.55, 0.55);
	cairo_rectangle(cr, left - 0.5, top - 0.5, right - left + 1, bot - top + 1);
	for (int i = 0; i < y->n; i++) {
		double py = round(plot_map(y, y->tick[i])) + 0.5;
		cairo_move_to(cr, left - 0.5, py), cairo_line_to(cr, left - 0.5 - PLOT_TICK, py);
	}
	cairo_stroke(cr);
	cairo_set_source_rgb(cr, 0.13, 0.13, 0.13);
	for (int i = 0; i < y->n; i++) {
		plot_fmt(y->tick[i], buf, sizeof buf);
		plot_text(cr, left - PLOT_TICK - 4, plot_map(y, y->tick[i]), 1, 0.5, 0, buf, NULL);
	}
	plot_text(cr, PLOT_PAD, (top + bot) / 2, 0.5, 0, PLOT_PI / 2, plot_ylabel[k], &g->ylabel[k]);
	lh = plot_line_h(cr);
	g->legend[k] = (struct plot_box){ HUGE_VAL, HUGE_VAL, -HUGE_VAL, -HUGE_VAL };
	for (int s = 3; s >= 0; s--) {
		if (plot_series[s].panel != k)
			continue;
		cairo_set_source_rgb(cr, 0.13, 0.13, 0.13);
		plot_text(cr, lx, top - 4, 1, 1, 0, plot_series[s].name, &b);
		plot_box_union(&g->legend[k], &b);
		lx -= plot_text_w(cr, plot_series[s].name) + 6;
		plot_rgb(cr, plot_series[s].rgb);
		cairo_set_line_width(cr, 3);
		cairo_move_to(cr, lx - 22, top - 4 - lh / 2), cairo_line_to(cr, lx, top - 4 - lh / 2);
		cairo_stroke(cr);
		b = (struct plot_box){ lx - 22, top - 4 - lh / 2 - 1.5, lx, top - 4 - lh / 2 + 1.5 };
		plot_box_union(&g->legend[k], &b);
		lx -= 22 + 2 * PLOT_FS;
	}
}

/* Lays out and draws the whole plot: title, loss panel, accuracy panel, step ticks and label. */
static void
plot_render(cairo_t *cr, const struct train_log *l, const char *title, struct plot_geom *g)
{
	struct plot_axis x, loss, acc;
	double lh, title_h, wmax = 0, top, bot, span, left, w;
	char buf[32], t[512];

	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
	cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
	plot_font(cr, PLOT_TITLE_FS, 1);
	title_h = plot_line_h(cr);
	plot_font(cr, PLOT_FS, 0);
	lh = plot_line_h(cr);
	/* Vertical: title, legend, loss panel, gap, legend, accuracy panel, tick values, x label (65:35). */
	top = PLOT_PAD + title_h + 6 + lh + 4;
	bot = PLOT_H - PLOT_PAD - 2 * lh - PLOT_TICK - 8;
	span = bot - top - (14 + lh + 4);
	loss.p1 = top, loss.p0 = round(top + 0.65 * span);
	acc.p1 = loss.p0 + 14 + lh + 4, acc.p0 = bot;
	acc.log = 0, acc.lo = -0.03, acc.hi = 1.03;
	plot_ticks_lin(&acc, 0, 1, 0.25);
	plot_axis_loss(&loss, l, lh + 6);
	/* Horizontal: y label, widest y tick value, tick marks. */
	for (int i = 0; i < loss.n + acc.n; i++) {
		plot_fmt(i < loss.n ? loss.tick[i] : acc.tick[i - loss.n], buf, sizeof buf);
		wmax = fmax(wmax, plot_text_w(cr, buf));
	}
	left = round(PLOT_PAD + lh + PLOT_PAD + fmin(wmax, PLOT_W / 4) + PLOT_TICK + 4);
	x.p0 = left, x.p1 = PLOT_RIGHT;
	plot_axis_step(cr, &x, l);
	plot_panel(cr, l, 0, &x, &loss, g);
	plot_panel(cr, l, 1, &x, &acc, g);
	cairo_set_source_rgb(cr, 0.55, 0.55, 0.55);
	for (int i = 0; i < x.n; i++) {
		double px = round(plot_map(&x, x.tick[i])) + 0.5;
		cairo_move_to(cr, px, bot + 0.5), cairo_line_to(cr, px, bot + 0.5 + PLOT_TICK);
	}
	cairo_stroke(cr);
	cairo_set_source_rgb(cr, 0.13, 0.13, 0.13);
	for (int i = 0; i < x.n; i++) {
		double px = plot_map(&x, x.tick[i]);
		plot_fmt(x.tick[i], buf, sizeof buf);
		w = plot_text_w(cr, buf);
		plot_text(cr, fmin(px - w / 2, PLOT_W - PLOT_PAD - w), bot + PLOT_TICK + 3, 0, 0, 0, buf, NULL);
	}
	plot_text(cr, (left + PLOT_RIGHT) / 2, PLOT_H - PLOT_PAD, 0.5, 1, 0, "step", &g->xlabel);
	/* The title over the panels, smaller when it would not fit the image's width. */
	plot_utf8(title, t, sizeof t);
	plot_font(cr, PLOT_TITLE_FS, 1);
	if ((w = plot_text_w(cr, t)) > PLOT_W - 2 * PLOT_PAD)
		plot_font(cr, PLOT_TITLE_FS * (PLOT_W - 2 * PLOT_PAD) / w, 1), w = plot_text_w(cr, t);
	plot_text(cr, fmin(fmax((left + PLOT_RIGHT) / 2, PLOT_PAD + w / 2), PLOT_W - PLOT_PAD - w / 2), PLOT_PAD, 0.5,
	    0, 0, t, &g->title);
	g->panel[0] = (struct plot_box){ left, loss.p1, PLOT_RIGHT, loss.p0 };
	g->panel[1] = (struct plot_box){ left, acc.p1, PLOT_RIGHT, acc.p0 };
	g->xlo = x.lo, g->xhi = x.hi;
	g->ylo[0] = loss.lo, g->yhi[0] = loss.hi, g->ylo[1] = acc.lo, g->yhi[1] = acc.hi;
}

static cairo_status_t
plot_fwrite(void *f, const unsigned char *data, unsigned int len)
{
	return fwrite(data, 1, len, f) == len ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

/* The surface as a PNG in tmp, flushed and synced; removed again when that fails. */
static int
plot_save(cairo_surface_t *sf, const char *tmp, char *err, size_t errlen)
{
	FILE *f = fopen(tmp, "wb");
	cairo_status_t st;
	int e;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	errno = 0;
	st = cairo_surface_write_to_png_stream(sf, plot_fwrite, f);
	if (st == CAIRO_STATUS_SUCCESS && fflush(f) == 0 && fsync(fileno(f)) == 0) {
		if (fclose(f) == 0)
			return 0;
		f = NULL;
	}
	e = errno;
	if (f != NULL)
		fclose(f);
	if (st != CAIRO_STATUS_SUCCESS && st != CAIRO_STATUS_WRITE_ERROR)
		snprintf(err, errlen, "%s: %s", tmp, cairo_status_to_string(st));
	else
		snprintf(err, errlen, "%s: %s", tmp, strerror(e ? e : EIO));
	unlink(tmp);
	return -1;
}

int
plot_draw(const struct train_log *l, const char *title, const char *path, struct plot_geom *g, char *err,
    size_t errlen)
{
	cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, PLOT_W, PLOT_H);
	cairo_t *cr = cairo_create(sf);
	struct plot_geom tmpg;
	char tmp[4200];
	int rc = -1;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
		snprintf(err, errlen, "%s: path too long", path);
	else {
		plot_render(cr, l, title, g != NULL ? g : &tmpg);
		cairo_surface_flush(sf);
		if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
			snprintf(err, errlen, "%s: cannot draw the plot: %s", path,
			    cairo_status_to_string(cairo_status(cr)));
		else if (plot_save(sf, tmp, err, errlen) == 0) {
			if (rename(tmp, path) == 0)
				rc = 0;
			else {
				snprintf(err, errlen, "%s: %s", path, strerror(errno));
				unlink(tmp);
			}
		}
	}
	cairo_destroy(cr);
	cairo_surface_destroy(sf);
	return rc;
}
