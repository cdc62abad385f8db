/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_codec.c: hand-checked converter and control cases; with --ref FILE, the golden comparison with magenta.js. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "codec.h"
#include "codec_ref.h"
#include "ctrl.h"
#include "seq.h"
#include "tap.h"

static float x[64 * 700], y[64 * 700];
static char err[512];

/* A converter from its dataConverter JSON; fails the run on a bad fixture. */
static struct codec
conv(const char *spec)
{
	json_t *j = json_loads(spec, 0, NULL);
	struct codec c;

	if (j == NULL || codec_from_json(&c, j, err, sizeof err) < 0) {
		diag("fixture %s: %s", spec, j ? err : "bad JSON");
		exit(1);
	}
	json_decref(j);
	return c;
}

/* codec_from_json's error for spec ("" when it succeeds). */
static const char *
conv_err(const char *spec)
{
	json_t *j = json_loads(spec, 0, NULL);
	struct codec c;

	strcpy(err, "");
	codec_from_json(&c, j, err, sizeof err);
	json_decref(j);
	return err;
}

static void
note(struct seq *s, int pitch, int start, int end, int program, int drum, int vel, double t0)
{
	struct note n = { .pitch = pitch, .start = start, .end = end, .program = program, .is_drum = drum,
		.velocity = vel, .start_time = t0, .end_time = t0 + 0.125 };

	seq_add(s, &n);
}

static void
qseq(struct seq *s)
{
	seq_init(s);
	s->steps_per_quarter = 4;
}

/* argmax of row t of x [T, D] (-1 for an all-zero row). */
static int
tok(const float *v, int D, int t)
{
	for (int j = 0; j < D; j++)
		if (v[t * D + j] != 0)
			return j;
	return -1;
}

static void
test_config(void)
{
	struct codec c = conv("{\"type\":\"MelodyConverter\",\"args\":{\"numSteps\":32,\"minPitch\":21,\"maxPitch\":108}}");

	ok(c.in_depth == 90 && c.out_depth == 90 && c.n_splits == 1 && c.num_segments == 0 && c.ignore_polyphony,
	    "melody 21..108: 90 columns in and out, flat, ignorePolyphony by default");
	ok(strcmp(codec_name(&c), "MelodyConverter") == 0, "codec_name");
	c = conv("{\"type\":\"TrioConverter\",\"args\":{\"numSteps\":64,\"numSegments\":4,\"melArgs\":{\"minPitch\":21,"
	    "\"maxPitch\":108},\"bassArgs\":{\"minPitch\":21,\"maxPitch\":108},\"drumsArgs\":{}}}");
	ok(c.n_splits == 3 && c.split_depth[0] == 90 && c.split_depth[1] == 90 && c.split_depth[2] == 512 &&
	    c.out_depth == 692 && c.in_depth == 692 && c.num_segments == 4, "trio: 3 splits 90/90/512 = 692");
	c = conv("{\"type\":\"TrioRhythmConverter\",\"args\":{\"numSteps\":32,\"melArgs\":{\"minPitch\":21,"
	    "\"maxPitch\":108},\"bassArgs\":{\"minPitch\":21,\"maxPitch\":108},\"drumsArgs\":{}}}");
	ok(c.n_splits == 3 && c.split_depth[2] == 1 && c.in_depth == 3 && c.out_depth == 3, "trio rhythm: 1/1/1");
	c = conv("{\"type\":\"DrumsConverter\",\"args\":{\"numSteps\":32}}");
	ok(c.in_depth == 10 && c.out_depth == 512 && c.n_classes == 9 && c.class_of[35] == 0 && c.class_of[82] == 8 &&
	    c.class_of[0] == -1 && !c.drums_js_shift, "drums: 10 in, 512 out, default classes, Python no-hit column");
	c = conv("{\"type\":\"DrumRollConverter\",\"args\":{\"numSteps\":32}}");
	ok(c.in_depth == 10 && c.out_depth == 9, "drum roll: 10 in, 9 out");
	c = conv("{\"type\":\"DrumsOneHotConverter\",\"args\":{\"numSteps\":32,\"pitchClasses\":[[36],[38,40]]}}");
	ok(c.in_depth == 4 && c.out_depth == 4 && c.n_classes == 2 && c.class_of[40] == 1, "one-hot, 2 custom classes");
	c = conv("{\"type\":\"GrooveConverter\",\"args\":{\"numSteps\":32,\"humanize\":1,\"tapify\":\"\"}}");
	ok(c.in_depth == 27 && c.out_depth == 27 && c.humanize && !c.tapify && c.steps_per_quarter == 4,
	    "groove: 27 columns, JS truthiness, 4 steps per quarter");
	c = conv("{\"type\":\"MelodyShapeConverter\",\"args\":{\"numSteps\":8,\"minPitch\":60,\"maxPitch\":72,"
	    "\"ignorePolyphony\":null}}");
	ok(c.in_depth == 3 && !c.ignore_polyphony, "shape: 3 columns; ignorePolyphony null is false");
	ok(strstr(conv_err("{\"type\":\"MultitrackConverter\",\"args\":{\"numSteps\":32}}"), "unsupported converter")
	    != NULL, "multitrack: unsupported converter (%s)", err);
	is_int(strcmp(conv_err("{\"type\":\"DrumsConverter\",\"args\":{}}"),
	    "dataConverter.args.numSteps: expected a positive integer"), 0, "missing numSteps (%s)", err);
	is_int(strcmp(conv_err("{\"type\":\"MelodyConverter\",\"args\":{\"numSteps\":0}}"),
	    "dataConverter.args.numSteps: expected a positive integer"), 0, "numSteps 0 (%s)", err);
	is_int(strcmp(conv_err("{\"type\":\"MelodyConverter\",\"args\":{\"numSteps\":4,\"maxPitch\":9}}"),
	    "dataConverter.args.minPitch: expected an integer in 0..127"), 0, "missing minPitch (%s)", err);
	is_int(strcmp(conv_err("{\"type\":\"TrioConverter\",\"args\":{\"numSteps\":4}}"),
	    "dataConverter.args.melArgs: expected an object"), 0, "trio without melArgs (%s)", err);
	ok(strstr(conv_err("{\"type\":\"DrumsConverter\",\"args\":{\"numSteps\":4,\"pitchClasses\":[[1],[200]]}}"),
	    "pitchClasses[1][0]") != NULL, "bad drum class pitch named (%s)", err);
	ok(strstr(conv_err("{\"type\":\"DrumsConverter\",\"args\":{\"numSteps\":6,\"numSegments\":4}}"),
	    "numSegments") != NULL, "numSegments must divide numSteps (%s)", err);
	ok(strstr(conv_err("{\"type\":\"Nope\",\"args\":{}}"), "unknown converter 'Nope'") != NULL, "unknown type");
}

static void
test_melody(void)
{
	struct codec c = conv("{\"type\":\"MelodyConverter\",\"args\":{\"numSteps\":8,\"minPitch\":21,\"maxPitch\":108}}");
	struct seq s, o;

	qseq(&s);
	note(&s, 62, 4, 6, 0, 0, 0, 0);         /* out of order on purpose */
	note(&s, 60, 0, 4, 0, 0, 0, 0);
	note(&s, 50, 6, 7, 0, 0, 0, 0);
	note(&s, 55, 6, 9, 0, 0, 0, 0);         /* same start, higher pitch: kept; note-off past T dropped */
	ok(codec_encode(&c, &s, x, err, sizeof err) == 0, "melody encode");
	ok(tok(x, 90, 0) == 41 && tok(x, 90, 1) == 0 && tok(x, 90, 4) == 43 && tok(x, 90, 6) == 36 &&
	    tok(x, 90, 7) == 0, "onsets; a later onset overwrites the note-off at 4 and 6; polyphony keeps the top");
	c.ignore_polyphony = 0;
	ok(codec_encode(&c, &s, x, err, sizeof err) < 0 && strcmp(err, "`NoteSequence` is not monophonic.") == 0,
	    "ignorePolyphony false: magenta.js's error (%s)", err);
	c.ignore_polyphony = 1;
	note(&s, 20, 30, 31, 0, 0, 0, 0);
	ok(codec_encode(&c, &s, x, err, sizeof err) < 0 &&
	    strstr(err, "`NoteSequence` has a pitch outside of the valid range: 20") != NULL,
	    "out-of-range pitch fails even past numSteps (%s)", err);
	seq_clear(&s);
	note(&s, 60, 0, 6, 0, 0, 0, 0);
	note(&s, 64, 2, 4, 0, 0, 0, 0);
	codec_encode(&c, &s, x, err, sizeof err);
	ok(tok(x, 90, 0) == 41 && tok(x, 90, 2) == 45 && tok(x, 90, 4) == 1 && tok(x, 90, 6) == 1, "overlap");
	s.steps_per_quarter = 0;
	ok(codec_encode(&c, &s, x, err, sizeof err) < 0 && strstr(err, "not quantized"), "unquantized refused");
	seq_fini(&s);

	memset(y, 0, sizeof y);
	y[0 * 90 + 41] = 1, y[1 * 90] = 1, y[2 * 90] = 1, y[3 * 90 + 1] = 1, y[4 * 90 + 43] = 1;
	y[5 * 90 + 3] = 0.5f, y[5 * 90 + 5] = 0.5f, y[6 * 90] = 1, y[7 * 90] = 1;
	seq_init(&o);
	ok(codec_decode(&c, y, &o, err, sizeof err) == 0 && o.n == 3 && o.total_steps == 8 &&
	    o.steps_per_quarter == 4 && o.qpm == 120, "melody decode: 3 notes, 8 steps, 4/quarter, 120 qpm");
	ok(o.n == 3 && o.notes[0].pitch == 60 && o.notes[0].start == 0 && o.notes[0].end == 3 &&
	    o.notes[1].pitch == 62 && o.notes[1].end == 5 && o.notes[2].pitch == 22 && o.notes[2].start == 5 &&
	    o.notes[2].end == 8, "note-off, onset-closes-note, tie takes the first index, close at T");
	seq_fini(&o);
}

static void
test_drums(void)
{
	struct codec c = conv("{\"type\":\"DrumsConverter\",\"args\":{\"numSteps\":4}}");
	struct seq s, o;
	int py[4] = { 0, 1, 0, 1 }, js[4] = { 1, 0, 0, 0 }, good = 1;

	qseq(&s);
	note(&s, 36, 0, 1, 0, 1, 0, 0);
	note(&s, 38, 2, 3, 0, 1, 0, 0);
	note(&s, 0, 3, 4, 0, 1, 0, 0);          /* no class */
	codec_encode(&c, &s, x, err, sizeof err);
	for (int t = 0; t < 4; t++)
		good &= x[t * 10 + 9] == py[t];
	ok(good && x[0] == 1 && x[2 * 10 + 1] == 1, "Python no-hit column: row t flags step t (unknown pitch = no hit)");
	codec_set_drums_js(&c, 1);
	codec_encode(&c, &s, x, err, sizeof err);
	good = 1;
	for (int t = 0; t < 4; t++)
		good &= x[t * 10 + 9] == js[t];
	ok(good && x[0] == 1 && x[2 * 10 + 1] == 1, "magenta.js no-hit column: row t flags step t+1, last row 0");

	memset(y, 0, sizeof y);
	y[0] = 1, y[512 + 5] = 1, y[1024] = 1, y[1536 + 256] = 1;
	seq_init(&o);
	codec_decode(&c, y, &o, err, sizeof err);
	ok(o.n == 3 && o.notes[0].pitch == 36 && o.notes[0].start == 1 && o.notes[1].pitch == 42 &&
	    o.notes[1].is_drum && o.notes[2].pitch == 51 && o.notes[2].start == 3 && o.notes[2].end == 4,
	    "drums decode: label bits -> first pitch of each class");
	c = conv("{\"type\":\"DrumRollConverter\",\"args\":{\"numSteps\":2}}");
	memset(y, 0, sizeof y);
	y[0] = 1, y[2] = 0.25f, y[9 + 8] = -1;
	codec_decode(&c, y, &o, err, sizeof err);
	ok(o.n == 3 && o.notes[0].pitch == 36 && o.notes[1].pitch == 42 && o.notes[2].pitch == 51 &&
	    o.notes[2].start == 1, "drum roll decode: every nonzero column");

	c = conv("{\"type\":\"DrumsOneHotConverter\",\"args\":{\"numSteps\":4}}");
	seq_clear(&s);
	note(&s, 36, 0, 1, 0, 1, 0, 0);
	note(&s, 35, 0, 1, 0, 1, 0, 0);         /* same class twice: label 2 */
	note(&s, 36, 1, 2, 0, 1, 0, 0);
	note(&s, 1, 1, 2, 0, 1, 0, 0);          /* unknown pitch: NaN -> 0 */
	note(&s, 38, 2, 3, 0, 1, 0, 0);
	ok(codec_encode(&c, &s, x, err, sizeof err) == 0 && tok(x, 512, 0) == 2 && tok(x, 512, 1) == 0 &&
	    tok(x, 512, 2) == 2 && tok(x, 512, 3) == 0, "one-hot: double add, NaN label is class 0");
	note(&s, 38, 4, 5, 0, 1, 0, 0);
	ok(codec_encode(&c, &s, x, err, sizeof err) < 0 && strstr(err, "step 4"), "one-hot: note past T (%s)", err);
	seq_fini(&s);
	seq_fini(&o);
}

static void
test_trio(void)
{
	const char *args = "\"args\":{\"numSteps\":4,\"melArgs\":{\"minPitch\":21,\"maxPitch\":108},"
	    "\"bassArgs\":{\"minPitch\":21,\"maxPitch\":108},\"drumsArgs\":{}}}";
	char spec[512];
	struct codec c;
	struct seq s, o;

	snprintf(spec, sizeof spec, "{\"type\":\"TrioConverter\",%s", args);
	c = conv(spec);
	qseq(&s);
	note(&s, 60, 0, 2, 0, 0, 0, 0);         /* melody */
	note(&s, 40, 0, 4, 33, 0, 0, 0);        /* bass */
	note(&s, 50, 1, 2, 40, 0, 0, 0);        /* neither */
	note(&s, 36, 1, 2, 33, 1, 0, 0);        /* drums, whatever the program */
	ok(codec_encode(&c, &s, x, err, sizeof err) == 0 && x[41] == 1 && x[90 + 21] == 1 && x[180] == 1 &&
	    x[692 + 180 + 1] == 1 && x[692 + 0] == 1 && x[2 * 692 + 1] == 1, "trio encode: parts by program/isDrum");
	seq_init(&o);
	memset(y, 0, sizeof y);
	for (int t = 0; t < 4; t++)
		y[t * 692] = y[t * 692 + 90] = y[t * 692 + 180] = 1;
	y[0] = 0, y[41] = 1, y[90] = 0, y[90 + 21] = 1, y[2 * 692 + 180] = 0, y[2 * 692 + 180 + 3] = 1;
	codec_decode(&c, y, &o, err, sizeof err);
	ok(o.n == 4 && o.notes[0].pitch == 60 && o.notes[0].instrument == 0 && o.notes[0].program == 0 &&
	    o.notes[1].pitch == 40 && o.notes[1].instrument == 1 && o.notes[1].program == 32 &&
	    o.notes[2].pitch == 36 && o.notes[2].instrument == 2 && o.notes[2].is_drum && o.notes[3].pitch == 38,
	    "trio decode: melody, bass (program 32), drums (instrument 2)");
	snprintf(spec, sizeof spec, "{\"type\":\"TrioRhythmConverter\",%s", args);
	c = conv(spec);
	codec_encode(&c, &s, x, err, sizeof err);
	ok(x[0] == 1 && x[1] == 1 && x[2] == 0 && x[3] == 0 && x[4] == 0 && x[5] == 1, "trio rhythm encode");
	memset(y, 0, sizeof y);
	y[0] = 1, y[2] = 1, y[4] = 1;
	codec_decode(&c, y, &o, err, sizeof err);
	ok(o.n == 3 && o.notes[0].pitch == 72 && o.notes[1].pitch == 38 && o.notes[1].instrument == 2 &&
	    o.notes[2].pitch == 36 && o.notes[2].program == 32 && o.notes[2].start == 1, "trio rhythm decode");
	seq_fini(&s);
	seq_fini(&o);
}

static void
test_groove(void)
{
	struct codec c = conv("{\"type\":\"GrooveConverter\",\"args\":{\"numSteps\":4}}");
	struct seq s, o;

	qseq(&s);
	note(&s, 36, 0, 1, 0, 1, 127, 0.0);
	note(&s, 38, 1, 2, 0, 1, 64, 0.1);
	note(&s, 35, 2, 3, 0, 1, 50, 0.25);
	note(&s, 36, 2, 3, 0, 1, 80, 0.26);     /* louder: wins */
	note(&s, 36, 2, 3, 0, 1, 80, 0.3);      /* tie: the first stays */
	ok(codec_encode(&c, &s, x, err, sizeof err) == 0, "groove encode");
	is_float(x[0], 1, 0, "hit");
	is_float(x[9], 1, 1e-7, "velocity 127/127");
	is_float(x[18], 0, 0, "offset 0");
	is_float(x[27 + 1 + 9], 64 / 127.0f, 1e-7, "velocity 64/127");
	is_float(x[27 + 1 + 18], 0.4f, 1e-6, "offset 2*(0.125-0.1)/0.125");
	is_float(x[54 + 9], 80 / 127.0f, 1e-7, "loudest note kept");
	is_float(x[54 + 18], -0.16f, 1e-6, "first of equal velocities kept");
	c.humanize = 1;
	codec_encode(&c, &s, x, err, sizeof err);
	ok(x[0] == 1 && x[9] == 0 && x[27 + 19] == 0, "humanize: hits only");
	c.humanize = 0, c.tapify = 1;
	codec_encode(&c, &s, x, err, sizeof err);
	ok(x[3] == 1 && x[0] == 0 && x[12] == 0 && x[27 + 3 + 18] == x[27 + 3 + 18] && x[27 + 21] != 0,
	    "tapify: every note in class 3, no velocity");
	c.tapify = 0, c.split_instruments = 1;
	codec_encode(&c, &s, x, err, sizeof err);
	ok(x[0] == 1 && x[1] == 1 && x[(9 + 1) * 3] == 1 && x[(9 + 1) * 3 + 2] > 0.39f, "split: [T*9, 3] rows");
	c.split_instruments = 0;
	note(&s, 36, 4, 5, 0, 1, 80, 0.5);
	ok(codec_encode(&c, &s, x, err, sizeof err) < 0 && strcmp(err, "Model does not support sequences with more "
	    "than 4 steps (0.5 seconds at qpm 120).") == 0, "magenta.js's length error (%s)", err);
	memset(y, 0, sizeof y);
	y[0] = 0.6f, y[9] = 0.5f, y[18] = 0.4f, y[27 + 8] = 0.51f, y[27 + 26] = 1.5f, y[1] = 0.5f;
	seq_init(&o);
	codec_decode(&c, y, &o, err, sizeof err);
	ok(o.n == 2 && o.notes[0].pitch == 36 && o.notes[0].velocity == 64 && o.notes[1].pitch == 51 &&
	    o.notes[1].velocity == 0 && o.steps_per_quarter == 0 && o.total_time == 0.5, "groove decode notes");
	is_float(o.notes[0].start_time, -0.2 * 0.125, 1e-9, "start = (s - off/2) * step");
	is_float(o.notes[1].start_time, 0.5 * 0.125, 1e-9, "offset clipped to 0.5");
	seq_fini(&s);
	seq_fini(&o);
}

static void
test_melody_controls(void)
{
	struct codec c = conv("{\"type\":\"MelodyShapeConverter\",\"args\":{\"numSteps\":8,\"minPitch\":21,"
	    "\"maxPitch\":108}}");
	int want[8] = { 2, 2, 2, 1, 1, 0, 0, 0 }, good = 1;
	struct seq s, o;

	qseq(&s);
	note(&s, 60, 0, 1, 0, 0, 0, 0);
	note(&s, 62, 2, 3, 0, 0, 0, 0);
	note(&s, 62, 4, 5, 0, 0, 0, 0);
	note(&s, 59, 5, 6, 0, 0, 0, 0);
	codec_encode(&c, &s, x, err, sizeof err);
	for (int t = 0; t < 8; t++)
		good &= tok(x, 3, t) == want[t];
	ok(good, "shape: up up up same same down down down");
	seq_clear(&s);
	note(&s, 60, 7, 8, 0, 0, 0, 0);
	codec_encode(&c, &s, x, err, sizeof err);
	ok(tok(x, 3, 0) == -1 && tok(x, 3, 7) == -1, "shape: a lone note on the last step leaves zero rows");
	seq_clear(&s);
	note(&s, 60, 3, 4, 0, 0, 0, 0);
	codec_encode(&c, &s, x, err, sizeof err);
	ok(tok(x, 3, 0) == 1 && tok(x, 3, 7) == 1, "shape: a lone note elsewhere means 'same' everywhere");
	c = conv("{\"type\":\"MelodyShapeConverter\",\"args\":{\"numSteps\":4,\"minPitch\":60,\"maxPitch\":61}}");
	memset(y, 0, sizeof y);
	y[2] = 1, y[5] = 1, y[6] = 1, y[10] = 1;
	seq_init(&o);
	codec_decode(&c, y, &o, err, sizeof err);
	ok(o.n == 4 && o.notes[0].pitch == 61 && o.notes[1].pitch == 61 && o.notes[2].pitch == 60 &&
	    o.notes[3].pitch == 60, "shape decode walks from round(mid) and clamps");
	c = conv("{\"type\":\"MelodyRhythmConverter\",\"args\":{\"numSteps\":4,\"minPitch\":21,\"maxPitch\":108}}");
	seq_clear(&s);
	note(&s, 60, 0, 2, 0, 0, 0, 0);
	note(&s, 62, 3, 4, 0, 0, 0, 0);
	codec_encode(&c, &s, x, err, sizeof err);
	ok(x[0] == 1 && x[1] == 0 && x[2] == 0 && x[3] == 1, "rhythm encode: onsets");
	y[0] = 1, y[1] = 0, y[2] = 0.3f, y[3] = 0;
	codec_decode(&c, y, &o, err, sizeof err);
	ok(o.n == 2 && o.notes[0].pitch == 38 && o.notes[0].is_drum && o.notes[1].start == 2, "rhythm decode");
	seq_fini(&s);
	seq_fini(&o);
}

static int
chord_idx(enum ctrl_chord_encoder e, const char *sym)
{
	float row[64];

	if (ctrl_chord_encode(e, sym, row, err, sizeof err) < 0)
		return -1;
	return tok(row, ctrl_chord_depth(e), 0);
}

static void
test_chords(void)
{
	float row[64];

	is_int(chord_idx(CTRL_CHORDS_MAJOR_MINOR, "C"), 1, "C major");
	is_int(chord_idx(CTRL_CHORDS_MAJOR_MINOR, "Am7"), 1 + 12 + 9, "Am7 is minor");
	is_int(chord_idx(CTRL_CHORDS_MAJOR_MINOR, "Bb"), 1 + 10, "Bb");
	is_int(chord_idx(CTRL_CHORDS_MAJOR_MINOR, "N.C."), 0, "N.C.");
	ok(chord_idx(CTRL_CHORDS_MAJOR_MINOR, "Bdim") < 0 && strcmp(err, "Chord is neither major nor minor: Bdim") == 0,
	    "MajorMinor refuses dim (%s)", err);
	is_int(chord_idx(CTRL_CHORDS_TRIAD, "Bdim"), 1 + 36 + 11, "triad: Bdim");
	is_int(chord_idx(CTRL_CHORDS_TRIAD, "C+"), 1 + 24, "triad: C+");
	is_int(chord_idx(CTRL_CHORDS_TRIAD, "F#o"), 1 + 36 + 6, "triad: F#o");
	ok(chord_idx(CTRL_CHORDS_TRIAD, "Csus4") < 0 && strcmp(err, "Chord is not a standard triad: Csus4") == 0,
	    "triad refuses sus (%s)", err);
	ok(chord_idx(CTRL_CHORDS_TRIAD, "H") < 0 && strcmp(err, "Chord symbol has unknown root: H") == 0,
	    "unknown root (%s)", err);
	ok(chord_idx(CTRL_CHORDS_PITCH, "Cfoo") < 0 && strcmp(err, "Unrecognized chord symbol: Cfoo") == 0,
	    "unknown quality (%s)", err);
	ok(ctrl_chord_encode(CTRL_CHORDS_PITCH, "G7", row, err, sizeof err) == 0 && row[0] == 0 && row[1 + 7] == 1 &&
	    row[13 + 7] == 1 && row[13 + 11] == 1 && row[13 + 2] == 1 && row[13 + 5] == 1 && row[25 + 7] == 1 &&
	    row[13 + 0] == 0, "pitch encoder: G7 = root G, pitches G B D F, bass G");
}

static void
test_controls(void)
{
	json_t *cfg = json_loads("{\"chordEncoder\":\"MajorMinorChordEncoder\",\"conditionOnKey\":true,"
	    "\"extraControls\":[{\"name\":\"d\",\"depth\":2}]}", 0, NULL);
	const char *ch[3] = { "C", "G", "Am" };
	float extra[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct ctrl_spec sp;
	int good = 1, want[4] = { 1, 1, 8, 22 };

	ok(ctrl_from_json(&sp, cfg, err, sizeof err) == 0 && ctrl_depth(&sp) == 25 + 12 + 2, "spec: 25 + 12 + 2");
	ok(ctrl_build(&sp, 4, ch, 3, 2, extra, x, err, sizeof err) == 0, "build");
	for (int s = 0; s < 4; s++)
		good &= tok(x, 39, s) == want[s] && x[s * 39 + 25 + 2] == 1 && x[s * 39 + 37] == extra[2 * s] &&
		    x[s * 39 + 38] == extra[2 * s + 1];
	ok(good, "chord floor(s*3/4), key one-hot, extra columns");
	ok(ctrl_build(&sp, 4, ch, 0, 2, extra, x, err, sizeof err) < 0 &&
	    strcmp(err, "Chord progression expected but not provided.") == 0, "no chords (%s)", err);
	ok(ctrl_build(&sp, 4, ch, 3, -1, extra, x, err, sizeof err) < 0 && strstr(err, "Key expected"), "no key");
	ok(ctrl_build(&sp, 4, ch, 3, 2, NULL, x, err, sizeof err) < 0 &&
	    strcmp(err, "Missing control signal: d") == 0, "no extra (%s)", err);
	json_decref(cfg);
	cfg = json_loads("{\"chordEncoder\":\"Nope\"}", 0, NULL);
	ok(ctrl_from_json(&sp, cfg, err, sizeof err) < 0 && strstr(err, "chordEncoder"), "bad encoder (%s)", err);
	json_decref(cfg);
	cfg = json_loads("{\"extraControls\":[{\"name\":\"d\"}]}", 0, NULL);
	ok(ctrl_from_json(&sp, cfg, err, sizeof err) < 0 && strstr(err, "extraControls[0].depth"), "bad depth (%s)",
	    err);
	json_decref(cfg);
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--ref") == 0)
		return codec_ref_run(argv[2]);
	plan(76);
	test_config();
	test_melody();
	test_drums();
	test_trio();
	test_groove();
	test_melody_controls();
	test_chords();
	test_controls();
	return done_testing();
}
