/* SPDX-License-Identifier: GPL-3.0-or-later */
/* rt.c: one backend period: commands, input, clock, and the notes of the current bar at their steps' frames
 * (a groove note-on off its step by its offset: late ones deferred in a small pending list, early ones scheduled
 * from the step before). Nothing here allocates, locks, logs or blocks; sem_post is the only system call. */
#include <stddef.h>
#include <string.h>

#include "midi.h"
#include "rt.h"

#define CNT_ADD(rt, f, n) atomic_fetch_add_explicit(&(rt)->cnt.f, (n), memory_order_relaxed)
#define NOW_SET(rt, f, v) atomic_store_explicit(&(rt)->now.f, (v), memory_order_relaxed)

int
rt_init(struct rt *rt, double sample_rate, int leading, double bpm, int send_clock, int send_transport,
    int in_channel, int out_channel)
{
	memset(rt, 0, sizeof *rt);
	if (ring_init(&rt->bars, RT_BAR_QUEUE, sizeof(struct rt_bar)) < 0 ||
	    ring_init(&rt->capture, RT_CAPTURE_QUEUE, sizeof(struct rt_in)) < 0 ||
	    ring_init(&rt->cmds, RT_CMD_QUEUE, sizeof(struct rt_cmd)) < 0 || sem_init(&rt->wake, 0, 0) < 0) {
		rt_fini(rt);
		return -1;
	}
	clock_init(&rt->clock, sample_rate);
	rt->leading = leading;
	if (leading)
		clock_set_internal(&rt->clock, bpm, send_clock);
	else
		clock_set_external(&rt->clock);
	rt->send_transport = send_transport;
	rt->in_channel = in_channel;
	rt->out_channel = out_channel;
	rt->last_step = -1;
	rt->early_step = -1;
	for (int i = 0; i < RT_EPOCHS; i++)
		rt->until[i] = INT64_MAX;
	atomic_init(&rt->now.step, -1);
	atomic_init(&rt->now.rate, (uint32_t)sample_rate);
	return 0;
}

void
rt_reset(struct rt *rt, double sample_rate)
{
	struct clock fresh;
	struct clock_counters *k = &rt->clock.cnt;

	clock_init(&fresh, sample_rate);
	if (rt->leading)
		clock_set_internal(&fresh, rt->clock.bpm, rt->clock.send_clock);
	else
		clock_set_external(&fresh);
	/* no RT thread runs now, but the engine may be reading the counters (control `status`): those are not
	 * overwritten, they are stored atomically (the totals go on; position and tempo start over) */
	_Static_assert(offsetof(struct clock, cnt) + sizeof(struct clock_counters) == sizeof(struct clock),
	    "the counters end struct clock");
	memcpy(&rt->clock, &fresh, offsetof(struct clock, cnt));
	atomic_store_explicit(&k->step, -1, memory_order_relaxed);
	atomic_store_explicit(&k->mbpm, atomic_load_explicit(&fresh.cnt.mbpm, memory_order_relaxed),
	    memory_order_relaxed);
	memset(rt->sounding, 0, sizeof rt->sounding);
	rt->have_cur = 0;
	rt->last_step = -1;
	rt->n_pend = 0;
	rt->early_step = -1;
	atomic_store(&rt->now.running, 0);
	atomic_store(&rt->now.step, -1);
	atomic_store(&rt->now.rate, (uint32_t)sample_rate);
	atomic_store(&rt->now.linked, 0);       /* before the engine sees the reset */
	atomic_fetch_add(&rt->now.resets, 1);
}

void
rt_fini(struct rt *rt)
{
	ring_fini(&rt->bars);
	ring_fini(&rt->capture);
	ring_fini(&rt->cmds);
	sem_destroy(&rt->wake);
}

uint64_t
rt_frames_widen(uint64_t *state, uint32_t now)
{
	uint64_t hi = *state & ~(uint64_t)0xffffffffu;

	if (now < (uint32_t)*state && (uint32_t)*state - now > 0x80000000u)
		hi += (uint64_t)1 << 32;        /* wrapped (a small step back is not a wrap) */
	*state = hi | now;
	return *state;
}

int
rt_command_at(struct rt *rt, int type, uint32_t epoch, double value, int64_t at)
{
	struct rt_cmd c = { type, epoch, value, at };

	return ring_push(&rt->cmds, &c);
}

int
rt_command(struct rt *rt, int type, uint32_t epoch, double value)
{
	return rt_command_at(rt, type, epoch, value, 0);
}

/* Epoch e is the newest from now on; the epochs before it keep their bars before `from` (INT64_MAX: all). */
static void
rt_new_epoch(struct rt *rt, uint32_t e, int64_t from)
{
	for (uint32_t k = rt->floor; (int32_t)(k - e) < 0 && (int32_t)(e - k) <= RT_EPOCHS; k++)
		if (rt->until[k % RT_EPOCHS] > from)
			rt->until[k % RT_EPOCHS] = from;
	rt->epoch = e;
	rt->until[e % RT_EPOCHS] = INT64_MAX;
}

static void
rt_emit(struct rt *rt, uint64_t frame, const uint8_t *d, uint32_t len, rt_write_fn write, void *ctx)
{
	if (frame < rt->frame0)
		frame = rt->frame0;
	if (frame < rt->out_frame)      /* never back in time: JACK refuses an event before the last one */
		frame = rt->out_frame;
	rt->out_frame = frame;
	if (write(ctx, frame, d, len) < 0)
		CNT_ADD(rt, out_refused, 1);
	else
		CNT_ADD(rt, out_events, 1);
}

/* A bar's note event at `frame`; step is the absolute step of a note-on or of a note-off's end (-1: any). */
static void
rt_note(struct rt *rt, uint64_t frame, int64_t step, uint8_t status, uint8_t pitch, uint8_t vel,
    rt_write_fn write, void *ctx)
{
	uint8_t d[3] = { (uint8_t)(status | rt->out_channel), pitch & 0x7F, vel & 0x7F };
	uint8_t *s = &rt->sounding[rt->out_channel][pitch & 0x7F];

	if (status == 0x90 && vel > 0) {
		if (*s)         /* retrigger: end the sounding one first so the receiver counts right */
			rt_note(rt, frame, -1, 0x80, pitch, 0, write, ctx);
		*s = 1;
		rt->on_step[pitch & 0x7F] = step;
	} else {
		/* the sounding note began on this note-off's step or later (an early note-on retriggered the
		 * pitch before its step): this note-off belonged to the note that retrigger ended */
		if (!*s || (step >= 0 && rt->on_step[pitch & 0x7F] >= step))
			return;
		*s = 0;
		d[0] = (uint8_t)(0x80 | rt->out_channel);
	}
	rt_emit(rt, frame, d, 3, write, ctx);
}

/* A note-off for every note we left sounding, on every channel. */
static void
rt_all_off(struct rt *rt, uint64_t frame, rt_write_fn write, void *ctx)
{
	for (int ch = 0; ch < 16; ch++)
		for (int p = 0; p < 128; p++)
			if (rt->sounding[ch][p]) {
				uint8_t d[3] = { (uint8_t)(0x80 | ch), (uint8_t)p, 0 };
				rt->sounding[ch][p] = 0;
				rt_emit(rt, frame, d, 3, write, ctx);
				CNT_ADD(rt, notes_forced_off, 1);
			}
}

/* Forgets the deferred note-ons of steps from `from` on (INT64_MIN: all) and what was scheduled early there. */
static void
rt_pend_drop(struct rt *rt, int64_t from)
{
	int kept = 0;

	for (int i = 0; i < rt->n_pend; i++)
		if (rt->pend[i].step < from)
			rt->pend[kept++] = rt->pend[i];
	rt->n_pend = kept;
	if (rt->early_step >= from)
		rt->early_step = -1;
}

/* Defers a note-on to `frame`, after those deferred to the same frame; -1 when the list is full. */
static int
rt_pend_add(struct rt *rt, uint64_t frame, int64_t step, uint8_t pitch, uint8_t vel)
{
	int i;

	if (rt->n_pend == RT_PENDING)
		return -1;
	for (i = rt->n_pend; i > 0 && rt->pend[i - 1].frame > frame; i--)
		rt->pend[i] = rt->pend[i - 1];
	rt->pend[i] = (struct rt_pend){ frame, step, pitch, vel };
	rt->n_pend++;
	return 0;
}

/* Plays the deferred note-ons due at or before `frame`, and at `frame` those of steps up to `step` that were
 * due later (an external clock's step came sooner than its tempo said: they must not follow the step's
 * note-offs). In frame order. */
static void
rt_pend_play(struct rt *rt, uint64_t frame, int64_t step, rt_write_fn write, void *ctx)
{
	int kept = 0;

	for (int i = 0; i < rt->n_pend; i++) {
		const struct rt_pend *p = &rt->pend[i];
		if (p->frame <= frame || p->step <= step)
			rt_note(rt, p->frame < frame ? p->frame : frame, p->step, 0x90, p->pitch, p->velocity, write,
			    ctx);
		else
			rt->pend[kept++] = *p;
	}
	rt->n_pend = kept;
}

static void
rt_apply(struct rt *rt, const struct rt_cmd *c, rt_write_fn write, void *ctx)
{
	uint64_t f = rt->frame0;

	switch (c->type) {
	case RT_CMD_FLUSH:
		rt_all_off(rt, f, write, ctx);
		rt->floor = c->epoch;
		rt_new_epoch(rt, c->epoch, INT64_MAX);
		rt->have_cur = 0;
		rt_pend_drop(rt, INT64_MIN);
		CNT_ADD(rt, flushes, 1);
		break;
	case RT_CMD_REPLACE:
		rt_new_epoch(rt, c->epoch, c->at);
		rt_pend_drop(rt, c->at * RT_STEPS_PER_BAR);     /* the replaced bars' notes scheduled ahead */
		break;
	case RT_CMD_BPM_AT:
		if (rt->leading)
			clock_set_internal_at(&rt->clock, c->value, c->at);
		break;
	case RT_CMD_START:
		if (rt->leading)
			clock_start(&rt->clock, f);
		break;
	case RT_CMD_STOP:
		if (rt->leading)
			clock_stop(&rt->clock, f);
		break;
	case RT_CMD_CONTINUE:
		if (rt->leading)
			clock_continue(&rt->clock, f);
		break;
	case RT_CMD_BPM:
		if (rt->leading)
			clock_set_internal(&rt->clock, c->value, rt->clock.send_clock);
		break;
	case RT_CMD_CHANNEL:
		rt_all_off(rt, f, write, ctx);
		rt->out_channel = (int)c->value & 15;
		break;
	case RT_CMD_IN_CHANNEL:
		rt->in_channel = c->value < 0 ? -1 : (int)c->value & 15;
		break;
	}
}

static const struct rt_bar *rt_head(struct rt *rt, int64_t bar);

void
rt_begin(struct rt *rt, uint64_t frame0, uint32_t nframes, rt_write_fn write, void *ctx)
{
	struct rt_cmd c;

	rt->frame0 = frame0;
	rt->nframes = nframes;
	rt->out_frame = frame0;
	while (ring_pop(&rt->cmds, &c) == 0)
		rt_apply(rt, &c, write, ctx);
	/* bars of an epoch a flush ended go now, not when a step reaches them: while stopped no step does, and
	 * each flush (every Song Position Pointer) would leave its bars behind until the queue is full */
	rt_head(rt, INT64_MIN);
}

static double
rt_frames_per_step(const struct rt *rt)
{
	double bpm = clock_bpm(&rt->clock);

	return bpm > 0.0 ? 60.0 * rt->clock.sr / (bpm * 4.0) : 0.0;
}

void
rt_input(struct rt *rt, uint64_t frame, const uint8_t *d, uint32_t len)
{
	struct rt_in in;
	double fps;

	CNT_ADD(rt, in_events, 1);
	switch (midi_classify(d, len)) {
	case MIDI_KIND_BAD_STATUS: CNT_ADD(rt, in_bad_status, 1); return;
	case MIDI_KIND_BAD_LENGTH: CNT_ADD(rt, in_bad_length, 1); return;
	case MIDI_KIND_BAD_DATA: CNT_ADD(rt, in_bad_data, 1); return;
	case MIDI_KIND_OTHER: CNT_ADD(rt, in_other, 1); return;
	case MIDI_KIND_CLOCK:
		if (rt->leading)
			CNT_ADD(rt, in_clock_ignored, 1);
		else
			clock_midi_in(&rt->clock, d[0], d + 1, frame);
		return;
	case MIDI_KIND_NOTE_ON:
	case MIDI_KIND_NOTE_OFF:
		break;
	}
	if (rt->in_channel >= 0 && (d[0] & 15) != rt->in_channel) {
		CNT_ADD(rt, in_other, 1);
		return;
	}
	in.frame = frame;
	in.pos = -1.0;
	fps = rt_frames_per_step(rt);
	if (atomic_load_explicit(&rt->now.running, memory_order_relaxed) && rt->last_step >= 0 && fps > 0.0)
		in.pos = (double)rt->last_step + ((double)frame - (double)rt->last_step_frame) / fps;
	in.status = (d[0] & 0xF0) == 0x90 && d[2] > 0 ? 0x90 : 0x80;
	in.pitch = d[1];
	in.velocity = d[2];
	in.channel = d[0] & 15;
	if (ring_push(&rt->capture, &in) < 0)
		CNT_ADD(rt, capture_overflow, 1);
	else
		CNT_ADD(rt, in_notes, 1);
}

/* Is queued bar q out of date: from before the last flush, too old to be tracked, or replaced? */
static int
rt_superseded(const struct rt *rt, const struct rt_bar *q)
{
	if ((int32_t)(q->epoch - rt->floor) < 0 || (int32_t)(rt->epoch - q->epoch) >= RT_EPOCHS)
		return 1;
	return q->bar >= rt->until[q->epoch % RT_EPOCHS];
}

/* The oldest queued bar, read in place, once the bars before `bar`, from before a flush or replaced by a newer
 * epoch are dropped (without copying them); NULL when none is left or the oldest belongs to a command not
 * applied yet. Only this side (the reader) may drop, so the engine's ring_space sees the room they leave. */
static const struct rt_bar *
rt_head(struct rt *rt, int64_t bar)
{
	const struct rt_bar *q;

	while ((q = ring_peek_ptr(&rt->bars)) != NULL) {
		if ((int32_t)(q->epoch - rt->epoch) > 0)
			return NULL;    /* pushed after a command this period has not applied yet: next period */
		if (!rt_superseded(rt, q) && q->bar >= bar)
			return q;
		ring_drop(&rt->bars);
		CNT_ADD(rt, bars_stale, 1);
	}
	return NULL;
}

/* The queued bar `bar`, read in place (rt_head); NULL when it is not there (yet). */
static const struct rt_bar *
rt_queued(struct rt *rt, int64_t bar)
{
	const struct rt_bar *q = rt_head(rt, bar);

	return q != NULL && q->bar == bar ? q : NULL;
}

/* Makes `bar` the current bar: the queued one if it is there, else the previous one again if it may
 * repeat, else silence. */
static void
rt_select(struct rt *rt, int64_t bar)
{
	const struct rt_bar *q = rt_queued(rt, bar);

	if (q != NULL) {
		size_t n = q->n < RT_BAR_EVENTS ? q->n : RT_BAR_EVENTS;
		/* the header and the n events in use; cur.ev[n..] is never read */
		memcpy(&rt->cur, q, offsetof(struct rt_bar, ev) + n * sizeof q->ev[0]);
		ring_drop(&rt->bars);
		CNT_ADD(rt, bars_played, 1);
	} else if (rt->have_cur && (rt->cur.flags & RT_BAR_REPEAT) && rt->cur.n > 0) {
		rt->cur.bar = bar;
		CNT_ADD(rt, bars_repeated, 1);
	} else {
		rt->cur.bar = bar;
		rt->cur.n = 0;
		rt->cur.flags = 0;
		CNT_ADD(rt, bars_missing, 1);
	}
	rt->have_cur = 1;
}

/* Round half away from zero without libm (as clock.c). */
static int64_t
rt_round(double x)
{
	return x >= 0.0 ? (int64_t)(x + 0.5) : -(int64_t)(-x + 0.5);
}

/* Frames a note-on's offset moves it: offset * frames per step / RT_OFFSET_ONE (offset within half a step). */
static double
rt_offset_framesf(const struct rt *rt, int offset)
{
	if (offset > RT_OFFSET_ONE / 2)
		offset = RT_OFFSET_ONE / 2;
	if (offset < -RT_OFFSET_ONE / 2)
		offset = -RT_OFFSET_ONE / 2;
	return (double)offset * rt->fps / RT_OFFSET_ONE;
}

/* The same rounded half away from zero: what a note-on moves from a whole frame. */
static int64_t
rt_offset_frames(const struct rt *rt, int offset)
{
	return rt_round(rt_offset_framesf(rt, offset));
}

static int
rt_early(const struct rt_bar_note *e)
{
	return e->status == 0x90 && e->velocity > 0 && e->offset < 0;
}

/* The events of step `sib` of the current bar, absolute step `step`, at `frame`: note-offs and on-time
 * note-ons now, late note-ons deferred to their frame; early note-ons were scheduled from the step before
 * (rt_schedule_early), or else they play now. */
static void
rt_play_events(struct rt *rt, int sib, int64_t step, uint64_t frame, rt_write_fn write, void *ctx)
{
	int early_done = rt->early_step == step && rt->early_bar == rt->cur.bar && rt->early_epoch == rt->cur.epoch;

	for (int i = 0; i < rt->cur.n; i++) {
		const struct rt_bar_note *e = &rt->cur.ev[i];
		int64_t d;
		if (e->step != sib)
			continue;
		if (rt_early(e)) {
			if (early_done)
				continue;
			CNT_ADD(rt, early_on_step, 1);
		} else if (e->status == 0x90 && e->velocity > 0 && (d = rt_offset_frames(rt, e->offset)) > 0) {
			if (rt_pend_add(rt, frame + (uint64_t)d, step, e->pitch, e->velocity) == 0)
				continue;
			CNT_ADD(rt, pending_full, 1);
		}
		rt_note(rt, frame, step, e->status, e->pitch, e->velocity, write, ctx);
	}
}

/* The frame step `step` begins at: its clock event if this period has it (the first step event in
 * cev[from..n)), else the clock's prediction unrounded (internal: exact; external: the tempo estimate, so that
 * an early note is rounded once, with its offset), or -1 when unknown. */
static double
rt_step_frame(const struct rt *rt, int64_t step, int from, int n)
{
	for (int k = from; k < n; k++)
		if (rt->cev[k].type == CLOCK_EV_STEP)
			return rt->cev[k].step == step ? (double)rt->cev[k].frame : -1.0;
	return clock_predict_framef(&rt->clock, step);
}

/* At step `step` (cev[i], at `frame`): defers the early note-ons of the next step to their frames, from the
 * current bar or, at a bar line, from the next queued bar (read in place, as rt_select will take it). All of
 * the step's or none: none when that bar is not queued yet, the step's frame is unknown or the list is full. */
static void
rt_schedule_early(struct rt *rt, int64_t step, int i, int n, uint64_t frame)
{
	int64_t next = step + 1;
	int sib = (int)(next % RT_STEPS_PER_BAR), need = 0;
	const struct rt_bar *b = sib ? &rt->cur : rt_queued(rt, next / RT_STEPS_PER_BAR);
	double at;

	if (b == NULL || (sib && rt->cur.bar != next / RT_STEPS_PER_BAR))
		return;
	for (int k = 0; k < b->n && k < RT_BAR_EVENTS; k++)
		need += b->ev[k].step == sib && rt_early(&b->ev[k]);
	if (need == 0 || (at = rt_step_frame(rt, next, i + 1, n)) < 0.0)
		return;
	if (need > RT_PENDING - rt->n_pend) {
		CNT_ADD(rt, pending_full, (uint64_t)need);
		return;
	}
	for (int k = 0; k < b->n && k < RT_BAR_EVENTS; k++) {
		const struct rt_bar_note *e = &b->ev[k];
		int64_t f;
		if (e->step != sib || !rt_early(e))
			continue;
		/* a whole frame (internal clock, a step event): plus the rounded offset, as late notes; a prediction
		 * of the external clock: rounded once, with the offset */
		f = at == (double)(int64_t)at ? (int64_t)at + rt_offset_frames(rt, e->offset) :
		    rt_round(at + rt_offset_framesf(rt, e->offset));
		rt_pend_add(rt, f > (int64_t)frame ? (uint64_t)f : frame, next, e->pitch, e->velocity);
	}
	rt->early_step = next;
	rt->early_bar = b->bar;
	rt->early_epoch = b->epoch;
}

static void
rt_step(struct rt *rt, int i, int n, rt_write_fn write, void *ctx)
{
	int64_t step = rt->cev[i].step, bar = step / RT_STEPS_PER_BAR;
	uint64_t frame = rt->cev[i].frame;
	int sib = (int)(step % RT_STEPS_PER_BAR);

	if (rt->last_step >= 0 && step != rt->last_step + 1)
		rt_pend_drop(rt, INT64_MIN);    /* a jump: what was scheduled belongs to steps that do not come */
	rt_pend_play(rt, frame, step, write, ctx);
	if (!rt->have_cur || rt->cur.bar != bar) {
		if (rt->have_cur)       /* the old bar's end: its notes held to the bar line */
			rt_play_events(rt, RT_STEPS_PER_BAR, (rt->cur.bar + 1) * RT_STEPS_PER_BAR, frame, write, ctx);
		if (rt->have_cur && rt->cur.bar != bar - 1)
			rt_all_off(rt, frame, write, ctx);
		rt_select(rt, bar);
	}
	rt_play_events(rt, sib, step, frame, write, ctx);
	rt_schedule_early(rt, step, i, n, frame);
	rt->last_step = step;
	rt->last_step_frame = frame;
	NOW_SET(rt, step, step);
	NOW_SET(rt, step_frame, frame);
}

static void
rt_transport(struct rt *rt, const struct clock_event *e, rt_write_fn write, void *ctx)
{
	static const uint8_t bytes[] = { [CLOCK_EV_START] = MIDI_BYTE_START,
		[CLOCK_EV_CONTINUE] = MIDI_BYTE_CONTINUE, [CLOCK_EV_STOP] = MIDI_BYTE_STOP };

	if (rt->leading && rt->send_transport)
		rt_emit(rt, e->frame, &bytes[e->type], 1, write, ctx);
	if (e->type == CLOCK_EV_STOP) {
		if (rt->have_cur)
			rt_play_events(rt, RT_STEPS_PER_BAR, (rt->cur.bar + 1) * RT_STEPS_PER_BAR, e->frame, write,
			    ctx);
		rt_all_off(rt, e->frame, write, ctx);
		NOW_SET(rt, running, 0);
	} else {
		/* the step before the Stop is no longer where we are: until the first step the engine must not
		 * take it for the position (it would resync from there and lose the bar the transport resumes in) */
		NOW_SET(rt, step, -1);
		NOW_SET(rt, running, 1);
	}
	rt_pend_drop(rt, INT64_MIN);    /* notes scheduled for a transport that stopped or went elsewhere */
	rt->have_cur = 0;
}

void
rt_end(struct rt *rt, rt_write_fn write, void *ctx)
{
	int n = clock_period(&rt->clock, rt->frame0, rt->nframes, rt->cev, RT_MAX_CLOCK_EVENTS);
	double fps = rt_frames_per_step(rt);

	rt->fps = fps;
	for (int i = 0; i < n; i++) {
		const struct clock_event *e = &rt->cev[i];
		switch (e->type) {
		case CLOCK_EV_STEP:
			rt_step(rt, i, n, write, ctx);
			break;
		case CLOCK_EV_TICK:
			rt_pend_play(rt, e->frame, INT64_MIN, write, ctx);
			if (e->midi)
				rt_emit(rt, e->frame, &e->midi, 1, write, ctx);
			break;
		default:
			rt_pend_play(rt, e->frame, INT64_MIN, write, ctx);
			rt_transport(rt, e, write, ctx);
			break;
		}
	}
	rt_pend_play(rt, rt->frame0 + rt->nframes - 1, INT64_MIN, write, ctx);
	NOW_SET(rt, frame, rt->frame0 + rt->nframes);
	NOW_SET(rt, locate, clock_step(&rt->clock));
	NOW_SET(rt, frames_per_step_x1000, (uint64_t)(fps * 1000.0));
	CNT_ADD(rt, periods, 1);
	sem_post(&rt->wake);
}
