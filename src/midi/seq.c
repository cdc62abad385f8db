/* SPDX-License-Identifier: GPL-3.0-or-later */
/* seq.c: note sequences: storage and magenta-compatible quantization (JSON form: seq_json.c). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seq.h"
#include "err.h"


void
seq_init(struct seq *s)
{
	memset(s, 0, sizeof *s);
	s->qpm = SEQ_DEFAULT_QPM;
}

void
seq_fini(struct seq *s)
{
	free(s->notes);
	s->notes = NULL;
	s->n = s->cap = 0;
}

void
seq_clear(struct seq *s)
{
	s->n = 0;
}

static int
seq_reserve(struct seq *s, size_t want)
{
	struct note *p;
	size_t cap = s->cap ? s->cap : 16;

	if (want <= s->cap)
		return 0;
	while (cap < want) {
		if (cap > SIZE_MAX / 2 / sizeof *p)
			return -1;
		cap *= 2;
	}
	p = realloc(s->notes, cap * sizeof *p);
	if (p == NULL)
		return -1;
	s->notes = p;
	s->cap = cap;
	return 0;
}

int
seq_add(struct seq *s, const struct note *n)
{
	if (s->n == SIZE_MAX || seq_reserve(s, s->n + 1) == -1)
		return -1;
	s->notes[s->n++] = *n;
	return 0;
}

int
seq_copy(struct seq *dst, const struct seq *src)
{
	struct note *keep = dst->notes;
	size_t cap = dst->cap;

	if (src->n > cap) {
		keep = realloc(dst->notes, src->n * sizeof *keep);
		if (keep == NULL)
			return -1;
		cap = src->n;
	}
	*dst = *src;
	dst->notes = keep;
	dst->cap = cap;
	if (src->n > 0)
		memcpy(dst->notes, src->notes, src->n * sizeof *keep);
	return 0;
}

/* ---- quantization ------------------------------------------------------------------------ */

/* magenta's quantizeToStep: floor(seconds * stepsPerSecond + (1 - 0.5)), in the same double order. */
static int
seq_quantize_time(double seconds, double steps_per_second, int *step)
{
	double q = floor(seconds * steps_per_second + (1 - 0.5));

	if (!isfinite(q) || q < 0 || q > SEQ_MAX_STEPS)
		return -1;
	*step = (int)q;
	return 0;
}

static int
seq_quantize_note(const struct note *n, double sps, int *start, int *end)
{
	if (seq_quantize_time(n->start_time, sps, start) == -1 ||
	    seq_quantize_time(n->end_time, sps, end) == -1)
		return -1;
	if (*end == *start)
		(*end)++;
	return 0;
}

int
seq_quantize(struct seq *s, int steps_per_quarter)
{
	double sps;
	int start, end, total;

	if (steps_per_quarter < 1 || !(s->qpm > 0) || !isfinite(s->qpm))
		return -1;
	sps = steps_per_quarter * s->qpm / 60.0;
	if (seq_quantize_time(s->total_time, sps, &total) == -1)
		return -1;
	for (size_t i = 0; i < s->n; i++)          /* validate everything before changing anything */
		if (seq_quantize_note(&s->notes[i], sps, &start, &end) == -1)
			return -1;
	for (size_t i = 0; i < s->n; i++) {
		struct note *n = &s->notes[i];

		seq_quantize_note(n, sps, &n->start, &n->end);
		if (n->end > total)
			total = n->end;
	}
	s->steps_per_quarter = steps_per_quarter;
	s->total_steps = total;
	return 0;
}
