/* SPDX-License-Identifier: GPL-3.0-or-later */
/* engine_setup.c: the engine's state from engine_init to engine_fini, and what is sized or loaded per model
 * (buffers, attribute vectors, chord controls), which model swaps and reloads redo on the engine thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/eventfd.h>
#include <unistd.h>

#include "attr.h"
#include "err.h"
#include "engine.h"
#include "lat.h"
#include "log.h"

int
engine_bars_per_window(const struct engine *e)
{
	int w = e->model->vae.num_steps / RT_STEPS_PER_BAR;

	return w > 0 ? w : 1;
}

static void
engine_free_buffers(struct engine *e)
{
	free(e->z);
	free(e->zprev);
	for (int i = 0; i < ENGINE_SLOTS; i++)
		free(e->slot[i]);
	free(e->ctrl);
	free(e->rows);
	free(e->attr);
	free(e->answer_z);
	free(e->cand_z);
	free(e->cand_rows);
	e->z = e->zprev = e->ctrl = e->rows = e->attr = e->answer_z = e->cand_z = e->cand_rows = NULL;
	memset(e->slot, 0, sizeof e->slot);
}

int
engine_build_controls(struct engine *e, int n_chords, const char (*chords)[16], int key, float **out, char *err,
    size_t len)
{
	const struct vae *m = &e->model->vae;
	const char *names[PROTO_MAX_CHORDS], *nc = CTRL_NO_CHORD;
	float *extra = NULL;
	int rc, width = 0;

	*out = NULL;
	if (m->ctrl_depth == 0)
		return 0;
	for (int i = 0; i < n_chords && i < PROTO_MAX_CHORDS; i++)
		names[i] = chords[i];
	for (int k = 0; k < m->ctrl.n_extra; k++)
		width += m->ctrl.extra_depth[k];
	*out = calloc((size_t)m->num_steps * m->ctrl_depth, sizeof(float));
	extra = calloc((size_t)m->num_steps * (width + 1), sizeof(float));
	if (*out == NULL || extra == NULL)
		rc = err_fail(err, len, "out of memory");
	else
		rc = ctrl_build(&m->ctrl, m->num_steps, !m->ctrl.chords ? NULL : n_chords > 0 ? names : &nc,
		    !m->ctrl.chords ? 0 : n_chords > 0 ? n_chords : 1, m->ctrl.condition_on_key ? (key >= 0 ? key : 0) :
		    -1, width ? extra : NULL, *out, err, len);
	free(extra);
	if (rc < 0) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

/* Controls for conditioned models: the chords and key given over the control socket (`chords`, `key`), else
 * "N.C.", key C and zero extra controls, which is said once. */
static int
engine_controls(struct engine *e, char *err, size_t len)
{
	const struct vae *m = &e->model->vae;

	if (m->ctrl_depth == 0)
		return 0;
	if (engine_build_controls(e, e->n_chords, e->chords, e->key, &e->ctrl, err, len) < 0)
		return -1;
	if (e->n_chords == 0 && m->ctrl.chords)
		log_warnx("this model is conditioned on chords: playing it with no chord until the control socket's "
		    "`chords` gives some");
	return 0;
}

/* The model's attribute vectors (every one in attributes.json, or the configured file) with the configured
 * offsets as their amounts. Amounts already set for a name the new file also has are kept when keep is set. */
int
engine_load_attrs(struct engine *e, int keep, char *err, size_t len)
{
	char path[1100], names[ENGINE_MAX_ATTRS][ATTR_NAME_MAX];
	float old_amount[ENGINE_MAX_ATTRS];
	int Z = e->model->vae.z_dim, old_n = e->n_attr, n = 0;
	char old_name[ENGINE_MAX_ATTRS][64];

	memcpy(old_name, e->attr_name, sizeof old_name);
	memcpy(old_amount, e->attr_amount, sizeof old_amount);
	e->n_attr = 0;
	if (e->cfg.attributes[0])
		snprintf(path, sizeof path, "%s", e->cfg.attributes);
	else
		snprintf(path, sizeof path, "%s/attributes.json", e->model->vae.ck.dir);
	if ((e->attr = calloc((size_t)ENGINE_MAX_ATTRS * Z, sizeof(float))) == NULL)
		return snprintf(err, len, "out of memory"), -1;
	if (access(path, R_OK) != 0 && !e->cfg.attributes[0] && e->cfg.n_attrs == 0)
		return 0;       /* a model without attribute vectors */
	if (attr_load_all(path, Z, ENGINE_MAX_ATTRS, names, e->attr, &n, err, len) < 0)
		return -1;
	e->n_attr = n;
	for (int i = 0; i < n; i++) {
		memcpy(e->attr_name[i], names[i], sizeof e->attr_name[i]);
		e->attr_amount[i] = 0.0f;
		for (int k = 0; keep && k < old_n; k++)
			if (strcmp(old_name[k], names[i]) == 0)
				e->attr_amount[i] = old_amount[k];
	}
	for (int k = 0; k < e->cfg.n_attrs && !keep; k++) {
		int i = 0;
		while (i < n && strcmp(e->attr_name[i], e->cfg.attr_name[k]) != 0)
			i++;
		if (i == n)
			return snprintf(err, len, "%s: attributes.%s: no such attribute", path, e->cfg.attr_name[k]), -1;
		e->attr_amount[i] = e->cfg.attr_amount[k];
	}
	return 0;
}

/* (Re)allocates everything sized by the model; keep: a model swap or reload, whose slots (same z size) and
 * attribute amounts stay. */
int
engine_buffers(struct engine *e, int keep, char *err, size_t len)
{
	const struct vae *m = &e->model->vae;
	int Z = m->z_dim, oldZ = e->zdim;
	float *slot[ENGINE_SLOTS];

	memcpy(slot, e->slot, sizeof slot);
	memset(e->slot, 0, sizeof e->slot);
	for (int i = 0; i < ENGINE_SLOTS; i++)
		if (!(keep && Z == oldZ)) {
			free(slot[i]);
			slot[i] = NULL;
		}
	engine_free_buffers(e);         /* the slots are in slot[] now */
	e->z = calloc((size_t)Z, sizeof(float));
	e->zprev = calloc((size_t)Z, sizeof(float));
	e->rows = calloc((size_t)m->num_steps * m->out_depth, sizeof(float));
	e->answer_z = calloc((size_t)ENGINE_MAX_ANSWER * Z, sizeof(float));
	e->cand_z = calloc((size_t)CAND_MAX * Z, sizeof(float));
	e->cand_rows = calloc((size_t)CAND_MAX * m->num_steps * m->out_depth, sizeof(float));
	e->cand_pick = -1;
	e->ctrl = e->attr = NULL;
	e->zdim = Z;
	for (int i = 0; i < ENGINE_SLOTS; i++) {
		e->slot[i] = slot[i] ? slot[i] : calloc((size_t)Z, sizeof(float));
		if (e->slot[i] == NULL)
			return snprintf(err, len, "out of memory"), -1;
		if (slot[i] == NULL)
			e->slot_src[i][0] = '\0';
	}
	if (!e->z || !e->zprev || !e->rows || !e->answer_z || !e->cand_z || !e->cand_rows)
		return snprintf(err, len, "out of memory"), -1;
	if (model_reserve(e->model, CAND_MAX, err, len) < 0)  /* continue's candidates: one batched decode */
		return -1;
	for (int i = 0; i < 2; i++)     /* A and B: prior samples, so that morph plays from the start */
		if (!e->slot_src[i][0]) {
			lat_sample(&e->rng, Z, e->slot[i]);
			snprintf(e->slot_src[i], sizeof e->slot_src[i], "prior sample");
		}
	lat_sample(&e->rng, Z, e->zprev);
	e->answer_windows = 0;
	if (engine_load_attrs(e, keep, err, len) < 0)
		return -1;
	return engine_controls(e, err, len);
}

int
engine_init(struct engine *e, struct rt *rt, struct model *model, const struct cfg *cfg, char *err, size_t len)
{
	memset(e, 0, sizeof *e);
	e->rt = rt;
	e->model = model;
	e->cfg = *cfg;
	e->event_fd = -1;
	pthread_mutex_init(&e->lock, NULL);
	pthread_mutex_init(&e->done_lock, NULL);
	e->seed = cfg->seed ? cfg->seed : (uint64_t)time(NULL);
	rng_seed(&e->rng, e->seed);
	atomic_init(&e->mode, cfg->mode);
	seq_init(&e->phrase);
	seq_init(&e->out);
	seq_init(&e->last_phrase);
	seq_init(&e->cand_seq);
	capture_reset(&e->cap, codec_is_drums(&model->vae.codec));
	e->key = -1;
	e->morph_a = 0;
	e->morph_b = 1;
	e->last_bar = -1;
	for (int i = 0; i < ENGINE_HISTORY; i++)
		e->hist[i].bar = -1;
	for (int p = 0; p < 128; p++)
		e->in_start[p] = -1;
	if ((e->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		snprintf(err, len, "eventfd: %s", strerror(errno));
		return -1;
	}
	return engine_buffers(e, 0, err, len);
}

void
engine_fini(struct engine *e)
{
	struct engine_req q = { .type = ENGINE_REQ_QUIT };
	struct engine_ctl *c;

	if (e->thread_started) {
		engine_request(e, &q);
		atomic_store(&e->quit, 1);      /* also ends a thread stuck in the test hang hook */
		pthread_join(e->thread, NULL);
	}
	/* requests the thread never ran (it stopped first) */
	for (int i = 0; i < e->n_req; i++) {
		if (e->req[i].type == ENGINE_REQ_CTL)
			engine_ctl_free(e->req[i].ctl);
		else if (e->req[i].type == ENGINE_REQ_CFG)
			free(e->req[i].cfg);
		else if (e->req[i].type == ENGINE_REQ_MODEL && e->req[i].model) {
			model_close(e->req[i].model);
			free(e->req[i].model);
		}
	}
	while ((c = engine_ctl_done(e)) != NULL)
		engine_ctl_free(c);
	engine_free_buffers(e);
	seq_fini(&e->phrase);
	seq_fini(&e->out);
	seq_fini(&e->last_phrase);
	seq_fini(&e->cand_seq);
	if (e->model) {
		model_close(e->model);
		free(e->model);
	}
	if (e->event_fd >= 0)
		close(e->event_fd);
	pthread_mutex_destroy(&e->lock);
	pthread_mutex_destroy(&e->done_lock);
}
