/* SPDX-License-Identifier: GPL-3.0-or-later */
/* nn_fast.c: the NN_FAST kernels: small-batch products with the weights read once for every row, and the
 * LSTM cell's pointwise part in float polynomials, AVX-512 or AVX2 with the same rounding as the scalar code. */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "nn.h"
#include "nn_int.h"

/* ---- NN_FAST kernels -----------------------------------------------------------------------------
 * OpenBLAS 0.3.21 falls back to its generic Prescott kernels on CPUs newer than it knows (its sgemv ran
 * at half the speed of its Haswell one here), and its sgemm packs the weights on every call, so the
 * small-batch products of inference (B <= NN_FAST_MAX_B) have their own kernels (AVX-512 where the CPU
 * has it, else AVX2). A panel of B rows x P vectors of columns stays in registers through all of K, so a
 * weight is loaded once per call and used by every row: B candidates cost little more than one while the
 * weights come from memory. Every column of y is ONE fused multiply-add chain over k in increasing order
 * from 0, whatever B, P, the vector width or the thread split, so a candidate gives the same bits alone or
 * in a batch, on AVX-512 or AVX2. Rows k where x is zero in every batch row are skipped (fma(0, w, s) = s
 * exactly): one-hot inputs and the zero initial state cost nothing. */

#define NN_PAR_MIN_FLOPS 65536  /* B K N below which waking the second thread costs more than it saves */
#ifndef NN_NC                   /* floats of y per chunk (over all B rows), tuned with NN_KC1 / NN_KCB (rows of */
#define NN_NC 8192              /* W per block for one row / for B > 1: the sequential streams a panel sweep */
#define NN_KC1 8                /* reads) and NN_PFD (B > 1: the next panel's weight lines are prefetched, */
#define NN_KCB 16               /* +10 % for 8 rows; more panels ahead or one row: slower) on mel_2bar_big's */
#define NN_PFD 1                /* 4096 x 8192 kernels */
#endif

#ifdef NN_X86
#define NN_AVX2 __attribute__((target("avx2,fma")))
#define NN_AVX512 __attribute__((target("avx512f,avx512dq,avx2,fma")))
#define NN_INLINE static inline __attribute__((always_inline))
#endif

static atomic_int nn_avx2 = -1, nn_avx512 = -1;

int
nn_have_avx2(void)
{
#ifdef NN_X86
	int v = atomic_load_explicit(&nn_avx2, memory_order_relaxed);
	if (v < 0) {
		__builtin_cpu_init();
		v = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
		atomic_store_explicit(&nn_avx2, v, memory_order_relaxed);
	}
	return v;
#else
	return 0;
#endif
}

/* -DNN_NO_AVX512 builds the AVX2 kernels only (for CPUs that slow down on 512-bit code, and to test them). */
static int
nn_have_avx512(void)
{
#if defined(NN_X86) && !defined(NN_NO_AVX512)
	int v = atomic_load_explicit(&nn_avx512, memory_order_relaxed);
	if (v < 0) {
		__builtin_cpu_init();
		v = nn_have_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
		atomic_store_explicit(&nn_avx512, v, memory_order_relaxed);
	}
	return v;
#else
	return 0;
#endif
}

int
nn_fast_fits(int B)
{
	return B <= NN_FAST_MAX_B && nn_have_avx2();
}

/* Float exp, sigmoid and tanh for NN_FAST (Cephes expf/tanhf polynomials, within ~2 ulp of the double
 * versions); the 8-wide AVX2 twins below repeat the same operations in the same order, so every lane
 * rounds exactly as this scalar code does (fp-contract is off: no fused multiply-add here). */
static float
nn_expf_fast(float x)
{
	union { float f; int32_t i; } s;
	float n, r, p;

	x = x < -87.0f ? -87.0f : x;
	x = x > 88.0f ? 88.0f : x;
	n = floorf(x * 1.44269504f + 0.5f);
	r = x - n * 0.693359375f;
	r = r - n * -2.12194440e-4f;
	p = 1.9875691500e-4f;
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	p = p * (r * r) + r;
	p = p + 1.0f;
	s.i = ((int32_t)n + 127) * (1 << 23);
	return p * s.f;
}

static float
nn_sigmoid_fast(float x)
{
	return 1.0f / (1.0f + nn_expf_fast(-x));
}

static float
nn_tanh_fast(float x)
{
	float a = fabsf(x), z = x * x, p, big;

	p = -5.70498872745e-3f;
	p = p * z + 2.06390887954e-2f;
	p = p * z - 5.37397155531e-2f;
	p = p * z + 1.33314422036e-1f;
	p = p * z - 3.33332819422e-1f;
	p = (p * z) * x + x;
	big = 1.0f - 2.0f / (nn_expf_fast(a + a) + 1.0f);
	return a < 0.625f ? p : copysignf(big, x);
}

/* One row of the cell's pointwise part from gates [4U]: the loop of nn_lstm_step_cache in fast floats. */
static void
nn_lstm_cell_scalar(int u0, int U, const float *g, const float *bias, float *c, float *h, float *act,
    float *c_prev, float *tanh_c)
{
	for (int u = u0; u < U; u++) {
		float si = nn_sigmoid_fast(g[u] + bias[u]);
		float tj = nn_tanh_fast(g[U + u] + bias[U + u]);
		float sf = nn_sigmoid_fast((g[2 * U + u] + bias[2 * U + u]) + 1.0f);
		float so = nn_sigmoid_fast(g[3 * U + u] + bias[3 * U + u]);
		float a = si * tj, k = c[u] * sf, tc;
		if (act != NULL) {
			act[u] = si;
			act[U + u] = tj;
			act[2 * U + u] = sf;
			act[3 * U + u] = so;
			c_prev[u] = c[u];
		}
		c[u] = a + k;
		tc = nn_tanh_fast(c[u]);
		h[u] = tc * so;
		if (tanh_c != NULL)
			tanh_c[u] = tc;
	}
}

#ifdef NN_X86
#define V8(c) _mm256_set1_ps(c)

NN_AVX2 static __m256
nn_exp8(__m256 x)
{
	__m256 n, r, p;
	__m256i e;

	x = _mm256_max_ps(x, V8(-87.0f));
	x = _mm256_min_ps(x, V8(88.0f));
	n = _mm256_floor_ps(_mm256_add_ps(_mm256_mul_ps(x, V8(1.44269504f)), V8(0.5f)));
	r = _mm256_sub_ps(x, _mm256_mul_ps(n, V8(0.693359375f)));
	r = _mm256_sub_ps(r, _mm256_mul_ps(n, V8(-2.12194440e-4f)));
	p = V8(1.9875691500e-4f);
	p = _mm256_add_ps(_mm256_mul_ps(p, r), V8(1.3981999507e-3f));
	p = _mm256_add_ps(_mm256_mul_ps(p, r), V8(8.3334519073e-3f));
	p = _mm256_add_ps(_mm256_mul_ps(p, r), V8(4.1665795894e-2f));
	p = _mm256_add_ps(_mm256_mul_ps(p, r), V8(1.6666665459e-1f));
	p = _mm256_add_ps(_mm256_mul_ps(p, r), V8(5.0000001201e-1f));
	p = _mm256_add_ps(_mm256_mul_ps(p, _mm256_mul_ps(r, r)), r);
	p = _mm256_add_ps(p, V8(1.0f));
	e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
	return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

NN_AVX2 static __m256
nn_sigmoid8(__m256 x)
{
	return _mm256_div_ps(V8(1.0f), _mm256_add_ps(V8(1.0f), nn_exp8(_mm256_sub_ps(V8(0.0f), x))));
}

NN_AVX2 static __m256
nn_tanh8(__m256 x)
{
	__m256 sign = V8(-0.0f), a = _mm256_andnot_ps(sign, x), z = _mm256_mul_ps(x, x), p, big;

	p = V8(-5.70498872745e-3f);
	p = _mm256_add_ps(_mm256_mul_ps(p, z), V8(2.06390887954e-2f));
	p = _mm256_sub_ps(_mm256_mul_ps(p, z), V8(5.37397155531e-2f));
	p = _mm256_add_ps(_mm256_mul_ps(p, z), V8(1.33314422036e-1f));
	p = _mm256_sub_ps(_mm256_mul_ps(p, z), V8(3.33332819422e-1f));
	p = _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(p, z), x), x);
	big = _mm256_sub_ps(V8(1.0f), _mm256_div_ps(V8(2.0f), _mm256_add_ps(nn_exp8(_mm256_add_ps(a, a)),
	    V8(1.0f))));
	big = _mm256_or_ps(big, _mm256_and_ps(sign, x));
	return _mm256_blendv_ps(big, p, _mm256_cmp_ps(a, V8(0.625f), _CMP_LT_OQ));
}

NN_AVX2 static void
nn_lstm_cell_avx2(int u, int U, const float *g, const float *bias, float *c, float *h, float *act,
    float *c_prev, float *tanh_c)
{
	for (; u + 8 <= U; u += 8) {
#define NN_GATE(q) _mm256_add_ps(_mm256_loadu_ps(g + (q) * U + u), _mm256_loadu_ps(bias + (q) * U + u))
		__m256 si = nn_sigmoid8(NN_GATE(0)), tj = nn_tanh8(NN_GATE(1));
		__m256 sf = nn_sigmoid8(_mm256_add_ps(NN_GATE(2), V8(1.0f))), so = nn_sigmoid8(NN_GATE(3));
		__m256 cp = _mm256_loadu_ps(c + u), cn, tc;
#undef NN_GATE
		if (act != NULL) {
			_mm256_storeu_ps(act + u, si);
			_mm256_storeu_ps(act + U + u, tj);
			_mm256_storeu_ps(act + 2 * U + u, sf);
			_mm256_storeu_ps(act + 3 * U + u, so);
			_mm256_storeu_ps(c_prev + u, cp);
		}
		cn = _mm256_add_ps(_mm256_mul_ps(si, tj), _mm256_mul_ps(cp, sf));
		tc = nn_tanh8(cn);
		_mm256_storeu_ps(c + u, cn);
		_mm256_storeu_ps(h + u, _mm256_mul_ps(tc, so));
		if (tanh_c != NULL)
			_mm256_storeu_ps(tanh_c + u, tc);
	}
	nn_lstm_cell_scalar(u, U, g, bias, c, h, act, c_prev, tanh_c);
}

/* The 16-lane twins of nn_exp8, nn_sigmoid8, nn_tanh8: the same operations in the same order. */
#define V16(c) _mm512_set1_ps(c)

NN_AVX512 static __m512
nn_exp16(__m512 x)
{
	__m512 n, r, p;
	__m512i e;

	x = _mm512_max_ps(x, V16(-87.0f));
	x = _mm512_min_ps(x, V16(88.0f));
	n = _mm512_roundscale_ps(_mm512_add_ps(_mm512_mul_ps(x, V16(1.44269504f)), V16(0.5f)),
	    _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
	r = _mm512_sub_ps(x, _mm512_mul_ps(n, V16(0.693359375f)));
	r = _mm512_sub_ps(r, _mm512_mul_ps(n, V16(-2.12194440e-4f)));
	p = V16(1.9875691500e-4f);
	p = _mm512_add_ps(_mm512_mul_ps(p, r), V16(1.3981999507e-3f));
	p = _mm512_add_ps(_mm512_mul_ps(p, r), V16(8.3334519073e-3f));
	p = _mm512_add_ps(_mm512_mul_ps(p, r), V16(4.1665795894e-2f));
	p = _mm512_add_ps(_mm512_mul_ps(p, r), V16(1.6666665459e-1f));
	p = _mm512_add_ps(_mm512_mul_ps(p, r), V16(5.0000001201e-1f));
	p = _mm512_add_ps(_mm512_mul_ps(p, _mm512_mul_ps(r, r)), r);
	p = _mm512_add_ps(p, V16(1.0f));
	e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
	return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

NN_AVX512 static __m512
nn_sigmoid16(__m512 x)
{
	return _mm512_div_ps(V16(1.0f), _mm512_add_ps(V16(1.0f), nn_exp16(_mm512_sub_ps(V16(0.0f), x))));
}

NN_AVX512 static __m512
nn_tanh16(__m512 x)
{
	__m512 sign = V16(-0.0f), a = _mm512_andnot_ps(sign, x), z = _mm512_mul_ps(x, x), p, big;

	p = V16(-5.70498872745e-3f);
	p = _mm512_add_ps(_mm512_mul_ps(p, z), V16(2.06390887954e-2f));
	p = _mm512_sub_ps(_mm512_mul_ps(p, z), V16(5.37397155531e-2f));
	p = _mm512_add_ps(_mm512_mul_ps(p, z), V16(1.33314422036e-1f));
	p = _mm512_sub_ps(_mm512_mul_ps(p, z), V16(3.33332819422e-1f));
	p = _mm512_add_ps(_mm512_mul_ps(_mm512_mul_ps(p, z), x), x);
	big = _mm512_sub_ps(V16(1.0f), _mm512_div_ps(V16(2.0f), _mm512_add_ps(nn_exp16(_mm512_add_ps(a, a)),
	    V16(1.0f))));
	big = _mm512_or_ps(big, _mm512_and_ps(sign, x));
	return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, V16(0.625f), _CMP_LT_OQ), big, p);
}

NN_AVX512 static void
nn_lstm_cell_avx512(int U, const float *g, const float *bias, float *c, float *h, float *act,
    float *c_prev, float *tanh_c)
{
	int u = 0;

	for (; u + 16 <= U; u += 16) {
#define NN_GATE(q) _mm512_add_ps(_mm512_loadu_ps(g + (q) * U + u), _mm512_loadu_ps(bias + (q) * U + u))
		__m512 si = nn_sigmoid16(NN_GATE(0)), tj = nn_tanh16(NN_GATE(1));
		__m512 sf = nn_sigmoid16(_mm512_add_ps(NN_GATE(2), V16(1.0f))), so = nn_sigmoid16(NN_GATE(3));
		__m512 cp = _mm512_loadu_ps(c + u), cn, tc;
#undef NN_GATE
		if (act != NULL) {
			_mm512_storeu_ps(act + u, si);
			_mm512_storeu_ps(act + U + u, tj);
			_mm512_storeu_ps(act + 2 * U + u, sf);
			_mm512_storeu_ps(act + 3 * U + u, so);
			_mm512_storeu_ps(c_prev + u, cp);
		}
		cn = _mm512_add_ps(_mm512_mul_ps(si, tj), _mm512_mul_ps(cp, sf));
		tc = nn_tanh16(cn);
		_mm512_storeu_ps(c + u, cn);
		_mm512_storeu_ps(h + u, _mm512_mul_ps(tc, so));
		if (tanh_c != NULL)
			_mm512_storeu_ps(tanh_c + u, tc);
	}
	nn_lstm_cell_avx2(u, U, g, bias, c, h, act, c_prev, tanh_c);
}
#endif

void
nn_lstm_cell_fast(int U, const float *g, const float *bias, float *c, float *h, float *act, float *c_prev,
    float *tanh_c)
{
#ifdef NN_X86
	if (nn_have_avx512()) {
		nn_lstm_cell_avx512(U, g, bias, c, h, act, c_prev, tanh_c);
		return;
	}
	if (nn_have_avx2()) {
		nn_lstm_cell_avx2(0, U, g, bias, c, h, act, c_prev, tanh_c);
		return;
	}
#endif
	nn_lstm_cell_scalar(0, U, g, bias, c, h, act, c_prev, tanh_c);
}

/* One product for the fast kernels: y [B, N] = x [B, K] . W [K, N] over the rows ks[nk] of W. */
struct nn_mm {
	int B, K, N, half;
	const float *x, *W;
	float *y;
	const int *ks;          /* [nk]: the k with a nonzero x[b, k] in some row b, increasing */
	int nk;
};

#ifdef NN_X86
/* Columns [j0, min(j0 + 16 P, j1)) of all B rows over the listed rows ks[i0, i1): B x P accumulators in
 * registers, one weight load per P-vector and row k, one broadcast per row b and k. The accumulators start
 * at 0 for the first block of rows, else from y, where the block before left them (a float either way, so
 * the chain is the same). B and P are constants after inlining; masked loads and stores take the ragged
 * end (masked-off lanes are never touched). */
NN_INLINE NN_AVX512 void
nn_panel512(const int B, const int P, const struct nn_mm *m, int j0, int j1, int i0, int i1)
{
	__m512 acc[NN_FAST_MAX_B][8], wv[8];
	__mmask16 mk[8];
	const float *x = m->x, *W = m->W + j0;
	float *y = m->y + j0;
	size_t N = (size_t)m->N;
	int K = m->K;

#pragma GCC unroll 8
	for (int p = 0; p < P; p++) {
		int left = j1 - j0 - 16 * p;
		mk[p] = left >= 16 ? (__mmask16)0xffff : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
#pragma GCC unroll 8
		for (int b = 0; b < B; b++)
			acc[b][p] = i0 == 0 ? _mm512_setzero_ps() :
			    _mm512_maskz_loadu_ps(mk[p], y + (size_t)b * N + 16 * p);
	}
	for (int i = i0; i < i1; i++) {
		int k = m->ks[i];
		const float *w = W + (size_t)k * N;
#pragma GCC unroll 8
		for (int p = 0; p < P && NN_PFD > 0 && B > 1; p++)
			_mm_prefetch((const char *)((uintptr_t)w + 64 * (NN_PFD * P + p)), _MM_HINT_T0);
#pragma GCC unroll 8
		for (int p = 0; p < P; p++)
			wv[p] = _mm512_maskz_loadu_ps(mk[p], w + 16 * p);
#pragma GCC unroll 8
		for (int b = 0; b < B; b++) {
			__m512 xb = _mm512_set1_ps(x[(size_t)b * K + k]);
#pragma GCC unroll 8
			for (int p = 0; p < P; p++)
				acc[b][p] = _mm512_fmadd_ps(xb, wv[p], acc[b][p]);
		}
	}
#pragma GCC unroll 8
	for (int b = 0; b < B; b++)
#pragma GCC unroll 8
		for (int p = 0; p < P; p++)
			_mm512_mask_storeu_ps(y + (size_t)b * N + 16 * p, mk[p], acc[b][p]);
}

/* The 8-lane twin of nn_panel512 for CPUs without AVX-512: the same chain per column. */
NN_INLINE NN_AVX2 void
nn_panel256(const int B, const int P, const struct nn_mm *m, int j0, int j1, int i0, int i1)
{
	__m256 acc[NN_FAST_MAX_B][4], wv[4];
	__m256i mk[4];
	const float *x = m->x, *W = m->W + j0;
	float *y = m->y + j0;
	size_t N = (size_t)m->N;
	int K = m->K;

#pragma GCC unroll 4
	for (int p = 0; p < P; p++) {
		int left = j1 - j0 - 8 * p;
		mk[p] = _mm256_cmpgt_epi32(_mm256_set1_epi32(left), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
#pragma GCC unroll 8
		for (int b = 0; b < B; b++)
			acc[b][p] = i0 == 0 ? _mm256_setzero_ps() :
			    _mm256_maskload_ps(y + (size_t)b * N + 8 * p, mk[p]);
	}
	for (int i = i0; i < i1; i++) {
		int k = m->ks[i];
		const float *w = W + (size_t)k * N;
#pragma GCC unroll 4
		for (int p = 0; p < P; p++)
			wv[p] = _mm256_maskload_ps(w + 8 * p, mk[p]);
#pragma GCC unroll 8
		for (int b = 0; b < B; b++) {
			__m256 xb = _mm256_set1_ps(x[(size_t)b * K + k]);
#pragma GCC unroll 4
			for (int p = 0; p < P; p++)
				acc[b][p] = _mm256_fmadd_ps(xb, wv[p], acc[b][p]);
		}
	}
#pragma GCC unroll 8
	for (int b = 0; b < B; b++)
#pragma GCC unroll 4
		for (int p = 0; p < P; p++)
			_mm256_maskstore_ps(y + (size_t)b * N + 8 * p, mk[p], acc[b][p]);
}

/* Columns [n0, n1) of the product: chunks of about NN_NC / B columns (y's slice stays in cache); per chunk,
 * blocks of NN_KC1 (one row) or NN_KCB listed rows swept across panels of w P columns (w = 16 on AVX-512,
 * 8 on AVX2), so W is read as that many sequential streams. P is chosen per B so that the B x P accumulators
 * and the P weight vectors fit the register file. When every row of W starts at the same offset in a 64-byte
 * line (N a multiple of 16), a first narrow piece brings the panels onto line boundaries: a vector load that
 * straddles two lines costs two (checkpoint tensors are packed at 4-byte offsets). An empty row list still
 * stores the zeros. */
#define NN_PANELS(fn, w, B, P) do { \
	int nc_ = ((NN_NC / (B) + (w) * (P) - 1) / ((w) * (P))) * (w) * (P), a_ = n0; \
	if (m->N % 16 == 0) \
		a_ += (int)((16 - ((uintptr_t)(m->W + n0) / sizeof(float)) % 16) % 16); \
	for (int c0_ = n0; c0_ < n1; c0_ = c0_ < a_ ? a_ : c0_ + nc_) { \
		int c1_ = c0_ < a_ ? a_ : c0_ + nc_, i0_ = 0, kc_ = (B) == 1 ? NN_KC1 : NN_KCB; \
		c1_ = c1_ < n1 ? c1_ : n1; \
		do { \
			int i1_ = i0_ + kc_ < m->nk ? i0_ + kc_ : m->nk; \
			for (int j_ = c0_; j_ < c1_; j_ += (w) * (P)) \
				fn(B, P, m, j_, c1_, i0_, i1_); \
			i0_ = i1_; \
		} while (i0_ < m->nk); \
	} \
} while (0)

NN_AVX512 static void
nn_gemm512(const struct nn_mm *m, int n0, int n1)
{
	switch (m->B) {
	case 1: NN_PANELS(nn_panel512, 16, 1, 4); break;
	case 2: NN_PANELS(nn_panel512, 16, 2, 6); break;
	case 3: NN_PANELS(nn_panel512, 16, 3, 6); break;
	case 4: NN_PANELS(nn_panel512, 16, 4, 5); break;
	case 5: NN_PANELS(nn_panel512, 16, 5, 4); break;
	case 6: NN_PANELS(nn_panel512, 16, 6, 4); break;
	case 7: NN_PANELS(nn_panel512, 16, 7, 3); break;
	default: NN_PANELS(nn_panel512, 16, 8, 3); break;
	}
}

NN_AVX2 static void
nn_gemm256(const struct nn_mm *m, int n0, int n1)
{
	switch (m->B) {
	case 1: NN_PANELS(nn_panel256, 8, 1, 4); break;
	case 2: NN_PANELS(nn_panel256, 8, 2, 4); break;
	case 3: NN_PANELS(nn_panel256, 8, 3, 3); break;
	case 4: NN_PANELS(nn_panel256, 8, 4, 2); break;
	case 5: NN_PANELS(nn_panel256, 8, 5, 2); break;
	case 6: NN_PANELS(nn_panel256, 8, 6, 2); break;
	case 7: NN_PANELS(nn_panel256, 8, 7, 1); break;
	default: NN_PANELS(nn_panel256, 8, 8, 1); break;
	}
}
#endif

static void
nn_mm_part(void *arg, int part)
{
#ifdef NN_X86
	struct nn_mm *m = arg;
	int n0 = part ? m->half : 0, n1 = part ? m->N : m->half;

	if (nn_have_avx512())
		nn_gemm512(m, n0, n1);
	else
		nn_gemm256(m, n0, n1);
#endif
}

/* Only reached when nn_fast_ok and K <= NN_KLIST_MAX: lists the rows of W worth reading, then two threads
 * take one column half each (split on a 16-column boundary). */
void
nn_fast_matmul(int B, int K, int N, const float *x, const float *W, float *y)
{
	int ks[NN_KLIST_MAX], nk = 0;
	struct nn_mm m = { B, K, N, ((N / 2) + 15) & ~15, x, W, y, ks, 0 };

	for (int k = 0; k < K; k++) {
		int any = 0;
		for (int b = 0; b < B; b++)
			any |= x[(size_t)b * K + k] != 0.0f;
		ks[nk] = k;
		nk += any;
	}
	m.nk = nk;
	if (N < 32 || (size_t)B * K * N < NN_PAR_MIN_FLOPS || nn_pool_run(nn_mm_part, &m) < 0) {
		m.half = N;
		nn_mm_part(&m, 0);
	}
}
