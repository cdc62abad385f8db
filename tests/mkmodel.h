/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mkmodel.h: writes small random-weight MusicVAE checkpoints (flat or hierarchical melody, flat drums) with
 * ckpt_write, for tests that need a model but not the reference implementation. */
#ifndef MVD_MKMODEL_H
#define MVD_MKMODEL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt_write.h"
#include "rng.h"

/* Test hooks: leave out the tensor called mk_omit, give mk_grow one row more, add mk_extra (a copy of the
 * first tensor under that name), and use mk_config instead of the generated config.json. */
static const char *mk_omit, *mk_grow, *mk_extra, *mk_config;

struct mk {
	struct ckpt_wtensor t[64];
	float *buf[64];
	size_t n;
	struct rng r;
};

static inline void
mk_add(struct mk *m, const char *name, int rows, int cols, float scale)
{
	char *nm = malloc(strlen(name) + 1);
	size_t cnt = (size_t)rows * (cols ? cols : 1);
	float *v = malloc(sizeof(float) * cnt);

	strcpy(nm, name);
	if (mk_omit != NULL && strcmp(name, mk_omit) == 0) {
		free(nm);
		free(v);
		return;
	}
	if (mk_grow != NULL && strcmp(name, mk_grow) == 0) {
		rows++;
		cnt += cols ? cols : 1;
		v = realloc(v, sizeof(float) * cnt);
	}
	for (size_t i = 0; i < cnt; i++)
		v[i] = (float)((rng_uniform(&m->r) * 2.0 - 1.0) * scale);
	m->t[m->n].name = nm;
	m->t[m->n].ndim = cols ? 2 : 1;
	m->t[m->n].shape[0] = rows;
	m->t[m->n].shape[1] = cols;
	m->t[m->n].data = v;
	m->buf[m->n++] = v;
}

static inline void
mk_lstm(struct mk *m, const char *prefix, int in, int U)
{
	char n[256];

	snprintf(n, sizeof n, "%skernel", prefix);
	mk_add(m, n, in + U, 4 * U, 1.2f / (float)__builtin_sqrt((double)(in + U)) * 1.7f);
	snprintf(n, sizeof n, "%sbias", prefix);
	mk_add(m, n, 4 * U, 0, 0.1f);
}

static inline void
mk_dense(struct mk *m, const char *prefix, int in, int out, float scale)
{
	char n[256];

	snprintf(n, sizeof n, "%skernel", prefix);
	mk_add(m, n, in, out, scale);
	snprintf(n, sizeof n, "%sbias", prefix);
	mk_add(m, n, out, 0, 0.1f);
}

/* kind: "mel" (flat, 32 steps), "melhier" (64 steps, 4 segments), "drums" (flat, 32 steps, 512 classes). */
static inline int
mkmodel(const char *dir, const char *kind, uint64_t seed, char *err, size_t len)
{
	struct mk m;
	char cfg[512], p[256];
	int hier = strcmp(kind, "melhier") == 0, drums = strcmp(kind, "drums") == 0;
	int D_in = drums ? 10 : 90, D = drums ? 512 : 90, Z = 24, Ue = 32, Ud = 40, L = 2, Uc = 28;
	int rc;

	memset(&m, 0, sizeof m);
	rng_seed(&m.r, seed);
	snprintf(cfg, sizeof cfg, "{\"type\": \"MusicVAE\", \"dataConverter\": {\"type\": \"%s\", \"args\": "
	    "{\"numSteps\": %d%s%s}}}", drums ? "DrumsConverter" : "MelodyConverter", hier ? 64 : 32,
	    drums ? "" : ", \"minPitch\": 21, \"maxPitch\": 108", hier ? ", \"numSegments\": 4" : "");
	if (!hier) {
		mk_lstm(&m, "encoder/cell_0/bidirectional_rnn/fw/multi_rnn_cell/cell_0/lstm_cell/", D_in, Ue);
		mk_lstm(&m, "encoder/cell_0/bidirectional_rnn/bw/multi_rnn_cell/cell_0/lstm_cell/", D_in, Ue);
	} else
		for (int lv = 0; lv < 2; lv++)
			for (int d = 0; d < 2; d++) {
				snprintf(p, sizeof p, "encoder/hierarchical_level_%d/cell_0/bidirectional_rnn/%s/"
				    "multi_rnn_cell/cell_0/lstm_cell/", lv, d ? "bw" : "fw");
				mk_lstm(&m, p, lv ? 2 * Ue : D_in, Ue);
			}
	mk_dense(&m, "encoder/mu/", 2 * Ue, Z, 0.5f);
	mk_dense(&m, "encoder/sigma/", 2 * Ue, Z, 0.5f);
	if (hier) {
		for (int l = 0; l < 2; l++) {
			snprintf(p, sizeof p, "decoder/hierarchical_level_0/cell_%d/lstm_cell/", l);
			mk_lstm(&m, p, l ? Uc : 1, Uc);
		}
		mk_dense(&m, "decoder/hierarchical_level_0/initial_state/", Z, 2 * 2 * Uc, 0.5f);
	}
	for (int l = 0; l < L; l++) {
		snprintf(p, sizeof p, "%sdecoder/multi_rnn_cell/cell_%d/lstm_cell/", hier ? "core_decoder/" : "", l);
		mk_lstm(&m, p, l ? Ud : D + (hier ? Uc : Z), Ud);
	}
	snprintf(p, sizeof p, "%sdecoder/z_to_initial_state/", hier ? "core_decoder/" : "");
	mk_dense(&m, p, hier ? Uc : Z, 2 * L * Ud, 0.5f);
	snprintf(p, sizeof p, "%sdecoder/output_projection/", hier ? "core_decoder/" : "");
	mk_dense(&m, p, Ud, D, 1.0f);
	if (mk_extra != NULL) {
		m.t[m.n] = m.t[0];
		m.t[m.n].name = strcpy(malloc(strlen(mk_extra) + 1), mk_extra);
		m.buf[m.n++] = NULL;
	}
	rc = ckpt_write(dir, mk_config ? mk_config : cfg, m.t, m.n, CKPT_FLOAT32, 0, err, len);
	for (size_t i = 0; i < m.n; i++) {
		free((void *)m.t[i].name);
		free(m.buf[i]);
	}
	return rc;
}

#endif
