/* SPDX-License-Identifier: GPL-3.0-or-later */
/* train_model.c: the flat MusicVAE's hyper-parameters and trainable tensors (named as magenta.js's checkpoint
 * names them, initialised as Magenta's trainer does), written out as a magenta.js checkpoint, and the
 * encoder's input row of a window. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ckpt_write.h"
#include "err.h"
#include "train.h"
#include "train_int.h"

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
	hp->free_bits = kind != DATASET_MELODY ? 48.0 : 0.0;
	hp->clip = 1.0;
	hp->clip_to_zero = 10000.0;
	hp->sampling = kind == DATASET_GROOVE ? OPT_SAMPLING_CONSTANT : OPT_SAMPLING_INVERSE_SIGMOID;
	hp->sampling_rate = kind == DATASET_GROOVE ? 0.0 : 1000.0;       /* groove: teacher forcing */
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
	if (hp->num_steps < 0 || hp->num_steps > DATASET_MAX_STEPS || hp->num_steps % DATASET_STEPS_PER_BAR) {
		snprintf(err, errlen, "windows of %d steps: a multiple of %d up to %d", hp->num_steps,
		    DATASET_STEPS_PER_BAR, DATASET_MAX_STEPS);
		return -1;
	}
	m->kind = hp->kind;
	m->roland = hp->roland;
	m->humanize = hp->kind == DATASET_GROOVE && hp->humanize;
	m->T = hp->num_steps ? hp->num_steps : 2 * DATASET_STEPS_PER_BAR;
	m->D = hp->kind == DATASET_GROOVE ? 27 : hp->kind == DATASET_DRUMS ? DATASET_DRUM_CLASSES :
	    DATASET_MEL_CLASSES;
	m->D_in = hp->kind == DATASET_GROOVE ? 27 : hp->kind == DATASET_DRUMS ? 10 : DATASET_MEL_CLASSES;
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
	json_t *pc = m->roland ? dataset_pitch_classes(1) : NULL;
	char cfg[1024], *pcs = pc != NULL ? json_dumps(pc, JSON_COMPACT) : NULL, extra[600] = "";

	json_decref(pc);
	if (m->roland && pcs == NULL)
		return err_fail(err, errlen, "out of memory");
	if (pcs != NULL)
		snprintf(extra, sizeof extra, ", \"pitchClasses\": %s", pcs);
	free(pcs);
	for (int i = 0; i < m->np; i++) {
		t[i] = (struct ckpt_wtensor){ m->name[i], m->shape[i][1] ? 2 : 1, { m->shape[i][0],
		    m->shape[i][1] }, m->p[i].w };
	}
	if (m->kind == DATASET_GROOVE)
		snprintf(cfg, sizeof cfg, "{\"type\": \"MusicVAE\", \"dataConverter\": {\"type\": \"GrooveConverter\", "
		    "\"args\": {\"numSteps\": %d, \"humanize\": %s, \"tapify\": false%s}}}\n", m->T,
		    m->humanize ? "true" : "false", extra);
	else if (m->kind == DATASET_DRUMS)
		snprintf(cfg, sizeof cfg, "{\"type\": \"MusicVAE\", \"dataConverter\": {\"type\": \"DrumsConverter\", "
		    "\"args\": {\"numSteps\": %d%s}}}\n", m->T, extra);
	else
		snprintf(cfg, sizeof cfg, "{\"type\": \"MusicVAE\", \"dataConverter\": {\"type\": \"MelodyConverter\", "
		    "\"args\": {\"numSteps\": %d, \"minPitch\": %d, \"maxPitch\": %d}}}\n", m->T, DATASET_MIN_PITCH,
		    DATASET_MAX_PITCH);
	return ckpt_write(dir, cfg, t, (size_t)m->np, CKPT_FLOAT32, 0, err, errlen);
}

void
train_window_input(int kind, const uint16_t *tok, const int16_t *g, int T, float *x)
{
	int D = kind == DATASET_GROOVE ? 27 : kind == DATASET_DRUMS ? 10 : DATASET_MEL_CLASSES;

	memset(x, 0, sizeof(float) * T * D);
	for (int t = 0; t < T; t++) {
		float *row = x + (size_t)t * D;
		if (kind == DATASET_GROOVE) {
			const int16_t *gt = g + (size_t)t * DATASET_GROOVE_COLS;
			for (int k = 0; k < 9; k++) {
				if (!((tok[t] >> k) & 1))
					continue;
				row[k] = 1.0f;
				row[9 + k] = (float)(gt[k] / 127.0);
				row[18 + k] = (float)((double)gt[9 + k] / DATASET_OFFSET_ONE);
			}
			continue;
		}
		if (kind != DATASET_DRUMS) {
			row[tok[t]] = 1.0f;
			continue;
		}
		for (int k = 0; k < 9; k++)
			row[k] = (tok[t] >> k) & 1 ? 1.0f : 0.0f;
		row[9] = tok[t] == 0 ? 1.0f : 0.0f;    /* Python Magenta's "no hit" column */
	}
}
