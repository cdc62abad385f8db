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

#include "train_int.h"

#define TRAIN_CSV_HEADER "step,train_loss,ce,kl,beta,lr,grad_norm,valid_loss,valid_ce,valid_kl,valid_acc_tf," \
	"valid_acc_sampled\n"
#define PLOT_W 800
#define PLOT_H 500

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

struct plot {
	unsigned char px[PLOT_H][PLOT_W][3];
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

/* One curve v[] over the log's steps into the panel [top, top + h) (log scale: values > 0 only). */
static void
plot_curve(struct plot *p, const struct train_log *l, const double *v, int top, int h, double lo, double hi,
    int logy, const unsigned char *c)
{
	double px = -1, py = 0, s0 = l->step[0], s1 = l->step[l->n - 1] > s0 ? l->step[l->n - 1] : s0 + 1;

	for (size_t i = 0; i < l->n; i++) {
		double y = logy ? log(v[i]) : v[i], x, yy;
		if (!isfinite(y))
			continue;
		x = 20 + (PLOT_W - 40) * (l->step[i] - s0) / (s1 - s0);
		yy = top + h - 1 - (h - 1) * (y - lo) / (hi > lo ? hi - lo : 1);
		if (px >= 0)
			plot_line(p, px, py, x, yy, c);
		else
			plot_dot(p, (int)x, (int)yy, c);
		px = x, py = yy;
	}
}

/* Losses (log scale) above, accuracies (0..1) below, light grid lines. */
static void
plot_draw(struct plot *p, const struct train_log *l)
{
	static const unsigned char blue[3] = { 31, 119, 180 }, red[3] = { 214, 39, 40 }, green[3] = { 44, 160, 44 };
	static const unsigned char orange[3] = { 255, 127, 14 }, grid[3] = { 225, 225, 225 };
	double lo = HUGE_VAL, hi = -HUGE_VAL;

	memset(p->px, 255, sizeof p->px);
	for (int k = 0; k <= 4; k++) {
		plot_line(p, 20, 10 + k * 70, PLOT_W - 20, 10 + k * 70, grid);
		plot_line(p, 20, 310 + k * 45, PLOT_W - 20, 310 + k * 45, grid);
	}
	for (size_t i = 0; i < l->n; i++) {
		double a = l->loss[i] > 0 ? log(l->loss[i]) : NAN, b = l->vloss[i] > 0 ? log(l->vloss[i]) : NAN;
		if (isfinite(a))
			lo = fmin(lo, a), hi = fmax(hi, a);
		if (isfinite(b))
			lo = fmin(lo, b), hi = fmax(hi, b);
	}
	if (l->n == 0 || !(hi >= lo))
		return;
	plot_curve(p, l, l->loss, 10, 281, lo, hi, 1, blue);
	plot_curve(p, l, l->vloss, 10, 281, lo, hi, 1, red);
	plot_curve(p, l, l->acc_tf, 310, 181, 0.0, 1.0, 0, green);
	plot_curve(p, l, l->acc_s, 310, 181, 0.0, 1.0, 0, orange);
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
	plot_draw(p, l);
	rc = plot_write(p, f);
	if (fclose(f) != 0 || rc < 0 || rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: cannot write the plot", path);
		unlink(tmp);
		rc = -1;
	}
	free(p);
	return rc;
}
