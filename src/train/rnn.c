/* SPDX-License-Identifier: GPL-3.0-or-later */
/* rnn.c: an LSTM layer over a whole batch of sequences for training (forward with what backward needs,
 * backward, weight gradients as one GEMM over all steps) and the trainer's two-way fork-join. */
#include <pthread.h>
#include <string.h>

#include <cblas.h>

#include "rnn.h"

/* Dimension legend: B rows, T steps, K input width, U units, M rows of a product. */

#define RNN_NR 32                /* columns of a packed panel: two 16-float vectors */
#define RNN_MR 8                 /* rows of the kernel's register tile */
#define RNN_UP(n) (((size_t)(n) + RNN_NR - 1) / RNN_NR * RNN_NR)

size_t
rnn_seq_floats(int T, int B, int K, int U)
{
	return (size_t)B * ((size_t)T * (K + U) + (size_t)T * 4 * U + (size_t)(T + 1) * U + (size_t)T * U + U) +
	    ((size_t)K + U) * RNN_UP(4 * U) + (size_t)4 * U * RNN_UP(K + U);
}

void
rnn_seq_bind(struct rnn_seq *q, float *mem, int T, int B, int K, int U)
{
	q->T = T, q->K = K, q->U = U;
	q->xh = mem;
	q->act = q->xh + (size_t)T * B * (K + U);
	q->c = q->act + (size_t)T * B * 4 * U;
	q->tc = q->c + (size_t)(T + 1) * B * U;
	q->hlast = q->tc + (size_t)T * B * U;
	q->pw = q->hlast + (size_t)B * U;
	q->pwt = q->pw + ((size_t)K + U) * RNN_UP(4 * U);
	q->pre = q->k0 = 0;
}

float *
rnn_xh(const struct rnn_seq *q, int B, int s)
{
	return q->xh + (size_t)s * B * (q->K + q->U);
}

float *
rnn_h(const struct rnn_seq *q, int B, int s, size_t *ld)
{
	*ld = s + 1 < q->T ? (size_t)(q->K + q->U) : (size_t)q->U;
	return s + 1 < q->T ? rnn_xh(q, B, s + 1) + q->K : q->hlast;
}

void
rnn_input_all(const struct nn_lstm *l, struct rnn_seq *q, int B)
{
	int K = l->in, U = l->units;

	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, q->T * B, 4 * U, K, 1.0f, q->xh, K + U, l->kernel,
	    4 * U, 0.0f, q->act, 4 * U);
}

/* ---- gate math: float, 8 lanes where AVX2 is there -----------------------------------------------
 * exp, sigmoid and tanh are nn.c's NN_FAST formulas (Cephes polynomials, ~2 ulp); the scalar and the
 * 8-wide versions do the same operations in the same order, so a row rounds the same whichever runs it. */

static float
rnn_exp(float x)
{
	union { float f; int i; } s;
	float n, r, p;

	x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;
	n = (float)(int)(x * 1.44269504f + 0.5f + 128.0f) - 128.0f;   /* floor for x * log2(e) + 0.5 > -128 */
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
	s.i = ((int)n + 127) * (1 << 23);
	return p * s.f;
}

static float
rnn_sigmoid(float x)
{
	return 1.0f / (1.0f + rnn_exp(-x));
}

/* tanh x = 2 sigmoid(2x) - 1 = 1 - 2 / (e^2x + 1): one exp, no branch. */
static float
rnn_tanh(float x)
{
	return 1.0f - 2.0f / (rnn_exp(x + x) + 1.0f);
}

static void
rnn_cell_scalar(int u0, int U, float *a, const float *bias, const float *cp, float *c, float *tc, float *h)
{
	for (int u = u0; u < U; u++) {
		float si = rnn_sigmoid(a[u] + bias[u]), tj = rnn_tanh(a[U + u] + bias[U + u]);
		float sf = rnn_sigmoid((a[2 * U + u] + bias[2 * U + u]) + 1.0f);
		float so = rnn_sigmoid(a[3 * U + u] + bias[3 * U + u]), cn = si * tj + cp[u] * sf, t = rnn_tanh(cn);
		a[u] = si, a[U + u] = tj, a[2 * U + u] = sf, a[3 * U + u] = so;
		c[u] = cn, tc[u] = t, h[u] = t * so;
	}
}

/* dL/dgates of one row from the activations (in place); dc becomes dL/dc_{s-1}. */
static void
rnn_cell_back_scalar(int u0, int U, float *a, const float *cp, const float *tc, const float *dh, float *dc)
{
	for (int u = u0; u < U; u++) {
		float si = a[u], tj = a[U + u], sf = a[2 * U + u], so = a[3 * U + u], t = tc[u];
		float dct = dc[u] + dh[u] * so * (1.0f - t * t);
		a[u] = dct * tj * si * (1.0f - si);
		a[U + u] = dct * si * (1.0f - tj * tj);
		a[2 * U + u] = dct * cp[u] * sf * (1.0f - sf);
		a[3 * U + u] = dh[u] * t * so * (1.0f - so);
		dc[u] = dct * sf;
	}
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define RNN_AVX2 __attribute__((target("avx2")))
#define V8(c) _mm256_set1_ps(c)
#define RNN_ADD _mm256_add_ps
#define RNN_SUB _mm256_sub_ps
#define RNN_MUL _mm256_mul_ps

RNN_AVX2 static __m256
rnn_exp8(__m256 x)
{
	__m256 n, r, p;

	x = _mm256_min_ps(_mm256_max_ps(x, V8(-87.0f)), V8(88.0f));
	n = RNN_SUB(_mm256_cvtepi32_ps(_mm256_cvttps_epi32(RNN_ADD(RNN_ADD(RNN_MUL(x, V8(1.44269504f)),
	    V8(0.5f)), V8(128.0f)))), V8(128.0f));
	r = RNN_SUB(x, RNN_MUL(n, V8(0.693359375f)));
	r = RNN_SUB(r, RNN_MUL(n, V8(-2.12194440e-4f)));
	p = V8(1.9875691500e-4f);
	p = RNN_ADD(RNN_MUL(p, r), V8(1.3981999507e-3f));
	p = RNN_ADD(RNN_MUL(p, r), V8(8.3334519073e-3f));
	p = RNN_ADD(RNN_MUL(p, r), V8(4.1665795894e-2f));
	p = RNN_ADD(RNN_MUL(p, r), V8(1.6666665459e-1f));
	p = RNN_ADD(RNN_MUL(p, r), V8(5.0000001201e-1f));
	p = RNN_ADD(RNN_MUL(p, RNN_MUL(r, r)), r);
	p = RNN_ADD(p, V8(1.0f));
	return RNN_MUL(p, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(n),
	    _mm256_set1_epi32(127)), 23)));
}

RNN_AVX2 static __m256
rnn_sigmoid8(__m256 x)
{
	return _mm256_div_ps(V8(1.0f), RNN_ADD(V8(1.0f), rnn_exp8(RNN_SUB(V8(0.0f), x))));
}

RNN_AVX2 static __m256
rnn_tanh8(__m256 x)
{
	return RNN_SUB(V8(1.0f), _mm256_div_ps(V8(2.0f), RNN_ADD(rnn_exp8(RNN_ADD(x, x)), V8(1.0f))));
}

RNN_AVX2 static void
rnn_cell_avx2(int U, float *a, const float *bias, const float *cp, float *c, float *tc, float *h)
{
	int u = 0;

	for (; u + 8 <= U; u += 8) {
#define RNN_GATE(q) RNN_ADD(_mm256_loadu_ps(a + (q) * U + u), _mm256_loadu_ps(bias + (q) * U + u))
		__m256 si = rnn_sigmoid8(RNN_GATE(0)), tj = rnn_tanh8(RNN_GATE(1));
		__m256 sf = rnn_sigmoid8(RNN_ADD(RNN_GATE(2), V8(1.0f))), so = rnn_sigmoid8(RNN_GATE(3));
#undef RNN_GATE
		__m256 cn = RNN_ADD(RNN_MUL(si, tj), RNN_MUL(_mm256_loadu_ps(cp + u), sf)), t = rnn_tanh8(cn);
		_mm256_storeu_ps(a + u, si);
		_mm256_storeu_ps(a + U + u, tj);
		_mm256_storeu_ps(a + 2 * U + u, sf);
		_mm256_storeu_ps(a + 3 * U + u, so);
		_mm256_storeu_ps(c + u, cn);
		_mm256_storeu_ps(tc + u, t);
		_mm256_storeu_ps(h + u, RNN_MUL(t, so));
	}
	rnn_cell_scalar(u, U, a, bias, cp, c, tc, h);
}

RNN_AVX2 static void
rnn_cell_back_avx2(int U, float *a, const float *cp, const float *tc, const float *dh, float *dc)
{
	int u = 0;

	for (; u + 8 <= U; u += 8) {
		__m256 si = _mm256_loadu_ps(a + u), tj = _mm256_loadu_ps(a + U + u);
		__m256 sf = _mm256_loadu_ps(a + 2 * U + u), so = _mm256_loadu_ps(a + 3 * U + u);
		__m256 t = _mm256_loadu_ps(tc + u), d = _mm256_loadu_ps(dh + u), one = V8(1.0f);
		__m256 dct = RNN_ADD(_mm256_loadu_ps(dc + u), RNN_MUL(RNN_MUL(d, so), RNN_SUB(one, RNN_MUL(t, t))));
		_mm256_storeu_ps(a + u, RNN_MUL(RNN_MUL(RNN_MUL(dct, tj), si), RNN_SUB(one, si)));
		_mm256_storeu_ps(a + U + u, RNN_MUL(RNN_MUL(dct, si), RNN_SUB(one, RNN_MUL(tj, tj))));
		_mm256_storeu_ps(a + 2 * U + u, RNN_MUL(RNN_MUL(RNN_MUL(dct, _mm256_loadu_ps(cp + u)), sf),
		    RNN_SUB(one, sf)));
		_mm256_storeu_ps(a + 3 * U + u, RNN_MUL(RNN_MUL(RNN_MUL(d, t), so), RNN_SUB(one, so)));
		_mm256_storeu_ps(dc + u, RNN_MUL(dct, sf));
	}
	rnn_cell_back_scalar(u, U, a, cp, tc, dh, dc);
}

static int
rnn_have_avx2(void)
{
	static int v = -1;

	if (v < 0) {
		__builtin_cpu_init();
		v = __builtin_cpu_supports("avx2");
	}
	return v;
}
#endif

static void
rnn_cell(int U, float *a, const float *bias, const float *cp, float *c, float *tc, float *h)
{
#if defined(__x86_64__) && defined(__GNUC__)
	if (rnn_have_avx2()) {
		rnn_cell_avx2(U, a, bias, cp, c, tc, h);
		return;
	}
#endif
	rnn_cell_scalar(0, U, a, bias, cp, c, tc, h);
}

static void
rnn_cell_back(int U, float *a, const float *cp, const float *tc, const float *dh, float *dc)
{
#if defined(__x86_64__) && defined(__GNUC__)
	if (rnn_have_avx2()) {
		rnn_cell_back_avx2(U, a, cp, tc, dh, dc);
		return;
	}
#endif
	rnn_cell_back_scalar(0, U, a, cp, tc, dh, dc);
}

/* ---- products with packed weights ------------------------------------------------------------
 * OpenBLAS repacks the weights on every call, which for the per-step products (B rows against a weight
 * matrix of K x 4U) costs about half as much as the product itself. A weight update happens once per
 * training step, so the trainer packs once and runs its own kernel: 8 rows x 32 columns of C in 16
 * AVX-512 registers, A read in place (broadcast), the packed panel [k][32] streamed from L2. Every C
 * element is summed in k order whatever M or the row split, so the halves of a batch round as the whole. */

/* Panels of B (k, n) = src[k * sk + n * sn], k < K, n < N, zero-padded to whole panels. */
static void
rnn_pack(int K, int N, const float *src, size_t sk, size_t sn, float *P)
{
	for (int n0 = 0; n0 < N; n0 += RNN_NR) {
		float *p = P + (size_t)n0 * K;
		int w = N - n0 < RNN_NR ? N - n0 : RNN_NR;
		for (int k = 0; k < K; k++, p += RNN_NR)
			for (int j = 0; j < RNN_NR; j++)
				p[j] = j < w ? src[(size_t)k * sk + (size_t)(n0 + j) * sn] : 0.0f;
	}
}

void
rnn_pack_forward(const struct nn_lstm *l, struct rnn_seq *q, int pre)
{
	int K = l->in, U = l->units, k0 = pre ? K : 0;

	q->pre = pre;
	rnn_pack(K + U - k0, 4 * U, l->kernel + (size_t)k0 * 4 * U, (size_t)4 * U, 1, q->pw);
}

void
rnn_pack_backward(const struct nn_lstm *l, struct rnn_seq *q, int k0)
{
	int K = l->in, U = l->units;

	q->k0 = k0;
	rnn_pack(4 * U, K + U - k0, l->kernel + (size_t)k0 * 4 * U, 1, (size_t)4 * U, q->pwt);
}

/* Scalar twin of the kernel (machines without AVX-512): the same k order per element. */
static void
rnn_gemm_scalar(int M, int N, int K, const float *A, size_t lda, const float *P, float beta, float *C,
    size_t ldc)
{
	for (int n0 = 0; n0 < N; n0 += RNN_NR) {
		const float *p = P + (size_t)n0 * K;
		int w = N - n0 < RNN_NR ? N - n0 : RNN_NR;
		for (int i = 0; i < M; i++)
			for (int j = 0; j < w; j++) {
				float acc = beta != 0.0f ? C[i * ldc + n0 + j] : 0.0f;
				for (int k = 0; k < K; k++)
					acc += A[i * lda + k] * p[(size_t)k * RNN_NR + j];
				C[i * ldc + n0 + j] = acc;
			}
	}
}

#if defined(__x86_64__) && defined(__GNUC__)
#define RNN_AVX512 __attribute__((target("avx512f")))

/* C[8 rows, 32 cols] (+)= A[8, K] . panel, the columns past w masked off; 16 named accumulators (an array
 * would live on the stack at -O2). */
RNN_AVX512 static void
rnn_tile8(int K, const float *A, size_t lda, const float *p, float beta, float *C, size_t ldc, __mmask16 m0,
    __mmask16 m1)
{
#define RNN_C(i) __m512 c##i##0 = beta != 0.0f ? _mm512_maskz_loadu_ps(m0, C + (i) * ldc) : _mm512_setzero_ps(), \
	c##i##1 = beta != 0.0f ? _mm512_maskz_loadu_ps(m1, C + (i) * ldc + 16) : _mm512_setzero_ps()
	RNN_C(0); RNN_C(1); RNN_C(2); RNN_C(3); RNN_C(4); RNN_C(5); RNN_C(6); RNN_C(7);
#undef RNN_C
	for (int k = 0; k < K; k++, p += RNN_NR) {
		__m512 b0 = _mm512_loadu_ps(p), b1 = _mm512_loadu_ps(p + 16), a;
#define RNN_F(i) a = _mm512_set1_ps(A[(i) * lda + k]); c##i##0 = _mm512_fmadd_ps(a, b0, c##i##0); \
	c##i##1 = _mm512_fmadd_ps(a, b1, c##i##1)
		RNN_F(0); RNN_F(1); RNN_F(2); RNN_F(3); RNN_F(4); RNN_F(5); RNN_F(6); RNN_F(7);
#undef RNN_F
	}
#define RNN_S(i) _mm512_mask_storeu_ps(C + (i) * ldc, m0, c##i##0); _mm512_mask_storeu_ps(C + (i) * ldc + 16, m1, c##i##1)
	RNN_S(0); RNN_S(1); RNN_S(2); RNN_S(3); RNN_S(4); RNN_S(5); RNN_S(6); RNN_S(7);
#undef RNN_S
}

/* One row of rnn_tile8 (the rows past a multiple of 8); the same k order. */
RNN_AVX512 static void
rnn_tile1(int K, const float *A, const float *p, float beta, float *C, __mmask16 m0, __mmask16 m1)
{
	__m512 c0 = beta != 0.0f ? _mm512_maskz_loadu_ps(m0, C) : _mm512_setzero_ps();
	__m512 c1 = beta != 0.0f ? _mm512_maskz_loadu_ps(m1, C + 16) : _mm512_setzero_ps();

	for (int k = 0; k < K; k++, p += RNN_NR) {
		__m512 a = _mm512_set1_ps(A[k]);
		c0 = _mm512_fmadd_ps(a, _mm512_loadu_ps(p), c0);
		c1 = _mm512_fmadd_ps(a, _mm512_loadu_ps(p + 16), c1);
	}
	_mm512_mask_storeu_ps(C, m0, c0);
	_mm512_mask_storeu_ps(C + 16, m1, c1);
}

RNN_AVX512 static void
rnn_gemm_avx512(int M, int N, int K, const float *A, size_t lda, const float *P, float beta, float *C,
    size_t ldc)
{
	for (int n0 = 0; n0 < N; n0 += RNN_NR) {
		const float *p = P + (size_t)n0 * K;
		int w = N - n0 < RNN_NR ? N - n0 : RNN_NR, i = 0;
		__mmask16 m0 = w >= 16 ? 0xffff : (__mmask16)((1u << w) - 1);
		__mmask16 m1 = w >= 32 ? 0xffff : w <= 16 ? 0 : (__mmask16)((1u << (w - 16)) - 1);
		for (; i + RNN_MR <= M; i += RNN_MR)
			rnn_tile8(K, A + i * lda, lda, p, beta, C + i * ldc + n0, ldc, m0, m1);
		for (; i < M; i++)
			rnn_tile1(K, A + i * lda, p, beta, C + i * ldc + n0, m0, m1);
	}
}

static int
rnn_have_avx512(void)
{
	static int v = -1;

	if (v < 0) {
		__builtin_cpu_init();
		v = __builtin_cpu_supports("avx512f");
	}
	return v;
}
#endif

/* C [M, N] = A [M, K] . P (+ C when beta = 1), P packed by rnn_pack; beta is 0 or 1. The scalar and
 * AVX-512 paths round differently: one machine, one path. */
static void
rnn_gemm(int M, int N, int K, const float *A, size_t lda, const float *P, float beta, float *C, size_t ldc)
{
#if defined(__x86_64__) && defined(__GNUC__)
	if (rnn_have_avx512()) {
		rnn_gemm_avx512(M, N, K, A, lda, P, beta, C, ldc);
		return;
	}
#endif
	rnn_gemm_scalar(M, N, K, A, lda, P, beta, C, ldc);
}

/* ---- steps ---------------------------------------------------------------------------------------- */

void
rnn_step(const struct nn_lstm *l, struct rnn_seq *q, int B, int s, int r0, int r1)
{
	int K = l->in, U = l->units, M = r1 - r0, k0 = q->pre ? K : 0;
	size_t KU = (size_t)K + U, ld, o = (size_t)s * B + r0;
	float *xh = rnn_xh(q, B, s) + (size_t)r0 * KU, *act = q->act + o * 4 * U, *h = rnn_h(q, B, s, &ld);

	if (M <= 0)
		return;
	rnn_gemm(M, 4 * U, K + U - k0, xh + k0, KU, q->pw, q->pre ? 1.0f : 0.0f, act, (size_t)4 * U);
	for (int r = 0; r < M; r++) {
		size_t row = o + r;
		rnn_cell(U, act + (size_t)r * 4 * U, l->bias, q->c + row * U, q->c + (row + (size_t)B) * U,
		    q->tc + row * U, h + (size_t)(r0 + r) * ld);
	}
}

void
rnn_step_backward(const struct nn_lstm *l, struct rnn_seq *q, int B, int s, int r0, int r1, const float *dh,
    float *dc, float *dx, size_t ldx)
{
	int K = l->in, U = l->units, M = r1 - r0, k0 = q->k0;
	size_t o = (size_t)s * B + r0;
	float *dg = q->act + o * 4 * U;

	if (M <= 0)
		return;
	for (int r = 0; r < M; r++) {
		size_t row = o + r;
		rnn_cell_back(U, dg + (size_t)r * 4 * U, q->c + row * U, q->tc + row * U, dh + (size_t)(r0 + r) * U,
		    dc + (size_t)(r0 + r) * U);
	}
	rnn_gemm(M, K + U - k0, 4 * U, dg, (size_t)4 * U, q->pwt, 0.0f, dx + (size_t)r0 * ldx, ldx);
}

void
rnn_dense_grad(int M, int K, int N, const float *x, size_t ldx, const float *dy, int n0, int n1, float *W,
    float *bias)
{
	if (n1 <= n0 || M <= 0)
		return;
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, n1 - n0, M, 1.0f, x, (int)ldx, dy + n0, N, 1.0f,
	    W + n0, N);
	if (bias == NULL)
		return;
	for (int m = 0; m < M; m++) {
		const float *row = dy + (size_t)m * N;
		for (int j = n0; j < n1; j++)
			bias[j] += row[j];
	}
}

void
rnn_weight_grad(const struct nn_lstm *l, const struct rnn_seq *q, int B, int n0, int n1, struct grad_lstm *g)
{
	int K = l->in, U = l->units;

	rnn_dense_grad(q->T * B, K + U, 4 * U, q->xh, (size_t)K + U, q->act, n0, n1, g->kernel, g->bias);
}

/* ---- fork-join ------------------------------------------------------------------------------------
 * One worker thread, started on first use and kept for the process; a task costs two condition-variable
 * hand-offs (tens of microseconds), against milliseconds of work per task in a training step. */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	void (*fn)(void *, int);
	void *arg;
	unsigned long posted, done;
	int up, failed;
} rnn_pool = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0, 0, 0, 0 };

static void *
rnn_worker(void *unused)
{
	unsigned long seen = 0;

	pthread_mutex_lock(&rnn_pool.lock);
	for (;;) {
		while (rnn_pool.posted == seen)
			pthread_cond_wait(&rnn_pool.cv, &rnn_pool.lock);
		seen = rnn_pool.posted;
		pthread_mutex_unlock(&rnn_pool.lock);
		rnn_pool.fn(rnn_pool.arg, 1);
		pthread_mutex_lock(&rnn_pool.lock);
		rnn_pool.done = seen;
		pthread_cond_broadcast(&rnn_pool.cv);
	}
	return unused;
}

void
rnn_par(void (*fn)(void *, int), void *arg)
{
	pthread_t tid;
	unsigned long id;

	openblas_set_num_threads(1);
	if (nn_get_threads() < 2 || rnn_pool.failed) {
		fn(arg, 0);
		fn(arg, 1);
		return;
	}
	pthread_mutex_lock(&rnn_pool.lock);
	if (!rnn_pool.up && pthread_create(&tid, NULL, rnn_worker, NULL) != 0) {
		rnn_pool.failed = 1;
		pthread_mutex_unlock(&rnn_pool.lock);
		fn(arg, 0);
		fn(arg, 1);
		return;
	}
	rnn_pool.up = 1;
	rnn_pool.fn = fn;
	rnn_pool.arg = arg;
	id = ++rnn_pool.posted;
	pthread_cond_broadcast(&rnn_pool.cv);
	pthread_mutex_unlock(&rnn_pool.lock);
	fn(arg, 0);
	pthread_mutex_lock(&rnn_pool.lock);
	while (rnn_pool.done != id)
		pthread_cond_wait(&rnn_pool.cv, &rnn_pool.lock);
	pthread_mutex_unlock(&rnn_pool.lock);
}
