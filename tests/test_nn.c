/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_nn.c: products, the LSTM cell and the bidirectional runner against plain scalar code; the exact
 * mode's summation order; sigmoid/tanh rounding. Seeded: TEST_SEED replays. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "rng.h"
#include "tap.h"

static struct rng r;

static void
fill(float *v, size_t n, float scale)
{
	for (size_t i = 0; i < n; i++)
		v[i] = (float)((rng_uniform(&r) * 2.0 - 1.0) * scale);
}

/* The tfjs rule written out once more, independently: per column, blocks of 48 summed in double. */
static float
ref_dot48(const float *x, const float *W, int K, int N, int j)
{
	float acc = 0.0f;

	for (int k0 = 0; k0 < K; k0 += 48) {
		double s = 0.0;
		for (int k = k0; k < K && k < k0 + 48; k++)
			s += (double)x[k] * W[(size_t)k * N + j];
		acc = (float)((double)acc + s);
	}
	return acc;
}

static double
max_rel(const float *a, const float *b, size_t n)
{
	double m = 0, scale = 1e-6;

	for (size_t i = 0; i < n; i++)
		if (fabs(b[i]) > scale)
			scale = fabs(b[i]);
	for (size_t i = 0; i < n; i++)
		if (fabs(a[i] - b[i]) / scale > m)
			m = fabs(a[i] - b[i]) / scale;
	return m;
}

static void
test_matmul(void)
{
	enum { B = 3, K = 137, N = 29 };
	float x[B * K], W[K * N], y[B * N], want[B * N];
	int exact_ok = 1;

	fill(x, B * K, 1.0f);
	fill(W, K * N, 0.5f);
	x[5] = 0.0f;            /* a zero term the exact mode skips */
	for (int b = 0; b < B; b++)
		for (int j = 0; j < N; j++)
			want[b * N + j] = ref_dot48(x + b * K, W, K, N, j);
	nn_set_mode(NN_EXACT);
	nn_matmul(B, K, N, x, W, y);
	for (int i = 0; i < B * N; i++)
		exact_ok &= memcmp(&y[i], &want[i], sizeof(float)) == 0;
	ok(exact_ok, "exact mode reproduces the block-48 double sums bit for bit (B=3)");
	nn_set_mode(NN_FAST);
	nn_matmul(B, K, N, x, W, y);
	ok(max_rel(y, want, B * N) < 1e-5, "OpenBLAS sgemm agrees within 1e-5 (max rel %.2g)",
	    max_rel(y, want, B * N));
	nn_matmul(1, K, N, x, W, y);
	ok(max_rel(y, want, N) < 1e-5, "OpenBLAS sgemv agrees within 1e-5 for one row");
}

/* The fast mode's documented order: per column one fused multiply-add chain over k from 0. */
static float
ref_fma_chain(const float *x, const float *W, int K, int N, int j)
{
	float acc = 0.0f;

	for (int k = 0; k < K; k++)
		acc = fmaf(x[k], W[(size_t)k * N + j], acc);
	return acc;
}

/* Fast products for every B the small-batch kernels take, ragged N, rows of x that are zero in some or all
 * batch rows (one-hot inputs): every value is the one FMA chain, so row b is the same bits in any batch
 * and with one or two threads. */
static void
test_matmul_fast(void)
{
	enum { K = 301, N = 203, BMAX = 8 };
	static float x[BMAX * K], W[K * N], y[BMAX * N], y1[N];
	int chain_ok = 1, alone_ok = 1;

	fill(W, K * N, 0.5f);
	fill(x, BMAX * K, 1.0f);
	for (int b = 0; b < BMAX; b++)
		for (int k = 0; k < 90; k++)     /* a one-hot block: zero but one entry per row */
			x[b * K + k] = k == 7 * b + 3 ? 1.0f : 0.0f;
	for (int b = 0; b < BMAX; b++)
		for (int k = 200; k < 240; k++)  /* rows zero in every batch row: skipped */
			x[b * K + k] = 0.0f;
	nn_set_mode(NN_FAST);
	for (int th = 1; th <= 2; th++) {
		nn_set_threads(th);
		for (int B = 1; B <= BMAX; B++) {
			nn_matmul(B, K, N, x, W, y);
			for (int b = 0; b < B; b++)
				for (int j = 0; j < N; j++) {
					float want = ref_fma_chain(x + b * K, W, K, N, j);
					chain_ok &= memcmp(&y[b * N + j], &want, sizeof want) == 0;
				}
			for (int b = 0; b < B; b++) {
				nn_matmul(1, K, N, x + b * K, W, y1);
				alone_ok &= memcmp(y1, y + b * N, sizeof y1) == 0;
			}
		}
	}
	nn_set_threads(1);
	ok(chain_ok, "fast products are one FMA chain in k order per column, B = 1..8, 1 and 2 threads");
	ok(alone_ok, "fast products: row b of a batch equals the row alone bit for bit, B = 1..8");
}

/* The fast cell's vector lanes (16 and 8 wide) and its scalar tail compute the same bits: units 0, 16 and
 * 24 of a 25-unit cell get identical weights, so their c and h must be identical. */
static void
test_cell_lanes(void)
{
	enum { K = 12, U = 25, B = 3 };
	static float kern[(K + U) * 4 * U], bias[4 * U], xh[B * (K + U)], c[B * U], h[B * U], g[B * 4 * U];
	struct nn_lstm l = { kern, bias, K, U };
	int same = 1;

	fill(kern, sizeof kern / sizeof kern[0], 0.4f);
	fill(bias, 4 * U, 0.3f);
	for (int q = 0; q < 4; q++)
		for (int u = 16; u <= 24; u += 8) {
			bias[q * U + u] = bias[q * U];
			for (int k = 0; k < K + U; k++)
				kern[k * 4 * U + q * U + u] = kern[k * 4 * U + q * U];
		}
	fill(c, B * U, 2.0f);
	fill(h, B * U, 1.0f);
	for (int b = 0; b < B; b++)
		c[b * U + 16] = c[b * U + 24] = c[b * U];
	nn_set_mode(NN_FAST);
	for (int t = 0; t < 3; t++) {
		fill(xh, B * (K + U), 3.0f);
		nn_lstm_step(&l, B, xh, c, h, g);
		for (int b = 0; b < B; b++)
			for (int u = 16; u <= 24; u += 8)
				same &= memcmp(&c[b * U], &c[b * U + u], sizeof(float)) == 0 &&
				    memcmp(&h[b * U], &h[b * U + u], sizeof(float)) == 0;
	}
	ok(same, "fast LSTM cell: 16-lane, 8-lane and scalar units give the same bits");
}

/* h, c after one step of the cell written with scalar code from the formula in the reference notes. */
static void
ref_lstm(const float *kern, const float *bias, int K, int U, const float *x, float *c, float *h)
{
	float xh[64], g[4 * 16], cn[16], hn[16];

	memcpy(xh, x, sizeof(float) * K);
	memcpy(xh + K, h, sizeof(float) * U);
	for (int j = 0; j < 4 * U; j++)
		g[j] = ref_dot48(xh, kern, K + U, 4 * U, j) + bias[j];
	for (int u = 0; u < U; u++) {
		float i = g[u], jj = g[U + u], f = g[2 * U + u], o = g[3 * U + u];
		float a = (float)(1.0 / (1.0 + exp(-(double)i))) * (float)tanh((double)jj);
		float k = c[u] * (float)(1.0 / (1.0 + exp(-(double)(f + 1.0f))));
		cn[u] = a + k;
		hn[u] = (float)tanh((double)cn[u]) * (float)(1.0 / (1.0 + exp(-(double)o)));
	}
	memcpy(c, cn, sizeof(float) * U);
	memcpy(h, hn, sizeof(float) * U);
}

static void
test_lstm(void)
{
	enum { K = 40, U = 16, T = 6 };
	float kern[(K + U) * 4 * U], bias[4 * U], x[T * K];
	float c[U] = { 0 }, h[U] = { 0 }, rc[U] = { 0 }, rh[U] = { 0 };
	float xh[K + U], gates[4 * U], hlast[2 * U], hseq[T * 2 * U], scratch[K + 7 * U];
	struct nn_lstm l = { kern, bias, K, U };
	int same = 1;

	fill(kern, sizeof kern / sizeof kern[0], 0.3f);
	fill(bias, 4 * U, 0.2f);
	fill(x, T * K, 1.0f);
	nn_set_mode(NN_EXACT);
	for (int t = 0; t < T; t++) {
		memcpy(xh, x + t * K, sizeof(float) * K);
		nn_lstm_step(&l, 1, xh, c, h, gates);
		ref_lstm(kern, bias, K, U, x + t * K, rc, rh);
	}
	same = memcmp(c, rc, sizeof c) == 0 && memcmp(h, rh, sizeof h) == 0;
	ok(same, "LSTM cell (exact mode) equals the scalar formula bit for bit over %d steps", T);
	/* fw run = the steps above; bw with the same weights = the same steps in reverse. */
	nn_bilstm_run(&l, &l, 1, T, x, 0, hlast, hseq, scratch);
	ok(memcmp(hlast, h, sizeof h) == 0, "bi-LSTM forward half ends in the same h");
	ok(memcmp(hseq + (T - 1) * 2 * U, h, sizeof h) == 0, "per-step output holds h_fw at the last step");
	memset(rc, 0, sizeof rc);
	memset(rh, 0, sizeof rh);
	for (int t = T - 1; t >= 0; t--)
		ref_lstm(kern, bias, K, U, x + t * K, rc, rh);
	ok(memcmp(hlast + U, rh, sizeof rh) == 0, "bi-LSTM backward half runs t = T-1 .. 0");
	ok(memcmp(hseq + U, rh, sizeof rh) == 0, "per-step backward output at t = 0 is its final h");
	nn_set_mode(NN_FAST);
}

static void
test_pointwise(void)
{
	is_float(nn_sigmoid(0.0f), 0.5, 0, "sigmoid(0) = 0.5");
	ok(nn_sigmoid(-100.0f) >= 0.0f && nn_sigmoid(100.0f) == 1.0f, "sigmoid saturates without NaN");
	ok(nn_tanh(1e-30f) == 1e-30f, "tanh keeps tiny values");
	ok(nn_sigmoid(0.3f) == (float)(1.0 / (1.0 + exp(-0.3))), "sigmoid rounds once from double");
	{
		float v[5] = { 1, 3, 2, 3, 0 };
		is_int(nn_argmax(v, 5), 1, "argmax takes the first of equal maxima");
	}
}

int
main(void)
{
	const char *s = getenv("TEST_SEED");
	uint64_t seed = s ? strtoull(s, NULL, 10) : 12345;

	plan(16);
	diag("seed %llu (TEST_SEED replays)", (unsigned long long)seed);
	rng_seed(&r, seed);
	test_matmul();
	test_matmul_fast();
	test_cell_lanes();
	test_lstm();
	test_pointwise();
	return done_testing();
}
