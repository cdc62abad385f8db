/* SPDX-License-Identifier: GPL-3.0-or-later */
/* codec_trio.c: the Trio and TrioRhythm converters (melody | bass | drums, split by program and isDrum). */
#include <stdlib.h>

#include "codec_int.h"

#define CODEC_MEL_PROGRAMS_MAX 31       /* melody: non-drum programs 0..31 */
#define CODEC_BASS_PROGRAM 32           /* bass: non-drum programs 32..39; decoded bass program */
#define CODEC_BASS_PROGRAMS_MAX 39

/* Per-part work space: note indices and the three encoded parts. */
struct codec_trio_parts {
	size_t *mel, *bass, *drums;
	size_t n_mel, n_bass, n_drums;
	int *ev_mel, *ev_bass;          /* [T] melody events */
	long *labels;                   /* [T] drum labels */
	void *mem;
};

static int
codec_trio_split(const struct codec *c, const struct seq *s, struct codec_trio_parts *p)
{
	size_t T = (size_t)c->num_steps, n = s->n ? s->n : 1;

	p->mem = malloc(3 * n * sizeof(size_t) + 2 * T * sizeof(int) + T * sizeof(long));
	if (p->mem == NULL)
		return -1;
	p->labels = p->mem;
	p->mel = (size_t *)(p->labels + T);
	p->bass = p->mel + n;
	p->drums = p->bass + n;
	p->ev_mel = (int *)(p->drums + n);
	p->ev_bass = p->ev_mel + T;
	p->n_mel = p->n_bass = p->n_drums = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct note *nt = &s->notes[i];
		if (nt->is_drum)
			p->drums[p->n_drums++] = i;
		else if (nt->program >= 0 && nt->program <= CODEC_MEL_PROGRAMS_MAX)
			p->mel[p->n_mel++] = i;
		else if (nt->program >= CODEC_BASS_PROGRAM && nt->program <= CODEC_BASS_PROGRAMS_MAX)
			p->bass[p->n_bass++] = i;
	}
	return 0;
}

/* The three sub-converters in magenta.js's order (so the first failure is the same). */
static int
codec_trio_parts(const struct codec *c, const struct seq *s, struct codec_trio_parts *p, char *err,
    size_t errlen)
{
	char why[256];
	int T = c->num_steps;

	if (codec_mel_events(s, p->mel, p->n_mel, c->min_pitch, c->max_pitch, c->ignore_polyphony, T,
	    p->ev_mel, why, sizeof why) < 0)
		return err_fail(err, errlen, "melody part: %s", why);
	if (codec_mel_events(s, p->bass, p->n_bass, c->bass_min_pitch, c->bass_max_pitch,
	    c->bass_ignore_polyphony, T, p->ev_bass, why, sizeof why) < 0)
		return err_fail(err, errlen, "bass part: %s", why);
	if (codec_drums_labels(c, s, p->drums, p->n_drums, p->labels, why, sizeof why) < 0)
		return err_fail(err, errlen, "drums part: %s", why);
	return 0;
}

static void
codec_trio_write(const struct codec *c, const struct codec_trio_parts *p, float *x)
{
	int T = c->num_steps, D = c->in_depth, d0 = c->split_depth[0], d1 = c->split_depth[1];

	if (c->type == CODEC_TRIO_RHYTHM) {
		for (int t = 0; t < T; t++) {
			long l = p->labels[t];
			x[t * 3] = p->ev_mel[t] >= CODEC_FIRST_PITCH;
			x[t * 3 + 1] = p->ev_bass[t] >= CODEC_FIRST_PITCH;
			x[t * 3 + 2] = l > 0 && l < (1L << c->n_classes);
		}
		return;
	}
	for (int t = 0; t < T; t++) {
		x[(size_t)t * D + p->ev_mel[t]] = 1;
		x[(size_t)t * D + d0 + p->ev_bass[t]] = 1;
	}
	codec_drums_onehot(p->labels, T, c->split_depth[2], x + d0 + d1, D);
}

int
codec_trio_encode(const struct codec *c, const struct seq *s, float *x, char *err, size_t errlen)
{
	struct codec_trio_parts p;
	int rc;

	if (codec_trio_split(c, s, &p) < 0)
		return err_fail(err, errlen, "out of memory");
	rc = codec_trio_parts(c, s, &p, err, errlen);
	if (rc == 0)
		codec_trio_write(c, &p, x);
	free(p.mem);
	return rc;
}

/* TrioRhythmConverter.toNoteSequence: fixed pitches 72 / 36 / 38 per set column, step by step. */
static int
codec_trio_rhythm_notes(const struct codec *c, const float *y, struct seq *out)
{
	for (int t = 0; t < c->num_steps; t++) {
		const float *r = y + t * 3;
		if (r[0] != 0 && r[0] == r[0] && codec_add_note(out, 72, t, t + 1, 0, 0, 0) < 0)
			return -1;
		if (r[1] != 0 && r[1] == r[1] && codec_add_note(out, 36, t, t + 1, 1, CODEC_BASS_PROGRAM, 0) < 0)
			return -1;
		if (r[2] != 0 && r[2] == r[2] && codec_add_note(out, CODEC_SNARE, t, t + 1, 2, 0, 1) < 0)
			return -1;
	}
	return 0;
}

/* TrioConverter.toNoteSequence: melody notes, then bass notes, then drum notes. */
static int
codec_trio_notes(const struct codec *c, const float *y, int *ev, struct seq *out)
{
	int T = c->num_steps, D = c->out_depth, d0 = c->split_depth[0], d1 = c->split_depth[1];

	for (int t = 0; t < T; t++)
		ev[t] = nn_argmax(y + (size_t)t * D, d0);
	if (codec_mel_notes(ev, T, c->min_pitch, 0, 0, out) < 0)
		return -1;
	for (int t = 0; t < T; t++)
		ev[t] = nn_argmax(y + (size_t)t * D + d0, d1);
	if (codec_mel_notes(ev, T, c->bass_min_pitch, 1, CODEC_BASS_PROGRAM, out) < 0)
		return -1;
	for (int t = 0; t < T; t++)
		if (codec_drums_label_notes(c, nn_argmax(y + (size_t)t * D + d0 + d1, c->split_depth[2]),
		    t, 2, out) < 0)
			return -1;
	return 0;
}

int
codec_trio_decode(const struct codec *c, const float *y, struct seq *out, char *err, size_t errlen)
{
	int rc, *ev;

	codec_out_init(out, c->num_steps);
	if (c->type == CODEC_TRIO_RHYTHM)
		rc = codec_trio_rhythm_notes(c, y, out);
	else if ((ev = malloc((size_t)c->num_steps * sizeof *ev)) == NULL)
		rc = -1;
	else {
		rc = codec_trio_notes(c, y, ev, out);
		free(ev);
	}
	return rc < 0 ? err_fail(err, errlen, "out of memory") : 0;
}
