/* SPDX-License-Identifier: GPL-3.0-or-later */
/* train_int.h: what train.c, train_model.c, train_eval.c, train_loop.c and train_log.c share: batch buffers,
 * one step's schedule values, the groove errors, and the CSV log / PNG plot. */
#ifndef MVD_TRAIN_INT_H
#define MVD_TRAIN_INT_H

#include <stdio.h>

#include "rng.h"
#include "rnn.h"
#include "train.h"

/* Activations, caches and gradients of one batch of up to B rows, allocated once (a step allocates nothing).
 * Tensors indexed by step are step-major: [T, B, ...] for the rows of the batch being run. */
struct train_buf {
	int B;
	float *x;               /* [B, T, D_in] */
	int *target, *feed;     /* [T, B]: class per step; token fed at each step (-1: zeros) */
	float *seqmem;          /* every rnn_seq below */
	struct rnn_seq enc[2];  /* encoder fw (processing order t) and bw (order T - 1 - t), K = D_in, U = Ue */
	struct rnn_seq dec[TRAIN_MAX_LAYERS];   /* decoder layers, K = D + Z then Ud */
	float *edh, *edc;       /* [2][B, Ue]: encoder state gradients per direction */
	float *hlast, *dhlast;  /* [B, 2Ue] */
	float *mu, *spre, *sigma, *eps, *z, *dz, *dmu, *dsig, *dspre;  /* [B, Z] */
	float *pre, *dpre;      /* [B, 2 L Ud] */
	float *c0, *h0, *dc, *dh;       /* [L, B, Ud] */
	float *dxin;            /* [B, max_l (K_l + Ud)]: one decoder layer's input gradient */
	float *top, *mask;      /* [T, B, Ud]: top-layer output (after dropout), dropout mask */
	float *dtop;            /* [B, Ud] */
	float *logits, *dlogits;        /* [T, B, D] */
	double *draw;           /* [T, B]: scheduled sampling's uniform for the class drawn (< 0: feed the target) */
	float *gt, *gfeed;      /* groove only (else NULL), [T, B, 27]: target rows; rows fed (t >= 1) */
};

enum train_feed_mode {
	TRAIN_TEACHER,          /* feed the target */
	TRAIN_SAMPLED,          /* target, or with p_sample a draw from the softmax (scheduled sampling) */
	TRAIN_ARGMAX,           /* feed the argmax (autoregressive) */
};

struct train_fwd {
	enum train_feed_mode mode;
	int cache;              /* keep what the backward pass needs */
	double p_sample;
	float keep;             /* dropout keep probability */
	struct rng *rng;
};

/* The schedule's values at one global step. */
struct train_sched {
	double lr, beta, p_sample, free_nats, clip, clip_to_zero;
	float keep;
	long t;                 /* Adam's update count (step + 1) */
};

/* train.c */
int train_buf_init(struct train_buf *b, const struct train_model *m, int B);
void train_buf_fini(struct train_buf *b);
/* Windows rows[0..B) of d into the batch's x and target. */
void train_load_rows(const struct train_model *m, struct train_buf *b, const struct dataset *d,
    const size_t *rows, int B, int kind);
/* Forward with caches and backward on the loaded batch: every p[].g set, out's loss, CE and KL (not norm).
 * r draws eps, scheduled sampling and dropout; r NULL takes eps from b->eps (s->p_sample and s->keep must
 * then leave r unused). */
void train_grad_batch(struct train_model *m, struct train_buf *b, int B, const struct train_sched *s,
    struct rng *r, struct train_metrics *out);
/* One update on the loaded batch: train_grad_batch, clipping, Adam. */
void train_step_batch(struct train_model *m, struct train_buf *b, int B, const struct train_sched *s,
    struct rng *r, struct train_metrics *out);
/* Validation metrics over d's windows rows[0..n) in batches of b->B, z = mu. */
void train_evaluate(struct train_model *m, struct train_buf *b, const struct dataset *d, const size_t *rows,
    size_t n, int kind, double beta, double free_nats, struct train_eval *ev);

/* train_eval.c: adds one step's groove errors to ev: at the hits of the input's row y [27], the output's
 * velocity and offset minus the input's, dv[9] and doff[9] (at the other classes ignored), and those of
 * predicting mean[2] (train_groove_mean's). */
void train_eval_groove_err(const double *dv, const double *doff, const float *y, const double *mean,
    struct train_eval *ev);

/* train_log.c: CSV rows and the curves for the plot. */
struct train_log {
	FILE *csv;
	size_t n, cap;
	long *step;
	double *loss, *vloss, *acc_tf, *acc_s; /* NAN where not measured */
	double t0;              /* seconds (monotonic) at the start of the run */
	long step0;             /* step at start (for throughput) */
};

/* Opens dir's CSV log; on resume keeps (and loads) the rows up to step, else starts it afresh. */
int train_log_open(struct train_log *l, const char *dir, int resume, long step, char *err, size_t errlen);
/* Appends one row (ev NULL: no validation at this step). */
void train_log_row(struct train_log *l, long step, const struct train_metrics *mt, double beta, double lr,
    const struct train_eval *ev);
/* Writes the curves as a PNG (losses above, accuracies below). Returns 0 or -1 with err. */
int train_log_plot(const struct train_log *l, const char *path, char *err, size_t errlen);
void train_log_close(struct train_log *l);
/* Monotonic seconds. */
double train_now(void);

#endif
