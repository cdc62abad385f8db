/* SPDX-License-Identifier: GPL-3.0-or-later */
/* clock.h: the clock that turns MIDI clock input (or an internal tempo) into 16th-note step boundaries in frames. */
#ifndef MVD_CLOCK_H
#define MVD_CLOCK_H

#include <stdatomic.h>
#include <stdint.h>

#define CLOCK_PPQN 24                   /* MIDI clock ticks per quarter note */
#define CLOCK_TICKS_PER_STEP 6          /* one 16th note = one MIDI beat = 6 ticks */
#define CLOCK_STEPS_PER_BAR 16          /* 4/4 bars of 16th notes */
#define CLOCK_QUEUE_LEN 64              /* events waiting for clock_period (external input, transport) */
#define CLOCK_NO_FRAME UINT64_MAX       /* "unknown" from clock_predict_frame */
#define CLOCK_PAUSE_TICKS 24            /* a gap of more missing ticks than this is a pause, not a loss */
#define CLOCK_VERIFY_TICKS 3            /* intervals after a long one that tell how many ticks it held */

enum clock_mode { CLOCK_MODE_EXTERNAL, CLOCK_MODE_INTERNAL };

enum clock_ev_type {
	CLOCK_EV_STEP,          /* a 16th-note step begins at frame: emit its notes there */
	CLOCK_EV_START,         /* transport starts at step 0 */
	CLOCK_EV_CONTINUE,      /* transport resumes at `step` */
	CLOCK_EV_STOP,          /* transport stops; `step` is the next step that would have played */
	CLOCK_EV_TICK           /* leading with send_clock: send 0xF8 at frame */
};

struct clock_event {
	uint64_t frame;         /* absolute frame; below the period's frame0 only when late */
	int64_t step;           /* STEP: absolute step (bar = step / 16); transport events: position */
	uint8_t type;           /* enum clock_ev_type */
	uint8_t late;           /* STEP revealed by a later tick (missing ticks), or any event past its frame */
	uint8_t midi;           /* byte to send when leading with send_clock (0xF8, 0xFA, 0xFB, 0xFC), else 0 */
};

/* Written by the RT thread only (relaxed), readable from any thread. */
struct clock_counters {
	_Atomic uint64_t ticks;         /* 0xF8 received (external) or generated (internal) */
	_Atomic uint64_t idle_ticks;    /* 0xF8 received while stopped: they feed the tempo estimate only */
	_Atomic uint64_t missed_ticks;  /* ticks inferred from gaps (N = round(gap / period) - 1) */
	_Atomic uint64_t late_steps;    /* steps reported at the frame of the tick that revealed a gap */
	_Atomic uint64_t pauses;        /* gaps longer than CLOCK_PAUSE_TICKS: position kept, not counted as missed */
	_Atomic uint64_t ignored;       /* SPP while running, duplicate Start, input while leading */
	_Atomic uint64_t unknown;       /* bytes that are not clock messages, malformed SPP, frames going back */
	_Atomic uint64_t overflows;     /* events dropped because the queue was full */
	_Atomic int64_t step;           /* last step reported (-1 before the first) */
	_Atomic uint32_t mbpm;          /* tempo estimate in milli-BPM (0 = unknown) */
};

/* A plain copy of struct clock_counters for reporting. */
struct clock_stats {
	uint64_t ticks, idle_ticks, missed_ticks, late_steps, pauses, ignored, unknown, overflows;
	int64_t step;
	double bpm;
};

/* One clock; every function but clock_stats_read belongs to the JACK (or ALSA I/O) thread. */
struct clock {
	double sr;                      /* sample rate, frames per second */
	int mode;                       /* enum clock_mode */
	int send_clock;                 /* internal: report 0xF8/0xFA/0xFB/0xFC to send */
	double tolerance;               /* frames of input timestamp jitter tolerated before a gap is a loss */
	uint64_t last_frame;            /* frame of the latest input byte (time order check) */

	/* transport (both modes) */
	int running;                    /* between Start/Continue and Stop */
	int awaiting;                   /* external: the next 0xF8 is tick `next_tick` (after Start/Continue) */
	int64_t next_tick;              /* index of the next tick (24 ppqn since Start); SPP sets it while stopped */

	/* external: second-order DLL over tick times, in frames (Adriaensen, "Using a DLL to filter time") */
	int64_t dll_n;                  /* ticks seen since the DLL was (re)started */
	int dll_jump;                   /* a transport message came: re-phase on the next tick, keep the period */
	double dll_t0;                  /* frame of the last tick */
	double dll_t1;                  /* predicted frame of the next tick */
	double dll_e2;                  /* filtered tick period, frames (0 = unknown) */
	/* external: a long interval and those after it, until they show how many periods of the new tempo it held */
	int ver_len;                    /* intervals in ver_iv (0: nothing under verification) */
	int64_t ver_miss;               /* ticks counted missing for them so far */
	double ver_iv[1 + CLOCK_VERIFY_TICKS]; /* the long interval, then the ones after it, frames */
	int64_t done_tick;              /* ticks below this were reported (a count taken back does not repeat them) */

	/* internal: tick k is at origin + round((k - k0) * 60 * sr / (bpm * 24)) */
	double bpm;                     /* internal tempo */
	uint64_t origin;                /* frame of tick k0 */
	int64_t k0;                     /* tick index at origin */
	uint64_t stop_frame;            /* internal: a Stop is pending at this frame (CLOCK_NO_FRAME if none) */
	int64_t pend_tick;              /* internal: pend_bpm takes over at this tick (-1: nothing pending) */
	double pend_bpm;
	int gen_half;                   /* internal: tick next_tick's 0xF8 went out, its step did not fit yet */

	struct clock_event queue[CLOCK_QUEUE_LEN]; /* FIFO in frame order */
	int q_head, q_len;
	struct clock_counters cnt;
};

/* Sets up a stopped external clock at `sample_rate` (no allocation; the struct may live anywhere). */
void clock_init(struct clock *c, double sample_rate);
/* Leads at `bpm` (> 0); a change while running takes effect after the next tick, which keeps its frame. */
void clock_set_internal(struct clock *c, double bpm, int send_clock);
/* Internal clock: the tempo becomes bpm at step `step` (its first tick keeps its frame; the ticks after it follow
 * bpm); now when stopped. A later call or clock_set_internal replaces a pending change. */
void clock_set_internal_at(struct clock *c, double bpm, int64_t step);
/* Follows MIDI clock from clock_midi_in; the transport stops, the tempo estimate is kept. */
void clock_set_external(struct clock *c);
/* Frames of input timestamp jitter (e.g. one period for a bridge that delivers at period starts); default 0. */
void clock_set_tolerance(struct clock *c, double frames);
/* Internal: starts at step 0 with tick 0 at `frame`. */
void clock_start(struct clock *c, uint64_t frame);
/* Internal: resumes with the next tick (or the located one) at `frame`. */
void clock_continue(struct clock *c, uint64_t frame);
/* Internal: stops; ticks before `frame` are still reported. */
void clock_stop(struct clock *c, uint64_t frame);
/* Internal, while stopped: the next Continue resumes at `step`. */
void clock_locate(struct clock *c, int64_t step);
/* External: one realtime byte (0xF8..0xFF) or SPP (0xF2, data = LSB, MSB) at an absolute frame, in time order. */
void clock_midi_in(struct clock *c, uint8_t status, const uint8_t *data, uint64_t frame);
/* Events in [frame0, frame0 + nframes) (and late ones before) in frame order, at most max; returns the count. */
int clock_period(struct clock *c, uint64_t frame0, uint32_t nframes, struct clock_event *ev, int max);
/* Tempo: internal BPM or the DLL estimate; 0 when unknown. */
double clock_bpm(const struct clock *c);
/* The step the next step event will carry (the position). */
int64_t clock_step(const struct clock *c);
/* Predicted frame where `step` starts (internal: exact; external: DLL); CLOCK_NO_FRAME when stopped/unknown. */
uint64_t clock_predict_frame(const struct clock *c, int64_t step);
/* As clock_predict_frame, unrounded (internal: a whole frame); -1 when unknown. */
double clock_predict_framef(const struct clock *c, int64_t step);
/* Any thread: a relaxed snapshot of the counters. */
void clock_stats_read(const struct clock *c, struct clock_stats *out);

#endif
