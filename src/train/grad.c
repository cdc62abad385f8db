/* SPDX-License-Identifier: GPL-3.0-or-later */
/* grad.c: backward passes (dense, LSTM step / sequence / stack / bidirectional, initial state) and the VAE
 * losses; weight gradients are sgemm calls that accumulate (beta = 1). */
#include <math.h>
#include <string.h>

#include <cblas.h>

#include "grad.h"

/* Dimension legend: B batch rows, T steps, K input width, N output width, U units, L layers, Z latent,
 * D classes. */

/* nn.c sets OpenBLAS's thread count on its first product; a backward pass may run before any forward one. */
static void
grad_blas_ready(void)
{
	static int ready;

	if (!ready) {
		nn_set_threads(nn_get_threads());
		ready = 1;
	}
}

/* W [K, N] += x^T [K, B] . dy [B, N]. */
static void
grad_weight_acc(int B, int K, int N, const float *x, const float *dy, float *W)
{
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, N, B, 1.0f, x, K, dy, N, 1.0f, W, N);
}

/* dx [B, K] = beta * dx + dy [B, N] . W^T. */
static void
grad_input(int B, int K, int N, const float *dy, const float *W, float beta, float *dx)
{
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, K, N, 1.0f, dy, N, W, N, beta, dx, K);
}

static void
grad_bias_acc(int B, int N, const float *dy, float *bias)
{
	for (int b = 0; b < B; b++)
		for (int j = 0; j < N; j++)
			bias[j] += dy[(size_t)b * N + j];
}

void
grad_dense_backward(const struct nn_dense *d, int B, const float *x, const float *dy, float *dx,
    struct grad_dense *g)
{
	grad_blas_ready();
	grad_weight_acc(B, d->in, d->out, x, dy, g->kernel);
	grad_bias_acc(B, d->out, dy, g->bias);
	if (dx != NULL)
		grad_input(B, d->in, d->out, dy, d->kernel, 1.0f, dx);
}

/* d(pre-activation gates) of one row from the cached activations; dc becomes dL/dc_{t-1}. */
static void
grad_lstm_gates(int U, const float *act, const float *c_prev, const float *tanh_c, const float *dh, float *dc,
    float *dg)
{
	for (int u = 0; u < U; u++) {
		double si = act[u], tj = act[U + u], sf = act[2 * U + u], so = act[3 * U + u];
		double tc = tanh_c[u], dhu = dh[u];
		double dct = dc[u] + dhu * so * (1.0 - tc * tc);
		dg[u] = (float)(dct * tj * si * (1.0 - si));
		dg[U + u] = (float)(dct * si * (1.0 - tj * tj));
		dg[2 * U + u] = (float)(dct * c_prev[u] * sf * (1.0 - sf));
		dg[3 * U + u] = (float)(dhu * tc * so * (1.0 - so));
		dc[u] = (float)(dct * sf);
	}
}

void
grad_lstm_step_backward(const struct nn_lstm *l, int B, const struct nn_lstm_cache *cache,
    const float *dh, float *dc, float *dgates, float *dxh, struct grad_lstm *g)
{
	int K = l->in, U = l->units;

	grad_blas_ready();
	for (int b = 0; b < B; b++) {
		size_t o = (size_t)b * U;
		grad_lstm_gates(U, cache->act + o * 4, cache->c_prev + o, cache->tanh_c + o, dh + o, dc + o,
		    dgates + o * 4);
	}
	grad_weight_acc(B, K + U, 4 * U, cache->xh, dgates, g->kernel);
	grad_bias_acc(B, 4 * U, dgates, g->bias);
	grad_input(B, K + U, 4 * U, dgates, l->kernel, 0.0f, dxh);
}

size_t
grad_lstm_scratch(int B, int K, int U)
{
	return (size_t)B * (K + 7 * (size_t)U);
}

static void
grad_add_rows(int B, int n, const float *src, size_t src_row, float *dst, size_t dst_row)
{
	for (int b = 0; b < B; b++)
		for (int i = 0; i < n; i++)
			dst[(size_t)b * dst_row + i] += src[(size_t)b * src_row + i];
}

void
grad_lstm_seq_backward(const struct nn_lstm *l, int dir, int B, int T, const struct nn_lstm_cache *cache,
    const float *dhlast, size_t dhlast_row, struct grad_seq dhseq, struct grad_seq dx, float *dh0, float *dc0,
    struct grad_lstm *g, float *scratch)
{
	int K = l->in, U = l->units;
	float *dg = scratch, *dxh = dg + (size_t)B * 4 * U, *dh = dxh + (size_t)B * (K + U);
	float *dc = dh + (size_t)B * U;

	memset(dh, 0, sizeof(float) * B * U);
	memset(dc, 0, sizeof(float) * B * U);
	if (dhlast != NULL)
		grad_add_rows(B, U, dhlast, dhlast_row, dh, U);
	for (int s = T - 1; s >= 0; s--) {
		int t = dir > 0 ? s : T - 1 - s;
		if (dhseq.p != NULL)
			grad_add_rows(B, U, dhseq.p + t * dhseq.step, dhseq.row, dh, U);
		grad_lstm_step_backward(l, B, &cache[t], dh, dc, dg, dxh, g);
		if (dx.p != NULL)
			grad_add_rows(B, K, dxh, K + U, dx.p + t * dx.step, dx.row);
		for (int b = 0; b < B; b++)
			memcpy(dh + (size_t)b * U, dxh + (size_t)b * (K + U) + K, sizeof(float) * U);
	}
	if (dh0 != NULL)
		memcpy(dh0, dh, sizeof(float) * B * U);
	if (dc0 != NULL)
		memcpy(dc0, dc, sizeof(float) * B * U);
}

void
grad_bilstm_backward(const struct nn_lstm *fw, const struct nn_lstm *bw, int B, int T,
    const struct nn_lstm_cache *cache_fw, const struct nn_lstm_cache *cache_bw, const float *dhlast,
    const float *dhseq, float *dx, size_t xstride, struct grad_lstm *gfw, struct grad_lstm *gbw,
    float *scratch)
{
	int U = fw->units;
	struct grad_seq x = { dx, xstride, (size_t)fw->in };
	struct grad_seq hs = { (float *)dhseq, (size_t)T * 2 * U, (size_t)2 * U };

	grad_lstm_seq_backward(fw, 1, B, T, cache_fw, dhlast, (size_t)2 * U, hs, x, NULL, NULL, gfw, scratch);
	if (hs.p != NULL)
		hs.p += U;
	grad_lstm_seq_backward(bw, -1, B, T, cache_bw, dhlast != NULL ? dhlast + U : NULL, (size_t)2 * U, hs, x,
	    NULL, NULL, gbw, scratch);
}

size_t
grad_stack_scratch(const struct nn_lstm *cell, int L, int B)
{
	size_t n = 0;

	for (int l = 0; l < L; l++) {
		size_t k = (size_t)B * (cell[l].in + 5 * (size_t)cell[l].units);
		n = k > n ? k : n;
	}
	return n;
}

void
grad_stack_step_backward(const struct nn_lstm *cell, int L, int B, const struct nn_lstm_cache *cache,
    float *dh, float *dc, float *dx, struct grad_lstm *g, float *scratch)
{
	for (int l = L - 1; l >= 0; l--) {
		int K = cell[l].in, U = cell[l].units;
		float *dg = scratch, *dxh = dg + (size_t)B * 4 * U;
		float *dhl = dh + (size_t)l * B * U, *dcl = dc + (size_t)l * B * U;
		grad_lstm_step_backward(&cell[l], B, &cache[l], dhl, dcl, dg, dxh, &g[l]);
		for (int b = 0; b < B; b++)
			memcpy(dhl + (size_t)b * U, dxh + (size_t)b * (K + U) + K, sizeof(float) * U);
		if (l > 0)
			grad_add_rows(B, K, dxh, K + U, dh + (size_t)(l - 1) * B * cell[l - 1].units, K);
		else if (dx != NULL)
			grad_add_rows(B, K, dxh, K + U, dx, K);
	}
}

void
grad_init_state_backward(const struct nn_dense *init, int L, int U, int B, const float *emb,
    const float *c0, const float *h0, const float *dc0, const float *dh0, float *dpre, float *demb,
    struct grad_dense *g)
{
	for (int b = 0; b < B; b++)
		for (int l = 0; l < L; l++)
			for (int u = 0; u < U; u++) {
				size_t s = ((size_t)l * B + b) * U + u;
				float *row = dpre + (size_t)b * init->out;
				row[2 * l * U + u] = (float)(dc0[s] * (1.0 - (double)c0[s] * c0[s]));
				row[(2 * l + 1) * U + u] = (float)(dh0[s] * (1.0 - (double)h0[s] * h0[s]));
			}
	grad_dense_backward(init, B, emb, dpre, demb, g);
}

double
grad_softmax_xent(int N, int D, const float *logits, const int *target, double scale, float *dlogits)
{
	double loss = 0.0;

	for (int n = 0; n < N; n++) {
		const float *x = logits + (size_t)n * D;
		float *dx = dlogits != NULL ? dlogits + (size_t)n * D : NULL;
		double mx = x[nn_argmax(x, D)], sum = 0.0, lse;
		if (target[n] < 0) {
			if (dx != NULL)
				memset(dx, 0, sizeof(float) * D);
			continue;
		}
		for (int i = 0; i < D; i++)
			sum += exp(x[i] - mx);
		lse = mx + log(sum);
		loss += lse - x[target[n]];
		if (dx == NULL)
			continue;
		for (int i = 0; i < D; i++)
			dx[i] = (float)(scale * (exp(x[i] - lse) - (i == target[n] ? 1.0 : 0.0)));
	}
	return loss;
}

double
grad_groove_loss(int N, const float *logits, const float *target, double scale, float *dlogits, double part[3])
{
	double sum[3] = { 0.0, 0.0, 0.0 };

	for (int n = 0; n < N; n++) {
		const float *x = logits + (size_t)n * 27, *y = target + (size_t)n * 27;
		float *dx = dlogits != NULL ? dlogits + (size_t)n * 27 : NULL;
		for (int k = 0; k < 9; k++) {
			double h = x[k], v = 1.0 / (1.0 + exp(-(double)x[9 + k])), o = tanh((double)x[18 + k]);
			double ev = v - y[9 + k], eo = o - y[18 + k];
			/* log(1 + e^h) - y h, stable on both sides */
			sum[0] += (h > 0.0 ? h + log1p(exp(-h)) : log1p(exp(h))) - y[k] * h;
			sum[1] += ev * ev;
			sum[2] += eo * eo;
			if (dx == NULL)
				continue;
			dx[k] = (float)(scale * (1.0 / (1.0 + exp(-h)) - y[k]));
			dx[9 + k] = (float)(scale * 2.0 * ev * v * (1.0 - v));
			dx[18 + k] = (float)(scale * 2.0 * eo * (1.0 - o * o));
		}
	}
	if (part != NULL)
		for (int i = 0; i < 3; i++)
			part[i] = sum[i];
	return sum[0] + sum[1] + sum[2];
}

void
grad_softplus_forward(size_t n, const float *x, float *y)
{
	for (size_t i = 0; i < n; i++) {
		double v = x[i];
		y[i] = (float)(v > 0.0 ? v + log1p(exp(-v)) : log1p(exp(v)));
	}
}

void
grad_softplus_backward(size_t n, const float *x, const float *dy, float *dx)
{
	for (size_t i = 0; i < n; i++)
		dx[i] += (float)(dy[i] / (1.0 + exp(-(double)x[i])));
}

void
grad_reparam_forward(size_t n, const float *mu, const float *sigma, struct rng *r, float *eps, float *z)
{
	for (size_t i = 0; i < n; i++) {
		if (r != NULL)
			eps[i] = (float)rng_normal(r);
		z[i] = mu[i] + sigma[i] * eps[i];
	}
}

void
grad_reparam_backward(size_t n, const float *eps, const float *dz, float *dmu, float *dsigma)
{
	for (size_t i = 0; i < n; i++) {
		dmu[i] += dz[i];
		dsigma[i] += dz[i] * eps[i];
	}
}

double
grad_kl_free_bits(int B, int Z, const float *mu, const float *sigma, double free_nats, double scale,
    float *dmu, float *dsigma, double *kl_sum)
{
	double cost = 0.0, total = 0.0;

	for (int b = 0; b < B; b++) {
		const float *m = mu + (size_t)b * Z, *s = sigma + (size_t)b * Z;
		double kl = 0.0;
		for (int i = 0; i < Z; i++)
			kl += 0.5 * ((double)m[i] * m[i] + (double)s[i] * s[i] - 1.0) - log(s[i]);
		total += kl;
		/* Below the free nats the cost is the constant 0: no gradient at all, as tf.maximum gives. */
		if (kl <= free_nats)
			continue;
		cost += kl - free_nats;
		if (dmu == NULL || dsigma == NULL)
			continue;
		for (int i = 0; i < Z; i++) {
			dmu[(size_t)b * Z + i] += (float)(scale * m[i]);
			dsigma[(size_t)b * Z + i] += (float)(scale * (s[i] - 1.0 / s[i]));
		}
	}
	if (kl_sum != NULL)
		*kl_sum = total;
	return cost;
}

void
grad_dropout_mask(struct rng *r, size_t n, float keep, float *mask)
{
	for (size_t i = 0; i < n; i++)
		mask[i] = keep >= 1.0f ? 1.0f : rng_uniform(r) < keep ? 1.0f / keep : 0.0f;
}

void
grad_dropout_apply(size_t n, const float *mask, float *x)
{
	for (size_t i = 0; i < n; i++)
		x[i] *= mask[i];
}
