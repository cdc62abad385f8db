/* SPDX-License-Identifier: GPL-3.0-or-later */
/* codec_mel.c: melody events (magenta.js core/melodies.js) and the Melody, MelodyRhythm, MelodyShape converters. */
#include <stdlib.h>
#include <string.h>

#include "codec_int.h"

/* A note as Melody.fromNoteSequence sorts it; i keeps Array.prototype.sort's stability. */
struct codec_mel_ref {
	int start, end, pitch;
	size_t i;
};

/* Start ascending, pitch descending, then input order. */
static int
codec_mel_cmp(const void *a, const void *b)
{
	const struct codec_mel_ref *p = a, *q = b;

	if (p->start != q->start)
		return p->start < q->start ? -1 : 1;
	if (p->pitch != q->pitch)
		return p->pitch > q->pitch ? -1 : 1;
	return (p->i > q->i) - (p->i < q->i);
}

/* Writes the sorted notes into events as magenta.js does (writes outside [0, T) vanish, as in an Int32Array). */
static int
codec_mel_write(const struct codec_mel_ref *r, size_t n, int lo, int hi, int ignore, int T, int *events,
    char *err, size_t errlen)
{
	int last = -1;

	for (size_t k = 0; k < n; k++) {
		if (r[k].start == last) {
			if (!ignore)
				return err_fail(err, errlen, "`NoteSequence` is not monophonic.");
			continue;
		}
		if (r[k].pitch < lo || r[k].pitch > hi)
			return err_fail(err, errlen, "`NoteSequence` has a pitch outside of the valid range: %d "
			    "(the model's range is %d..%d)", r[k].pitch, lo, hi);
		if (r[k].start >= 0 && r[k].start < T)
			events[r[k].start] = r[k].pitch - lo + CODEC_FIRST_PITCH;
		if (r[k].end >= 0 && r[k].end < T)
			events[r[k].end] = CODEC_NOTE_OFF;
		last = r[k].start;
	}
	return 0;
}

int
codec_mel_events(const struct seq *s, const size_t *sel, size_t n, int lo, int hi, int ignore, int T,
    int *events, char *err, size_t errlen)
{
	struct codec_mel_ref *r;
	int rc;

	memset(events, 0, (size_t)T * sizeof *events);
	if (n == 0)
		return 0;
	if ((r = malloc(n * sizeof *r)) == NULL)
		return err_fail(err, errlen, "out of memory");
	for (size_t k = 0; k < n; k++) {
		const struct note *nt = &s->notes[sel ? sel[k] : k];
		r[k] = (struct codec_mel_ref){ nt->start, nt->end, nt->pitch, k };
	}
	qsort(r, n, sizeof *r, codec_mel_cmp);
	rc = codec_mel_write(r, n, lo, hi, ignore, T, events, err, errlen);
	free(r);
	return rc;
}

static int
codec_mel_row_empty(const float *row)
{
	return row[0] == 0 && row[1] == 0 && row[2] == 0;
}

/* MelodyShape.extract: each step between two onsets gets the direction of the later onset's move. */
static void
codec_mel_shape(const int *ev, int T, float *x)
{
	int last = -1, last_pitch = 0;

	for (int t = 0; t < T; t++) {
		if (ev[t] < CODEC_FIRST_PITCH)
			continue;
		if (last >= 0) {
			int lo = codec_mel_row_empty(x + last * 3) ? -1 : last;
			int dir = ev[t] < last_pitch ? 0 : ev[t] > last_pitch ? 2 : 1;
			for (int i = t; i > lo; i--)
				x[i * 3 + dir] = 1;
		}
		last = t;
		last_pitch = ev[t];
	}
	if (last == T - 1)
		return;
	if (last < 0 || codec_mel_row_empty(x + last * 3)) {
		for (int i = 0; i < T; i++)
			x[i * 3 + 1] = 1;
		return;
	}
	for (int i = T - 1; i > last; i--)
		memcpy(x + i * 3, x + last * 3, 3 * sizeof *x);
}

int
codec_mel_encode(const struct codec *c, const struct seq *s, float *x, char *err, size_t errlen)
{
	int T = c->num_steps, *ev = malloc((size_t)T * sizeof *ev);

	if (ev == NULL)
		return err_fail(err, errlen, "out of memory");
	if (codec_mel_events(s, NULL, s->n, c->min_pitch, c->max_pitch, c->ignore_polyphony, T, ev, err,
	    errlen) < 0) {
		free(ev);
		return -1;
	}
	if (c->type == CODEC_MELODY)
		for (int t = 0; t < T; t++)
			x[(size_t)t * c->in_depth + ev[t]] = 1;
	else if (c->type == CODEC_MELODY_RHYTHM)
		for (int t = 0; t < T; t++)
			x[t] = ev[t] >= CODEC_FIRST_PITCH;
	else
		codec_mel_shape(ev, T, x);
	free(ev);
	return 0;
}

int
codec_mel_notes(const int *ev, int T, int lo, int instrument, int program, struct seq *out)
{
	int on = 0, pitch = 0, start = 0;

	for (int t = 0; t < T; t++) {
		if (ev[t] == 0)
			continue;
		if (on && codec_add_note(out, pitch, start, t, instrument, program, 0) < 0)
			return -1;
		on = ev[t] >= CODEC_FIRST_PITCH;
		pitch = ev[t] - CODEC_FIRST_PITCH + lo;
		start = t;
	}
	if (on && codec_add_note(out, pitch, start, T, instrument, program, 0) < 0)
		return -1;
	return 0;
}

/* MelodyShapeConverter.toNoteSequence: a one-step note every step, walking from the middle pitch. */
static int
codec_mel_shape_notes(const struct codec *c, const float *y, struct seq *out)
{
	int pitch = (c->min_pitch + c->max_pitch + 1) / 2;

	for (int t = 0; t < c->num_steps; t++) {
		int dir = nn_argmax(y + t * 3, 3);
		if (dir == 0 && --pitch < c->min_pitch)
			pitch = c->min_pitch;
		if (dir == 2 && ++pitch > c->max_pitch)
			pitch = c->max_pitch;
		if (codec_add_note(out, pitch, t, t + 1, 0, 0, 0) < 0)
			return -1;
	}
	return 0;
}

int
codec_mel_decode(const struct codec *c, const float *y, struct seq *out, char *err, size_t errlen)
{
	int T = c->num_steps, rc = 0, *ev;

	codec_out_init(out, T);
	if (c->type == CODEC_MELODY_RHYTHM) {
		for (int t = 0; t < T && rc == 0; t++)
			if (y[t] != 0 && y[t] == y[t])
				rc = codec_add_note(out, CODEC_SNARE, t, t + 1, 0, 0, 1);
	} else if (c->type == CODEC_MELODY_SHAPE)
		rc = codec_mel_shape_notes(c, y, out);
	else if ((ev = malloc((size_t)T * sizeof *ev)) == NULL)
		rc = -1;
	else {
		for (int t = 0; t < T; t++)
			ev[t] = nn_argmax(y + (size_t)t * c->out_depth, c->out_depth);
		rc = codec_mel_notes(ev, T, c->min_pitch, 0, 0, out);
		free(ev);
	}
	return rc < 0 ? err_fail(err, errlen, "out of memory") : 0;
}
