/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz_midi.c: libFuzzer target: arbitrary MIDI input events, engine commands and bars through the real-time
 * path (rt_begin / rt_input / rt_end with the clock and midi_classify under them), as a backend and the engine
 * would drive it. Checked: midi_classify's answer fits the bytes; every input event is counted exactly once (a
 * captured note, a capture overflow, a bad status/length/data, other, an ignored clock, or a clock message the
 * follower took); captured notes are well formed; output events are well formed, inside their period, in frame
 * order, and note-offs match note-ons (no note-on for a sounding note, no note-off for a silent one).
 *
 * Input: 4 header bytes (missing ones are 0), then records until the input ends.
 *   header  [0] bit 0 leading (internal clock), bit 1 send_clock, bit 2 send_transport, bit 3 44.1 kHz (else 48),
 *               bit 4 the backend refuses every other write (the note balance is then not checked)
 *           [1] capture channel (value % 17) - 1, -1 = any      [2] low 4 bits output channel, high 4 bits
 *               period 16 << (n % 7) frames                     [3] tempo 20 + 380 * v / 255 BPM
 *   record  0x00-0x7f  an input event of (h & 7) + 1 bytes (the bytes follow), (h >> 3) sixteenths of the period
 *                      after the previous one (kept inside the period)
 *           0x80-0xbf  the period ends; then h & 0x3f empty periods (at most FZ_MAX_PERIODS in all)
 *           0xc0-0xdf  an engine command: type (h & 0x1f) % 9, then a value byte and an `at` byte
 *           0xe0-0xff  a bar: h & 7 bars after the current one, flag RT_BAR_REPEAT if h & 8, an older epoch if
 *                      h & 16; then a count byte n and n notes of 4 bytes (step % 17, note-on if odd, pitch, vel) */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "midi.h"
#include "rt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_PERIODS 4096

static struct rt fz_rt;

/* What the test's backend and engine know. */
static struct fz {
	uint64_t frame0;        /* the current period */
	uint32_t nframes;
	uint64_t last_out;      /* frame of the last output event */
	uint64_t last_cap;      /* frame of the last captured note */
	int refuse, writes;
	uint8_t on[16][128];    /* notes sounding at the receiver */
	uint64_t inputs, followed;      /* rt_input calls; clock messages the follower took */
	uint32_t epoch;
	int periods;
} fz;

static int
fz_write(void *ctx, uint64_t frame, const uint8_t *d, uint32_t len)
{
	enum midi_kind k;

	(void)ctx;
	if (len < 1 || len > 3 || frame < fz.frame0 || frame >= fz.frame0 + fz.nframes || frame < fz.last_out)
		abort();                /* out of the period, or out of frame order */
	k = midi_classify(d, len);
	if (k == MIDI_KIND_BAD_STATUS || k == MIDI_KIND_BAD_LENGTH || k == MIDI_KIND_BAD_DATA)
		abort();
	fz.last_out = frame;
	if (fz.refuse && (fz.writes++ & 1))
		return -1;
	if (!fz.refuse && (k == MIDI_KIND_NOTE_ON || k == MIDI_KIND_NOTE_OFF)) {
		uint8_t *on = &fz.on[d[0] & 15][d[1]];

		if ((k == MIDI_KIND_NOTE_ON) == (*on != 0))
			abort();        /* a second note-on, or a note-off for a note not sounding */
		*on = k == MIDI_KIND_NOTE_ON;
	}
	return 0;
}

/* midi_classify's answer agrees with the bytes (MIDI 1.0: status, length, data bytes). */
static enum midi_kind
fz_classify(const uint8_t *d, size_t len)
{
	enum midi_kind k = midi_classify(d, len);
	int want = len ? midi_msg_len(d[0]) : 0, data_ok = 1;

	for (size_t i = 1; i < len; i++)
		if (d[i] & 0x80 && !(d[0] == 0xF0 && i == len - 1 && d[i] == 0xF7))
			data_ok = 0;
	switch (k) {
	case MIDI_KIND_NOTE_ON:
	case MIDI_KIND_NOTE_OFF:
		if (len != 3 || !data_ok || (d[0] & 0xE0) != 0x80 ||
		    (k == MIDI_KIND_NOTE_ON) != ((d[0] & 0xF0) == 0x90 && d[2] != 0))
			abort();
		break;
	case MIDI_KIND_CLOCK:
		if (!data_ok || !((len == 1 && (d[0] == 0xF8 || d[0] == 0xFA || d[0] == 0xFB || d[0] == 0xFC)) ||
		    (len == 3 && d[0] == 0xF2)))
			abort();
		break;
	case MIDI_KIND_OTHER:
		if (!data_ok || (d[0] == 0xF0 ? len < 2 || d[len - 1] != 0xF7 : (size_t)want != len))
			abort();
		break;
	case MIDI_KIND_BAD_STATUS:
		if (len > 0 && d[0] >= 0x80 && (want != 0 || d[0] == 0xF0))
			abort();
		break;
	case MIDI_KIND_BAD_LENGTH:
		if (len == 0 || d[0] < 0x80 || (d[0] != 0xF0 && (want == 0 || (size_t)want == len)) ||
		    (d[0] == 0xF0 && len >= 2 && d[len - 1] == 0xF7))
			abort();
		break;
	case MIDI_KIND_BAD_DATA:
		if (data_ok || len < 2)
			abort();
		break;
	default:
		abort();
	}
	return k;
}

/* The engine's side of the capture ring. */
static void
fz_drain(void)
{
	struct rt_in in;

	while (ring_pop(&fz_rt.capture, &in) == 0) {
		if ((in.status != 0x80 && in.status != 0x90) || in.pitch > 127 || in.velocity > 127 || in.channel > 15 ||
		    (fz_rt.in_channel >= 0 && in.channel != fz_rt.in_channel) || in.frame < fz.last_cap ||
		    (in.status == 0x90 && in.velocity == 0))
			abort();
		fz.last_cap = in.frame;
	}
}

static void
fz_period_end(int extra)
{
	rt_end(&fz_rt, fz_write, NULL);
	fz_drain();
	fz.periods++;
	for (int i = 0; i <= extra && fz.periods < FZ_MAX_PERIODS; i++) {
		fz.frame0 += fz.nframes;
		rt_begin(&fz_rt, fz.frame0, fz.nframes, fz_write, NULL);
		if (i < extra) {
			rt_end(&fz_rt, fz_write, NULL);
			fz_drain();
			fz.periods++;
		}
	}
}

static int64_t
fz_bar_now(void)
{
	int64_t step = atomic_load(&fz_rt.now.step);

	return step < 0 ? 0 : step / RT_STEPS_PER_BAR;
}

static void
fz_command(uint8_t h, uint8_t v, uint8_t at)
{
	int type = (h & 0x1f) % 9;
	double value = 20.0 + 380.0 * v / 255.0;        /* RT_CMD_BPM, RT_CMD_BPM_AT: the engine's range */
	int64_t when = 0;

	if (type == RT_CMD_FLUSH || type == RT_CMD_REPLACE)
		fz.epoch++;
	if (type == RT_CMD_CHANNEL)
		value = v & 15;
	if (type == RT_CMD_IN_CHANNEL)
		value = (v % 17) - 1;
	if (type == RT_CMD_REPLACE)
		when = fz_bar_now() + at % 8;
	if (type == RT_CMD_BPM_AT)
		when = fz_bar_now() * RT_STEPS_PER_BAR + at;
	rt_command_at(&fz_rt, type, fz.epoch, value, when);
}

static size_t
fz_bar(uint8_t h, const uint8_t *p, size_t left)
{
	static struct rt_bar b;
	size_t n = left > 0 ? p[0] : 0, i;

	if (n > (left > 0 ? left - 1 : 0) / 6)
		n = (left > 0 ? left - 1 : 0) / 6;
	if (n > RT_BAR_EVENTS)
		n = RT_BAR_EVENTS;
	b.bar = fz_bar_now() + (h & 7);
	b.epoch = fz.epoch - ((h & 16) ? 1 : 0);
	b.flags = (h & 8) ? RT_BAR_REPEAT : 0;
	b.n = (uint16_t)n;
	for (i = 0; i < n; i++) {
		const uint8_t *q = p + 1 + 6 * i;

		/* any offset, in range or not: rt clamps a note-on's and ignores a note-off's */
		b.ev[i] = (struct rt_bar_note){ (uint8_t)(q[0] % 17), (q[1] & 1) ? 0x90 : 0x80, q[2] & 0x7F,
			q[3] & 0x7F, (int16_t)(uint16_t)(q[4] | q[5] << 8) };
	}
	ring_push(&fz_rt.bars, &b);
	return left > 0 ? 1 + 6 * n : 0;
}

static void
fz_counts(void)
{
	const struct rt_counters *k = &fz_rt.cnt;
	uint64_t sum = atomic_load(&k->in_notes) + atomic_load(&k->capture_overflow) +
	    atomic_load(&k->in_bad_status) + atomic_load(&k->in_bad_length) + atomic_load(&k->in_bad_data) +
	    atomic_load(&k->in_other) + atomic_load(&k->in_clock_ignored) + fz.followed;

	if (atomic_load(&k->in_events) != fz.inputs || sum != fz.inputs)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t hd[4] = { 0 };
	size_t i, n;
	uint32_t pos = 0, step;

	memcpy(hd, data, size < 4 ? size : 4);
	memset(&fz, 0, sizeof fz);
	fz.nframes = 16u << (hd[2] >> 4) % 7;
	fz.refuse = (hd[0] >> 4) & 1;
	step = fz.nframes / 16;
	if (rt_init(&fz_rt, (hd[0] & 8) ? 44100 : 48000, hd[0] & 1, 20.0 + 380.0 * hd[3] / 255.0, (hd[0] >> 1) & 1,
	    (hd[0] >> 2) & 1, (hd[1] % 17) - 1, hd[2] & 15) < 0)
		return 0;
	rt_begin(&fz_rt, fz.frame0, fz.nframes, fz_write, NULL);
	for (i = 4; i < size && fz.periods < FZ_MAX_PERIODS; i += n) {
		uint8_t h = data[i++];

		n = 0;
		if (h < 0x80) {
			n = (size_t)(h & 7) + 1 < size - i ? (size_t)(h & 7) + 1 : size - i;
			pos += (uint32_t)(h >> 3) * step;
			pos = pos < fz.nframes ? pos : fz.nframes - 1;
			if (fz_classify(data + i, n) == MIDI_KIND_CLOCK && !fz_rt.leading)
				fz.followed++;
			rt_input(&fz_rt, fz.frame0 + pos, data + i, (uint32_t)n);
			fz.inputs++;
		} else if (h < 0xC0) {
			fz_period_end(h & 0x3F);
			pos = 0;
		} else if (h < 0xE0) {
			if (i + 2 <= size)
				fz_command(h, data[i], data[i + 1]);
			n = i + 2 <= size ? 2 : size - i;
		} else {
			n = fz_bar(h, data + i, size - i);
		}
	}
	fz_period_end(2);
	rt_end(&fz_rt, fz_write, NULL);
	fz_drain();
	fz_counts();
	rt_fini(&fz_rt);
	return 0;
}
