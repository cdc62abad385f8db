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
	NN_FAST,                /* single-precision products (own AVX-512/AVX2 kernels for B <= 8: one FMA chain
	                         * per column, the same bits for a row alone or in a batch; else OpenBLAS) and
	                         * float sigmoid/tanh within a few ulp: the default */
	NN_EXACT,               /* tfjs CPU-backend summation order (blocks of 48 in double): for parity checks */
};

/* Selects how products are summed for all later calls (process-wide; set before running models). */
void nn_set_mode(enum nn_mode mode);
enum nn_mode nn_get_mode(void);

/* Threads OpenBLAS may use (default 1: one core decodes while the other serves audio, and OpenBLAS's threaded
 * level-3 path allocates per call). Takes effect at once, process-wide. n >= 2 also starts (once) the
 * persistent worker thread that NN_FAST's small-batch products and nn_bilstm_run_par share. */
void nn_set_threads(int n);
int nn_get_threads(void);

/* y[B, N] = x[B, K] . W[K, N] (no bias). */
void nn_matmul(int B, int K, int N, const float *x, const float *W, float *y);
/* y[B, out] = x[B, in] . kernel + bias, bias added after the product as tfjs does. */
void nn_dense_forward(const struct nn_dense *d, int B, const float *x, float *y);
/* What one LSTM step keeps for its backward pass (grad.h), in caller memory bound by nn_lstm_cache_bind. */
struct nn_lstm_cache {
	float *xh;              /* [B, K + U]: the step's input, then h_{t-1} */
	float *act;             /* [B, 4U]: sig(i) | tanh(j) | sig(f + 1) | sig(o) */
	float *c_prev;          /* [B, U]: c_{t-1} */
	float *tanh_c;          /* [B, U]: tanh(c_t) */
};

/* One LSTM step for B rows. xh [B, K + U] holds the input in its first K columns on entry (the cell
 * writes h into the rest); c, h [B, U] are updated in place; gates [B, 4U] is scratch. */
void nn_lstm_step(const struct nn_lstm *l, int B, float *xh, float *c, float *h, float *gates);
/* nn_lstm_step that also fills cache (NULL: plain inference, same arithmetic). If cache->xh != xh, the input
 * columns of xh are copied into cache->xh and the step runs on that copy. */
void nn_lstm_step_cache(const struct nn_lstm *l, int B, float *xh, float *c, float *h, float *gates,
    struct nn_lstm_cache *cache);
/* Floats one step's cache needs: B (K + 7U). */
size_t nn_lstm_cache_floats(int B, int K, int U);
/* Points cache's fields into mem [nn_lstm_cache_floats(B, K, U)]. */
void nn_lstm_cache_bind(struct nn_lstm_cache *cache, float *mem, int B, int K, int U);
/* One multiRNNCell step over L layers: xh is the layers' [B, K_l + U] buffers back to back with layer 0's
 * input in its first K_0 columns; c, h [L][B, U]; gates [B, 4U] scratch; cache[L] per layer or NULL. */
void nn_stack_step(const struct nn_lstm *cell, int L, int B, float *xh, float *c, float *h, float *gates,
    struct nn_lstm_cache *cache);
/* Initial state tanh(dense(emb)) split into c0, h0, c1, h1, ...: pre [B, 2LU] receives dense(emb) (the
 * backward pass reads tanh back from c, h); c, h [L][B, U]. */
void nn_init_state(const struct nn_dense *init, int L, int U, int B, const float *emb, float *pre, float *c,
    float *h);
/* (float)(1 / (1 + exp(-x))) in double, as tfjs computes it. */
float nn_sigmoid(float x);
/* (float)tanh(x) in double, as tfjs computes it. */
float nn_tanh(float x);
/* Index of the first maximum of v[n]. */
int nn_argmax(const float *v, int n);
/* Floats of scratch nn_bilstm_run needs for B rows of width K through U units. */
size_t nn_bilstm_scratch(int B, int K, int U);
/* Single-layer bidirectional LSTM from zero state over T steps. Row b, step t of the input is
 * x[b * xstride + t * K]. Writes hlast [B, 2U] = concat(h_fw after step T-1, h_bw after step 0) and, if
 * hseq is not NULL, hseq [B, T, 2U] = concat(h_fw_t, h_bw_t) for every step. */
void nn_bilstm_run(const struct nn_lstm *fw, const struct nn_lstm *bw, int B, int T, const float *x,
    size_t xstride, float *hlast, float *hseq, float *scratch);
/* Floats of scratch nn_bilstm_run_par needs: one nn_bilstm_scratch per direction. */
size_t nn_bilstm_par_scratch(int B, int K, int U);
/* nn_bilstm_run with the two directions on two threads at once (NN_FAST, nn_set_threads >= 2, B <= 8 and
 * a free worker; otherwise one after the other). Same results as nn_bilstm_run; allocates nothing. */
void nn_bilstm_run_par(const struct nn_lstm *fw, const struct nn_lstm *bw, int B, int T, const float *x,
    size_t xstride, float *hlast, float *hseq, float *scratch);
/* nn_bilstm_run that also fills cache_fw[T] and cache_bw[T] (indexed by input step t; each bound for B rows
 * of the direction's K, U); NULL caches make it nn_bilstm_run. */
void nn_bilstm_run_cache(const struct nn_lstm *fw, const struct nn_lstm *bw, int B, int T, const float *x,
    size_t xstride, float *hlast, float *hseq, float *scratch, struct nn_lstm_cache *cache_fw,
    struct nn_lstm_cache *cache_bw);

#endif
