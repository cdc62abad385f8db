/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metrics.c: music metrics of reconstructions: onset F1s, distinct and repeated pitches, drum hit F1 and
 * per-class recall (pure sums over token windows; definitions in metrics.h). */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "dataset.h"
#include "metrics.h"

void
metrics_init(struct metrics *m, int kind)
{
	memset(m, 0, sizeof *m);
	m->kind = kind;
}

/* Note-ons of a melody window: how many, distinct pitches, successive pairs and repeats. */
static void
metrics_line(const uint16_t *tok, int T, long *on, long *distinct, long *pairs, long *rep)
{
	unsigned char seen[1 << 16 >> 3] = { 0 };
	int prev = -1;

	for (int t = 0; t < T; t++) {
		int k = tok[t];
		if (k < 2)
			continue;
		(*on)++;
		if (!(seen[k >> 3] & 1 << (k & 7)))
			(*distinct)++;
		seen[k >> 3] |= (unsigned char)(1 << (k & 7));
		if (prev >= 0) {
			(*pairs)++;
			*rep += prev == k;
		}
		prev = k;
	}
}

static void
metrics_add_melody(struct metrics *m, const uint16_t *in, const uint16_t *out, int T)
{
	metrics_line(in, T, &m->on_in, &m->distinct_in, &m->pairs_in, &m->rep_in);
	metrics_line(out, T, &m->on_out, &m->distinct_out, &m->pairs_out, &m->rep_out);
	for (int t = 0; t < T; t++) {
		m->on_step += in[t] >= 2 && out[t] >= 2;
		m->on_pitch += in[t] >= 2 && out[t] == in[t];
	}
}

static void
metrics_add_drums(struct metrics *m, const uint16_t *in, const uint16_t *out, int T)
{
	for (int t = 0; t < T; t++) {
		unsigned both = (unsigned)(in[t] & out[t]);
		m->hit_in += __builtin_popcount(in[t] & 511u);
		m->hit_out += __builtin_popcount(out[t] & 511u);
		m->hit_both += __builtin_popcount(both & 511u);
		for (int k = 0; k < METRICS_DRUM_CLASSES; k++) {
			m->class_in[k] += in[t] >> k & 1;
			m->class_both[k] += both >> k & 1;
		}
	}
}

void
metrics_add(struct metrics *m, const uint16_t *in, const uint16_t *out, int T)
{
	m->windows++;
	m->steps += T;
	for (int t = 0; t < T; t++)
		m->same += in[t] == out[t];
	if (m->kind != DATASET_MELODY)
		metrics_add_drums(m, in, out, T);
	else
		metrics_add_melody(m, in, out, T);
}

void
metrics_merge(struct metrics *a, const struct metrics *b)
{
	long *pa = &a->windows;
	const long *pb = &b->windows;

	/* every field from windows on is a long sum */
	for (size_t i = 0; i < (sizeof *a - offsetof(struct metrics, windows)) / sizeof(long); i++)
		pa[i] += pb[i];
}

static double
metrics_div(double a, double b)
{
	return b > 0 ? a / b : NAN;
}

void
metrics_rates(const struct metrics *m, struct metrics_rates *r)
{
	r->acc = metrics_div(m->same, m->steps);
	r->onset_f1 = metrics_div(2.0 * m->on_pitch, m->on_in + m->on_out);
	r->onset_step_f1 = metrics_div(2.0 * m->on_step, m->on_in + m->on_out);
	r->distinct_ratio = metrics_div(m->distinct_out, m->distinct_in);
	r->repeat_in = metrics_div(m->rep_in, m->pairs_in);
	r->repeat_out = metrics_div(m->rep_out, m->pairs_out);
	r->hit_f1 = metrics_div(2.0 * m->hit_both, m->hit_in + m->hit_out);
	for (int k = 0; k < METRICS_DRUM_CLASSES; k++)
		r->class_recall[k] = metrics_div(m->class_both[k], m->class_in[k]);
}

const char *
metrics_drum_class(int k)
{
	static const char *const names[METRICS_DRUM_CLASSES] = { "kick", "snare", "closed_hat", "open_hat",
	    "low_tom", "mid_tom", "high_tom", "crash", "ride" };

	return k >= 0 && k < METRICS_DRUM_CLASSES ? names[k] : "?";
}
