/* SPDX-License-Identifier: GPL-3.0-or-later */
/* backend_alsa.c: the ALSA sequencer: one client with an input and an output port, a queue on the high-resolution
 * timer, and an I/O thread that runs the rt functions one period ahead of the queue's clock and schedules their
 * output on the queue, so that the kernel's timer, not our thread's wake-up, decides when a note leaves. The
 * connector thread (backend_alsa_conn.c) follows System:Announce, subscribes the ports that match the
 * auto-connect patterns, counts disconnections and reports what the I/O thread counted.
 *
 * Time: one frame is one microsecond of the queue's real-time clock (rate 1,000,000), so a frame converts to the
 * queue's nanoseconds exactly and every step the clock computes is within 0.5 us of its ideal time. Period k
 * covers queue time [F, F + 1 ms) and is computed at F - 2 ms (ALSA_LEAD). Input is stamped by the kernel with
 * the queue time it arrived at (the input port timestamps on our queue) and reaches the rt functions at that
 * time + ALSA_DELAY (lead + period): every input event then falls inside the period being computed, and notes
 * that follow an external clock leave exactly ALSA_DELAY after the tick that begins their step. */
#define _GNU_SOURCE             /* sem_clockwait; alloca, which the snd_*_alloca macros use */
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <alsa/asoundlib.h>

#include "backend_alsa_int.h"
#include "log.h"
#include "midi.h"

#define ALSA_PERIOD 1000        /* frames per I/O period (1 ms) */
#define ALSA_LEAD 2000          /* a period is computed this many frames before its queue time begins */
#define ALSA_DELAY (ALSA_LEAD + ALSA_PERIOD)    /* input reaches rt at its arrival time + this */
#define ALSA_CATCH_UP 100000    /* frames one late period may cover at most */
#define ALSA_TIMER_HZ 4000      /* queue timer ticks per second: scheduled output leaves on these (250 us) */
#define ALSA_POOL 2000          /* kernel event cells for input and output (the kernel's maximum) */
#define ALSA_OBUF (256 * 1024)  /* bytes: a flush of every note on every channel fits */
#define ALSA_IBUF (128 * 1024)  /* bytes: holds the largest event the input pool can carry */
#define ALSA_RT_PRIO 70         /* SCHED_FIFO priority of the I/O thread when allowed */
#define RTCNT(rt, f) atomic_fetch_add_explicit(&(rt)->cnt.f, 1, memory_order_relaxed)

/* ---- real-time path: the I/O thread (no allocation, locks or logging) ------------------------------- */

static uint64_t
alsa_frames(const snd_seq_real_time_t *t)
{
	return (uint64_t)t->tv_sec * ALSA_RATE + (t->tv_nsec + 500) / 1000;
}

/* The queue's current time in frames (the kernel interpolates between timer ticks). */
static int
alsa_queue_now(struct alsa_priv *p, uint64_t *now)
{
	int rc = snd_seq_get_queue_status(p->seq, p->queue, p->qstat);

	if (rc < 0)
		return rc;
	*now = alsa_frames(snd_seq_queue_status_get_real_time(p->qstat));
	return 0;
}

/* Raw bytes -> one ALSA event; -1 for what has no event type. */
static int
alsa_encode(snd_seq_event_t *ev, const uint8_t *d, uint32_t len)
{
	uint8_t ch = d[0] & 15;

	snd_seq_ev_clear(ev);
	if (d[0] == 0xF0) {
		snd_seq_ev_set_sysex(ev, len, (void *)(uintptr_t)d);
		return 0;
	}
	if (midi_classify(d, len) >= MIDI_KIND_BAD_STATUS)
		return -1;
	switch (d[0] & 0xF0) {
	case 0x80: snd_seq_ev_set_noteoff(ev, ch, d[1], d[2]); return 0;
	case 0x90: snd_seq_ev_set_noteon(ev, ch, d[1], d[2]); return 0;
	case 0xA0: snd_seq_ev_set_keypress(ev, ch, d[1], d[2]); return 0;
	case 0xB0: snd_seq_ev_set_controller(ev, ch, d[1], d[2]); return 0;
	case 0xC0: snd_seq_ev_set_pgmchange(ev, ch, d[1]); return 0;
	case 0xD0: snd_seq_ev_set_chanpress(ev, ch, d[1]); return 0;
	case 0xE0: snd_seq_ev_set_pitchbend(ev, ch, (d[1] | d[2] << 7) - 8192); return 0;
	}
	snd_seq_ev_set_fixed(ev);
	switch (d[0]) {
	case 0xF1: ev->type = SND_SEQ_EVENT_QFRAME; ev->data.control.value = d[1]; return 0;
	case 0xF2: ev->type = SND_SEQ_EVENT_SONGPOS; ev->data.control.value = d[1] | d[2] << 7; return 0;
	case 0xF3: ev->type = SND_SEQ_EVENT_SONGSEL; ev->data.control.value = d[1]; return 0;
	case 0xF6: ev->type = SND_SEQ_EVENT_TUNE_REQUEST; return 0;
	case 0xF8: ev->type = SND_SEQ_EVENT_CLOCK; return 0;
	case 0xFA: ev->type = SND_SEQ_EVENT_START; return 0;
	case 0xFB: ev->type = SND_SEQ_EVENT_CONTINUE; return 0;
	case 0xFC: ev->type = SND_SEQ_EVENT_STOP; return 0;
	case 0xFE: ev->type = SND_SEQ_EVENT_SENSING; return 0;
	case 0xFF: ev->type = SND_SEQ_EVENT_RESET; return 0;
	}
	return -1;
}

/* Remembers what the receiver will have sounding once everything scheduled has left (for alsa_silence). */
static void
alsa_track(struct alsa_priv *p, uint64_t frame, const uint8_t *d, uint32_t len)
{
	uint8_t ch = d[0] & 15, k;

	if (len != 3 || (d[0] & 0xE0) != 0x80)
		return;
	k = d[1] & 127;
	if ((d[0] & 0xF0) == 0x90 && d[2] > 0) {
		p->on[ch][k] = 1;
	} else {
		p->on[ch][k] = 0;
		p->off_at[ch][k] = frame + 1;
	}
}

/* rt's write callback: schedules the event on our queue at the frame's queue time, to our subscribers. */
static int
alsa_write(void *ctx, uint64_t frame, const uint8_t *d, uint32_t len)
{
	struct alsa_priv *p = ctx;
	snd_seq_real_time_t t = { (unsigned)(frame / ALSA_RATE), (unsigned)(frame % ALSA_RATE) * 1000u };
	snd_seq_event_t ev;

	if (len == 0 || alsa_encode(&ev, d, len) < 0)
		return -1;
	snd_seq_ev_set_source(&ev, p->out_port);
	snd_seq_ev_set_subs(&ev);
	snd_seq_ev_schedule_real(&ev, p->queue, 0, &t);
	if (snd_seq_event_output(p->seq, &ev) < 0) {
		ACNT(&p->cnt, out_errors);
		return -1;
	}
	if (frame < p->now)             /* its time has passed: the kernel sends it at once, late */
		ACNT(&p->cnt, late_events);
	alsa_track(p, frame, d, len);
	return 0;
}

static void
alsa_push(struct alsa_priv *p, uint64_t frame, const uint8_t *d, size_t len)
{
	struct alsa_in *r;

	if (p->n_in == ALSA_IN_MAX) {
		ACNT(&p->cnt, dropped);
		return;
	}
	r = &p->in[p->n_in++];
	r->frame = frame;
	r->len = (uint8_t)(len < ALSA_RAW_MAX ? len : ALSA_RAW_MAX);
	memcpy(r->data, d, r->len);
}

/* The SysEx that was open ends here: rt sees F0, one data byte that keeps its class, and F7 if it ended. */
static void
alsa_sysex_end(struct alsa_priv *p, uint64_t frame, int ended)
{
	uint8_t d[3] = { 0xF0, p->sx_bad ? 0x80 : 0x00, 0xF7 };

	alsa_push(p, frame, d, ended ? 3 : 2);
	p->sx_open = 0;
}

/* A SYSEX event: the kernel cuts a long SysEx from a MIDI device into several events; they are joined, so that
 * rt counts one well-formed SysEx. Bytes that are no SysEx at all go to rt as they are (it classifies them). */
static void
alsa_sysex(struct alsa_priv *p, uint64_t frame, const uint8_t *s, size_t len)
{
	size_t i = 0;

	if (len > 0 && s[0] == 0xF0) {
		if (p->sx_open)
			alsa_sysex_end(p, frame, 0);
		p->sx_open = 1;
		p->sx_bad = 0;
		i = 1;
	} else if (!p->sx_open) {
		alsa_push(p, frame, s, len);
		return;
	}
	for (; i < len; i++) {
		if (s[i] == 0xF7) {
			alsa_sysex_end(p, frame, 1);
			if (i + 1 < len)
				alsa_push(p, frame, s + i + 1, len - i - 1);
			return;
		}
		if (s[i] & 0x80)
			p->sx_bad = 1;
	}
}

/* A data byte as MIDI would carry it: values that do not fit keep the top bit, so rt counts them as bad data. */
static uint8_t
alsa_byte(long v)
{
	return v >= 0 && v <= 127 ? (uint8_t)v : 0xFF;
}

/* One ALSA event -> raw bytes in d[3]; returns the length, 0 for events that are no MIDI message. */
static int
alsa_decode(const snd_seq_event_t *ev, uint8_t *d)
{
	const snd_seq_ev_note_t *n = &ev->data.note;
	const snd_seq_ev_ctrl_t *c = &ev->data.control;
	int ch = ev->type == SND_SEQ_EVENT_NOTEON || ev->type == SND_SEQ_EVENT_NOTEOFF ||
	    ev->type == SND_SEQ_EVENT_KEYPRESS ? n->channel : c->channel;

	d[0] = (uint8_t)(ch & 15);
	switch (ev->type) {
	case SND_SEQ_EVENT_NOTEON: d[0] |= 0x90; break;
	case SND_SEQ_EVENT_NOTEOFF: d[0] |= 0x80; break;
	case SND_SEQ_EVENT_KEYPRESS: d[0] |= 0xA0; break;
	case SND_SEQ_EVENT_CONTROLLER: d[0] |= 0xB0; d[1] = alsa_byte(c->param); d[2] = alsa_byte(c->value); return 3;
	case SND_SEQ_EVENT_PGMCHANGE: d[0] |= 0xC0; d[1] = alsa_byte(c->value); return 2;
	case SND_SEQ_EVENT_CHANPRESS: d[0] |= 0xD0; d[1] = alsa_byte(c->value); return 2;
	case SND_SEQ_EVENT_PITCHBEND:
		d[0] |= 0xE0;
		d[1] = c->value >= -8192 && c->value < 8192 ? (uint8_t)((c->value + 8192) & 127) : 0xFF;
		d[2] = c->value >= -8192 && c->value < 8192 ? (uint8_t)((c->value + 8192) >> 7) : 0xFF;
		return 3;
	case SND_SEQ_EVENT_SONGPOS:
		d[0] = 0xF2;
		d[1] = c->value >= 0 && c->value < 16384 ? (uint8_t)(c->value & 127) : 0xFF;
		d[2] = c->value >= 0 && c->value < 16384 ? (uint8_t)(c->value >> 7) : 0xFF;
		return 3;
	case SND_SEQ_EVENT_QFRAME: d[0] = 0xF1; d[1] = alsa_byte(c->value); return 2;
	case SND_SEQ_EVENT_SONGSEL: d[0] = 0xF3; d[1] = alsa_byte(c->value); return 2;
	case SND_SEQ_EVENT_TUNE_REQUEST: d[0] = 0xF6; return 1;
	case SND_SEQ_EVENT_CLOCK: d[0] = 0xF8; return 1;
	case SND_SEQ_EVENT_START: d[0] = 0xFA; return 1;
	case SND_SEQ_EVENT_CONTINUE: d[0] = 0xFB; return 1;
	case SND_SEQ_EVENT_STOP: d[0] = 0xFC; return 1;
	case SND_SEQ_EVENT_SENSING: d[0] = 0xFE; return 1;
	case SND_SEQ_EVENT_RESET: d[0] = 0xFF; return 1;
	default: return 0;
	}
	d[1] = alsa_byte(n->note);
	d[2] = alsa_byte(n->velocity);
	return 3;
}

/* One event on our input port: to raw MIDI at its arrival time + ALSA_DELAY, into p->in. */
static void
alsa_input(struct backend *b, struct alsa_priv *p, const snd_seq_event_t *ev, uint64_t now)
{
	uint64_t t = now;
	uint8_t d[3];
	int n;

	if (snd_seq_ev_is_real(ev) && ev->queue == p->queue)
		t = alsa_frames(&ev->time.time);
	t += ALSA_DELAY;
	if (ev->type == SND_SEQ_EVENT_SYSEX) {
		alsa_sysex(p, t, ev->data.ext.ptr, ev->data.ext.len);
		return;
	}
	if ((n = alsa_decode(ev, d)) == 0) {     /* not MIDI (echo, user or queue events...): counted as other */
		RTCNT(b->rt, in_events);
		RTCNT(b->rt, in_other);
		return;
	}
	if (p->sx_open && d[0] < 0xF8)  /* any status but real-time ends a SysEx, which then lacks its F7 */
		alsa_sysex_end(p, t, 0);
	alsa_push(p, t, d, (size_t)n);
}

/* System:Announce -> the connector thread. */
static void
alsa_notice(struct alsa_priv *p, const snd_seq_event_t *ev)
{
	struct alsa_notice n = { ev->type, ev->data.addr, { 0, 0 } };

	if (ev->type == SND_SEQ_EVENT_PORT_SUBSCRIBED || ev->type == SND_SEQ_EVENT_PORT_UNSUBSCRIBED) {
		n.a = ev->data.connect.sender;
		n.b = ev->data.connect.dest;
	}
	if (ring_push(&p->notices, &n) < 0)
		ACNT(&p->cnt, notices_lost);
	else
		sem_post(&p->wake);
}

/* Errors the sequencer cannot recover from: the main loop closes and reopens the client. */
static int
alsa_fatal(int rc)
{
	return rc == -ENODEV || rc == -EBADF || rc == -EBADFD || rc == -EIO || rc == -ENXIO || rc == -EPIPE;
}

static void
alsa_error(struct backend *b, struct alsa_priv *p, int rc)
{
	ACNT(&p->cnt, errors);
	if (alsa_fatal(rc)) {
		atomic_store(&b->lost, 1);
		atomic_store(&p->stop, 1);
	}
}

/* Reads everything that arrived (bounded, so that a flood cannot hold the thread). */
static void
alsa_read(struct backend *b, struct alsa_priv *p, uint64_t now)
{
	snd_seq_event_t *ev;
	int rc = 0;

	for (int i = 0; i < 2 * ALSA_IN_MAX; i++) {
		if ((rc = snd_seq_event_input(p->seq, &ev)) == -ENOSPC) {
			ACNT(&p->cnt, overruns);        /* the kernel's input FIFO overflowed: events were lost */
			continue;
		}
		if (rc < 0)
			break;
		if (ev->source.client == SND_SEQ_CLIENT_SYSTEM) {       /* announcements, subscription acks */
			if (ev->dest.port == p->ann_port)
				alsa_notice(p, ev);
		} else if (ev->dest.port == p->in_port) {
			alsa_input(b, p, ev, now);
		}
	}
	if (rc < 0 && rc != -EAGAIN)
		alsa_error(b, p, rc);
}

/* Hands rt the input up to frame `end` in time order; keeps the rest for the next period. */
static void
alsa_feed(struct backend *b, struct alsa_priv *p, uint64_t f, uint64_t end)
{
	int i = 0;

	for (; i < p->n_in && p->in[i].frame < end; i++)
		rt_input(b->rt, p->in[i].frame > f ? p->in[i].frame : f, p->in[i].data, p->in[i].len);
	if (i > 0 && i < p->n_in)
		memmove(p->in, p->in + i, (size_t)(p->n_in - i) * sizeof p->in[0]);
	p->n_in -= i;
}

/* Period [frame0, frame0 + n), computed at queue time `now`; a late wake-up makes one longer period. */
static void
alsa_period(struct backend *b, struct alsa_priv *p, uint64_t now)
{
	uint64_t f = p->frame0, n = ALSA_PERIOD;
	uint64_t after = now + ALSA_LEAD > f ? now + ALSA_LEAD - f : 0;        /* woke this long after its time */
	int rc;

	if (now + ALSA_LEAD > f + ALSA_PERIOD)
		n = ((now + ALSA_LEAD - f) / ALSA_PERIOD + 1) * ALSA_PERIOD;
	if (n > ALSA_CATCH_UP)
		n = ALSA_CATCH_UP;
	if (after > atomic_load_explicit(&p->cnt.wake_max, memory_order_relaxed))
		atomic_store_explicit(&p->cnt.wake_max, after, memory_order_relaxed);
	if (now > f) {                  /* events for its first frames (if any) leave late */
		uint64_t by = now - f < (1u << ALSA_LATE_BITS) ? now - f : (1u << ALSA_LATE_BITS) - 1;
		atomic_store_explicit(&p->cnt.late_last, f << ALSA_LATE_BITS | by, memory_order_relaxed);
		ACNT(&p->cnt, late);
	}
	p->now = now;
	rt_begin(b->rt, f, (uint32_t)n, alsa_write, p);
	alsa_read(b, p, now);
	alsa_feed(b, p, f, f + n);
	rt_end(b->rt, alsa_write, p);
	p->now = 0;
	if ((rc = snd_seq_drain_output(p->seq)) < 0 && rc != -EAGAIN)
		alsa_error(b, p, rc);
	p->frame0 = f + n;
	ACNT(&p->cnt, periods);
}

/* Sleeps `frames` microseconds (at most a second). */
static void
alsa_nap(uint64_t frames)
{
	struct timespec ts = { 0, (long)(frames < ALSA_RATE ? frames : ALSA_RATE - 1) * 1000L };

	clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
}

static void *
alsa_io_main(void *arg)
{
	struct backend *b = arg;
	struct alsa_priv *p = b->priv;
	uint64_t now = 0, wake;
	int rc;

	/* the first period begins a lead and a period from now (not from start(): creating threads takes time) */
	alsa_queue_now(p, &now);
	p->frame0 = (now + ALSA_LEAD) / ALSA_PERIOD * ALSA_PERIOD + ALSA_PERIOD;
	while (!atomic_load_explicit(&p->stop, memory_order_relaxed)) {
		if ((rc = alsa_queue_now(p, &now)) < 0) {
			alsa_error(b, p, rc);
			alsa_nap(ALSA_PERIOD);  /* and try again */
			continue;
		}
		wake = p->frame0 - ALSA_LEAD;
		if (now + 20 < wake) {          /* 20 us early is on time */
			alsa_nap(wake - now);
			continue;
		}
		alsa_period(b, p, now);
	}
	return NULL;
}

/* ---- open, start, close (main thread) --------------------------------------------------------------- */

static int
alsa_port(struct alsa_priv *p, const char *name, unsigned caps, unsigned type, int timestamp)
{
	snd_seq_port_info_t *pi;

	snd_seq_port_info_alloca(&pi);
	snd_seq_port_info_set_name(pi, name);
	snd_seq_port_info_set_capability(pi, caps);
	snd_seq_port_info_set_type(pi, type);
	snd_seq_port_info_set_midi_channels(pi, 16);
	if (timestamp) {        /* the kernel stamps each event with our queue's time when it arrives */
		snd_seq_port_info_set_timestamping(pi, 1);
		snd_seq_port_info_set_timestamp_real(pi, 1);
		snd_seq_port_info_set_timestamp_queue(pi, p->queue);
	}
	if (snd_seq_create_port(p->seq, pi) < 0)
		return -1;
	return snd_seq_port_info_get_port(pi);
}

/* Our queue on the high-resolution timer (snd-hrtimer, which the kernel loads on demand) at ALSA_TIMER_HZ. The
 * kernel falls back to the system timer by itself when there is none; alsa_timer_info tells which one runs. */
static int
alsa_timer(struct alsa_priv *p, int device)
{
	snd_seq_queue_timer_t *qt;
	snd_timer_id_t *id;

	snd_seq_queue_timer_alloca(&qt);
	snd_timer_id_alloca(&id);
	snd_timer_id_set_class(id, SND_TIMER_CLASS_GLOBAL);
	snd_timer_id_set_sclass(id, SND_TIMER_SCLASS_NONE);
	snd_timer_id_set_card(id, -1);
	snd_timer_id_set_device(id, device);
	snd_timer_id_set_subdevice(id, 0);
	if (snd_seq_get_queue_timer(p->seq, p->queue, qt) < 0)
		return -1;
	snd_seq_queue_timer_set_type(qt, SND_SEQ_TIMER_ALSA);
	snd_seq_queue_timer_set_id(qt, id);
	snd_seq_queue_timer_set_resolution(qt, ALSA_TIMER_HZ);
	if (snd_seq_set_queue_timer(p->seq, p->queue, qt) < 0)
		return device == SND_TIMER_GLOBAL_HRTIMER ? alsa_timer(p, SND_TIMER_GLOBAL_SYSTEM) : -1;
	p->timer = device == SND_TIMER_GLOBAL_HRTIMER ? "HR timer" : "system timer";
	return 0;
}

static int
alsa_setup(struct alsa_priv *p, const struct cfg *c)
{
	if (snd_seq_set_client_name(p->seq, c->client_name) < 0 ||
	    snd_seq_set_client_pool_output(p->seq, ALSA_POOL) < 0 ||
	    snd_seq_set_client_pool_input(p->seq, ALSA_POOL) < 0 ||
	    snd_seq_set_output_buffer_size(p->seq, ALSA_OBUF) < 0 ||
	    snd_seq_set_input_buffer_size(p->seq, ALSA_IBUF) < 0 ||
	    (p->queue = snd_seq_alloc_named_queue(p->seq, c->client_name)) < 0 ||
	    alsa_timer(p, SND_TIMER_GLOBAL_HRTIMER) < 0)
		return -1;
	p->in_port = alsa_port(p, c->in_port, SND_SEQ_PORT_CAP_WRITE | SND_SEQ_PORT_CAP_SUBS_WRITE,
	    SND_SEQ_PORT_TYPE_MIDI_GENERIC | SND_SEQ_PORT_TYPE_APPLICATION, 1);
	p->out_port = alsa_port(p, c->out_port, SND_SEQ_PORT_CAP_READ | SND_SEQ_PORT_CAP_SUBS_READ,
	    SND_SEQ_PORT_TYPE_MIDI_GENERIC | SND_SEQ_PORT_TYPE_APPLICATION, 0);
	/* not exported: patchbays leave it alone, and nobody but the system can subscribe to it */
	p->ann_port = alsa_port(p, "announce", SND_SEQ_PORT_CAP_WRITE | SND_SEQ_PORT_CAP_NO_EXPORT,
	    SND_SEQ_PORT_TYPE_APPLICATION, 0);
	if (p->in_port < 0 || p->out_port < 0 || p->ann_port < 0 ||
	    snd_seq_connect_from(p->seq, p->ann_port, SND_SEQ_CLIENT_SYSTEM, SND_SEQ_PORT_SYSTEM_ANNOUNCE) < 0)
		return -1;
	return 0;
}

/* alsa-lib's own messages (its default handler prints them with stdio, also on the I/O thread): dropped, as
 * libjack's are; our errors say what failed, with snd_strerror. */
static void
alsa_silent(const char *file, int line, const char *function, int err, const char *fmt, ...)
{
	(void)file, (void)line, (void)function, (void)err, (void)fmt;
}

/* Touches every page of p now, so that the I/O thread's first periods take no page faults. */
static void
alsa_prefault(struct alsa_priv *p)
{
	volatile unsigned char *m = (volatile unsigned char *)p;

	for (size_t i = 0; i < sizeof *p; i += 4096)
		m[i] = m[i];
}

static int
alsa_open(struct backend *b, const struct cfg *c, char *err, size_t len)
{
	struct alsa_priv *p = calloc(1, sizeof *p);
	int rc;

	if (p == NULL) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	b->priv = p;
	alsa_prefault(p);
	p->in_port = p->out_port = p->ann_port = p->queue = -1;
	snprintf(p->client_name, sizeof p->client_name, "%s", c->client_name);
	snprintf(p->in_name, sizeof p->in_name, "%s", c->in_port);
	snprintf(p->out_name, sizeof p->out_name, "%s", c->out_port);
	snd_lib_error_set_handler(alsa_silent);
	if ((rc = snd_seq_open(&p->seq, "default", SND_SEQ_OPEN_DUPLEX, SND_SEQ_NONBLOCK)) < 0) {
		p->seq = NULL;
		snprintf(err, len, "ALSA: cannot open the sequencer: %s (is /dev/snd/seq there? modprobe snd-seq)",
		    snd_strerror(rc));
		return -1;
	}
	p->client = snd_seq_client_id(p->seq);
	if (alsa_setup(p, c) < 0 || snd_seq_queue_status_malloc(&p->qstat) < 0 ||
	    ring_init(&p->notices, ALSA_NOTICES, sizeof(struct alsa_notice)) < 0) {
		snprintf(err, len, "ALSA: cannot set up client '%s' (ports '%s' and '%s', a queue and its timer)",
		    c->client_name, c->in_port, c->out_port);
		return -1;
	}
	p->have_ring = 1;
	p->have_sem = sem_init(&p->wake, 0, 0) == 0;
	p->have_lock = pthread_mutex_init(&p->lock, NULL) == 0;
	if (!p->have_sem || !p->have_lock) {
		snprintf(err, len, "ALSA: cannot create the connector's semaphore or lock");
		return -1;
	}
	b->rate = ALSA_RATE;
	b->period = ALSA_PERIOD;
	return 0;
}

/* Starts a thread at real-time priority if the system allows it, else at normal priority; 1 = real time. */
static int
alsa_thread(pthread_t *t, void *(*fn)(void *), void *arg, int prio)
{
	struct sched_param sp = { .sched_priority = prio };
	pthread_attr_t a;
	int rc = -1;

	if (prio > 0 && pthread_attr_init(&a) == 0) {
		if (pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED) == 0 &&
		    pthread_attr_setschedpolicy(&a, SCHED_FIFO) == 0 && pthread_attr_setschedparam(&a, &sp) == 0)
			rc = pthread_create(t, &a, fn, arg);
		pthread_attr_destroy(&a);
		if (rc == 0)
			return 1;
	}
	return pthread_create(t, NULL, fn, arg) == 0 ? 0 : -1;
}

/* The kernel's account of our queue's timer (/proc/asound/seq/timer): its name and period, for the log; a
 * warning when it is not the high-resolution timer. */
static void
alsa_timer_info(const struct alsa_priv *p, char *buf, size_t len)
{
	FILE *f = fopen("/proc/asound/seq/timer", "r");
	char line[256], want[64];
	double period = 0;
	int found = 0;

	snprintf(buf, len, "%s at %d Hz", p->timer, ALSA_TIMER_HZ);
	snprintf(want, sizeof want, "Timer for queue %d : ", p->queue);
	while (f != NULL && fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, want, strlen(want)) == 0) {
			found = 1;
			snprintf(buf, len, "%.*s", (int)strcspn(line + strlen(want), "\n"), line + strlen(want));
		} else if (found && sscanf(line, " Period time : %lf", &period) == 1) {
			snprintf(buf + strlen(buf), len - strlen(buf), ", period %.0f us", period * 1e6);
			break;
		}
	}
	if (f != NULL)
		fclose(f);
	if (found ? strncmp(buf, "HR timer", 8) != 0 : strcmp(p->timer, "HR timer") != 0)
		log_warnx("ALSA: queue %d runs on the %s, not the high-resolution timer (modprobe snd-hrtimer): its "
		    "ticks decide when notes leave", p->queue, buf);
}

static int
alsa_start(struct backend *b, struct rt *rt, char *err, size_t len)
{
	struct alsa_priv *p = b->priv;
	char timer[128];
	uint64_t now = 0;
	int rc;

	b->rt = rt;
	if ((rc = snd_seq_start_queue(p->seq, p->queue, NULL)) < 0 || (rc = snd_seq_drain_output(p->seq)) < 0 ||
	    (rc = alsa_queue_now(p, &now)) < 0) {
		snprintf(err, len, "ALSA: cannot start queue %d: %s", p->queue, snd_strerror(rc));
		return -1;
	}
	if (pthread_create(&p->conn, NULL, alsa_conn_main, p) != 0) {
		snprintf(err, len, "ALSA: cannot start the connector thread");
		return -1;
	}
	p->conn_started = 1;
	if ((p->io_rt = alsa_thread(&p->io, alsa_io_main, b, ALSA_RT_PRIO)) < 0) {
		snprintf(err, len, "ALSA: cannot start the I/O thread");
		return -1;
	}
	p->io_started = 1;
	alsa_timer_info(p, timer, sizeof timer);
	log_info("ALSA: client %d '%s', ports %d '%s' and %d '%s'; queue %d on the %s; I/O every %d us, %d us ahead "
	    "(%s)", p->client, p->client_name, p->in_port, p->in_name, p->out_port, p->out_name, p->queue, timer,
	    ALSA_PERIOD, ALSA_LEAD, p->io_rt ? "SCHED_FIFO" : "no real-time priority: timing depends on the load");
	return 0;
}

/* No note left sounding: the scheduled events that have not left are removed, then every note that may sound
 * (on after what was scheduled, or whose scheduled note-off was removed) gets a note-off now, not scheduled. */
static void
alsa_silence(struct alsa_priv *p)
{
	snd_seq_remove_events_t *rm;
	snd_seq_event_t ev;
	uint64_t now = 0;
	int n = 0;

	alsa_queue_now(p, &now);
	snd_seq_drop_output(p->seq);
	snd_seq_remove_events_alloca(&rm);
	snd_seq_remove_events_set_condition(rm, SND_SEQ_REMOVE_OUTPUT);
	snd_seq_remove_events(p->seq, rm);
	snd_seq_nonblock(p->seq, 0);
	for (int ch = 0; ch < 16; ch++)
		for (int k = 0; k < 128; k++)
			if (p->on[ch][k] || p->off_at[ch][k] > now) {
				snd_seq_ev_clear(&ev);
				snd_seq_ev_set_noteoff(&ev, ch, k, 0);
				snd_seq_ev_set_source(&ev, p->out_port);
				snd_seq_ev_set_subs(&ev);
				snd_seq_ev_set_direct(&ev);
				n += snd_seq_event_output(p->seq, &ev) >= 0;
			}
	snd_seq_drain_output(p->seq);
	if (n > 0)
		log_debug("ALSA: %d note-offs sent directly at close", n);
}

static void
alsa_close(struct backend *b)
{
	struct alsa_priv *p = b->priv;

	if (p == NULL)
		return;
	atomic_store(&p->stop, 1);
	if (p->io_started)
		pthread_join(p->io, NULL);
	if (p->conn_started) {
		sem_post(&p->wake);
		pthread_join(p->conn, NULL);
		alsa_conn_report(p);
	}
	if (p->seq != NULL) {
		if (p->io_started && !atomic_load(&b->lost))
			alsa_silence(p);
		if (p->queue >= 0) {
			snd_seq_stop_queue(p->seq, p->queue, NULL);
			snd_seq_drain_output(p->seq);
			snd_seq_free_queue(p->seq, p->queue);
		}
		snd_seq_close(p->seq);
	}
	if (p->io_started)
		log_info("ALSA: closed after %llu periods (%llu late, %llu events sent late; wake-ups at most %llu us "
		    "after their time, %d allowed), %llu output errors, %llu disconnections",
		    (unsigned long long)atomic_load(&p->cnt.periods), (unsigned long long)atomic_load(&p->cnt.late),
		    (unsigned long long)atomic_load(&p->cnt.late_events),
		    (unsigned long long)atomic_load(&p->cnt.wake_max), ALSA_LEAD,
		    (unsigned long long)atomic_load(&p->cnt.out_errors), (unsigned long long)p->disconnects);
	alsa_conn_free_patterns(p->re_in, p->n_re_in);
	alsa_conn_free_patterns(p->re_out, p->n_re_out);
	if (p->qstat)
		snd_seq_queue_status_free(p->qstat);
	if (p->have_ring)
		ring_fini(&p->notices);
	if (p->have_sem)
		sem_destroy(&p->wake);
	if (p->have_lock)
		pthread_mutex_destroy(&p->lock);
	free(p);
	b->priv = NULL;
}

const struct backend_ops backend_alsa_ops = {
	.name = "alsa",
	.open = alsa_open,
	.start = alsa_start,
	.connect = alsa_conn_cfg,
	.close = alsa_close,
};
