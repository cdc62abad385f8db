/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_rt.c: the real-time core without a backend: 32-bit frame counters widened across their wrap (the internal
 * clock keeps stepping past 2^32 frames), RT_CMD_REPLACE (bars before the replaced bar still play, the new epoch's
 * from it on, nothing is cut), and a tempo change scheduled at a bar line (RT_CMD_BPM_AT). */
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
	b.ev[0] = (struct rt_bar_note){ 0, 0x90, (uint8_t)pitch, 100 };
	b.ev[1] = (struct rt_bar_note){ 15, 0x80, (uint8_t)pitch, 0 };
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

int
main(void)
{
	plan(13);
	test_widen();
	test_wrap_clock(0);
	test_wrap_clock(1);
	test_replace();
	test_bpm_at();
	return done_testing();
}
