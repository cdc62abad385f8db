/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ctrl.c: config.json's control spec and the control rows [T, C] magenta.js's controlArgsToTensor builds. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ctrl.h"
#include "err.h"

#define CTRL_MAX_DEPTH 4096     /* bound on one extra control's columns */

/* JavaScript truthiness of a config value (absent = false). */
static int
ctrl_truthy(const json_t *v)
{
	if (v == NULL)
		return 0;
	if (json_is_number(v))
		return json_number_value(v) != 0 && !isnan(json_number_value(v));
	if (json_is_string(v))
		return json_string_length(v) > 0;
	return json_is_true(v) || json_is_object(v) || json_is_array(v);
}

static int
ctrl_json_encoder(struct ctrl_spec *spec, const json_t *v, char *err, size_t errlen)
{
	static const char *const names[] = {
		[CTRL_CHORDS_MAJOR_MINOR] = "MajorMinorChordEncoder",
		[CTRL_CHORDS_TRIAD] = "TriadChordEncoder",
		[CTRL_CHORDS_PITCH] = "PitchChordEncoder",
	};
	const char *s = json_string_value(v);

	spec->chords = CTRL_CHORDS_NONE;
	if (!ctrl_truthy(v))
		return 0;
	for (int e = CTRL_CHORDS_MAJOR_MINOR; s != NULL && e <= CTRL_CHORDS_PITCH; e++)
		if (strcmp(s, names[e]) == 0) {
			spec->chords = (enum ctrl_chord_encoder)e;
			return 0;
		}
	return err_fail(err, errlen, "chordEncoder: unknown chord encoder type%s%s%s (expected "
	    "MajorMinorChordEncoder, TriadChordEncoder or PitchChordEncoder)", s ? " '" : "", s ? s : "",
	    s ? "'" : "");
}

static int
ctrl_json_extra(struct ctrl_spec *spec, const json_t *list, char *err, size_t errlen)
{
	size_t n = json_array_size(list);

	spec->n_extra = 0;
	if (!ctrl_truthy(list))
		return 0;
	if (!json_is_array(list) || n > CTRL_MAX_EXTRA)
		return err_fail(err, errlen, "extraControls: expected an array of at most %d {name, depth} objects",
		    CTRL_MAX_EXTRA);
	for (size_t i = 0; i < n; i++) {
		const json_t *c = json_array_get(list, i), *d = json_object_get(c, "depth");
		const char *name = json_string_value(json_object_get(c, "name"));
		double v = json_is_number(d) ? json_number_value(d) : -1;
		if (name == NULL || strlen(name) >= CTRL_NAME_MAX)
			return err_fail(err, errlen, "extraControls[%zu].name: expected a string of at most %d "
			    "bytes", i, CTRL_NAME_MAX - 1);
		if (v != floor(v) || v < 1 || v > CTRL_MAX_DEPTH)
			return err_fail(err, errlen, "extraControls[%zu].depth: expected an integer in 1..%d", i,
			    CTRL_MAX_DEPTH);
		snprintf(spec->extra_name[i], CTRL_NAME_MAX, "%s", name);
		spec->extra_depth[i] = (int)v;
		spec->n_extra++;
	}
	return 0;
}

int
ctrl_from_json(struct ctrl_spec *spec, const json_t *config, char *err, size_t errlen)
{
	memset(spec, 0, sizeof *spec);
	if (!json_is_object(config))
		return err_fail(err, errlen, "config: expected a JSON object");
	if (ctrl_json_encoder(spec, json_object_get(config, "chordEncoder"), err, errlen) < 0)
		return -1;
	spec->condition_on_key = ctrl_truthy(json_object_get(config, "conditionOnKey"));
	return ctrl_json_extra(spec, json_object_get(config, "extraControls"), err, errlen);
}

static int
ctrl_extra_depth(const struct ctrl_spec *spec)
{
	int d = 0;

	for (int i = 0; i < spec->n_extra; i++)
		d += spec->extra_depth[i];
	return d;
}

int
ctrl_depth(const struct ctrl_spec *spec)
{
	return ctrl_chord_depth(spec->chords) + (spec->condition_on_key ? CTRL_KEYS : 0) + ctrl_extra_depth(spec);
}

/* magenta.js's checkControlArgs, plus a key range check (tf.oneHot would silently write a zero row). */
static int
ctrl_check(const struct ctrl_spec *spec, int num_steps, int n_chords, int key, const float *extra, char *err,
    size_t errlen)
{
	if (num_steps < 1)
		return err_fail(err, errlen, "control rows: %d steps", num_steps);
	if (spec->chords != CTRL_CHORDS_NONE && n_chords < 1)
		return err_fail(err, errlen, "Chord progression expected but not provided.");
	if (spec->chords == CTRL_CHORDS_NONE && n_chords > 0)
		return err_fail(err, errlen, "Unexpected chord progression provided.");
	if (spec->condition_on_key && key < 0)
		return err_fail(err, errlen, "Key expected but not provided.");
	if (!spec->condition_on_key && key >= 0)
		return err_fail(err, errlen, "Unexpected key provided.");
	if (key >= CTRL_KEYS)
		return err_fail(err, errlen, "key %d: expected 0 (C) .. 11 (B)", key);
	if (spec->n_extra > 0 && extra == NULL)
		return err_fail(err, errlen, "Missing control signal: %s", spec->extra_name[0]);
	return 0;
}

/*
 * tf.concat2d gives the result the FIRST tensor's dtype: when that is an int32 one-hot (MajorMinor/Triad chords,
 * PitchChordEncoder's progressions of N.C. only, or the key without chords) magenta.js truncates the extra
 * controls towards zero. Mirrored here so encoder and decoder see what magenta.js feeds them.
 */
static int
ctrl_int32(const struct ctrl_spec *spec, const char *const *chords, int n_chords)
{
	if (spec->chords == CTRL_CHORDS_PITCH) {
		for (int i = 0; i < n_chords; i++)
			if (strcmp(chords[i], CTRL_NO_CHORD) != 0)
				return 0;
		return 1;
	}
	return spec->chords != CTRL_CHORDS_NONE || spec->condition_on_key;
}

int
ctrl_build(const struct ctrl_spec *spec, int num_steps, const char *const *chords, int n_chords, int key,
    const float *extra, float *out, char *err, size_t errlen)
{
	int C = ctrl_depth(spec), CD = ctrl_chord_depth(spec->chords), E = ctrl_extra_depth(spec);
	int trunc = ctrl_int32(spec, chords, n_chords);
	float scratch[64];

	if (ctrl_check(spec, num_steps, n_chords, key, extra, err, errlen) < 0)
		return -1;
	/* encodeProgression encodes every chord first: the first bad symbol is the one reported. */
	for (int i = 0; i < n_chords && CD > 0; i++)
		if (ctrl_chord_encode(spec->chords, chords[i], scratch, err, errlen) < 0)
			return -1;
	memset(out, 0, (size_t)num_steps * (size_t)C * sizeof *out);
	for (int s = 0; s < num_steps; s++) {
		float *row = out + (size_t)s * C;
		if (CD > 0)
			ctrl_chord_encode(spec->chords, chords[(long long)s * n_chords / num_steps], row, err,
			    errlen);
		if (spec->condition_on_key)
			row[CD + key] = 1;
		for (int j = 0; j < E; j++) {
			float v = extra[(size_t)s * E + j];
			row[CD + (spec->condition_on_key ? CTRL_KEYS : 0) + j] = trunc ? truncf(v) : v;
		}
	}
	return 0;
}
