/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cand.h: choosing one answer among N decoded candidates: the latent vectors around an answer's z, and a
 * score of how well a candidate keeps the phrase's key and rhythm without copying it note for note
 * (docs/candidates.md). Pure functions over caller-owned memory. */
#ifndef MVD_CAND_H
#define MVD_CAND_H

#include "rng.h"
#include "seq.h"

#define CAND_MAX 8              /* candidates in one batched decode (the fast kernels' batch) */
#define CAND_SPREAD 0.25f       /* std. dev. of the perturbation of each z component (docs/candidates.md) */
#define CAND_COPY_MAX 0.5       /* share of copied onsets tolerated without penalty */
#define CAND_COPY_WEIGHT 2.0    /* penalty at a full copy */
#define CAND_EMPTY (-4.0)       /* total of a candidate without notes: below any candidate with notes */

/* The parts of one score; total = key + rhythm - copy_penalty. */
struct cand_score {
	double key;             /* -1..1: correlation of the pitch-class (drums: drum-pitch) histograms */
	double rhythm;          /* 0..1: F1 of the onset steps */
	double copy;            /* 0..1: share of the candidate's notes on a phrase note's pitch and step */
	double copy_penalty;    /* CAND_COPY_WEIGHT x max(0, copy - CAND_COPY_MAX) / (1 - CAND_COPY_MAX) */
	double total;
};

/* out [n, Z]: row 0 = z, rows b > 0 = z + spread x N(0, I) drawn from r. */
void cand_perturb(struct rng *r, int Z, const float *z, int n, float spread, float *out);
/* Scores candidate c against phrase p, both quantized from step 0 of a window of `steps` steps (onsets
 * are taken modulo steps); drums: histograms over drum pitches instead of pitch classes. Fills *s and
 * returns s->total. */
double cand_score(const struct seq *p, const struct seq *c, int steps, int drums, struct cand_score *s);
/* Index of the highest of total[n] (the first on ties; n >= 1). */
int cand_best(const double *total, int n);

#endif
