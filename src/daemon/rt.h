/* SPDX-License-Identifier: GPL-3.0-or-later */
/* rt.h: the per-period real-time work every backend shares: input classification and capture, the clock,
 * and bar playback at exact frames. Runs on the backend's real-time thread: allocates nothing, takes no
 * locks, never logs; it talks to the engine through three one-writer/one-reader rings and counters. */
#ifndef MVD_RT_H
#define MVD_RT_H

#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>

#include "clock.h"
#include "ring.h"

#define RT_STEPS_PER_BAR 16
#define RT_BAR_EVENTS 320       /* 16 steps x (note-on + note-off) x 9 drum classes, and more */
#define RT_BAR_QUEUE 64         /* room for a 16-bar model after Stop and Start: bar 0's window (16), the bars
                                 * queued for a Continue (up to 17), the next window; or, in the period after a
                                 * flush while stopped (an SPP), the old epoch's bars (rt_begin drops them then)
                                 * and the new epoch's bar 0 window */
#define RT_CAPTURE_QUEUE 4096
#define RT_CMD_QUEUE 64
#define RT_MAX_CLOCK_EVENTS 64
#define RT_EPOCHS 128           /* epochs whose replacement bar RT remembers (more than the bar queue holds) */
#define RT_OFFSET_ONE 32768     /* a bar event's micro-timing unit: 1/32768 of a step (0.18 frame at 6000 per step) */
#define RT_PENDING 64           /* note-ons waiting for a frame past the step that scheduled them (2 steps x 9
                                 * drum classes need 18) */

/* One note event inside a bar. step 0..15 = at that step; 16 = at the end of the bar (before the next
 * bar's events). Within a step, note-offs come before note-ons. A note-on's offset moves it off its step's
 * frame by offset / RT_OFFSET_ONE steps (|offset| <= RT_OFFSET_ONE / 2; < 0 early, played before the step,
 * scheduled from the step before it): a groove model's micro-timing. Note-offs stay on their step. */
struct rt_bar_note {
	uint8_t step;
	uint8_t status;         /* 0x80 or 0x90; the channel is added on output */
	uint8_t pitch;
	uint8_t velocity;
	int16_t offset;         /* note-ons: 1/RT_OFFSET_ONE step, -RT_OFFSET_ONE/2..RT_OFFSET_ONE/2; note-offs: 0 */
};

#define RT_BAR_REPEAT 1         /* if the next bar is late, play this one again (generate, morph) */

/* Engine -> RT: the notes of one bar. */
struct rt_bar {
	int64_t bar;            /* absolute bar index (step / 16) it plays at */
	uint32_t epoch;         /* bars from an older epoch are dropped unplayed */
	uint16_t flags;         /* RT_BAR_* */
	uint16_t n;
	struct rt_bar_note ev[RT_BAR_EVENTS];
};

/* RT -> engine: a note the player played on the capture channel. */
struct rt_in {
	uint64_t frame;
	double pos;             /* clock position in steps (fractional); -1 while the transport is stopped */
	uint8_t status;         /* 0x80 or 0x90 (channel stripped; velocity 0 note-ons arrive as 0x80) */
	uint8_t pitch, velocity, channel;
};

enum rt_cmd_type {
	RT_CMD_FLUSH,           /* new epoch: all notes off now, older bars dropped */
	RT_CMD_START,           /* internal clock: start at step 0 now */
	RT_CMD_STOP,            /* internal clock: stop now (notes off) */
	RT_CMD_CONTINUE,        /* internal clock: continue from the current position */
	RT_CMD_BPM,             /* internal clock: new tempo */
	RT_CMD_CHANNEL,         /* output channel 0..15 (notes off on the old one first) */
	RT_CMD_IN_CHANNEL,      /* capture channel 0..15, or -1 for any */
	RT_CMD_REPLACE,         /* new epoch from bar `at` on: older bars before it still play, nothing is cut */
	RT_CMD_BPM_AT,          /* internal clock: new tempo from step `at` (its first tick keeps its frame) */
};

/* Engine -> RT control. */
struct rt_cmd {
	int type;
	uint32_t epoch;
	double value;
	int64_t at;             /* RT_CMD_REPLACE: bar; RT_CMD_BPM_AT: step */
};

/* Counters the RT thread bumps and others read (relaxed). */
struct rt_counters {
	_Atomic uint64_t periods;
	_Atomic uint64_t in_events;             /* every input event seen */
	_Atomic uint64_t in_notes;              /* notes captured for the engine */
	_Atomic uint64_t in_bad_status;         /* dropped: no/undefined status byte */
	_Atomic uint64_t in_bad_length;         /* dropped: wrong length for its status, broken sysex */
	_Atomic uint64_t in_bad_data;           /* dropped: data byte with the top bit set */
	_Atomic uint64_t in_other;              /* well formed, not used (CC, sysex, other channels...) */
	_Atomic uint64_t in_clock_ignored;      /* clock messages while leading */
	_Atomic uint64_t capture_overflow;      /* notes dropped because the engine did not keep up */
	_Atomic uint64_t bars_played;
	_Atomic uint64_t bars_repeated;         /* the next bar was late: the previous one played again */
	_Atomic uint64_t bars_missing;          /* no bar and nothing to repeat: silence */
	_Atomic uint64_t bars_stale;            /* dropped unplayed: too late or from an old epoch */
	_Atomic uint64_t out_events;
	_Atomic uint64_t out_refused;           /* the backend could not take an event */
	_Atomic uint64_t notes_forced_off;      /* note-offs sent by stop/flush */
	_Atomic uint64_t flushes;               /* RT_CMD_FLUSH handled */
	_Atomic uint64_t early_on_step;         /* early note-ons played on their step: the bar was not queued
	                                         * when the step before began (or the transport started there) */
	_Atomic uint64_t pending_full;          /* offset note-ons played on their step: no room to defer them */
};

/* Position and tempo published every period for the engine and the status report. */
struct rt_now {
	_Atomic uint64_t frame;                 /* end of the last period */
	_Atomic int64_t step;                   /* last step that began (-1 before any) */
	_Atomic uint64_t step_frame;            /* frame it began at */
	_Atomic int running;                    /* transport rolling */
	_Atomic uint64_t frames_per_step_x1000; /* current step length estimate, milli-frames */
	_Atomic uint32_t resets;                /* rt_reset calls: the engine starts over */
	_Atomic int linked;                     /* the backend runs and its start-up connections are made (main
	                                         * thread): autostart waits for it, so Start reaches them */
	_Atomic int64_t locate;                 /* the step the next step event will carry (SPP while stopped) */
	_Atomic uint32_t rate;                  /* frames per second (rt_init, rt_reset): others read this, never
	                                         * clock.sr, which rt_reset rewrites */
};

/* A note-on deferred to a frame past the step event that scheduled it (late notes, or early notes of the next
 * step); the pending list is kept in frame order. */
struct rt_pend {
	uint64_t frame;
	int64_t step;           /* the absolute step the note belongs to */
	uint8_t pitch, velocity;
};

/* Writes one MIDI event at an absolute frame of the current period; returns 0, or -1 if refused. */
typedef int (*rt_write_fn)(void *ctx, uint64_t frame, const uint8_t *data, uint32_t len);

struct rt {
	struct clock clock;
	int leading;            /* internal clock */
	int send_transport;     /* leading: also send Start/Stop/Continue */
	int in_channel;         /* 0..15, or -1 for any */
	int out_channel;        /* 0..15 */
	struct ring bars;       /* engine -> RT: struct rt_bar */
	struct ring capture;    /* RT -> engine: struct rt_in */
	struct ring cmds;       /* engine -> RT: struct rt_cmd */
	sem_t wake;             /* posted once per period: the engine's tick */

	/* RT thread only */
	uint32_t epoch;         /* newest epoch */
	uint32_t floor;         /* bars of epochs before it are dropped (the last flush) */
	int64_t until[RT_EPOCHS];       /* epoch e's bars from until[e % RT_EPOCHS] on were replaced */
	struct rt_bar cur;      /* the bar playing: rt_select's one copy of a queued bar */
	int have_cur;
	uint64_t frame0;
	uint32_t nframes;
	uint8_t sounding[16][128];
	int64_t on_step[128];   /* the step of the note-on sounding on the output channel, per pitch */
	struct rt_pend pend[RT_PENDING];        /* in frame order */
	int n_pend;
	int64_t early_step;     /* the step whose early note-ons were scheduled (-1: none) ... */
	int64_t early_bar;      /* ... from this bar ... */
	uint32_t early_epoch;   /* ... of this epoch */
	uint64_t out_frame;     /* the last frame written this period: writes never go back */
	double fps;             /* this period's frames per step (rt_end) */
	int64_t last_step;
	uint64_t last_step_frame;
	struct clock_event cev[RT_MAX_CLOCK_EVENTS];

	struct rt_counters cnt;
	struct rt_now now;
};

/* Allocates the rings; internal clock at bpm when leading, else follows external clock. */
int rt_init(struct rt *rt, double sample_rate, int leading, double bpm, int send_clock, int send_transport,
    int in_channel, int out_channel);
/* Frees the rings. */
void rt_fini(struct rt *rt);
/* Period start: applies queued commands (they may write, e.g. note-offs at frame0). RT thread. */
void rt_begin(struct rt *rt, uint64_t frame0, uint32_t nframes, rt_write_fn write, void *ctx);
/* One input event at an absolute frame inside the period, in time order. RT thread. */
void rt_input(struct rt *rt, uint64_t frame, const uint8_t *data, uint32_t len);
/* Period end: runs the clock and writes the period's output in frame order; wakes the engine. RT thread. */
void rt_end(struct rt *rt, rt_write_fn write, void *ctx);
/* While no backend runs the RT functions (after a lost server): forget the clock's position and the
 * sounding notes (their receiver is gone) so the next server starts from a clean state at `sample_rate`. */
void rt_reset(struct rt *rt, double sample_rate);
/* A 32-bit frame counter (jack_last_frame_time) widened to 64 bits across its wrap (every 2^32 frames: 24.8 h
 * at 48 kHz): *state keeps the last value; calls must come at least once per 2^31 frames. RT-safe. */
uint64_t rt_frames_widen(uint64_t *state, uint32_t now);
/* Any thread but RT: queue a command (the engine is the only caller). Returns -1 when the queue is full. */
int rt_command(struct rt *rt, int type, uint32_t epoch, double value);
/* As rt_command with the bar or step the command takes effect at (RT_CMD_REPLACE, RT_CMD_BPM_AT). */
int rt_command_at(struct rt *rt, int type, uint32_t epoch, double value, int64_t at);

#endif
