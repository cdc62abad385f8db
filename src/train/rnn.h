/* SPDX-License-Identifier: GPL-3.0-or-later */
/* rnn.h: one LSTM layer (nn.h's tf.basicLSTMCell) over a whole batch of sequences for training: the input
 * product of every step in one GEMM where the inputs are known, one GEMM per step for the recurrence, the
 * weight gradients as one GEMM over all steps, fused float gate math; and a two-way fork-join that keeps
 * both cores busy. Allocates nothing after rnn_seq_bind. */
#ifndef MVD_RNN_H
#define MVD_RNN_H

#include <stddef.h>

#include "grad.h"
#include "nn.h"

/* Dimension legend: B rows of the batch run now (<= the B the memory was bound for), T steps in processing
 * order s (a backward-running direction maps s to t = T - 1 - s), K input width, U units. */

/* One layer's activations for the backward pass, step-major so that every step is one [B, .] block. */
struct rnn_seq {
	float *xh;              /* [T, B, K + U]: step s's input, then h_{s-1} (h_{-1}: the initial h) */
	float *act;             /* [T, B, 4U]: sig(i) | tanh(j) | sig(f + 1) | sig(o); rnn_step_backward
	                         * overwrites step s with dL/d(pre-activation gates) */
	float *c;               /* [T + 1, B, U]: c_{-1} (the initial c), c_0, ..., c_{T-1} */
	float *tc;              /* [T, B, U]: tanh(c_s) */
	float *hlast;           /* [B, U]: h_{T-1} */
	float *pw;              /* the kernel rows the steps multiply (all K + U, or the last U after
	                         * rnn_input_all), packed by rnn_pack_forward in 32-column panels [k][32] */
	float *pwt;             /* kernel[k0:]^T [4U, K + U - k0] packed by rnn_pack_backward the same way */
	int T, K, U, pre, k0;
};

/* Floats one layer's rnn_seq needs for up to B rows. */
size_t rnn_seq_floats(int T, int B, int K, int U);
/* Points q's fields into mem [rnn_seq_floats(T, B, K, U)]. */
void rnn_seq_bind(struct rnn_seq *q, float *mem, int T, int B, int K, int U);
/* Step s's input rows [B, K + U] (the input in the first K columns, then h_{s-1}). */
float *rnn_xh(const struct rnn_seq *q, int B, int s);
/* h_s [B, U] with row stride *ld (the next step's xh, or hlast after the last step). */
float *rnn_h(const struct rnn_seq *q, int B, int s, size_t *ld);

/* Packs l's kernel for rnn_step (pre as rnn_step's; every step of a forward pass uses one packing) and
 * kernel[k0:]^T for rnn_step_backward: once per weight update, not per step as OpenBLAS would. */
void rnn_pack_forward(const struct nn_lstm *l, struct rnn_seq *q, int pre);
void rnn_pack_backward(const struct nn_lstm *l, struct rnn_seq *q, int k0);
/* act of every step = input columns of xh . kernel[0:K] (one GEMM over T B rows), before the steps run
 * with pre = 1. */
void rnn_input_all(const struct nn_lstm *l, struct rnn_seq *q, int B);
/* Rows [r0, r1) of step s: gates = xh . kernel (packed with pre = 0) or act += h_{s-1} . kernel[K:] (pre = 1,
 * after rnn_input_all), then the cell with the bias: c_s, tanh(c_s), h_s into the next step's xh (or hlast). */
void rnn_step(const struct nn_lstm *l, struct rnn_seq *q, int B, int s, int r0, int r1);
/* Rows [r0, r1) of step s backwards: dh [B, U] is dL/dh_s in total, dc [B, U] dL/dc_s from later steps
 * (dL/dc_{s-1} on return); act_s becomes dL/dgates, and dx [B, ldx] (rows r0..r1) receives dL/dxh columns
 * [k0, K + U) (overwritten; k0 as packed). dx may be dh itself when k0 = K and ldx = U: dh_{s-1} in place. */
void rnn_step_backward(const struct nn_lstm *l, struct rnn_seq *q, int B, int s, int r0, int r1,
    const float *dh, float *dc, float *dx, size_t ldx);
/* Columns [n0, n1) of the gradients: kernel += xh^T . dgates over all T B rows (one GEMM), bias += their
 * column sums. After every rnn_step_backward. */
void rnn_weight_grad(const struct nn_lstm *l, const struct rnn_seq *q, int B, int n0, int n1,
    struct grad_lstm *g);

/* W[:, n0:n1] += x^T [K, M] . dy [M, N][:, n0:n1], bias[n0:n1] += column sums of dy (bias may be NULL). */
void rnn_dense_grad(int M, int K, int N, const float *x, size_t ldx, const float *dy, int n0, int n1,
    float *W, float *bias);

/* Runs fn(arg, 0) and fn(arg, 1): at once on two threads when nn_get_threads() >= 2 (a worker started on
 * first use and kept), else one after the other; OpenBLAS runs single-threaded inside. Parts must touch
 * disjoint memory; the results are the same either way. */
void rnn_par(void (*fn)(void *, int), void *arg);

#endif
