/* SPDX-License-Identifier: GPL-3.0-or-later */
/* codec_drums.c: the Drums, DrumRoll and DrumsOneHot converters (drum rolls, 2^K-class labels). */
#include <stdlib.h>
#include <string.h>

#include "codec_int.h"

#define CODEC_NAN_LABEL (-1L)   /* magenta.js's NaN label (unknown pitch): becomes class 0 in tf.oneHot */

static int
codec_drums_class(const struct codec *c, int pitch)
{
	return pitch >= 0 && pitch < 128 ? c->class_of[pitch] : -1;
}

/*
 * magenta.js writes the "no hit" flag with buffer.set(v, step, -1), i.e. flat index step*D - 1: column K of
 * row step-1 (nothing for step 0). Python Magenta flags row t when step t has no hit of a known class.
 */
void
codec_drums_roll(const struct codec *c, const struct seq *s, float *x)
{
	int T = c->num_steps, K = c->n_classes, D = K + 1, js = c->drums_js_shift;

	for (int t = js; t < T; t++)
		x[(size_t)t * D + (js ? -1 : K)] = 1;
	for (size_t i = 0; i < s->n; i++) {
		int st = s->notes[i].start, k = codec_drums_class(c, s->notes[i].pitch);
		if (st < 0)
			continue;
		if (k >= 0 && st < T)
			x[(size_t)st * D + k] = 1;
		if (js && st >= 1 && st <= T)
			x[(size_t)st * D - 1] = 0;
		else if (!js && k >= 0 && st < T)
			x[(size_t)st * D + K] = 0;
	}
}

int
codec_drums_labels(const struct codec *c, const struct seq *s, const size_t *sel, size_t n, long *labels,
    char *err, size_t errlen)
{
	int T = c->num_steps;

	memset(labels, 0, (size_t)T * sizeof *labels);
	for (size_t i = 0; i < n; i++) {
		const struct note *nt = &s->notes[sel ? sel[i] : i];
		int k = codec_drums_class(c, nt->pitch);
		if (nt->start < 0)
			continue;
		/* magenta.js grows its label array here and then fails (Trio: tf.concat shape mismatch). */
		if (nt->start >= T)
			return err_fail(err, errlen, "drum note at step %d starts past the model's %d steps "
			    "(magenta.js fails on it too)", nt->start, T);
		if (k < 0)
			labels[nt->start] = CODEC_NAN_LABEL;
		else if (labels[nt->start] != CODEC_NAN_LABEL)
			labels[nt->start] += 1L << k;   /* two notes of one class add twice, as in magenta.js */
	}
	return 0;
}

void
codec_drums_onehot(const long *labels, int T, int depth, float *x, int stride)
{
	for (int t = 0; t < T; t++) {
		long l = labels[t] == CODEC_NAN_LABEL ? 0 : labels[t];
		if (l < depth)
			x[(size_t)t * stride + l] = 1;
	}
}

int
codec_drums_encode(const struct codec *c, const struct seq *s, float *x, char *err, size_t errlen)
{
	long *labels;
	int rc;

	if (c->type != CODEC_DRUMS_ONEHOT) {
		codec_drums_roll(c, s, x);
		return 0;
	}
	if ((labels = malloc((size_t)c->num_steps * sizeof *labels)) == NULL)
		return err_fail(err, errlen, "out of memory");
	rc = codec_drums_labels(c, s, NULL, s->n, labels, err, errlen);
	if (rc == 0)
		codec_drums_onehot(labels, c->num_steps, c->in_depth, x, c->in_depth);
	free(labels);
	return rc;
}

int
codec_drums_label_notes(const struct codec *c, long label, int s, int instrument, struct seq *out)
{
	for (int p = 0; p < c->n_classes; p++)
		if ((label >> p & 1) &&
		    codec_add_note(out, c->pitch_classes[p][0], s, s + 1, instrument, 0, 1) < 0)
			return -1;
	return 0;
}

int
codec_drums_decode(const struct codec *c, const float *y, struct seq *out, char *err, size_t errlen)
{
	int T = c->num_steps, K = c->n_classes, D = c->out_depth, rc = 0;

	codec_out_init(out, T);
	for (int t = 0; t < T && rc == 0; t++) {
		const float *row = y + (size_t)t * D;
		if (c->type != CODEC_DRUMROLL) {
			rc = codec_drums_label_notes(c, nn_argmax(row, D), t, 0, out);
			continue;
		}
		for (int p = 0; p < K && rc == 0; p++)
			if (row[p] != 0 && row[p] == row[p])
				rc = codec_add_note(out, c->pitch_classes[p][0], t, t + 1, 0, 0, 1);
	}
	return rc < 0 ? err_fail(err, errlen, "out of memory") : 0;
}
