/* SPDX-License-Identifier: GPL-3.0-or-later */
/* engine.c: the inference worker thread. Wakes once per backend period, turns captured notes into phrases,
 * decodes windows of the model's length and queues them as bars ahead of the clock; mode changes, model swaps
 * and stops start a new epoch so the RT thread silences what sounds and drops what is queued (those changes are
 * in engine_change.c, the control commands in engine_ctl.c). */
#define _GNU_SOURCE             /* sem_clockwait */
#include <errno.h>
#include <stddef.h>
#include <math.h>
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
#include "mono.h"

#define CNT_SET(e, f, v) atomic_store_explicit(&(e)->cnt.f, (v), memory_order_relaxed)
#define CNT_ADD(e, f, n) atomic_fetch_add_explicit(&(e)->cnt.f, (n), memory_order_relaxed)
#define NOW(e, f) atomic_load_explicit(&(e)->rt->now.f, memory_order_relaxed)

/* A new epoch: the RT thread silences everything and drops queued bars; we queue again from `bar`. */
void
engine_flush(struct engine *e, int64_t bar)
{
	engine_hist_drop_from(e, bar);
	e->epoch++;
	if (rt_command(e->rt, RT_CMD_FLUSH, e->epoch, 0) < 0)
		log_warnx("RT command queue full: flush lost");
	e->next_bar = e->queued_from = bar;
	e->start_end = 0;
}

static int
engine_note_cmp(const void *a, const void *b)
{
	const struct rt_bar_note *x = a, *y = b;

	if (x->step != y->step)
		return x->step - y->step;
	return x->status - y->status;   /* 0x80 before 0x90 */
}

static void
engine_bar_add(struct rt_bar *b, int step, uint8_t status, int pitch, int vel, int16_t offset)
{
	if (b->n < RT_BAR_EVENTS)
		b->ev[b->n++] = (struct rt_bar_note){ (uint8_t)step, status, (uint8_t)pitch, (uint8_t)vel, offset };
}

/* A groove note's micro-timing as a bar event offset: start_time / step length - start steps (the codec's
 * fixed 120 qpm), clipped to half a step, times output.groove_timing, in 1/RT_OFFSET_ONE of a step rounded
 * half away from zero; 0 for the other codecs, whose notes sit on their steps. */
static int16_t
engine_groove_offset(const struct engine *e, const struct note *n)
{
	const struct codec *c = &e->model->vae.codec;
	double len, off;

	if (c->type != CODEC_GROOVE || !(e->cfg.groove_timing > 0.0f) || c->steps_per_quarter <= 0)
		return 0;
	len = 60.0 / (e->out.qpm > 0.0 ? e->out.qpm : 120.0) / c->steps_per_quarter;
	off = n->start_time / len - n->start;
	if (!isfinite(off))
		return 0;
	off = off < -0.5 ? -0.5 : off > 0.5 ? 0.5 : off;
	return (int16_t)lround(off * e->cfg.groove_timing * RT_OFFSET_ONE);
}

/* The history slot of bar b, emptied when it held an older bar. */
static struct engine_hist *
engine_hist_at(struct engine *e, int64_t b)
{
	struct engine_hist *h = &e->hist[((b % ENGINE_HISTORY) + ENGINE_HISTORY) % ENGINE_HISTORY];

	if (h->bar != b) {
		h->bar = b;
		h->n_in = h->n_out = 0;
	}
	return h;
}

/* Splits a decoded window's notes into bars: onsets at their step (a groove model's with their micro-timing
 * offset), note-offs at the end step or at the bar line, whichever comes first (a note never rings into the
 * next bar, so a late or repeated bar cannot leave one hanging). Bars before `from` are not queued (the window
 * started before the transport got there). The notes are also kept for `bars`. */
static int
engine_queue_window(struct engine *e, int64_t first_bar, int64_t from, uint16_t flags)
{
	static struct rt_bar bar;       /* 1.3 KB: kept off the stack; engine thread only */
	int W = engine_bars_per_window(e);
	char err[256];

	if (codec_decode(&e->model->vae.codec, e->rows, &e->out, err, sizeof err) < 0) {
		log_warnx("decode: %s", err);
		return -1;
	}
	for (int k = first_bar < from ? (int)(from - first_bar) : 0; k < W; k++) {
		struct engine_hist *h = engine_hist_at(e, first_bar + k);
		memset(&bar, 0, offsetof(struct rt_bar, ev));
		bar.bar = first_bar + k;
		bar.epoch = e->epoch;
		bar.flags = flags;
		h->n_out = 0;   /* a replaced bar: only the newest notes */
		for (size_t i = 0; i < e->out.n; i++) {
			const struct note *n = &e->out.notes[i];
			int s = n->start - k * RT_STEPS_PER_BAR, end = n->end - k * RT_STEPS_PER_BAR;
			int vel = n->velocity > 0 ? n->velocity : e->cfg.velocity;
			if (n->velocity == 0 && e->model->vae.codec.type == CODEC_GROOVE)
				vel = 1;        /* the groove's velocity rounded to 0: its softest, not the default */
			if (s < 0 || s >= RT_STEPS_PER_BAR || n->pitch < 0 || n->pitch > 127)
				continue;
			if (end > RT_STEPS_PER_BAR)
				end = RT_STEPS_PER_BAR;
			if (end <= s)
				end = s + 1;
			/* note-offs stay on their step: at most half a step late, a note-on is still before it */
			engine_bar_add(&bar, s, 0x90, n->pitch, vel, engine_groove_offset(e, n));
			engine_bar_add(&bar, end, 0x80, n->pitch, 0, 0);
			if (h->n_out < ENGINE_HISTORY_NOTES)
				h->out[h->n_out++] = (struct engine_hist_note){ (uint8_t)s, (uint8_t)n->pitch,
				    (uint8_t)(end - s), (uint8_t)vel };
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

/* out [Z] = z plus the attribute offsets (out may be z). */
static void
engine_attrs(const struct engine *e, const float *z, float *out)
{
	const struct vae *m = &e->model->vae;
	float amount[ENGINE_MAX_ATTRS];
	const float *vec[ENGINE_MAX_ATTRS];
	int n = 0;

	if (z != out)
		memcpy(out, z, sizeof(float) * m->z_dim);
	for (int k = 0; k < e->n_attr; k++)
		if (e->attr_amount[k] != 0.0f) {
			vec[n] = e->attr + (size_t)k * m->z_dim;
			amount[n++] = e->attr_amount[k];
		}
	lat_add_attributes(m->z_dim, out, n, vec, amount);
}

/* Counts a decoded window that took from t0 until now (decode_ms_last/max in `status`). */
static void
engine_decode_time(struct engine *e, uint64_t t0)
{
	uint64_t dt = mono_usec() - t0;

	CNT_ADD(e, windows, 1);
	CNT_SET(e, decode_us_last, dt);
	if (dt > atomic_load_explicit(&e->cnt.decode_us_max, memory_order_relaxed))
		CNT_SET(e, decode_us_max, dt);
}

/* Decodes z plus the attribute offsets into e->rows at the current temperature. */
static int
engine_decode(struct engine *e, const float *z)
{
	uint64_t t0 = mono_usec();
	char err[256];

	engine_attrs(e, z, e->z);
	if (model_decode(e->model, e->z, 1, e->ctrl, e->cfg.temperature, e->window_seed, e->rows, err,
	    sizeof err) < 0) {
		log_warnx("decode: %s", err);
		return -1;
	}
	engine_decode_time(e, t0);
	return 0;
}

/* An answer window: with continue.candidates = N > 1, z and N - 1 perturbations of it (drawn from the
 * window's seed, so a re-decode replays them) in one batched decode; the candidate with the best
 * cand_score against the phrase goes to e->rows. Candidate 0 is z itself with the single decode's sampling
 * stream, so N = 1 plays what it always played. The timing covers decode and scores. */
static int
engine_decode_answer(struct engine *e, const float *z)
{
	const struct vae *m = &e->model->vae;
	int n = e->cfg.candidates < CAND_MAX ? e->cfg.candidates : CAND_MAX, Z = m->z_dim;
	size_t rowy = (size_t)m->num_steps * m->out_depth;
	double total[CAND_MAX];
	struct cand_score sc;
	uint64_t t0 = mono_usec();
	struct rng r;
	char err[256];

	if (n <= 1) {
		e->cand_pick = -1;
		return engine_decode(e, z);
	}
	rng_seed(&r, e->window_seed ^ 0x6a09e667f3bcc908ULL);
	cand_perturb(&r, Z, z, n, CAND_SPREAD, e->cand_z);
	for (int b = 0; b < n; b++)
		engine_attrs(e, e->cand_z + (size_t)b * Z, e->cand_z + (size_t)b * Z);
	if (model_decode(e->model, e->cand_z, n, e->ctrl, e->cfg.temperature, e->window_seed, e->cand_rows, err,
	    sizeof err) < 0) {
		log_warnx("decode: %s", err);
		return -1;
	}
	for (int b = 0; b < n; b++)
		total[b] = codec_decode(&m->codec, e->cand_rows + b * rowy, &e->cand_seq, err, sizeof err) < 0 ?
		    CAND_EMPTY - 1.0 : cand_score(&e->last_phrase, &e->cand_seq, m->num_steps,
		    codec_is_drums(&m->codec), &sc);
	e->cand_pick = cand_best(total, n);
	e->cand_total = total[e->cand_pick];
	memcpy(e->rows, e->cand_rows + e->cand_pick * rowy, sizeof(float) * rowy);
	engine_decode_time(e, t0);
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

double
engine_morph_position(const struct engine *e, int64_t bar)
{
	int W = engine_bars_per_window(e);
	int M = e->cfg.morph_bars / W > 1 ? e->cfg.morph_bars / W : 2;
	int64_t i = bar >= e->morph_from ? (bar - e->morph_from) / W : 0;

	/* window i of the morph: 0 .. M-1 from A to B; then B held, or back and forth (B was just played, so
	 * the way back starts one window towards A) */
	if (i >= M && e->cfg.morph_end == CFG_MORPH_PINGPONG) {
		int64_t p = (i - (M - 1)) % (2 * (M - 1));
		i = p < M - 1 ? M - 1 - p : p - (M - 1);
	} else if (i >= M)
		i = M - 1;
	return (double)i / (double)(M - 1);
}

/* morph: the window at `bar` is a pure function of the bar, so a changed queue can be decoded again. */
static void
engine_z_morph(struct engine *e, int64_t bar)
{
	int Z = e->model->vae.z_dim;
	float t = (float)engine_morph_position(e, bar);
	struct rng r;

	if (e->cfg.slerp)
		lat_slerp(Z, e->slot[e->morph_a], e->slot[e->morph_b], t, e->zprev);
	else
		lat_lerp(Z, e->slot[e->morph_a], e->slot[e->morph_b], t, e->zprev);
	rng_seed(&r, e->seed ^ (0xd1b54a32d192ed03ULL * (uint64_t)(bar + 1)));
	e->window_seed = rng_next(&r);
}

/* generate and morph: keep bars queued up to lookahead bars past the current one. Windows lie on a grid
 * anchored at bar 0 (window starts are multiples of W): after a relocation to bar b (Continue, SPP, resync,
 * mode change) the window that holds b is decoded whole and played from b, so a song position plays the
 * same bars however the transport got there. */
void
engine_fill(struct engine *e, int64_t cur, int mode)
{
	int W = engine_bars_per_window(e);

	while (e->next_bar <= cur + e->cfg.lookahead_bars && ring_space(&e->rt->bars) >= (size_t)W) {
		int64_t start = e->next_bar - ((e->next_bar % W) + W) % W;
		if (mode == CFG_MODE_MORPH)
			engine_z_morph(e, start);
		else
			engine_z_generate(e, start);
		if (engine_decode(e, e->zprev) < 0 || engine_queue_window(e, start, e->next_bar, RT_BAR_REPEAT) < 0)
			return;
		e->next_bar = start + W;
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

void
engine_fit_notes(const struct engine *e, struct seq *s)
{
	const struct codec *c = &e->model->vae.codec;
	size_t kept = 0;

	if (c->type != CODEC_MELODY)
		return;
	for (size_t i = 0; i < s->n; i++)
		if (s->notes[i].pitch >= c->min_pitch && s->notes[i].pitch <= c->max_pitch)
			s->notes[kept++] = s->notes[i];
	s->n = kept;
}

void
engine_changed(struct engine *e, unsigned mask)
{
	uint64_t one = 1;

	atomic_fetch_or_explicit(&e->changed, mask, memory_order_relaxed);
	if (e->event_fd >= 0)
		(void)!write(e->event_fd, &one, sizeof one);
}

/* Decodes answer window w (its z kept in answer_z) and queues it. */
int
engine_answer_window(struct engine *e, int w)
{
	int W = engine_bars_per_window(e);

	e->window_seed = e->answer_seed[w];
	if (engine_decode_answer(e, e->answer_z + (size_t)w * e->model->vae.z_dim) < 0)
		return -1;
	return engine_queue_window(e, e->answer_bar0 + (int64_t)w * W, e->answer_bar0 + (int64_t)w * W, 0);
}

/* Encodes the phrase starting at step `start` and queues the answer from `bar`. */
static void
engine_answer(struct engine *e, int64_t start, int64_t bar)
{
	const struct vae *m = &e->model->vae;
	int W = engine_bars_per_window(e), windows = e->cfg.answer_bars / W > 0 ? e->cfg.answer_bars / W : 1;
	int Z = m->z_dim;
	char err[512];

	if (windows > ENGINE_MAX_ANSWER)
		windows = ENGINE_MAX_ANSWER;
	capture_window(&e->cap, start, m->num_steps, &e->phrase);
	engine_fit_notes(e, &e->phrase);
	if (model_encode(e->model, &e->phrase, 1, e->ctrl, e->zprev, err, sizeof err) < 0) {
		log_warnx("phrase at step %lld: %s", (long long)start, err);
		CNT_ADD(e, encode_errors, 1);
		capture_reset(&e->cap, e->cap.drums);
		return;
	}
	seq_copy(&e->last_phrase, &e->phrase);
	CNT_ADD(e, phrases, 1);
	engine_changed(e, 1u << PROTO_SUB_PHRASE);
	e->answer_bar0 = bar;
	e->answer_windows = windows;
	for (int w = 0; w < windows; w++) {
		if (w > 0)      /* drift: a random walk of the answer's z, per bar */
			for (int i = 0; i < Z; i++)
				e->zprev[i] += e->cfg.drift * sqrtf((float)W) * (float)rng_normal(&e->rng);
		memcpy(e->answer_z + (size_t)w * Z, e->zprev, sizeof(float) * Z);
		e->answer_seed[w] = rng_next(&e->rng);
	}
	for (int w = 0; w < windows; w++)
		if (engine_answer_window(e, w) < 0)
			break;
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
	double pos = engine_pos(e), rest = e->cfg.rest_seconds * (double)NOW(e, rate);
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

/* Stopped in generate or morph: a Continue resumes at bar `at` (where the Stop or a Song Position Pointer left
 * the clock), a Start at bar 0, and either is followed by its first step in the same period, too soon to decode
 * then. So the window of bar 0 is queued ahead of at's bars (the ring is in bar order: a Continue drops it
 * unplayed, a Start plays it and engine_tick replaces what follows it); when at lies in or right after that
 * window, one queue from bar 0 serves both. */
static void
engine_cue(struct engine *e, int64_t at, int mode)
{
	int W = engine_bars_per_window(e);

	engine_flush(e, at);
	e->cue_bar = at;
	e->cue_epoch = e->epoch;
	e->start_end = 0;
	if (at == 0)
		return;
	if (ring_space(&e->rt->bars) < (size_t)W) {
		/* the bars of the epochs before the flush leave in the RT thread's next period: queue then */
		e->cue_epoch = e->epoch - 1;
		return;
	}
	if (mode == CFG_MODE_MORPH)
		engine_z_morph(e, 0);
	else
		engine_z_generate(e, 0);
	if (engine_decode(e, e->zprev) < 0 || engine_queue_window(e, 0, 0, RT_BAR_REPEAT) < 0)
		return;
	if (at <= W) {
		e->queued_from = 0;
		e->next_bar = W;
	} else {
		e->start_end = W;
	}
}

/* The transport runs again after engine_cue queued bar 0's window ahead of the bars of cue_bar: in that window it
 * was a Start (or a Continue located there), whose next bars are queued in place of cue_bar's. */
static void
engine_started(struct engine *e, int64_t cur)
{
	if (cur < e->start_end) {
		engine_epoch_from(e, e->start_end);
		e->queued_from = 0;
		e->next_bar = e->start_end;
	}
	e->start_end = 0;
}

static void
engine_tick(struct engine *e)
{
	int running = NOW(e, running), mode = atomic_load_explicit(&e->mode, memory_order_relaxed);
	int64_t step = NOW(e, step);
	int64_t cur = running && step >= 0 ? step / RT_STEPS_PER_BAR : e->queued_from - 1;
	uint32_t resets = atomic_load_explicit(&e->rt->now.resets, memory_order_acquire); /* then `linked` */

	if (resets != e->resets) {      /* a new server: start over */
		e->resets = resets;
		e->started = 0;
		engine_flush(e, 0);
	}
	if (!running) {
		/* stopped: queue from where a Continue resumes (the Stop's bar, or where a Song Position Pointer
		 * put it) and, in generate and morph, from bar 0 for a Start */
		int64_t at = NOW(e, locate) / RT_STEPS_PER_BAR;
		at = at > 0 ? at : 0;
		if (mode == CFG_MODE_CONTINUE) {
			if (e->was_running)
				engine_flush(e, at);
			cur = e->queued_from - 1;
		} else {
			if (e->was_running || at != e->cue_bar || e->epoch != e->cue_epoch)
				engine_cue(e, at, mode);
			cur = e->cue_bar - 1;
		}
	}
	if (running != e->was_running)
		engine_changed(e, 1u << PROTO_SUB_TRANSPORT);
	if (running && step >= 0 && step / RT_STEPS_PER_BAR != e->last_bar) {
		e->last_bar = step / RT_STEPS_PER_BAR;
		engine_changed(e, 1u << PROTO_SUB_BAR);
	}
	e->was_running = running;
	if (mode == CFG_MODE_CONTINUE) {
		engine_continue(e);
	} else {
		if (running && step >= 0)       /* `capture` takes the last phrase: 8 bars of past are plenty */
			capture_forget_before(&e->cap, (step / RT_STEPS_PER_BAR - 8) * RT_STEPS_PER_BAR);
		if (running && step >= 0 && e->start_end > 0)
			engine_started(e, cur);
		if (running && step >= 0 && (cur < e->queued_from - 1 || cur >= e->next_bar)) {
			/* the clock jumped (Continue elsewhere) or we fell a whole queue behind */
			CNT_ADD(e, resyncs, 1);
			engine_flush(e, cur + 1);
		}
		engine_fill(e, cur, mode);
	}
	/* autostart once the backend is connected (a reconnect, or a first open that failed, would otherwise play
	 * bar 0 before the ports connected at start are) */
	if (!e->started && e->cfg.clock == CFG_CLOCK_INTERNAL && e->cfg.autostart &&
	    atomic_load_explicit(&e->rt->now.linked, memory_order_acquire)) {
		rt_command(e->rt, RT_CMD_START, 0, 0);
		e->started = 1;
	}
}

/* ---- requests and the done queue ------------------------------------------------------------------ */

static void
engine_ctl_finish(struct engine *e, struct engine_ctl *c)
{
	uint64_t one = 1;

	pthread_mutex_lock(&e->done_lock);
	c->next = NULL;
	if (e->done_tail)
		e->done_tail->next = c;
	else
		e->done_head = c;
	e->done_tail = c;
	pthread_mutex_unlock(&e->done_lock);
	(void)!write(e->event_fd, &one, sizeof one);
}

struct engine_ctl *
engine_ctl_done(struct engine *e)
{
	struct engine_ctl *c;

	pthread_mutex_lock(&e->done_lock);
	if ((c = e->done_head) != NULL && (e->done_head = c->next) == NULL)
		e->done_tail = NULL;
	pthread_mutex_unlock(&e->done_lock);
	return c;
}

void
engine_ctl_free(struct engine_ctl *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < c->n; i++) {
		if (c->seq[i]) {
			seq_fini(c->seq[i]);
			free(c->seq[i]);
		}
		free(c->z[i]);
		free(c->path[i]);
	}
	if (c->model) {
		model_close(c->model);
		free(c->model);
	}
	free(c->reply.p);
	free(c);
}

int
engine_event_fd(const struct engine *e)
{
	return e->event_fd;
}

unsigned
engine_changes(struct engine *e)
{
	uint64_t v;

	(void)!read(e->event_fd, &v, sizeof v);
	return atomic_exchange_explicit(&e->changed, 0, memory_order_relaxed);
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
		case ENGINE_REQ_CTL:
			engine_ctl_run(e, r[i].ctl);
			engine_ctl_finish(e, r[i].ctl);
			break;
		}
}

/* The player's notes, bar by bar, for `bars` (whatever the mode). */
static void
engine_hist_input(struct engine *e, const struct rt_in *in)
{
	int p = in->pitch & 127;

	if (in->pos < 0.0)
		return;
	if (in->status == 0x90) {
		e->in_start[p] = (int64_t)floor(in->pos + 0.5);
		e->in_vel[p] = in->velocity;
		return;
	}
	if (e->in_start[p] >= 0) {
		int64_t st = e->in_start[p], end = (int64_t)floor(in->pos + 0.5);
		struct engine_hist *h = engine_hist_at(e, st / RT_STEPS_PER_BAR);
		if (h->n_in < ENGINE_HISTORY_NOTES)
			h->in[h->n_in++] = (struct engine_hist_note){ (uint8_t)(st % RT_STEPS_PER_BAR), (uint8_t)p,
			    (uint8_t)(end - st > 0 ? (end - st < 255 ? end - st : 255) : 1), e->in_vel[p] };
		e->in_start[p] = -1;
	}
}

static void *
engine_main(void *arg)
{
	struct engine *e = arg;
	struct rt_in in;
	struct timespec ts;
	/* test-only fault hook: MUSICVAED_TEST_HANG_ENGINE=S hangs this thread after S seconds, so that tests can
	 * see the service watchdog stop being fed */
	const char *hang = getenv("MUSICVAED_TEST_HANG_ENGINE");
	uint64_t hang_at = hang ? mono_usec() + (uint64_t)(atof(hang) * 1e6) : 0;

	while (!atomic_load(&e->quit)) {
		CNT_ADD(e, loops, 1);
		while (hang_at && mono_usec() >= hang_at && !atomic_load(&e->quit))
			sleep(1);
		ts = mono_after(20);    /* monotonic: a step of the wall clock neither stalls nor rushes us */
		while (sem_clockwait(&e->rt->wake, CLOCK_MONOTONIC, &ts) < 0 && errno == EINTR)
			;
		while (sem_trywait(&e->rt->wake) == 0)
			;
		engine_requests(e);
		while (ring_pop(&e->rt->capture, &in) == 0) {
			engine_hist_input(e, &in);
			capture_add(&e->cap, &in);      /* every mode: `capture SLOT` takes what was played */
		}
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
