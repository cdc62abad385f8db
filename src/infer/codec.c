/* SPDX-License-Identifier: GPL-3.0-or-later */
/* codec.c: config.json's "dataConverter" -> struct codec, and the encode/decode dispatch. */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "codec.h"
#include "codec_int.h"

#define CODEC_REQUIRED INT_MIN  /* default of a mandatory argument */
#define CODEC_MAX_STEPS 65536

static const char *const codec_names[] = {
	[CODEC_MELODY] = "MelodyConverter",
	[CODEC_DRUMS] = "DrumsConverter",
	[CODEC_DRUMROLL] = "DrumRollConverter",
	[CODEC_DRUMS_ONEHOT] = "DrumsOneHotConverter",
	[CODEC_TRIO] = "TrioConverter",
	[CODEC_TRIO_RHYTHM] = "TrioRhythmConverter",
	[CODEC_GROOVE] = "GrooveConverter",
	[CODEC_MELODY_RHYTHM] = "MelodyRhythmConverter",
	[CODEC_MELODY_SHAPE] = "MelodyShapeConverter",
};
#define CODEC_N_TYPES ((int)(sizeof codec_names / sizeof codec_names[0]))

/* DEFAULT_DRUM_PITCH_CLASSES of magenta.js core/constants.js; 0 ends a list. */
static const int codec_default_classes[CODEC_DRUM_CLASSES][16] = {
	{ 36, 35 },
	{ 38, 27, 28, 31, 32, 33, 34, 37, 39, 40, 56, 65, 66, 75, 85 },
	{ 42, 44, 54, 68, 69, 70, 71, 73, 78, 80 },
	{ 46, 67, 72, 74, 79, 81 },
	{ 45, 29, 41, 61, 64, 84 },
	{ 48, 47, 60, 63, 77, 86, 87 },
	{ 50, 30, 43, 62, 76, 83 },
	{ 49, 55, 57, 58 },
	{ 51, 52, 53, 59, 82 },
};

void
codec_out_init(struct seq *out, int T)
{
	seq_clear(out);
	out->steps_per_quarter = 4;
	out->qpm = 120.0;
	out->total_steps = T;
	out->total_time = T * (60.0 / 120.0 / 4);
}

int
codec_add_note(struct seq *out, int pitch, int start, int end, int instrument, int program, int is_drum)
{
	struct note n = {
		.pitch = pitch, .program = program, .is_drum = is_drum, .instrument = instrument,
		.start = start, .end = end,
		.start_time = start * (60.0 / 120.0 / 4), .end_time = end * (60.0 / 120.0 / 4),
	};

	return seq_add(out, &n);
}

int
codec_is_drums(const struct codec *c)
{
	return c->type == CODEC_DRUMS || c->type == CODEC_DRUMROLL || c->type == CODEC_DRUMS_ONEHOT ||
	    c->type == CODEC_GROOVE;
}

int
codec_is_melody(const struct codec *c)
{
	return c->type == CODEC_MELODY || c->type == CODEC_MELODY_RHYTHM || c->type == CODEC_MELODY_SHAPE;
}

const char *
codec_name(const struct codec *c)
{
	if ((int)c->type < 0 || (int)c->type >= CODEC_N_TYPES)
		return "unknown converter";
	return codec_names[c->type];
}

void
codec_set_drums_js(struct codec *c, int on)
{
	c->drums_js_shift = on != 0;
}

/* JavaScript truthiness of an argument; dflt when the key is absent. */
static int
codec_json_truthy(const json_t *obj, const char *key, int dflt)
{
	const json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return dflt;
	if (json_is_number(v)) {
		double d = json_number_value(v);
		return d != 0 && !isnan(d);
	}
	if (json_is_string(v))
		return json_string_length(v) > 0;
	return json_is_true(v) || json_is_object(v) || json_is_array(v);
}

/* An integer value in lo..hi (integral reals accepted, as JSON.stringify may write 4.0 as 4). */
static int
codec_json_intval(const json_t *v, int lo, int hi, int *out)
{
	double d;

	if (!json_is_number(v))
		return -1;
	d = json_number_value(v);
	if (d != floor(d) || d < lo || d > hi)
		return -1;
	*out = (int)d;
	return 0;
}

static int
codec_bad_int(const char *where, const char *key, int lo, int hi, char *err, size_t errlen)
{
	if (lo == 1 && hi >= CODEC_MAX_STEPS)
		return err_fail(err, errlen, "%s.%s: expected a positive integer", where, key);
	return err_fail(err, errlen, "%s.%s: expected an integer in %d..%d", where, key, lo, hi);
}

/* obj[key] as an integer in lo..hi; dflt when absent or null (CODEC_REQUIRED: an error). */
static int
codec_json_int(const json_t *obj, const char *where, const char *key, int lo, int hi, int dflt, int *out,
    char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v)) {
		if (dflt == CODEC_REQUIRED)
			return codec_bad_int(where, key, lo, hi, err, errlen);
		*out = dflt;
		return 0;
	}
	if (codec_json_intval(v, lo, hi, out) < 0)
		return codec_bad_int(where, key, lo, hi, err, errlen);
	return 0;
}

static const json_t *
codec_json_obj(const json_t *obj, const char *where, const char *key, char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_object(v))
		err_fail(err, errlen, "%s.%s: expected an object", where, key);
	return json_is_object(v) ? v : NULL;
}

/* Fills the class tables from the default lists. */
static void
codec_default_drums(struct codec *c)
{
	c->n_classes = CODEC_DRUM_CLASSES;
	for (int k = 0; k < CODEC_DRUM_CLASSES; k++) {
		int n = 0;
		while (n < 16 && codec_default_classes[k][n] != 0) {
			c->pitch_classes[k][n] = codec_default_classes[k][n];
			n++;
		}
		c->n_class_pitches[k] = n;
	}
}

static int
codec_json_class(struct codec *c, int k, const json_t *list, const char *where, char *err, size_t errlen)
{
	size_t n = json_array_size(list);

	if (!json_is_array(list) || n < 1 || n > CODEC_MAX_CLASS_PITCHES)
		return err_fail(err, errlen, "%s.pitchClasses[%d]: expected a non-empty array of pitches",
		    where, k);
	for (size_t j = 0; j < n; j++)
		if (codec_json_intval(json_array_get(list, j), 0, 127, &c->pitch_classes[k][j]) < 0)
			return err_fail(err, errlen, "%s.pitchClasses[%d][%zu]: expected an integer in 0..127",
			    where, k, j);
	c->n_class_pitches[k] = (int)n;
	return 0;
}

/* args.pitchClasses (or the defaults when absent or falsy) -> class tables. */
static int
codec_json_drums(struct codec *c, const json_t *args, const char *where, char *err, size_t errlen)
{
	const json_t *pc = json_object_get(args, "pitchClasses");

	memset(c->n_class_pitches, 0, sizeof c->n_class_pitches);
	if (!codec_json_truthy(args, "pitchClasses", 0))
		codec_default_drums(c);
	else {
		size_t n = json_array_size(pc);
		if (!json_is_array(pc) || n < 1 || n > CODEC_DRUM_CLASSES)
			return err_fail(err, errlen, "%s.pitchClasses: expected an array of 1..%d pitch lists",
			    where, CODEC_DRUM_CLASSES);
		c->n_classes = (int)n;
		for (int k = 0; k < c->n_classes; k++)
			if (codec_json_class(c, k, json_array_get(pc, (size_t)k), where, err, errlen) < 0)
				return -1;
	}
	memset(c->class_of, -1, sizeof c->class_of);
	for (int k = 0; k < c->n_classes; k++)
		for (int j = 0; j < c->n_class_pitches[k]; j++)
			c->class_of[c->pitch_classes[k][j]] = (signed char)k;
	return 0;
}

/* minPitch / maxPitch / ignorePolyphony of a melody part. */
static int
codec_json_melody(const json_t *args, const char *where, int *lo, int *hi, int *ignore, char *err,
    size_t errlen)
{
	if (codec_json_int(args, where, "minPitch", 0, 127, CODEC_REQUIRED, lo, err, errlen) < 0 ||
	    codec_json_int(args, where, "maxPitch", 0, 127, CODEC_REQUIRED, hi, err, errlen) < 0)
		return -1;
	if (*hi < *lo)
		return err_fail(err, errlen, "%s.maxPitch: %d is below minPitch %d", where, *hi, *lo);
	/* Melody.fromNoteSequence's default parameter replaces only undefined: null means false. */
	*ignore = codec_json_truthy(args, "ignorePolyphony", 1);
	return 0;
}

static int
codec_json_trio(struct codec *c, const json_t *args, char *err, size_t errlen)
{
	const char *w = "dataConverter.args";
	const json_t *mel, *bass, *drums;

	if ((mel = codec_json_obj(args, w, "melArgs", err, errlen)) == NULL ||
	    (bass = codec_json_obj(args, w, "bassArgs", err, errlen)) == NULL ||
	    (drums = codec_json_obj(args, w, "drumsArgs", err, errlen)) == NULL)
		return -1;
	if (codec_json_melody(mel, "dataConverter.args.melArgs", &c->min_pitch, &c->max_pitch,
	    &c->ignore_polyphony, err, errlen) < 0 ||
	    codec_json_melody(bass, "dataConverter.args.bassArgs", &c->bass_min_pitch, &c->bass_max_pitch,
	    &c->bass_ignore_polyphony, err, errlen) < 0 ||
	    codec_json_drums(c, drums, "dataConverter.args.drumsArgs", err, errlen) < 0)
		return -1;
	if (c->type == CODEC_TRIO_RHYTHM) {
		c->in_depth = c->out_depth = 3;
		c->split_depth[0] = c->split_depth[1] = c->split_depth[2] = 1;
	} else {
		c->split_depth[0] = c->max_pitch - c->min_pitch + 3;
		c->split_depth[1] = c->bass_max_pitch - c->bass_min_pitch + 3;
		c->split_depth[2] = 1 << c->n_classes;
		c->in_depth = c->out_depth = c->split_depth[0] + c->split_depth[1] + c->split_depth[2];
	}
	c->n_splits = 3;
	return 0;
}

static int
codec_json_groove(struct codec *c, const json_t *args, char *err, size_t errlen)
{
	const char *w = "dataConverter.args";

	/* `args.stepsPerQuarter || 4`: 0 and null mean the default too. */
	if (codec_json_truthy(args, "stepsPerQuarter", 0)) {
		if (codec_json_int(args, w, "stepsPerQuarter", 1, 960, 4, &c->steps_per_quarter, err,
		    errlen) < 0)
			return -1;
	} else
		c->steps_per_quarter = 4;
	if (codec_json_drums(c, args, w, err, errlen) < 0)
		return -1;
	c->humanize = codec_json_truthy(args, "humanize", 0);
	c->tapify = codec_json_truthy(args, "tapify", 0);
	c->split_instruments = codec_json_truthy(args, "splitInstruments", 0);
	c->in_depth = c->out_depth = 3 * c->n_classes;
	return 0;
}

/* Converter-specific arguments and depths. */
static int
codec_json_args(struct codec *c, const json_t *args, char *err, size_t errlen)
{
	const char *w = "dataConverter.args";

	c->n_splits = 1;
	switch (c->type) {
	case CODEC_MELODY:
	case CODEC_MELODY_RHYTHM:
	case CODEC_MELODY_SHAPE:
		if (codec_json_melody(args, w, &c->min_pitch, &c->max_pitch, &c->ignore_polyphony, err,
		    errlen) < 0)
			return -1;
		c->in_depth = c->type == CODEC_MELODY ? c->max_pitch - c->min_pitch + 3 :
		    c->type == CODEC_MELODY_RHYTHM ? 1 : 3;
		c->out_depth = c->in_depth;
		break;
	case CODEC_DRUMS:
	case CODEC_DRUMROLL:
	case CODEC_DRUMS_ONEHOT:
		if (codec_json_drums(c, args, w, err, errlen) < 0)
			return -1;
		c->in_depth = c->type == CODEC_DRUMS_ONEHOT ? 1 << c->n_classes : c->n_classes + 1;
		c->out_depth = c->type == CODEC_DRUMROLL ? c->n_classes : 1 << c->n_classes;
		break;
	case CODEC_TRIO:
	case CODEC_TRIO_RHYTHM:
		return codec_json_trio(c, args, err, errlen);
	case CODEC_GROOVE:
		if (codec_json_groove(c, args, err, errlen) < 0)
			return -1;
		break;
	}
	c->split_depth[0] = c->out_depth;
	return 0;
}

static int
codec_json_type(struct codec *c, const json_t *dc, char *err, size_t errlen)
{
	const char *type = json_string_value(json_object_get(dc, "type"));

	if (type == NULL)
		return err_fail(err, errlen, "dataConverter.type: expected a string");
	for (int t = 0; t < CODEC_N_TYPES; t++)
		if (strcmp(type, codec_names[t]) == 0) {
			c->type = (enum codec_type)t;
			return 0;
		}
	if (strcmp(type, "MultitrackConverter") == 0)
		return err_fail(err, errlen, "dataConverter.type: MultitrackConverter is an unsupported "
		    "converter (variable-length multi-track models are not implemented)");
	return err_fail(err, errlen, "dataConverter.type: unknown converter '%s'", type);
}

int
codec_from_json(struct codec *c, const json_t *dc, char *err, size_t errlen)
{
	const char *w = "dataConverter.args";
	const json_t *args;

	memset(c, 0, sizeof *c);
	memset(c->class_of, -1, sizeof c->class_of);
	if (!json_is_object(dc))
		return err_fail(err, errlen, "dataConverter: expected an object");
	if (codec_json_type(c, dc, err, errlen) < 0)
		return -1;
	if ((args = codec_json_obj(dc, "dataConverter", "args", err, errlen)) == NULL)
		return -1;
	if (codec_json_int(args, w, "numSteps", 1, CODEC_MAX_STEPS, CODEC_REQUIRED, &c->num_steps, err,
	    errlen) < 0 ||
	    codec_json_int(args, w, "numSegments", 0, CODEC_MAX_STEPS, 0, &c->num_segments, err, errlen) < 0)
		return -1;
	if (c->num_segments > 0 && c->num_steps % c->num_segments != 0)
		return err_fail(err, errlen, "%s.numSegments: %d does not divide numSteps %d", w,
		    c->num_segments, c->num_steps);
	return codec_json_args(c, args, err, errlen);
}

int
codec_encode(const struct codec *c, const struct seq *s, float *x, char *err, size_t errlen)
{
	memset(x, 0, (size_t)c->num_steps * (size_t)c->in_depth * sizeof *x);
	if (c->type != CODEC_GROOVE && s->steps_per_quarter <= 0)
		return err_fail(err, errlen, "the note sequence is not quantized (%s needs steps per quarter)",
		    codec_name(c));
	switch (c->type) {
	case CODEC_MELODY:
	case CODEC_MELODY_RHYTHM:
	case CODEC_MELODY_SHAPE:
		return codec_mel_encode(c, s, x, err, errlen);
	case CODEC_DRUMS:
	case CODEC_DRUMROLL:
	case CODEC_DRUMS_ONEHOT:
		return codec_drums_encode(c, s, x, err, errlen);
	case CODEC_TRIO:
	case CODEC_TRIO_RHYTHM:
		return codec_trio_encode(c, s, x, err, errlen);
	case CODEC_GROOVE:
		return codec_groove_encode(c, s, x, err, errlen);
	}
	return err_fail(err, errlen, "unknown converter type %d", (int)c->type);
}

int
codec_decode(const struct codec *c, const float *y, struct seq *out, char *err, size_t errlen)
{
	int r = -1;

	switch (c->type) {
	case CODEC_MELODY:
	case CODEC_MELODY_RHYTHM:
	case CODEC_MELODY_SHAPE:
		r = codec_mel_decode(c, y, out, err, errlen);
		break;
	case CODEC_DRUMS:
	case CODEC_DRUMROLL:
	case CODEC_DRUMS_ONEHOT:
		r = codec_drums_decode(c, y, out, err, errlen);
		break;
	case CODEC_TRIO:
	case CODEC_TRIO_RHYTHM:
		r = codec_trio_decode(c, y, out, err, errlen);
		break;
	case CODEC_GROOVE:
		r = codec_groove_decode(c, y, out, err, errlen);
		break;
	}
	return r;
}
