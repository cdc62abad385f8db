/* SPDX-License-Identifier: GPL-3.0-or-later */
/* capture.h: the player's notes, quantized to 16th-note steps on the clock's grid and kept for the engine
 * to cut phrases from (engine thread only). */
#ifndef MVD_CAPTURE_H
#define MVD_CAPTURE_H

#include <stdint.h>

#include "rt.h"
#include "seq.h"

#define CAPTURE_MAX_NOTES 1024

struct capture_note {
	int64_t start, end;     /* steps; end = -1 while the key is down */
	int pitch, velocity;
};

struct capture {
	struct capture_note notes[CAPTURE_MAX_NOTES];
	int n;
	int drums;              /* 1: the notes are drum hits (is_drum in the phrase) */
	uint64_t last_frame;    /* frame of the latest note-on or note-off */
	uint64_t unplaced;      /* notes that came while the transport was stopped */
	uint64_t overflow;      /* notes dropped because the phrase buffer was full */
};

/* Empties the buffer; drums selects how phrases are labelled. */
void capture_reset(struct capture *c, int drums);
/* Adds one event from the RT thread: onset rounded to the nearest step, note-off likewise (at least one
 * step long). */
void capture_add(struct capture *c, const struct rt_in *in);
/* Drops the notes that began before step (held ones stay): the buffer keeps the recent past only. */
void capture_forget_before(struct capture *c, int64_t step);
/* Notes held down right now. */
int capture_held(const struct capture *c);
/* Step of the first onset, or -1 when empty. */
int64_t capture_first_step(const struct capture *c);
/* Step of the last onset, or -1 when empty. */
int64_t capture_last_step(const struct capture *c);
/* Notes starting in [start, start + nsteps), shifted to 0, as a quantized sequence of nsteps steps;
 * notes still held end at the window's end. */
void capture_window(const struct capture *c, int64_t start, int nsteps, struct seq *out);

#endif
