/* SPDX-License-Identifier: GPL-3.0-or-later */
/* engine.c: the inference worker thread. Wakes once per backend period, turns captured notes into phrases,
 * decodes windows of the model's length and queues them as bars ahead of the clock; mode changes, model swaps
 * and stops start a new epoch so the RT thread silences what sounds and drops what is queued. */
#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attr.h"
#include "engine.h"
#include "lat.h"
#include "log.h"

#define CNT_SET(e, f, v) atomic_store_explicit(&(e)->cnt.f, (v), memory_order_relaxed)
#define CNT_ADD(e, f, n) atomic_fetch_add_explicit(&(e)->cnt.f, (n), memory_order_relaxed)
#define NOW(e, f) atomic_load_explicit(&(e)->rt->now.f, memory_order_relaxed)

static int
engine_bars_per_window(const struct engine *e)
{
	int w = e->model->vae.num_steps / RT_STEPS_PER_BAR;

	return w > 0 ? w : 1;
}

static int
engine_drums(const struct model *md)
{
	enum codec_type t = md->vae.codec.type;

	return t == CODEC_DRUMS || t == CODEC_DRUMROLL || t == CODEC_DRUMS_ONEHOT || t == CODEC_GROOVE;
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
	e->z = e->zprev = e->ctrl = e->rows = e->attr = NULL;
	memset(e->slot, 0, sizeof e->slot);
}

/* Controls for conditioned models: the daemon has no chords to give yet, so it plays them with "N.C.",
 * key C and zero extra controls, and says so once. */
static int
engine_controls(struct engine *e, char *err, size_t len)
{
	const struct vae *m = &e->model->vae;
	const char *nc = CTRL_NO_CHORD;
	float *extra = NULL;
	int rc, width = 0;

	if (m->ctrl_depth == 0)
		return 0;
	for (int k = 0; k < m->ctrl.n_extra; k++)
		width += m->ctrl.extra_depth[k];
	e->ctrl = calloc((size_t)m->num_steps * m->ctrl_depth, sizeof(float));
	extra = calloc((size_t)m->num_steps * (width + 1), sizeof(float));
	rc = e->ctrl && extra ? ctrl_build(&m->ctrl, m->num_steps, m->ctrl.chords ? &nc : NULL,
	    m->ctrl.chords ? 1 : 0, m->ctrl.condition_on_key ? 0 : -1, width ? extra : NULL, e->ctrl, err,
	    len) : -1;
	free(extra);
	if (rc == 0)
		log_warnx("this model is conditioned on chords/key/controls: playing it with no chord, key C and "
		    "zero controls");
	return rc;
}

/* (Re)allocates everything sized by the model and reads the attribute vectors the configuration names. */
static int
engine_buffers(struct engine *e, char *err, size_t len)
{
	const struct vae *m = &e->model->vae;
	int Z = m->z_dim;
	char path[1100];
	const char *names[CFG_MAX_ATTRS];

	engine_free_buffers(e);
	e->z = calloc((size_t)Z, sizeof(float));
	e->zprev = calloc((size_t)Z, sizeof(float));
	for (int i = 0; i < ENGINE_SLOTS; i++)
		e->slot[i] = calloc((size_t)Z, sizeof(float));
	e->rows = calloc((size_t)m->num_steps * m->out_depth, sizeof(float));
	e->attr = calloc((size_t)(e->cfg.n_attrs + 1) * Z, sizeof(float));
	if (!e->z || !e->zprev || !e->slot[0] || !e->slot[1] || !e->rows || !e->attr) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	for (int i = 0; i < ENGINE_SLOTS; i++)
		lat_sample(&e->rng, Z, e->slot[i]);
	lat_sample(&e->rng, Z, e->zprev);
	if (e->cfg.n_attrs > 0) {
		if (e->cfg.attributes[0])
			snprintf(path, sizeof path, "%s", e->cfg.attributes);
		else
			snprintf(path, sizeof path, "%s/attributes.json", e->cfg.model);
		for (int k = 0; k < e->cfg.n_attrs; k++)
			names[k] = e->cfg.attr_name[k];
		if (attr_load(path, Z, e->cfg.n_attrs, names, e->attr, err, len) < 0)
			return -1;
	}
	return engine_controls(e, err, len);
}

int
engine_init(struct engine *e, struct rt *rt, struct model *model, const struct cfg *cfg, char *err, size_t len)
{
	memset(e, 0, sizeof *e);
	e->rt = rt;
	e->model = model;
	e->cfg = *cfg;
	pthread_mutex_init(&e->lock, NULL);
	e->seed = cfg->seed ? cfg->seed : (uint64_t)time(NULL);
	rng_seed(&e->rng, e->seed);
	atomic_init(&e->mode, cfg->mode);
	seq_init(&e->phrase);
	seq_init(&e->out);
	capture_reset(&e->cap, engine_drums(model));
	e->morph_dir = 1;
	return engine_buffers(e, err, len);
}

/* A new epoch: the RT thread silences everything and drops queued bars; we queue again from `bar`. */
static void
engine_flush(struct engine *e, int64_t bar)
{
	e->epoch++;
	if (rt_command(e->rt, RT_CMD_FLUSH, e->epoch, 0) < 0)
		log_warnx("RT command queue full: flush lost");
	e->next_bar = e->queued_from = bar;
}

static int
engine_note_cmp(const void *a, const void *b)
{
	const struct rt_note *x = a, *y = b;

	if (x->step != y->step)
		return x->step - y->step;
	return x->status - y->status;   /* 0x80 before 0x90 */
}

static void
engine_bar_add(struct rt_bar *b, int step, uint8_t status, int pitch, int vel)
{
	if (b->n < RT_BAR_EVENTS)
		b->ev[b->n++] = (struct rt_note){ (uint8_t)step, status, (uint8_t)pitch, (uint8_t)vel };
}

/* Splits a decoded window's notes into bars: onsets at their step, note-offs at the end step or at the bar
 * line, whichever comes first (a note never rings into the next bar, so a late or repeated bar cannot
 * leave one hanging). */
static int
engine_queue_window(struct engine *e, int64_t first_bar, uint16_t flags)
{
	static struct rt_bar bar;       /* 2.6 KB: kept off the stack; engine thread only */
	int W = engine_bars_per_window(e);
	char err[256];

	if (codec_decode(&e->model->vae.codec, e->rows, &e->out, err, sizeof err) < 0) {
		log_warnx("decode: %s", err);
		return -1;
	}
	for (int k = 0; k < W; k++) {
		memset(&bar, 0, offsetof(struct rt_bar, ev));
		bar.bar = first_bar + k;
		bar.epoch = e->epoch;
		bar.flags = flags;
		for (size_t i = 0; i < e->out.n; i++) {
			const struct note *n = &e->out.notes[i];
			int s = n->start - k * RT_STEPS_PER_BAR, end = n->end - k * RT_STEPS_PER_BAR;
			int vel = n->velocity > 0 ? n->velocity : e->cfg.velocity;
			if (s < 0 || s >= RT_STEPS_PER_BAR || n->pitch < 0 || n->pitch > 127)
				continue;
			if (end > RT_STEPS_PER_BAR)
				end = RT_STEPS_PER_BAR;
			if (end <= s)
				end = s + 1;
			engine_bar_add(&bar, s, 0x90, n->pitch, vel);
			engine_bar_add(&bar, end, 0x80, n->pitch, 0);
		}
		qsort(bar.ev, bar.n, sizeof bar.ev[0], engine_note_cmp);
		if (ring_push(&e->rt->bars, &bar) < 0) {
			log_warnx("bar queue full: bar %lld dropped", (long long)bar.bar);
			return -1;
		}
		CNT_ADD(e, bars_queued, 1);
	}
	return 0;
}

static uint64_t
engine_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Decodes e->z (plus the attribute offsets) into e->rows at the configured temperature. */
static int
engine_decode(struct engine *e, const float *z)
{
	const struct vae *m = &e->model->vae;
	float amount[CFG_MAX_ATTRS];
	const float *vec[CFG_MAX_ATTRS];
	uint64_t t0 = engine_usec(), dt;
	char err[256];

	if (z != e->z)
		memcpy(e->z, z, sizeof(float) * m->z_dim);
	for (int k = 0; k < e->cfg.n_attrs; k++) {
		vec[k] = e->attr + (size_t)k * m->z_dim;
		amount[k] = e->cfg.attr_amount[k];
	}
	lat_add_attributes(m->z_dim, e->z, e->cfg.n_attrs, vec, amount);
	if (model_decode(e->model, e->z, 1, e->ctrl, e->cfg.temperature, e->window_seed, e->rows, err,
	    sizeof err) < 0) {
		log_warnx("decode: %s", err);
		return -1;
	}
	dt = engine_usec() - t0;
	CNT_ADD(e, windows, 1);
	CNT_SET(e, decode_us_last, dt);
	if (dt > atomic_load_explicit(&e->cnt.decode_us_max, memory_order_relaxed))
		CNT_SET(e, decode_us_max, dt);
	return 0;
}

/* generate: with walk 0, window at bar b is a pure function of (seed, b): its z and its sampling stream
 * come from a generator seeded with both, so a song position always plays the same bars however the
 * transport got there. With walk w > 0 the z of successive windows form a chain that stays on the prior:
 * z' = sqrt(1 - w^2) z + w n, n ~ N(0, I). */
static void
engine_z_generate(struct engine *e, int64_t bar)
{
	int Z = e->model->vae.z_dim;
	float w = e->cfg.walk > 1.0f ? 1.0f : e->cfg.walk;
	struct rng r;

	if (w <= 0.0f) {
		rng_seed(&r, e->seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(bar + 1)));
		lat_sample(&r, Z, e->zprev);
		e->window_seed = rng_next(&r);
		return;
	}
	for (int i = 0; i < Z; i++)
		e->zprev[i] = sqrtf(1.0f - w * w) * e->zprev[i] + w * (float)rng_normal(&e->rng);
	e->window_seed = rng_next(&e->rng);
}

/* morph: window i of M goes from slot A to slot B at t = i / (M - 1); then hold B or swap and go back. */
static void
engine_z_morph(struct engine *e)
{
	int Z = e->model->vae.z_dim, W = engine_bars_per_window(e);
	int M = e->cfg.morph_bars / W > 1 ? e->cfg.morph_bars / W : 2;
	float t;

	if (e->morph_window >= M) {
		if (e->cfg.morph_end == CFG_MORPH_PINGPONG) {
			float *tmp = e->slot[0];
			e->slot[0] = e->slot[1];
			e->slot[1] = tmp;
			e->morph_window = 1;    /* B was just played: start one step towards A */
		} else
			e->morph_window = M - 1;
	}
	t = (float)e->morph_window / (float)(M - 1);
	if (e->cfg.slerp)
		lat_slerp(Z, e->slot[0], e->slot[1], t, e->zprev);
	else
		lat_lerp(Z, e->slot[0], e->slot[1], t, e->zprev);
	e->morph_window++;
	e->window_seed = rng_next(&e->rng);
}

/* generate and morph: keep bars queued up to lookahead bars past the current one. */
static void
engine_fill(struct engine *e, int64_t cur, int mode)
{
	int W = engine_bars_per_window(e);

	while (e->next_bar <= cur + e->cfg.lookahead_bars && ring_space(&e->rt->bars) >= (size_t)W) {
		if (mode == CFG_MODE_MORPH)
			engine_z_morph(e);
		else
			engine_z_generate(e, e->next_bar);
		if (engine_decode(e, e->zprev) < 0 || engine_queue_window(e, e->next_bar, RT_BAR_REPEAT) < 0)
			return;
		e->next_bar += W;
	}
}

/* The clock position now, in fractional steps (-1 when stopped or unknown). */
static double
engine_pos(const struct engine *e)
{
	int64_t step = NOW(e, step);
	double fps = NOW(e, frames_per_step_x1000) / 1000.0;

	if (!NOW(e, running) || step < 0 || fps <= 0.0)
		return -1.0;
	return (double)step + ((double)NOW(e, frame) - (double)NOW(e, step_frame)) / fps;
}

/* Keeps the notes a melody model can take (pitch range) in the phrase. */
static void
engine_fit_phrase(struct engine *e)
{
	const struct codec *c = &e->model->vae.codec;
	size_t kept = 0;

	if (c->type != CODEC_MELODY)
		return;
	for (size_t i = 0; i < e->phrase.n; i++)
		if (e->phrase.notes[i].pitch >= c->min_pitch && e->phrase.notes[i].pitch <= c->max_pitch)
			e->phrase.notes[kept++] = e->phrase.notes[i];
	e->phrase.n = kept;
}

/* Encodes the phrase starting at step `start` and queues the answer from `bar`. */
static void
engine_answer(struct engine *e, int64_t start, int64_t bar)
{
	const struct vae *m = &e->model->vae;
	int W = engine_bars_per_window(e), windows = e->cfg.answer_bars / W > 0 ? e->cfg.answer_bars / W : 1;
	char err[512];

	capture_window(&e->cap, start, m->num_steps, &e->phrase);
	engine_fit_phrase(e);
	if (model_encode(e->model, &e->phrase, 1, e->ctrl, e->zprev, err, sizeof err) < 0) {
		log_warnx("phrase at step %lld: %s", (long long)start, err);
		CNT_ADD(e, encode_errors, 1);
		capture_reset(&e->cap, e->cap.drums);
		return;
	}
	CNT_ADD(e, phrases, 1);
	for (int w = 0; w < windows; w++) {
		if (w > 0)      /* drift: a random walk of the answer's z, per bar */
			for (int i = 0; i < m->z_dim; i++)
				e->zprev[i] += e->cfg.drift * sqrtf((float)W) * (float)rng_normal(&e->rng);
		e->window_seed = rng_next(&e->rng);
		if (engine_decode(e, e->zprev) < 0 || engine_queue_window(e, bar + (int64_t)w * W, 0) < 0)
			break;
	}
	e->listen = ENGINE_ANSWERING;
	e->answer_end = bar + (int64_t)windows * W;
	capture_reset(&e->cap, e->cap.drums);
}

/* continue: listen until a phrase of the model's length is played (answer at the bar line right after it)
 * or the player rests for rest_seconds (answer at the next bar line). */
static void
engine_continue(struct engine *e)
{
	int W = engine_bars_per_window(e);
	double pos = engine_pos(e), rest = e->cfg.rest_seconds * e->rt->clock.sr;
	int64_t first, bar0, end;

	if (e->listen == ENGINE_ANSWERING) {
		if (pos >= 0.0 && pos >= (double)e->answer_end * RT_STEPS_PER_BAR - 0.5)
			e->listen = ENGINE_LISTENING;
		capture_reset(&e->cap, e->cap.drums);  /* the player listens while we answer */
		return;
	}
	if (pos < 0.0 || (first = capture_first_step(&e->cap)) < 0)
		return;
	bar0 = first / RT_STEPS_PER_BAR;
	end = (bar0 + W) * RT_STEPS_PER_BAR;
	if (pos >= (double)end - 0.5) {
		engine_answer(e, bar0 * RT_STEPS_PER_BAR, bar0 + W);
		return;
	}
	if (!capture_held(&e->cap) && (double)(NOW(e, frame) - e->cap.last_frame) >= rest) {
		int64_t last_bar = capture_last_step(&e->cap) / RT_STEPS_PER_BAR;
		int64_t start_bar = last_bar - W + 1 > bar0 ? last_bar - W + 1 : bar0;
		engine_answer(e, start_bar * RT_STEPS_PER_BAR, (int64_t)floor(pos / RT_STEPS_PER_BAR) + 1);
	}
}

static void
engine_tick(struct engine *e)
{
	int running = NOW(e, running), mode = atomic_load_explicit(&e->mode, memory_order_relaxed);
	int64_t step = NOW(e, step);
	int64_t cur = running && step >= 0 ? step / RT_STEPS_PER_BAR : e->queued_from - 1;

	uint32_t resets = atomic_load_explicit(&e->rt->now.resets, memory_order_relaxed);

	if (resets != e->resets) {      /* a new server: start over */
		e->resets = resets;
		e->started = 0;
		engine_flush(e, 0);
	}
	if (!running) {
		/* stopped: queue from where the transport will resume (0 after Stop, or where a Song
		 * Position Pointer put it); a Start at another place is caught below as a jump */
		int64_t at = NOW(e, locate) / RT_STEPS_PER_BAR;
		if (e->was_running || (at != e->queued_from && mode != CFG_MODE_CONTINUE))
			engine_flush(e, at > 0 ? at : 0);
		cur = e->queued_from - 1;
	}
	e->was_running = running;
	if (mode == CFG_MODE_CONTINUE) {
		engine_continue(e);
	} else {
		if (running && step >= 0 && (cur < e->queued_from - 1 || cur >= e->next_bar)) {
			/* the clock jumped (Continue elsewhere) or we fell a whole queue behind */
			CNT_ADD(e, resyncs, 1);
			engine_flush(e, cur + 1);
		}
		engine_fill(e, cur, mode);
	}
	if (!e->started && e->cfg.clock == CFG_CLOCK_INTERNAL && e->cfg.autostart) {
		rt_command(e->rt, RT_CMD_START, 0, 0);
		e->started = 1;
	}
}

static void
engine_set_mode(struct engine *e, int mode)
{
	int64_t step = NOW(e, step);

	atomic_store_explicit(&e->mode, mode, memory_order_relaxed);
	engine_flush(e, NOW(e, running) && step >= 0 ? step / RT_STEPS_PER_BAR + 1 : 0);
	capture_reset(&e->cap, e->cap.drums);
	e->listen = ENGINE_LISTENING;
	e->morph_window = 0;
	log_info("mode %s", cfg_mode_name(mode));
}

/* A reloaded configuration: run-time settings take effect at the next window; clock and channel changes
 * go to the RT thread. The backend and model path are handled by the caller. */
static void
engine_set_cfg(struct engine *e, struct cfg *c)
{
	char err[1024];
	struct cfg old = e->cfg;

	e->cfg = *c;
	free(c);
	if (e->cfg.seed != 0)
		e->seed = e->cfg.seed;
	if (old.bpm != e->cfg.bpm && e->cfg.clock == CFG_CLOCK_INTERNAL)
		rt_command(e->rt, RT_CMD_BPM, 0, e->cfg.bpm);
	if (old.out_channel != e->cfg.out_channel)
		rt_command(e->rt, RT_CMD_CHANNEL, 0, e->cfg.out_channel - 1);
	if (old.in_channel != e->cfg.in_channel)
		rt_command(e->rt, RT_CMD_IN_CHANNEL, 0, e->cfg.in_channel - 1);
	if (engine_buffers(e, err, sizeof err) < 0) {
		log_warnx("reload: %s: attribute offsets dropped", err);
		e->cfg.n_attrs = 0;
		engine_buffers(e, err, sizeof err);
	}
	if (old.mode != e->cfg.mode)
		engine_set_mode(e, e->cfg.mode);
}

static void
engine_set_model(struct engine *e, struct model *md)
{
	char err[1024];
	struct model *old = e->model;
	int64_t step = NOW(e, step);

	e->model = md;
	if (engine_buffers(e, err, sizeof err) < 0) {
		log_warnx("new model refused: %s; keeping the old one", err);
		e->model = old;
		engine_buffers(e, err, sizeof err);
		old = md;
	} else {
		engine_flush(e, NOW(e, running) && step >= 0 ? step / RT_STEPS_PER_BAR + 1 : 0);
		capture_reset(&e->cap, engine_drums(md));
		e->listen = ENGINE_LISTENING;
		log_info("model %s loaded", md->vae.ck.dir);
	}
	model_close(old);
	free(old);
}

static void
engine_requests(struct engine *e)
{
	struct engine_req r[ENGINE_MAX_REQ];
	int n;

	pthread_mutex_lock(&e->lock);
	n = e->n_req;
	memcpy(r, e->req, sizeof r[0] * n);
	e->n_req = 0;
	pthread_mutex_unlock(&e->lock);
	for (int i = 0; i < n; i++)
		switch (r[i].type) {
		case ENGINE_REQ_MODE: engine_set_mode(e, r[i].value); break;
		case ENGINE_REQ_CFG: engine_set_cfg(e, r[i].cfg); break;
		case ENGINE_REQ_MODEL: engine_set_model(e, r[i].model); break;
		case ENGINE_REQ_QUIT: atomic_store(&e->quit, 1); break;
		}
}

static void *
engine_main(void *arg)
{
	struct engine *e = arg;
	struct rt_in in;
	struct timespec ts;

	while (!atomic_load(&e->quit)) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (sem_timedwait(&e->rt->wake, &ts) < 0 && errno == EINTR)
			;
		while (sem_trywait(&e->rt->wake) == 0)
			;
		engine_requests(e);
		while (ring_pop(&e->rt->capture, &in) == 0)
			if (atomic_load_explicit(&e->mode, memory_order_relaxed) == CFG_MODE_CONTINUE)
				capture_add(&e->cap, &in);
		engine_tick(e);
	}
	engine_flush(e, 0);
	return NULL;
}

int
engine_start(struct engine *e)
{
	if (pthread_create(&e->thread, NULL, engine_main, e) != 0)
		return -1;
	e->thread_started = 1;
	return 0;
}

int
engine_request(struct engine *e, const struct engine_req *r)
{
	int rc = -1;

	pthread_mutex_lock(&e->lock);
	if (e->n_req < ENGINE_MAX_REQ) {
		e->req[e->n_req++] = *r;
		rc = 0;
	}
	pthread_mutex_unlock(&e->lock);
	return rc;
}

void
engine_fini(struct engine *e)
{
	struct engine_req q = { .type = ENGINE_REQ_QUIT };

	if (e->thread_started) {
		engine_request(e, &q);
		pthread_join(e->thread, NULL);
	}
	engine_free_buffers(e);
	seq_fini(&e->phrase);
	seq_fini(&e->out);
	if (e->model) {
		model_close(e->model);
		free(e->model);
	}
	pthread_mutex_destroy(&e->lock);
}
