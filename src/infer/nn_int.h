/* SPDX-License-Identifier: GPL-3.0-or-later */
/* nn_int.h: what nn.c (modes, reference math, the second thread) and nn_fast.c (the NN_FAST kernels) share. */
#ifndef MVD_NN_INT_H
#define MVD_NN_INT_H

#if defined(__x86_64__) && defined(__GNUC__)
#define NN_X86 1
#include <immintrin.h>
#endif

#define NN_FAST_MAX_B 8         /* rows the fast kernels take; more go to OpenBLAS */
#define NN_KLIST_MAX 8192       /* K the fast kernels take (their nonzero-row list lives on the stack) */

/* 1 when this CPU runs the fast kernels (AVX2 and FMA; AVX-512 is used when there too). */
int nn_have_avx2(void);
/* 1 when the fast kernels take B rows on this CPU. */
int nn_fast_fits(int B);
/* y [B, N] = x [B, K] . W [K, N] for B <= NN_FAST_MAX_B and K <= NN_KLIST_MAX (nn_fast_fits). */
void nn_fast_matmul(int B, int K, int N, const float *x, const float *W, float *y);
/* The LSTM cell's pointwise part for one row: gates g [4U] plus bias into c, h [U] (act, c_prev, tanh_c:
 * the trainer's saved activations, or NULL). */
void nn_lstm_cell_fast(int U, const float *g, const float *bias, float *c, float *h, float *act,
    float *c_prev, float *tanh_c);
/* Runs fn(arg, 0) here and fn(arg, 1) on the second thread: 0, or -1 when it is not free (run both here). */
int nn_pool_run(void (*fn)(void *, int), void *arg);

#endif
