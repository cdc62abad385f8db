/* SPDX-License-Identifier: GPL-3.0-or-later */
/* nn.c: dense and LSTM forward steps; products go to OpenBLAS, or to tfjs's exact summation order. */
#include <math.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "nn.h"
#include "nn_int.h"

/* Dimension legend: B batch rows, T steps, K input width, N output width, U units, L stacked layers. */

#define NN_SPIN 20000           /* polls (~1 ms) before a waiting thread sleeps on its semaphore */

static enum nn_mode nn_mode = NN_FAST;
static int nn_threads = 1;
static int nn_threads_set;

static int nn_pool_start(void);

/* The fast kernels (nn_fast.c) serve this product or step. */
static int
nn_fast_ok(int B)
{
	return nn_mode == NN_FAST && nn_fast_fits(B);
}

void
nn_set_mode(enum nn_mode mode)
{
	nn_mode = mode;
}

enum nn_mode
nn_get_mode(void)
{
	return nn_mode;
}

void
nn_set_threads(int n)
{
	nn_threads = n < 1 ? 1 : n;
	nn_threads_set = 1;
	openblas_set_num_threads(nn_threads);
	if (nn_threads > 1)
		nn_pool_start();
}

int
nn_get_threads(void)
{
	return nn_threads;
}

/* tfjs CPU matMul: per output column, double sums over blocks of 48 rows folded into a float. Rows of W are
 * walked in order with one double accumulator per column, which keeps every column's summation order while
 * reading W contiguously. Zero inputs are skipped (one-hot rows): a +0.0 term never changes a sum that starts
 * at +0.0. The accumulators live in a per-thread buffer that grows on first use, so exact mode allocates
 * once per thread and width; it is for parity checks, not for the real-time path. */
static void
nn_matmul_exact(int B, int K, int N, const float *x, const float *W, float *y)
{
	static _Thread_local double *s;
	static _Thread_local int cap;

	if (N > cap) {
		double *p = realloc(s, sizeof(double) * N);
		if (p == NULL)
			abort();
		s = p;
		cap = N;
	}
	for (int b = 0; b < B; b++) {
		const float *xb = x + (size_t)b * K;
		float *yb = y + (size_t)b * N;
		for (int j = 0; j < N; j++)
			yb[j] = 0.0f;
		for (int k0 = 0; k0 < K; k0 += 48) {
			int k1 = k0 + 48 < K ? k0 + 48 : K;
			for (int j = 0; j < N; j++)
				s[j] = 0.0;
			for (int k = k0; k < k1; k++) {
				const float *w = W + (size_t)k * N;
				double xk = xb[k];
				if (xb[k] == 0.0f)
					continue;
				for (int j = 0; j < N; j++)
					s[j] += xk * (double)w[j];
			}
			for (int j = 0; j < N; j++)
				yb[j] = (float)((double)yb[j] + s[j]);
		}
	}
}

void
nn_matmul(int B, int K, int N, const float *x, const float *W, float *y)
{
	if (nn_mode == NN_EXACT) {
		nn_matmul_exact(B, K, N, x, W, y);
		return;
	}
	if (nn_fast_ok(B) && K <= NN_KLIST_MAX) {
		nn_fast_matmul(B, K, N, x, W, y);
		return;
	}
	if (!nn_threads_set)
		nn_set_threads(nn_threads);
	if (B == 1)
		cblas_sgemv(CblasRowMajor, CblasTrans, K, N, 1.0f, W, N, x, 1, 0.0f, y, 1);
	else
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, N, K, 1.0f, x, K, W, N,
		    0.0f, y, N);
}

void
nn_dense_forward(const struct nn_dense *d, int B, const float *x, float *y)
{
	nn_matmul(B, d->in, d->out, x, d->kernel, y);
	for (int b = 0; b < B; b++) {
		float *yb = y + (size_t)b * d->out;
		for (int j = 0; j < d->out; j++)
			yb[j] = yb[j] + d->bias[j];
	}
}

float
nn_sigmoid(float x)
{
	return (float)(1.0 / (1.0 + exp(-(double)x)));
}

float
nn_tanh(float x)
{
	return (float)tanh((double)x);
}

/* The one LSTM cell every path runs: inference passes cache NULL, training keeps what backward needs. The
 * activations are float-rounded exactly as the products below consume them, so keeping them changes no bit. */
void
nn_lstm_step_cache(const struct nn_lstm *l, int B, float *xh, float *c, float *h, float *gates,
    struct nn_lstm_cache *cache)
{
	int K = l->in, U = l->units;

	if (cache != NULL && cache->xh != xh)
		for (int b = 0; b < B; b++)
			memcpy(cache->xh + (size_t)b * (K + U), xh + (size_t)b * (K + U), sizeof(float) * K);
	if (cache != NULL)
		xh = cache->xh;
	for (int b = 0; b < B; b++)
		memcpy(xh + (size_t)b * (K + U) + K, h + (size_t)b * U, sizeof(float) * U);
	nn_matmul(B, K + U, 4 * U, xh, l->kernel, gates);
	if (nn_mode == NN_FAST) {
		for (int b = 0; b < B; b++) {
			size_t o = (size_t)b * U;
			nn_lstm_cell_fast(U, gates + 4 * o, l->bias, c + o, h + o,
			    cache != NULL ? cache->act + 4 * o : NULL, cache != NULL ? cache->c_prev + o : NULL,
			    cache != NULL ? cache->tanh_c + o : NULL);
		}
		return;
	}
	for (int b = 0; b < B; b++) {
		float *g = gates + (size_t)b * 4 * U, *cb = c + (size_t)b * U, *hb = h + (size_t)b * U;
		for (int u = 0; u < U; u++) {
			float si = nn_sigmoid(g[u] + l->bias[u]);
			float tj = nn_tanh(g[U + u] + l->bias[U + u]);
			float sf = nn_sigmoid((g[2 * U + u] + l->bias[2 * U + u]) + 1.0f);
			float so = nn_sigmoid(g[3 * U + u] + l->bias[3 * U + u]);
			float a = si * tj;
			float k = cb[u] * sf;
			float tc;
			if (cache != NULL) {
				float *act = cache->act + (size_t)b * 4 * U;
				act[u] = si;
				act[U + u] = tj;
				act[2 * U + u] = sf;
				act[3 * U + u] = so;
				cache->c_prev[(size_t)b * U + u] = cb[u];
			}
			cb[u] = a + k;
			tc = nn_tanh(cb[u]);
			hb[u] = tc * so;
			if (cache != NULL)
				cache->tanh_c[(size_t)b * U + u] = tc;
		}
	}
}

void
nn_lstm_step(const struct nn_lstm *l, int B, float *xh, float *c, float *h, float *gates)
{
	nn_lstm_step_cache(l, B, xh, c, h, gates, NULL);
}

size_t
nn_lstm_cache_floats(int B, int K, int U)
{
	return (size_t)B * (K + 7 * (size_t)U);
}

void
nn_lstm_cache_bind(struct nn_lstm_cache *cache, float *mem, int B, int K, int U)
{
	cache->xh = mem;
	cache->act = cache->xh + (size_t)B * (K + U);
	cache->c_prev = cache->act + (size_t)B * 4 * U;
	cache->tanh_c = cache->c_prev + (size_t)B * U;
}

void
nn_stack_step(const struct nn_lstm *cell, int L, int B, float *xh, float *c, float *h, float *gates,
    struct nn_lstm_cache *cache)
{
	for (int l = 0; l < L; l++) {
		int U = cell[l].units;
		float *hl = h + (size_t)l * B * U;
		if (l > 0) {
			int Kp = cell[l - 1].in + cell[l - 1].units, Up = cell[l - 1].units;
			float *xhl = xh + (size_t)B * Kp;
			for (int b = 0; b < B; b++)
				memcpy(xhl + (size_t)b * (cell[l].in + U), h + ((size_t)(l - 1) * B + b) * Up,
				    sizeof(float) * Up);
			xh = xhl;
		}
		nn_lstm_step_cache(&cell[l], B, xh, c + (size_t)l * B * U, hl, gates,
		    cache != NULL ? &cache[l] : NULL);
	}
}

void
nn_init_state(const struct nn_dense *init, int L, int U, int B, const float *emb, float *pre, float *c,
    float *h)
{
	nn_dense_forward(init, B, emb, pre);
	for (int b = 0; b < B; b++) {
		const float *row = pre + (size_t)b * init->out;
		for (int l = 0; l < L; l++)
			for (int u = 0; u < U; u++) {
				c[((size_t)l * B + b) * U + u] = nn_tanh(row[(2 * l) * U + u]);
				h[((size_t)l * B + b) * U + u] = nn_tanh(row[(2 * l + 1) * U + u]);
			}
	}
}

int
nn_argmax(const float *v, int n)
{
	int best = 0;

	for (int i = 1; i < n; i++)
		if (v[i] > v[best])
			best = i;
	return best;
}

size_t
nn_bilstm_scratch(int B, int K, int U)
{
	return (size_t)B * (K + 7 * U);
}

static void
nn_lstm_direction(const struct nn_lstm *l, int dir, int B, int T, const float *x, size_t xstride,
    float *hlast, float *hseq, float *scratch, struct nn_lstm_cache *cache)
{
	int K = l->in, U = l->units;
	float *xh = scratch, *c = xh + (size_t)B * (K + U), *h = c + (size_t)B * U, *g = h + (size_t)B * U;

	memset(c, 0, sizeof(float) * B * U);
	memset(h, 0, sizeof(float) * B * U);
	for (int s = 0; s < T; s++) {
		int t = dir > 0 ? s : T - 1 - s;
		float *in = cache != NULL ? cache[t].xh : xh;
		for (int b = 0; b < B; b++)
			memcpy(in + (size_t)b * (K + U), x + b * xstride + (size_t)t * K, sizeof(float) * K);
		nn_lstm_step_cache(l, B, in, c, h, g, cache != NULL ? &cache[t] : NULL);
		if (hseq != NULL)
			for (int b = 0; b < B; b++)
				memcpy(hseq + ((size_t)b * T + t) * 2 * U + (dir > 0 ? 0 : U),
				    h + (size_t)b * U, sizeof(float) * U);
	}
	for (int b = 0; b < B; b++)
		memcpy(hlast + (size_t)b * 2 * U + (dir > 0 ? 0 : U), h + (size_t)b * U, sizeof(float) * U);
}

void
nn_bilstm_run_cache(const struct nn_lstm *fw, const struct nn_lstm *bw, int B, int T, const float *x,
    size_t xstride, float *hlast, float *hseq, float *scratch, struct nn_lstm_cache *cache_fw,
    struct nn_lstm_cache *cache_bw)
{
	nn_lstm_direction(fw, 1, B, T, x, xstride, hlast, hseq, scratch, cache_fw);
	nn_lstm_direction(bw, -1, B, T, x, xstride, hlast, hseq, scratch, cache_bw);
}

void
nn_bilstm_run(const struct nn_lstm *fw, const struct nn_lstm *bw, int B, int T, const float *x,
    size_t xstride, float *hlast, float *hseq, float *scratch)
{
	nn_bilstm_run_cache(fw, bw, B, T, x, xstride, hlast, hseq, scratch, NULL, NULL);
}

/* ---- the second thread ---------------------------------------------------------------------------
 * One persistent worker, started by nn_set_threads(n >= 2) on machines with the fast kernels. A task is
 * fn(arg, 1) on the worker while the caller runs fn(arg, 0); both sides poll their semaphore for a while
 * before sleeping on it, since decoder steps follow each other within microseconds. Nothing is allocated
 * per task. Callers that find the worker busy (another thread's task) or that are inside a task run
 * alone. */
static struct {
	pthread_t tid;
	sem_t go, done;
	void (*fn)(void *, int);
	void *arg;
	atomic_flag busy;
	int up;
} nn_pool = { .busy = ATOMIC_FLAG_INIT };
static _Thread_local int nn_in_task;
static pthread_mutex_t nn_pool_lock = PTHREAD_MUTEX_INITIALIZER;

static void
nn_sem_wait_spin(sem_t *s)
{
	for (int i = 0; i < NN_SPIN; i++) {
		if (sem_trywait(s) == 0)
			return;
#ifdef NN_X86
		_mm_pause();
#endif
	}
	while (sem_wait(s) != 0)
		;
}

static void *
nn_pool_main(void *arg)
{
	nn_in_task = 1;
	for (;;) {
		nn_sem_wait_spin(&nn_pool.go);
		nn_pool.fn(nn_pool.arg, 1);
		sem_post(&nn_pool.done);
	}
	return arg;
}

static int
nn_pool_start(void)
{
	int rc = 0;

	if (!nn_have_avx2())
		return -1;
	pthread_mutex_lock(&nn_pool_lock);
	if (!nn_pool.up) {
		if (sem_init(&nn_pool.go, 0, 0) != 0 || sem_init(&nn_pool.done, 0, 0) != 0 ||
		    pthread_create(&nn_pool.tid, NULL, nn_pool_main, NULL) != 0)
			rc = -1;
		else
			nn_pool.up = 1;
	}
	pthread_mutex_unlock(&nn_pool_lock);
	return rc;
}

/* Runs fn(arg, 0) here and fn(arg, 1) on the worker; -1 (nothing run) when there is no free worker. */
int
nn_pool_run(void (*fn)(void *, int), void *arg)
{
	if (nn_threads < 2 || nn_in_task || !nn_pool.up || atomic_flag_test_and_set(&nn_pool.busy))
		return -1;
	nn_pool.fn = fn;
	nn_pool.arg = arg;
	sem_post(&nn_pool.go);
	nn_in_task = 1;
	fn(arg, 0);
	nn_in_task = 0;
	nn_sem_wait_spin(&nn_pool.done);
	atomic_flag_clear(&nn_pool.busy);
	return 0;
}

size_t
nn_bilstm_par_scratch(int B, int K, int U)
{
	return 2 * nn_bilstm_scratch(B, K, U);
}

struct nn_bi {
	const struct nn_lstm *l[2];
	int B, T;
	const float *x;
	size_t xstride;
	float *hlast, *hseq, *scratch[2];
};

static void
nn_bi_part(void *arg, int part)
{
	struct nn_bi *a = arg;

	nn_lstm_direction(a->l[part], part ? -1 : 1, a->B, a->T, a->x, a->xstride, a->hlast, a->hseq,
	    a->scratch[part], NULL);
}

void
nn_bilstm_run_par(const struct nn_lstm *fw, const struct nn_lstm *bw, int B, int T, const float *x,
    size_t xstride, float *hlast, float *hseq, float *scratch)
{
	struct nn_bi a = { { fw, bw }, B, T, x, xstride, hlast, hseq,
	    { scratch, scratch + nn_bilstm_scratch(B, fw->in, fw->units) } };

	if (!nn_fast_ok(B) || nn_pool_run(nn_bi_part, &a) < 0) {
		nn_bi_part(&a, 0);
		nn_bi_part(&a, 1);
	}
}
