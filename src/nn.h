/* SPDX-License-Identifier: GPL-3.0-or-later */
/* nn.h: the layers MusicVAE is made of (dense, LSTM cell) on OpenBLAS, with a reference-exact mode. */
#ifndef MVD_NN_H
#define MVD_NN_H

#include <stddef.h>

/* Dimension letters used in shape comments: B batch rows, T steps, K input width, N output width,
 * U LSTM units, Z latent size. */

struct nn_dense {
	const float *kernel;    /* [K, N] row-major */
	const float *bias;      /* [N] */
	int in, out;            /* K, N */
};

/* tf.basicLSTMCell (forget bias 1.0): gates i | j | f | o from ONE product over concat(x, h). */
struct nn_lstm {
	const float *kernel;    /* [K + U, 4U] */
	const float *bias;      /* [4U] */
	int in, units;          /* K, U */
};

enum nn_mode {
	NN_FAST,                /* OpenBLAS single-precision products: the default */
	NN_EXACT,               /* tfjs CPU-backend summation order (blocks of 48 in double): for parity checks */
};

/* Selects how products are summed for all later calls (process-wide; set before running models). */
void nn_set_mode(enum nn_mode mode);
enum nn_mode nn_get_mode(void);

/* Threads OpenBLAS may use (default 1: one core decodes while the other serves audio, and OpenBLAS's threaded
 * level-3 path allocates per call). Takes effect at once, process-wide. */
void nn_set_threads(int n);
int nn_get_threads(void);

/* y[B, N] = x[B, K] . W[K, N] (no bias). */
void nn_matmul(int B, int K, int N, const float *x, const float *W, float *y);
/* y[B, out] = x[B, in] . kernel + bias, bias added after the product as tfjs does. */
void nn_dense_forward(const struct nn_dense *d, int B, const float *x, float *y);
/* One LSTM step for B rows. xh [B, K + U] holds the input in its first K columns on entry (the cell
 * writes h into the rest); c, h [B, U] are updated in place; gates [B, 4U] is scratch. */
void nn_lstm_step(const struct nn_lstm *l, int B, float *xh, float *c, float *h, float *gates);
/* (float)(1 / (1 + exp(-x))) in double, as tfjs computes it. */
float nn_sigmoid(float x);
/* (float)tanh(x) in double, as tfjs computes it. */
float nn_tanh(float x);
/* Index of the first maximum of v[n]. */
int nn_argmax(const float *v, int n);

#endif

/* Floats of scratch nn_bilstm_run needs for B rows of width K through U units. */
size_t nn_bilstm_scratch(int B, int K, int U);
/* Single-layer bidirectional LSTM from zero state over T steps. Row b, step t of the input is
 * x[b * xstride + t * K]. Writes hlast [B, 2U] = concat(h_fw after step T-1, h_bw after step 0) and, if
 * hseq is not NULL, hseq [B, T, 2U] = concat(h_fw_t, h_bw_t) for every step. */
void nn_bilstm_run(const struct nn_lstm *fw, const struct nn_lstm *bw, int B, int T, const float *x,
    size_t xstride, float *hlast, float *hseq, float *scratch);
