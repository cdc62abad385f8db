/* SPDX-License-Identifier: GPL-3.0-or-later */
/* vae.c: finds every layer of a MusicVAE in a magenta.js checkpoint by magenta.js's variable names and checks
 * that their shapes fit together before anything runs. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "vae.h"

#define NAME_MAX_LEN 256

/* "<prefix>kernel" [in, *] and "<prefix>bias" [out]; in < 0 derives it. */
static int
vae_get_dense(const struct vae *m, const char *prefix, int in, struct nn_dense *d, char *err, size_t len)
{
	char kn[NAME_MAX_LEN], bn[NAME_MAX_LEN];
	const struct ckpt_tensor *k, *b;
	int dims1[1] = { -1 }, dims2[2];

	snprintf(kn, sizeof kn, "%skernel", prefix);
	snprintf(bn, sizeof bn, "%sbias", prefix);
	if ((b = ckpt_get(&m->ck, bn, 1, dims1, err, len)) == NULL)
		return -1;
	dims2[0] = in;
	dims2[1] = b->shape[0];
	if ((k = ckpt_get(&m->ck, kn, 2, dims2, err, len)) == NULL)
		return -1;
	d->in = k->shape[0];
	d->out = b->shape[0];
	d->kernel = k->data;
	d->bias = b->data;
	return 0;
}

/* Looks up "<prefix>kernel" [K + U, 4U] and "<prefix>bias" [4U]: a dense layer whose width gives U.
 * in < 0: derive K from the kernel. */
static int
vae_get_lstm(const struct vae *m, const char *prefix, int in, struct nn_lstm *l, char *err, size_t len)
{
	struct nn_dense d;

	if (vae_get_dense(m, prefix, -1, &d, err, len) < 0)
		return -1;
	if (d.out % 4 != 0 || d.out == 0) {
		snprintf(err, len, "checkpoint %s: tensor '%sbias' has %d elements, not a positive multiple of 4 "
		    "(LSTM gates i|j|f|o)", m->ck.dir, prefix, d.out);
		return -1;
	}
	l->units = d.out / 4;
	if (d.in <= l->units || (in >= 0 && d.in != in + l->units)) {
		snprintf(err, len, "checkpoint %s: tensor '%skernel' has shape [%d,%d], expected [%d,%d] "
		    "(input + units, 4 x units)", m->ck.dir, prefix, d.in, d.out,
		    in >= 0 ? in + l->units : l->units + 1, d.out);
		return -1;
	}
	l->in = d.in - l->units;
	l->kernel = d.kernel;
	l->bias = d.bias;
	return 0;
}

/* A stack "<prefix>cell_%d/lstm_cell/" counted until the kernel is absent, as magenta.js does. */
static int
vae_get_stack(const struct vae *m, const char *prefix, int in0, struct nn_lstm *cells, int *n,
    char *err, size_t len)
{
	char p[NAME_MAX_LEN], kn[NAME_MAX_LEN];

	for (*n = 0;; (*n)++) {
		snprintf(p, sizeof p, "%scell_%d/lstm_cell/", prefix, *n);
		snprintf(kn, sizeof kn, "%skernel", p);
		if (ckpt_find(&m->ck, kn) == NULL)
			break;
		if (*n == VAE_MAX_LAYERS) {
			snprintf(err, len, "checkpoint %s: more than %d LSTM layers under '%s'", m->ck.dir,
			    VAE_MAX_LAYERS, prefix);
			return -1;
		}
		if (vae_get_lstm(m, p, *n == 0 ? in0 : cells[*n - 1].units, &cells[*n], err, len) < 0)
			return -1;
	}
	if (*n == 0) {
		snprintf(err, len, "checkpoint %s: tensor '%scell_0/lstm_cell/kernel' is missing from "
		    "weights_manifest.json", m->ck.dir, prefix);
		return -1;
	}
	return 0;
}

/* "<fmt with %s = fw|bw>": one bidirectional layer with equal shapes in both directions. */
static int
vae_get_bilstm(const struct vae *m, const char *fw, const char *bw, int in, struct vae_bilstm *bl,
    char *err, size_t len)
{
	if (vae_get_lstm(m, fw, in, &bl->fw, err, len) < 0 ||
	    vae_get_lstm(m, bw, bl->fw.in, &bl->bw, err, len) < 0)
		return -1;
	if (bl->bw.units != bl->fw.units) {
		snprintf(err, len, "checkpoint %s: '%s' has %d units but '%s' has %d", m->ck.dir, fw,
		    bl->fw.units, bw, bl->bw.units);
		return -1;
	}
	return 0;
}

static int
vae_get_encoder(struct vae *m, char *err, size_t len)
{
	const char *flat = "encoder/cell_%d/bidirectional_rnn/%s/multi_rnn_cell/cell_0/lstm_cell/";
	const char *hier = "encoder/hierarchical_level_%d/cell_0/bidirectional_rnn/%s/multi_rnn_cell/"
	    "cell_0/lstm_cell/";
	char fw[NAME_MAX_LEN], bw[NAME_MAX_LEN], probe[NAME_MAX_LEN];
	int levels = m->hier_enc ? 2 : 1;

	if (!m->hier_enc) {
		snprintf(probe, sizeof probe, flat, 1, "fw");
		strcat(probe, "kernel");
		if (ckpt_find(&m->ck, probe) != NULL) {
			snprintf(err, len, "checkpoint %s: '%s' is present: only single-layer bidirectional "
			    "encoders are supported (as in magenta.js)", m->ck.dir, probe);
			return -1;
		}
	}
	for (int lv = 0; lv < levels; lv++) {
		snprintf(fw, sizeof fw, m->hier_enc ? hier : flat, lv, "fw");
		snprintf(bw, sizeof bw, m->hier_enc ? hier : flat, lv, "bw");
		if (vae_get_bilstm(m, fw, bw, lv == 0 ? -1 : 2 * m->enc[0].fw.units, &m->enc[lv],
		    err, len) < 0)
			return -1;
	}
	m->ctrl_depth = m->enc[0].fw.in - m->codec.in_depth;
	if (m->ctrl_depth < 0) {
		snprintf(err, len, "checkpoint %s: the encoder takes %d input columns but config.json's %s "
		    "makes %d", m->ck.dir, m->enc[0].fw.in, codec_name(&m->codec), m->codec.in_depth);
		return -1;
	}
	if (vae_get_dense(m, "encoder/mu/", 2 * m->enc[levels - 1].fw.units, &m->mu, err, len) < 0)
		return -1;
	m->z_dim = m->mu.out;
	return 0;
}

/* One base decoder under prefix P; emb = width of the embedding it is fed (z or the conductor's h). */
static int
vae_get_core(struct vae *m, const char *P, int split, int emb, struct vae_core *c, char *err, size_t len)
{
	char p[NAME_MAX_LEN];
	const struct ckpt_tensor *we, *wd;
	int d3[3] = { -1, 1, -1 }, in0, want = m->codec.split_depth[split];

	c->emb = emb;
	snprintf(p, sizeof p, "%snade/w_enc", P);
	if ((we = ckpt_find(&m->ck, p)) != NULL) {
		if ((we = ckpt_get(&m->ck, p, 3, d3, err, len)) == NULL)
			return -1;
		c->kind = VAE_OUT_NADE;
		c->depth = we->shape[0];
		c->nade_h = we->shape[2];
		c->nade_w_enc = we->data;
		snprintf(p, sizeof p, "%snade/w_dec_t", P);
		d3[0] = c->depth, d3[1] = c->nade_h, d3[2] = 1;
		if ((wd = ckpt_get(&m->ck, p, 3, d3, err, len)) == NULL)
			return -1;
		c->nade_w_dec = wd->data;
	} else
		c->kind = m->codec.type == CODEC_GROOVE ? VAE_OUT_GROOVE :
		    m->use_boolean ? VAE_OUT_BOOLEAN : VAE_OUT_CATEGORICAL;
	snprintf(p, sizeof p, "%soutput_projection/", P);
	if (vae_get_dense(m, p, -1, &c->proj, err, len) < 0)
		return -1;
	if (c->kind != VAE_OUT_NADE)
		c->depth = c->proj.out;
	else if (c->proj.out != c->nade_h + c->depth) {
		snprintf(err, len, "checkpoint %s: tensor '%sbias' has %d elements, expected NADE hidden %d + "
		    "dims %d", m->ck.dir, p, c->proj.out, c->nade_h, c->depth);
		return -1;
	}
	if (c->depth != want) {
		snprintf(err, len, "checkpoint %s: decoder '%s' outputs %d columns but config.json's %s needs "
		    "%d", m->ck.dir, P, c->depth, codec_name(&m->codec), want);
		return -1;
	}
	c->ctrl = m->has_pre ? 2 * m->pre.fw.units : m->ctrl_depth;
	in0 = c->depth + emb + c->ctrl;
	snprintf(p, sizeof p, "%smulti_rnn_cell/", P);
	if (vae_get_stack(m, p, in0, c->cell, &c->n_layers, err, len) < 0)
		return -1;
	c->units = c->cell[0].units;
	for (int l = 1; l < c->n_layers; l++)
		if (c->cell[l].units != c->units) {
			snprintf(err, len, "checkpoint %s: decoder '%s' layer %d has %d units, layer 0 has %d "
			    "(magenta.js splits the initial state equally)", m->ck.dir, P, l,
			    c->cell[l].units, c->units);
			return -1;
		}
	if (c->proj.in != c->units) {
		snprintf(err, len, "checkpoint %s: tensor '%soutput_projection/kernel' has %d rows, expected "
		    "%d (decoder units)", m->ck.dir, P, c->proj.in, c->units);
		return -1;
	}
	snprintf(p, sizeof p, "%sz_to_initial_state/", P);
	if (vae_get_dense(m, p, emb, &c->init, err, len) < 0)
		return -1;
	if (c->init.out != 2 * c->n_layers * c->units) {
		snprintf(err, len, "checkpoint %s: tensor '%sbias' has %d elements, expected 2 x %d layers x "
		    "%d units", m->ck.dir, p, c->init.out, c->n_layers, c->units);
		return -1;
	}
	return 0;
}

static int
vae_get_conductor(struct vae *m, char *err, size_t len)
{
	const char *P = "decoder/hierarchical_level_0/";
	char p[NAME_MAX_LEN];

	if (vae_get_stack(m, P, 1, m->cond, &m->n_cond, err, len) < 0)
		return -1;
	for (int l = 1; l < m->n_cond; l++)
		if (m->cond[l].units != m->cond[0].units) {
			snprintf(err, len, "checkpoint %s: conductor layer %d has %d units, layer 0 has %d",
			    m->ck.dir, l, m->cond[l].units, m->cond[0].units);
			return -1;
		}
	snprintf(p, sizeof p, "%sinitial_state/", P);
	if (vae_get_dense(m, p, m->z_dim, &m->cond_init, err, len) < 0)
		return -1;
	if (m->cond_init.out != 2 * m->n_cond * m->cond[0].units) {
		snprintf(err, len, "checkpoint %s: tensor '%sbias' has %d elements, expected 2 x %d layers x "
		    "%d units", m->ck.dir, p, m->cond_init.out, m->n_cond, m->cond[0].units);
		return -1;
	}
	return 0;
}

static int
vae_get_decoders(struct vae *m, char *err, size_t len)
{
	const char *pre = "control_preprocessing/cell_0/bidirectional_rnn/%s/multi_rnn_cell/cell_0/lstm_cell/";
	char P[NAME_MAX_LEN], fw[NAME_MAX_LEN], bw[NAME_MAX_LEN];
	const char *base = m->num_segments > 1 ? "core_decoder/" : "";
	int emb = m->z_dim, col = 0;

	snprintf(fw, sizeof fw, pre, "fw");
	snprintf(bw, sizeof bw, pre, "bw");
	snprintf(P, sizeof P, "%skernel", fw);
	m->has_pre = ckpt_find(&m->ck, P) != NULL;
	if (m->has_pre && vae_get_bilstm(m, fw, bw, m->ctrl_depth, &m->pre, err, len) < 0)
		return -1;
	if (m->num_segments > 1) {
		if (vae_get_conductor(m, err, len) < 0)
			return -1;
		emb = m->cond[0].units;
	}
	m->n_cores = m->codec.n_splits;
	for (int i = 0; i < m->n_cores; i++) {
		if (m->n_cores > 1)
			snprintf(P, sizeof P, "%score_decoder_%d/decoder/", base, i);
		else
			snprintf(P, sizeof P, "%sdecoder/", base);
		if (vae_get_core(m, P, i, emb, &m->core[i], err, len) < 0)
			return -1;
		m->core[i].col0 = col;
		col += m->core[i].depth;
	}
	m->out_depth = col;
	return 0;
}

int
vae_load(struct vae *m, const char *dir, char *err, size_t len)
{
	const json_t *dc;
	char why[512];
	int want_ctrl;

	memset(m, 0, sizeof *m);
	if (ckpt_open(&m->ck, dir, err, len) < 0)
		return -1;
	dc = json_object_get(m->ck.config, "dataConverter");
	if (codec_from_json(&m->codec, dc, why, sizeof why) < 0) {
		snprintf(err, len, "%s/config.json: %s", dir, why);
		goto fail;
	}
	m->use_boolean = json_is_true(json_object_get(m->ck.config, "useBooleanDecoder"));
	m->num_steps = m->codec.num_steps;
	m->num_segments = m->codec.num_segments > 0 ? m->codec.num_segments : 1;
	m->hier_enc = m->codec.num_segments > 0;
	/* codec_from_json has checked that the segments divide the steps. */
	m->seg_len = m->num_steps / m->num_segments;
	if (vae_get_encoder(m, err, len) < 0 || vae_get_decoders(m, err, len) < 0)
		goto fail;
	if (ctrl_from_json(&m->ctrl, m->ck.config, why, sizeof why) < 0) {
		snprintf(err, len, "%s/config.json: %s", dir, why);
		goto fail;
	}
	want_ctrl = ctrl_depth(&m->ctrl);
	if (want_ctrl != m->ctrl_depth) {
		snprintf(err, len, "checkpoint %s: the encoder takes %d control columns per step but "
		    "config.json's chordEncoder/conditionOnKey/extraControls make %d", dir, m->ctrl_depth,
		    want_ctrl);
		goto fail;
	}
	return 0;
fail:
	ckpt_close(&m->ck);
	return -1;
}

void
vae_free(struct vae *m)
{
	ckpt_close(&m->ck);
}

void
vae_describe(const struct vae *m, char *buf, size_t len)
{
	static const char *const kinds[] = { "categorical", "boolean", "NADE", "groove" };
	const struct vae_core *c = &m->core[0];
	int n;

	n = snprintf(buf, len, "%s, %d steps, z %d, %s encoder %d bi", codec_name(&m->codec),
	    m->num_steps, m->z_dim, m->hier_enc ? "hierarchical" : "flat", m->enc[0].fw.units);
	if (m->n_cond && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, ", conductor %dx%d over %d segments", m->n_cond,
		    m->cond[0].units, m->num_segments);
	if (n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, ", %d %s decoder%s %dx%d, %d output columns",
		    m->n_cores, kinds[c->kind], m->n_cores > 1 ? "s" : "", c->n_layers, c->units,
		    m->out_depth);
	if (m->ctrl_depth && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - n, ", %d control columns%s", m->ctrl_depth,
		    m->has_pre ? " (preprocessed)" : "");
}
