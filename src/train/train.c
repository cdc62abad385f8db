/* SPDX-License-Identifier: GPL-3.0-or-later */
/* train.c: the flat MusicVAE's trainable tensors and one training step (forward with caches, backward, Adam),
 * plus the validation pass; the loop, state file and logs are in train_loop.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt_write.h"
#include "grad.h"
#include "train.h"
#include "train_int.h"

/* Dimension legend: B batch rows, T steps, D classes (decoder in/out), D_in encoder columns, Z latent,
 * Ue encoder units, Ud decoder units, L decoder layers. Decoder tensors are step-major: [T, B, ...]. */

void
train_hp_init(struct train_hp *hp, int kind)
{
	memset(hp, 0, sizeof *hp);
	hp->kind = kind;
	hp->z = 128;
	hp->enc_units = 256;
	hp->dec_units = 256;
	hp->dec_layers = 2;
	hp->batch = 64;
	hp->steps = 20000;
	hp->lr = 1e-3;
	hp->decay = 0.9999;
	hp->min_lr = 1e-5;
	hp->max_beta = 0.2;
	hp->beta_rate = 0.99999;
	hp->free_bits = kind == DATASET_DRUMS ? 48.0 : 0.0;
	hp->clip = 1.0;
	hp->clip_to_zero = 10000.0;
	hp->sampling = OPT_SAMPLING_INVERSE_SIGMOID;
	hp->sampling_rate = 1000.0;
	hp->keep = 1.0;
	hp->patience = 0;
	hp->eval_every = 500;
	hp->log_every = 50;
	hp->save_every = 1000;
	hp->valid_max = 2048;
	hp->seed = 1;
	hp->threads = 1;
}

static int
train_add(struct train_model *m, const char *name, int rows, int cols)
{
	size_t n = (size_t)rows * (cols ? cols : 1);
	float *w = calloc(n, sizeof(float));
	int i = m->np;

	if (w == NULL || (m->name[i] = strdup(name)) == NULL || opt_param_init(&m->p[i], w, n, m->name[i]) < 0) {
		free(w);
		return -1;
	}
	m->shape[i][0] = rows;
	m->shape[i][1] = cols;
	m->np++;
	return 0;
}

/* Glorot-uniform kernel (TF's default) or N(0, sd) when sd > 0; biases stay zero. */
static void
train_fill(struct opt_param *p, const int *shape, double sd, struct rng *r)
{
	double lim = sqrt(6.0 / (shape[0] + shape[1]));

	for (size_t k = 0; k < p->n; k++)
		p->w[k] = (float)(sd > 0.0 ? sd * rng_normal(r) : (rng_uniform(r) * 2.0 - 1.0) * lim);
}

static int
train_add_pair(struct train_model *m, const char *prefix, int rows, int cols, double sd, struct rng *r)
{
	char n[256];

	snprintf(n, sizeof n, "%skernel", prefix);
	if (train_add(m, n, rows, cols) < 0)
		return -1;
	train_fill(&m->p[m->np - 1], m->shape[m->np - 1], sd, r);
	snprintf(n, sizeof n, "%sbias", prefix);
	return train_add(m, n, cols, 0);
}

static void
train_bind(struct train_model *m)
{
	int L = m->L;

#define W(i) (m->p[i].w)
	m->efw = (struct nn_lstm){ W(0), W(1), m->D_in, m->Ue };
	m->ebw = (struct nn_lstm){ W(2), W(3), m->D_in, m->Ue };
	m->mu = (struct nn_dense){ W(4), W(5), 2 * m->Ue, m->Z };
	m->sigma = (struct nn_dense){ W(6), W(7), 2 * m->Ue, m->Z };
	for (int l = 0; l < L; l++)
		m->cell[l] = (struct nn_lstm){ W(8 + 2 * l), W(9 + 2 * l), l ? m->Ud : m->D + m->Z, m->Ud };
	m->init = (struct nn_dense){ W(8 + 2 * L), W(9 + 2 * L), m->Z, 2 * L * m->Ud };
	m->proj = (struct nn_dense){ W(10 + 2 * L), W(11 + 2 * L), m->Ud, m->D };
#undef W
}

int
train_model_init(struct train_model *m, const struct train_hp *hp, char *err, size_t errlen)
{
	const char *enc = "encoder/cell_0/bidirectional_rnn/%s/multi_rnn_cell/cell_0/lstm_cell/";
	char p[256];
	struct rng r;
	int rc = 0;

	memset(m, 0, sizeof *m);
	if (hp->dec_layers < 1 || hp->dec_layers > TRAIN_MAX_LAYERS) {
		snprintf(err, errlen, "decoder layers %d: 1 to %d", hp->dec_layers, TRAIN_MAX_LAYERS);
		return -1;
	}
	m->T = 32;
	m->D = hp->kind == DATASET_DRUMS ? DATASET_DRUM_CLASSES : DATASET_MEL_CLASSES;
	m->D_in = hp->kind == DATASET_DRUMS ? 10 : DATASET_MEL_CLASSES;
	m->Z = hp->z;
	m->Ue = hp->enc_units;
	m->Ud = hp->dec_units;
	m->L = hp->dec_layers;
	rng_seed(&r, hp->seed ^ 0x5eed1417a11ce5ULL);
	for (int d = 0; d < 2; d++) {
		snprintf(p, sizeof p, enc, d ? "bw" : "fw");
		rc |= train_add_pair(m, p, m->D_in + m->Ue, 4 * m->Ue, 0.0, &r);
	}
	rc |= train_add_pair(m, "encoder/mu/", 2 * m->Ue, m->Z, 0.001, &r);
	rc |= train_add_pair(m, "encoder/sigma/", 2 * m->Ue, m->Z, 0.001, &r);
	for (int l = 0; l < m->L && rc == 0; l++) {
		snprintf(p, sizeof p, "decoder/multi_rnn_cell/cell_%d/lstm_cell/", l);
		rc |= train_add_pair(m, p, (l ? m->Ud : m->D + m->Z) + m->Ud, 4 * m->Ud, 0.0, &r);
	}
	rc |= train_add_pair(m, "decoder/z_to_initial_state/", m->Z, 2 * m->L * m->Ud, 0.001, &r);
	rc |= train_add_pair(m, "decoder/output_projection/", m->Ud, m->D, 0.0, &r);
	if (rc != 0) {
		train_model_fini(m);
		snprintf(err, errlen, "out of memory for the model");
		return -1;
	}
	train_bind(m);
	return 0;
}

void
train_model_fini(struct train_model *m)
{
	for (int i = 0; i < m->np; i++) {
		free(m->p[i].w);
		opt_param_fini(&m->p[i]);
		free(m->name[i]);
	}
	memset(m, 0, sizeof *m);
}

int
train_model_write(const struct train_model *m, const char *dir, char *err, size_t errlen)
{
	struct ckpt_wtensor t[TRAIN_MAX_PARAMS];
	char cfg[256];

	for (int i = 0; i < m->np; i++) {
		t[i] = (struct ckpt_wtensor){ m->name[i], m->shape[i][1] ? 2 : 1, { m->shape[i][0],
		    m->shape[i][1] }, m->p[i].w };
	}
	if (m->D == DATASET_DRUM_CLASSES)
		snprintf(cfg, sizeof cfg, "{\"type\": \"MusicVAE\", \"dataConverter\": {\"type\": \"DrumsConverter\", "
		    "\"args\": {\"numSteps\": %d}}}\n", m->T);
	else
		snprintf(cfg, sizeof cfg, "{\"type\": \"MusicVAE\", \"dataConverter\": {\"type\": \"MelodyConverter\", "
		    "\"args\": {\"numSteps\": %d, \"minPitch\": %d, \"maxPitch\": %d}}}\n", m->T, DATASET_MIN_PITCH,
		    DATASET_MAX_PITCH);
	return ckpt_write(dir, cfg, t, (size_t)m->np, CKPT_FLOAT32, 0, err, errlen);
}

void
train_window_input(int kind, const uint16_t *tok, int T, float *x)
{
	int D = kind == DATASET_DRUMS ? 10 : DATASET_MEL_CLASSES;

	memset(x, 0, sizeof(float) * T * D);
	for (int t = 0; t < T; t++) {
		float *row = x + (size_t)t * D;
		if (kind != DATASET_DRUMS) {
			row[tok[t]] = 1.0f;
			continue;
		}
		for (int k = 0; k < 9; k++)
			row[k] = (tok[t] >> k) & 1 ? 1.0f : 0.0f;
		row[9] = tok[t] == 0 ? 1.0f : 0.0f;    /* Python Magenta's "no hit" column */
	}
}

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
	size_t ce = nn_lstm_cache_floats(B, m->D_in, m->Ue), cd = 0, xh = 0, sc;
	int failed = 0;

	memset(b, 0, sizeof *b);
	b->B = B;
	for (int l = 0; l < m->L; l++) {
		cd += nn_lstm_cache_floats(B, m->cell[l].in, m->Ud);
		xh += (size_t)B * (m->cell[l].in + m->Ud);
	}
	sc = grad_stack_scratch(m->cell, m->L, B);
	sc = fmax(sc, grad_lstm_scratch(B, m->D_in, m->Ue));
	sc = fmax(sc, nn_bilstm_scratch(B, m->D_in, m->Ue));
	b->x = train_alloc((size_t)B * T * m->D_in, &failed);
	b->target = calloc((size_t)B * T, sizeof(int));
	b->feed = calloc((size_t)B * T, sizeof(int));
	b->cmem = train_alloc(2 * T * ce + T * cd, &failed);
	b->cef = calloc(T, sizeof *b->cef);
	b->ceb = calloc(T, sizeof *b->ceb);
	b->cd = calloc(T * L, sizeof *b->cd);
	if (b->target == NULL || b->feed == NULL || b->cef == NULL || b->ceb == NULL || b->cd == NULL)
		failed = 1;
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
	b->c = train_alloc(LBU, &failed);
	b->h = train_alloc(LBU, &failed);
	b->c0 = train_alloc(LBU, &failed);
	b->h0 = train_alloc(LBU, &failed);
	b->dc = train_alloc(LBU, &failed);
	b->dh = train_alloc(LBU, &failed);
	b->xh = train_alloc(xh, &failed);
	b->dxin = train_alloc((size_t)B * m->cell[0].in, &failed);
	b->gates = train_alloc((size_t)B * 4 * U, &failed);
	b->top = train_alloc(T * B * U, &failed);
	b->mask = train_alloc(T * B * U, &failed);
	b->dtop = train_alloc((size_t)B * U, &failed);
	b->logits = train_alloc(T * B * m->D, &failed);
	b->dlogits = train_alloc(T * B * m->D, &failed);
	b->scratch = train_alloc(sc, &failed);
	if (failed) {
		train_buf_fini(b);
		return -1;
	}
	for (size_t t = 0; t < T; t++) {
		float *base = b->cmem + t * (2 * ce + cd);
		nn_lstm_cache_bind(&b->cef[t], base, B, m->D_in, m->Ue);
		nn_lstm_cache_bind(&b->ceb[t], base + ce, B, m->D_in, m->Ue);
		base += 2 * ce;
		for (int l = 0; l < m->L; l++) {
			nn_lstm_cache_bind(&b->cd[t * L + l], base, B, m->cell[l].in, m->Ud);
			base += nn_lstm_cache_floats(B, m->cell[l].in, m->Ud);
		}
	}
	return 0;
}

void
train_buf_fini(struct train_buf *b)
{
	float **f[] = { &b->x, &b->cmem, &b->hlast, &b->dhlast, &b->mu, &b->spre, &b->sigma, &b->eps, &b->z,
	    &b->dz, &b->dmu, &b->dsig, &b->dspre, &b->pre, &b->dpre, &b->c, &b->h, &b->c0, &b->h0, &b->dc, &b->dh,
	    &b->xh, &b->dxin, &b->gates, &b->top, &b->mask, &b->dtop, &b->logits, &b->dlogits, &b->scratch };

	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		free(*f[i]);
	free(b->target);
	free(b->feed);
	free(b->cef);
	free(b->ceb);
	free(b->cd);
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
		train_window_input(kind, tok, T, b->x + (size_t)r * T * m->D_in);
		for (int t = 0; t < T; t++)
			b->target[t * B + r] = tok[t];
	}
}

/* hlast, mu, sigma of x (caches filled when cache). */
static void
train_encode(const struct train_model *m, struct train_buf *b, int B, int cache)
{
	nn_bilstm_run_cache(&m->efw, &m->ebw, B, m->T, b->x, (size_t)m->T * m->D_in, b->hlast, NULL, b->scratch,
	    cache ? b->cef : NULL, cache ? b->ceb : NULL);
	nn_dense_forward(&m->mu, B, b->hlast, b->mu);
	nn_dense_forward(&m->sigma, B, b->hlast, b->spre);
	grad_softplus_forward((size_t)B * m->Z, b->spre, b->sigma);
}

/* A class drawn from softmax(logits) (scheduled sampling feeds it back). */
static int
train_draw(const float *lg, int D, struct rng *r)
{
	double mx = lg[nn_argmax(lg, D)], sum = 0.0, u, acc = 0.0;
	int k;

	for (k = 0; k < D; k++)
		sum += exp((double)lg[k] - mx);
	u = rng_uniform(r) * sum;
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
	if (f->p_sample > 0.0 && rng_uniform(f->rng) < f->p_sample)
		return train_draw(lg, m->D, f->rng);
	return b->target[t * B + r];
}

/* Layer 0's input rows: one-hot of the fed token (zeros at t = 0) then z, as dec.c feeds them. */
static void
train_feed_rows(const struct train_model *m, struct train_buf *b, int B, int t)
{
	int K0 = m->cell[0].in + m->Ud;

	for (int r = 0; r < B; r++) {
		float *row = b->xh + (size_t)r * K0;
		int k = b->feed[t * B + r];
		memset(row, 0, sizeof(float) * m->D);
		if (k >= 0)
			row[k] = 1.0f;
		memcpy(row + m->D, b->z + (size_t)r * m->Z, sizeof(float) * m->Z);
	}
}

/* Decoder from z over T steps: logits [T, B, D]. */
static void
train_decode(const struct train_model *m, struct train_buf *b, int B, const struct train_fwd *f)
{
	size_t BU = (size_t)B * m->Ud, LBU = (size_t)m->L * BU;
	int T = m->T;

	nn_init_state(&m->init, m->L, m->Ud, B, b->z, b->pre, b->c, b->h);
	memcpy(b->c0, b->c, sizeof(float) * LBU);
	memcpy(b->h0, b->h, sizeof(float) * LBU);
	for (int r = 0; r < B; r++)
		b->feed[r] = -1;
	for (int t = 0; t < T; t++) {
		float *top = b->top + t * BU, *mask = b->mask + t * BU;
		train_feed_rows(m, b, B, t);
		nn_stack_step(m->cell, m->L, B, b->xh, b->c, b->h, b->gates,
		    f->cache ? b->cd + (size_t)t * m->L : NULL);
		memcpy(top, b->h + LBU - BU, sizeof(float) * BU);
		if (f->keep < 1.0f) {
			grad_dropout_mask(f->rng, BU, f->keep, mask);
			grad_dropout_apply(BU, mask, top);
		}
		nn_dense_forward(&m->proj, B, top, b->logits + (size_t)t * B * m->D);
		for (int r = 0; t + 1 < T && r < B; r++)
			b->feed[(t + 1) * B + r] = train_next_feed(m, b, B, t, r, f);
	}
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

/* Decoder steps in reverse, then the initial state; dz collects from both. dlogits already set. */
static void
train_decode_backward(const struct train_model *m, struct train_buf *b, int B, float keep)
{
	size_t BU = (size_t)B * m->Ud, LBU = (size_t)m->L * BU;
	int L = m->L, K0 = m->cell[0].in;
	struct grad_lstm gc[TRAIN_MAX_LAYERS];
	struct grad_dense gp = train_gdense(m, 10 + 2 * L), gi = train_gdense(m, 8 + 2 * L);
	float *dtop = b->dh + LBU - BU;

	for (int l = 0; l < L; l++)
		gc[l] = train_glstm(m, 8 + 2 * l);
	memset(b->dh, 0, sizeof(float) * LBU);
	memset(b->dc, 0, sizeof(float) * LBU);
	memset(b->dz, 0, sizeof(float) * B * m->Z);
	for (int t = m->T - 1; t >= 0; t--) {
		const float *dl = b->dlogits + (size_t)t * B * m->D, *top = b->top + t * BU;
		if (keep < 1.0f) {
			memset(b->dtop, 0, sizeof(float) * BU);
			grad_dense_backward(&m->proj, B, top, dl, b->dtop, &gp);
			grad_dropout_apply(BU, b->mask + t * BU, b->dtop);
			for (size_t i = 0; i < BU; i++)
				dtop[i] += b->dtop[i];
		} else
			grad_dense_backward(&m->proj, B, top, dl, dtop, &gp);
		memset(b->dxin, 0, sizeof(float) * B * K0);
		grad_stack_step_backward(m->cell, L, B, b->cd + (size_t)t * L, b->dh, b->dc, b->dxin, gc, b->scratch);
		for (int r = 0; r < B; r++)
			for (int i = 0; i < m->Z; i++)
				b->dz[r * m->Z + i] += b->dxin[(size_t)r * K0 + m->D + i];
	}
	grad_init_state_backward(&m->init, L, m->Ud, B, b->z, b->c0, b->h0, b->dc, b->dh, b->dpre, b->dz, &gi);
}

/* Posterior and encoder backwards from dz (KL gradient added here). */
static void
train_encode_backward(const struct train_model *m, struct train_buf *b, int B, double beta, double free_nats)
{
	size_t BZ = (size_t)B * m->Z;
	struct grad_lstm gf = train_glstm(m, 0), gb = train_glstm(m, 2);
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
	grad_bilstm_backward(&m->efw, &m->ebw, B, m->T, b->cef, b->ceb, b->dhlast, NULL, NULL, 0, &gf, &gb,
	    b->scratch);
}

void
train_step_batch(struct train_model *m, struct train_buf *b, int B, const struct train_sched *s, struct rng *r,
    struct train_metrics *out)
{
	struct train_fwd f = { TRAIN_SAMPLED, 1, s->p_sample, s->keep, r };
	double ce, cost, kl;

	train_encode(m, b, B, 1);
	grad_reparam_forward((size_t)B * m->Z, b->mu, b->sigma, r, b->eps, b->z);
	train_decode(m, b, B, &f);
	ce = grad_softmax_xent(m->T * B, m->D, b->logits, b->target, 1.0 / B, b->dlogits);
	cost = grad_kl_free_bits(B, m->Z, b->mu, b->sigma, s->free_nats, 0.0, NULL, NULL, &kl);
	opt_zero_grad(m->p, m->np);
	train_decode_backward(m, b, B, s->keep);
	train_encode_backward(m, b, B, s->beta, s->free_nats);
	out->norm = opt_clip_global_norm(m->p, m->np, s->clip, s->clip_to_zero);
	opt_adam_step(m->p, m->np, s->lr, s->t, 0.9, 0.999, 1e-8);
	out->ce = ce / B;
	out->kl = kl / B;
	out->loss = out->ce + s->beta * cost / B;
}

/* Steps where argmax(logits) equals the target. */
static long
train_hits(const struct train_model *m, const struct train_buf *b, int B)
{
	long n = 0;

	for (int i = 0; i < m->T * B; i++)
		n += nn_argmax(b->logits + (size_t)i * m->D, m->D) == b->target[i];
	return n;
}

/* The argmax reconstruction's tokens of the loaded rows against their inputs into the music metrics. */
static void
train_music(const struct train_model *m, const struct train_buf *b, int B, const struct dataset *d,
    const size_t *rows, struct metrics *mu)
{
	uint16_t out[DATASET_MAX_STEPS];

	for (int r = 0; r < B; r++) {
		for (int t = 0; t < m->T; t++)
			out[t] = (uint16_t)nn_argmax(b->logits + ((size_t)t * B + r) * m->D, m->D);
		metrics_add(mu, d->tokens + rows[r] * (size_t)m->T, out, m->T);
	}
}

void
train_evaluate(struct train_model *m, struct train_buf *b, const struct dataset *d, const size_t *rows,
    size_t n, int kind, double beta, double free_nats, struct train_eval *ev)
{
	struct train_fwd tf = { TRAIN_TEACHER, 0, 0.0, 1.0f, NULL }, am = { TRAIN_ARGMAX, 0, 0.0, 1.0f, NULL };
	double ce = 0.0, cost = 0.0, kl = 0.0;
	long hit_tf = 0, hit_s = 0;

	metrics_init(&ev->music, kind);
	ev->skipped = 0;
	for (size_t i = 0; i < n; i += (size_t)b->B) {
		int B = (int)(n - i < (size_t)b->B ? n - i : (size_t)b->B);
		double k1;
		train_load_rows(m, b, d, rows + i, B, kind);
		train_encode(m, b, B, 0);
		memcpy(b->z, b->mu, sizeof(float) * B * m->Z);
		train_decode(m, b, B, &tf);
		ce += grad_softmax_xent(m->T * B, m->D, b->logits, b->target, 0.0, NULL);
		hit_tf += train_hits(m, b, B);
		cost += grad_kl_free_bits(B, m->Z, b->mu, b->sigma, free_nats, 0.0, NULL, NULL, &k1);
		kl += k1;
		train_decode(m, b, B, &am);
		hit_s += train_hits(m, b, B);
		train_music(m, b, B, d, rows + i, &ev->music);
	}
	ev->n = (long)n;
	ev->ce = n ? ce / n : 0.0;
	ev->kl = n ? kl / n : 0.0;
	ev->loss = n ? ev->ce + beta * cost / n : 0.0;
	ev->acc_tf = n ? (double)hit_tf / ((double)n * m->T) : 0.0;
	ev->acc_sampled = n ? (double)hit_s / ((double)n * m->T) : 0.0;
}
