/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_rt.c: the real-time core without a backend: 32-bit frame counters widened across their wrap (the internal
 * clock keeps stepping past 2^32 frames), RT_CMD_REPLACE (bars before the replaced bar still play, the new epoch's
 * from it on, nothing is cut), flushes while stopped (the bars they end leave the queue at once), a tempo change
 * scheduled at a bar line (RT_CMD_BPM_AT), and groove micro-timing (note-ons late and early off their steps, exact
 * on the internal clock, within a frame on a steady external one). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rt.h"
#include "tap.h"

#define RATE 48000.0
#define PERIOD 256u

struct out {
	uint64_t frame[4096];
	uint8_t status[4096], pitch[4096];
	int n, disorder;
	uint64_t last;
};

static int
test_write(void *ctx, uint64_t frame, const uint8_t *d, uint32_t len)
{
	struct out *o = ctx;

	if (frame < o->last)
		o->disorder++;
	o->last = frame;
	if (o->n < 4096 && len == 3) {
		o->frame[o->n] = frame;
		o->status[o->n] = d[0] & 0xf0;
		o->pitch[o->n++] = d[1];
	}
	return 0;
}

/* Runs periods from frame f0 (widened from a 32-bit counter when wide) until frame f1. */
static void
run(struct rt *rt, struct out *o, uint64_t *f, uint64_t f1, uint64_t *wide, int widen)
{
	for (; *f < f1; *f += PERIOD) {
		uint64_t frame = widen ? rt_frames_widen(wide, (uint32_t)*f) : (uint32_t)*f;
		rt_begin(rt, frame, PERIOD, test_write, o);
		rt_end(rt, test_write, o);
	}
}

static void
test_widen(void)
{
	uint64_t s = 0xfffff000u;

	is_int((long long)rt_frames_widen(&s, 0xffffff00u), 0xffffff00ll, "widen: below the wrap, unchanged");
	is_int((long long)rt_frames_widen(&s, 0x100u), 0x100000100ll, "widen: past the wrap, + 2^32");
	is_int((long long)rt_frames_widen(&s, 0x200u), 0x100000200ll, "widen: and on");
	is_int((long long)rt_frames_widen(&s, 0x180u), 0x100000180ll, "widen: a small step back is not a wrap");
}

/* The internal clock across 2^32 frames: every step at origin + round(k * 6000), none missing. */
static void
test_wrap_clock(int widen)
{
	static struct rt rt;
	static struct out o;
	uint64_t f = ((uint64_t)1 << 32) - 20 * PERIOD * 10, wide = f - PERIOD, origin;
	int64_t step0, step1;

	memset(&o, 0, sizeof o);
	rt_init(&rt, RATE, 1, 120.0, 0, 0, -1, 0);
	rt_command(&rt, RT_CMD_START, 0, 0);
	run(&rt, &o, &f, f + PERIOD, &wide, widen);
	origin = atomic_load(&rt.now.step_frame);
	step0 = atomic_load(&rt.now.step);
	run(&rt, &o, &f, ((uint64_t)1 << 32) + 48000 * 4, &wide, widen);
	step1 = atomic_load(&rt.now.step);
	if (widen) {
		ok(step1 - step0 > 30 && atomic_load(&rt.now.step_frame) > ((uint64_t)1 << 32) && atomic_load(&rt.now.step_frame) ==
		    origin + (uint64_t)llround((double)(step1 - step0) * 6000.0),
		    "internal clock across the 2^32-frame wrap: %lld steps, the last at its exact frame",
		    (long long)(step1 - step0));
	} else {
		diag("without widening the clock stops at the wrap: %lld steps after start (this is what a 32-bit "
		    "jack_last_frame_time did)", (long long)(step1 - step0));
	}
	rt_fini(&rt);
}

static void
bar_push(struct rt *rt, int64_t bar, uint32_t epoch, int pitch)
{
	static struct rt_bar b;

	memset(&b, 0, sizeof b);
	b.bar = bar;
	b.epoch = epoch;
	b.n = 2;
	b.ev[0] = (struct rt_bar_note){ 0, 0x90, (uint8_t)pitch, 100, 0 };
	b.ev[1] = (struct rt_bar_note){ 15, 0x80, (uint8_t)pitch, 0, 0 };
	ring_push(&rt->bars, &b);
}

/* Epoch 1 queues bars 0..3 (pitches 60..63); epoch 2 replaces from bar 2 (pitches 72, 73). */
static void
test_replace(void)
{
	static struct rt rt;
	static struct out o;
	uint64_t f = 0, wide = 0;
	int want[4] = { 60, 61, 72, 73 }, got[4] = { -1, -1, -1, -1 }, cut = 0;

	memset(&o, 0, sizeof o);
	rt_init(&rt, RATE, 1, 120.0, 0, 0, -1, 0);
	rt_command(&rt, RT_CMD_FLUSH, 1, 0);
	for (int b = 0; b < 4; b++)
		bar_push(&rt, b, 1, 60 + b);
	rt_command(&rt, RT_CMD_START, 0, 0);
	run(&rt, &o, &f, 96000 + 3000, &wide, 1);       /* into bar 1 */
	rt_command_at(&rt, RT_CMD_REPLACE, 2, 0, 2);
	bar_push(&rt, 2, 2, 72);
	bar_push(&rt, 3, 2, 73);
	run(&rt, &o, &f, 96000 * 4 + 3000, &wide, 1);
	for (int i = 0; i < o.n; i++) {
		int bar = (int)((o.frame[i] - o.frame[0]) / 96000);
		if (o.status[i] == 0x90 && bar < 4 && got[bar] < 0)
			got[bar] = o.pitch[i];
		if (o.status[i] == 0x80 && (o.frame[i] - o.frame[0]) % 96000 != 90000)
			cut++;          /* every note-off at its step 15, none forced early */
	}
	ok(got[0] == want[0] && got[1] == want[1] && got[2] == want[2] && got[3] == want[3],
	    "replace from bar 2: bars 0, 1 as first queued (%d %d), bars 2, 3 from the new epoch (%d %d)", got[0],
	    got[1], got[2], got[3]);
	is_int(cut, 0, "replace cuts no note short");
	is_int((long long)atomic_load(&rt.cnt.bars_stale), 2, "the two replaced bars were dropped unplayed");
	is_int(o.disorder, 0, "events written in frame order");
	rt_fini(&rt);
}

/* Stopped, 40 flushes (the engine's answer to each Song Position Pointer) each followed by bars 0..3 of the new
 * epoch: the older epochs' bars leave the queue in the period that applies the flush, not when a step reaches
 * them, so it never fills; bars pushed before their flush is applied stay; a Start plays the newest epoch's. */
static void
test_flush_stopped(void)
{
	static struct rt rt;
	static struct out o;
	uint64_t f = 0, wide = 0;
	size_t most = 0;
	int full = 0, kept;

	memset(&o, 0, sizeof o);
	rt_init(&rt, RATE, 1, 120.0, 0, 0, -1, 0);
	for (uint32_t e = 1; e <= 40; e++) {
		rt_command(&rt, RT_CMD_FLUSH, e, 0);
		for (int b = 0; b < 4; b++) {
			full += ring_space(&rt.bars) == 0;
			bar_push(&rt, b, e, 40 + (int)e);
		}
		if (ring_count(&rt.bars) > most)
			most = ring_count(&rt.bars);
		run(&rt, &o, &f, f + 4 * PERIOD, &wide, 0);
	}
	is_int(full, 0, "40 flushes while stopped: the bar queue never fills");
	is_int((long long)ring_count(&rt.bars), 4, "only the newest epoch's 4 bars are left queued (at most %zu)", most);
	is_int((long long)atomic_load(&rt.cnt.bars_stale), 39 * 4, "the older epochs' bars were dropped unplayed");
	bar_push(&rt, 0, 41, 100);      /* its flush not applied yet (the engine's command comes next) */
	run(&rt, &o, &f, f + PERIOD, &wide, 0);
	kept = (int)ring_count(&rt.bars);
	rt_command(&rt, RT_CMD_FLUSH, 41, 0);
	rt_command(&rt, RT_CMD_START, 0, 0);
	run(&rt, &o, &f, f + 3000, &wide, 0);
	is_int(kept, 5, "a bar of an epoch whose flush is not applied yet is kept");
	ok(o.n > 0 && o.status[0] == 0x90 && o.pitch[0] == 100 && atomic_load(&rt.cnt.bars_missing) == 0,
	    "Start plays bar 0 of the newest epoch (pitch %d)", o.n > 0 ? o.pitch[0] : -1);
	rt_fini(&rt);
}

/* tempo 90 from bar 2 (step 32): step 32 keeps its 120 BPM frame, the next ones follow 90 BPM. */
static void
test_bpm_at(void)
{
	static struct rt rt;
	static struct out o;
	uint64_t f = 0, wide = 0, origin, s32, s33, s40;

	memset(&o, 0, sizeof o);
	rt_init(&rt, RATE, 1, 120.0, 0, 0, -1, 0);
	rt_command(&rt, RT_CMD_START, 0, 0);
	rt_command_at(&rt, RT_CMD_BPM_AT, 0, 90.0, 32);
	run(&rt, &o, &f, PERIOD, &wide, 1);
	origin = atomic_load(&rt.now.step_frame);
	run(&rt, &o, &f, 32 * 6000 + 100, &wide, 1);
	s32 = atomic_load(&rt.now.step_frame);
	run(&rt, &o, &f, 32 * 6000 + 8000 + 100, &wide, 1);
	s33 = atomic_load(&rt.now.step_frame);
	run(&rt, &o, &f, 32 * 6000 + 8 * 8000 + 100, &wide, 1);
	s40 = atomic_load(&rt.now.step_frame);
	is_int((long long)(s32 - origin), 32 * 6000, "the bar line (step 32) keeps its 120 BPM frame");
	is_int((long long)(s33 - s32), 8000, "the step after the bar line is 8000 frames later (90 BPM)");
	is_int((long long)(s40 - s32), 64000, "and eight steps after it, 64000 frames");
	ok(fabs(atomic_load(&rt.clock.cnt.mbpm) / 1000.0 - 90.0) < 1e-9, "the clock reports 90 BPM");
	rt_fini(&rt);
}

/* ---- groove micro-timing: note-ons off their steps by their offsets ---------------------------------------- */

struct gnote {
	int step, pitch, offset, end;   /* step in the bar, offset in 1/RT_OFFSET_ONE step, end step (<= 16) */
};

/* What a JACK port would take: every write inside the running period, in frame order. */
struct gout {
	uint64_t frame[4096];
	uint8_t status[4096], pitch[4096];
	int n, disorder, outside;
	uint64_t last, p0, p1;          /* the running period [p0, p1) */
};

static int
gwrite(void *ctx, uint64_t frame, const uint8_t *d, uint32_t len)
{
	struct gout *o = ctx;

	if (frame < o->last)
		o->disorder++;
	if (frame < o->p0 || frame >= o->p1)
		o->outside++;
	o->last = frame;
	if (o->n < 4096 && len == 3) {
		o->frame[o->n] = frame;
		o->status[o->n] = d[2] == 0 ? 0x80 : d[0] & 0xf0;
		o->pitch[o->n++] = d[1];
	}
	return 0;
}

/* One bar as engine_queue_window builds it: note-offs at their end step, before the step's note-ons. */
static void
gbar_push(struct rt *rt, int64_t bar, uint32_t epoch, const struct gnote *g, int n)
{
	static struct rt_bar b;

	memset(&b, 0, sizeof b);
	b.bar = bar;
	b.epoch = epoch;
	b.flags = RT_BAR_REPEAT;
	for (int st = 0; st <= RT_STEPS_PER_BAR; st++) {
		for (int i = 0; i < n; i++)
			if (g[i].end == st)
				b.ev[b.n++] = (struct rt_bar_note){ (uint8_t)st, 0x80, (uint8_t)g[i].pitch, 0, 0 };
		for (int i = 0; i < n; i++)
			if (g[i].step == st)
				b.ev[b.n++] = (struct rt_bar_note){ (uint8_t)st, 0x90, (uint8_t)g[i].pitch, 100,
				    (int16_t)g[i].offset };
	}
	ring_push(&rt->bars, &b);
}

/* One period: the ticks of `ticks` inside it go in as input (external clock). */
static void
gperiod(struct rt *rt, struct gout *o, uint64_t f, const double *ticks, int nticks)
{
	static const uint8_t f8 = 0xF8;

	o->p0 = f;
	o->p1 = f + PERIOD;
	rt_begin(rt, f, PERIOD, gwrite, o);
	for (int k = 0; k < nticks; k++) {
		uint64_t t = (uint64_t)llround(ticks[k]);
		if (t >= f && t < f + PERIOD)
			rt_input(rt, t, &f8, 1);
	}
	rt_end(rt, gwrite, o);
}

/* round(offset * fps / RT_OFFSET_ONE), half away from zero: the rounding rt.c promises */
static int64_t
goff(int offset, double fps)
{
	double x = (double)offset * fps / RT_OFFSET_ONE;

	return x >= 0 ? (int64_t)floor(x + 0.5) : -(int64_t)floor(-x + 0.5);
}

/* The recorded event (status, pitch) nearest to frame `want`, or -1. */
static int
gfind(const struct gout *o, int status, int pitch, uint64_t want, int64_t within)
{
	int best = -1;

	for (int i = 0; i < o->n; i++) {
		int64_t d = (int64_t)o->frame[i] - (int64_t)want;
		if (o->status[i] != status || o->pitch[i] != pitch || d > within || d < -within)
			continue;
		if (best < 0 || llabs(d) < llabs((int64_t)o->frame[best] - (int64_t)want))
			best = i;
	}
	return best;
}

/* Bar 0: early on step 0 (no step before it: on the step, counted), late across a period boundary, -0.5 and
 * +0.5, a late note of step 8 and an early one of step 9 in one period between two ticks; bar 1: early notes on
 * its step 0 scheduled from bar 0's step 15 (one retriggers the pitch still sounding from step 15: the bar
 * line's note-off for it must not cut the new note); bar 2 is queued after bar 1's step 15: its early note
 * plays on its step, counted. */
static const struct gnote g_bar0[] = {
	{ 0, 36, -8192, 1 }, { 2, 38, 10923, 3 }, { 4, 42, -16384, 5 }, { 5, 42, 3000, 6 }, { 6, 36, 0, 7 },
	{ 6, 44, 200, 7 }, { 8, 38, 16330, 9 }, { 9, 42, -16384, 10 }, { 15, 46, 16000, 16 },
};
static const struct gnote g_bar1[] = {
	{ 0, 36, -12000, 1 }, { 0, 46, -100, 1 }, { 3, 38, 5461, 4 }, { 15, 42, -5000, 16 },
};
static const struct gnote g_bar2[] = { { 0, 36, -8192, 1 }, { 1, 38, 8192, 2 } };

static void
gcheck(const struct gout *o, const struct gnote *g, int n, int64_t bar, uint64_t origin, double fps,
    int early_on_step0, int *bad, int *checked)
{
	for (int i = 0; i < n; i++) {
		int64_t step = bar * RT_STEPS_PER_BAR + g[i].step;
		int64_t d = early_on_step0 && g[i].step == 0 && g[i].offset < 0 ? 0 : goff(g[i].offset, fps);
		uint64_t want = origin + (uint64_t)llround((double)step * fps) + (uint64_t)d;
		int k = gfind(o, 0x90, g[i].pitch, want, 0);
		(*checked)++;
		if (k < 0) {
			(*bad)++;
			diag("bar %lld step %d pitch %d offset %d: no note-on at frame %llu", (long long)bar, g[i].step,
			    g[i].pitch, g[i].offset, (unsigned long long)want);
		}
	}
}

/* Internal clock, 120 BPM at 48 kHz (6000 frames per step), with 0xF8 sent (ticks between the notes). */
static void
test_groove_internal(void)
{
	static struct rt rt;
	static struct gout o;
	uint64_t f;
	int bad = 0, checked = 0, k;

	memset(&o, 0, sizeof o);
	rt_init(&rt, RATE, 1, 120.0, 1, 0, -1, 0);
	rt_command(&rt, RT_CMD_FLUSH, 1, 0);
	gbar_push(&rt, 0, 1, g_bar0, 9);
	gbar_push(&rt, 1, 1, g_bar1, 4);
	rt_command(&rt, RT_CMD_START, 0, 0);
	for (f = 0; f < 31 * 6000 + 1000; f += PERIOD)  /* past step 31's period, before step 32's early frame */
		gperiod(&rt, &o, f, NULL, 0);
	gbar_push(&rt, 2, 1, g_bar2, 2);
	for (; f < 3 * 96000; f += PERIOD)
		gperiod(&rt, &o, f, NULL, 0);
	gcheck(&o, g_bar0, 9, 0, 0, 6000.0, 1, &bad, &checked);
	gcheck(&o, g_bar1, 4, 1, 0, 6000.0, 0, &bad, &checked);
	gcheck(&o, g_bar2, 2, 2, 0, 6000.0, 1, &bad, &checked);
	is_int(bad, 0, "internal clock: each of %d groove note-ons at its step's frame + round(offset x 6000 / 32768)"
	    " (early ones from the step before, across periods and the bar line)", checked);
	is_int(o.disorder + o.outside, 0, "internal clock: every write inside its period, in frame order (%d "
	    "events, 0xF8 ticks among them)", o.n);
	is_int((long long)atomic_load(&rt.cnt.early_on_step), 2, "early notes played on their step: step 0 after "
	    "Start, and bar 2 queued after bar 1's step 15");
	/* pitch 46: late from bar 0 step 15, early again at bar 1 step 0 (-18 frames): note-off, note-on there,
	 * no note-off at the bar line, the new note's own at bar 1 step 1 */
	k = gfind(&o, 0x90, 46, 96000 - 18, 0);
	ok(k > 0 && o.status[k - 1] == 0x80 && o.pitch[k - 1] == 46 && o.frame[k - 1] == 96000 - 18 &&
	    gfind(&o, 0x80, 46, 96000, 0) < 0 && gfind(&o, 0x80, 46, 102000, 0) >= 0,
	    "an early note-on retriggering its pitch: off + on at its frame; the old note's bar-line note-off dropped");
	k = 0;
	for (int i = 0; i < o.n; i++)
		k += o.status[i] == 0x90 ? 1 : -1;
	is_int(k, 0, "as many note-offs as note-ons");
	is_int((long long)atomic_load(&rt.cnt.out_refused), 0, "nothing refused");
	rt_fini(&rt);
}

/* External clock: a steady 123 BPM script of 0xF8 (975.61 frames a tick, at fractional frames rounded), bars
 * 0..5 the same groove; from bar 2 on (the tempo estimate settled) every note-on is within one frame of its
 * step's tick frame + offset x frames per step. */
static void
test_groove_external(void)
{
	static struct rt rt;
	static struct gout o;
	static double ticks[6 * 16 * 6 + 12];
	static const uint8_t fa = 0xFA;
	double tf = 48000.0 * 60.0 / (123.0 * 24.0), fps = 6 * tf;
	int nt = 6 * 16 * 6 + 12, bad = 0, checked = 0;
	uint64_t f = 0, start = 1000;

	memset(&o, 0, sizeof o);
	for (int k = 0; k < nt; k++)
		ticks[k] = (double)start + 10.0 + tf * k;
	rt_init(&rt, RATE, 0, 120.0, 0, 0, -1, 0);
	rt_command(&rt, RT_CMD_FLUSH, 1, 0);
	for (int b = 0; b < 6; b++)
		gbar_push(&rt, b, 1, g_bar0, 9);
	for (; f < (uint64_t)ticks[96 * 6 - 3]; f += PERIOD) {  /* to half a step before bar 6 */
		if (start >= f && start < f + PERIOD) {         /* Start just before the first tick */
			o.p0 = f;
			o.p1 = f + PERIOD;
			rt_begin(&rt, f, PERIOD, gwrite, &o);
			rt_input(&rt, start, &fa, 1);
			for (int k = 0; k < nt; k++)
				if ((uint64_t)llround(ticks[k]) >= f && (uint64_t)llround(ticks[k]) < f + PERIOD)
					rt_input(&rt, (uint64_t)llround(ticks[k]), (const uint8_t[]){ 0xF8 }, 1);
			rt_end(&rt, gwrite, &o);
			continue;
		}
		gperiod(&rt, &o, f, ticks, nt);
	}
	for (int b = 2; b < 6; b++)
		for (int i = 0; i < 9; i++) {
			int64_t step = b * RT_STEPS_PER_BAR + g_bar0[i].step;
			double want = (double)llround(ticks[step * 6]) + g_bar0[i].offset * fps / RT_OFFSET_ONE;
			int k = gfind(&o, 0x90, g_bar0[i].pitch, (uint64_t)llround(want), 2);
			checked++;
			if (k < 0 || fabs((double)o.frame[k] - want) > 1.0) {
				bad++;
				diag("bar %d step %d offset %d: want %.2f, got %lld", b, g_bar0[i].step,
				    g_bar0[i].offset, want, k < 0 ? -1LL : (long long)o.frame[k]);
			}
		}
	is_int(bad, 0, "external steady clock: each of %d groove note-ons within one frame of its tick + offset",
	    checked);
	is_int(o.disorder + o.outside, 0, "external clock: every write inside its period, in frame order");
	is_int((long long)atomic_load(&rt.cnt.early_on_step), 1, "external clock: only step 0's early note on its "
	    "step (no step before the Start)");
	rt_fini(&rt);
}

int
main(void)
{
	plan(27);
	test_widen();
	test_wrap_clock(0);
	test_wrap_clock(1);
	test_replace();
	test_flush_stopped();
	test_bpm_at();
	test_groove_internal();
	test_groove_external();
	return done_testing();
}
