/* SPDX-License-Identifier: GPL-3.0-or-later */
/* codec_ref.c: golden comparison of the converters and control encoders against magenta.js's own output. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "codec.h"
#include "seq_json.h"
#include "codec_ref.h"
#include "ctrl.h"
#include "seq.h"
#include "tap.h"

#define REF_SHOW 3      /* mismatches described per group */

/* Mismatch counter of one group: the first few are described with diag. */
struct ref_group {
	int bad, n;
};

static void __attribute__((format(printf, 2, 3)))
ref_bad(struct ref_group *g, const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	if (g->bad++ >= REF_SHOW)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	diag("%s", msg);
}

/* Dense float array [n] from [[index, value], ...]; NULL on a bad index. */
static float *
ref_dense(const json_t *pairs, size_t n)
{
	float *v = calloc(n ? n : 1, sizeof *v);
	size_t i;
	json_t *p;

	json_array_foreach(pairs, i, p) {
		json_int_t k = json_integer_value(json_array_get(p, 0));
		if (v == NULL || k < 0 || (size_t)k >= n) {
			free(v);
			return NULL;
		}
		v[k] = (float)json_number_value(json_array_get(p, 1));
	}
	return v;
}

/* magenta.js messages our errors must contain (others, e.g. tfjs shape errors, only need an error). */
static int
ref_same_error(const char *js, const char *ours)
{
	static const char *const exact[] = { "`NoteSequence`", "Model does not support", "Chord", "Unrecognized",
		"Unexpected", "Key expected", "Missing control" };

	for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
		if (strncmp(js, exact[i], strlen(exact[i])) == 0)
			return strstr(ours, js) != NULL;
	return 1;
}

static void
ref_encode_one(const struct codec *c, const json_t *tc, size_t idx, float *x, struct ref_group *g)
{
	const char *want_err = json_string_value(json_object_get(tc, "error"));
	size_t n = (size_t)c->num_steps * c->in_depth;
	double tol = c->type == CODEC_GROOVE ? 1e-6 : 0;
	char err[512] = "";
	struct seq s;
	float *want;
	int rc;

	seq_init(&s);
	if (seq_from_json(&s, json_object_get(tc, "ns"), err, sizeof err) < 0) {
		ref_bad(g, "encode %zu: seq_from_json: %s", idx, err);
		seq_fini(&s);
		return;
	}
	rc = codec_encode(c, &s, x, err, sizeof err);
	seq_fini(&s);
	if (want_err != NULL) {
		if (rc == 0 || !ref_same_error(want_err, err))
			ref_bad(g, "encode %zu: magenta.js fails with \"%s\", we %s \"%s\"", idx, want_err,
			    rc == 0 ? "succeed" : "fail with", err);
		return;
	}
	if (rc < 0) {
		ref_bad(g, "encode %zu: unexpected error: %s", idx, err);
		return;
	}
	if ((want = ref_dense(json_object_get(tc, "x"), n)) == NULL) {
		ref_bad(g, "encode %zu: bad x in the reference file", idx);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (!(fabs(x[i] - want[i]) <= tol)) {
			ref_bad(g, "encode %zu: x[%zu][%zu] = %.9g, magenta.js %.9g", idx, i / c->in_depth,
			    i % c->in_depth, x[i], want[i]);
			break;
		}
	free(want);
}

static long long
ref_int(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_true(v) ? 1 : json_is_integer(v) ? json_integer_value(v) : 0;
}

static double
ref_num(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : 0;
}

/* One decoded note against magenta.js's; returns 0 when equal. */
static int
ref_note_diff(const struct note *n, const json_t *w, int quantized)
{
	if (n->pitch != ref_int(w, "pitch") || n->velocity != ref_int(w, "velocity") ||
	    n->program != ref_int(w, "program") || n->instrument != ref_int(w, "instrument") ||
	    n->is_drum != ref_int(w, "isDrum"))
		return 1;
	if (quantized)
		return n->start != ref_int(w, "quantizedStartStep") || n->end != ref_int(w, "quantizedEndStep");
	return fabs(n->start_time - ref_num(w, "startTime")) > 1e-12 ||
	    fabs(n->end_time - ref_num(w, "endTime")) > 1e-12;
}

static void
ref_decode_one(const struct codec *c, const json_t *tc, size_t idx, struct ref_group *g)
{
	const json_t *notes = json_object_get(tc, "notes");
	float *y = ref_dense(json_object_get(tc, "y"), (size_t)c->num_steps * c->out_depth);
	int quantized = c->type != CODEC_GROOVE;
	char err[512];
	struct seq s;

	seq_init(&s);
	if (y == NULL || codec_decode(c, y, &s, err, sizeof err) < 0)
		ref_bad(g, "decode %zu: %s", idx, y ? err : "bad y in the reference file");
	else if (s.n != json_array_size(notes))
		ref_bad(g, "decode %zu: %zu notes, magenta.js %zu", idx, s.n, json_array_size(notes));
	else if (quantized ? s.total_steps != ref_int(tc, "totalQuantizedSteps") || s.steps_per_quarter != 4 :
	    fabs(s.total_time - ref_num(tc, "totalTime")) > 1e-12 || s.steps_per_quarter != 0)
		ref_bad(g, "decode %zu: total %d steps / %g s, magenta.js %lld / %g", idx, s.total_steps,
		    s.total_time, ref_int(tc, "totalQuantizedSteps"), ref_num(tc, "totalTime"));
	else
		for (size_t i = 0; i < s.n; i++)
			if (ref_note_diff(&s.notes[i], json_array_get(notes, i), quantized)) {
				char *want = json_dumps(json_array_get(notes, i), JSON_COMPACT);
				ref_bad(g, "decode %zu: note %zu: pitch %d vel %d prog %d instr %d drum %d steps "
				    "%d..%d time %.17g..%.17g, magenta.js %s", idx, i, s.notes[i].pitch,
				    s.notes[i].velocity, s.notes[i].program, s.notes[i].instrument, s.notes[i].is_drum,
				    s.notes[i].start, s.notes[i].end, s.notes[i].start_time, s.notes[i].end_time,
				    want ? want : "?");
				free(want);
				break;
			}
	seq_fini(&s);
	free(y);
}

static void
ref_codec(const json_t *cs)
{
	const char *name = json_string_value(json_object_get(cs, "name"));
	const json_t *enc = json_object_get(cs, "encode"), *dec = json_object_get(cs, "decode"), *tc;
	struct ref_group ge = { 0, 0 }, gd = { 0, 0 };
	struct codec c;
	char err[512];
	float *x;
	size_t i;

	if (codec_from_json(&c, json_object_get(cs, "converter"), err, sizeof err) < 0) {
		ok(0, "%s: codec_from_json: %s", name, err);
		ok(0, "%s: decode", name);
		return;
	}
	codec_set_drums_js(&c, (int)ref_int(cs, "drums_js"));
	x = malloc((size_t)c.num_steps * c.in_depth * sizeof *x);
	json_array_foreach(enc, i, tc) {
		ref_encode_one(&c, tc, i, x, &ge);
		ge.n++;
	}
	free(x);
	json_array_foreach(dec, i, tc) {
		ref_decode_one(&c, tc, i, &gd);
		gd.n++;
	}
	ok(ge.bad == 0, "%s (%s): %d toTensor cases match magenta.js (%d differ)", name, codec_name(&c), ge.n,
	    ge.bad);
	ok(gd.bad == 0, "%s (%s): %d toNoteSequence cases match magenta.js (%d differ)", name, codec_name(&c),
	    gd.n, gd.bad);
}

static enum ctrl_chord_encoder
ref_encoder(const char *name)
{
	if (name == NULL)
		return CTRL_CHORDS_NONE;
	if (strcmp(name, "MajorMinorChordEncoder") == 0)
		return CTRL_CHORDS_MAJOR_MINOR;
	if (strcmp(name, "TriadChordEncoder") == 0)
		return CTRL_CHORDS_TRIAD;
	return strcmp(name, "PitchChordEncoder") == 0 ? CTRL_CHORDS_PITCH : CTRL_CHORDS_NONE;
}

/* Compares our floats [n] with a JSON array of magenta.js's; returns the first differing index or -1. */
static long
ref_row_diff(const float *got, const json_t *want, size_t n)
{
	if (json_array_size(want) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (got[i] != (float)json_number_value(json_array_get(want, i)))
			return (long)i;
	return -1;
}

static void
ref_chords(const json_t *cases)
{
	struct ref_group g = { 0, 0 };
	const json_t *tc;
	size_t i;

	json_array_foreach(cases, i, tc) {
		enum ctrl_chord_encoder e = ref_encoder(json_string_value(json_object_get(tc, "encoder")));
		const char *sym = json_string_value(json_object_get(tc, "symbol"));
		const char *want_err = json_string_value(json_object_get(tc, "error"));
		float row[64];
		char err[512] = "";
		int rc = ctrl_chord_encode(e, sym, row, err, sizeof err);
		g.n++;
		if (want_err != NULL) {
			if (rc == 0 || !ref_same_error(want_err, err))
				ref_bad(&g, "chord %zu '%s': magenta.js fails with \"%s\", we %s \"%s\"", i, sym, want_err,
				    rc == 0 ? "succeed" : "fail with", err);
		} else if (rc < 0)
			ref_bad(&g, "chord %zu '%s': unexpected error: %s", i, sym, err);
		else if (ref_row_diff(row, json_object_get(tc, "row"), (size_t)ctrl_chord_depth(e)) >= 0)
			ref_bad(&g, "chord %zu '%s' (%s): encoding differs at column %ld", i, sym,
			    json_string_value(json_object_get(tc, "encoder")),
			    ref_row_diff(row, json_object_get(tc, "row"), (size_t)ctrl_chord_depth(e)));
	}
	ok(g.bad == 0, "chord symbols: %d encodings match magenta.js (%d differ)", g.n, g.bad);
}

/* One control case: spec from config, rows from ctrl_build. */
static void
ref_control_one(const json_t *tc, size_t idx, struct ref_group *g)
{
	const json_t *jc = json_object_get(tc, "chords"), *je = json_object_get(tc, "extra");
	const char *want_err = json_string_value(json_object_get(tc, "error")), *chords[64];
	int T = (int)ref_int(tc, "numSteps"), n = (int)json_array_size(jc), key = (int)ref_int(tc, "key");
	float *extra = NULL, *out = NULL;
	struct ctrl_spec spec;
	char err[512] = "";
	int rc = -1;

	for (int i = 0; i < n && i < 64; i++)
		chords[i] = json_string_value(json_array_get(jc, (size_t)i));
	if (ctrl_from_json(&spec, json_object_get(tc, "config"), err, sizeof err) == 0) {
		out = calloc((size_t)T * (ctrl_depth(&spec) + 1), sizeof *out);
		extra = json_is_array(je) ? calloc(json_array_size(je) + 1, sizeof *extra) : NULL;
		for (size_t i = 0; extra != NULL && i < json_array_size(je); i++)
			extra[i] = (float)json_number_value(json_array_get(je, i));
		rc = ctrl_build(&spec, T, chords, n, key, extra, out, err, sizeof err);
	}
	if (want_err != NULL && strstr(want_err, "matching dtypes") != NULL) {
		if (rc < 0)     /* magenta.js cannot stack PitchChordEncoder's int N.C. with float chords; we can */
			ref_bad(g, "controls %zu: N.C. mixed with chords: %s", idx, err);
	} else if (want_err != NULL) {
		if (rc == 0 || !ref_same_error(want_err, err))
			ref_bad(g, "controls %zu: magenta.js fails with \"%s\", we %s \"%s\"", idx, want_err,
			    rc == 0 ? "succeed" : "fail with", err);
	} else if (rc < 0)
		ref_bad(g, "controls %zu: unexpected error: %s", idx, err);
	else if (ref_row_diff(out, json_object_get(tc, "out"), (size_t)T * ctrl_depth(&spec)) >= 0)
		ref_bad(g, "controls %zu: rows differ at flat index %ld", idx,
		    ref_row_diff(out, json_object_get(tc, "out"), (size_t)T * ctrl_depth(&spec)));
	free(extra);
	free(out);
}

static void
ref_controls(const json_t *cases)
{
	struct ref_group g = { 0, 0 };
	const json_t *tc;
	size_t i;

	json_array_foreach(cases, i, tc) {
		ref_control_one(tc, i, &g);
		g.n++;
	}
	ok(g.bad == 0, "control tensors: %d cases match magenta.js controlArgsToTensor (%d differ)", g.n, g.bad);
}

int
codec_ref_run(const char *path)
{
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je), *codecs, *cs;
	size_t i;

	if (root == NULL) {
		printf("1..1\nnot ok 1 - %s:%d: %s\n", path, je.line, je.text);
		return 1;
	}
	codecs = json_object_get(root, "codecs");
	plan((int)(2 * json_array_size(codecs) + 2));
	diag("reference data %s (seed %lld)", path, ref_int(root, "seed"));
	json_array_foreach(codecs, i, cs)
		ref_codec(cs);
	ref_chords(json_object_get(root, "chords"));
	ref_controls(json_object_get(root, "controls"));
	json_decref(root);
	return done_testing();
}
