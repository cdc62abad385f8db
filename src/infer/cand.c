/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cand.c: the latent vectors of N answer candidates and the score that picks one (docs/candidates.md). */
#include <math.h>
#include <string.h>

#include "cand.h"

#define CAND_BINS 128           /* histogram bins: 12 pitch classes, or 128 drum pitches */

void
cand_perturb(struct rng *r, int Z, const float *z, int n, float spread, float *out)
{
	memcpy(out, z, sizeof(float) * Z);
	for (int b = 1; b < n; b++)
		for (int i = 0; i < Z; i++)
			out[(size_t)b * Z + i] = z[i] + spread * (float)rng_normal(r);
}

/* Note weight per bin: melody by duration in steps (a held tonic says more about the key than a passing
 * note), drums by hits. Returns the bins used. */
static int
cand_hist(const struct seq *s, int drums, double *h)
{
	int bins = drums ? CAND_BINS : 12;

	memset(h, 0, sizeof(double) * CAND_BINS);
	for (size_t i = 0; i < s->n; i++) {
		const struct note *n = &s->notes[i];
		if (n->pitch < 0 || n->pitch > 127)
			continue;
		h[drums ? n->pitch : n->pitch % 12] += drums ? 1.0 : (double)(n->end > n->start ? n->end - n->start : 1);
	}
	return bins;
}

/* Pearson correlation of a and b over n bins; 0 when either is constant (no notes, or every bin equal). */
static double
cand_corr(const double *a, const double *b, int n)
{
	double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;

	for (int i = 0; i < n; i++) {
		ma += a[i] / n;
		mb += b[i] / n;
	}
	for (int i = 0; i < n; i++) {
		sab += (a[i] - ma) * (b[i] - mb);
		saa += (a[i] - ma) * (a[i] - ma);
		sbb += (b[i] - mb) * (b[i] - mb);
	}
	return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0.0;
}

static int
cand_step(const struct note *n, int steps)
{
	return ((n->start % steps) + steps) % steps;
}

/* F1 of the two sets of onset steps (a step counts once however many notes start on it). */
static double
cand_onset_f1(const struct seq *p, const struct seq *c, int steps)
{
	unsigned char on[2][1024];
	int np = 0, nc = 0, both = 0;

	if (steps > 1024)
		steps = 1024;
	memset(on, 0, sizeof on);
	for (size_t i = 0; i < p->n; i++)
		on[0][cand_step(&p->notes[i], steps)] = 1;
	for (size_t i = 0; i < c->n; i++)
		on[1][cand_step(&c->notes[i], steps)] = 1;
	for (int t = 0; t < steps; t++) {
		np += on[0][t];
		nc += on[1][t];
		both += on[0][t] & on[1][t];
	}
	return np + nc > 0 ? 2.0 * both / (np + nc) : 0.0;
}

/* Share of c's notes whose pitch and onset step equal those of a note of p. */
static double
cand_copy(const struct seq *p, const struct seq *c, int steps)
{
	size_t same = 0;

	for (size_t i = 0; i < c->n; i++)
		for (size_t j = 0; j < p->n; j++)
			if (c->notes[i].pitch == p->notes[j].pitch &&
			    cand_step(&c->notes[i], steps) == cand_step(&p->notes[j], steps)) {
				same++;
				break;
			}
	return c->n ? (double)same / (double)c->n : 0.0;
}

double
cand_score(const struct seq *p, const struct seq *c, int steps, int drums, struct cand_score *s)
{
	double hp[CAND_BINS], hc[CAND_BINS];
	int bins;

	memset(s, 0, sizeof *s);
	if (steps < 1)
		steps = 1;
	if (c->n == 0)
		return s->total = CAND_EMPTY;
	bins = cand_hist(p, drums, hp);
	cand_hist(c, drums, hc);
	s->key = cand_corr(hp, hc, bins);
	s->rhythm = cand_onset_f1(p, c, steps);
	s->copy = cand_copy(p, c, steps);
	if (s->copy > CAND_COPY_MAX)
		s->copy_penalty = CAND_COPY_WEIGHT * (s->copy - CAND_COPY_MAX) / (1.0 - CAND_COPY_MAX);
	return s->total = s->key + s->rhythm - s->copy_penalty;
}

int
cand_best(const double *total, int n)
{
	int best = 0;

	for (int i = 1; i < n; i++)
		if (total[i] > total[best])
			best = i;
	return best;
}
