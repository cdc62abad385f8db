/* SPDX-License-Identifier: GPL-3.0-or-later */
/* seq.h: note sequences (magenta's NoteSequence, reduced to what the converters use) (their JSON form: seq_json.h). */
#ifndef MVD_SEQ_H
#define MVD_SEQ_H

#include <stddef.h>

#define SEQ_MAX_NOTES (1 << 20)   /* bound on notes read from any file */
#define SEQ_MAX_STEPS (1 << 26)   /* bound on quantized positions (about 97 days at 4 steps/quarter, 120 qpm) */
#define SEQ_DEFAULT_QPM 120.0     /* magenta's tempo when a sequence names none */

struct note {
	int pitch;              /* MIDI 0..127 */
	int velocity;           /* 0..127; 0 = unset (written as 100) */
	int program;            /* 0..127 */
	int is_drum;            /* 1 for percussion (MIDI channel 10) */
	int instrument;         /* track/voice index (trio output: 0 melody, 1 bass, 2 drums) */
	int start, end;         /* quantized steps, end > start (valid when the sequence is quantized) */
	double start_time;      /* seconds */
	double end_time;        /* seconds */
};

#define SEQ_MAX_TIME_SIGS 32     /* time signature changes kept per sequence */

struct seq_time_sig {
	int step;               /* quantized position where it takes effect */
	int num, den;           /* 4/4, 2/2, 6/8... */
};

struct seq {
	struct note *notes;     /* [n], grown by seq_add */
	size_t n, cap;
	int steps_per_quarter;  /* 0 = not quantized */
	double qpm;             /* first tempo, quarter notes per minute (120 when the source has none) */
	int tempo_changes;      /* later tempos that differ from the one before (smf_read; 0 elsewhere): times in
	                         * seconds and steps then part at another rate than qpm's */
	int total_steps;        /* quantized length in steps */
	double total_time;      /* seconds */
	struct seq_time_sig time_sigs[SEQ_MAX_TIME_SIGS]; /* [min(n_time_sigs, MAX)] by step; smf_read fills them */
	int n_time_sigs;        /* changes in the source (0: none, 4/4); past SEQ_MAX_TIME_SIGS the rest are lost */
};

/* Empty sequence at 120 qpm, not quantized. */
void seq_init(struct seq *s);
/* Frees the notes. */
void seq_fini(struct seq *s);
/* Drops all notes, keeps the allocation and the timing fields. */
void seq_clear(struct seq *s);
/* Appends a copy of *n; returns -1 only when out of memory. */
int seq_add(struct seq *s, const struct note *n);
/* Deep copy; returns -1 when out of memory. */
int seq_copy(struct seq *dst, const struct seq *src);
/* Quantizes start_time/end_time at s->qpm as magenta's sequences.quantizeNoteSequence does (round at half a
 * step, zero-length notes get one step, total_steps from total_time and the last end). Returns -1, leaving s
 * unchanged, on negative or non-finite times, positions past SEQ_MAX_STEPS, steps_per_quarter < 1 or qpm <= 0. */
int seq_quantize(struct seq *s, int steps_per_quarter);
#endif
