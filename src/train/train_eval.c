/* SPDX-License-Identifier: GPL-3.0-or-later */
/* train_eval.c: a checkpoint directory (ours or Magenta's, flat melody, drums or groove) measured on a dataset's
 * validation windows through the inference path: enc_run's mu, dec.c's argmax and teacher-forced decodes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "grad.h"
#include "model.h"
#include "seq.h"
#include "train.h"
#include "train_int.h"

#define TRAIN_EVAL_B 64         /* windows per encoder / decoder call */

/* The checkpoint must be one the dataset's windows can feed: flat, categorical, no controls, same length. */
static int
train_eval_check(const struct vae *v, const struct dataset *d, char *err, size_t errlen)
{
	const struct codec *c = &v->codec;
	int mel = c->type == CODEC_MELODY, drums = c->type == CODEC_DRUMS && c->n_classes == METRICS_DRUM_CLASSES;
	int groove = c->type == CODEC_GROOVE && c->n_classes == METRICS_DRUM_CLASSES && !c->tapify &&
	    !c->split_instruments;
	static const char *const need[] = { "MelodyConverter", "DrumsConverter of 9 classes",
	    "GrooveConverter of 9 classes, not tapified or split" };

	if (!(d->kind == DATASET_MELODY ? mel : d->kind == DATASET_DRUMS ? drums : groove))
		return err_fail(err, errlen, "the checkpoint's %s (%d classes) does not take %s windows (a %s is "
		    "needed)", codec_name(c), c->n_classes, dataset_kind_name(d->kind), need[d->kind]);
	if (v->num_segments > 1 || v->n_cond > 0 || v->n_cores != 1 || v->ctrl_depth > 0 ||
	    v->core[0].kind != (groove ? VAE_OUT_GROOVE : VAE_OUT_CATEGORICAL) || v->num_steps != d->num_steps)
		return err_fail(err, errlen, "a flat %s model of %d steps without controls is needed (this "
		    "one: %d steps, %d segments, %d controls)", groove ? "groove" : "categorical", d->num_steps,
		    v->num_steps, v->num_segments, v->ctrl_depth);
	return 0;
}

/* A note at 120 qpm (0.125 s a step), played off (GrooveConverter's offset, +1 = half a step early). */
static int
train_eval_note(struct seq *s, int pitch, int vel, double off, int start, int end, int drum)
{
	struct note n = { .pitch = pitch, .velocity = vel, .is_drum = drum, .start = start, .end = end,
	    .start_time = (start - off / 2.0) * 0.125, .end_time = (end - off / 2.0) * 0.125 };

	return seq_add(s, &n);
}

/* The notes of window tok (dataset tokens) into s, as a player would have played them. Returns 1 when the
 * converter's range takes them, 0 when not (the window is skipped), -1 when out of memory. */
static int
train_eval_seq(const struct codec *c, const struct dataset *d, const uint16_t *tok, const int16_t *g,
    struct seq *s)
{
	int T = d->num_steps, r = 0;

	seq_clear(s);
	s->steps_per_quarter = 4;
	s->qpm = 120.0;
	s->total_steps = T;
	for (int t = 0; t < T && r == 0; t++) {
		int k = tok[t], p = k - 2 + d->min_pitch, e = t + 1;
		if (d->kind != DATASET_MELODY) {
			for (int j = 0; j < METRICS_DRUM_CLASSES && r == 0; j++)
				if (k >> j & 1)
					r = train_eval_note(s, c->pitch_classes[j][0], g ? g[t * DATASET_GROOVE_COLS + j] :
					    100, g ? (double)g[t * DATASET_GROOVE_COLS + 9 + j] / DATASET_OFFSET_ONE : 0.0,
					    t, t + 1, 1);
			continue;
		}
		if (k < 2)
			continue;
		if (p < c->min_pitch || p > c->max_pitch)
			return 0;
		while (e < T && tok[e] == 0)
			e++;
		r = train_eval_note(s, p, 100, 0.0, t, e, 0);
	}
	return r < 0 ? -1 : 1;
}

/* Window w into x [T, in_depth] and its tokens in the model's classes into in [T]; groove: its rows
 * [hits | velocity | offset] into gt [T, 27] (whatever the encoder hears: a humanize model hears hits only).
 * 0: skipped; -1: error. */
static int
train_eval_load(struct model *md, const struct dataset *d, size_t w, struct seq *s, float *x, uint16_t *in,
    float *gt, char *err, size_t errlen)
{
	const struct codec *c = &md->vae.codec;
	const uint16_t *tok = d->tokens + w * (size_t)d->num_steps;
	const int16_t *g = d->groove != NULL ? d->groove + w * (size_t)d->num_steps * DATASET_GROOVE_COLS : NULL;
	int r = train_eval_seq(c, d, tok, g, s);

	if (r <= 0)
		return r < 0 ? err_fail(err, errlen, "out of memory") : 0;
	if (codec_encode(c, s, x, err, errlen) < 0)
		return -1;
	for (int t = 0; t < d->num_steps; t++)  /* melody: the one-hot's class; drums: 9 bits, as the dataset's */
		in[t] = d->kind != DATASET_MELODY ? tok[t] : (uint16_t)nn_argmax(x + (size_t)t * c->in_depth,
		    c->in_depth);
	if (g != NULL)
		train_window_input(DATASET_GROOVE, tok, g, d->num_steps, gt);
	return 1;
}

/* Teacher forced, groove: the loss's parts, the steps whose hits all match, the target row fed back. */
static void
train_eval_forced_groove(struct dec *dc, int b, int t, int T, const uint16_t *in, const float *gt, long *hits,
    struct train_eval *ev)
{
	const float *lg = dc->core[0].logits + (size_t)b * 27, *y = gt + ((size_t)b * T + t) * 27;
	double part[3];
	int c = 0;

	grad_groove_loss(1, lg, y, 0.0, NULL, part);
	ev->g_hits += part[0], ev->g_vel += part[1], ev->g_off += part[2];
	for (int k = 0; k < 9; k++)
		c |= (lg[k] > 0.0f) << k;
	*hits += c == in[(size_t)b * T + t];
	memcpy(dc->core[0].prev + (size_t)b * 27, y, sizeof(float) * 27);
}

/* Teacher forced: the decoder fed the input's token (groove: row) at every step; hits and cross-entropy
 * (nats; groove: its loss) summed. */
static void
train_eval_forced(struct model *md, int B, const float *z, const uint16_t *in, const float *gt, long *hits,
    double *ce, struct train_eval *ev)
{
	struct dec *dc = &md->dec;
	int T = md->vae.num_steps, D = md->vae.core[0].depth, P = md->vae.core[0].proj.out;

	dec_begin(dc, B, z, NULL, 0.0f, 0);
	for (int t; (t = dec_step(dc)) >= 0;)
		for (int b = 0; b < B; b++) {
			const float *lg = dc->core[0].logits + (size_t)b * P;
			int k = in[(size_t)b * T + t], a;
			double sum = 0.0;
			if (md->vae.core[0].kind == VAE_OUT_GROOVE) {
				train_eval_forced_groove(dc, b, t, T, in, gt, hits, ev);
				continue;
			}
			a = nn_argmax(lg, D);
			for (int i = 0; i < D; i++)
				sum += exp((double)lg[i] - lg[a]);
			*ce += log(sum) + lg[a] - lg[k];
			*hits += a == k;
			memset(dc->core[0].prev + (size_t)b * D, 0, sizeof(float) * D);
			dc->core[0].prev[(size_t)b * D + k] = 1.0f;     /* what dec_step feeds at t + 1 */
		}
}

void
train_eval_groove_err(const double *dv, const double *doff, const float *y, const double *mean,
    struct train_eval *ev)
{
	for (int k = 0; k < 9; k++) {
		if (y[k] < 0.5f)
			continue;
		ev->vel_se += dv[k] * dv[k];
		ev->off_se += doff[k] * doff[k];
		ev->vel_se_mean += (mean[0] - y[9 + k]) * (mean[0] - y[9 + k]);
		ev->off_se_mean += (mean[1] - y[18 + k]) * (mean[1] - y[18 + k]);
		ev->g_n++;
	}
}

/* Groove: the argmax reconstruction's activated row [27] against the input's y [27]. The differences are
 * taken in float, as dec.c's rows are. */
static void
train_eval_groove_row(const float *row, const float *y, const double *mean, struct train_eval *ev)
{
	double dv[9], doff[9];

	for (int k = 0; k < 9; k++)
		dv[k] = row[9 + k] - y[9 + k], doff[k] = row[18 + k] - y[18 + k];
	train_eval_groove_err(dv, doff, y, mean, ev);
}

/* One batch of B loaded windows: z = mu, the argmax reconstruction and the teacher-forced pass. */
static void
train_eval_batch(struct model *md, int B, float *z, const uint16_t *in, const float *gt, const double *mean,
    struct train_eval *ev, long *hit_tf, double *ce)
{
	int T = md->vae.num_steps, D = md->vae.out_depth, groove = md->vae.core[0].kind == VAE_OUT_GROOVE;
	uint16_t out[DATASET_MAX_STEPS];

	enc_run(&md->enc, B, md->x, NULL, z);
	dec_run(&md->dec, B, z, NULL, 0.0f, 0, NULL);
	for (int b = 0; b < B; b++) {
		for (int t = 0; t < T; t++) {
			const float *row = dec_row(&md->dec, b, t);
			out[t] = 0;
			for (int k = 0; groove && k < 9; k++)
				out[t] |= (uint16_t)((row[k] > 0.5f) << k);
			if (!groove)
				out[t] = (uint16_t)nn_argmax(row, D);
			else
				train_eval_groove_row(row, gt + ((size_t)b * T + t) * 27, mean, ev);
		}
		metrics_add(&ev->music, in + (size_t)b * T, out, T);
	}
	train_eval_forced(md, B, z, in, gt, hit_tf, ce, ev);
}

int
train_evaluate_checkpoint(const char *dir, const struct dataset *d, int valid_max, int threads,
    struct train_eval *ev, char *err, size_t errlen)
{
	struct model md;
	struct seq s;
	int threads0 = nn_get_threads(), B = 0, rc = -1, T = d->num_steps;
	uint16_t *in = NULL;
	float *z = NULL, *gt = NULL;
	long hit_tf = 0;
	double ce = 0.0, mean[2];

	memset(ev, 0, sizeof *ev);
	metrics_init(&ev->music, (int)d->kind);
	seq_init(&s);
	if (model_open(&md, dir, TRAIN_EVAL_B, err, errlen) < 0) {
		seq_fini(&s);
		return -1;
	}
	if (train_eval_check(&md.vae, d, err, errlen) < 0)
		goto out;
	in = malloc(sizeof *in * TRAIN_EVAL_B * (size_t)T);
	z = malloc(sizeof *z * TRAIN_EVAL_B * (size_t)md.vae.z_dim);
	gt = malloc(sizeof *gt * TRAIN_EVAL_B * (size_t)T * 27);
	train_groove_mean(d, mean);
	if (in == NULL || z == NULL || gt == NULL) {
		err_fail(err, errlen, "out of memory");
		goto out;
	}
	nn_set_threads(threads);
	for (size_t w = 0, taken = 0; w < d->count && (valid_max == 0 || taken < (size_t)valid_max); w++) {
		int r;
		if (d->split[w] != DATASET_VALID)
			continue;
		taken++;        /* the first valid_max validation windows, as train_evaluate_saved takes them */
		if ((r = train_eval_load(&md, d, w, &s, md.x + (size_t)B * T * md.vae.codec.in_depth,
		    in + (size_t)B * T, gt + (size_t)B * T * 27, err, errlen)) < 0)
			goto out;
		B += r;
		ev->skipped += !r;
		if (B == TRAIN_EVAL_B) {
			train_eval_batch(&md, B, z, in, gt, mean, ev, &hit_tf, &ce);
			ev->n += B;
			B = 0;
		}
	}
	if (B > 0)
		train_eval_batch(&md, B, z, in, gt, mean, ev, &hit_tf, &ce);
	ev->n += B;
	if (ev->n == 0) {
		err_fail(err, errlen, "the dataset has no validation windows this checkpoint takes");
		goto out;
	}
	if (md.vae.core[0].kind == VAE_OUT_GROOVE) {
		ce = ev->g_hits + ev->g_vel + ev->g_off;
		ev->g_hits /= (double)ev->n, ev->g_vel /= (double)ev->n, ev->g_off /= (double)ev->n;
	}
	ev->ce = ce / (double)ev->n;
	ev->loss = ev->kl = NAN;
	ev->acc_tf = (double)hit_tf / ((double)ev->n * T);
	ev->acc_sampled = (double)ev->music.same / (double)ev->music.steps;
	rc = 0;
out:
	nn_set_threads(threads0);
	free(in);
	free(z);
	free(gt);
	seq_fini(&s);
	model_close(&md);
	return rc;
}
