/* SPDX-License-Identifier: GPL-3.0-or-later */
/* engine_ctl.c: control commands on the engine thread: every command of a list is checked against the engine's
 * state first (the expensive ones, encoding a phrase or a file, compute their result then), then all are
 * applied together from one bar boundary, or none is; the reply text is written for the main thread to send. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "file.h"
#include "lat.h"
#include "log.h"

_Static_assert(CAND_MAX == PROTO_CANDIDATES_MAX, "the protocol's candidate bound is the engine's");

#define NOW(e, f) atomic_load_explicit(&(e)->rt->now.f, memory_order_relaxed)
#define U(x) ((unsigned long long)atomic_load_explicit(&(x), memory_order_relaxed))

/* What the check phase of one command found, for the apply phase. */
struct ctl_pending {
	float *z;               /* capture, sample, load: the new slot vector [Z] */
	float *ctrl;            /* chords, key: the new control rows */
	int idx;                /* attr: the vector's index */
	float amount;           /* attr: the new amount */
};

static void __attribute__((format(printf, 2, 3)))
ctl_out(struct engine_ctl *c, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > 0)              /* out of memory sets reply.oom: the main thread sends an ACK instead */
		buf_put(&c->reply, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static int
ctl_attr_index(const struct engine *e, const char *name)
{
	for (int i = 0; i < e->n_attr; i++)
		if (strcmp(e->attr_name[i], name) == 0)
			return i;
	return -1;
}

/* ---- reports -------------------------------------------------------------------------------------------- */

static void
ctl_status(struct engine *e, struct engine_ctl *c)
{
	const struct rt_counters *k = &e->rt->cnt;
	const struct engine_counters *n = &e->cnt;
	struct clock_stats cs;
	int64_t step = NOW(e, step);
	int mode = atomic_load(&e->mode);

	clock_stats_read(&e->rt->clock, &cs);
	ctl_out(c, "mode: %s\nclock: %s\n", cfg_mode_name(mode), cfg_clock_name(e->cfg.clock));
	if (cs.bpm > 0.0)
		ctl_out(c, "tempo: %.4f\n", cs.bpm);
	else
		ctl_out(c, "tempo: unknown\n");
	ctl_out(c, "running: %d\nbar: %" PRId64 "\nstep: %" PRId64 "\nposition: %" PRId64 "\n", NOW(e, running),
	    step >= 0 ? step / RT_STEPS_PER_BAR : -1, step >= 0 ? step % RT_STEPS_PER_BAR : -1, step);
	ctl_out(c, "model: %s\nz: %d\nbars_per_window: %d\n", e->model->vae.ck.dir, e->model->vae.z_dim,
	    e->model->vae.num_steps / RT_STEPS_PER_BAR > 0 ? e->model->vae.num_steps / RT_STEPS_PER_BAR : 1);
	ctl_out(c, "temperature: %g\nseed: %" PRIu64 "\nwalk: %g\n", (double)e->cfg.temperature, e->seed,
	    (double)e->cfg.walk);
	ctl_out(c, "candidates: %d\n", e->cfg.candidates);
	if (e->cand_pick >= 0)
		ctl_out(c, "candidate_played: %d %.3f\n", e->cand_pick, e->cand_total);
	for (int i = 0; i < e->n_attr; i++)
		ctl_out(c, "attr: %s %g\n", e->attr_name[i], (double)e->attr_amount[i]);
	ctl_out(c, "morph: %c %c %d %s %s\n", proto_slot_name(e->morph_a), proto_slot_name(e->morph_b),
	    e->cfg.morph_bars, e->cfg.slerp ? "slerp" : "lerp", e->cfg.morph_end == CFG_MORPH_PINGPONG ? "pingpong" :
	    "hold");
	ctl_out(c, "morph_position: %.4f\n", engine_morph_position(e, step >= 0 ? step / RT_STEPS_PER_BAR : 0));
	ctl_out(c, "chords:");
	for (int i = 0; i < e->n_chords; i++)
		ctl_out(c, " %s", e->chords[i]);
	ctl_out(c, "%s\n", e->n_chords ? "" : " none");
	if (e->key >= 0)
		ctl_out(c, "key: %d\n", e->key);
	else
		ctl_out(c, "key: none\n");
	ctl_out(c, "listen: %s\n", e->listen == ENGINE_ANSWERING ? "answering" : "listening");
	ctl_out(c, "ticks: %llu\nmissed_ticks: %llu\nlate_steps: %llu\n", (unsigned long long)cs.ticks,
	    (unsigned long long)cs.missed_ticks, (unsigned long long)cs.late_steps);
	ctl_out(c, "periods: %llu\nin_events: %llu\nin_notes: %llu\nin_bad_status: %llu\nin_bad_length: %llu\n"
	    "in_bad_data: %llu\nin_other: %llu\ncapture_overflow: %llu\n", U(k->periods), U(k->in_events),
	    U(k->in_notes), U(k->in_bad_status), U(k->in_bad_length), U(k->in_bad_data), U(k->in_other),
	    U(k->capture_overflow));
	ctl_out(c, "bars_played: %llu\nbars_repeated: %llu\nbars_missing: %llu\nbars_stale: %llu\n"
	    "out_events: %llu\nout_refused: %llu\nnotes_forced_off: %llu\nflushes: %llu\nearly_on_step: %llu\n"
	    "pending_full: %llu\n", U(k->bars_played), U(k->bars_repeated), U(k->bars_missing), U(k->bars_stale),
	    U(k->out_events), U(k->out_refused), U(k->notes_forced_off), U(k->flushes), U(k->early_on_step),
	    U(k->pending_full));
	ctl_out(c, "windows: %llu\nphrases: %llu\nresyncs: %llu\nencode_errors: %llu\nreplaces: %llu\n"
	    "commands: %llu\ndecode_ms_last: %.2f\ndecode_ms_max: %.2f\n", U(n->windows), U(n->phrases),
	    U(n->resyncs), U(n->encode_errors), U(n->replaces), U(n->ctl_commands), U(n->decode_us_last) / 1000.0,
	    U(n->decode_us_max) / 1000.0);
}

static void
ctl_bars(struct engine *e, struct engine_ctl *c)
{
	int64_t step = NOW(e, step), want = step >= 0 ? step / RT_STEPS_PER_BAR - 1 : -1;
	const struct engine_hist *h = &e->hist[((want % ENGINE_HISTORY) + ENGINE_HISTORY) % ENGINE_HISTORY];

	ctl_out(c, "bar: %" PRId64 "\n", want);
	if (want < 0 || h->bar != want)
		return;
	for (int i = 0; i < h->n_in; i++)
		ctl_out(c, "in: %d %d %d %d\n", h->in[i].step, h->in[i].pitch, h->in[i].len, h->in[i].velocity);
	for (int i = 0; i < h->n_out; i++)
		ctl_out(c, "out: %d %d %d %d\n", h->out[i].step, h->out[i].pitch, h->out[i].len, h->out[i].velocity);
}

static void
ctl_slots(struct engine *e, struct engine_ctl *c)
{
	for (int i = 0; i < ENGINE_SLOTS; i++)
		if (e->slot_src[i][0])
			ctl_out(c, "slot: %c %s\n", proto_slot_name(i), e->slot_src[i]);
}

/* ---- check: everything that can fail, before anything changes --------------------------------------- */

/* The phrase `capture` takes: the last W bars the player played (or the last phrase answered). */
static int
ctl_captured(struct engine *e, struct seq *out)
{
	int W = e->model->vae.num_steps / RT_STEPS_PER_BAR > 0 ? e->model->vae.num_steps / RT_STEPS_PER_BAR : 1;
	int64_t first = capture_first_step(&e->cap), last;

	if (first >= 0) {
		last = capture_last_step(&e->cap) / RT_STEPS_PER_BAR;
		first /= RT_STEPS_PER_BAR;
		if (last - W + 1 > first)
			first = last - W + 1;
		capture_window(&e->cap, first * RT_STEPS_PER_BAR, e->model->vae.num_steps, out);
		return out->n > 0 ? 0 : -1;
	}
	if (e->last_phrase.n == 0)
		return -1;
	return seq_copy(out, &e->last_phrase) == 0 ? 0 : -1;
}

static int
ctl_encode(struct engine *e, struct seq *s, float *z, struct proto_err *pe)
{
	char err[256];

	engine_fit_notes(e, s);
	if (model_encode(e->model, s, 1, e->ctrl, z, err, sizeof err) < 0)
		return proto_fail(pe, PROTO_ACK_ARG, "%s", err);
	return 0;
}

/* A window of the model's length starting at `bar` of a file's notes, re-timed to start at 0. */
static int
ctl_file_window(struct engine *e, const struct seq *s, const char *name, long bar, struct seq *out,
    struct proto_err *pe)
{
	int spq = s->steps_per_quarter > 0 ? s->steps_per_quarter : 4;
	int64_t off = (int64_t)bar * 4 * spq, T = e->model->vae.num_steps;

	seq_clear(out);
	out->steps_per_quarter = spq;
	out->qpm = s->qpm;
	out->total_steps = (int)T;
	for (size_t i = 0; i < s->n; i++) {
		struct note n = s->notes[i];
		if (n.start < off || n.start >= off + T)
			continue;
		n.start -= (int)off;
		n.end = n.end - (int)off > T ? (int)T : n.end - (int)off;
		if (seq_add(out, &n) < 0)
			return proto_fail(pe, PROTO_ACK_SYSTEM, "out of memory");
	}
	if (out->n == 0)
		return proto_fail(pe, PROTO_ACK_NO_EXIST, "%.64s: no notes in bars %ld..%ld", name, bar,
		    bar + (long)(T / RT_STEPS_PER_BAR) - 1);
	return 0;
}

static int
ctl_write_slot(struct engine *e, int slot, const char *path, struct proto_err *pe)
{
	int Z = e->model->vae.z_dim;
	size_t cap = (size_t)Z * 20 + 64, n = 0;
	char *buf = malloc(cap), err[512];
	int rc;

	if (buf == NULL)
		return proto_fail(pe, PROTO_ACK_SYSTEM, "out of memory");
	n += (size_t)snprintf(buf, cap, "{\"z\": [[");
	for (int i = 0; i < Z; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s%.9g", i ? ", " : "", (double)e->slot[slot][i]);
	n += (size_t)snprintf(buf + n, cap - n, "]]}\n");
	rc = file_write_atomic(path, buf, n, err, sizeof err);
	free(buf);
	return rc < 0 ? proto_fail(pe, PROTO_ACK_SYSTEM, "%s", err) : 0;
}

static int
ctl_check_ctrl(struct engine *e, const struct proto_cmd *cmd, struct ctl_pending *p, struct proto_err *pe)
{
	const struct vae *m = &e->model->vae;
	char err[256];

	if (cmd->op == PROTO_CHORDS && !m->ctrl.chords)
		return proto_fail(pe, PROTO_ACK_STATE, "this model is not conditioned on chords");
	if (cmd->op == PROTO_KEY && !m->ctrl.condition_on_key)
		return proto_fail(pe, PROTO_ACK_STATE, "this model is not conditioned on a key");
	if (engine_build_controls(e, cmd->op == PROTO_CHORDS ? cmd->n_chords : e->n_chords,
	    cmd->op == PROTO_CHORDS ? cmd->chords : e->chords, cmd->op == PROTO_KEY ? cmd->key : e->key, &p->ctrl,
	    err, sizeof err) < 0)
		return proto_fail(pe, PROTO_ACK_ARG, "%s", err);
	return 0;
}

static int
ctl_check(struct engine *e, struct engine_ctl *c, int i, struct ctl_pending *p, struct proto_err *pe)
{
	const struct proto_cmd *cmd = &c->cmd[i];
	int Z = e->model->vae.z_dim;
	struct seq s;
	int rc;

	switch (cmd->op) {
	case PROTO_TEMPO:
		if (e->cfg.clock != CFG_CLOCK_INTERNAL)
			return proto_fail(pe, PROTO_ACK_STATE, "the tempo follows the external MIDI clock (clock.source)");
		return 0;
	case PROTO_ATTR_SET:
	case PROTO_ATTR_NUDGE:
		if ((p->idx = ctl_attr_index(e, cmd->arg)) < 0)
			return proto_fail(pe, PROTO_ACK_NO_EXIST, "no attribute vector \"%.64s\" (attr list; %s)", cmd->arg,
			    e->n_attr ? "the model's attributes.json" : "the model has no attributes.json");
		p->amount = (float)cmd->num + (cmd->op == PROTO_ATTR_NUDGE ? e->attr_amount[p->idx] : 0.0f);
		if (fabsf(p->amount) > 10.0f)
			return proto_fail(pe, PROTO_ACK_ARG, "%s would be %g (the range is -10..10)", cmd->arg,
			    (double)p->amount);
		return 0;
	case PROTO_CAPTURE:
	case PROTO_SAMPLE:
	case PROTO_LOAD:
		if ((p->z = malloc(sizeof(float) * Z)) == NULL)
			return proto_fail(pe, PROTO_ACK_SYSTEM, "out of memory");
		if (cmd->op == PROTO_SAMPLE) {
			lat_sample(&e->rng, Z, p->z);
			for (int j = 0; j < Z; j++)
				p->z[j] *= (float)cmd->num;
			return 0;
		}
		seq_init(&s);
		rc = cmd->op == PROTO_CAPTURE ? (ctl_captured(e, &s) < 0 ? proto_fail(pe, PROTO_ACK_STATE,
		    "nothing played yet to capture") : 0) : ctl_file_window(e, c->seq[i], cmd->arg, cmd->bar, &s, pe);
		if (rc == 0)
			rc = ctl_encode(e, &s, p->z, pe);
		seq_fini(&s);
		return rc;
	case PROTO_SLOT_SAVE:
		if (!e->slot_src[cmd->slot][0])
			return proto_fail(pe, PROTO_ACK_NO_EXIST, "slot %c is empty", proto_slot_name(cmd->slot));
		return ctl_write_slot(e, cmd->slot, c->path[i], pe);
	case PROTO_SLOT_LOAD:
		if (c->nz[i] != Z)
			return proto_fail(pe, PROTO_ACK_ARG, "%s holds a z of %d numbers; this model's z has %d", cmd->arg,
			    c->nz[i], Z);
		return 0;
	case PROTO_MORPH:
		if (cmd->slot == cmd->slot2)
			return proto_fail(pe, PROTO_ACK_ARG, "the two slots must differ");
		for (int k = 0; k < 2; k++) {
			int sl = k ? cmd->slot2 : cmd->slot;
			if (!e->slot_src[sl][0])
				return proto_fail(pe, PROTO_ACK_NO_EXIST, "slot %c is empty (capture, sample, load or slot "
				    "load first)", proto_slot_name(sl));
		}
		return 0;
	case PROTO_CHORDS:
	case PROTO_KEY:
		return ctl_check_ctrl(e, cmd, p, pe);
	case PROTO_MODEL:
		if (c->n > 1)
			return proto_fail(pe, PROTO_ACK_ARG, "model cannot be part of a command list");
		return c->model ? 0 : proto_fail(pe, PROTO_ACK_SYSTEM, "no model loaded");
	default:
		return 0;
	}
}

/* ---- apply ---------------------------------------------------------------------------------------------- */

enum { CTL_NOTHING, CTL_REDECODE, CTL_MODE };

/* Applies command i; returns what the queue needs (CTL_NOTHING, CTL_REDECODE, or CTL_MODE with *mode). */
static int
ctl_apply(struct engine *e, struct engine_ctl *c, int i, struct ctl_pending *p, int64_t from, int *mode)
{
	const struct proto_cmd *cmd = &c->cmd[i];
	int Z = e->model->vae.z_dim;

	switch (cmd->op) {
	case PROTO_STATUS: ctl_status(e, c); return CTL_NOTHING;
	case PROTO_BARS: ctl_bars(e, c); return CTL_NOTHING;
	case PROTO_SLOT_LIST: ctl_slots(e, c); return CTL_NOTHING;
	case PROTO_ATTR_LIST:
		for (int k = 0; k < e->n_attr; k++)
			ctl_out(c, "attr: %s %g\n", e->attr_name[k], (double)e->attr_amount[k]);
		return CTL_NOTHING;
	case PROTO_COMMANDS:
		for (int k = 0; proto_usage[k]; k++)
			ctl_out(c, "command: %s\n", proto_usage[k]);
		return CTL_NOTHING;
	case PROTO_MODE:
		*mode = cmd->mode;
		return CTL_MODE;
	case PROTO_TEMPO:
		engine_tempo_at(e, cmd->num, from);
		engine_changed(e, 1u << PROTO_SUB_TEMPO);
		return CTL_NOTHING;
	case PROTO_TEMPERATURE: e->cfg.temperature = (float)cmd->num; break;
	case PROTO_SEED: e->seed = cmd->seed; break;
	case PROTO_WALK: e->cfg.walk = (float)cmd->num; break;
	case PROTO_CANDIDATES: e->cfg.candidates = (int)cmd->num; break;
	case PROTO_ATTR_SET:
	case PROTO_ATTR_NUDGE:
		e->attr_amount[p->idx] = p->amount;
		ctl_out(c, "attr: %s %g\n", e->attr_name[p->idx], (double)p->amount);
		engine_changed(e, 1u << PROTO_SUB_ATTR);
		return CTL_REDECODE;
	case PROTO_ATTR_RESET:
		for (int k = 0; k < e->n_attr; k++)
			e->attr_amount[k] = 0.0f;
		engine_changed(e, 1u << PROTO_SUB_ATTR);
		return CTL_REDECODE;
	case PROTO_CAPTURE:
	case PROTO_SAMPLE:
	case PROTO_LOAD:
	case PROTO_SLOT_LOAD:
		memcpy(e->slot[cmd->slot], cmd->op == PROTO_SLOT_LOAD ? c->z[i] : p->z, sizeof(float) * Z);
		if (cmd->op == PROTO_CAPTURE)
			snprintf(e->slot_src[cmd->slot], sizeof e->slot_src[0], "captured phrase");
		else if (cmd->op == PROTO_SAMPLE)
			snprintf(e->slot_src[cmd->slot], sizeof e->slot_src[0], "prior sample x %g", cmd->num);
		else
			snprintf(e->slot_src[cmd->slot], sizeof e->slot_src[0], "%.60s%s", cmd->arg,
			    cmd->op == PROTO_LOAD ? "" : ".json");
		engine_changed(e, 1u << PROTO_SUB_SLOT);
		/* a slot the morph plays from changed: the queued morph windows are re-decoded */
		return atomic_load(&e->mode) == CFG_MODE_MORPH && (cmd->slot == e->morph_a || cmd->slot == e->morph_b) ?
		    CTL_REDECODE : CTL_NOTHING;
	case PROTO_SLOT_SAVE:
		ctl_out(c, "file: %s\n", c->path[i]);
		return CTL_NOTHING;
	case PROTO_MORPH:
		e->morph_a = cmd->slot;
		e->morph_b = cmd->slot2;
		e->cfg.morph_bars = cmd->bars;
		e->cfg.slerp = cmd->slerp;
		e->cfg.morph_end = cmd->pingpong ? CFG_MORPH_PINGPONG : CFG_MORPH_HOLD;
		e->morph_from = from;
		*mode = CFG_MODE_MORPH;
		return CTL_MODE;
	case PROTO_CHORDS:
	case PROTO_KEY:
		if (cmd->op == PROTO_CHORDS) {
			e->n_chords = cmd->n_chords;
			memcpy(e->chords, cmd->chords, sizeof e->chords);
		} else
			e->key = cmd->key;
		free(e->ctrl);
		e->ctrl = p->ctrl;
		p->ctrl = NULL;
		break;
	case PROTO_MODEL:
		engine_swap_model(e, c->model, from);
		c->model = NULL;
		engine_changed(e, 1u << PROTO_SUB_MODEL);
		return CTL_NOTHING;
	case PROTO_PANIC:
		engine_panic(e);
		return CTL_NOTHING;
	default:
		return CTL_NOTHING;
	}
	engine_changed(e, 1u << PROTO_SUB_OPTIONS);
	return CTL_REDECODE;
}

static void
ctl_pending_free(struct ctl_pending *p, int n)
{
	for (int i = 0; i < n; i++) {
		free(p[i].z);
		free(p[i].ctrl);
	}
}

void
engine_ctl_run(struct engine *e, struct engine_ctl *c)
{
	struct ctl_pending p[PROTO_LIST_MAX];
	struct proto_err pe;
	int redecode = 0, mode = -1, changes = 0;
	int64_t from;

	memset(p, 0, sizeof p);
	c->applied_bar = -1;
	for (int i = 0; i < c->n; i++)
		if (ctl_check(e, c, i, &p[i], &pe) < 0) {
			char line[512];
			proto_ack_format(line, sizeof line, pe.code, i, c->cmd[i].name, pe.msg);
			c->reply.n = 0;
			ctl_out(c, "%s", line);
			ctl_pending_free(p, c->n);
			return;
		}
	from = engine_boundary(e);
	for (int i = 0; i < c->n; i++) {
		int m = -1, r = ctl_apply(e, c, i, &p[i], from, &m);
		redecode |= r == CTL_REDECODE;
		if (r == CTL_MODE)
			mode = m;
		changes |= r != CTL_NOTHING || c->cmd[i].op == PROTO_TEMPO || c->cmd[i].op == PROTO_MODEL;
		if (c->list_ok)
			ctl_out(c, "list_OK\n");
	}
	if (mode >= 0)
		engine_set_mode_at(e, mode, from);
	else if (redecode)
		engine_replace(e, from);
	if (changes) {
		double fps = NOW(e, frames_per_step_x1000) / 1000.0;
		int64_t step = NOW(e, step);
		c->applied_bar = from;
		/* where the clock was when the change was made, and the bar it is heard from: the latency */
		ctl_out(c, "applied_bar: %" PRId64 "\n", from);
		if (NOW(e, running) && step >= 0 && fps > 0.0)
			ctl_out(c, "at_step: %.3f\n", (double)step + ((double)NOW(e, frame) -
			    (double)NOW(e, step_frame)) / fps);
	}
	atomic_fetch_add_explicit(&e->cnt.ctl_commands, (uint64_t)c->n, memory_order_relaxed);
	ctl_out(c, "OK\n");
	ctl_pending_free(p, c->n);
}
