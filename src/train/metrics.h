/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metrics.h: music metrics of reconstructions (a window's decoded tokens against its input): sums, then rates. */
#ifndef MVD_METRICS_H
#define MVD_METRICS_H

#include <stdint.h>

#define METRICS_DRUM_CLASSES 9

/*
 * Tokens as in dataset.h. Melody: 0 no event, 1 note-off, k >= 2 note-on of a pitch (k - 2 + min_pitch: only
 * equality matters, so any MelodyConverter range works). Drums: the OR of 2^class of the hits at a step (9
 * classes: kick, snare, closed hat, open hat, low tom, mid tom, high tom, crash, ride).
 * Every count is a sum over the windows added, so rates are pooled over all steps, onsets or hits.
 */
struct metrics {
	int kind;               /* enum dataset_kind */
	long windows, steps;
	long same;              /* steps whose decoded token is the input's (argmax accuracy) */
	/* melody */
	long on_in, on_out;     /* note-on steps in the input, in the decode */
	long on_pitch;          /* steps where both have a note-on of the same pitch */
	long on_step;           /* steps where both have a note-on (any pitches) */
	long distinct_in, distinct_out; /* distinct note-on pitches per window, summed over windows */
	long pairs_in, pairs_out;       /* successive note-on pairs in a window */
	long rep_in, rep_out;           /* of them with the same pitch twice */
	/* drums: (step, class) hits */
	long hit_in, hit_out, hit_both;
	long class_in[METRICS_DRUM_CLASSES], class_both[METRICS_DRUM_CLASSES];
};

/* Rates of a struct metrics; NAN where the denominator is 0. */
struct metrics_rates {
	double acc;             /* same / steps */
	double onset_f1;        /* 2 on_pitch / (on_in + on_out): pitch-and-step onset F1 */
	double onset_step_f1;   /* 2 on_step / (on_in + on_out): rhythm only */
	double distinct_ratio;  /* distinct_out / distinct_in */
	double repeat_in, repeat_out;   /* rep / pairs: repeated-pitch share of successive onsets */
	double hit_f1;          /* 2 hit_both / (hit_in + hit_out) */
	double class_recall[METRICS_DRUM_CLASSES];      /* class_both / class_in */
};

/* Empty sums for kind (enum dataset_kind). */
void metrics_init(struct metrics *m, int kind);
/* Adds one window: input tokens in[T], decoded tokens out[T]. */
void metrics_add(struct metrics *m, const uint16_t *in, const uint16_t *out, int T);
/* Adds the sums of b to a (same kind). */
void metrics_merge(struct metrics *a, const struct metrics *b);
/* The rates of m. */
void metrics_rates(const struct metrics *m, struct metrics_rates *r);
/* Short name of drum class k ("kick", ..., "ride"), for reports. */
const char *metrics_drum_class(int k);

#endif
