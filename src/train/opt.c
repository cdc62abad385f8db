/* SPDX-License-Identifier: GPL-3.0-or-later */
/* opt.c: Adam, clipping and the training schedules, with Magenta's formulas (base_model.py, lstm_utils.py,
 * music_vae_train.py) so that hyper-parameters carry over. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "opt.h"

int
opt_param_init(struct opt_param *p, float *w, size_t n, const char *name)
{
	memset(p, 0, sizeof *p);
	p->w = w;
	p->n = n;
	p->name = name;
	p->g = calloc(n ? n : 1, sizeof(float));
	p->m = calloc(n ? n : 1, sizeof(float));
	p->v = calloc(n ? n : 1, sizeof(float));
	if (p->g == NULL || p->m == NULL || p->v == NULL) {
		opt_param_fini(p);
		return -1;
	}
	return 0;
}

void
opt_param_fini(struct opt_param *p)
{
	free(p->g);
	free(p->m);
	free(p->v);
	memset(p, 0, sizeof *p);
}

void
opt_zero_grad(struct opt_param *p, int np)
{
	for (int i = 0; i < np; i++)
		memset(p[i].g, 0, sizeof(float) * p[i].n);
}

double
opt_global_norm(const struct opt_param *p, int np)
{
	double s = 0.0;

	for (int i = 0; i < np; i++)
		for (size_t k = 0; k < p[i].n; k++)
			s += (double)p[i].g[k] * p[i].g[k];
	return sqrt(s);
}

double
opt_clip_global_norm(struct opt_param *p, int np, double clip, double zero_above)
{
	double norm = opt_global_norm(p, np), f;

	if (zero_above > 0.0 && !(norm < zero_above))
		f = 0.0;
	else if (norm > clip)
		f = clip / norm;
	else
		return norm;
	for (int i = 0; i < np; i++)
		for (size_t k = 0; k < p[i].n; k++)
			p[i].g[k] = (float)(p[i].g[k] * f);
	return norm;
}

void
opt_adam_step(struct opt_param *p, int np, double lr, long t, double b1, double b2, double eps)
{
	double lr_t = lr * sqrt(1.0 - pow(b2, (double)t)) / (1.0 - pow(b1, (double)t));

	for (int i = 0; i < np; i++)
		for (size_t k = 0; k < p[i].n; k++) {
			double g = p[i].g[k];
			double m = b1 * p[i].m[k] + (1.0 - b1) * g;
			double v = b2 * p[i].v[k] + (1.0 - b2) * g * g;
			p[i].m[k] = (float)m;
			p[i].v[k] = (float)v;
			p[i].w[k] = (float)(p[i].w[k] - lr_t * m / (sqrt(v) + eps));
		}
}

double
opt_lr(double lr0, double min_lr, double decay, long step)
{
	return (lr0 - min_lr) * pow(decay, (double)step) + min_lr;
}

double
opt_beta(double max_beta, double beta_rate, long step)
{
	return (1.0 - pow(beta_rate, (double)step)) * max_beta;
}

double
opt_sampling_prob(enum opt_sampling s, double rate, long step)
{
	switch (s) {
	case OPT_SAMPLING_EXPONENTIAL:
		return 1.0 - pow(rate, (double)step);
	case OPT_SAMPLING_INVERSE_SIGMOID:
		return 1.0 - rate / (rate + exp((double)step / rate));
	case OPT_SAMPLING_CONSTANT:
	default:
		return rate;
	}
}

void
opt_early_init(struct opt_early *e, int patience)
{
	e->best = HUGE_VAL;
	e->best_step = -1;
	e->patience = patience;
	e->bad = 0;
}

int
opt_early_update(struct opt_early *e, double loss, long step)
{
	if (loss < e->best) {
		e->best = loss;
		e->best_step = step;
		e->bad = 0;
		return 0;
	}
	return ++e->bad > e->patience;
}
