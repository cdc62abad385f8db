/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_clock.c: the clock against synthetic MIDI clock streams cut into JACK periods, and the lead clock's frames. */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloccount.h"
#include "clock.h"
#include "rng.h"
#include "tap.h"

#define SR 48000.0
#define MAXEV 64

enum { JIT_NONE, JIT_WALK, JIT_INDEP };

/* A recorded input stream: bytes with absolute frames, in time order. */
struct src {
	uint64_t *frame;
	uint8_t *st, (*data)[2];
	int n, cap;
	uint64_t *tick_frame;   /* [ticks] frame tick k was sent at, or 0 when dropped */
	int nticks;
};

/* What the clock reported, and its tempo estimate after every 0xF8 fed. */
struct log {
	struct clock_event *ev;
	int n, cap;
	double *bpm;            /* [F8 inputs] */
	int nbpm;
};

struct scen {
	double bpm0, bpm1;      /* tempo before and after change_tick (linear ramp over ramp ticks) */
	int change_tick, ramp;
	int jitter_mode;
	double jitter;          /* fraction of the tick interval */
	int drop_every;         /* drop tick k when k % drop_every == 0 (k >= 96), 0 = none */
	int nticks;
	uint64_t start;         /* frame of the Start byte; tick 0 follows 10 frames later */
};

static uint64_t seed;

static void
src_add(struct src *s, uint64_t frame, uint8_t st, int lsb, int msb)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->frame = realloc(s->frame, s->cap * sizeof *s->frame);
		s->st = realloc(s->st, s->cap * sizeof *s->st);
		s->data = realloc(s->data, s->cap * sizeof *s->data);
	}
	s->frame[s->n] = frame;
	s->st[s->n] = st;
	s->data[s->n][0] = (uint8_t)lsb;
	s->data[s->n][1] = (uint8_t)msb;
	s->n++;
}

static void
src_free(struct src *s)
{
	free(s->frame);
	free(s->st);
	free(s->data);
	free(s->tick_frame);
	memset(s, 0, sizeof *s);
}

static double
scen_bpm(const struct scen *sc, int k)
{
	if (k < sc->change_tick)
		return sc->bpm0;
	if (k >= sc->change_tick + sc->ramp)
		return sc->bpm1;
	return sc->bpm0 + (sc->bpm1 - sc->bpm0) * (k - sc->change_tick) / sc->ramp;
}

/* Start, then nticks 0xF8 with the scenario's tempo, jitter (jack_midi_clock -J: each interval) and drops. */
static void
src_build(struct src *s, const struct scen *sc, struct rng *r)
{
	double ideal = (double)sc->start + 200.0, sent = ideal;

	memset(s, 0, sizeof *s);
	s->tick_frame = calloc(sc->nticks, sizeof *s->tick_frame);
	s->nticks = sc->nticks;
	src_add(s, sc->start, 0xFA, 0, 0);
	for (int k = 0; k < sc->nticks; k++) {
		double T = 60.0 * SR / (24.0 * scen_bpm(sc, k));
		double u = 2.0 * rng_uniform(r) - 1.0;
		uint64_t f;

		f = (uint64_t)llround(sc->jitter_mode == JIT_INDEP ? ideal + u * sc->jitter * T : sent);
		if (!(sc->drop_every && k >= 96 && k % sc->drop_every == 0)) {
			src_add(s, f, 0xF8, 0, 0);
			s->tick_frame[k] = f;
		}
		ideal += T;
		sent += sc->jitter_mode == JIT_WALK ? T * (1.0 + u * sc->jitter) : T;
	}
}

/* Leaves tick k out of a built stream. */
static void
src_drop(struct src *s, int k)
{
	for (int i = 0; i < s->n; i++)
		if (s->st[i] == 0xF8 && s->frame[i] == s->tick_frame[k]) {
			memmove(s->frame + i, s->frame + i + 1, (s->n - i - 1) * sizeof *s->frame);
			memmove(s->st + i, s->st + i + 1, (s->n - i - 1) * sizeof *s->st);
			memmove(s->data + i, s->data + i + 1, (s->n - i - 1) * sizeof *s->data);
			s->n--;
			break;
		}
	s->tick_frame[k] = 0;
}

static void
log_add(struct log *lg, const struct clock_event *ev, int n)
{
	for (int i = 0; i < n; i++) {
		if (lg->n == lg->cap) {
			lg->cap = lg->cap ? 2 * lg->cap : 1024;
			lg->ev = realloc(lg->ev, lg->cap * sizeof *lg->ev);
		}
		lg->ev[lg->n++] = ev[i];
	}
}

static void
log_free(struct log *lg)
{
	free(lg->ev);
	free(lg->bpm);
	memset(lg, 0, sizeof *lg);
}

/* Feeds the stream period by period as a JACK callback would: inputs first, then clock_period. */
static void
run_ext(struct clock *c, const struct src *s, uint32_t period, uint64_t end, struct log *lg)
{
	struct clock_event ev[MAXEV];
	int i = 0;

	memset(lg, 0, sizeof *lg);
	lg->bpm = calloc(s->n + 1, sizeof *lg->bpm);
	for (uint64_t f0 = 0; f0 < end; f0 += period) {
		for (; i < s->n && s->frame[i] < f0 + period; i++) {
			clock_midi_in(c, s->st[i], s->data[i], s->frame[i]);
			if (s->st[i] == 0xF8)
				lg->bpm[lg->nbpm++] = clock_bpm(c);
		}
		log_add(lg, ev, clock_period(c, f0, period, ev, MAXEV));
	}
}

/* Step s must be reported once, in order, at its tick's frame (or, dropped, the next tick's, flagged late). */
static int
check_steps(const struct log *lg, const struct src *s, int64_t first, int *late, int64_t *maxerr)
{
	int64_t want = first;
	int bad = 0;

	*late = 0;
	*maxerr = 0;
	for (int i = 0; i < lg->n; i++) {
		const struct clock_event *e = &lg->ev[i];
		int k;
		int64_t err;

		if (e->type != CLOCK_EV_STEP)
			continue;
		bad += e->step != want;
		if (want * 6 >= s->nticks) {    /* more steps than ticks sent */
			bad++;
			continue;
		}
		for (k = (int)(want * 6); k < s->nticks && s->tick_frame[k] == 0; k++)
			;
		err = k < s->nticks ? (int64_t)e->frame - (int64_t)s->tick_frame[k] : 1;
		if (llabs(err) > *maxerr)
			*maxerr = llabs(err);
		bad += (e->late != 0) != (s->tick_frame[want * 6] == 0);
		if (getenv("DEBUG") && (e->step != want || err))
			diag("step %" PRId64 " want %" PRId64 " frame %" PRIu64 " err %" PRId64, e->step, want, e->frame, err);
		*late += e->late;
		want++;
	}
	return bad == 0 && want - first == (s->nticks + 5) / 6 ? 0 : -1;
}

static int
count_type(const struct log *lg, int type)
{
	int n = 0;

	for (int i = 0; i < lg->n; i++)
		n += lg->ev[i].type == type;
	return n;
}

static void
test_steady(double bpm, uint32_t period)
{
	struct scen sc = { bpm, bpm, 0, 0, JIT_NONE, 0, 0, 16 * 96, 777 };
	struct src s;
	struct log lg;
	struct clock c;
	struct clock_stats st;
	struct rng r;
	int late;
	int64_t maxerr;

	rng_seed(&r, seed);
	src_build(&s, &sc, &r);
	clock_init(&c, SR);
	run_ext(&c, &s, period, s.frame[s.n - 1] + 2 * period, &lg);
	clock_stats_read(&c, &st);
	ok(check_steps(&lg, &s, 0, &late, &maxerr) == 0 && maxerr == 0 && late == 0,
	    "%.0f BPM, period %u: 256 steps at their tick frames, none late", bpm, period);
	is_float(lg.bpm[192], bpm, 0.1, "%.0f BPM, period %u: tempo after 2 bars (error %.4f BPM)", bpm, period,
	    fabs(lg.bpm[192] - bpm));
	is_int((long long)st.missed_ticks + (long long)st.late_steps, 0, "%.0f BPM, period %u: no missed ticks",
	    bpm, period);
	src_free(&s);
	log_free(&lg);
}

static void
test_jitter(double bpm, uint32_t period, int mode)
{
	struct scen sc = { bpm, bpm, 0, 0, mode, 0.10, 0, 32 * 96, 5000 };
	struct src s;
	struct log lg;
	struct clock c;
	struct clock_stats st;
	struct rng r;
	int late;
	int64_t maxerr;
	double worst = 0, sum2 = 0;
	const char *name = mode == JIT_WALK ? "per-interval" : "per-tick";

	rng_seed(&r, seed ^ (uint64_t)(bpm * period));
	src_build(&s, &sc, &r);
	clock_init(&c, SR);
	run_ext(&c, &s, period, s.frame[s.n - 1] + 2 * period, &lg);
	clock_stats_read(&c, &st);
	for (int k = 192; k < lg.nbpm; k++) {
		double e = fabs(lg.bpm[k] - bpm);

		worst = e > worst ? e : worst;
		sum2 += e * e;
	}
	ok(check_steps(&lg, &s, 0, &late, &maxerr) == 0 && maxerr == 0 && late == 0,
	    "%.0f BPM ±10%% %s jitter, period %u: 512 steps, none skipped or doubled, at tick frames", bpm, name,
	    period);
	is_int((long long)st.missed_ticks, 0, "%.0f BPM ±10%% %s jitter, period %u: no false missing ticks", bpm,
	    name, period);
	ok(worst < 0.06 * bpm, "%.0f BPM ±10%% %s jitter, period %u: tempo after 2 bars max error %.2f, rms %.2f BPM",
	    bpm, name, period, worst, sqrt(sum2 / (lg.nbpm - 192)));
	src_free(&s);
	log_free(&lg);
}

/* Ticks until the estimate is within tol of the new tempo and stays there. */
static int
settle_ticks(const struct log *lg, int from, double bpm, double tol)
{
	int last_out = from - 1;

	for (int k = from; k < lg->nbpm; k++)
		if (fabs(lg->bpm[k] - bpm) > tol)
			last_out = k;
	return last_out + 1 - from;
}

static void
test_change(uint32_t period, int ramp, int mode)
{
	struct scen sc = { 123, 90, 8 * 96, ramp, mode, mode ? 0.10 : 0, 0, 20 * 96, 100 };
	struct src s;
	struct log lg;
	struct clock c;
	struct rng r;
	int late, at = 8 * 96 + ramp, t05, t1;
	int64_t maxerr;
	double tol = mode ? 4.0 : 1.0;

	rng_seed(&r, seed + 7);
	src_build(&s, &sc, &r);
	clock_init(&c, SR);
	run_ext(&c, &s, period, s.frame[s.n - 1] + 2 * period, &lg);
	t05 = settle_ticks(&lg, at, 90, 0.5);
	t1 = settle_ticks(&lg, at, 90, 1.0);
	ok(check_steps(&lg, &s, 0, &late, &maxerr) == 0 && maxerr == 0, "123->90 %s%s: every step at its tick",
	    ramp ? "ramp" : "step", mode ? " with jitter" : "");
	if (mode)
		is_float(lg.bpm[at + 96], 90, tol, "123->90 step ±10%% per-interval jitter, period %u: tempo one bar "
		    "after %.2f", period, lg.bpm[at + 96]);
	else
		is_float(lg.bpm[at + 96], 90, tol, "123->90 %s, period %u: tempo one bar after %.3f (within 0.5 BPM "
		    "after %d ticks, 1 BPM after %d)", ramp ? "ramp over 4 bars" : "step", period, lg.bpm[at + 96],
		    t05, t1);
	src_free(&s);
	log_free(&lg);
}

static void
test_drops(uint32_t period)
{
	struct scen sc = { 123, 123, 0, 0, JIT_WALK, 0.05, 47, 24 * 96, 3000 };
	struct src s;
	struct log lg;
	struct clock c;
	struct clock_stats st;
	struct rng r;
	int late, dropped = 0, dropped_steps = 0;
	int64_t maxerr;

	rng_seed(&r, seed + 11);
	src_build(&s, &sc, &r);
	for (int k = 0; k < s.nticks - 1; k++) {        /* a drop at the very end is never revealed */
		dropped += s.tick_frame[k] == 0;
		dropped_steps += s.tick_frame[k] == 0 && k % 6 == 0;
	}
	clock_init(&c, SR);
	run_ext(&c, &s, period, s.frame[s.n - 1] + 2 * period, &lg);
	clock_stats_read(&c, &st);
	ok(check_steps(&lg, &s, 0, &late, &maxerr) == 0 && maxerr == 0,
	    "dropped ticks, period %u: every step once, in order, at its tick or the revealing tick", period);
	is_int((long long)st.missed_ticks, dropped, "dropped ticks, period %u: %d missing ticks counted", period,
	    dropped);
	is_int(late, dropped_steps, "dropped ticks, period %u: %d steps on missing ticks reported late", period,
	    dropped_steps);
	src_free(&s);
	log_free(&lg);
}

/* jack_midi_clock's process(): each period it reads the tempo at the period's first transport frame, then sends
 * the ticks at last + interval that fall in the period; one that falls before the period start is not sent but
 * still becomes `last`. On a tempo rise that drops a tick about 1 - old/new of the time. Transport frame f is
 * absolute frame origin + f; the transport starts at 0 (Start and tick 0 at offset 0). */
static void
src_jmc(struct src *s, double bpm0, double bpm1, uint64_t change, uint32_t period, uint64_t origin, int nticks)
{
	double last = 0.0;
	int k = 1;

	memset(s, 0, sizeof *s);
	s->tick_frame = calloc(nticks, sizeof *s->tick_frame);
	s->nticks = nticks;
	src_add(s, origin, 0xFA, 0, 0);
	src_add(s, origin, 0xF8, 0, 0);
	s->tick_frame[0] = origin;
	for (uint64_t f0 = 0; k < nticks; f0 += period) {
		double T = 60.0 * SR / (24.0 * (f0 < change ? bpm0 : bpm1));
		int64_t off;

		while (k < nticks && (off = llrint(last + T) - (int64_t)f0) < (int64_t)period) {
			if (off >= 0) {
				src_add(s, origin + f0 + (uint64_t)off, 0xF8, 0, 0);
				s->tick_frame[k] = origin + f0 + (uint64_t)off;
			}
			last += T;
			k++;
		}
	}
}

/* The measured case: 120 -> 140 BPM at transport frame 240896 (period 256) drops tick 241, a 1714-frame gap
 * where two 857-frame intervals belong. The gap is below 1.75 periods of 120 BPM, so only the intervals after it
 * show that it held two periods of the new tempo. */
static void
test_rise_drop(uint32_t period)
{
	struct src s;
	struct log lg;
	struct clock c;
	struct clock_stats st;
	int late, dropped = -1, n = 0, k, bad;
	int64_t maxerr;

	src_jmc(&s, 120, 140, 240896, 256, 10240, 16 * 96);
	for (k = 1; k < s.nticks - 1; k++)
		if (s.tick_frame[k] == 0) {
			dropped = k;
			n++;
		}
	ok(n == 1 && dropped == 241 && s.tick_frame[242] - s.tick_frame[240] == 1714 &&
	    s.tick_frame[243] - s.tick_frame[242] == 857, "jack_midi_clock 120->140 BPM at frame 240896: tick %d "
	    "dropped, a %" PRIu64 "-frame gap", dropped, n == 1 ? s.tick_frame[242] - s.tick_frame[240] : 0);
	clock_init(&c, SR);
	run_ext(&c, &s, period, s.frame[s.n - 1] + 2 * period, &lg);
	clock_stats_read(&c, &st);
	bad = check_steps(&lg, &s, 0, &late, &maxerr);
	ok(bad == 0 && maxerr == 0 && late == 0,
	    "tick dropped on a tempo rise, period %u: every step after it on its own tick (worst %" PRId64
	    " frames off), none late", period, maxerr);
	is_int((long long)st.missed_ticks, 1, "tick dropped on a tempo rise, period %u: the missing tick counted",
	    period);
	is_float(lg.bpm[240 + 96], 140, 0.5, "tick dropped on a tempo rise, period %u: tempo one bar after %.3f",
	    period, lg.bpm[240 + 96]);
	src_free(&s);
	log_free(&lg);
}

/* Steps out of order, missing or doubled (returned), and steps not at the frame of their tick (or of the next
 * tick sent, when theirs was dropped): how many (*off) and by how much at worst (*worst, frames). */
static int
steps_off(const struct log *lg, const struct src *s, int *off, int64_t *worst)
{
	int64_t want = 0, err;
	int bad = 0, k;

	*off = 0;
	*worst = 0;
	for (int i = 0; i < lg->n; i++) {
		const struct clock_event *e = &lg->ev[i];

		if (e->type != CLOCK_EV_STEP)
			continue;
		bad += e->step != want++;
		for (k = (int)(e->step * 6); k < s->nticks && s->tick_frame[k] == 0; k++)
			;
		if (e->step < 0 || k >= s->nticks) {
			bad++;
			continue;
		}
		err = (int64_t)e->frame - (int64_t)s->tick_frame[k];
		*off += err != 0;
		*worst = llabs(err) > llabs(*worst) ? err : *worst;
	}
	return bad + (want != (s->nticks + 5) / 6);
}

/* The same loss under ±10 % per-interval jitter, with the change at tick 384 + phase and the tick after it left
 * out. When the revealing tick begins a step (phase 4), that step comes one tick late, at the tick that shows
 * the loss; when the lost tick does (phase 5), the step is at its frame but not known to be late yet. */
static void
test_rise_drop_jitter(uint32_t period, int phase)
{
	struct scen sc = { 120, 140, 384 + phase, 0, JIT_WALK, 0.10, 0, 12 * 96, 100 };
	struct src s;
	struct log lg;
	struct clock c;
	struct clock_stats st;
	struct rng r;
	int off, bad;
	int64_t worst;

	rng_seed(&r, seed + 13 + (uint64_t)phase);
	src_build(&s, &sc, &r);
	src_drop(&s, 385 + phase);
	clock_init(&c, SR);
	run_ext(&c, &s, period, s.frame[s.n - 1] + 2 * period, &lg);
	clock_stats_read(&c, &st);
	bad = steps_off(&lg, &s, &off, &worst);
	ok(bad == 0 && st.missed_ticks == 1 && off <= (phase == 4) && worst >= 0 &&
	    worst < 1.25 * 60 * SR / (24 * 140),
	    "120->140 ±10%% jitter, tick %d dropped, period %u: %" PRIu64 " missing tick counted, every step once in "
	    "order, %d off its tick (by %" PRId64 " frames)", 385 + phase, period, st.missed_ticks, off, worst);
	src_free(&s);
	log_free(&lg);
}

/* A real halving of the tempo under ±10 % per-interval jitter, at tick 768 + phase: the first slow interval is
 * about two old periods, like a lost tick, but the intervals after it are as long, so no tick is missing. When
 * the tick after the change would have begun a step had a tick been lost (phase 4), that step comes one tick
 * early (it was reported before the next interval showed the tempo drop). */
static void
test_halving(uint32_t period, int phase)
{
	struct scen sc = { 140, 70, 768 + phase, 0, JIT_WALK, 0.10, 0, 16 * 96, 100 };
	struct src s;
	struct log lg;
	struct clock c;
	struct clock_stats st;
	struct rng r;
	int off, bad;
	int64_t worst;

	rng_seed(&r, seed + 17 + (uint64_t)phase);
	src_build(&s, &sc, &r);
	clock_init(&c, SR);
	run_ext(&c, &s, period, s.frame[s.n - 1] + 2 * period, &lg);
	clock_stats_read(&c, &st);
	bad = steps_off(&lg, &s, &off, &worst);
	ok(bad == 0 && st.missed_ticks == 0 && off <= (phase == 4) && worst <= 0 &&
	    worst > -1.25 * 60 * SR / (24 * 70), "140->70 ±10%% jitter at tick %d, period %u: no tick taken for lost "
	    "(%" PRIu64 "), every step once in order, %d off its tick (by %" PRId64 " frames)", 768 + phase, period,
	    st.missed_ticks, off, worst);
	is_float(lg.bpm[768 + phase + 96], 70, 3.5, "140->70 ±10%% jitter at tick %d, period %u: tempo one bar "
	    "after %.2f", 768 + phase, period, lg.bpm[768 + phase + 96]);
	src_free(&s);
	log_free(&lg);
}

/* Two ticks lost two apart on a steady clock: the interval after the first gap is as long as the gap (as after a
 * halving), the one after it is not; both count, and the phase is kept. */
static void
test_two_lost(uint32_t period)
{
	struct scen sc = { 123, 123, 0, 0, JIT_WALK, 0.05, 0, 8 * 96, 100 };
	struct src s;
	struct log lg;
	struct clock c;
	struct clock_stats st;
	struct rng r;
	int off, bad;
	int64_t worst;

	rng_seed(&r, seed + 19);
	src_build(&s, &sc, &r);
	src_drop(&s, 400);
	src_drop(&s, 402);
	clock_init(&c, SR);
	run_ext(&c, &s, period, s.frame[s.n - 1] + 2 * period, &lg);
	clock_stats_read(&c, &st);
	bad = steps_off(&lg, &s, &off, &worst);
	ok(bad == 0 && st.missed_ticks == 2 && off <= 1 && worst >= 0 && worst < 1.25 * 60 * SR / (24 * 123) &&
	    fabs(clock_bpm(&c) - 123) < 5, "ticks 400 and 402 lost, period %u: %" PRIu64 " counted, every step once "
	    "in order, %d off its tick (by %" PRId64 " frames), tempo %.2f", period, st.missed_ticks, off, worst,
	    clock_bpm(&c));
	src_free(&s);
	log_free(&lg);
}

/* Appends n ticks at bpm from frame f; returns the frame after the last. */
static uint64_t
ticks(struct src *s, uint64_t f, int n, double bpm)
{
	double T = 60.0 * SR / (24.0 * bpm);

	for (int k = 0; k < n; k++)
		src_add(s, f + (uint64_t)llround(k * T), 0xF8, 0, 0);
	return f + (uint64_t)llround(n * T);
}

static const struct clock_event *
find(const struct log *lg, int type, int nth)
{
	for (int i = 0; i < lg->n; i++)
		if (lg->ev[i].type == type && nth-- == 0)
			return &lg->ev[i];
	return NULL;
}

static void
test_transport(void)
{
	struct src s;
	struct log lg;
	struct clock c;
	struct clock_stats st;
	const struct clock_event *e;
	uint64_t f, spp_tick, pause_tick;
	double bpm_before;
	int steps_before = 0;

	memset(&s, 0, sizeof s);
	f = ticks(&s, 100, 48, 120);                    /* clock without transport: tempo only */
	src_add(&s, f, 0xFA, 0, 0);
	src_add(&s, f + 5, 0xFA, 0, 0);                 /* duplicate Start */
	f = ticks(&s, f + 10, 96, 120);                 /* steps 0..15 */
	src_add(&s, f, 0xF2, 3, 0);                     /* SPP while running: ignored */
	f = ticks(&s, f, 12, 120);                      /* steps 16, 17 */
	src_add(&s, f, 0xFC, 0, 0);
	f = ticks(&s, f + 500, 24, 120);                /* idle ticks while stopped */
	src_add(&s, f, 0xF2, 32, 0);                    /* SPP 32 */
	src_add(&s, f + 1, 0xFB, 0, 0);
	spp_tick = f + 1000;
	f = ticks(&s, spp_tick, 48, 120);               /* steps 32..39 */
	pause_tick = f + (uint64_t)(10 * SR);           /* the master goes quiet for 10 s without Stop */
	ticks(&s, pause_tick, 12, 120);                 /* steps 40, 41 */
	clock_init(&c, SR);
	run_ext(&c, &s, 256, pause_tick + (uint64_t)SR, &lg);
	clock_stats_read(&c, &st);
	for (int i = 0; i < lg.n; i++)
		steps_before += lg.ev[i].type == CLOCK_EV_STEP && lg.ev[i].frame < pause_tick;
	is_int(steps_before, 26, "steps 0..17 and 32..39 before the silence");
	bpm_before = lg.bpm[48 + 96 + 12 + 24 + 48 - 1];
	ok(fabs(lg.bpm[47] - 120) < 0.05 && fabs(bpm_before - 120) < 0.05 && lg.bpm[48 + 96 + 12 + 24 + 48] == bpm_before,
	    "ticks before Start give a tempo (%.4f); 10 s of silence leave it (%.4f)", lg.bpm[47], bpm_before);
	is_int(count_type(&lg, CLOCK_EV_START), 1, "one Start event for two 0xFA");
	is_int((long long)st.idle_ticks, 72, "72 ticks while stopped counted as idle");
	e = find(&lg, CLOCK_EV_STEP, 0);
	ok(e && e->step == 0 && e->frame == s.frame[50], "the first 0xF8 after Start is step 0 at its frame");
	e = find(&lg, CLOCK_EV_STOP, 0);
	ok(e && e->step == 18, "Stop reports step 18 as the position");
	e = find(&lg, CLOCK_EV_CONTINUE, 0);
	ok(e && e->step == 32, "SPP 32 + Continue reports step 32");
	e = find(&lg, CLOCK_EV_STEP, 18);
	ok(e && e->step == 32 && e->frame == spp_tick && !e->late, "the next 0xF8 is step 32 at its frame");
	e = find(&lg, CLOCK_EV_STEP, 26);
	ok(e && e->step == 40 && e->frame == pause_tick, "after the silence the position goes on at step 40");
	ok(st.pauses == 1 && st.missed_ticks == 0, "the silence is one pause, not %" PRIu64 " missing ticks",
	    st.missed_ticks);
	is_int((long long)st.ignored, 2, "duplicate Start and SPP while running ignored");
	is_int(st.step, 41, "the last step is published to other threads");
	src_free(&s);
	log_free(&lg);
}

static uint64_t
closed_form(uint64_t origin, int64_t k, double bpm, int per_quarter)
{
	return origin + (uint64_t)llround((double)k * 60.0 * SR / (bpm * per_quarter));
}

/* The lead clock over 17 bars: every tick and step at the closed-form frame, in order, inside its period. */
static void
test_internal(double bpm, uint32_t period)
{
	struct clock c;
	struct clock_event ev[MAXEV];
	const uint64_t origin = 1234;
	int64_t want_tick = 0, want_step = 0;
	int bad = 0, starts = 0, outside = 0, predict_bad = 0;

	clock_init(&c, SR);
	clock_set_internal(&c, bpm, 1);
	for (uint64_t f0 = 0; want_tick < 17 * 96; f0 += period) {
		int n;

		if (f0 <= origin && origin < f0 + period)
			clock_start(&c, origin);
		if (c.running)
			predict_bad += clock_predict_frame(&c, want_step + 3) != closed_form(origin, want_step + 3, bpm, 4);
		n = clock_period(&c, f0, period, ev, MAXEV);
		for (int i = 0; i < n; i++) {
			outside += ev[i].frame < f0 || ev[i].frame >= f0 + period || ev[i].late;
			if (ev[i].type == CLOCK_EV_START)
				starts += ev[i].frame == origin && ev[i].midi == 0xFA && want_tick == 0;
			else if (ev[i].type == CLOCK_EV_TICK)
				bad += ev[i].midi != 0xF8 || ev[i].frame != closed_form(origin, want_tick++, bpm, 24);
			else if (ev[i].type == CLOCK_EV_STEP)
				bad += ev[i].step != want_step ||
				    ev[i].frame != closed_form(origin, want_step++, bpm, 4);
		}
	}
	ok(bad == 0 && starts == 1 && want_step >= 17 * 16 && want_step == (want_tick + 5) / 6,
	    "internal %.0f BPM, period %u: 17 bars of ticks and steps at origin + round(k*60*sr/(bpm*ppq))", bpm, period);
	ok(outside == 0, "internal %.0f BPM, period %u: every event inside its period, none late", bpm, period);
	is_int(predict_bad, 0, "internal %.0f BPM, period %u: clock_predict_frame is exact", bpm, period);
}

/* Changes 120 -> 173 BPM at a period boundary: the next tick keeps its frame, later ones follow the new tempo. */
static void
test_internal_change(uint32_t period)
{
	struct clock c;
	struct clock_event ev[MAXEV];
	uint64_t prev = 0, anchor = 0, f0;
	int64_t want_tick = 0, k_anchor = -1, want_step = 0;
	int bad = 0, stops = 0, n;

	clock_init(&c, SR);
	clock_set_internal(&c, 120, 1);
	clock_start(&c, 0);
	for (f0 = 0; want_tick < 40 * 24; f0 += period) {
		if (f0 >= 4 * SR && k_anchor < 0) {
			k_anchor = c.next_tick;
			anchor = (uint64_t)k_anchor * 1000;     /* 120 BPM at 48 kHz: 1000 frames a tick */
			clock_set_internal(&c, 173, 1);
		}
		n = clock_period(&c, f0, period, ev, MAXEV);
		for (int i = 0; i < n; i++) {
			if (ev[i].type == CLOCK_EV_STEP)
				bad += ev[i].step != want_step++;
			if (ev[i].type != CLOCK_EV_TICK)
				continue;
			bad += want_tick > 0 && ev[i].frame <= prev;
			if (k_anchor >= 0 && want_tick >= k_anchor)
				bad += ev[i].frame != closed_form(anchor, want_tick - k_anchor, 173, 24);
			prev = ev[i].frame;
			want_tick++;
		}
	}
	ok(bad == 0 && k_anchor > 0, "internal 120->173 BPM, period %u: tick %" PRId64 " keeps frame %" PRIu64
	    ", then the new tempo, steps in order", period, k_anchor, anchor);
	clock_stop(&c, f0 + 100);
	clock_stop(&c, f0 + 200);
	n = clock_period(&c, f0, period, ev, MAXEV);
	for (int i = 0; i < n; i++) {
		stops += ev[i].type == CLOCK_EV_STOP && ev[i].midi == 0xFC && ev[i].frame == f0 + 100;
		bad += ev[i].type == CLOCK_EV_TICK && ev[i].frame >= f0 + 100;
	}
	n = clock_period(&c, f0 + period, period, ev, MAXEV);
	ok(stops == 1 && bad == 0 && n == 0 && clock_predict_frame(&c, 100) == CLOCK_NO_FRAME,
	    "internal Stop: 0xFC at its frame, no tick after it, a second Stop ignored");
	clock_locate(&c, 64);
	clock_continue(&c, f0 + 3 * period);
	n = clock_period(&c, f0 + 3 * period, period, ev, MAXEV);
	ok(n >= 3 && ev[0].type == CLOCK_EV_CONTINUE && ev[0].midi == 0xFB && ev[1].type == CLOCK_EV_TICK &&
	    ev[2].type == CLOCK_EV_STEP && ev[2].step == 64 && ev[2].frame == f0 + 3 * period,
	    "internal locate 64 + Continue: 0xFB, 0xF8 and step 64 at the Continue frame");
}

/* A caller with room for one event a period still gets every event, in order, the overdue ones flagged late. */
static void
test_small_max(void)
{
	struct clock c;
	struct clock_event ev[1];
	int64_t want = 0;
	int bad = 0, late = 0;

	clock_init(&c, SR);
	clock_set_internal(&c, 173, 1);
	clock_start(&c, 0);
	for (uint64_t f0 = 0; f0 < 48000; f0 += 1024) {
		while (clock_period(&c, f0, 1024, ev, 1) == 1) {
			if (ev[0].type == CLOCK_EV_STEP)
				bad += ev[0].step != want++;
			late += ev[0].late;
		}
	}
	ok(bad == 0 && want == (int64_t)(48000 / (48000 * 60.0 / 173 / 4)) + 1 && late == 0,
	    "max = 1, drained per period: %" PRId64 " steps in order", want);
}

static void
test_alloc(void)
{
	struct scen sc = { 123, 90, 200, 0, JIT_WALK, 0.1, 47, 8 * 96, 100 };
	struct src s;
	struct clock c;
	struct clock_event ev[MAXEV];
	struct clock_stats st;
	struct rng r;
	long calls;
	int i = 0, n = 0;

	if (!ALLOCCOUNT_AVAILABLE) {
		skip(1, "allocation counting is not available under sanitizers");
		return;
	}
	rng_seed(&r, seed);
	src_build(&s, &sc, &r);
	alloccount_start();
	clock_init(&c, SR);
	for (uint64_t f0 = 0; i < s.n; f0 += 256) {
		for (; i < s.n && s.frame[i] < f0 + 256; i++)
			clock_midi_in(&c, s.st[i], s.data[i], s.frame[i]);
		n += clock_period(&c, f0, 256, ev, MAXEV);
		(void)clock_predict_frame(&c, clock_step(&c) + 4);
		clock_stats_read(&c, &st);
	}
	clock_set_internal(&c, 140, 1);
	clock_start(&c, 1000000);
	n += clock_period(&c, 1000000, 48000, ev, MAXEV);
	calls = alloccount_stop();
	is_int(calls, 0, "no allocation across %d events of external and internal clock", n);
	src_free(&s);
}

int
main(void)
{
	const char *env = getenv("TEST_SEED");
	static const double bpms[] = { 120, 123, 173 };
	static const uint32_t periods[] = { 256, 1024 };

	seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
	plan(18 + 36 + 12 + 6 + 8 + 2 + 24 + 12 + 12 + 12 + 6 + 1 + 1);
	diag("seed %" PRIu64 " (TEST_SEED=%" PRIu64 " replays)", seed, seed);
	for (int b = 0; b < 3; b++)
		for (int p = 0; p < 2; p++)
			test_steady(bpms[b], periods[p]);
	for (int b = 0; b < 3; b++)
		for (int p = 0; p < 2; p++) {
			test_jitter(bpms[b], periods[p], JIT_WALK);
			test_jitter(bpms[b], periods[p], JIT_INDEP);
		}
	for (int p = 0; p < 2; p++) {
		test_change(periods[p], 0, JIT_NONE);
		test_change(periods[p], 0, JIT_WALK);
	}
	for (int p = 0; p < 2; p++)
		test_change(periods[p], 4 * 96, JIT_NONE);
	for (int p = 0; p < 2; p++)
		test_drops(periods[p]);
	for (int p = 0; p < 2; p++) {
		test_rise_drop(periods[p]);
		test_two_lost(periods[p]);
	}
	for (int p = 0; p < 2; p++)
		for (int ph = 0; ph < 6; ph++) {
			test_halving(periods[p], ph);
			test_rise_drop_jitter(periods[p], ph);
		}
	test_transport();
	for (int p = 0; p < 2; p++) {
		test_internal(120, periods[p]);
		test_internal(173, periods[p]);
	}
	for (int p = 0; p < 2; p++)
		test_internal_change(periods[p]);
	test_small_max();
	test_alloc();
	return done_testing();
}
