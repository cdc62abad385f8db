/* SPDX-License-Identifier: GPL-3.0-or-later */
/* dec.c: autoregressive decoding step by step, as magenta.js's Base/Split/ConductorDecoder compute it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dec.h"

/* Dimension legend: B rows, T steps, L layers, U units, D output columns, E embedding, C' controls. */

static void *
dec_alloc(size_t n, int *failed)
{
	void *p = calloc(n ? n : 1, sizeof(float));

	if (p == NULL)
		*failed = 1;
	return p;
}

static size_t
dec_xh_size(const struct nn_lstm *cell, int L, int B)
{
	size_t n = 0;

	for (int l = 0; l < L; l++)
		n += (size_t)B * (cell[l].in + cell[l].units);
	return n;
}

static void
dec_core_alloc(struct dec_core *s, const struct vae_core *c, int B, int *failed)
{
	size_t LBU = (size_t)c->n_layers * B * c->units;

	s->c = dec_alloc(LBU, failed);
	s->h = dec_alloc(LBU, failed);
	s->xh = dec_alloc(dec_xh_size(c->cell, c->n_layers, B), failed);
	s->gates = dec_alloc((size_t)B * 4 * c->units, failed);
	s->logits = dec_alloc((size_t)B * c->proj.out, failed);
	s->prev = dec_alloc((size_t)B * c->depth, failed);
	s->init = dec_alloc((size_t)B * c->init.out, failed);
	s->nade_a = dec_alloc((size_t)B * (c->nade_h + 1), failed);
	s->nade_hh = dec_alloc((size_t)c->nade_h + 1, failed);
}

static void
dec_core_free(struct dec_core *s)
{
	free(s->c);
	free(s->h);
	free(s->xh);
	free(s->gates);
	free(s->logits);
	free(s->prev);
	free(s->init);
	free(s->nade_a);
	free(s->nade_hh);
}

int
dec_init(struct dec *d, const struct vae *m, int max_b)
{
	int failed = 0;
	size_t Uc = m->n_cond ? m->cond[0].units : 0, cpre = 0;

	memset(d, 0, sizeof *d);
	d->m = m;
	d->max_b = max_b;
	d->z = dec_alloc((size_t)max_b * m->z_dim, &failed);
	d->cc = dec_alloc((size_t)m->n_cond * max_b * Uc, &failed);
	d->ch = dec_alloc((size_t)m->n_cond * max_b * Uc, &failed);
	d->cxh = dec_alloc(dec_xh_size(m->cond, m->n_cond, max_b), &failed);
	d->cgates = dec_alloc((size_t)max_b * 4 * Uc, &failed);
	d->cinit = dec_alloc((size_t)max_b * m->cond_init.out, &failed);
	d->ctrl = dec_alloc((size_t)m->num_steps * m->core[0].ctrl, &failed);
	if (m->has_pre)
		cpre = nn_bilstm_scratch(1, m->pre.fw.in, m->pre.fw.units) + 2 * (size_t)m->pre.fw.units;
	d->scratch = dec_alloc(cpre, &failed);
	for (int i = 0; i < m->n_cores; i++)
		dec_core_alloc(&d->core[i], &m->core[i], max_b, &failed);
	d->rng = calloc((size_t)max_b, sizeof *d->rng);
	d->out = dec_alloc((size_t)max_b * m->num_steps * m->out_depth, &failed);
	if (failed || d->rng == NULL) {
		dec_fini(d);
		return -1;
	}
	return 0;
}

void
dec_fini(struct dec *d)
{
	free(d->z);
	free(d->cc);
	free(d->ch);
	free(d->cxh);
	free(d->cgates);
	free(d->cinit);
	free(d->ctrl);
	free(d->scratch);
	for (int i = 0; i < VAE_MAX_CORES; i++)
		dec_core_free(&d->core[i]);
	free(d->rng);
	free(d->out);
	memset(d, 0, sizeof *d);
}

/* s = tanh(dense(init, emb)) split into c0, h0, c1, h1, ... per row (nn.c: shared with training). */
static void
dec_init_state(const struct nn_dense *init, int L, int U, int B, const float *emb, float *tmp,
    float *c, float *h)
{
	nn_init_state(init, L, U, B, emb, tmp, c, h);
}

/* One multiRNNCell step: layer 0's input must already be in the first K0 columns of its xh rows. */
static void
dec_stack_step(const struct nn_lstm *cell, int L, int B, float *xh, float *c, float *h, float *gates)
{
	nn_stack_step(cell, L, B, xh, c, h, gates, NULL);
}

/* Control preprocessing: bi-LSTM over each segment's controls from a fresh state, h_fw_t | h_bw_t. */
static void
dec_prepare_ctrl(struct dec *d, const float *ctrl)
{
	const struct vae *m = d->m;
	int C = m->ctrl_depth, S = m->num_segments, Ls = m->seg_len, Up = m->pre.fw.units;

	if (C == 0)
		return;
	if (!m->has_pre) {
		memcpy(d->ctrl, ctrl, sizeof(float) * m->num_steps * C);
		return;
	}
	for (int s = 0; s < S; s++)
		nn_bilstm_run(&m->pre.fw, &m->pre.bw, 1, Ls, ctrl + (size_t)s * Ls * C, 0, d->scratch,
		    d->ctrl + (size_t)s * Ls * 2 * Up, d->scratch + 2 * Up);
}

int
dec_begin(struct dec *d, int B, const float *z, const float *ctrl, float temperature, uint64_t seed)
{
	const struct vae *m = d->m;

	if (B < 1 || B > d->max_b || (m->ctrl_depth > 0 && ctrl == NULL))
		return -1;
	d->B = B;
	d->t = 0;
	d->temperature = temperature;
	memcpy(d->z, z, sizeof(float) * B * m->z_dim);
	for (int b = 0; b < B; b++)
		rng_seed(&d->rng[b], seed + 0x9e3779b97f4a7c15ULL * (uint64_t)b);
	dec_prepare_ctrl(d, ctrl);
	for (int i = 0; i < m->n_cores; i++)
		memset(d->core[i].prev, 0, sizeof(float) * B * m->core[i].depth);
	if (m->n_cond)
		dec_init_state(&m->cond_init, m->n_cond, m->cond[0].units, B, d->z, d->cinit, d->cc,
		    d->ch);
	return 0;
}

/* Categorical: one-hot of the argmax, or of a draw from softmax(logits / temperature). */
static void
dec_sample_categorical(const float *logits, int D, float tau, struct rng *r, float *y)
{
	int k = nn_argmax(logits, D);

	if (tau > 0.0f) {
		double mx = logits[k] / tau, sum = 0.0, u, acc = 0.0;
		for (int i = 0; i < D; i++)
			sum += exp(logits[i] / tau - mx);
		u = rng_uniform(r) * sum;
		for (k = 0; k < D - 1; k++) {
			acc += exp(logits[k] / tau - mx);
			if (u < acc)
				break;
		}
	}
	memset(y, 0, sizeof(float) * D);
	y[k] = 1.0f;
}

static float
dec_bernoulli(float logit, float tau, struct rng *r)
{
	if (tau > 0.0f)
		return nn_sigmoid(logit / tau) >= rng_uniform(r) ? 1.0f : 0.0f;
	return logit >= 0.0f ? 1.0f : 0.0f;
}

/* Groove: hits | velocities | offsets, magenta.js's GrooveDecoder.sample. */
static void
dec_sample_groove(const float *lg, int D, float tau, struct rng *r, float *y)
{
	int n = D / 3;

	for (int i = 0; i < n; i++) {
		if (tau > 0.0f)
			y[i] = nn_sigmoid(lg[i] / tau) > rng_uniform(r) ? 1.0f : 0.0f;
		else
			y[i] = nn_sigmoid(lg[i]) > 0.5f ? 1.0f : 0.0f;
		y[n + i] = nn_sigmoid(lg[n + i]);
		y[2 * n + i] = nn_tanh(lg[2 * n + i]);
	}
}

/* NADE: logits = enc bias [H] | dec bias [D]; one binary column at a time, each conditioned on the
 * ones before. Deterministic (p >= 0.5) at temperature 0, Bernoulli otherwise. */
static void
dec_sample_nade(const struct vae_core *c, struct dec_core *s, const float *lg, float tau, struct rng *r,
    float *a, float *y)
{
	int H = c->nade_h, D = c->depth;

	memcpy(a, lg, sizeof(float) * H);
	for (int i = 0; i < D; i++) {
		float l, p;
		for (int k = 0; k < H; k++)
			s->nade_hh[k] = nn_sigmoid(a[k]);
		nn_matmul(1, H, 1, s->nade_hh, c->nade_w_dec + (size_t)i * H, &l);
		l = lg[H + i] + l;
		p = tau > 0.0f ? nn_sigmoid(l / tau) : nn_sigmoid(l);
		y[i] = (tau > 0.0f ? p > rng_uniform(r) : p >= 0.5f) ? 1.0f : 0.0f;
		if (i < D - 1)
			for (int k = 0; k < H; k++)
				a[k] = a[k] + y[i] * c->nade_w_enc[(size_t)i * H + k];
	}
}

/* One step of core decoder i for every row: input concat(prev, emb, ctrl_t). */
static void
dec_core_step(struct dec *d, int i, const float *emb, int t)
{
	const struct vae *m = d->m;
	const struct vae_core *c = &m->core[i];
	struct dec_core *s = &d->core[i];
	int B = d->B, D = c->depth, E = c->emb, Cp = c->ctrl, U = c->units;
	int K0 = c->cell[0].in + U;
	float *htop = s->h + (size_t)(c->n_layers - 1) * B * U;

	for (int b = 0; b < B; b++) {
		float *row = s->xh + (size_t)b * K0;
		memcpy(row, s->prev + (size_t)b * D, sizeof(float) * D);
		memcpy(row + D, emb + (size_t)b * E, sizeof(float) * E);
		if (Cp > 0)
			memcpy(row + D + E, d->ctrl + (size_t)t * Cp, sizeof(float) * Cp);
	}
	dec_stack_step(c->cell, c->n_layers, B, s->xh, s->c, s->h, s->gates);
	nn_dense_forward(&c->proj, B, htop, s->logits);
	for (int b = 0; b < B; b++) {
		const float *lg = s->logits + (size_t)b * c->proj.out;
		float *y = s->prev + (size_t)b * D;
		switch (c->kind) {
		case VAE_OUT_CATEGORICAL:
			dec_sample_categorical(lg, D, d->temperature, &d->rng[b], y);
			break;
		case VAE_OUT_BOOLEAN:
			for (int k = 0; k < D; k++)
				y[k] = dec_bernoulli(lg[k], d->temperature, &d->rng[b]);
			break;
		case VAE_OUT_GROOVE:
			dec_sample_groove(lg, D, d->temperature, &d->rng[b], y);
			break;
		case VAE_OUT_NADE:
			dec_sample_nade(c, s, lg, d->temperature, &d->rng[b],
			    s->nade_a + (size_t)b * c->nade_h, y);
			break;
		}
		memcpy(d->out + ((size_t)b * m->num_steps + t) * m->out_depth + c->col0, y,
		    sizeof(float) * D);
	}
}

/* Conductor step on a zero input of width 1; returns its top h [B, Uc], the cores' embedding. */
static const float *
dec_conductor_step(struct dec *d)
{
	const struct vae *m = d->m;
	int B = d->B, Uc = m->cond[0].units;

	for (int b = 0; b < B; b++)
		d->cxh[(size_t)b * (1 + Uc)] = 0.0f;
	dec_stack_step(m->cond, m->n_cond, B, d->cxh, d->cc, d->ch, d->cgates);
	return d->ch + (size_t)(m->n_cond - 1) * B * Uc;
}

int
dec_step(struct dec *d)
{
	const struct vae *m = d->m;
	int t = d->t;
	const float *emb = d->z;

	if (t >= m->num_steps)
		return -1;
	if (m->n_cond)
		emb = d->ch + (size_t)(m->n_cond - 1) * d->B * m->cond[0].units;
	if (t % m->seg_len == 0) {
		if (m->n_cond)
			emb = dec_conductor_step(d);
		for (int i = 0; i < m->n_cores; i++) {
			const struct vae_core *c = &m->core[i];
			dec_init_state(&c->init, c->n_layers, c->units, d->B, emb, d->core[i].init,
			    d->core[i].c, d->core[i].h);
		}
	}
	for (int i = 0; i < m->n_cores; i++)
		dec_core_step(d, i, emb, t);
	d->t = t + 1;
	return t;
}

const float *
dec_row(const struct dec *d, int b, int t)
{
	return d->out + ((size_t)b * d->m->num_steps + t) * d->m->out_depth;
}

int
dec_run(struct dec *d, int B, const float *z, const float *ctrl, float temperature, uint64_t seed,
    float *out)
{
	if (dec_begin(d, B, z, ctrl, temperature, seed) < 0)
		return -1;
	while (dec_step(d) >= 0)
		;
	if (out != NULL)
		memcpy(out, d->out, sizeof(float) * B * d->m->num_steps * d->m->out_depth);
	return 0;
}
