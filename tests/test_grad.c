/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_grad.c: every backward pass in grad.c against central finite differences of nn.c's own forward
 * code (run in NN_EXACT mode, losses summed in double), a tiny end-to-end flat VAE, and the optimiser.
 * Seeded: TEST_SEED replays. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grad.h"
#include "nn.h"
#include "opt.h"
#include "rng.h"
#include "tap.h"
#include "train.h"
#include "train_int.h"

#define FD_H 1e-2               /* perturbation: float forward noise ~1e-7 / h stays far below the tolerance */
#define FD_FLOOR 1e-2           /* gradients smaller than this are compared in absolute terms */
#define FD_TOL 1e-2             /* max relative error accepted */

static struct rng r;

static void
fill(float *v, size_t n, float scale)
{
	for (size_t i = 0; i < n; i++)
		v[i] = (float)((rng_uniform(&r) * 2.0 - 1.0) * scale);
}

static double
dotd(const float *a, const float *b, size_t n)
{
	double s = 0.0;

	for (size_t i = 0; i < n; i++)
		s += (double)a[i] * b[i];
	return s;
}

typedef double (*loss_fn)(void *ctx);

/* Max relative error of the analytic gradient g of w [n] against central differences of f, over every
 * element (samples <= 0 or >= n) or that many random ones. */
static double
fd_check(loss_fn f, void *ctx, float *w, const float *g, size_t n, int samples)
{
	int all = samples <= 0 || (size_t)samples >= n;
	size_t count = all ? n : (size_t)samples;
	double worst = 0.0;

	for (size_t s = 0; s < count; s++) {
		size_t i = all ? s : (size_t)(rng_next(&r) % n);
		float w0 = w[i], wp = (float)(w0 + FD_H), wm = (float)(w0 - FD_H);
		double lp, lm, num, err;
		w[i] = wp;
		lp = f(ctx);
		w[i] = wm;
		lm = f(ctx);
		w[i] = w0;
		num = (lp - lm) / ((double)wp - (double)wm);
		err = fabs(num - g[i]) / fmax(fmax(fabs(num), fabs((double)g[i])), FD_FLOOR);
		if (err > worst)
			worst = err;
	}
	return worst;
}

/* Runs fd_check over several tensors of one layer and reports one TAP line with the worst error. */
struct fd_tensor {
	const char *name;
	float *w;
	const float *g;
	size_t n;
};

static double
fd_report(const char *what, loss_fn f, void *ctx, const struct fd_tensor *t, int nt, int samples)
{
	double worst = 0.0;
	char line[512];
	int len = 0;

	for (int i = 0; i < nt; i++) {
		double e = fd_check(f, ctx, t[i].w, t[i].g, t[i].n, samples);
		len += snprintf(line + len, sizeof line - (size_t)len, " %s %.2e", t[i].name, e);
		if (len >= (int)sizeof line)
			len = (int)sizeof line - 1;
		worst = e > worst ? e : worst;
	}
	diag("%s: max rel err %.3e (%s )", what, worst, line);
	ok(worst < FD_TOL, "%s: backward matches finite differences (max rel err %.2e < %.0e)", what, worst,
	    FD_TOL);
	return worst;
}

/* ---- dense ------------------------------------------------------------------------------------- */

enum { DB = 3, DK = 5, DN = 4 };
struct dense_ctx {
	float W[DK * DN], b[DN], x[DB * DK], y[DB * DN], proj[DB * DN];
	struct nn_dense d;
};

static double
dense_loss(void *p)
{
	struct dense_ctx *c = p;

	nn_dense_forward(&c->d, DB, c->x, c->y);
	return dotd(c->y, c->proj, DB * DN);
}

static void
test_dense(void)
{
	static struct dense_ctx c;
	float gW[DK * DN] = { 0 }, gb[DN] = { 0 }, dx[DB * DK] = { 0 };
	struct grad_dense g = { gW, gb };

	fill(c.W, DK * DN, 0.5f);
	fill(c.b, DN, 0.5f);
	fill(c.x, DB * DK, 1.0f);
	fill(c.proj, DB * DN, 1.0f);
	c.d = (struct nn_dense){ c.W, c.b, DK, DN };
	grad_dense_backward(&c.d, DB, c.x, c.proj, dx, &g);
	fd_report("dense", dense_loss, &c, (struct fd_tensor[]){ { "kernel", c.W, gW, DK * DN },
	    { "bias", c.b, gb, DN }, { "x", c.x, dx, DB * DK } }, 3, 0);
}

/* ---- one LSTM step and T unrolled steps ---------------------------------------------------------- */

enum { LB = 2, LK = 3, LU = 4, LT = 5 };
struct lstm_ctx {
	float W[(LK + LU) * 4 * LU], b[4 * LU];
	float x[LB * LT * LK], c0[LB * LU], h0[LB * LU];
	float c[LB * LU], h[LB * LU], gates[LB * 4 * LU], hseq[LB * LT * LU];
	float rh[LB * LU], rc[LB * LU], rseq[LB * LT * LU];
	float mem[LT][LB * (LK + 7 * LU)];
	struct nn_lstm_cache cache[LT];
	struct nn_lstm l;
	int T;                  /* steps run */
	int on_all;             /* 1: loss on every h, 0: on the last h (and, for T = 1, on c) */
};

/* From (c0, h0), T steps over x [B, T, K]; x is copied into each step's cache. */
static void
lstm_forward(struct lstm_ctx *s)
{
	memcpy(s->c, s->c0, sizeof s->c);
	memcpy(s->h, s->h0, sizeof s->h);
	for (int t = 0; t < s->T; t++) {
		for (int b = 0; b < LB; b++)
			memcpy(s->cache[t].xh + b * (LK + LU), s->x + (b * LT + t) * LK, sizeof(float) * LK);
		nn_lstm_step_cache(&s->l, LB, s->cache[t].xh, s->c, s->h, s->gates, &s->cache[t]);
		for (int b = 0; b < LB; b++)
			memcpy(s->hseq + (b * LT + t) * LU, s->h + b * LU, sizeof(float) * LU);
	}
}

static double
lstm_loss(void *p)
{
	struct lstm_ctx *s = p;

	lstm_forward(s);
	if (s->on_all)
		return dotd(s->hseq, s->rseq, LB * LT * LU);
	return dotd(s->h, s->rh, LB * LU) + (s->T == 1 ? dotd(s->c, s->rc, LB * LU) : 0.0);
}

static void
lstm_setup(struct lstm_ctx *s)
{
	fill(s->W, sizeof s->W / sizeof(float), 0.6f);
	fill(s->b, 4 * LU, 0.5f);
	fill(s->x, LB * LT * LK, 1.0f);
	fill(s->c0, LB * LU, 1.0f);
	fill(s->h0, LB * LU, 0.8f);
	fill(s->rh, LB * LU, 1.0f);
	fill(s->rc, LB * LU, 1.0f);
	fill(s->rseq, LB * LT * LU, 1.0f);
	for (int t = 0; t < LT; t++)
		nn_lstm_cache_bind(&s->cache[t], s->mem[t], LB, LK, LU);
	s->l = (struct nn_lstm){ s->W, s->b, LK, LU };
}

static void
test_lstm_step(void)
{
	static struct lstm_ctx s;
	float gW[(LK + LU) * 4 * LU] = { 0 }, gb[4 * LU] = { 0 }, dg[LB * 4 * LU], dxh[LB * (LK + LU)];
	float dx[LB * LT * LK] = { 0 }, dh0[LB * LU], dc0[LB * LU];
	struct grad_lstm g = { gW, gb };

	lstm_setup(&s);
	s.T = 1;
	s.on_all = 0;
	lstm_forward(&s);
	memcpy(dc0, s.rc, sizeof dc0);
	grad_lstm_step_backward(&s.l, LB, &s.cache[0], s.rh, dc0, dg, dxh, &g);
	for (int b = 0; b < LB; b++) {
		memcpy(dx + b * LT * LK, dxh + b * (LK + LU), sizeof(float) * LK);
		memcpy(dh0 + b * LU, dxh + b * (LK + LU) + LK, sizeof(float) * LU);
	}
	/* Only step 0 of x is used: its other steps have zero gradient both ways. */
	fd_report("lstm step", lstm_loss, &s, (struct fd_tensor[]){ { "kernel", s.W, gW, sizeof gW / 4 },
	    { "bias", s.b, gb, 4 * LU }, { "x", s.x, dx, LB * LT * LK }, { "h0", s.h0, dh0, LB * LU },
	    { "c0", s.c0, dc0, LB * LU } }, 5, 0);
}

static void
test_lstm_seq(int on_all)
{
	static struct lstm_ctx s;
	float gW[(LK + LU) * 4 * LU] = { 0 }, gb[4 * LU] = { 0 }, dx[LB * LT * LK] = { 0 };
	float dh0[LB * LU], dc0[LB * LU], scratch[LB * (LK + 7 * LU)];
	struct grad_lstm g = { gW, gb };
	struct grad_seq dhseq = { on_all ? s.rseq : NULL, LT * LU, LU };

	lstm_setup(&s);
	s.T = LT;
	s.on_all = on_all;
	lstm_forward(&s);
	if (grad_lstm_scratch(LB, LK, LU) > sizeof scratch / sizeof(float))
		abort();
	grad_lstm_seq_backward(&s.l, 1, LB, LT, s.cache, on_all ? NULL : s.rh, LU, dhseq,
	    (struct grad_seq){ dx, LT * LK, LK }, dh0, dc0, &g, scratch);
	fd_report(on_all ? "lstm unrolled, loss on every h" : "lstm unrolled, loss on the last h", lstm_loss,
	    &s, (struct fd_tensor[]){ { "kernel", s.W, gW, sizeof gW / 4 }, { "bias", s.b, gb, 4 * LU },
	    { "x", s.x, dx, LB * LT * LK }, { "h0", s.h0, dh0, LB * LU }, { "c0", s.c0, dc0, LB * LU } }, 5, 0);
}

/* ---- two stacked layers started from a tanh projection -------------------------------------------- */

enum { SB = 2, SK = 3, SU = 3, SL = 2, ST = 4, SE = 3 };
struct stack_ctx {
	float W0[(SK + SU) * 4 * SU], b0[4 * SU], W1[(SU + SU) * 4 * SU], b1[4 * SU];
	float IW[SE * 2 * SL * SU], Ib[2 * SL * SU], emb[SB * SE], pre[SB * 2 * SL * SU];
	float x[ST * SB * SK], c[SL * SB * SU], h[SL * SB * SU], c0[SL * SB * SU], h0[SL * SB * SU];
	float xh[SB * (SK + SU) + SB * (SU + SU)], gates[SB * 4 * SU], top[ST * SB * SU], proj[ST * SB * SU];
	float mem[ST][SL][SB * (SK + 7 * SU)];
	struct nn_lstm_cache cache[ST][SL];
	struct nn_lstm cell[SL];
	struct nn_dense init;
};

static double
stack_loss(void *p)
{
	struct stack_ctx *s = p;

	nn_init_state(&s->init, SL, SU, SB, s->emb, s->pre, s->c, s->h);
	memcpy(s->c0, s->c, sizeof s->c);
	memcpy(s->h0, s->h, sizeof s->h);
	for (int t = 0; t < ST; t++) {
		for (int b = 0; b < SB; b++)
			memcpy(s->xh + b * (SK + SU), s->x + (t * SB + b) * SK, sizeof(float) * SK);
		nn_stack_step(s->cell, SL, SB, s->xh, s->c, s->h, s->gates, s->cache[t]);
		memcpy(s->top + t * SB * SU, s->h + (SL - 1) * SB * SU, sizeof(float) * SB * SU);
	}
	return dotd(s->top, s->proj, ST * SB * SU);
}

static void
test_stack(void)
{
	static struct stack_ctx s;
	static float gW0[sizeof s.W0 / 4], gb0[4 * SU], gW1[sizeof s.W1 / 4], gb1[4 * SU];
	static float gIW[sizeof s.IW / 4], gIb[2 * SL * SU], demb[SB * SE], dx[ST * SB * SK];
	float dh[SL * SB * SU] = { 0 }, dc[SL * SB * SU] = { 0 }, dpre[SB * 2 * SL * SU], scratch[256];
	struct grad_lstm g[SL] = { { gW0, gb0 }, { gW1, gb1 } };
	struct grad_dense gi = { gIW, gIb };

	fill(s.W0, sizeof s.W0 / 4, 0.6f);
	fill(s.W1, sizeof s.W1 / 4, 0.6f);
	fill(s.b0, 4 * SU, 0.5f);
	fill(s.b1, 4 * SU, 0.5f);
	fill(s.IW, sizeof s.IW / 4, 0.8f);
	fill(s.Ib, 2 * SL * SU, 0.3f);
	fill(s.emb, SB * SE, 1.0f);
	fill(s.x, ST * SB * SK, 1.0f);
	fill(s.proj, ST * SB * SU, 1.0f);
	s.cell[0] = (struct nn_lstm){ s.W0, s.b0, SK, SU };
	s.cell[1] = (struct nn_lstm){ s.W1, s.b1, SU, SU };
	s.init = (struct nn_dense){ s.IW, s.Ib, SE, 2 * SL * SU };
	for (int t = 0; t < ST; t++)
		for (int l = 0; l < SL; l++)
			nn_lstm_cache_bind(&s.cache[t][l], s.mem[t][l], SB, s.cell[l].in, SU);
	if (grad_stack_scratch(s.cell, SL, SB) > sizeof scratch / sizeof(float))
		abort();
	stack_loss(&s);
	for (int t = ST - 1; t >= 0; t--) {
		for (int i = 0; i < SB * SU; i++)
			dh[(SL - 1) * SB * SU + i] += s.proj[t * SB * SU + i];
		grad_stack_step_backward(s.cell, SL, SB, s.cache[t], dh, dc, dx + t * SB * SK, g, scratch);
	}
	grad_init_state_backward(&s.init, SL, SU, SB, s.emb, s.c0, s.h0, dc, dh, dpre, demb, &gi);
	fd_report("2-layer stack from tanh initial state", stack_loss, &s, (struct fd_tensor[]){
	    { "kernel0", s.W0, gW0, sizeof gW0 / 4 }, { "bias0", s.b0, gb0, 4 * SU },
	    { "kernel1", s.W1, gW1, sizeof gW1 / 4 }, { "bias1", s.b1, gb1, 4 * SU },
	    { "x", s.x, dx, ST * SB * SK }, { "init.kernel", s.IW, gIW, sizeof gIW / 4 },
	    { "init.bias", s.Ib, gIb, 2 * SL * SU }, { "emb", s.emb, demb, SB * SE } }, 8, 0);
}

/* ---- initial-state projection alone ------------------------------------------------------------ */

struct init_ctx {
	float W[SE * 2 * SL * SU], b[2 * SL * SU], emb[SB * SE], pre[SB * 2 * SL * SU];
	float c[SL * SB * SU], h[SL * SB * SU], rc[SL * SB * SU], rh[SL * SB * SU];
	struct nn_dense d;
};

static double
init_loss(void *p)
{
	struct init_ctx *s = p;

	nn_init_state(&s->d, SL, SU, SB, s->emb, s->pre, s->c, s->h);
	return dotd(s->c, s->rc, SL * SB * SU) + dotd(s->h, s->rh, SL * SB * SU);
}

static void
test_init_state(void)
{
	static struct init_ctx s;
	float gW[sizeof s.W / 4] = { 0 }, gb[2 * SL * SU] = { 0 }, demb[SB * SE] = { 0 };
	float dpre[SB * 2 * SL * SU];
	struct grad_dense g = { gW, gb };

	fill(s.W, sizeof s.W / 4, 1.0f);
	fill(s.b, 2 * SL * SU, 0.5f);
	fill(s.emb, SB * SE, 1.0f);
	fill(s.rc, SL * SB * SU, 1.0f);
	fill(s.rh, SL * SB * SU, 1.0f);
	s.d = (struct nn_dense){ s.W, s.b, SE, 2 * SL * SU };
	init_loss(&s);
	grad_init_state_backward(&s.d, SL, SU, SB, s.emb, s.c, s.h, s.rc, s.rh, dpre, demb, &g);
	fd_report("tanh initial-state projection", init_loss, &s, (struct fd_tensor[]){
	    { "kernel", s.W, gW, sizeof gW / 4 }, { "bias", s.b, gb, 2 * SL * SU },
	    { "emb", s.emb, demb, SB * SE } }, 3, 0);
}

/* ---- bidirectional layer --------------------------------------------------------------------- */

enum { BB = 2, BT = 4, BK = 3, BU = 3 };
struct bi_ctx {
	float Wf[(BK + BU) * 4 * BU], bf[4 * BU], Wb[(BK + BU) * 4 * BU], bb[4 * BU];
	float x[BB * BT * BK], hlast[BB * 2 * BU], hseq[BB * BT * 2 * BU], rl[BB * 2 * BU];
	float rs[BB * BT * 2 * BU], scratch[BB * (BK + 7 * BU)];
	float mf[BT][BB * (BK + 7 * BU)], mb[BT][BB * (BK + 7 * BU)];
	struct nn_lstm_cache cf[BT], cb[BT];
	struct nn_lstm fw, bw;
};

static double
bi_loss(void *p)
{
	struct bi_ctx *s = p;

	nn_bilstm_run_cache(&s->fw, &s->bw, BB, BT, s->x, BT * BK, s->hlast, s->hseq, s->scratch, s->cf, s->cb);
	return dotd(s->hlast, s->rl, BB * 2 * BU) + dotd(s->hseq, s->rs, BB * BT * 2 * BU);
}

static void
test_bilstm(void)
{
	static struct bi_ctx s;
	static float gWf[sizeof s.Wf / 4], gbf[4 * BU], gWb[sizeof s.Wb / 4], gbb[4 * BU], dx[BB * BT * BK];
	struct grad_lstm gf = { gWf, gbf }, gb = { gWb, gbb };
	float scratch[BB * (BK + 7 * BU)];

	fill(s.Wf, sizeof s.Wf / 4, 0.6f);
	fill(s.Wb, sizeof s.Wb / 4, 0.6f);
	fill(s.bf, 4 * BU, 0.5f);
	fill(s.bb, 4 * BU, 0.5f);
	fill(s.x, BB * BT * BK, 1.0f);
	fill(s.rl, BB * 2 * BU, 1.0f);
	fill(s.rs, BB * BT * 2 * BU, 1.0f);
	s.fw = (struct nn_lstm){ s.Wf, s.bf, BK, BU };
	s.bw = (struct nn_lstm){ s.Wb, s.bb, BK, BU };
	for (int t = 0; t < BT; t++) {
		nn_lstm_cache_bind(&s.cf[t], s.mf[t], BB, BK, BU);
		nn_lstm_cache_bind(&s.cb[t], s.mb[t], BB, BK, BU);
	}
	bi_loss(&s);
	grad_bilstm_backward(&s.fw, &s.bw, BB, BT, s.cf, s.cb, s.rl, s.rs, dx, BT * BK, &gf, &gb, scratch);
	fd_report("bidirectional lstm (last h and every h)", bi_loss, &s, (struct fd_tensor[]){
	    { "fw.kernel", s.Wf, gWf, sizeof gWf / 4 }, { "fw.bias", s.bf, gbf, 4 * BU },
	    { "bw.kernel", s.Wb, gWb, sizeof gWb / 4 }, { "bw.bias", s.bb, gbb, 4 * BU },
	    { "x", s.x, dx, BB * BT * BK } }, 5, 0);
}

/* ---- losses --------------------------------------------------------------------------------- */

enum { XN = 5, XD = 6 };
struct xent_ctx {
	float logits[XN * XD];
	int target[XN];
	double scale;
};

static double
xent_loss(void *p)
{
	struct xent_ctx *s = p;

	return s->scale * grad_softmax_xent(XN, XD, s->logits, s->target, 0.0, NULL);
}

static void
test_xent(void)
{
	static struct xent_ctx s;
	float dl[XN * XD];
	double ref = 0.0;

	fill(s.logits, XN * XD, 3.0f);
	for (int n = 0; n < XN; n++)
		s.target[n] = n == 2 ? -1 : (int)(rng_next(&r) % XD);
	s.scale = 0.5;
	for (int n = 0; n < XN; n++) {
		double sum = 0.0;
		if (s.target[n] < 0)
			continue;
		for (int i = 0; i < XD; i++)
			sum += exp(s.logits[n * XD + i]);
		ref -= log(exp(s.logits[n * XD + s.target[n]]) / sum);
	}
	is_float(grad_softmax_xent(XN, XD, s.logits, s.target, s.scale, dl), ref, 1e-9 * fabs(ref),
	    "softmax cross-entropy equals -log softmax summed over unmasked rows");
	fd_report("softmax cross-entropy", xent_loss, &s, (struct fd_tensor[]){
	    { "logits", s.logits, dl, XN * XD } }, 1, 0);
}

enum { GN = 4 };
struct groove_ctx {
	float logits[GN * 27], target[GN * 27];
	double scale;
};

static double
groove_loss(void *p)
{
	struct groove_ctx *s = p;

	return s->scale * grad_groove_loss(GN, s->logits, s->target, 0.0, NULL, NULL);
}

/* GrooVAE's loss: hits' sigmoid cross-entropy plus squared errors of sigmoid velocity and tanh offset. */
static void
test_groove_loss(void)
{
	static struct groove_ctx s;
	float dl[GN * 27];
	double ref = 0.0, part[3];

	fill(s.logits, GN * 27, 2.0f);
	for (int n = 0; n < GN; n++)
		for (int k = 0; k < 9; k++) {
			float *y = s.target + n * 27;
			int hit = rng_uniform(&r) < 0.4;
			y[k] = (float)hit;
			y[9 + k] = hit ? (float)rng_uniform(&r) : 0.0f;
			y[18 + k] = hit ? (float)(rng_uniform(&r) - 0.5) : 0.0f;
		}
	s.scale = 0.25;
	for (int n = 0; n < GN; n++)
		for (int k = 0; k < 9; k++) {
			const float *x = s.logits + n * 27, *y = s.target + n * 27;
			double p = 1.0 / (1.0 + exp(-(double)x[k])), v = 1.0 / (1.0 + exp(-(double)x[9 + k]));
			ref -= y[k] * log(p) + (1.0 - y[k]) * log(1.0 - p);
			ref += (v - y[9 + k]) * (v - y[9 + k]) + (tanh(x[18 + k]) - y[18 + k]) * (tanh(x[18 + k]) - y[18 + k]);
		}
	is_float(grad_groove_loss(GN, s.logits, s.target, s.scale, dl, part), ref, 1e-9 * fabs(ref),
	    "groove loss = hits' cross-entropy + velocity and offset squared errors");
	ok(fabs(part[0] + part[1] + part[2] - ref) < 1e-9 * fabs(ref) && part[1] > 0 && part[2] > 0,
	    "groove loss parts add up (hits %.3f, velocities %.3f, offsets %.3f)", part[0], part[1], part[2]);
	fd_report("groove loss", groove_loss, &s, (struct fd_tensor[]){ { "logits", s.logits, dl, GN * 27 } }, 1, 0);
}

enum { KB = 4, KZ = 3 };
struct kl_ctx {
	float mu[KB * KZ], sigma[KB * KZ];
	double free_nats, scale;
};

static double
kl_loss(void *p)
{
	struct kl_ctx *s = p;

	return s->scale * grad_kl_free_bits(KB, KZ, s->mu, s->sigma, s->free_nats, 0.0, NULL, NULL, NULL);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
test_kl(void)
{
	static struct kl_ctx s;
	double kl[KB], total, sorted[KB], ref = 0.0;
	const char *what[3] = { "KL, every row above the free bits", "KL, rows on both sides of the free bits",
		"KL, every row below the free bits" };

	fill(s.mu, KB * KZ, 1.0f);
	for (int i = 0; i < KB * KZ; i++)
		s.sigma[i] = (float)(0.3 + 1.2 * rng_uniform(&r));
	for (int b = 0; b < KB; b++) {
		kl[b] = 0.0;
		for (int i = 0; i < KZ; i++) {
			double m = s.mu[b * KZ + i], sg = s.sigma[b * KZ + i];
			kl[b] += 0.5 * (m * m + sg * sg - 1.0 - log(sg * sg));
		}
		ref += kl[b];
		sorted[b] = kl[b];
	}
	grad_kl_free_bits(KB, KZ, s.mu, s.sigma, 0.0, 1.0, NULL, NULL, &total);
	is_float(total, ref, 1e-9 * ref, "KL sum equals 0.5 sum(mu^2 + sigma^2 - 1 - log sigma^2)");
	qsort(sorted, KB, sizeof(double), cmp_double);
	s.scale = 0.7 / KB;
	for (int k = 0; k < 3; k++) {
		float dmu[KB * KZ] = { 0 }, dsig[KB * KZ] = { 0 };
		double gmax = 0.0;
		s.free_nats = k == 0 ? 0.5 * sorted[0] : k == 1 ? 0.5 * (sorted[1] + sorted[2]) : 2.0 * sorted[KB - 1];
		grad_kl_free_bits(KB, KZ, s.mu, s.sigma, s.free_nats, s.scale, dmu, dsig, NULL);
		for (int i = 0; i < KB * KZ; i++)
			gmax = fmax(gmax, fmax(fabs(dmu[i]), fabs(dsig[i])));
		if (k == 2)
			ok(gmax == 0.0 && kl_loss(&s) == 0.0, "%s: cost and gradient are exactly 0", what[k]);
		else
			fd_report(what[k], kl_loss, &s, (struct fd_tensor[]){ { "mu", s.mu, dmu, KB * KZ },
			    { "sigma", s.sigma, dsig, KB * KZ } }, 2, 0);
	}
}

enum { PN = 12 };
struct softplus_ctx {
	float x[PN], y[PN], proj[PN];
};

static double
softplus_loss(void *p)
{
	struct softplus_ctx *s = p;

	grad_softplus_forward(PN, s->x, s->y);
	return dotd(s->y, s->proj, PN);
}

static void
test_softplus(void)
{
	static struct softplus_ctx s;
	float dx[PN] = { 0 }, big = 60.0f, y;
	double worst = 0.0;

	fill(s.x, PN, 4.0f);
	fill(s.proj, PN, 1.0f);
	grad_softplus_forward(PN, s.x, s.y);
	for (int i = 0; i < PN; i++)
		worst = fmax(worst, fabs(s.y[i] - log(1.0 + exp((double)s.x[i]))) / s.y[i]);
	grad_softplus_forward(1, &big, &y);
	ok(worst < 1e-6 && y == big, "softplus = log(1 + e^x), no overflow at x = 60 (max rel err %.1e)", worst);
	grad_softplus_backward(PN, s.x, s.proj, dx);
	fd_report("sigma softplus", softplus_loss, &s, (struct fd_tensor[]){ { "x", s.x, dx, PN } }, 1, 0);
}

/* ---- a tiny flat VAE end to end ------------------------------------------------------------------ */

enum { VB = 2, VT = 5, VD = 4, VUE = 3, VZ = 2, VUD = 3, VL = 2, VK0 = VD + VZ };
struct vae_ctx {
	/* weights */
	float ef_W[(VD + VUE) * 4 * VUE], ef_b[4 * VUE], eb_W[(VD + VUE) * 4 * VUE], eb_b[4 * VUE];
	float mu_W[2 * VUE * VZ], mu_b[VZ], sg_W[2 * VUE * VZ], sg_b[VZ];
	float in_W[VZ * 2 * VL * VUD], in_b[2 * VL * VUD];
	float d0_W[(VK0 + VUD) * 4 * VUD], d0_b[4 * VUD], d1_W[(VUD + VUD) * 4 * VUD], d1_b[4 * VUD];
	float out_W[VUD * VD], out_b[VD];
	/* data: encoder input, targets, tokens fed back (targets or, where scheduled sampling fired, a
	 * fixed "sampled" token; -1 = zeros at t = 0) */
	float x[VB * VT * VD];
	int target[VT * VB], feed[VT * VB];
	double beta, free_nats;
	/* activations */
	float hlast[VB * 2 * VUE], mu[VB * VZ], spre[VB * VZ], sigma[VB * VZ], eps[VB * VZ], z[VB * VZ];
	float pre[VB * 2 * VL * VUD], c[VL * VB * VUD], h[VL * VB * VUD], c0[VL * VB * VUD], h0[VL * VB * VUD];
	float xh[VB * (VK0 + VUD) + VB * 2 * VUD], gates[VB * 4 * VUD], top[VT * VB * VUD];
	float logits[VT * VB * VD], scratch[VB * (VD + 7 * VUE)];
	float mef[VT][VB * (VD + 7 * VUE)], meb[VT][VB * (VD + 7 * VUE)], md[VT][VL][VB * (VK0 + 7 * VUD)];
	struct nn_lstm_cache cef[VT], ceb[VT], cd[VT][VL];
	struct nn_lstm ef, eb, dcell[VL];
	struct nn_dense mud, sgd, init, out;
	double kl_min;          /* smallest row KL of the last forward */
};

static double
vae_loss(void *p)
{
	struct vae_ctx *s = p;
	double rl, kl;

	nn_bilstm_run_cache(&s->ef, &s->eb, VB, VT, s->x, VT * VD, s->hlast, NULL, s->scratch, s->cef, s->ceb);
	nn_dense_forward(&s->mud, VB, s->hlast, s->mu);
	nn_dense_forward(&s->sgd, VB, s->hlast, s->spre);
	grad_softplus_forward(VB * VZ, s->spre, s->sigma);
	grad_reparam_forward(VB * VZ, s->mu, s->sigma, NULL, s->eps, s->z);
	nn_init_state(&s->init, VL, VUD, VB, s->z, s->pre, s->c, s->h);
	memcpy(s->c0, s->c, sizeof s->c);
	memcpy(s->h0, s->h, sizeof s->h);
	for (int t = 0; t < VT; t++) {
		for (int b = 0; b < VB; b++) {
			float *row = s->xh + b * (VK0 + VUD);
			int k = s->feed[t * VB + b];
			memset(row, 0, sizeof(float) * VD);
			if (k >= 0)
				row[k] = 1.0f;
			memcpy(row + VD, s->z + b * VZ, sizeof(float) * VZ);
		}
		nn_stack_step(s->dcell, VL, VB, s->xh, s->c, s->h, s->gates, s->cd[t]);
		memcpy(s->top + t * VB * VUD, s->h + (VL - 1) * VB * VUD, sizeof(float) * VB * VUD);
		nn_dense_forward(&s->out, VB, s->top + t * VB * VUD, s->logits + t * VB * VD);
	}
	rl = grad_softmax_xent(VT * VB, VD, s->logits, s->target, 0.0, NULL);
	s->kl_min = HUGE_VAL;
	for (int b = 0; b < VB; b++) {
		double k1 = grad_kl_free_bits(1, VZ, s->mu + b * VZ, s->sigma + b * VZ, 0.0, 0.0, NULL, NULL, NULL);
		s->kl_min = fmin(s->kl_min, k1);
	}
	kl = grad_kl_free_bits(VB, VZ, s->mu, s->sigma, s->free_nats, 0.0, NULL, NULL, NULL);
	return rl / VB + s->beta * kl / VB;
}

struct vae_grads {
	float ef_W[sizeof ((struct vae_ctx *)0)->ef_W / 4], ef_b[4 * VUE];
	float eb_W[sizeof ((struct vae_ctx *)0)->eb_W / 4], eb_b[4 * VUE];
	float mu_W[2 * VUE * VZ], mu_b[VZ], sg_W[2 * VUE * VZ], sg_b[VZ];
	float in_W[VZ * 2 * VL * VUD], in_b[2 * VL * VUD];
	float d0_W[sizeof ((struct vae_ctx *)0)->d0_W / 4], d0_b[4 * VUD];
	float d1_W[sizeof ((struct vae_ctx *)0)->d1_W / 4], d1_b[4 * VUD];
	float out_W[VUD * VD], out_b[VD];
};

/* The backward pass a trainer runs: decoder steps in reverse, initial state, posterior, encoder. */
static void
vae_backward(struct vae_ctx *s, struct vae_grads *g)
{
	float dlogits[VT * VB * VD], dh[VL * VB * VUD] = { 0 }, dc[VL * VB * VUD] = { 0 }, dxin[VB * VK0];
	float dz[VB * VZ] = { 0 }, dmu[VB * VZ] = { 0 }, dsig[VB * VZ] = { 0 }, dspre[VB * VZ] = { 0 };
	float dhlast[VB * 2 * VUE] = { 0 }, dpre[VB * 2 * VL * VUD], scratch[256];
	struct grad_lstm gd[VL] = { { g->d0_W, g->d0_b }, { g->d1_W, g->d1_b } };
	struct grad_lstm gef = { g->ef_W, g->ef_b }, geb = { g->eb_W, g->eb_b };
	struct grad_dense gout = { g->out_W, g->out_b }, gin = { g->in_W, g->in_b };
	struct grad_dense gmu = { g->mu_W, g->mu_b }, gsg = { g->sg_W, g->sg_b };

	if (grad_stack_scratch(s->dcell, VL, VB) > 256 || grad_lstm_scratch(VB, VD, VUE) > 256)
		abort();
	grad_softmax_xent(VT * VB, VD, s->logits, s->target, 1.0 / VB, dlogits);
	for (int t = VT - 1; t >= 0; t--) {
		grad_dense_backward(&s->out, VB, s->top + t * VB * VUD, dlogits + t * VB * VD,
		    dh + (VL - 1) * VB * VUD, &gout);
		memset(dxin, 0, sizeof dxin);
		grad_stack_step_backward(s->dcell, VL, VB, s->cd[t], dh, dc, dxin, gd, scratch);
		for (int b = 0; b < VB; b++)
			for (int i = 0; i < VZ; i++)
				dz[b * VZ + i] += dxin[b * VK0 + VD + i];
	}
	grad_init_state_backward(&s->init, VL, VUD, VB, s->z, s->c0, s->h0, dc, dh, dpre, dz, &gin);
	grad_reparam_backward(VB * VZ, s->eps, dz, dmu, dsig);
	grad_kl_free_bits(VB, VZ, s->mu, s->sigma, s->free_nats, s->beta / VB, dmu, dsig, NULL);
	grad_softplus_backward(VB * VZ, s->spre, dsig, dspre);
	grad_dense_backward(&s->mud, VB, s->hlast, dmu, dhlast, &gmu);
	grad_dense_backward(&s->sgd, VB, s->hlast, dspre, dhlast, &gsg);
	grad_bilstm_backward(&s->ef, &s->eb, VB, VT, s->cef, s->ceb, dhlast, NULL, NULL, 0, &gef, &geb, scratch);
}

static void
vae_setup(struct vae_ctx *s)
{
	struct rng e;

	fill(s->ef_W, sizeof s->ef_W / 4, 0.7f);
	fill(s->eb_W, sizeof s->eb_W / 4, 0.7f);
	fill(s->ef_b, 4 * VUE, 0.3f);
	fill(s->eb_b, 4 * VUE, 0.3f);
	fill(s->mu_W, sizeof s->mu_W / 4, 1.0f);
	fill(s->mu_b, VZ, 0.5f);
	fill(s->sg_W, sizeof s->sg_W / 4, 1.0f);
	fill(s->sg_b, VZ, 0.5f);
	fill(s->in_W, sizeof s->in_W / 4, 0.8f);
	fill(s->in_b, 2 * VL * VUD, 0.3f);
	fill(s->d0_W, sizeof s->d0_W / 4, 0.7f);
	fill(s->d1_W, sizeof s->d1_W / 4, 0.7f);
	fill(s->d0_b, 4 * VUD, 0.3f);
	fill(s->d1_b, 4 * VUD, 0.3f);
	fill(s->out_W, VUD * VD, 1.0f);
	fill(s->out_b, VD, 0.3f);
	memset(s->x, 0, sizeof s->x);
	for (int b = 0; b < VB; b++)
		for (int t = 0; t < VT; t++) {
			int k = (int)(rng_next(&r) % VD);
			s->x[(b * VT + t) * VD + k] = 1.0f;
			s->target[t * VB + b] = k;
		}
	/* Teacher forcing with scheduled sampling at probability 0.4: the fed token is the previous target
	 * or a draw, decided once so the finite differences see the same inputs. */
	for (int t = 0; t < VT; t++)
		for (int b = 0; b < VB; b++)
			s->feed[t * VB + b] = t == 0 ? -1 : rng_uniform(&r) < 0.4 ? (int)(rng_next(&r) % VD) :
			    s->target[(t - 1) * VB + b];
	s->ef = (struct nn_lstm){ s->ef_W, s->ef_b, VD, VUE };
	s->eb = (struct nn_lstm){ s->eb_W, s->eb_b, VD, VUE };
	s->mud = (struct nn_dense){ s->mu_W, s->mu_b, 2 * VUE, VZ };
	s->sgd = (struct nn_dense){ s->sg_W, s->sg_b, 2 * VUE, VZ };
	s->init = (struct nn_dense){ s->in_W, s->in_b, VZ, 2 * VL * VUD };
	s->dcell[0] = (struct nn_lstm){ s->d0_W, s->d0_b, VK0, VUD };
	s->dcell[1] = (struct nn_lstm){ s->d1_W, s->d1_b, VUD, VUD };
	s->out = (struct nn_dense){ s->out_W, s->out_b, VUD, VD };
	for (int t = 0; t < VT; t++) {
		nn_lstm_cache_bind(&s->cef[t], s->mef[t], VB, VD, VUE);
		nn_lstm_cache_bind(&s->ceb[t], s->meb[t], VB, VD, VUE);
		for (int l = 0; l < VL; l++)
			nn_lstm_cache_bind(&s->cd[t][l], s->md[t][l], VB, s->dcell[l].in, VUD);
	}
	rng_seed(&e, rng_next(&r));
	for (int i = 0; i < VB * VZ; i++)
		s->eps[i] = (float)rng_normal(&e);
	s->beta = 0.8;
	s->free_nats = 0.0;
}

static void
test_vae(void)
{
	static struct vae_ctx s;
	static struct vae_grads g;
	double l0;

	vae_setup(&s);
	vae_loss(&s);
	/* Free bits active (half the smallest row KL), far enough from the kink for the differences. */
	s.free_nats = 0.5 * s.kl_min;
	l0 = vae_loss(&s);
	diag("tiny VAE: loss %.6f, free nats %.4f", l0, s.free_nats);
	vae_backward(&s, &g);
	fd_report("end-to-end flat VAE (bi-LSTM, mu/softplus sigma, z, 2-layer decoder, CE + KL)", vae_loss, &s,
	    (struct fd_tensor[]){
	    { "enc.fw.kernel", s.ef_W, g.ef_W, sizeof g.ef_W / 4 }, { "enc.fw.bias", s.ef_b, g.ef_b, 4 * VUE },
	    { "enc.bw.kernel", s.eb_W, g.eb_W, sizeof g.eb_W / 4 }, { "enc.bw.bias", s.eb_b, g.eb_b, 4 * VUE },
	    { "mu.kernel", s.mu_W, g.mu_W, sizeof g.mu_W / 4 }, { "mu.bias", s.mu_b, g.mu_b, VZ },
	    { "sigma.kernel", s.sg_W, g.sg_W, sizeof g.sg_W / 4 }, { "sigma.bias", s.sg_b, g.sg_b, VZ },
	    { "z_to_init.kernel", s.in_W, g.in_W, sizeof g.in_W / 4 },
	    { "z_to_init.bias", s.in_b, g.in_b, 2 * VL * VUD },
	    { "dec0.kernel", s.d0_W, g.d0_W, sizeof g.d0_W / 4 }, { "dec0.bias", s.d0_b, g.d0_b, 4 * VUD },
	    { "dec1.kernel", s.d1_W, g.d1_W, sizeof g.d1_W / 4 }, { "dec1.bias", s.d1_b, g.d1_b, 4 * VUD },
	    { "proj.kernel", s.out_W, g.out_W, VUD * VD }, { "proj.bias", s.out_b, g.out_b, VD } }, 16, 6);
}

/* train.c's batched step (rnn.c: whole-sequence GEMMs, packed weights, fused float gates, two halves of the
 * batch) against the finite-difference-checked reference above on the same tiny VAE, teacher forced; and
 * the same gradients bit for bit on one thread and on two. */
static void
test_train_step(void)
{
	static struct vae_ctx s;
	static struct vae_grads g;
	float *w[] = { s.ef_W, s.ef_b, s.eb_W, s.eb_b, s.mu_W, s.mu_b, s.sg_W, s.sg_b, s.d0_W, s.d0_b, s.d1_W,
	    s.d1_b, s.in_W, s.in_b, s.out_W, s.out_b };
	float *ref[] = { g.ef_W, g.ef_b, g.eb_W, g.eb_b, g.mu_W, g.mu_b, g.sg_W, g.sg_b, g.d0_W, g.d0_b, g.d1_W,
	    g.d1_b, g.in_W, g.in_b, g.out_W, g.out_b };
	size_t n[] = { sizeof s.ef_W, sizeof s.ef_b, sizeof s.eb_W, sizeof s.eb_b, sizeof s.mu_W, sizeof s.mu_b,
	    sizeof s.sg_W, sizeof s.sg_b, sizeof s.d0_W, sizeof s.d0_b, sizeof s.d1_W, sizeof s.d1_b,
	    sizeof s.in_W, sizeof s.in_b, sizeof s.out_W, sizeof s.out_b };
	struct train_sched sc = { 1e-3, 0.0, 0.0, 0.0, 1.0, 1e4, 1.0f, 1 };
	struct train_metrics mt;
	struct train_model m;
	struct train_buf b;
	double worst = 0.0, l0;
	float *g1[16];
	int same = 1;

	vae_setup(&s);
	for (int t = 0; t < VT; t++)
		for (int i = 0; i < VB; i++)
			s.feed[t * VB + i] = t ? s.target[(t - 1) * VB + i] : -1;
	s.free_nats = 0.0;
	sc.beta = s.beta;
	nn_set_mode(NN_EXACT);
	l0 = vae_loss(&s);
	memset(&g, 0, sizeof g);
	vae_backward(&s, &g);
	nn_set_mode(NN_FAST);
	memset(&m, 0, sizeof m);
	m.D_in = VD, m.D = VD, m.T = VT, m.Z = VZ, m.Ue = VUE, m.Ud = VUD, m.L = VL, m.np = 16;
	for (int i = 0; i < 16; i++)
		if (opt_param_init(&m.p[i], w[i], n[i] / sizeof(float), "t") < 0)
			abort();
	m.efw = s.ef, m.ebw = s.eb, m.mu = s.mud, m.sigma = s.sgd, m.cell[0] = s.dcell[0], m.cell[1] = s.dcell[1];
	m.init = s.init, m.proj = s.out;
	if (train_buf_init(&b, &m, VB) < 0)
		abort();
	for (int threads = 1; threads <= 2; threads++) {
		nn_set_threads(threads);
		memcpy(b.x, s.x, sizeof s.x);
		memcpy(b.target, s.target, sizeof s.target);
		memcpy(b.eps, s.eps, sizeof s.eps);
		train_grad_batch(&m, &b, VB, &sc, NULL, &mt);
		for (int i = 0; i < 16; i++) {
			size_t k = n[i] / sizeof(float);
			if (threads == 1) {
				double mx = 1e-3;
				g1[i] = malloc(n[i]);
				memcpy(g1[i], m.p[i].g, n[i]);
				for (size_t j = 0; j < k; j++)
					mx = fmax(mx, fabs(ref[i][j]));
				for (size_t j = 0; j < k; j++)
					worst = fmax(worst, fabs(m.p[i].g[j] - ref[i][j]) / mx);
			} else
				same &= memcmp(g1[i], m.p[i].g, n[i]) == 0;
		}
	}
	ok(worst < 1e-3 && fabs(mt.loss - l0) < 1e-4 * fabs(l0), "train_grad_batch (batched GEMMs, float gates) = "
	    "the checked reference: gradients within %.1e of each tensor's largest, loss %.6f vs %.6f", worst,
	    mt.loss, l0);
	ok(same, "train_grad_batch: the same gradients bit for bit on one thread and on two");
	nn_set_threads(1);
	for (int i = 0; i < 16; i++) {
		free(g1[i]);
		opt_param_fini(&m.p[i]);
	}
	train_buf_fini(&b);
}

/* ---- forward identity, optimiser, schedules ------------------------------------------------------ */

static void
test_cache_identity(void)
{
	enum { B = 3, K = 70, U = 9, T = 3 };
	static float W[(K + U) * 4 * U], bias[4 * U], x[B * T * K], mem[2][T][B * (K + 7 * U)];
	static float xh[B * (K + U)], c[2][B * U], h[2][B * U], g[B * 4 * U], hl[2][B * 2 * U];
	static float hs[2][B * T * 2 * U], scratch[B * (K + 7 * U)];
	struct nn_lstm_cache cf[T], cb[T];
	struct nn_lstm l = { W, bias, K, U };
	int same = 1;

	fill(W, sizeof W / 4, 0.3f);
	fill(bias, 4 * U, 0.5f);
	fill(x, B * T * K, 1.0f);
	for (int t = 0; t < T; t++) {
		nn_lstm_cache_bind(&cf[t], mem[0][t], B, K, U);
		nn_lstm_cache_bind(&cb[t], mem[1][t], B, K, U);
	}
	for (int mode = 0; mode < 2; mode++) {
		nn_set_mode(mode ? NN_EXACT : NN_FAST);
		for (int k = 0; k < 2; k++) {
			memset(c[k], 0, sizeof c[k]);
			memset(h[k], 0, sizeof h[k]);
			for (int t = 0; t < T; t++) {
				for (int b = 0; b < B; b++)
					memcpy(xh + b * (K + U), x + (b * T + t) * K, sizeof(float) * K);
				nn_lstm_step_cache(&l, B, xh, c[k], h[k], g, k ? &cf[t] : NULL);
			}
		}
		nn_bilstm_run(&l, &l, B, T, x, T * K, hl[0], hs[0], scratch);
		nn_bilstm_run_cache(&l, &l, B, T, x, T * K, hl[1], hs[1], scratch, cf, cb);
		same &= !memcmp(c[0], c[1], sizeof c[0]) && !memcmp(h[0], h[1], sizeof h[0]) &&
		    !memcmp(hl[0], hl[1], sizeof hl[0]) && !memcmp(hs[0], hs[1], sizeof hs[0]);
	}
	ok(same, "caching activations changes no bit of the forward pass (fast and exact modes)");
}

static void
test_adam(void)
{
	enum { N = 8 };
	float w[N], a[N], tgt[N];
	struct opt_param p;
	double worst = 0.0;

	fill(w, N, 2.0f);
	fill(tgt, N, 2.0f);
	for (int i = 0; i < N; i++)
		a[i] = (float)(0.5 + 4.5 * rng_uniform(&r));
	if (opt_param_init(&p, w, N, "quadratic") != 0)
		abort();
	for (long s = 0; s < 3000; s++) {
		opt_zero_grad(&p, 1);
		for (int i = 0; i < N; i++)
			p.g[i] = 2.0f * a[i] * (w[i] - tgt[i]);
		opt_clip_global_norm(&p, 1, 1.0, 1e4);
		opt_adam_step(&p, 1, opt_lr(0.05, 1e-4, 0.999, s), s + 1, 0.9, 0.999, 1e-8);
	}
	for (int i = 0; i < N; i++)
		worst = fmax(worst, fabs(w[i] - tgt[i]));
	diag("adam on sum a_i (w_i - c_i)^2: max |w - c| %.2e after 3000 steps", worst);
	ok(worst < 1e-3, "Adam with decayed learning rate and clipping converges on a quadratic");
	opt_param_fini(&p);
}

static void
test_clip_schedules(void)
{
	float w[2] = { 0 }, n0;
	struct opt_param p;
	struct opt_early e;
	int stops = 0;

	if (opt_param_init(&p, w, 2, "clip") != 0)
		abort();
	p.g[0] = 3.0f;
	p.g[1] = 4.0f;
	n0 = (float)opt_clip_global_norm(&p, 1, 1.0, 1e4);
	ok(n0 == 5.0f && fabs(opt_global_norm(&p, 1) - 1.0) < 1e-6 && fabs(p.g[0] - 0.6f) < 1e-6,
	    "global-norm clipping scales 5 down to 1");
	opt_clip_global_norm(&p, 1, 1.0, 0.5);
	ok(p.g[0] == 0.0f && p.g[1] == 0.0f, "a norm above grad_norm_clip_to_zero zeroes the step");
	opt_param_fini(&p);
	ok(opt_lr(1e-3, 1e-5, 0.9999, 0) == 1e-3 && fabs(opt_lr(1e-3, 1e-5, 0.9999, 100000) - 1e-5) < 1e-7 &&
	    opt_beta(0.2, 0.0, 0) == 0.0 && opt_beta(0.2, 0.0, 1) == 0.2 &&
	    fabs(opt_beta(1.0, 0.99, 1) - 0.01) < 1e-12 &&
	    fabs(opt_sampling_prob(OPT_SAMPLING_INVERSE_SIGMOID, 1000.0, 0) - (1.0 - 1000.0 / 1001.0)) < 1e-12 &&
	    opt_sampling_prob(OPT_SAMPLING_EXPONENTIAL, 0.5, 1) == 0.5 &&
	    opt_sampling_prob(OPT_SAMPLING_CONSTANT, 0.25, 7) == 0.25,
	    "learning-rate decay, beta annealing and sampling schedules follow Magenta's formulas");
	opt_early_init(&e, 2);
	stops += opt_early_update(&e, 3.0, 1);
	stops += opt_early_update(&e, 2.0, 2);
	stops += opt_early_update(&e, 2.5, 3);
	stops += opt_early_update(&e, 2.1, 4);
	ok(stops == 0 && opt_early_update(&e, 2.2, 5) == 1 && e.best == 2.0 && e.best_step == 2,
	    "early stopping fires after patience evaluations without improvement");
}

static void
test_dropout(void)
{
	enum { N = 20000 };
	static float mask[N];
	double kept = 0.0, sum = 0.0;
	float one = 1.0f;

	grad_dropout_mask(&r, N, 0.75f, mask);
	for (int i = 0; i < N; i++) {
		kept += mask[i] != 0.0f;
		sum += mask[i];
	}
	grad_dropout_mask(&r, 1, 1.0f, &one);
	ok(fabs(kept / N - 0.75) < 0.02 && fabs(sum / N - 1.0) < 0.03 && one == 1.0f,
	    "inverted dropout keeps ~75%% scaled by 1/keep (kept %.3f, mean %.3f)", kept / N, sum / N);
}

int
main(void)
{
	const char *s = getenv("TEST_SEED");
	uint64_t seed = s ? strtoull(s, NULL, 10) : 12345;

	plan(28);
	diag("seed %llu (TEST_SEED replays)", (unsigned long long)seed);
	rng_seed(&r, seed);
	test_cache_identity();
	nn_set_mode(NN_EXACT);
	test_dense();
	test_lstm_step();
	test_lstm_seq(0);
	test_lstm_seq(1);
	test_stack();
	test_init_state();
	test_bilstm();
	test_xent();
	test_groove_loss();
	test_kl();
	test_softplus();
	test_vae();
	nn_set_mode(NN_FAST);
	test_train_step();
	test_adam();
	test_clip_schedules();
	test_dropout();
	return done_testing();
}
