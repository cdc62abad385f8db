/* SPDX-License-Identifier: GPL-3.0-or-later */
/* codec_groove.c: the GrooveConverter (drum hits with velocities and micro-timing offsets). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_int.h"

#define CODEC_TAPIFY_CLASS 3    /* GrooveConverter.TAPIFY_CHANNEL */

/* A double as JavaScript's Number#toString writes it (shortest round trip), for magenta.js's messages. */
static void
codec_groove_jsnum(double v, char *buf, size_t len)
{
	char e[40];
	int p, exp10;

	if (v == floor(v) && fabs(v) < 1e21) {
		snprintf(buf, len, "%.0f", v);
		return;
	}
	for (p = 1; p < 17; p++) {
		snprintf(e, sizeof e, "%.*e", p - 1, v);
		if (strtod(e, NULL) == v)
			break;
	}
	snprintf(e, sizeof e, "%.*e", p - 1, v);
	exp10 = atoi(strchr(e, 'e') + 1);
	if (exp10 >= -7 && exp10 < 21)
		snprintf(buf, len, "%.*f", p - 1 - exp10 > 0 ? p - 1 - exp10 : 0, v);
	else {
		*strchr(e, 'e') = '\0';
		snprintf(buf, len, "%se%c%d", e, exp10 < 0 ? '-' : '+', abs(exp10));
	}
}

static int
codec_groove_too_long(int T, double step_len, double qpm, char *err, size_t errlen)
{
	char secs[40], q[40];

	codec_groove_jsnum(T * step_len, secs, sizeof secs);
	codec_groove_jsnum(qpm, q, sizeof q);
	return err_fail(err, errlen, "Model does not support sequences with more than %d steps (%s seconds at "
	    "qpm %s).", T, secs, q);
}

/* best [T, K]: per step and class the loudest note (first wins ties), -1 for none. */
static int
codec_groove_pick(const struct codec *c, const struct seq *s, double step_len, long *best, char *err,
    size_t errlen)
{
	int T = c->num_steps, K = c->n_classes;

	for (size_t i = 0; i < (size_t)T * K; i++)
		best[i] = -1;
	for (size_t i = 0; i < s->n; i++) {
		const struct note *n = &s->notes[i];
		int d = c->tapify ? CODEC_TAPIFY_CLASS : n->pitch >= 0 && n->pitch < 128 ? c->class_of[n->pitch] : -1;
		long *b;
		if (d < 0)
			continue;
		if (n->start < 0 || n->start >= T)
			return codec_groove_too_long(T, step_len, s->qpm, err, errlen);
		if (d >= K)     /* tapify with fewer than 4 classes: magenta.js stores the note but never reads it */
			continue;
		b = &best[(size_t)n->start * K + d];
		if (*b < 0 || s->notes[*b].velocity < n->velocity)
			*b = (long)i;
	}
	return 0;
}

static void
codec_groove_write(const struct codec *c, const struct seq *s, double step_len, const long *best, float *x)
{
	int T = c->num_steps, K = c->n_classes;

	for (int t = 0; t < T; t++)
		for (int d = 0; d < K; d++) {
			long b = best[(size_t)t * K + d];
			const struct note *n = b >= 0 ? &s->notes[b] : NULL;
			size_t hit = c->split_instruments ? ((size_t)t * K + d) * 3 : (size_t)t * 3 * K + d;
			size_t stride = c->split_instruments ? 1 : (size_t)K;
			if (n == NULL)
				continue;
			x[hit] = 1;
			if (!c->humanize && !c->tapify)
				x[hit + stride] = (float)(n->velocity / 127.0);
			if (!c->humanize)
				x[hit + 2 * stride] = (float)(2 * (n->start * step_len - n->start_time) / step_len);
		}
}

int
codec_groove_encode(const struct codec *c, const struct seq *s, float *x, char *err, size_t errlen)
{
	struct seq q;
	long *best = NULL;
	double step_len;
	int rc = -1;

	seq_init(&q);
	if (s->steps_per_quarter <= 0) {
		if (seq_copy(&q, s) < 0 || seq_quantize(&q, c->steps_per_quarter) < 0) {
			err_fail(err, errlen, "cannot quantize the note sequence at %d steps per quarter",
			    c->steps_per_quarter);
			goto fail;
		}
		s = &q;
	}
	step_len = 60.0 / s->qpm / c->steps_per_quarter;
	if ((best = malloc((size_t)c->num_steps * c->n_classes * sizeof *best)) == NULL) {
		err_fail(err, errlen, "out of memory");
		goto fail;
	}
	if (codec_groove_pick(c, s, step_len, best, err, errlen) < 0)
		goto fail;
	codec_groove_write(c, s, step_len, best, x);
	rc = 0;
fail:
	free(best);
	seq_fini(&q);
	return rc;
}

/* Math.round: nearest integer, halves towards +infinity. */
static double
codec_groove_round(double v)
{
	double r = floor(v);

	return v - r >= 0.5 ? r + 1 : r;
}

static double
codec_groove_clip(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

int
codec_groove_decode(const struct codec *c, const float *y, struct seq *out, char *err, size_t errlen)
{
	int T = c->num_steps, K = c->n_classes, split = c->split_instruments;
	double step_len = 60.0 / 120.0 / c->steps_per_quarter;

	seq_clear(out);
	out->steps_per_quarter = 0;     /* toNoteSequence returns an unquantized sequence */
	out->qpm = 120.0;
	out->total_steps = T;
	out->total_time = T * step_len;
	for (int t = 0; t < T; t++)
		for (int d = 0; d < K; d++) {
			size_t hit = split ? ((size_t)t * K + d) * 3 : (size_t)t * 3 * K + d, stride = split ? 1 : K;
			double vel = y[hit + stride], off = codec_groove_clip(y[hit + 2 * stride] / 2.0, -0.5, 0.5);
			struct note n = { .pitch = c->pitch_classes[d][0], .is_drum = 1, .start = t, .end = t + 1 };
			if (!(y[hit] > 0.5))
				continue;
			vel = codec_groove_clip(codec_groove_round(vel * 127), 0, 127);
			n.velocity = isnan(vel) ? 0 : (int)vel;
			n.start_time = (t - off) * step_len;
			n.end_time = (t - off + 1) * step_len;
			if (seq_add(out, &n) < 0)
				return err_fail(err, errlen, "out of memory");
		}
	return 0;
}
