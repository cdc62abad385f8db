/* SPDX-License-Identifier: GPL-3.0-or-later */
/* train.c: one training step of the flat MusicVAE (forward with caches, backward, Adam) and the validation
 * pass; its tensors are set up in train_model.c, the loop, state file and logs are in train_loop.c. A groove
 * model (GrooVAE) feeds and predicts rows of 27 floats [hits | velocities | offsets] where the others use one
 * class per step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <jansson.h>

#include "ckpt_write.h"
#include "err.h"
#include "grad.h"
#include "train.h"
#include "train_int.h"

/* Dimension legend: B batch rows, T steps, D classes (decoder in/out), D_in encoder columns, Z latent,
 * Ue encoder units, Ud decoder units, L decoder layers. Decoder tensors are step-major: [T, B, ...]. */

/* ---- buffers --------------------------------------------------------------------------------------- */

static float *
train_alloc(size_t n, int *failed)
{
	float *p = calloc(n ? n : 1, sizeof(float));

	if (p == NULL)
		*failed = 1;
	return p;
}

int
train_buf_init(struct train_buf *b, const struct train_model *m, int B)
{
	size_t T = (size_t)m->T, Z = (size_t)m->Z, U = (size_t)m->Ud, L = (size_t)m->L, LBU = L * B * U;
	size_t ce = rnn_seq_floats(m->T, B, m->D_in, m->Ue), sq = 2 * ce, dx = 0;
	float *base;
	int failed = 0;

	memset(b, 0, sizeof *b);
	b->B = B;
	for (int l = 0; l < m->L; l++) {
		size_t k = (size_t)B * (m->cell[l].in + U);
		sq += rnn_seq_floats(m->T, B, m->cell[l].in, m->Ud);
		dx = k > dx ? k : dx;
	}
	b->x = train_alloc((size_t)B * T * m->D_in, &failed);
	b->target = calloc((size_t)B * T, sizeof(int));
	b->feed = calloc((size_t)B * T, sizeof(int));
	b->draw = calloc((size_t)B * T, sizeof(double));
	if (b->target == NULL || b->feed == NULL || b->draw == NULL)
		failed = 1;
	b->seqmem = train_alloc(sq, &failed);
	b->edh = train_alloc((size_t)2 * B * m->Ue, &failed);
	b->edc = train_alloc((size_t)2 * B * m->Ue, &failed);
	b->hlast = train_alloc((size_t)B * 2 * m->Ue, &failed);
	b->dhlast = train_alloc((size_t)B * 2 * m->Ue, &failed);
	b->mu = train_alloc(B * Z, &failed);
	b->spre = train_alloc(B * Z, &failed);
	b->sigma = train_alloc(B * Z, &failed);
	b->eps = train_alloc(B * Z, &failed);
	b->z = train_alloc(B * Z, &failed);
	b->dz = train_alloc(B * Z, &failed);
	b->dmu = train_alloc(B * Z, &failed);
	b->dsig = train_alloc(B * Z, &failed);
	b->dspre = train_alloc(B * Z, &failed);
	b->pre = train_alloc(2 * LBU, &failed);
	b->dpre = train_alloc(2 * LBU, &failed);
	b->c0 = train_alloc(LBU, &failed);
	b->h0 = train_alloc(LBU, &failed);
	b->dc = train_alloc(LBU, &failed);
	b->dh = train_alloc(LBU, &failed);
	b->dxin = train_alloc(dx, &failed);
	b->top = train_alloc(T * B * U, &failed);
	b->mask = train_alloc(T * B * U, &failed);
	b->dtop = train_alloc((size_t)B * U, &failed);
	b->logits = train_alloc(T * B * m->D, &failed);
	b->dlogits = train_alloc(T * B * m->D, &failed);
	if (m->kind == DATASET_GROOVE) {
		b->gt = train_alloc(T * B * 27, &failed);
		b->gfeed = train_alloc(T * B * 27, &failed);
	}
	if (failed) {
		train_buf_fini(b);
		return -1;
	}
	base = b->seqmem;
	for (int d = 0; d < 2; d++, base += ce)
		rnn_seq_bind(&b->enc[d], base, m->T, B, m->D_in, m->Ue);
	for (int l = 0; l < m->L; l++) {
		rnn_seq_bind(&b->dec[l], base, m->T, B, m->cell[l].in, m->Ud);
		base += rnn_seq_floats(m->T, B, m->cell[l].in, m->Ud);
	}
	return 0;
}

void
train_buf_fini(struct train_buf *b)
{
	float **f[] = { &b->x, &b->seqmem, &b->edh, &b->edc, &b->hlast, &b->dhlast, &b->mu, &b->spre, &b->sigma,
	    &b->eps, &b->z, &b->dz, &b->dmu, &b->dsig, &b->dspre, &b->pre, &b->dpre, &b->c0, &b->h0, &b->dc,
	    &b->dh, &b->dxin, &b->top, &b->mask, &b->dtop, &b->logits, &b->dlogits, &b->gt, &b->gfeed };

	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		free(*f[i]);
	free(b->target);
	free(b->feed);
	free(b->draw);
	memset(b, 0, sizeof *b);
}

/* ---- forward -------------------------------------------------------------------------------------- */

/* Rows rows[0..B) of d into x, target [T, B]. */
void
train_load_rows(const struct train_model *m, struct train_buf *b, const struct dataset *d, const size_t *rows,
    int B, int kind)
{
	int T = m->T;

	for (int r = 0; r < B; r++) {
		const uint16_t *tok = d->tokens + rows[r] * (size_t)T;
		const int16_t *g = d->groove != NULL ? d->groove + rows[r] * (size_t)T * DATASET_GROOVE_COLS : NULL;
		float *x = b->x + (size_t)r * T * m->D_in;
		train_window_input(kind, tok, g, T, x);
		for (int t = 0; t < T; t++) {
			b->target[t * B + r] = tok[t];
			if (b->gt == NULL)
				continue;
			memcpy(b->gt + ((size_t)t * B + r) * 27, x + (size_t)t * 27, sizeof(float) * 27);
			if (m->humanize)        /* the encoder hears the hits alone */
				memset(x + (size_t)t * 27 + 9, 0, sizeof(float) * 18);
		}
	}
}

/* What the parts of a fork-join (rnn_par) share: part 0 takes the first half of the batch or the forward
 * encoder direction, part 1 the rest. The split does not depend on the thread count, so neither do the
 * results. */
struct train_job {
	const struct train_model *m;
	struct train_buf *b;
	int B;
	const struct train_fwd *f;
	float keep;
};

/* Rows [r0, r1) of y [., N] = x [., K] . kernel + bias, straight to OpenBLAS (nn.c's small-batch kernel
 * would reach for its own worker thread from inside ours). */
static void
train_dense_rows(const struct nn_dense *d, int r0, int r1, const float *x, float *y)
{
	if (r1 <= r0)
		return;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, d->out, d->in, 1.0f, x + (size_t)r0 * d->in,
	    d->in, d->kernel, d->out, 0.0f, y + (size_t)r0 * d->out, d->out);
	for (int r = r0; r < r1; r++)
		for (int j = 0; j < d->out; j++)
			y[(size_t)r * d->out + j] += d->bias[j];
}

/* One encoder direction from the zero state (part 0 forward, 1 backward in time): the input product of
 * all T steps in one GEMM, then the recurrence; its last h into its half of hlast. */
static void
train_encode_dir(void *arg, int dir)
{
	struct train_job *j = arg;
	const struct train_model *m = j->m;
	struct train_buf *b = j->b;
	const struct nn_lstm *l = dir ? &m->ebw : &m->efw;
	struct rnn_seq *q = &b->enc[dir];
	int B = j->B, T = m->T, K = m->D_in, U = m->Ue;
	size_t KU = (size_t)K + U;

	for (int s = 0; s < T; s++) {
		float *xh = rnn_xh(q, B, s);
		int t = dir ? T - 1 - s : s;
		for (int r = 0; r < B; r++)
			memcpy(xh + r * KU, b->x + ((size_t)r * T + t) * K, sizeof(float) * K);
	}
	for (int r = 0; r < B; r++)
		memset(rnn_xh(q, B, 0) + r * KU + K, 0, sizeof(float) * U);
	memset(q->c, 0, sizeof(float) * B * U);
	rnn_input_all(l, q, B);
	rnn_pack_forward(l, q, 1);
	for (int s = 0; s < T; s++)
		rnn_step(l, q, B, s, 0, B);
	for (int r = 0; r < B; r++)
		memcpy(b->hlast + (size_t)r * 2 * U + (size_t)dir * U, q->hlast + (size_t)r * U, sizeof(float) * U);
}

/* hlast, mu, sigma of x; the activations the backward pass needs are always kept (cache is ignored). */
static void
train_encode(const struct train_model *m, struct train_buf *b, int B, int cache)
{
	struct train_job j = { m, b, B, NULL, 1.0f };

	(void)cache;
	rnn_par(train_encode_dir, &j);
	train_dense_rows(&m->mu, 0, B, b->hlast, b->mu);
	train_dense_rows(&m->sigma, 0, B, b->hlast, b->spre);
	grad_softplus_forward((size_t)B * m->Z, b->spre, b->sigma);
}

/* A class drawn from softmax(logits) with the uniform u in [0, 1) (scheduled sampling feeds it back). */
static int
train_draw(const float *lg, int D, double u)
{
	double mx = lg[nn_argmax(lg, D)], sum = 0.0, acc = 0.0;
	int k;

	for (k = 0; k < D; k++)
		sum += exp((double)lg[k] - mx);
	u *= sum;
	for (k = 0; k < D - 1; k++) {
		acc += exp((double)lg[k] - mx);
		if (u < acc)
			break;
	}
	return k;
}

/* The token fed at step t + 1 for row r: the target, a draw (scheduled sampling) or the argmax. */
static int
train_next_feed(const struct train_model *m, const struct train_buf *b, int B, int t, int r,
    const struct train_fwd *f)
{
	const float *lg = b->logits + ((size_t)t * B + r) * m->D;

	if (f->mode == TRAIN_ARGMAX)
		return nn_argmax(lg, m->D);
	if (f->mode == TRAIN_SAMPLED && b->draw[t * B + r] >= 0.0)
		return train_draw(lg, m->D, b->draw[t * B + r]);
	return b->target[t * B + r];
}

/* GrooveConverter's output row of logits lg [27]: hits at p > 0.5, sigmoid velocities, tanh offsets (what
 * the decoder feeds back at inference, magenta.js's argmax path). */
static void
train_groove_activate(const float *lg, float *row)
{
	for (int k = 0; k < 9; k++) {
		row[k] = lg[k] > 0.0f ? 1.0f : 0.0f;
		row[9 + k] = (float)(1.0 / (1.0 + exp(-(double)lg[9 + k])));
		row[18 + k] = (float)tanh((double)lg[18 + k]);
	}
}

/* The groove row fed at step t + 1 for row r: the target, or (argmax, and a scheduled-sampling draw) the
 * model's own activated output. */
static void
train_groove_feed(const struct train_buf *b, int B, int t, int r, const struct train_fwd *f)
{
	size_t i = (size_t)t * B + r;
	float *dst = b->gfeed + (i + (size_t)B) * 27;

	if (f->mode == TRAIN_ARGMAX || (f->mode == TRAIN_SAMPLED && b->draw[t * B + r] >= 0.0))
		train_groove_activate(b->logits + i * 27, dst);
	else
		memcpy(dst, b->gt + i * 27, sizeof(float) * 27);
}

/* Layer l's h_t (rows r0..r1) into the layer above's input, or (top layer) into top. */
static void
train_pass_up(const struct train_model *m, struct train_buf *b, int B, int l, int t, int r0, int r1)
{
	size_t ld, U = (size_t)m->Ud, ldd = l + 1 < m->L ? (size_t)m->cell[l + 1].in + U : U;
	const float *h = rnn_h(&b->dec[l], B, t, &ld);
	float *dst = l + 1 < m->L ? rnn_xh(&b->dec[l + 1], B, t) : b->top + (size_t)t * B * U;

	for (int r = r0; r < r1; r++)
		memcpy(dst + r * ldd, h + r * ld, sizeof(float) * U);
}

/* The decoder over all T steps for one half of the batch: layer 0's input is the fed token's one-hot
 * (zeros at t = 0) and z, as dec.c feeds them. */
static void
train_decode_part(void *arg, int part)
{
	struct train_job *j = arg;
	const struct train_model *m = j->m;
	struct train_buf *b = j->b;
	int B = j->B, D = m->D, Z = m->Z, r0 = part ? B / 2 : 0, r1 = part ? B : B / 2;
	size_t BU = (size_t)B * m->Ud, K0U = (size_t)m->cell[0].in + m->Ud;

	for (int t = 0; t < m->T; t++) {
		float *x0 = rnn_xh(&b->dec[0], B, t), *top = b->top + t * BU;
		for (int r = r0; r < r1; r++) {
			float *row = x0 + r * K0U;
			int k = b->feed[t * B + r];
			if (b->gfeed != NULL && t > 0)
				memcpy(row, b->gfeed + ((size_t)t * B + r) * D, sizeof(float) * D);
			else
				memset(row, 0, sizeof(float) * D);
			if (b->gfeed == NULL && k >= 0)
				row[k] = 1.0f;
			memcpy(row + D, b->z + (size_t)r * Z, sizeof(float) * Z);
		}
		for (int l = 0; l < m->L; l++) {
			rnn_step(&m->cell[l], &b->dec[l], B, t, r0, r1);
			train_pass_up(m, b, B, l, t, r0, r1);
		}
		if (j->f->keep < 1.0f)
			grad_dropout_apply((size_t)(r1 - r0) * m->Ud, b->mask + t * BU + (size_t)r0 * m->Ud,
			    top + (size_t)r0 * m->Ud);
		train_dense_rows(&m->proj, r0, r1, top, b->logits + (size_t)t * B * D);
		for (int r = r0; t + 1 < m->T && r < r1; r++) {
			if (b->gfeed != NULL)
				train_groove_feed(b, B, t, r, j->f);
			else
				b->feed[(t + 1) * B + r] = train_next_feed(m, b, B, t, r, j->f);
		}
	}
}

/* Decoder from z over T steps: logits [T, B, D]. Every random draw (scheduled sampling, dropout) is taken
 * here in one order before the halves run, so the stream does not depend on the threads. */
static void
train_decode(const struct train_model *m, struct train_buf *b, int B, const struct train_fwd *f)
{
	size_t U = (size_t)m->Ud, BU = (size_t)B * U;
	struct train_job j = { m, b, B, f, f->keep };
	int T = m->T;

	nn_init_state(&m->init, m->L, m->Ud, B, b->z, b->pre, b->c0, b->h0);
	for (int l = 0; l < m->L; l++) {
		size_t K = (size_t)m->cell[l].in;
		float *xh = rnn_xh(&b->dec[l], B, 0);
		rnn_pack_forward(&m->cell[l], &b->dec[l], 0);
		memcpy(b->dec[l].c, b->c0 + l * BU, sizeof(float) * BU);
		for (int r = 0; r < B; r++)
			memcpy(xh + r * (K + U) + K, b->h0 + l * BU + r * U, sizeof(float) * U);
	}
	for (int r = 0; r < B; r++)
		b->feed[r] = -1;
	for (int i = 0; i < (T - 1) * B; i++)
		b->draw[i] = f->mode == TRAIN_SAMPLED && f->p_sample > 0.0 && rng_uniform(f->rng) < f->p_sample ?
		    rng_uniform(f->rng) : -1.0;
	if (f->keep < 1.0f)
		grad_dropout_mask(f->rng, (size_t)T * BU, f->keep, b->mask);
	rnn_par(train_decode_part, &j);
}

/* ---- backward ------------------------------------------------------------------------------------- */

static struct grad_lstm
train_glstm(const struct train_model *m, int i)
{
	return (struct grad_lstm){ m->p[i].g, m->p[i + 1].g };
}

static struct grad_dense
train_gdense(const struct train_model *m, int i)
{
	return (struct grad_dense){ m->p[i].g, m->p[i + 1].g };
}

/* dL/dtop of step t (rows r0..r1) into the top layer's dh: dlogits . proj^T, through the dropout mask. */
static void
train_proj_back(const struct train_model *m, struct train_buf *b, int B, int t, int r0, int r1, float keep)
{
	size_t U = (size_t)m->Ud, BU = (size_t)B * U;
	const float *dl = b->dlogits + ((size_t)t * B + r0) * m->D, *mask = b->mask + t * BU + r0 * U;
	float *dtop = b->dh + (size_t)(m->L - 1) * BU + r0 * U, *tmp = b->dtop + r0 * U;

	if (keep >= 1.0f) {
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, m->Ud, m->D, 1.0f, dl, m->D,
		    m->proj.kernel, m->D, 1.0f, dtop, m->Ud);
		return;
	}
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, m->Ud, m->D, 1.0f, dl, m->D, m->proj.kernel,
	    m->D, 0.0f, tmp, m->Ud);
	for (size_t i = 0; i < (size_t)(r1 - r0) * U; i++)
		dtop[i] += tmp[i] * mask[i];
}

/* Decoder steps in reverse for one half of the batch; dz collects from every step, dh and dc end as the
 * initial state's gradients. Layer l's input gradient goes to the layer below's dh (l > 0) or, for its z
 * columns only, to dz (the one-hot columns are data). */
static void
train_decode_back_part(void *arg, int part)
{
	struct train_job *j = arg;
	const struct train_model *m = j->m;
	struct train_buf *b = j->b;
	int B = j->B, U = m->Ud, Z = m->Z, r0 = part ? B / 2 : 0, r1 = part ? B : B / 2, n = r1 - r0;
	size_t BU = (size_t)B * U;

	if (n <= 0)
		return;
	for (int l = 0; l < m->L; l++) {
		memset(b->dh + l * BU + (size_t)r0 * U, 0, sizeof(float) * n * U);
		memset(b->dc + l * BU + (size_t)r0 * U, 0, sizeof(float) * n * U);
	}
	memset(b->dz + (size_t)r0 * Z, 0, sizeof(float) * n * Z);
	for (int t = m->T - 1; t >= 0; t--) {
		train_proj_back(m, b, B, t, r0, r1, j->keep);
		for (int l = m->L - 1; l >= 0; l--) {
			int K = m->cell[l].in, k0 = l ? 0 : m->D, nin = l ? K : Z;
			size_t ldx = (size_t)K + U - k0;
			float *dhl = b->dh + l * BU, *below = l ? b->dh + (l - 1) * BU : b->dz;
			rnn_step_backward(&m->cell[l], &b->dec[l], B, t, r0, r1, dhl, b->dc + l * BU, b->dxin, ldx);
			for (int r = r0; r < r1; r++) {
				const float *dx = b->dxin + r * ldx;
				for (int i = 0; i < nin; i++)
					below[(size_t)r * nin + i] += dx[i];
				memcpy(dhl + (size_t)r * U, dx + (K - k0), sizeof(float) * U);
			}
		}
	}
}

/* The column where part 1's half of an N-column gradient starts (a multiple of 8 for the kernels). */
static int
train_half(int N)
{
	int h = (N / 2 + 7) & ~7;

	return h < N ? h : N;
}

/* Half the columns (part 0 the first, 1 the rest) of every decoder weight gradient: one GEMM over all
 * T B rows per tensor. */
static void
train_decode_wgrad(const struct train_model *m, struct train_buf *b, int B, int part)
{
	for (int l = 0; l < m->L; l++) {
		struct grad_lstm g = train_glstm(m, 8 + 2 * l);
		int N = 4 * m->Ud, h = train_half(N);
		rnn_weight_grad(&m->cell[l], &b->dec[l], B, part ? h : 0, part ? N : h, &g);
	}
	{
		struct grad_dense g = train_gdense(m, 10 + 2 * m->L);
		int N = m->D, h = train_half(N);
		rnn_dense_grad(m->T * B, m->Ud, N, b->top, (size_t)m->Ud, b->dlogits, part ? h : 0, part ? N : h,
		    g.kernel, g.bias);
	}
}

/* One encoder direction backwards from its half of dhlast (no input gradient: x is data), its weight
 * gradient in one GEMM, then half of the decoder's weight gradients. */
static void
train_encode_back_dir(void *arg, int dir)
{
	struct train_job *j = arg;
	const struct train_model *m = j->m;
	struct train_buf *b = j->b;
	const struct nn_lstm *l = dir ? &m->ebw : &m->efw;
	struct rnn_seq *q = &b->enc[dir];
	struct grad_lstm g = train_glstm(m, dir ? 2 : 0);
	int B = j->B, U = m->Ue;
	float *dh = b->edh + (size_t)dir * B * U, *dc = b->edc + (size_t)dir * B * U;

	for (int r = 0; r < B; r++)
		memcpy(dh + (size_t)r * U, b->dhlast + (size_t)r * 2 * U + (size_t)dir * U, sizeof(float) * U);
	memset(dc, 0, sizeof(float) * B * U);
	rnn_pack_backward(l, q, l->in);
	for (int s = m->T - 1; s >= 0; s--)
		rnn_step_backward(l, q, B, s, 0, B, dh, dc, dh, (size_t)U);
	rnn_weight_grad(l, q, B, 0, 4 * U, &g);
	train_decode_wgrad(m, b, B, dir);
}

/* Posterior backwards from dz (KL gradient added here) into dhlast. */
static void
train_posterior_backward(const struct train_model *m, struct train_buf *b, int B, double beta, double free_nats)
{
	size_t BZ = (size_t)B * m->Z;
	struct grad_dense gmu = train_gdense(m, 4), gsg = train_gdense(m, 6);

	memset(b->dmu, 0, sizeof(float) * BZ);
	memset(b->dsig, 0, sizeof(float) * BZ);
	memset(b->dspre, 0, sizeof(float) * BZ);
	memset(b->dhlast, 0, sizeof(float) * B * 2 * m->Ue);
	grad_reparam_backward(BZ, b->eps, b->dz, b->dmu, b->dsig);
	grad_kl_free_bits(B, m->Z, b->mu, b->sigma, free_nats, beta / B, b->dmu, b->dsig, NULL);
	grad_softplus_backward(BZ, b->spre, b->dsig, b->dspre);
	grad_dense_backward(&m->mu, B, b->hlast, b->dmu, b->dhlast, &gmu);
	grad_dense_backward(&m->sigma, B, b->hlast, b->dspre, b->dhlast, &gsg);
}

void
train_grad_batch(struct train_model *m, struct train_buf *b, int B, const struct train_sched *s, struct rng *r,
    struct train_metrics *out)
{
	struct train_fwd f = { TRAIN_SAMPLED, 1, s->p_sample, s->keep, r };
	struct train_job j = { m, b, B, &f, s->keep };
	struct grad_dense gi = train_gdense(m, 8 + 2 * m->L);
	double ce, cost, kl;

	train_encode(m, b, B, 1);
	grad_reparam_forward((size_t)B * m->Z, b->mu, b->sigma, r, b->eps, b->z);
	train_decode(m, b, B, &f);
	ce = m->kind == DATASET_GROOVE ? grad_groove_loss(m->T * B, b->logits, b->gt, 1.0 / B, b->dlogits, NULL) :
	    grad_softmax_xent(m->T * B, m->D, b->logits, b->target, 1.0 / B, b->dlogits);
	cost = grad_kl_free_bits(B, m->Z, b->mu, b->sigma, s->free_nats, 0.0, NULL, NULL, &kl);
	opt_zero_grad(m->p, m->np);
	for (int l = 0; l < m->L; l++)
		rnn_pack_backward(&m->cell[l], &b->dec[l], l ? 0 : m->D);
	rnn_par(train_decode_back_part, &j);
	grad_init_state_backward(&m->init, m->L, m->Ud, B, b->z, b->c0, b->h0, b->dc, b->dh, b->dpre, b->dz, &gi);
	train_posterior_backward(m, b, B, s->beta, s->free_nats);
	rnn_par(train_encode_back_dir, &j);
	out->ce = ce / B;
	out->kl = kl / B;
	out->loss = out->ce + s->beta * cost / B;
	out->norm = 0.0;
}

void
train_step_batch(struct train_model *m, struct train_buf *b, int B, const struct train_sched *s, struct rng *r,
    struct train_metrics *out)
{
	train_grad_batch(m, b, B, s, r, out);
	out->norm = opt_clip_global_norm(m->p, m->np, s->clip, s->clip_to_zero);
	opt_adam_step(m->p, m->np, s->lr, s->t, 0.9, 0.999, 1e-8);
}

/* The class of row i's logits: the argmax, or (groove) the class bits of its hits (logit > 0). */
static int
train_class(const struct train_model *m, const struct train_buf *b, size_t i)
{
	const float *lg = b->logits + i * m->D;
	int c = 0;

	if (m->kind != DATASET_GROOVE)
		return nn_argmax(lg, m->D);
	for (int k = 0; k < 9; k++)
		c |= (lg[k] > 0.0f) << k;
	return c;
}

/* Steps whose class equals the target. */
static long
train_hits(const struct train_model *m, const struct train_buf *b, int B)
{
	long n = 0;

	for (int i = 0; i < m->T * B; i++)
		n += train_class(m, b, (size_t)i) == b->target[i];
	return n;
}

/* Groove: the velocity and offset outputs at the input's hits against the input's, and against mean[2]. Not
 * train_groove_activate's rows: they are rounded to float, these errors are taken in double. */
static void
train_groove_err(const struct train_model *m, const struct train_buf *b, int B, const double *mean,
    struct train_eval *ev)
{
	for (int i = 0; i < m->T * B; i++) {
		const float *lg = b->logits + (size_t)i * 27, *y = b->gt + (size_t)i * 27;
		double dv[9], doff[9];
		for (int k = 0; k < 9; k++) {
			dv[k] = 1.0 / (1.0 + exp(-(double)lg[9 + k])) - y[9 + k];
			doff[k] = tanh((double)lg[18 + k]) - y[18 + k];
		}
		train_eval_groove_err(dv, doff, y, mean, ev);
	}
}

void
train_groove_mean(const struct dataset *d, double mean[2])
{
	struct dataset_groove_stats st;

	dataset_groove_stats(d, DATASET_TRAIN, &st);
	mean[0] = st.vel_input_mean, mean[1] = st.off_mean;
}

/* The argmax reconstruction's tokens of the loaded rows against their inputs into the music metrics. */
static void
train_music(const struct train_model *m, const struct train_buf *b, int B, const struct dataset *d,
    const size_t *rows, struct metrics *mu)
{
	uint16_t out[DATASET_MAX_STEPS];

	for (int r = 0; r < B; r++) {
		for (int t = 0; t < m->T; t++)
			out[t] = (uint16_t)train_class(m, b, (size_t)t * B + r);
		metrics_add(mu, d->tokens + rows[r] * (size_t)m->T, out, m->T);
	}
}

void
train_evaluate(struct train_model *m, struct train_buf *b, const struct dataset *d, const size_t *rows,
    size_t n, int kind, double beta, double free_nats, struct train_eval *ev)
{
	struct train_fwd tf = { TRAIN_TEACHER, 0, 0.0, 1.0f, NULL }, am = { TRAIN_ARGMAX, 0, 0.0, 1.0f, NULL };
	double ce = 0.0, cost = 0.0, kl = 0.0, mean[2], part[3];
	long hit_tf = 0, hit_s = 0;

	metrics_init(&ev->music, kind);
	ev->skipped = 0;
	ev->g_hits = ev->g_vel = ev->g_off = 0.0;
	ev->vel_se = ev->off_se = ev->vel_se_mean = ev->off_se_mean = 0.0;
	ev->g_n = 0;
	train_groove_mean(d, mean);
	for (size_t i = 0; i < n; i += (size_t)b->B) {
		int B = (int)(n - i < (size_t)b->B ? n - i : (size_t)b->B);
		double k1;
		train_load_rows(m, b, d, rows + i, B, kind);
		train_encode(m, b, B, 0);
		memcpy(b->z, b->mu, sizeof(float) * B * m->Z);
		train_decode(m, b, B, &tf);
		if (m->kind == DATASET_GROOVE) {
			ce += grad_groove_loss(m->T * B, b->logits, b->gt, 0.0, NULL, part);
			ev->g_hits += part[0], ev->g_vel += part[1], ev->g_off += part[2];
		} else {
			ce += grad_softmax_xent(m->T * B, m->D, b->logits, b->target, 0.0, NULL);
		}
		hit_tf += train_hits(m, b, B);
		cost += grad_kl_free_bits(B, m->Z, b->mu, b->sigma, free_nats, 0.0, NULL, NULL, &k1);
		kl += k1;
		train_decode(m, b, B, &am);
		hit_s += train_hits(m, b, B);
		train_music(m, b, B, d, rows + i, &ev->music);
		if (m->kind == DATASET_GROOVE)
			train_groove_err(m, b, B, mean, ev);
	}
	if (n > 0)
		ev->g_hits /= (double)n, ev->g_vel /= (double)n, ev->g_off /= (double)n;
	ev->n = (long)n;
	ev->ce = n ? ce / n : 0.0;
	ev->kl = n ? kl / n : 0.0;
	ev->loss = n ? ev->ce + beta * cost / n : 0.0;
	ev->acc_tf = n ? (double)hit_tf / ((double)n * m->T) : 0.0;
	ev->acc_sampled = n ? (double)hit_s / ((double)n * m->T) : 0.0;
}
