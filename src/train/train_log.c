/* SPDX-License-Identifier: GPL-3.0-or-later */
/* train_log.c: the trainer's CSV log and the curves kept for its PNG plot (drawn by plot.c). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "plot.h"
#include "train_int.h"

#define TRAIN_CSV_HEADER "step,train_loss,ce,kl,beta,lr,grad_norm,valid_loss,valid_ce,valid_kl,valid_acc_tf," \
	"valid_acc_sampled\n"

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

/* ---- PNG ----------------------------------------------------------------------------------------- */

/* "DIR: training, steps A–B", DIR the plot's directory when named (not . or ..). */
static void
train_log_title(const struct train_log *l, const char *path, char *buf, size_t len)
{
	const char *end = strrchr(path, '/'), *dir = end;
	size_t n, o;

	while (dir != NULL && dir > path && dir[-1] != '/')
		dir--;
	n = dir != NULL ? (size_t)(end - dir) : 0;
	buf[0] = '\0';
	if (n > 0 && strspn(dir, ".") < n)
		snprintf(buf, len, "%.*s: ", (int)(n < 60 ? n : 60), dir);
	o = strlen(buf);
	if (l->n == 0)
		snprintf(buf + o, len - o, "training, no steps logged");
	else if (l->step[0] == l->step[l->n - 1])
		snprintf(buf + o, len - o, "training, step %ld", l->step[0]);
	else
		snprintf(buf + o, len - o, "training, steps %ld\u2013%ld", l->step[0], l->step[l->n - 1]);
}

int
train_log_plot(const struct train_log *l, const char *path, char *err, size_t errlen)
{
	char title[160];

	train_log_title(l, path, title, sizeof title);
	return plot_draw(l, title, path, NULL, err, errlen);
}
