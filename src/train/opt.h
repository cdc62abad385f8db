/* SPDX-License-Identifier: GPL-3.0-or-later */
/* opt.h: trainable tensors (value, gradient, Adam moments), Adam, global-norm clipping, and Magenta's
 * schedules (learning-rate decay, KL beta annealing, scheduled sampling), early stopping. */
#ifndef MVD_OPT_H
#define MVD_OPT_H

#include <stddef.h>

/* One trainable tensor: the value and what the optimiser keeps for it, all [n]. */
struct opt_param {
	float *w;               /* value (owned by the caller: model weights) */
	float *g;               /* gradient, accumulated by grad.h's backward passes */
	float *m, *v;           /* Adam first and second moments */
	size_t n;
	const char *name;       /* checkpoint tensor name, for messages */
};

/* Binds w [n] and allocates zeroed g, m, v. Returns 0, or -1 when out of memory. */
int opt_param_init(struct opt_param *p, float *w, size_t n, const char *name);
/* Frees g, m, v (not w). */
void opt_param_fini(struct opt_param *p);
/* Sets every gradient to zero (call before each batch's backward pass). */
void opt_zero_grad(struct opt_param *p, int np);
/* sqrt(sum of every squared gradient), in double. */
double opt_global_norm(const struct opt_param *p, int np);
/* Magenta's clip_mode=global_norm: returns the norm; if it is >= zero_above (> 0) every gradient is zeroed
 * (the step is skipped), else if it exceeds clip they are scaled by clip / norm. */
double opt_clip_global_norm(struct opt_param *p, int np, double clip, double zero_above);
/* One Adam update as tf.train.AdamOptimizer does it: t counts updates from 1; lr_t = lr sqrt(1 - b2^t) /
 * (1 - b1^t); w -= lr_t m / (sqrt(v) + eps). Magenta: b1 0.9, b2 0.999, eps 1e-8. */
void opt_adam_step(struct opt_param *p, int np, double lr, long t, double b1, double b2, double eps);
/* Magenta's learning rate at global step s (from 0): (lr0 - min_lr) * decay^s + min_lr. */
double opt_lr(double lr0, double min_lr, double decay, long step);
/* Magenta's KL weight at global step s: (1 - beta_rate^s) * max_beta. */
double opt_beta(double max_beta, double beta_rate, long step);

enum opt_sampling {
	OPT_SAMPLING_CONSTANT,          /* p = rate */
	OPT_SAMPLING_EXPONENTIAL,       /* p = 1 - rate^step, rate in (0, 1) */
	OPT_SAMPLING_INVERSE_SIGMOID,   /* p = 1 - k / (k + exp(step / k)), k = rate >= 1 */
};
/* Scheduled-sampling probability (feed the model's own sample instead of the target) at a global step. */
double opt_sampling_prob(enum opt_sampling s, double rate, long step);

/* Early stopping on a validation loss. */
struct opt_early {
	double best;            /* lowest loss seen */
	long best_step;
	int patience;           /* evaluations without improvement tolerated */
	int bad;                /* evaluations since the last improvement */
};
/* Starts with no loss seen. */
void opt_early_init(struct opt_early *e, int patience);
/* Records a validation loss; returns 1 when patience is exhausted (stop), else 0. */
int opt_early_update(struct opt_early *e, double loss, long step);

#endif
