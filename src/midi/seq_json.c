/* SPDX-License-Identifier: GPL-3.0-or-later */
/* seq_json.c: note sequences in magenta's NoteSequence JSON form, in and out (jansson). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "seq_json.h"

/* ---- JSON in ----------------------------------------------------------------------------- */

/* protobuf-js writes int64 fields as decimal strings and plain objects hold numbers; both are accepted.
 * Returns 1 when present and valid, 0 when absent, -1 when of the wrong kind. */
static int
seq_json_int(const json_t *obj, const char *key, long long *out)
{
	const json_t *v = json_object_get(obj, key);
	const char *str;
	char *end;
	double d;

	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 1;
	}
	if (json_is_real(v)) {
		d = json_real_value(v);
		if (d != floor(d) || fabs(d) > 1e15)
			return -1;
		*out = (long long)d;
		return 1;
	}
	if (!json_is_string(v))
		return -1;
	str = json_string_value(v);
	errno = 0;
	*out = strtoll(str, &end, 10);
	return (end == str || *end != '\0' || errno != 0) ? -1 : 1;
}

/* Numbers only; protobuf-js writes non-finite doubles as strings ("NaN"), which are rejected as such. */
static int
seq_json_num(const json_t *obj, const char *key, double *out)
{
	const json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_number(v))
		return -1;
	*out = json_number_value(v);
	return isfinite(*out) ? 1 : -1;
}

static int
seq_json_bool(const json_t *obj, const char *key, int *out)
{
	const json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return -1;
	*out = json_is_true(v);
	return 1;
}

struct seq_int_field {
	const char *key;
	long long min, max;
	int required;
};

/* Reads one bounded integer field into *out (untouched when absent). */
static int
seq_json_field(const json_t *obj, const struct seq_int_field *f, int *out, const char *where,
    char *err, size_t errlen)
{
	long long v;
	int r = seq_json_int(obj, f->key, &v);

	if (r == 0 && !f->required)
		return 0;
	if (r == 0) {
		err_set(err, errlen, "%s: missing %s", where, f->key);
		return -1;
	}
	if (r == -1) {
		err_set(err, errlen, "%s: %s: expected an integer", where, f->key);
		return -1;
	}
	if (v < f->min || v > f->max) {
		err_set(err, errlen, "%s: %s %lld out of range %lld..%lld", where, f->key, v, f->min, f->max);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static const struct seq_int_field seq_note_fields[] = {
	{ "pitch", 0, 127, 1 },
	{ "velocity", 0, 127, 0 },
	{ "program", 0, 127, 0 },
	{ "instrument", 0, INT_MAX, 0 },
	{ "quantizedStartStep", 0, SEQ_MAX_STEPS, 0 },
	{ "quantizedEndStep", 0, SEQ_MAX_STEPS, 0 },
};

static int
seq_note_times(const json_t *jn, struct note *n, const char *where, char *err, size_t errlen)
{
	static const char *const keys[2] = { "startTime", "endTime" };
	double *dst[2] = { &n->start_time, &n->end_time };

	for (int k = 0; k < 2; k++) {
		if (seq_json_num(jn, keys[k], dst[k]) == -1) {
			err_set(err, errlen, "%s: %s: expected a finite number", where, keys[k]);
			return -1;
		}
	}
	/* A negative time is what magenta.js's GrooveConverter gives a first-step hit played early; quantizing
	 * rounds it to step 0 (seq_quantize refuses a time that would land before it). */
	if (n->end_time < n->start_time) {
		err_set(err, errlen, "%s: endTime %g before startTime %g", where, n->end_time, n->start_time);
		return -1;
	}
	return 0;
}

static int
seq_note_from_json(const json_t *jn, size_t idx, struct note *n, char *err, size_t errlen)
{
	int *dst[] = { &n->pitch, &n->velocity, &n->program, &n->instrument, &n->start, &n->end };
	char where[48];

	snprintf(where, sizeof where, "note %zu", idx);
	memset(n, 0, sizeof *n);
	if (!json_is_object(jn)) {
		err_set(err, errlen, "%s: expected an object", where);
		return -1;
	}
	for (size_t k = 0; k < sizeof seq_note_fields / sizeof seq_note_fields[0]; k++)
		if (seq_json_field(jn, &seq_note_fields[k], dst[k], where, err, errlen) == -1)
			return -1;
	if (n->end < n->start) {
		err_set(err, errlen, "%s: quantizedEndStep %d before quantizedStartStep %d", where, n->end, n->start);
		return -1;
	}
	if (seq_json_bool(jn, "isDrum", &n->is_drum) == -1) {
		err_set(err, errlen, "%s: isDrum: expected true or false", where);
		return -1;
	}
	return seq_note_times(jn, n, where, err, errlen);
}

/* quantizationInfo.stepsPerQuarter, tempos[0].qpm, totalQuantizedSteps, totalTime. */
static int
seq_header_from_json(struct seq *s, const json_t *ns, char *err, size_t errlen)
{
	static const struct seq_int_field spq = { "stepsPerQuarter", 0, 960, 0 };
	static const struct seq_int_field total = { "totalQuantizedSteps", 0, SEQ_MAX_STEPS, 0 };
	const json_t *qi = json_object_get(ns, "quantizationInfo");
	const json_t *tempos = json_object_get(ns, "tempos");
	const json_t *t0 = json_array_get(tempos, 0);

	if (qi != NULL && !json_is_object(qi)) {
		err_set(err, errlen, "quantizationInfo: expected an object");
		return -1;
	}
	if (qi != NULL && seq_json_field(qi, &spq, &s->steps_per_quarter, "quantizationInfo", err, errlen) == -1)
		return -1;
	if (tempos != NULL && (!json_is_array(tempos) || (t0 != NULL && !json_is_object(t0)))) {
		err_set(err, errlen, "tempos: expected an array of objects");
		return -1;
	}
	if (t0 != NULL && (seq_json_num(t0, "qpm", &s->qpm) == -1 || s->qpm <= 0 || s->qpm > 1e6)) {
		err_set(err, errlen, "tempos[0]: qpm: expected a number in (0, 1e6]");
		return -1;
	}
	if (seq_json_field(ns, &total, &s->total_steps, "sequence", err, errlen) == -1)
		return -1;
	if (seq_json_num(ns, "totalTime", &s->total_time) == -1 || s->total_time < 0) {
		err_set(err, errlen, "sequence: totalTime: expected a finite number >= 0");
		return -1;
	}
	return 0;
}

static int
seq_notes_from_json(struct seq *s, const json_t *notes, char *err, size_t errlen)
{
	struct note n;

	if (notes == NULL)
		return 0;
	if (!json_is_array(notes)) {
		err_set(err, errlen, "notes: expected an array");
		return -1;
	}
	if (json_array_size(notes) > SEQ_MAX_NOTES) {
		err_set(err, errlen, "notes: %zu notes, more than the limit of %d", json_array_size(notes),
		    SEQ_MAX_NOTES);
		return -1;
	}
	for (size_t i = 0; i < json_array_size(notes); i++) {
		if (seq_note_from_json(json_array_get(notes, i), i, &n, err, errlen) == -1)
			return -1;
		if (seq_add(s, &n) == -1) {
			err_set(err, errlen, "note %zu: out of memory", i);
			return -1;
		}
		if (n.end > s->total_steps)
			s->total_steps = n.end;
		if (n.end_time > s->total_time)
			s->total_time = n.end_time;
	}
	return 0;
}

int
seq_from_json(struct seq *s, const json_t *ns, char *err, size_t errlen)
{
	seq_clear(s);
	s->steps_per_quarter = 0;
	s->qpm = SEQ_DEFAULT_QPM;
	s->total_steps = 0;
	s->total_time = 0;
	if (!json_is_object(ns)) {
		err_set(err, errlen, "note sequence: expected a JSON object");
		return -1;
	}
	if (seq_header_from_json(s, ns, err, errlen) == -1 ||
	    seq_notes_from_json(s, json_object_get(ns, "notes"), err, errlen) == -1) {
		seq_clear(s);
		return -1;
	}
	return 0;
}

/* ---- JSON out ---------------------------------------------------------------------------- */

static json_t *
seq_note_to_json(const struct seq *s, const struct note *n)
{
	json_t *o = json_object();
	int bad = o == NULL;

	bad |= json_object_set_new(o, "pitch", json_integer(n->pitch));
	if (n->velocity > 0)
		bad |= json_object_set_new(o, "velocity", json_integer(n->velocity));
	bad |= json_object_set_new(o, "program", json_integer(n->program));
	bad |= json_object_set_new(o, "instrument", json_integer(n->instrument));
	bad |= json_object_set_new(o, "isDrum", json_boolean(n->is_drum));
	if (s->steps_per_quarter > 0) {
		bad |= json_object_set_new(o, "quantizedStartStep", json_integer(n->start));
		bad |= json_object_set_new(o, "quantizedEndStep", json_integer(n->end));
	}
	if (n->start_time != 0 || n->end_time != 0) {
		bad |= json_object_set_new(o, "startTime", json_real(n->start_time));
		bad |= json_object_set_new(o, "endTime", json_real(n->end_time));
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int
seq_header_to_json(const struct seq *s, json_t *o)
{
	json_t *tempo = json_pack("[{s:f}]", "qpm", s->qpm);
	int bad = tempo == NULL;

	bad |= json_object_set_new(o, "tempos", tempo);
	if (s->steps_per_quarter > 0) {
		bad |= json_object_set_new(o, "quantizationInfo",
		    json_pack("{s:i}", "stepsPerQuarter", s->steps_per_quarter));
		bad |= json_object_set_new(o, "totalQuantizedSteps", json_integer(s->total_steps));
	}
	if (s->total_time > 0)
		bad |= json_object_set_new(o, "totalTime", json_real(s->total_time));
	return bad ? -1 : 0;
}

json_t *
seq_to_json(const struct seq *s)
{
	json_t *o = json_object(), *notes = json_array();
	int bad = o == NULL || notes == NULL;

	for (size_t i = 0; !bad && i < s->n; i++)
		bad |= json_array_append_new(notes, seq_note_to_json(s, &s->notes[i]));
	bad |= json_object_set_new(o, "notes", notes);
	if (bad || seq_header_to_json(s, o) == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
}
