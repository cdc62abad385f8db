/* SPDX-License-Identifier: GPL-3.0-or-later */
/* train_log.c: the trainer's CSV log, its PNG plot (libpng) and the progress bar or lines on stderr. */
#include <errno.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "plot_font.h"
#include "train_int.h"

#define TRAIN_CSV_HEADER "step,train_loss,ce,kl,beta,lr,grad_norm,valid_loss,valid_ce,valid_kl,valid_acc_tf," \
	"valid_acc_sampled\n"
#define PLOT_W 800
#define PLOT_H 560

double
train_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int
train_log_push(struct train_log *l, long step, double loss, double vloss, double acc_tf, double acc_s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		long *s = realloc(l->step, cap * sizeof *s);
		double *a = s ? realloc(l->loss, cap * sizeof *a) : NULL, *b = a ? realloc(l->vloss, cap * sizeof *b) : NULL;
		double *c = b ? realloc(l->acc_tf, cap * sizeof *c) : NULL, *d = c ? realloc(l->acc_s, cap * sizeof *d) : NULL;
		if (s) l->step = s;
		if (a) l->loss = a;
		if (b) l->vloss = b;
		if (c) l->acc_tf = c;
		if (d) l->acc_s = d;
		if (d == NULL)
			return -1;
		l->cap = cap;
	}
	l->step[l->n] = step, l->loss[l->n] = loss, l->vloss[l->n] = vloss;
	l->acc_tf[l->n] = acc_tf, l->acc_s[l->n] = acc_s;
	l->n++;
	return 0;
}

/* Field i (0-based) of a CSV line as a number, NAN if empty. */
static double
train_field(const char *line, int i)
{
	while (i-- > 0 && (line = strchr(line, ',')) != NULL)
		line++;
	if (line == NULL || *line == ',' || *line == '\n' || *line == '\0')
		return NAN;
	return strtod(line, NULL);
}

/* Keeps the rows of an earlier run up to step (a resumed run rewrites what came after). */
static int
train_log_reload(struct train_log *l, const char *path, long step)
{
	FILE *f = fopen(path, "r");
	char line[1024];

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL) {
		double s = train_field(line, 0);
		if (line[0] < '0' || line[0] > '9' || (long)s > step || strchr(line, '\n') == NULL)
			continue;
		fputs(line, l->csv);
		train_log_push(l, (long)s, train_field(line, 1), train_field(line, 7), train_field(line, 10),
		    train_field(line, 11));
	}
	fclose(f);
	return 0;
}

int
train_log_open(struct train_log *l, const char *dir, int resume, long step, char *err, size_t errlen)
{
	char path[4096], tmp[4200];

	memset(l, 0, sizeof *l);
	l->tty = isatty(STDERR_FILENO);
	snprintf(path, sizeof path, "%s/%s", dir, TRAIN_LOG_FILE);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if ((l->csv = fopen(tmp, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	fputs(TRAIN_CSV_HEADER, l->csv);
	if (resume)
		train_log_reload(l, path, step);
	if (fflush(l->csv) != 0 || rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(l->csv);
		l->csv = NULL;
		return -1;
	}
	return 0;
}

void
train_log_row(struct train_log *l, long step, const struct train_metrics *mt, double beta, double lr,
    const struct train_eval *ev)
{
	fprintf(l->csv, "%ld,%.6f,%.6f,%.6f,%.6g,%.6g,%.6g", step, mt->loss, mt->ce, mt->kl, beta, lr, mt->norm);
	if (ev != NULL)
		fprintf(l->csv, ",%.6f,%.6f,%.6f,%.6f,%.6f\n", ev->loss, ev->ce, ev->kl, ev->acc_tf, ev->acc_sampled);
	else
		fputs(",,,,,\n", l->csv);
	fflush(l->csv);
	train_log_push(l, step, mt->loss, ev ? ev->loss : NAN, ev ? ev->acc_tf : NAN, ev ? ev->acc_sampled : NAN);
}

void
train_log_close(struct train_log *l)
{
	if (l->csv != NULL)
		fclose(l->csv);
	free(l->step);
	free(l->loss);
	free(l->vloss);
	free(l->acc_tf);
	free(l->acc_s);
	memset(l, 0, sizeof *l);
}

static void
train_fmt_time(double s, char *buf, size_t len)
{
	long t = isfinite(s) && s > 0 ? (long)(s + 0.5) : 0;

	if (t >= 3600)
		snprintf(buf, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
	else
		snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
}

void
train_log_progress(struct train_log *l, long step, long steps, int B, const struct train_metrics *mt, int force,
    int line)
{
	double now = train_now(), el = now - l->t0, rate = el > 0 ? (step - l->step0) / el : 0.0;
	char eta[32], bar[31];
	int fill = steps > 0 ? (int)(30.0 * step / steps) : 30;

	if (!line && !l->tty)
		return;
	if (l->tty && !force && now - l->last_draw < 0.2)
		return;
	l->last_draw = now;
	train_fmt_time(rate > 0 ? (steps - step) / rate : NAN, eta, sizeof eta);
	if (l->tty) {
		for (int i = 0; i < 30; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[30] = '\0';
		fprintf(stderr, "\r[%s] %ld/%ld %3d%% loss %.3f KL %.2f %.0f samples/s ETA %s  ", bar, step, steps,
		    (int)(100.0 * step / (steps ? steps : 1)), mt->loss, mt->kl, rate * B, eta);
	} else
		fprintf(stderr, "step %ld/%ld loss %.4f CE %.4f KL %.3f |g| %.3g %.0f samples/s ETA %s\n", step, steps,
		    mt->loss, mt->ce, mt->kl, mt->norm, rate * B, eta);
}

/* ---- PNG ----------------------------------------------------------------------------------------- */

/* Layout, top to bottom: title; each panel's legend line above it, the panel (losses on a log scale, then
 * accuracies 0..1); the step ticks and the x label. The left margin follows the widest y tick label. */
#define PLOT_S 2                        /* font scale */
#define PLOT_TH (PLOT_FONT_H * PLOT_S)  /* text line height */
#define PLOT_CH (PLOT_FONT_ASCENT * PLOT_S)     /* height of digits and capitals */
#define PLOT_PAD 8                      /* image edge to text */
#define PLOT_RIGHT (PLOT_W - 20)        /* panels' right edge */
#define PLOT_LOSS_TOP 58
#define PLOT_LOSS_H 266
#define PLOT_ACC_TOP 360
#define PLOT_ACC_H 144
#define PLOT_TICK 5                     /* tick mark length */
#define PLOT_TICKS 16

struct plot {
	unsigned char px[PLOT_H][PLOT_W][3];
};

/* One axis: values lo..hi (their logs when log) onto pixels p0..p1, and its tick values. */
struct plot_axis {
	double lo, hi;
	int log, p0, p1, n;
	double tick[PLOT_TICKS];
};

static const unsigned char plot_ink[3] = { 34, 34, 34 }, plot_frame_rgb[3] = { 150, 150, 150 };
static const unsigned char plot_grid[3] = { 228, 228, 228 };

/* The curves, their legend names and colours, and their panel (0 losses, 1 accuracies). */
static const struct plot_series {
	const char *name;
	unsigned char rgb[3];
	int panel;
} plot_series[4] = {
	{ "train loss", { 31, 119, 180 }, 0 },
	{ "validation loss", { 214, 39, 40 }, 0 },
	{ "teacher-forced accuracy", { 44, 160, 44 }, 1 },
	{ "sampled accuracy", { 255, 127, 14 }, 1 },
};

static void
plot_dot(struct plot *p, int x, int y, const unsigned char *c)
{
	if (x >= 0 && x < PLOT_W && y >= 0 && y < PLOT_H)
		memcpy(p->px[y][x], c, 3);
}

static void
plot_line(struct plot *p, double x0, double y0, double x1, double y1, const unsigned char *c)
{
	int n = (int)fmax(fabs(x1 - x0), fabs(y1 - y0)) + 1;

	for (int i = 0; i <= n; i++)
		plot_dot(p, (int)lround(x0 + (x1 - x0) * i / n), (int)lround(y0 + (y1 - y0) * i / n), c);
}

static void
plot_text(struct plot *p, int x, int y, const char *s, int dir, const unsigned char *c)
{
	struct plot_font_canvas cv = { &p->px[0][0][0], PLOT_W, PLOT_H };

	plot_font_draw(&cv, x, y, s, PLOT_S, dir, c);
}

/* Pixel of value v on axis a (v > 0 on a log axis, else not finite). */
static double
plot_map(const struct plot_axis *a, double v)
{
	double t = a->log ? log(v) : v;

	return a->p0 + (a->p1 - a->p0) * (t - a->lo) / (a->hi > a->lo ? a->hi - a->lo : 1);
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

/* Ticks at the multiples of step in [lo, hi]. */
static void
plot_ticks_lin(struct plot_axis *a, double lo, double hi, double step)
{
	a->n = 0;
	for (double k = ceil(lo / step - 1e-9); k * step <= hi + 1e-9 * step && a->n < PLOT_TICKS; k++)
		a->tick[a->n++] = k * step + 0.0;       /* + 0.0: no "-0" */
}

/* Log axis: the densest of 1-2-...-9, 1-1.5-2-3-5-7, 1-2-5, 1 per decade with at most 7 ticks at least a text
 * line apart; linear ones when that leaves fewer than 3 and they give more (a narrow range is nearly linear). */
static void
plot_ticks_log(struct plot_axis *a)
{
	static const double m[4][9] = { { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, { 1, 1.5, 2, 3, 5, 7 }, { 1, 2, 5 }, { 1 } };
	static const int len[4] = { 9, 6, 3, 1 };
	struct plot_axis b = *a;

	for (int s = 0; s < 4; s++) {
		double gap = HUGE_VAL;
		a->n = 0;
		for (int e = (int)floor(a->lo / log(10)) - 1; e <= (int)ceil(a->hi / log(10)); e++)
			for (int i = 0; i < len[s]; i++) {
				double v = m[s][i] * pow(10, e);
				if (log(v) >= a->lo && log(v) <= a->hi && a->n < PLOT_TICKS)
					a->tick[a->n++] = v;
			}
		for (int i = 1; i < a->n; i++)
			gap = fmin(gap, fabs(plot_map(a, a->tick[i]) - plot_map(a, a->tick[i - 1])));
		if (a->n <= 7 && gap >= PLOT_TH + 6)
			break;
	}
	if (a->n >= 3)
		return;
	b.log = 0;
	plot_ticks_lin(&b, exp(a->lo), exp(a->hi), plot_nice((exp(a->hi) - exp(a->lo)) / 6));
	if (b.n > a->n) {
		a->n = b.n;
		memcpy(a->tick, b.tick, sizeof a->tick);
	}
}

/* The loss panel's axis: logs of both losses, a little room above and below. 0 when no loss is > 0. */
static int
plot_axis_loss(struct plot_axis *a, const struct train_log *l)
{
	double lo = HUGE_VAL, hi = -HUGE_VAL, pad;

	for (size_t i = 0; i < l->n; i++) {
		double u = l->loss[i] > 0 ? log(l->loss[i]) : NAN, v = l->vloss[i] > 0 ? log(l->vloss[i]) : NAN;
		if (isfinite(u))
			lo = fmin(lo, u), hi = fmax(hi, u);
		if (isfinite(v))
			lo = fmin(lo, v), hi = fmax(hi, v);
	}
	a->log = 1, a->p0 = PLOT_LOSS_TOP + PLOT_LOSS_H - 1, a->p1 = PLOT_LOSS_TOP, a->n = 0;
	a->lo = 0, a->hi = 1;
	if (!(hi >= lo))
		return 0;
	pad = hi - lo > 1e-6 ? 0.04 * (hi - lo) : 0.05;
	a->lo = lo - pad, a->hi = hi + pad;
	plot_ticks_log(a);
	return 1;
}

static void
plot_axis_acc(struct plot_axis *a)
{
	a->lo = 0, a->hi = 1, a->log = 0, a->p0 = PLOT_ACC_TOP + PLOT_ACC_H - 1, a->p1 = PLOT_ACC_TOP;
	plot_ticks_lin(a, 0, 1, 0.25);
}

/* Steps from 0 (or the first step when the log starts late; one step in the middle), ticks no closer than their
 * labels allow. */
static void
plot_axis_step(struct plot_axis *a, const struct train_log *l, int left)
{
	double s0 = l->step[0], s1 = l->step[l->n - 1], step;
	char buf[32];

	a->lo = s0 > 0 && s0 <= (s1 - s0) / 10 ? 0 : s0, a->hi = s1, a->log = 0, a->p0 = left, a->p1 = PLOT_RIGHT;
	if (s1 <= s0)
		a->lo = s0 - 1, a->hi = s0 + 1;
	for (step = plot_nice(fmax((a->hi - a->lo) / 8, 1));; step = plot_nice(step * 1.5)) {
		plot_ticks_lin(a, a->lo, a->hi, step);
		if (a->n < 2)
			break;
		plot_fmt(a->tick[a->n - 1], buf, sizeof buf);
		if (step * (a->p1 - a->p0) / (a->hi - a->lo) >= plot_font_width(buf, PLOT_S) + 3 * PLOT_TH)
			break;
	}
}

/* Panels' left edge: the y label, the widest tick label, the tick marks. */
static int
plot_left(const struct plot_axis *loss, const struct plot_axis *acc)
{
	const struct plot_axis *ax[2] = { loss, acc };
	int w = 0;
	char buf[32];

	for (int k = 0; k < 2; k++)
		for (int i = 0; i < ax[k]->n; i++) {
			plot_fmt(ax[k]->tick[i], buf, sizeof buf);
			w = w > plot_font_width(buf, PLOT_S) ? w : plot_font_width(buf, PLOT_S);
		}
	return PLOT_PAD + PLOT_TH + PLOT_PAD + (w < PLOT_W / 4 ? w : PLOT_W / 4) + PLOT_TICK + 4;
}

/* A panel: y grid lines with tick values, x grid lines, the frame, the y label turned upward. */
static void
plot_panel(struct plot *p, const struct plot_axis *x, const struct plot_axis *y, const char *label)
{
	int top = y->p1, bot = y->p0, left = x->p0, len = plot_font_width(label, PLOT_S);
	char buf[32];

	for (int i = 0; i < y->n; i++) {
		int py = (int)lround(plot_map(y, y->tick[i]));
		plot_line(p, left, py, PLOT_RIGHT, py, plot_grid);
		plot_line(p, left - PLOT_TICK, py, left - 1, py, plot_frame_rgb);
		plot_fmt(y->tick[i], buf, sizeof buf);
		plot_text(p, left - PLOT_TICK - 4 - plot_font_width(buf, PLOT_S), py - PLOT_CH / 2, buf,
		    PLOT_FONT_RIGHT, plot_ink);
	}
	for (int i = 0; i < x->n; i++)
		plot_line(p, plot_map(x, x->tick[i]), top, plot_map(x, x->tick[i]), bot, plot_grid);
	plot_line(p, left, top, PLOT_RIGHT, top, plot_frame_rgb);
	plot_line(p, left, bot, PLOT_RIGHT, bot, plot_frame_rgb);
	plot_line(p, left, top, left, bot, plot_frame_rgb);
	plot_line(p, PLOT_RIGHT, top, PLOT_RIGHT, bot, plot_frame_rgb);
	plot_text(p, PLOT_PAD, top + (bot - top + 1 - len) / 2, label, PLOT_FONT_UP, plot_ink);
}

/* The panel's curves by name and colour, a short thick line before each, flush right above the panel. */
static void
plot_legend(struct plot *p, int panel, int top)
{
	int x = PLOT_RIGHT, y = top - 6 - PLOT_TH;

	for (int k = 3; k >= 0; k--) {
		if (plot_series[k].panel != panel)
			continue;
		x -= plot_font_width(plot_series[k].name, PLOT_S);
		plot_text(p, x, y, plot_series[k].name, PLOT_FONT_RIGHT, plot_ink);
		x -= 6 + 20;
		for (int t = -1; t <= 1; t++)
			plot_line(p, x, y + PLOT_CH / 2 + t, x + 19, y + PLOT_CH / 2 + t, plot_series[k].rgb);
		x -= 3 * PLOT_TH / 2;
	}
}

/* Step tick marks and values under the lower panel, and the x label. */
static void
plot_steps(struct plot *p, const struct plot_axis *x)
{
	int bot = PLOT_ACC_TOP + PLOT_ACC_H - 1, w;
	char buf[32];

	for (int i = 0; i < x->n; i++) {
		int px = (int)lround(plot_map(x, x->tick[i]));
		plot_line(p, px, bot + 1, px, bot + PLOT_TICK, plot_frame_rgb);
		plot_fmt(x->tick[i], buf, sizeof buf);
		w = plot_font_width(buf, PLOT_S);
		plot_text(p, px - w / 2 < PLOT_W - PLOT_PAD - w ? px - w / 2 : PLOT_W - PLOT_PAD - w, bot + PLOT_TICK + 4,
		    buf, PLOT_FONT_RIGHT, plot_ink);
	}
	plot_text(p, (x->p0 + x->p1 - plot_font_width("step", PLOT_S)) / 2, bot + PLOT_TICK + 8 + PLOT_TH, "step",
	    PLOT_FONT_RIGHT, plot_ink);
}

/* "DIR: training, step N" over the panels, DIR the plot's directory when named (not . or ..). */
static void
plot_title(struct plot *p, const struct train_log *l, const char *path, int left)
{
	const char *end = strrchr(path, '/'), *dir = end;
	size_t n;
	char buf[160];

	while (dir != NULL && dir > path && dir[-1] != '/')
		dir--;
	n = dir != NULL ? (size_t)(end - dir) : 0;
	buf[0] = '\0';
	if (n > 0 && strspn(dir, ".") < n)
		snprintf(buf, sizeof buf, "%.*s: ", (int)(n < 30 ? n : 30), dir);
	if (l->n > 0)
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "training, step %ld", l->step[l->n - 1]);
	else
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "training, no steps logged");
	plot_text(p, (left + PLOT_RIGHT - plot_font_width(buf, PLOT_S)) / 2, PLOT_PAD, buf, PLOT_FONT_RIGHT, plot_ink);
}

/* One curve v[] over the log's steps (log axis: values > 0 only). */
static void
plot_curve(struct plot *p, const struct train_log *l, const double *v, const struct plot_axis *x,
    const struct plot_axis *y, const unsigned char *c)
{
	double px = -1, py = 0;
	int n = 0;

	for (size_t i = 0; i < l->n; i++) {
		double xx = plot_map(x, l->step[i]), yy = plot_map(y, v[i]);
		if (!isfinite(yy))
			continue;
		if (n++ > 0)
			plot_line(p, px, py, xx, yy, c);
		px = xx, py = yy;
	}
	for (int k = 0; k < 25 && n == 1; k++) /* a lone point (one validation so far): a 5x5 square */
		plot_dot(p, (int)lround(px) + k % 5 - 2, (int)lround(py) + k / 5 - 2, c);
}

/* Losses (log scale) above, accuracies (0..1) below, labelled. */
static void
plot_draw(struct plot *p, const struct train_log *l, const char *path)
{
	const double *v[4] = { l->loss, l->vloss, l->acc_tf, l->acc_s };
	struct plot_axis loss, acc, step = { .lo = 0, .hi = 1, .n = 0 };
	int has_loss = plot_axis_loss(&loss, l);

	memset(p->px, 255, sizeof p->px);
	plot_axis_acc(&acc);
	step.p0 = plot_left(&loss, &acc), step.p1 = PLOT_RIGHT;
	if (l->n > 0)
		plot_axis_step(&step, l, step.p0);
	plot_panel(p, &step, &loss, "loss (nats, log scale)");
	plot_panel(p, &step, &acc, "accuracy");
	plot_legend(p, 0, PLOT_LOSS_TOP);
	plot_legend(p, 1, PLOT_ACC_TOP);
	plot_steps(p, &step);
	plot_title(p, l, path, step.p0);
	for (int k = 0; k < 4 && l->n > 0; k++)
		if (plot_series[k].panel == 1 || has_loss)
			plot_curve(p, l, v[k], &step, plot_series[k].panel ? &acc : &loss, plot_series[k].rgb);
}

static int
plot_write(const struct plot *p, FILE *f)
{
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;

	if (info == NULL) {
		png_destroy_write_struct(&png, NULL);
		return -1;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		return -1;
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, PLOT_W, PLOT_H, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
	    PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (int y = 0; y < PLOT_H; y++)
		png_write_row(png, (png_const_bytep)p->px[y]);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	return 0;
}

int
train_log_plot(const struct train_log *l, const char *path, char *err, size_t errlen)
{
	struct plot *p = malloc(sizeof *p);
	char tmp[4200];
	FILE *f;
	int rc = -1;

	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (p == NULL || (f = fopen(tmp, "wb")) == NULL) {
		snprintf(err, errlen, "%s: %s", tmp, p ? strerror(errno) : "out of memory");
		free(p);
		return -1;
	}
	plot_draw(p, l, path);
	rc = plot_write(p, f);
	if (fclose(f) != 0 || rc < 0 || rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: cannot write the plot", path);
		unlink(tmp);
		rc = -1;
	}
	free(p);
	return rc;
}
