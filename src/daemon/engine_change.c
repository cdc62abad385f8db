/* SPDX-License-Identifier: GPL-3.0-or-later */
/* engine_change.c: changes that take effect at a bar boundary, on the engine thread: where the first bar a
 * change can be heard from lies, new epochs that replace the queued bars from a bar on, mode, tempo, model and
 * configuration changes (from the control socket, SIGHUP, or a model swap), and panic. engine.c queues the bars. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "engine.h"
#include "log.h"

#define CNT_ADD(e, f, n) atomic_fetch_add_explicit(&(e)->cnt.f, (n), memory_order_relaxed)
#define NOW(e, f) atomic_load_explicit(&(e)->rt->now.f, memory_order_relaxed)

/* Frames from now until bar b begins, by the current tempo; negative when it began. */
static double
engine_frames_until(const struct engine *e, int64_t b)
{
	double fps = NOW(e, frames_per_step_x1000) / 1000.0;
	int64_t step = NOW(e, step);

	return ((double)(b * RT_STEPS_PER_BAR - step)) * fps - (double)(NOW(e, frame) - NOW(e, step_frame));
}

int64_t
engine_boundary(struct engine *e)
{
	int W = engine_bars_per_window(e), mode = atomic_load(&e->mode);
	int64_t step = NOW(e, step), cur, b, grid, anchor;
	double margin = (2.0 * (double)atomic_load(&e->cnt.decode_us_max) * 1e-6 + 0.030) * (double)NOW(e, rate);

	if (!NOW(e, running) || step < 0)       /* nothing sounds: from where a Continue resumes */
		return mode == CFG_MODE_CONTINUE ? e->queued_from : e->cue_bar;
	cur = step / RT_STEPS_PER_BAR;
	if (mode == CFG_MODE_CONTINUE && e->listen == ENGINE_ANSWERING && cur < e->answer_end) {
		anchor = e->answer_bar0;
		grid = W;
	} else if (mode == CFG_MODE_CONTINUE) {
		anchor = 0;
		grid = 1;
	} else {
		anchor = 0;     /* generate, morph: the window grid (engine_fill) */
		grid = W;
	}
	b = cur + 1;
	if ((b - anchor) % grid != 0)
		b += grid - ((b - anchor) % grid + grid) % grid;
	while (engine_frames_until(e, b) < margin)
		b += grid;
	return b;
}

/* The bars from `from` on will not play what was queued for them: `bars` must not show it. */
void
engine_hist_drop_from(struct engine *e, int64_t from)
{
	for (int i = 0; i < ENGINE_HISTORY; i++)
		if (e->hist[i].bar >= from)
			e->hist[i].n_out = 0;
}

/* A new epoch that replaces the queued bars from `from` on; the ones before it play as queued. */
void
engine_epoch_from(struct engine *e, int64_t from)
{
	engine_hist_drop_from(e, from);
	e->epoch++;
	if (rt_command_at(e->rt, RT_CMD_REPLACE, e->epoch, 0, from) < 0)
		log_warnx("RT command queue full: replace lost");
}

void
engine_replace(struct engine *e, int64_t from)
{
	int mode = atomic_load(&e->mode), W = engine_bars_per_window(e);

	if (!NOW(e, running)) {
		engine_flush(e, e->queued_from);
		return;
	}
	if (mode == CFG_MODE_CONTINUE) {
		int w0 = (int)((from - e->answer_bar0) / W);
		if (e->listen != ENGINE_ANSWERING || from >= e->answer_end || w0 < 0)
			return;         /* nothing queued from there: the next answer has the change */
		engine_epoch_from(e, from);
		for (int w = w0; w < e->answer_windows; w++)
			if (engine_answer_window(e, w) < 0)
				break;
		CNT_ADD(e, replaces, 1);
		return;
	}
	if (from >= e->next_bar)
		return;                 /* not queued yet: those windows will be decoded with the change */
	engine_epoch_from(e, from);
	e->next_bar = from;
	CNT_ADD(e, replaces, 1);
	engine_fill(e, NOW(e, step) / RT_STEPS_PER_BAR, mode);
}

void
engine_set_mode_at(struct engine *e, int mode, int64_t from)
{
	int64_t step = NOW(e, step);

	atomic_store_explicit(&e->mode, mode, memory_order_relaxed);
	capture_reset(&e->cap, e->cap.drums);
	e->listen = ENGINE_LISTENING;
	e->answer_windows = 0;
	if (mode == CFG_MODE_MORPH && e->morph_from < from)
		e->morph_from = from;
	if (!NOW(e, running) || step < 0) {
		engine_flush(e, e->queued_from);
	} else {
		engine_epoch_from(e, from);
		e->next_bar = from;
		if (e->queued_from > step / RT_STEPS_PER_BAR)
			e->queued_from = step / RT_STEPS_PER_BAR;
		if (mode != CFG_MODE_CONTINUE)
			engine_fill(e, step / RT_STEPS_PER_BAR, mode);
	}
	engine_changed(e, 1u << PROTO_SUB_MODE);
	log_info("mode %s from bar %lld", cfg_mode_name(mode), (long long)from);
}

void
engine_tempo_at(struct engine *e, double bpm, int64_t from)
{
	e->cfg.bpm = bpm;
	if (rt_command_at(e->rt, RT_CMD_BPM_AT, 0, bpm, from * RT_STEPS_PER_BAR) < 0)
		log_warnx("RT command queue full: tempo change lost");
}

void
engine_panic(struct engine *e)
{
	int64_t step = NOW(e, step);

	engine_flush(e, NOW(e, running) && step >= 0 ? step / RT_STEPS_PER_BAR + 1 : e->queued_from);
	e->listen = ENGINE_LISTENING;
	e->answer_windows = 0;
	capture_reset(&e->cap, e->cap.drums);
}

/* Immediate mode change (SIGHUP reload): a flush, queued again from the next bar. */
void
engine_set_mode(struct engine *e, int mode)
{
	int64_t step = NOW(e, step);

	atomic_store_explicit(&e->mode, mode, memory_order_relaxed);
	engine_flush(e, NOW(e, running) && step >= 0 ? step / RT_STEPS_PER_BAR + 1 : 0);
	capture_reset(&e->cap, e->cap.drums);
	e->listen = ENGINE_LISTENING;
	e->answer_windows = 0;
	e->morph_from = e->next_bar;
	engine_changed(e, 1u << PROTO_SUB_MODE);
	log_info("mode %s", cfg_mode_name(mode));
}

/* A reloaded configuration: run-time settings take effect at the next window; clock and channel changes
 * go to the RT thread. The backend and model path are handled by the caller. */
void
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
	if (old.threads != e->cfg.threads)
		nn_set_threads(e->cfg.threads);
	free(e->attr);
	e->attr = NULL;
	if (engine_load_attrs(e, 0, err, sizeof err) < 0) {
		log_warnx("reload: %s: attribute offsets dropped", err);
		e->cfg.n_attrs = 0;
		free(e->attr);
		e->attr = NULL;
		if (engine_load_attrs(e, 0, err, sizeof err) < 0)
			e->n_attr = 0;
	}
	engine_changed(e, 1u << PROTO_SUB_OPTIONS | 1u << PROTO_SUB_ATTR);
	if (old.mode != e->cfg.mode)
		engine_set_mode(e, e->cfg.mode);
}

/* Makes md the model (the old one is freed); 0, or -1 with the old one kept. */
static int
engine_use_model(struct engine *e, struct model *md)
{
	char err[1024];
	struct model *old = e->model;

	e->model = md;
	nn_set_threads(e->cfg.threads); /* OpenBLAS's thread count is process-wide: set where the model runs */
	if (engine_buffers(e, 1, err, sizeof err) < 0) {
		log_warnx("new model refused: %s; keeping the old one", err);
		e->model = old;
		engine_buffers(e, 1, err, sizeof err);
		model_close(md);
		free(md);
		return -1;
	}
	capture_reset(&e->cap, codec_is_drums(&md->vae.codec));
	e->listen = ENGINE_LISTENING;
	log_info("model %s loaded", md->vae.ck.dir);
	model_close(old);
	free(old);
	engine_changed(e, 1u << PROTO_SUB_MODEL);
	return 0;
}

/* SIGHUP with a new model path: a flush, queued again from the next bar. */
void
engine_set_model(struct engine *e, struct model *md)
{
	int64_t step = NOW(e, step);

	if (engine_use_model(e, md) == 0)
		engine_flush(e, NOW(e, running) && step >= 0 ? step / RT_STEPS_PER_BAR + 1 : 0);
}

void
engine_swap_model(struct engine *e, struct model *md, int64_t from)
{
	int mode = atomic_load(&e->mode);
	int64_t step = NOW(e, step);

	if (engine_use_model(e, md) < 0)
		return;
	if (!NOW(e, running) || step < 0) {
		engine_flush(e, e->queued_from);
		return;
	}
	engine_epoch_from(e, from);
	e->next_bar = e->queued_from = from;
	e->morph_from = from;
	if (e->queued_from > step / RT_STEPS_PER_BAR)
		e->queued_from = step / RT_STEPS_PER_BAR;
	if (mode != CFG_MODE_CONTINUE)
		engine_fill(e, step / RT_STEPS_PER_BAR, mode);
}
