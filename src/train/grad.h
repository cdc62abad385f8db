/* SPDX-License-Identifier: GPL-3.0-or-later */
/* grad.h: backward passes of the nn.c layers and the MusicVAE losses (cross-entropy, Gaussian posterior, KL
 * with free bits), batch-major, on OpenBLAS. The forward passes are nn.c's own, run with an nn_lstm_cache. */
#ifndef MVD_GRAD_H
#define MVD_GRAD_H

#include <stddef.h>

#include "nn.h"
#include "rng.h"

/* Conventions: every backward pass ADDS into parameter gradients and into dx-style input gradients (so
 * shared inputs such as z collect from every use); recurrent state gradients (dh, dc) are in/out. Shapes use
 * nn.h's letters; weights are never written. */

/* Gradients shaped like an nn_dense. */
struct grad_dense {
	float *kernel;          /* [K, N] */
	float *bias;            /* [N] */
};

/* Gradients shaped like an nn_lstm. */
struct grad_lstm {
	float *kernel;          /* [K + U, 4U] */
	float *bias;            /* [4U] */
};

/* A [B, T, n] window in a batch-major tensor: row b, step t starts at p + b * row + t * step (p NULL: none). */
struct grad_seq {
	float *p;
	size_t row, step;
};

/* dy [B, N] of y = x . kernel + bias: kernel += x^T dy, bias += sum_b dy, dx [B, K] += dy kernel^T (dx may
 * be NULL). */
void grad_dense_backward(const struct nn_dense *d, int B, const float *x, const float *dy, float *dx,
    struct grad_dense *g);

/* One LSTM step backwards. dh [B, U]: dL/dh_t in total; dc [B, U]: dL/dc_t from later steps on entry,
 * dL/dc_{t-1} on return; dgates [B, 4U] scratch; dxh [B, K + U] receives dL/d[x_t, h_{t-1}] (overwritten). */
void grad_lstm_step_backward(const struct nn_lstm *l, int B, const struct nn_lstm_cache *cache,
    const float *dh, float *dc, float *dgates, float *dxh, struct grad_lstm *g);
/* Floats of scratch grad_lstm_seq_backward and grad_bilstm_backward need: B (K + 7U). */
size_t grad_lstm_scratch(int B, int K, int U);
/* T steps of one layer backwards; dir > 0 if the forward ran t = 0..T-1, < 0 if T-1..0; cache[T] indexed
 * by t. dhlast [B, U] (row stride dhlast_row; NULL: none) is dL/dh after the last forward step, dhseq
 * dL/dh_t per step ([B, T, U] window; NULL p: none). dx [B, T, K] window += dL/dx_t (NULL p: skip). dh0,
 * dc0 [B, U] receive dL/d(initial h, c) if not NULL. */
void grad_lstm_seq_backward(const struct nn_lstm *l, int dir, int B, int T, const struct nn_lstm_cache *cache,
    const float *dhlast, size_t dhlast_row, struct grad_seq dhseq, struct grad_seq dx, float *dh0, float *dc0,
    struct grad_lstm *g, float *scratch);
/* nn_bilstm_run_cache backwards: dhlast [B, 2U] (NULL: none), dhseq [B, T, 2U] (NULL: none); dx += dL/dx
 * with row b, step t at dx[b * xstride + t * K] (NULL: skip). */
void grad_bilstm_backward(const struct nn_lstm *fw, const struct nn_lstm *bw, int B, int T,
    const struct nn_lstm_cache *cache_fw, const struct nn_lstm_cache *cache_bw, const float *dhlast,
    const float *dhseq, float *dx, size_t xstride, struct grad_lstm *gfw, struct grad_lstm *gbw,
    float *scratch);
/* Floats of scratch grad_stack_step_backward needs for these L layers. */
size_t grad_stack_scratch(const struct nn_lstm *cell, int L, int B);
/* One nn_stack_step backwards (cache[L] of that step). dh, dc [L][B, U]: on entry dL/d(h, c) of step t
 * from the output and later steps (top layer's output gradient included, lower layers' inputs to the layer
 * above NOT), on return dL/d(h, c) of step t-1. dx [B, K_0] += dL/d(layer 0 input) (NULL: skip). */
void grad_stack_step_backward(const struct nn_lstm *cell, int L, int B, const struct nn_lstm_cache *cache,
    float *dh, float *dc, float *dx, struct grad_lstm *g, float *scratch);
/* nn_init_state backwards: c0, h0 [L][B, U] are its outputs (the tanh values), dc0, dh0 their gradients;
 * dpre [B, 2LU] scratch; demb [B, K] += dL/demb (NULL: skip). */
void grad_init_state_backward(const struct nn_dense *init, int L, int U, int B, const float *emb,
    const float *c0, const float *h0, const float *dc0, const float *dh0, float *dpre, float *demb,
    struct grad_dense *g);

/* Softmax cross-entropy of N rows of logits [N, D] against class indices target[N] (< 0: row ignored, as
 * past a sequence's length). Returns the summed loss in nats (unscaled); dlogits [N, D] = scale * (softmax -
 * onehot), overwritten (NULL: loss only). Softmax in double from the row maximum. Magenta sums over steps
 * and averages over sequences: scale = 1 / B. */
double grad_softmax_xent(int N, int D, const float *logits, const int *target, double scale, float *dlogits);

/* GrooVAE's reconstruction loss (Magenta's GrooveLstmDecoder) of N rows of logits [N, 27] = [hits 9 | velocity
 * 9 | offset 9] against targets [N, 27] (hits 0/1, velocity 0..1, offset -1..1): per row the sum over the 9
 * classes of the hits' sigmoid cross-entropy + (sigmoid(velocity) - target)^2 + (tanh(offset) - target)^2.
 * Returns the summed loss; part[3] (may be NULL) gets its hits, velocity and offset sums. dlogits [N, 27] =
 * scale * the gradient, overwritten (NULL: loss only). Computed in double. */
double grad_groove_loss(int N, const float *logits, const float *target, double scale, float *dlogits,
    double part[3]);

/* y = softplus(x) = log(1 + e^x) in double, stable on both sides (Magenta's sigma activation). */
void grad_softplus_forward(size_t n, const float *x, float *y);
/* dx += dy * sigmoid(x). */
void grad_softplus_backward(size_t n, const float *x, const float *dy, float *dx);
/* z = mu + sigma * eps with eps ~ N(0, 1) drawn from r, or given in eps when r is NULL (replays). */
void grad_reparam_forward(size_t n, const float *mu, const float *sigma, struct rng *r, float *eps, float *z);
/* dmu += dz, dsigma += dz * eps. */
void grad_reparam_backward(size_t n, const float *eps, const float *dz, float *dmu, float *dsigma);
/* KL(N(mu, sigma) || N(0, 1)) per row summed over Z dims, then Magenta's free bits:
 * cost_b = max(KL_b - free_nats, 0) with free_nats = free_bits * ln 2. Returns sum_b cost_b; *kl_sum (if not
 * NULL) gets sum_b KL_b. dmu, dsigma [B, Z] += scale * dcost/d(mu, sigma) (NULL: skip); Magenta's loss adds
 * beta * mean_b cost_b, so scale = beta / B. */
double grad_kl_free_bits(int B, int Z, const float *mu, const float *sigma, double free_nats, double scale,
    float *dmu, float *dsigma, double *kl_sum);

/* Inverted dropout: mask[n] = 1 / keep with probability keep, else 0 (keep >= 1: all ones). */
void grad_dropout_mask(struct rng *r, size_t n, float keep, float *mask);
/* x *= mask: applies the mask forward to activations and backward to their gradients. */
void grad_dropout_apply(size_t n, const float *mask, float *x);

#endif
