/* SPDX-License-Identifier: GPL-3.0-or-later */
/* clock.c: MIDI clock follower (second-order DLL), internal lead clock and step position; allocation-free, RT-safe. */
#include <string.h>

#include "clock.h"
#include "midi.h"

/* Locked DLL bandwidth in radians per tick: a 123 -> 90 BPM change settles to 0.5 BPM in ~70 ticks (< 1 bar). */
#define CLOCK_DLL_OMEGA 0.08
/* DLL updates before gaps count as missing ticks; until then the bandwidth is wider (2 / (n + 1)). */
#define CLOCK_DLL_LOCK 12
/* A gap longer than this many periods (plus the tolerance) means ticks went missing: 1.75, not 1.5, so that a
 * 27 % tempo drop (123 -> 90) on top of 10 % interval jitter (1.37 * 1.1 = 1.51) is not taken for a lost tick. */
#define CLOCK_GAP_FACTOR 1.75
/* An interval longer than this many periods (plus the tolerance) is checked against the CLOCK_VERIFY_TICKS after
 * it: above what 10 % interval jitter gives on a steady clock (1.1 and the estimate's error), below the 1.71 of
 * a tick lost on a 120 -> 140 BPM rise, and below every lost tick or halving. */
#define CLOCK_VERIFY_FACTOR 1.3
/* An interval this far (in periods, plus the tolerance) from a whole number of the new periods tells nothing. */
#define CLOCK_VERIFY_SLACK 0.4
/* A verified reading restarts the tempo estimate from its intervals when they differ from it by more than this
 * (a 27 % step or a halving); smaller steps are left to the loop. */
#define CLOCK_RESEED 0.2
#define CLOCK_SQRT2 1.41421356237309504880

static void
clock_count(_Atomic uint64_t *a, uint64_t n)
{
	atomic_fetch_add_explicit(a, n, memory_order_relaxed);
}

/* Round half away from zero without libm (the RT path calls no library). */
static int64_t
clock_round(double x)
{
	return x >= 0.0 ? (int64_t)(x + 0.5) : -(int64_t)(-x + 0.5);
}

/* First step at or after tick k: the position a transport event reports. */
static int64_t
clock_step_of_tick(int64_t k)
{
	return k >= 0 ? (k + CLOCK_TICKS_PER_STEP - 1) / CLOCK_TICKS_PER_STEP : -(-k / CLOCK_TICKS_PER_STEP);
}

static void
clock_push(struct clock *c, int type, uint64_t frame, int64_t step, int late, uint8_t midi)
{
	struct clock_event *e;

	if (c->q_len == CLOCK_QUEUE_LEN) {
		clock_count(&c->cnt.overflows, 1);
		return;
	}
	e = &c->queue[(c->q_head + c->q_len++) % CLOCK_QUEUE_LEN];
	e->frame = frame;
	e->step = step;
	e->type = (uint8_t)type;
	e->late = (uint8_t)late;
	e->midi = midi;
}

void
clock_init(struct clock *c, double sample_rate)
{
	memset(c, 0, sizeof *c);
	c->sr = sample_rate;
	c->mode = CLOCK_MODE_EXTERNAL;
	c->bpm = 120.0;
	c->stop_frame = CLOCK_NO_FRAME;
	c->pend_tick = -1;
	atomic_init(&c->cnt.ticks, 0);
	atomic_init(&c->cnt.idle_ticks, 0);
	atomic_init(&c->cnt.missed_ticks, 0);
	atomic_init(&c->cnt.late_steps, 0);
	atomic_init(&c->cnt.pauses, 0);
	atomic_init(&c->cnt.ignored, 0);
	atomic_init(&c->cnt.unknown, 0);
	atomic_init(&c->cnt.overflows, 0);
	atomic_init(&c->cnt.step, -1);
	atomic_init(&c->cnt.mbpm, 0);
}

static void
clock_publish_bpm(struct clock *c)
{
	double bpm = clock_bpm(c);

	atomic_store_explicit(&c->cnt.mbpm, (uint32_t)clock_round(bpm * 1000.0), memory_order_relaxed);
}

/* ---- internal (lead) clock ------------------------------------------------------------------ */

/* Frame of tick k from the anchor: one rounding of an exact product, so no error accumulates. */
static uint64_t
clock_tick_frame(const struct clock *c, int64_t k)
{
	int64_t off = clock_round((double)(k - c->k0) * 60.0 * c->sr / (c->bpm * (double)CLOCK_PPQN));

	if (off < 0 && (uint64_t)-off > c->origin)
		return 0;
	return c->origin + (uint64_t)off;
}

void
clock_set_internal(struct clock *c, double bpm, int send_clock)
{
	if (!(bpm > 0.0))
		return;
	if (c->mode == CLOCK_MODE_EXTERNAL && c->running)
		clock_push(c, CLOCK_EV_STOP, c->last_frame, clock_step_of_tick(c->next_tick), 0, 0);
	if (c->mode == CLOCK_MODE_EXTERNAL) {
		c->running = 0;
		c->awaiting = 0;
	} else if (c->running) {
		/* re-anchor at the next tick: it keeps its frame, the new tempo applies after it */
		c->origin = clock_tick_frame(c, c->next_tick);
		c->k0 = c->next_tick;
	}
	c->mode = CLOCK_MODE_INTERNAL;
	c->bpm = bpm;
	c->pend_tick = -1;
	c->send_clock = send_clock != 0;
	clock_publish_bpm(c);
}

void
clock_set_internal_at(struct clock *c, double bpm, int64_t step)
{
	if (!(bpm > 0.0) || c->mode != CLOCK_MODE_INTERNAL)
		return;
	if (!c->running || step < 0) {
		clock_set_internal(c, bpm, c->send_clock);
		return;
	}
	c->pend_bpm = bpm;
	c->pend_tick = step * CLOCK_TICKS_PER_STEP;
}

/* A tempo change scheduled at pend_tick: once that tick is the next one, it keeps its frame at the old tempo
 * and the ticks after it follow the new one (later than asked, if asked too late: at the next tick). */
static void
clock_pending(struct clock *c)
{
	if (c->pend_tick < 0 || c->mode != CLOCK_MODE_INTERNAL || c->next_tick < c->pend_tick)
		return;
	if (c->running) {
		c->origin = clock_tick_frame(c, c->next_tick);
		c->k0 = c->next_tick;
	}
	c->bpm = c->pend_bpm;
	c->pend_tick = -1;
	clock_publish_bpm(c);
}

void
clock_set_external(struct clock *c)
{
	if (c->mode == CLOCK_MODE_INTERNAL && c->running && c->stop_frame == CLOCK_NO_FRAME)
		clock_push(c, CLOCK_EV_STOP, c->last_frame, clock_step_of_tick(c->next_tick), 0,
		    c->send_clock ? MIDI_BYTE_STOP : 0);
	c->mode = CLOCK_MODE_EXTERNAL;
	c->running = 0;
	c->awaiting = 0;
	c->ver_len = 0;
	c->stop_frame = CLOCK_NO_FRAME;
	clock_publish_bpm(c);
}

void
clock_set_tolerance(struct clock *c, double frames)
{
	c->tolerance = frames > 0.0 ? frames : 0.0;
}

static int
clock_internal_ok(struct clock *c)
{
	if (c->mode == CLOCK_MODE_INTERNAL)
		return 1;
	clock_count(&c->cnt.ignored, 1);
	return 0;
}

void
clock_start(struct clock *c, uint64_t frame)
{
	if (!clock_internal_ok(c))
		return;
	c->running = 1;
	c->stop_frame = CLOCK_NO_FRAME;
	c->origin = frame;
	c->k0 = 0;
	c->next_tick = 0;
	c->gen_half = 0;
	c->last_frame = frame;
	clock_push(c, CLOCK_EV_START, frame, 0, 0, c->send_clock ? MIDI_BYTE_START : 0);
}

void
clock_continue(struct clock *c, uint64_t frame)
{
	if (!clock_internal_ok(c))
		return;
	if (c->running && c->stop_frame == CLOCK_NO_FRAME) {
		clock_count(&c->cnt.ignored, 1);
		return;
	}
	c->running = 1;
	c->stop_frame = CLOCK_NO_FRAME;
	c->origin = frame;
	c->k0 = c->next_tick;
	c->gen_half = 0;
	c->last_frame = frame;
	clock_push(c, CLOCK_EV_CONTINUE, frame, clock_step_of_tick(c->next_tick), 0,
	    c->send_clock ? MIDI_BYTE_CONTINUE : 0);
}

void
clock_stop(struct clock *c, uint64_t frame)
{
	if (!clock_internal_ok(c))
		return;
	if (!c->running || c->stop_frame != CLOCK_NO_FRAME) {
		clock_count(&c->cnt.ignored, 1);
		return;
	}
	c->stop_frame = frame;
	c->last_frame = frame;
	/* the position it reports is settled when the event leaves clock_period */
	clock_push(c, CLOCK_EV_STOP, frame, 0, 0, c->send_clock ? MIDI_BYTE_STOP : 0);
}

void
clock_locate(struct clock *c, int64_t step)
{
	if (c->running || step < 0) {
		clock_count(&c->cnt.ignored, 1);
		return;
	}
	c->next_tick = step * CLOCK_TICKS_PER_STEP;
}

/* Frame of the next tick to generate, or CLOCK_NO_FRAME when the lead clock is not rolling. */
static uint64_t
clock_gen_frame(const struct clock *c)
{
	uint64_t f;

	if (c->mode != CLOCK_MODE_INTERNAL || !c->running)
		return CLOCK_NO_FRAME;
	f = clock_tick_frame(c, c->next_tick);
	return f < c->stop_frame ? f : CLOCK_NO_FRAME;
}

/* Writes the tick's events that fit in `room` (0xF8 to send, then the step it begins); returns how many. */
static int
clock_gen_tick(struct clock *c, uint64_t f, uint64_t frame0, struct clock_event *ev, int room)
{
	int64_t k = c->next_tick, s = k / CLOCK_TICKS_PER_STEP;
	int n = 0;

	if (c->send_clock && !c->gen_half) {
		ev[n++] = (struct clock_event){ f, s, CLOCK_EV_TICK, f < frame0, MIDI_BYTE_CLOCK };
		if (k % CLOCK_TICKS_PER_STEP == 0 && n == room) {
			c->gen_half = 1;        /* the step follows in the next call */
			return n;
		}
	}
	if (k % CLOCK_TICKS_PER_STEP == 0)
		ev[n++] = (struct clock_event){ f, s, CLOCK_EV_STEP, f < frame0, 0 };
	c->gen_half = 0;
	c->next_tick = k + 1;
	clock_count(&c->cnt.ticks, 1);
	return n;
}

/* ---- external clock: DLL and MIDI input ----------------------------------------------------- */

/* Starts the loop over from a known period: the next tick is expected one period after t. */
static void
clock_dll_rephase(struct clock *c, double t)
{
	c->dll_t0 = t;
	c->dll_t1 = t + c->dll_e2;
}

/* One second-order update with the tick at t; `skip` ticks are known to be missing before it. */
static void
clock_dll_update(struct clock *c, double t, int64_t skip)
{
	double w, e;

	if (c->dll_n == 0 || (c->dll_n == 1 && t <= c->dll_t0)) {
		c->dll_t0 = t;          /* first tick, or a burst at one frame: no period yet */
		c->dll_n = 1;
		return;
	}
	if (c->dll_n == 1) {
		c->dll_e2 = t - c->dll_t0;
		clock_dll_rephase(c, t);
		c->dll_n = 2;
		return;
	}
	w = 2.0 / (double)(c->dll_n + 1);
	if (w < CLOCK_DLL_OMEGA)
		w = CLOCK_DLL_OMEGA;
	c->dll_t1 += (double)skip * c->dll_e2;
	e = t - c->dll_t1;
	c->dll_t0 = t;
	c->dll_t1 += CLOCK_SQRT2 * w * e + c->dll_e2;
	c->dll_e2 += w * w * e;
	c->dll_n++;
	if (c->dll_e2 < 1.0) {          /* nonsense input (bursts at one frame): start over */
		c->dll_e2 = 0.0;
		c->dll_n = 1;
	}
}

static double
clock_abs(double x)
{
	return x < 0.0 ? -x : x;
}

/* The period the intervals after the long one show: the shortest (a lost tick only lengthens one), then the mean
 * over all of them counted in whole periods of it. */
static double
clock_ver_period(const struct clock *c)
{
	double p = c->ver_iv[1], sum = 0.0;
	int64_t n = 0;

	for (int j = 2; j < c->ver_len; j++)
		p = c->ver_iv[j] < p ? c->ver_iv[j] : p;
	for (int j = 1; j < c->ver_len; j++) {
		sum += c->ver_iv[j];
		n += clock_round(c->ver_iv[j] / p);
	}
	return sum / (double)n;
}

/* A tick of a window opened by a long interval: reads every interval of the window in periods of the new tempo.
 * Returns 0 and sets *d to the ticks to count missing now (negative: counted too many), or -1 when the
 * intervals are no whole numbers of one period (the window closes; the tick is judged like any other). */
static int
clock_ver_tick(struct clock *c, double t, double iv, int64_t *d)
{
	double p, x, sum = 0.0, est;
	int64_t n = 0, m = 0;

	if (!(iv > 0.0)) {
		c->ver_len = 0;
		return -1;
	}
	c->ver_iv[c->ver_len++] = iv;
	p = clock_ver_period(c);
	for (int j = 0; j < c->ver_len; j++) {
		x = c->ver_iv[j] / p;
		n = clock_round(x);
		if (n < 1 || clock_abs(x - (double)n) > CLOCK_VERIFY_SLACK + c->tolerance / p) {
			c->ver_len = 0;
			return -1;
		}
		m += n - 1;
		sum += c->ver_iv[j];
	}
	if (m > CLOCK_PAUSE_TICKS) {
		c->ver_len = 0;
		return -1;
	}
	*d = m - c->ver_miss;
	c->ver_miss = m;
	est = sum / (double)(m + c->ver_len);
	if (*d != 0 || clock_abs(est / c->dll_e2 - 1.0) > CLOCK_RESEED) {
		c->dll_e2 = est;        /* the loop was fed the wrong reading, or the tempo jumped */
		clock_dll_rephase(c, t);
	} else {
		clock_dll_update(c, t, n - 1);
	}
	if (c->ver_len == 1 + CLOCK_VERIFY_TICKS)
		c->ver_len = 0;
	return 0;
}

/* Feeds the DLL; returns ticks missing before this one (0 unless rolling, locked and the gap is long; negative
 * when the intervals after a long one show that it held fewer than were counted). */
static int64_t
clock_ext_dll(struct clock *c, double t)
{
	double gap = t - c->dll_t0;
	int64_t miss;

	if (c->dll_jump && c->dll_n >= 2) {
		c->dll_jump = 0;        /* transports may restart their clock with any phase */
		c->ver_len = 0;
		clock_dll_rephase(c, t);
		return 0;
	}
	c->dll_jump = 0;
	if (c->ver_len > 0 && clock_ver_tick(c, t, gap, &miss) == 0)
		return miss;
	if (c->dll_n < 2 || gap <= CLOCK_VERIFY_FACTOR * c->dll_e2 + c->tolerance) {
		clock_dll_update(c, t, 0);
		return 0;
	}
	/* long: lost ticks, a slower tempo, or both (a tick dropped on a tempo rise); the intervals after it tell */
	miss = gap > CLOCK_GAP_FACTOR * c->dll_e2 + c->tolerance ? clock_round(gap / c->dll_e2) - 1 : 0;
	if (miss > CLOCK_PAUSE_TICKS || c->dll_n < CLOCK_DLL_LOCK || !c->running || c->awaiting) {
		if (miss > CLOCK_PAUSE_TICKS && c->running && !c->awaiting)
			clock_count(&c->cnt.pauses, 1);
		if (miss > 0)
			clock_dll_rephase(c, t);
		else
			clock_dll_update(c, t, 0);
		return 0;
	}
	clock_dll_update(c, t, miss);
	c->ver_iv[0] = gap;
	c->ver_len = 1;
	c->ver_miss = miss;
	return miss;
}

/* Reports the steps that began on missing ticks at the frame of the tick that revealed them. */
static void
clock_ext_missed(struct clock *c, uint64_t frame, int64_t miss)
{
	for (int64_t k = c->next_tick; k < c->next_tick + miss; k++) {
		if (k % CLOCK_TICKS_PER_STEP != 0 || k < c->done_tick)
			continue;
		clock_push(c, CLOCK_EV_STEP, frame, k / CLOCK_TICKS_PER_STEP, 1, 0);
		clock_count(&c->cnt.late_steps, 1);
	}
	c->next_tick += miss;
	clock_count(&c->cnt.missed_ticks, (uint64_t)miss);
}

/* Takes back ticks counted missing (a tempo drop after all): the position steps back, and the steps it passed
 * are not reported a second time. */
static void
clock_ext_unmissed(struct clock *c, int64_t n)
{
	if (c->next_tick > c->done_tick)
		c->done_tick = c->next_tick;
	c->next_tick -= n;
	atomic_fetch_sub_explicit(&c->cnt.missed_ticks, (uint64_t)n, memory_order_relaxed);
}

static void
clock_ext_tick(struct clock *c, uint64_t frame)
{
	int64_t miss = clock_ext_dll(c, (double)frame);

	clock_publish_bpm(c);
	if (!c->running) {
		clock_count(&c->cnt.idle_ticks, 1);
		return;
	}
	c->awaiting = 0;
	if (miss > 0)
		clock_ext_missed(c, frame, miss);
	else if (miss < 0)
		clock_ext_unmissed(c, -miss);
	if (c->next_tick % CLOCK_TICKS_PER_STEP == 0 && c->next_tick >= c->done_tick)
		clock_push(c, CLOCK_EV_STEP, frame, c->next_tick / CLOCK_TICKS_PER_STEP, 0, 0);
	c->next_tick++;
	clock_count(&c->cnt.ticks, 1);
}

/* Start: the next 0xF8 is the downbeat; a second Start before it changes nothing. */
static void
clock_ext_start(struct clock *c, uint64_t frame)
{
	if (c->running && c->awaiting && c->next_tick == 0) {
		clock_count(&c->cnt.ignored, 1);
		return;
	}
	c->running = 1;
	c->awaiting = 1;
	c->next_tick = 0;
	c->done_tick = 0;
	c->dll_jump = 1;
	clock_push(c, CLOCK_EV_START, frame, 0, 0, 0);
}

/* Continue: the next 0xF8 is tick next_tick (the one after the last, or the SPP position). */
static void
clock_ext_continue(struct clock *c, uint64_t frame)
{
	if (c->running) {
		clock_count(&c->cnt.ignored, 1);
		return;
	}
	c->running = 1;
	c->awaiting = 1;
	c->done_tick = 0;
	c->dll_jump = 1;
	clock_push(c, CLOCK_EV_CONTINUE, frame, clock_step_of_tick(c->next_tick), 0, 0);
}

static void
clock_ext_stop(struct clock *c, uint64_t frame)
{
	if (!c->running) {
		clock_count(&c->cnt.ignored, 1);
		return;
	}
	c->running = 0;
	c->awaiting = 0;
	c->dll_jump = 1;
	clock_push(c, CLOCK_EV_STOP, frame, clock_step_of_tick(c->next_tick), 0, 0);
}

/* SPP counts MIDI beats (16th notes = 6 ticks); applied while stopped, ignored while running. */
static void
clock_ext_spp(struct clock *c, const uint8_t *data)
{
	if (data == NULL || (data[0] & 0x80) || (data[1] & 0x80)) {
		clock_count(&c->cnt.unknown, 1);
		return;
	}
	if (c->running) {
		clock_count(&c->cnt.ignored, 1);
		return;
	}
	c->next_tick = (int64_t)(data[0] | data[1] << 7) * CLOCK_TICKS_PER_STEP;
}

void
clock_midi_in(struct clock *c, uint8_t status, const uint8_t *data, uint64_t frame)
{
	if (frame < c->last_frame) {
		clock_count(&c->cnt.unknown, 1);
		frame = c->last_frame;
	}
	c->last_frame = frame;
	if (c->mode != CLOCK_MODE_EXTERNAL) {
		if (status != MIDI_BYTE_SENSING)
			clock_count(&c->cnt.ignored, 1);
		return;
	}
	switch (status) {
	case MIDI_BYTE_CLOCK:
		clock_ext_tick(c, frame);
		break;
	case MIDI_BYTE_START:
		clock_ext_start(c, frame);
		break;
	case MIDI_BYTE_CONTINUE:
		clock_ext_continue(c, frame);
		break;
	case MIDI_BYTE_STOP:
		clock_ext_stop(c, frame);
		break;
	case MIDI_BYTE_SPP:
		clock_ext_spp(c, data);
		break;
	case MIDI_BYTE_SENSING:
		break;
	default:
		clock_count(&c->cnt.unknown, 1);
	}
}

/* ---- the period ------------------------------------------------------------------------------ */

/* Takes the oldest queued event; a Stop of the lead clock ends tick generation here. */
static void
clock_pop(struct clock *c, uint64_t frame0, struct clock_event *ev)
{
	*ev = c->queue[c->q_head];
	c->q_head = (c->q_head + 1) % CLOCK_QUEUE_LEN;
	c->q_len--;
	if (ev->frame < frame0)
		ev->late = 1;
	if (ev->type == CLOCK_EV_STOP && c->mode == CLOCK_MODE_INTERNAL && c->stop_frame != CLOCK_NO_FRAME) {
		c->running = 0;
		c->stop_frame = CLOCK_NO_FRAME;
		ev->step = clock_step_of_tick(c->next_tick);
	}
}

int
clock_period(struct clock *c, uint64_t frame0, uint32_t nframes, struct clock_event *ev, int max)
{
	uint64_t end = frame0 + nframes, gf;
	int n = 0;

	while (n < max) {
		const struct clock_event *q = c->q_len ? &c->queue[c->q_head] : NULL;

		clock_pending(c);
		gf = clock_gen_frame(c);
		if (q != NULL && q->frame < end && q->frame <= gf) {
			clock_pop(c, frame0, &ev[n++]);
			continue;
		}
		if (gf >= end)
			break;
		n += clock_gen_tick(c, gf, frame0, ev + n, max - n);
	}
	for (int i = 0; i < n; i++)
		if (ev[i].type == CLOCK_EV_STEP)
			atomic_store_explicit(&c->cnt.step, ev[i].step, memory_order_relaxed);
	return n;
}

/* ---- queries --------------------------------------------------------------------------------- */

double
clock_bpm(const struct clock *c)
{
	if (c->mode == CLOCK_MODE_INTERNAL)
		return c->bpm;
	if (c->dll_n < 2 || !(c->dll_e2 > 0.0))
		return 0.0;
	return 60.0 * c->sr / ((double)CLOCK_PPQN * c->dll_e2);
}

int64_t
clock_step(const struct clock *c)
{
	return clock_step_of_tick(c->next_tick);
}

double
clock_predict_framef(const struct clock *c, int64_t step)
{
	double f;

	if (!c->running)
		return -1.0;
	if (c->mode == CLOCK_MODE_INTERNAL)
		return (double)clock_tick_frame(c, step * CLOCK_TICKS_PER_STEP);
	if (c->dll_n < 2 || !(c->dll_e2 > 0.0))
		return -1.0;
	/* dll_t1 is the filtered time of tick next_tick */
	f = c->dll_t1 + (double)(step * CLOCK_TICKS_PER_STEP - c->next_tick) * c->dll_e2;
	return f > 0.0 ? f : 0.0;
}

uint64_t
clock_predict_frame(const struct clock *c, int64_t step)
{
	double f = clock_predict_framef(c, step);

	return f < 0.0 ? CLOCK_NO_FRAME : (uint64_t)clock_round(f);
}

void
clock_stats_read(const struct clock *c, struct clock_stats *out)
{
	out->ticks = atomic_load_explicit(&c->cnt.ticks, memory_order_relaxed);
	out->idle_ticks = atomic_load_explicit(&c->cnt.idle_ticks, memory_order_relaxed);
	out->missed_ticks = atomic_load_explicit(&c->cnt.missed_ticks, memory_order_relaxed);
	out->late_steps = atomic_load_explicit(&c->cnt.late_steps, memory_order_relaxed);
	out->pauses = atomic_load_explicit(&c->cnt.pauses, memory_order_relaxed);
	out->ignored = atomic_load_explicit(&c->cnt.ignored, memory_order_relaxed);
	out->unknown = atomic_load_explicit(&c->cnt.unknown, memory_order_relaxed);
	out->overflows = atomic_load_explicit(&c->cnt.overflows, memory_order_relaxed);
	out->step = atomic_load_explicit(&c->cnt.step, memory_order_relaxed);
	out->bpm = atomic_load_explicit(&c->cnt.mbpm, memory_order_relaxed) / 1000.0;
}
