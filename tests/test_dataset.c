/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_dataset.c: windowing, top line, meters, drums, dedup, splits and the dataset file (src/dataset.c). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "codec.h"
#include "cmd.h"
#include "dataset.h"
#include "seq.h"
#include "smf.h"
#include "tap.h"

#define T 32

static char tmpdir[] = "/tmp/test_dataset.XXXXXX";

static void
add(struct seq *s, int pitch, int start, int end, int drum)
{
	struct note n = { .pitch = pitch, .velocity = 100, .is_drum = drum, .start = start, .end = end,
	    .start_time = start * 0.125, .end_time = end * 0.125 };

	if (seq_add(s, &n) == -1)
		abort();
	if (end > s->total_steps)
		s->total_steps = end;
}

static void
fresh(struct seq *s)
{
	seq_init(s);
	s->steps_per_quarter = 4;
}

static void
codec_of(struct codec *c, const char *type)
{
	char err[256];
	json_t *dc = json_pack("{s:s, s:{s:i, s:i, s:i}}", "type", type, "args", "numSteps", T, "minPitch", 21,
	    "maxPitch", 108);

	if (dc == NULL || codec_from_json(c, dc, err, sizeof err) == -1) {
		printf("Bail out! codec %s: %s\n", type, err);
		exit(1);
	}
	json_decref(dc);
}

/* Windows of s with everything kept (no note filter), melody or drums. */
static long
windows(struct dataset *d, const struct seq *s, enum dataset_kind kind, int min_notes)
{
	struct dataset_opts o;
	char err[256];
	long n;

	dataset_opts_init(&o, kind);
	o.min_notes = min_notes;
	o.min_pitches = min_notes > 0;
	dataset_init(d, &o);
	n = dataset_add_seq(d, &o, s, 0, 0, err, sizeof err);
	if (n < 0)
		diag("dataset_add_seq: %s", err);
	return n;
}

/* The argmax of codec_encode's rows of a one-hot converter for the notes of line starting in [w, w + T). */
static void
argmax_tokens(const struct codec *c, const struct seq *line, int w, int *tok)
{
	struct seq s;
	float x[T * 512];
	char err[256];

	fresh(&s);
	for (size_t i = 0; i < line->n; i++)
		if (line->notes[i].start >= w && line->notes[i].start < w + T)
			add(&s, line->notes[i].pitch, line->notes[i].start - w, line->notes[i].end - w,
			    line->notes[i].is_drum);
	if (codec_encode(c, &s, x, err, sizeof err) == -1)
		diag("codec_encode: %s", err);
	for (int t = 0; t < T; t++) {
		int best = 0;
		for (int k = 1; k < c->in_depth; k++)
			if (x[t * c->in_depth + k] > x[t * c->in_depth + best])
				best = k;
		tok[t] = best;
	}
	seq_fini(&s);
}

static int
same_tokens(const struct dataset *d, size_t w, const int *tok)
{
	for (int t = 0; t < T; t++)
		if (d->tokens[w * T + t] != tok[t]) {
			diag("window %zu step %d: token %d, codec says %d", w, t, d->tokens[w * T + t], tok[t]);
			return 0;
		}
	return 1;
}

/* ---- melody windows ------------------------------------------------------------------------- */

static void
test_silence_split(void)
{
	struct dataset d;
	struct seq s;

	fresh(&s);
	for (int t = 0; t < 32; t += 4)
		add(&s, 60 + t / 4, t, t + 4, 0);        /* bars 0-1 */
	for (int t = 48; t < 80; t += 4)
		add(&s, 70, t, t + 2, 0);               /* after exactly one bar of silence: bars 3-4 */
	is_int(windows(&d, &s, DATASET_MELODY, 0), 2, "one bar of silence splits: windows at bars 0 and 3");
	ok(d.tokens[0] == 60 - 21 + 2 && d.tokens[T] == 70 - 21 + 2, "second window starts on its first note");
	dataset_free(&d);
	seq_clear(&s);
	for (int t = 0; t < 32; t += 4)
		add(&s, 60, t, t + 4, 0);
	for (int t = 47; t < 76; t += 4)
		add(&s, 70, t, t + 2, 0);               /* 15 steps of silence: one piece, bars 0..4 */
	is_int(windows(&d, &s, DATASET_MELODY, 0), 4, "15 steps of silence do not split (4 windows in 5 bars)");
	dataset_free(&d);
	seq_clear(&s);
	add(&s, 60, 20, 24, 0);
	add(&s, 62, 38, 70, 0);                 /* ends in bar 4: padded to its end */
	is_int(windows(&d, &s, DATASET_MELODY, 0), 3, "pieces start at the bar of their first note, end padded");
	dataset_free(&d);
	seq_fini(&s);
}

static void
test_top_line(void)
{
	struct dataset d;
	struct seq s;
	int want[T] = { 0 };

	fresh(&s);
	add(&s, 60, 0, 16, 0);
	add(&s, 67, 0, 16, 0);                  /* C-E-G chord: G is the top */
	add(&s, 64, 0, 16, 0);
	add(&s, 55, 4, 6, 0);                   /* a lower onset cuts the G */
	add(&s, 72, 8, 30, 0);
	add(&s, 76, 12, 14, 0);                 /* cuts the 72; 72's end (30) must not leave a note-off */
	add(&s, 60, 20, 22, 0);
	add(&s, 36, 20, 24, 1);                 /* drums are not melody */
	want[0] = 67 - 19;
	want[4] = 55 - 19;
	want[6] = 1;
	want[8] = 72 - 19;
	want[12] = 76 - 19;
	want[14] = 1;
	want[20] = 60 - 19;
	want[22] = 1;
	is_int(windows(&d, &s, DATASET_MELODY, 0), 1, "one window");
	ok(d.count == 1 && same_tokens(&d, 0, want), "top line: highest of a chord, new onsets cut");
	dataset_free(&d);
	seq_fini(&s);
}

/* Two instruments: one line each (Magenta), or the top of both with per_instrument = 0. */
static void
test_instruments(void)
{
	struct dataset_opts o;
	struct dataset d;
	struct seq s;
	char err[256];

	fresh(&s);
	for (int t = 0; t < 32; t += 4) {
		add(&s, 72 + t / 4, t, t + 4, 0);
		add(&s, 40 + t / 8, t, t + 4, 0);
		s.notes[s.n - 1].instrument = 1;
	}
	is_int(windows(&d, &s, DATASET_MELODY, 2), 2, "one line per instrument");
	ok(d.count == 2 && d.tokens[0] == 72 - 19 && d.tokens[T] == 40 - 19, "in instrument order");
	dataset_free(&d);
	dataset_opts_init(&o, DATASET_MELODY);
	o.per_instrument = 0;
	dataset_init(&d, &o);
	is_int(dataset_add_seq(&d, &o, &s, 0, 0, err, sizeof err), 1, "per_instrument = 0: one top line");
	ok(d.count == 1 && d.tokens[0] == 72 - 19, "the upper voice");
	dataset_free(&d);
	for (size_t i = 0; i < s.n; i++)
		s.notes[i].program = s.notes[i].instrument == 1 ? 40 : 0;
	dataset_opts_init(&o, DATASET_MELODY);
	o.valid_program_lo = 0, o.valid_program_hi = 31;
	dataset_init(&d, &o);
	is_int(dataset_add_seq(&d, &o, &s, 0, DATASET_TRAIN, err, sizeof err), 2, "valid programs 0:31: train "
	    "files give every program");
	is_int(dataset_add_seq(&d, &o, &s, 0, DATASET_VALID, err, sizeof err), 1, "validation files only 0..31");
	ok(d.count == 3 && d.tokens[2 * T] == 72 - 19 && d.split[2] == DATASET_VALID, "the program-0 line");
	dataset_free(&d);
	seq_fini(&s);
}

/* Top line computed the slow way: per onset the highest pitch, cut at the next onset. */
static void
slow_top_line(const struct seq *s, struct seq *line)
{
	fresh(line);
	for (int t = 0; t <= s->total_steps; t++) {
		int best = -1;
		for (size_t i = 0; i < s->n; i++)
			if (s->notes[i].start == t && !s->notes[i].is_drum &&
			    (best < 0 || s->notes[i].pitch > s->notes[best].pitch))
				best = (int)i;
		if (best < 0)
			continue;
		if (line->n > 0 && line->notes[line->n - 1].end > t)
			line->notes[line->n - 1].end = t;
		add(line, s->notes[best].pitch, t, s->notes[best].end, 0);
	}
}

static void
test_codec_parity(unsigned seed)
{
	struct codec c;
	int tok[T], good = 1;

	codec_of(&c, "MelodyConverter");
	srand(seed);
	for (int rep = 0; rep < 50; rep++) {
		struct seq s, line;
		struct dataset d;
		int t = 0, bars = 2 + rand() % 6;
		fresh(&s);
		while (t < bars * 16) {                 /* gaps below a bar, chords, overlaps */
			int chord = 1 + rand() % 3;
			for (int k = 0; k < chord; k++)
				add(&s, 21 + rand() % 88, t, t + 1 + rand() % 24, 0);
			t += 1 + rand() % 8;
		}
		slow_top_line(&s, &line);
		windows(&d, &s, DATASET_MELODY, 0);
		good &= d.count > 0;
		for (size_t w = 0; w < d.count && good; w++) {
			argmax_tokens(&c, &line, (int)w * 16, tok);
			good &= same_tokens(&d, w, tok);
		}
		dataset_free(&d);
		seq_fini(&s);
		seq_fini(&line);
	}
	ok(good, "melody tokens = argmax of codec_encode(MelodyConverter) on 50 random windows "
	    "(seed %u)", seed);
}

static void
test_meter(void)
{
	struct dataset d;
	struct seq s;

	fresh(&s);
	for (int t = 0; t < 128; t += 2)
		add(&s, 60 + t % 12, t, t + 2, 0);      /* 8 bars of 4/4 */
	s.time_sigs[0] = (struct seq_time_sig){ 0, 3, 4 };
	s.n_time_sigs = 1;
	ok(!dataset_has_bars(&s), "3/4 throughout: no bar");
	is_int(windows(&d, &s, DATASET_MELODY, 0), 0, "3/4 file: no window");
	dataset_free(&d);
	s.time_sigs[0] = (struct seq_time_sig){ 0, 2, 2 };
	is_int(windows(&d, &s, DATASET_MELODY, 0), 7, "2/2 counts as 4/4: 7 windows in 8 bars");
	dataset_free(&d);
	s.time_sigs[0] = (struct seq_time_sig){ 0, 4, 4 };
	s.time_sigs[1] = (struct seq_time_sig){ 64, 3, 4 };
	s.n_time_sigs = 2;
	is_int(windows(&d, &s, DATASET_MELODY, 0), 3, "4/4 then 3/4 from bar 4: windows in the first 4 bars only");
	dataset_free(&d);
	s.time_sigs[0] = (struct seq_time_sig){ 0, 6, 8 };
	s.time_sigs[1] = (struct seq_time_sig){ 36, 4, 4 };
	is_int(windows(&d, &s, DATASET_MELODY, 0), 5, "6/8 then 4/4 at step 36: bar lines restart there");
	ok(d.count > 0 && d.tokens[0] == 60 + 36 % 12 - 19, "first window starts at step 36");
	dataset_free(&d);
	for (int i = 0; i < SEQ_MAX_TIME_SIGS; i++)
		s.time_sigs[i] = (struct seq_time_sig){ i, i % 2 ? 2 : 4, i % 2 ? 2 : 4 };
	s.n_time_sigs = SEQ_MAX_TIME_SIGS;
	ok(windows(&d, &s, DATASET_MELODY, 0) > 0, "32 time signatures: the last goes on");
	dataset_free(&d);
	s.n_time_sigs = SEQ_MAX_TIME_SIGS + 1;
	is_int(windows(&d, &s, DATASET_MELODY, 0), 0, "past the kept time signatures nothing is taken");
	dataset_free(&d);
	seq_fini(&s);
}

/* A format 0 file: time signature num/2^den_log2 at tick 0, then quarter notes. */
static void
test_smf_time_sig(void)
{
	unsigned char f[] = {
		'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 0, 0, 1, 0, 96,
		'M', 'T', 'r', 'k', 0, 0, 0, 32,
		0x00, 0xff, 0x58, 0x04, 3, 2, 24, 8,            /* 3/4 */
		0x00, 0x90, 60, 100, 0x60, 0x80, 60, 0,
		0x00, 0xff, 0x58, 0x04, 4, 2, 24, 8,            /* 4/4 at tick 96 = step 4 */
		0x00, 0x90, 62, 100, 0x60, 0x80, 62, 0,
	};
	struct seq s;
	char err[256];

	/* 32 bytes of events counted above would need the end of track: append it */
	unsigned char file[sizeof f + 4];
	memcpy(file, f, sizeof f);
	memcpy(file + sizeof f, (unsigned char[]){ 0x00, 0xff, 0x2f, 0x00 }, 4);
	file[21] = (unsigned char)(sizeof f - 22 + 4);
	seq_init(&s);
	if (smf_read_mem(file, sizeof file, "ts.mid", &s, err, sizeof err) == -1)
		diag("smf_read_mem: %s", err);
	ok(s.n_time_sigs == 2 && s.time_sigs[0].step == 0 && s.time_sigs[0].num == 3 && s.time_sigs[0].den == 4 &&
	    s.time_sigs[1].step == 4 && s.time_sigs[1].num == 4 && s.time_sigs[1].den == 4,
	    "smf_read keeps time signatures in steps");
	seq_fini(&s);
}

/* ---- drums -------------------------------------------------------------------------------- */

static void
test_drums(void)
{
	static const int pitch[9] = { 36, 38, 42, 46, 45, 48, 50, 49, 51 };
	struct codec oh, roll;
	struct dataset d;
	struct seq s;
	int tok[T], good = 1;
	float x[T * 10];
	char err[256];

	codec_of(&oh, "DrumsOneHotConverter");
	codec_of(&roll, "DrumsConverter");
	fresh(&s);
	for (int k = 0; k < 9; k++)
		add(&s, pitch[k], 0, 1, 1);
	for (int t = 0; t < 48; t++) {
		for (int k = 0; k < 9; k++)
			if ((t * 7 + k * 3) % (k + 2) == 0)
				add(&s, pitch[k], t, t + 1, 1);
		if (t % 5 == 0)
			add(&s, 35, t, t + 1, 1);       /* class 0 again: no double count */
		if (t % 3 == 0)
			add(&s, 20, t, t + 1, 1);       /* no class: ignored */
		add(&s, 60, t, t + 1, 0);               /* not a drum */
	}
	is_int(windows(&d, &s, DATASET_DRUMS, 0), 2, "drums: 2 windows in 3 bars");
	for (size_t w = 0; w < d.count; w++) {     /* the window's notes: one per class and step */
		struct seq win;
		fresh(&win);
		for (int t = (int)w * 16; t < (int)w * 16 + T; t++)
			for (int k = 0; k < 9; k++)
				for (size_t i = 0; i < s.n; i++)
					if (s.notes[i].is_drum && s.notes[i].start == t &&
					    oh.class_of[s.notes[i].pitch] == k) {
						add(&win, oh.pitch_classes[k][0], t, t + 1, 1);
						break;
					}
		argmax_tokens(&oh, &win, (int)w * 16, tok);
		good &= same_tokens(&d, w, tok);
		seq_fini(&win);
	}
	ok(good, "drum tokens = argmax of codec_encode(DrumsOneHotConverter)");
	good = 1;
	for (size_t w = 0; w < d.count; w++) {
		struct seq win;
		fresh(&win);
		for (size_t i = 0; i < s.n; i++)
			if (s.notes[i].is_drum && s.notes[i].start >= (int)w * 16 && s.notes[i].start < (int)w * 16 + T)
				add(&win, s.notes[i].pitch, s.notes[i].start - (int)w * 16, 1, s.notes[i].is_drum);
		codec_encode(&roll, &win, x, err, sizeof err);
		for (int t = 0; t < T; t++)
			for (int k = 0; k < 9; k++)
				good &= (x[t * 10 + k] != 0) == ((d.tokens[w * T + t] >> k) & 1);
		seq_fini(&win);
	}
	ok(good, "drum token bits = DrumsConverter's class columns");
	ok(d.count > 0 && d.tokens[0] == (1 | 2 | 4 | 8 | 16 | 32 | 64 | 128 | 256), "step 0: all 9 classes: 511");
	dataset_free(&d);
	seq_fini(&s);
}

/* ---- files: dedup, transposition, splits ---------------------------------------------------- */

static char *
write_mid(const char *name, const struct seq *s)
{
	static char path[8][256];
	static int k;
	char err[256];
	char *p = path[k++ % 8];

	snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
	if (smf_write(p, s, err, sizeof err) == -1)
		diag("smf_write: %s", err);
	return p;
}

static void
test_build(void)
{
	struct dataset_opts o;
	struct dataset d, d2;
	struct seq s;
	char *files[4], err[256];
	int lo = 99, hi = -99, in_range = 1;

	fresh(&s);
	for (int t = 0; t < 64; t += 4)                 /* 4 bars of the same bar: 1 unique window */
		add(&s, t % 16 == 0 ? 30 : 103, t, t + 2, 0);
	files[0] = strdup(write_mid("a.mid", &s));
	files[1] = strdup(write_mid("b.mid", &s));      /* the same file again */
	files[2] = (char *)"/nonexistent/c.mid";
	dataset_opts_init(&o, DATASET_MELODY);
	o.valid_permille = 0;
	if (dataset_build(&o, files, 3, &d, err, sizeof err) == -1)
		diag("dataset_build: %s", err);
	is_int(d.sources[0].windows, 3, "3 windows before deduplication");
	is_int(d.sources[0].unique, 1, "1 after");
	is_int(d.sources[1].unique, 0, "the same file again adds nothing");
	is_int(d.sources[2].status, DATASET_SRC_UNREADABLE, "a missing file is recorded, not fatal");
	for (size_t w = 0; w < d.count; w++) {
		lo = d.transpose[w] < lo ? d.transpose[w] : lo;
		hi = d.transpose[w] > hi ? d.transpose[w] : hi;
		for (int t = 0; t < T; t++)
			in_range &= d.tokens[w * T + t] < DATASET_MEL_CLASSES;
	}
	/* pitches 30 and 103: 103 + 5 = 108 is the top, 30 - 6 = 24 is in range: all 12 */
	ok(d.count == 12 && lo == -6 && hi == 5 && in_range, "transpositions -6..+5 of the window (%zu)", d.count);
	dataset_free(&d);
	seq_clear(&s);
	for (int t = 0; t < 64; t += 4)
		add(&s, t % 16 == 0 ? 22 : 106, t, t + 2, 0);
	files[2] = write_mid("c.mid", &s);
	if (dataset_build(&o, files + 2, 1, &d, err, sizeof err) == -1)
		diag("dataset_build: %s", err);
	lo = 99, hi = -99;
	for (size_t w = 0; w < d.count; w++) {
		lo = d.transpose[w] < lo ? d.transpose[w] : lo;
		hi = d.transpose[w] > hi ? d.transpose[w] : hi;
	}
	ok(d.count == 4 && lo == -1 && hi == 2, "transpositions leaving 21..108 are dropped (%d..%d)", lo, hi);
	dataset_free(&d);
	o.valid_permille = 1000;
	if (dataset_build(&o, files + 2, 1, &d, err, sizeof err) == -1)
		diag("dataset_build: %s", err);
	ok(d.count == 1 && d.split[0] == DATASET_VALID && d.transpose[0] == 0, "validation windows: untransposed");
	dataset_free(&d);
	o.valid_permille = 100;
	dataset_build(&o, files, 3, &d, err, sizeof err);
	dataset_build(&o, files, 3, &d2, err, sizeof err);
	ok(d.count == d2.count && memcmp(d.tokens, d2.tokens, d.count * T * 2) == 0 &&
	    memcmp(d.split, d2.split, d.count) == 0, "two builds are identical");
	dataset_free(&d);
	dataset_free(&d2);
	free(files[0]);
	free(files[1]);
	seq_fini(&s);
}

static void
test_split(void)
{
	int valid = 0, same = 1;
	char a[64], b[64];

	for (int i = 0; i < 2000; i++) {
		snprintf(a, sizeof a, "mma/clean/stdlib-x-Groove%d.mid", i);
		snprintf(b, sizeof b, "mma/hum/stdlib-x-Groove%d.s3.mid", i);
		valid += dataset_split_of(a, 100);
		same &= dataset_split_of(a, 100) == dataset_split_of(b, 100);
		same &= dataset_split_of(a, 100) == dataset_split_of(a, 100);
	}
	ok(valid > 140 && valid < 260, "about 10 %% of 2000 files in validation (%d)", valid);
	ok(same, "split by file name: deterministic, humanised renders follow their groove");
	is_int(dataset_split_of("x.mid", 0), DATASET_TRAIN, "0 per mille: all train");
	is_int(dataset_split_of("x.mid", 1000), DATASET_VALID, "1000 per mille: all validation");
}

/* ---- honest validation: kinds, the Hamming filter, the cap ------------------------------------ */

/* A 2-bar melody of 8 quarter notes (pitches p[8]) plus shift semitones, as a one-window file. */
static char *
write_line(const char *name, const int *p, int shift)
{
	struct seq s;
	char *path;

	fresh(&s);
	for (int i = 0; i < 8; i++)
		add(&s, p[i] + shift, 4 * i, 4 * i + 3, 0);
	path = strdup(write_mid(name, &s));
	seq_fini(&s);
	return path;
}

static void
test_valid_kinds(void)
{
	struct dataset_opts o;
	struct dataset d;
	char *files[40], name[64], err[256];
	const char *kinds[40];
	int p[8], same = 1, mma_valid = 0;

	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof name, "song%d.mid", i);
		for (int k = 0; k < 8; k++)     /* all different, far from each other */
			p[k] = 40 + (i * 13 + k * 5 + (k * i) % 7) % 50;
		files[i] = write_line(name, p, 0);
		kinds[i] = i % 2 ? "mma-groove" : i % 4 ? "midi" : NULL;
	}
	dataset_opts_init(&o, DATASET_MELODY);
	o.valid_permille = 500;
	o.kinds = kinds;
	o.valid_kinds = "midi,other";
	o.transpose_lo = o.transpose_hi = 0;
	if (dataset_build(&o, files, 40, &d, err, sizeof err) == -1)
		diag("dataset_build: %s", err);
	for (int i = 0; i < 40; i++) {
		int want = kinds[i] != NULL && strcmp(kinds[i], "midi") == 0 ? dataset_split_of(files[i], 500) :
		    DATASET_TRAIN;
		same &= d.sources[i].split == want;
		mma_valid += i % 2 && d.sources[i].split == DATASET_VALID;
	}
	ok(same && mma_valid == 0, "--valid-kinds midi: midi files split exactly by dataset_split_of, the others "
	    "(and unknown kinds) train");
	ok(dataset_kind_in("midi", "x,midi") && !dataset_kind_in("mid", "midi") && !dataset_kind_in("", "midi") &&
	    dataset_kind_in("", NULL), "kind lists: whole names only; NULL = every kind");
	dataset_free(&d);
	for (int i = 0; i < 40; i++)
		free(files[i]);
}

/* Train melody m (transposed -6..5 in the build) and validation copies at several distances. */
static void
test_near_duplicates(void)
{
	const int m[8] = { 60, 64, 67, 72, 71, 67, 64, 62 };
	int v1[8], v3[8];
	struct dataset_opts o;
	struct dataset d;
	char *files[4], err[256];
	const char *kinds[4] = { "mma-groove", "midi", "midi", "midi" };
	long left = 0;

	memcpy(v1, m, sizeof v1);
	v1[3] = 70;             /* m + 2 semitones with one note changed: 1 step from a transposed train window */
	memcpy(v3, m, sizeof v3);
	v3[1] = 65, v3[4] = 70, v3[6] = 63;     /* 3 steps from m */
	files[0] = write_line("train.mid", m, 0);
	files[1] = write_line("exact.mid", m, 0);
	files[2] = write_line("trans.mid", v1, 2);
	files[3] = write_line("three.mid", v3, 0);
	dataset_opts_init(&o, DATASET_MELODY);
	o.kinds = kinds;
	o.valid_kinds = "midi";
	o.valid_permille = 1000;
	for (int D = 2; D <= 3; D++) {
		o.valid_distance = D;
		if (dataset_build(&o, files, 4, &d, err, sizeof err) == -1)
			diag("dataset_build: %s", err);
		left = 0;
		for (size_t w = 0; w < d.count; w++)
			left += d.split[w] == DATASET_VALID;
		if (D == 2)
			ok(d.stats.valid_exact == 1 && d.stats.valid_near == 1 && left == 1 && d.sources[3].near == 0 &&
			    d.sources[2].near == 1, "distance 2: the exact copy and the transposed near copy dropped, "
			    "the window 3 steps away kept (%ld exact, %ld near, %ld left)", d.stats.valid_exact,
			    d.stats.valid_near, left);
		else
			ok(d.stats.valid_exact == 1 && d.stats.valid_near == 2 && left == 0, "distance 3: that one too");
		dataset_free(&d);
	}
	for (int i = 0; i < 4; i++)
		free(files[i]);
}

/* A synthetic dataset of n windows over a small alphabet (so that near copies abound). */
static void
random_set(struct dataset *d, size_t n, int n_valid, unsigned *seed)
{
	struct dataset_opts o;

	dataset_opts_init(&o, DATASET_MELODY);
	dataset_init(d, &o);
	d->tokens = malloc(n * T * sizeof *d->tokens);
	d->source = calloc(n, sizeof *d->source);
	d->split = malloc(n);
	d->transpose = calloc(n, 1);
	d->sources = calloc(2, sizeof *d->sources);
	d->n_sources = 2;
	d->sources[0].kind = strdup("mma-groove");
	d->sources[1].kind = strdup("midi");
	d->count = d->cap = n;
	for (size_t w = 0; w < n; w++) {
		d->split[w] = w < (size_t)n_valid ? DATASET_VALID : DATASET_TRAIN;
		d->source[w] = w % 5 == 0;
		for (int t = 0; t < T; t++)
			d->tokens[w * T + t] = (uint16_t)(rand_r(seed) % 100 < 85 ? 0 : 2 + rand_r(seed) % 2);
		if (w >= (size_t)n_valid && rand_r(seed) % 3 == 0) {        /* a validation window, moved a little */
			memcpy(d->tokens + w * T, d->tokens + (rand_r(seed) % (unsigned)n_valid) * T, T * 2);
			for (int k = rand_r(seed) % 5; k > 0; k--)
				d->tokens[w * T + rand_r(seed) % T] = (uint16_t)(rand_r(seed) % 4);
		}
	}
}

static void
test_filter_brute(unsigned seed)
{
	struct dataset d;
	char err[256];
	unsigned char *want;
	long exact = 0, near = 0, e2, n2, kept = 0, n_valid = 300;
	int same = 1;

	random_set(&d, 3000, (int)n_valid, &seed);
	want = calloc(d.count, 1);
	for (size_t v = 0; v < (size_t)n_valid; v++) {
		int best = T;
		for (size_t w = n_valid; w < d.count; w++) {
			int dist = 0;
			for (int t = 0; t < T; t++)
				dist += d.tokens[v * T + t] != d.tokens[w * T + t];
			best = dist < best ? dist : best;
		}
		want[v] = best > 2;
		exact += best == 0;
		near += best > 0 && best <= 2;
	}
	for (size_t v = 0; v < (size_t)n_valid; v++)
		kept += want[v];
	{
		uint16_t *keep_tok = malloc((size_t)kept * T * 2);
		size_t k = 0;
		for (size_t v = 0; v < (size_t)n_valid; v++)
			if (want[v])
				memcpy(keep_tok + k++ * T, d.tokens + v * T, T * 2);
		if (dataset_filter_valid(&d, 2, &e2, &n2, err, sizeof err) == -1)
			diag("%s", err);
		same = d.count == (size_t)(3000 - n_valid + kept) && memcmp(d.tokens, keep_tok, (size_t)kept * T * 2) == 0;
		free(keep_tok);
	}
	ok(same && e2 == exact && n2 == near && exact + near > 20, "the block index finds what brute force finds "
	    "(%ld exact, %ld near of %ld validation windows)", exact, near, n_valid);
	free(want);
	dataset_free(&d);
}

static void
test_cap(unsigned seed)
{
	struct dataset d, d2;
	struct dataset_stats st = { 0 }, st2 = { 0 };
	char err[256];
	long mma = 0, train = 0, valid = 0;
	int r;

	random_set(&d, 1000, 100, &seed);
	dataset_filter_valid(&d, 0, &st.valid_exact, &st.valid_near, err, sizeof err);    /* no duplicates */
	random_set(&d2, 1000, 100, &seed);
	memcpy(d2.tokens, d.tokens, d.count * T * 2);
	memcpy(d2.split, d.split, d.count);
	memcpy(d2.source, d.source, d.count * 4);
	d2.count = d.count;
	r = dataset_cap(&d, "mma-groove", 25, &st, err, sizeof err);
	for (size_t w = 0; w < d.count; w++) {
		valid += d.split[w] == DATASET_VALID;
		train += d.split[w] == DATASET_TRAIN;
		mma += d.split[w] == DATASET_TRAIN && d.source[w] == 0;
	}
	ok(r == 0 && st.cap_dropped > 0 && 100 * mma <= 25 * train && 100 * (mma + 1) > 25 * (train + 1) &&
	    st.cap_before - st.cap_dropped == mma, "--cap mma-groove:25: %ld of %ld train windows left (%.1f %%; "
	    "%ld dropped)", mma, train, 100.0 * (double)mma / (double)train, st.cap_dropped);
	ok(valid == 100 - st.valid_exact - st.valid_near && d.sources[0].capped == st.cap_dropped,
	    "validation windows untouched; the source counts what it lost");
	dataset_cap(&d2, "mma-groove", 25, &st2, err, sizeof err);
	ok(d2.count == d.count && memcmp(d2.tokens, d.tokens, d.count * T * 2) == 0, "deterministic");
	dataset_free(&d);
	dataset_free(&d2);
}

/* ---- the file ------------------------------------------------------------------------------- */

static uint64_t
fnv(const unsigned char *p, size_t n)
{
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b = malloc(1 << 20);

	*len = fread(b, 1, 1 << 20, f);
	fclose(f);
	return b;
}

static int
rejects(const unsigned char *buf, size_t len, const char *want, const char *what)
{
	struct dataset d;
	char err[512] = "";
	int r = dataset_read_mem(&d, buf, len, "x.ds", err, sizeof err);

	if (r == 0 || strstr(err, want) == NULL || strncmp(err, "x.ds: at byte ", 14) != 0)
		diag("%s: got '%s', want '%s'", what, err, want);
	return r == -1 && strstr(err, want) != NULL && strncmp(err, "x.ds: at byte ", 14) == 0 &&
	    d.count == 0 && d.tokens == NULL;
}

/* The version 1 form of a version 2 file buf (same windows, no kinds, no options) reads back as d. */
static int
read_v1(const unsigned char *buf, size_t len, const struct dataset *d)
{
	size_t rec = 2 * T + 8, pos = 64 + d->count * rec, n = pos;
	unsigned char *v1 = malloc(len);
	struct dataset r;
	char err[256];
	uint64_t h;
	int good;

	memcpy(v1, buf, pos);
	v1[8] = 1;
	for (size_t i = 0; i < d->n_sources; i++) {
		size_t l;
		v1[n++] = buf[pos++];           /* split */
		for (int k = 0; k < 4; k++) {   /* path, package, licence, kind (dropped) */
			l = buf[pos] | buf[pos + 1] << 8 | buf[pos + 2] << 16 | (size_t)buf[pos + 3] << 24;
			if (k < 3)
				memcpy(v1 + n, buf + pos, 4 + l), n += 4 + l;
			pos += 4 + l;
		}
	}
	for (int i = 0; i < 8; i++)
		v1[48 + i] = (unsigned char)((uint64_t)(n - 64 - d->count * rec) >> (8 * i));
	h = fnv(v1 + 64, n - 64);
	for (int i = 0; i < 8; i++)
		v1[56 + i] = (unsigned char)(h >> (8 * i));
	if (dataset_read_mem(&r, v1, n, "v1.ds", err, sizeof err) == -1)
		diag("%s", err);
	good = r.version == 1 && r.count == d->count && memcmp(r.tokens, d->tokens, d->count * T * 2) == 0 &&
	    r.valid_distance == -1 && strcmp(r.sources[0].kind, "") == 0 && strcmp(r.cap_kind, "") == 0;
	dataset_free(&r);
	free(v1);
	return good;
}

static void
test_file(void)
{
	struct dataset_opts o;
	struct dataset d, r;
	struct seq s;
	char path[256], err[256];
	char *files[1];
	unsigned char *buf;
	size_t len, rec = 2 * T + 8;
	int same = 1;

	fresh(&s);
	for (int t = 0; t < 96; t += 3)
		add(&s, 50 + t % 17, t, t + 2, 0);
	files[0] = write_mid("round.mid", &s);
	dataset_opts_init(&o, DATASET_MELODY);
	o.valid_permille = 0;
	const char *pkg[] = { "pkg" }, *lic[] = { "GPL-2+" };
	o.packages = pkg;
	o.licences = lic;
	dataset_build(&o, files, 1, &d, err, sizeof err);
	snprintf(path, sizeof path, "%s/x.ds", tmpdir);
	is_int(dataset_write(&d, path, err, sizeof err), 0, "dataset_write");
	is_int(dataset_read(&r, path, err, sizeof err), 0, "dataset_read");
	same = r.count == d.count && r.num_steps == T && r.kind == DATASET_MELODY && r.n_classes == 90 &&
	    r.min_pitch == 21 && r.n_sources == 1 && memcmp(r.tokens, d.tokens, d.count * T * 2) == 0 &&
	    memcmp(r.source, d.source, d.count * 4) == 0 && memcmp(r.split, d.split, d.count) == 0 &&
	    memcmp(r.transpose, d.transpose, d.count) == 0 && strcmp(r.sources[0].path, files[0]) == 0 &&
	    strcmp(r.sources[0].package, "pkg") == 0 && strcmp(r.sources[0].licence, "GPL-2+") == 0 &&
	    r.sources[0].split == d.sources[0].split;
	ok(same && d.count > 12, "round trip of %zu windows", d.count);
	dataset_free(&r);

	buf = slurp(path, &len);
	/* version 3: the source's kind (""), then valid kinds (""), distance, cap kind (""), percent, classes */
	is_int(len, 64 + d.count * rec + 1 + 4 + strlen(files[0]) + 4 + 3 + 4 + 6 + 4 + 4 + 4 + 4 + 4 + 4,
	    "file size as documented");
	ok(read_v1(buf, len, &d), "a version 1 file (no kinds, no options) is still read");
	ok(rejects(buf, 40, "truncated header", "short header"), "truncated header rejected");
	ok(rejects(buf, len - 5, "truncated", "cut file"), "truncated file rejected");
	buf[64 + rec + 3] ^= 0x40;
	ok(rejects(buf, len, "checksum", "flipped bit"), "corrupt byte rejected by the checksum");
	buf[64 + rec + 3] ^= 0x40;
	buf[64 + 2 * rec + 2] = 0xff;                   /* token 255 in a melody window, checksum made right */
	{
		uint64_t h = fnv(buf + 64, len - 64);
		for (int i = 0; i < 8; i++)
			buf[56 + i] = (unsigned char)(h >> (8 * i));
	}
	snprintf(err, sizeof err, "at byte %zu: window 2: token %u at step 1", 64 + 2 * rec + 2,
	    buf[64 + 2 * rec + 2] | buf[64 + 2 * rec + 3] << 8);
	ok(rejects(buf, len, err, "bad token"), "bad token rejected at its offset");
	memcpy(buf, "MVAEDSEX", 8);
	ok(rejects(buf, len, "not a dataset file", "magic"), "bad magic rejected");
	free(buf);
	snprintf(path, sizeof path, "%s/none.ds", tmpdir);
	ok(dataset_read(&r, path, err, sizeof err) == -1 && strstr(err, "none.ds") != NULL, "missing file: %s",
	    err);
	dataset_free(&d);
	seq_fini(&s);
}

/* ---- groove: velocities and micro-timing ------------------------------------------------------ */

/* Drum notes off their steps with varied velocities (two of one class on some steps): the groove windows hold
 * GrooveConverter's velocity and offset of each hit (codec_encode of the window's notes), the file keeps
 * them, and a velocity where there is no hit is refused by name. */
static void
test_groove(void)
{
	json_t *dc = json_pack("{s:s, s:{s:i}}", "type", "GrooveConverter", "args", "numSteps", T);
	struct dataset_opts o;
	struct dataset d, r;
	struct codec gc;
	struct seq s;
	float x[T * 27];
	char err[256], path[256], *files[1];
	int good = 1, offs = 0, loud = 1;
	unsigned char *buf;
	size_t len;

	if (dc == NULL || codec_from_json(&gc, dc, err, sizeof err) == -1) {
		printf("Bail out! GrooveConverter: %s\n", err);
		exit(1);
	}
	json_decref(dc);
	fresh(&s);
	for (int t = 0; t < 48; t++) {
		double late = ((t * 37) % 21 - 10) / 25.0;      /* -0.4 .. 0.4 of a step */
		struct note n = { .pitch = 36, .velocity = 40 + (t * 13) % 80, .is_drum = 1, .start = t, .end = t + 1,
		    .start_time = (t + late) * 0.125, .end_time = (t + 1) * 0.125 };
		if (t % 2 == 0 && seq_add(&s, &n) == -1)
			abort();
		n.pitch = 38, n.velocity = 70, n.start_time = (t - late / 2) * 0.125;
		if (t % 3 == 0 && seq_add(&s, &n) == -1)
			abort();
		n.pitch = 40, n.velocity = t % 6 == 0 ? 90 : 70, n.start_time = (t + 0.1) * 0.125;  /* snare too */
		if (t % 3 == 0 && seq_add(&s, &n) == -1)
			abort();
	}
	s.total_steps = 48;
	is_int(windows(&d, &s, DATASET_GROOVE, 0), 2, "groove: 2 windows in 3 bars");
	ok(d.groove != NULL && d.n_classes == 512, "groove windows carry velocities and offsets");
	for (size_t w = 0; d.groove != NULL && w < d.count; w++) {
		struct seq win;
		fresh(&win);
		for (size_t i = 0; i < s.n; i++) {
			struct note n = s.notes[i];
			if (n.start < (int)w * 16 || n.start >= (int)w * 16 + T)
				continue;
			n.start -= (int)w * 16, n.end -= (int)w * 16;
			n.start_time -= w * 16 * 0.125, n.end_time -= w * 16 * 0.125;
			if (seq_add(&win, &n) == -1)
				abort();
		}
		win.total_steps = T;
		if (codec_encode(&gc, &win, x, err, sizeof err) == -1)
			diag("codec_encode: %s", err);
		for (int t = 0; t < T; t++)
			for (int k = 0; k < 9; k++) {
				const int16_t *g = d.groove + (w * T + t) * DATASET_GROOVE_COLS;
				int hit = (d.tokens[w * T + t] >> k) & 1;
				double off = (double)g[9 + k] / DATASET_OFFSET_ONE;
				good &= hit == (x[t * 27 + k] != 0.0f) && (float)(g[k] / 127.0) == x[t * 27 + 9 + k] &&
				    fabs(off - x[t * 27 + 18 + k]) <= 0.5 / DATASET_OFFSET_ONE + 1e-7;
				offs += hit && g[9 + k] != 0;
				if (hit && k == 1 && t % 6 == 0)
					loud &= g[k] == 90;
			}
		seq_fini(&win);
	}
	ok(good && offs > 20, "groove velocities and offsets = codec_encode(GrooveConverter) (%d hits off "
	    "their steps)", offs);
	ok(loud, "two notes of one class on a step: the louder one's velocity and offset");
	dataset_free(&d);

	dataset_opts_init(&o, DATASET_GROOVE);
	o.valid_permille = 0;
	s.qpm = 120.0;
	s.steps_per_quarter = 0;        /* written from the seconds: the micro-timing goes into the file */
	files[0] = write_mid("groove.mid", &s);
	offs = 0;
	snprintf(path, sizeof path, "%s/g.ds", tmpdir);
	good = dataset_build(&o, files, 1, &d, err, sizeof err) == 0 && dataset_write(&d, path, err, sizeof err) == 0 &&
	    dataset_read(&r, path, err, sizeof err) == 0 && r.kind == DATASET_GROOVE && r.count == d.count &&
	    d.count == 2 && memcmp(r.groove, d.groove, d.count * T * DATASET_GROOVE_COLS * 2) == 0 &&
	    memcmp(r.tokens, d.tokens, d.count * T * 2) == 0;
	ok(good, "groove file round trip through MIDI and .ds (%zu windows)", d.count);
	for (size_t i = 0; r.groove != NULL && i < r.count * T * 9; i++)
		offs += r.groove[i / 9 * DATASET_GROOVE_COLS + 9 + i % 9] != 0;
	ok(offs > 20, "the offsets came through the MIDI file (%d hits off their steps)", offs);
	dataset_free(&r);
	buf = slurp(path, &len);
	{
		size_t rec = dataset_record_bytes(DATASET_GROOVE, T), at = 64 + rec + 2 * T + 8 + 2 * (1 * 18 + 4);
		uint64_t h;
		buf[at] = 50;           /* window 1, step 1, class 4 (low tom): never hit here */
		h = fnv(buf + 64, len - 64);
		for (int i = 0; i < 8; i++)
			buf[56 + i] = (unsigned char)(h >> (8 * i));
		snprintf(err, sizeof err, "at byte %zu: window 1: step 1 class 4: velocity 50 (no hit there", at);
		ok(rejects(buf, len, err, "groove velocity"), "a velocity without a hit is refused at its offset");
	}
	free(buf);
	dataset_free(&d);
	seq_fini(&s);
}

static void
test_main(void)
{
	char out[256], *argv[8];
	int r;

	snprintf(out, sizeof out, "%s/main.ds", tmpdir);
	argv[0] = (char *)"dataset";
	argv[1] = (char *)"-q";
	argv[2] = (char *)"-o";
	argv[3] = out;
	argv[4] = (char *)"--kind";
	argv[5] = (char *)"melody";
	argv[6] = write_mid("round.mid", &(struct seq){ .steps_per_quarter = 4, .qpm = 120 });
	r = cmd_dataset(7, argv);
	is_int(r, 0, "musicvae dataset builds from a file list");
	ok(access(out, F_OK) == 0, "and writes its output");
	argv[1] = (char *)"--info";
	argv[2] = out;
	is_int(cmd_dataset(3, argv), 0, "musicvae dataset --info reads it back");
	argv[1] = (char *)"--kind";
	argv[2] = (char *)"piano";
	ok(cmd_dataset(3, argv) != 0, "unknown kind refused");
}

/* --sources alone: every row of the table, with its package and licence. */
static void
test_main_sources(void)
{
	struct dataset d;
	struct seq s;
	char tsv[256], out[256], err[256], *argv[8];
	FILE *f;

	fresh(&s);
	for (int t = 0; t < 64; t += 2)
		add(&s, t % 8 ? 38 : 36, t, t + 1, 1);
	write_mid("song.mid", &s);
	snprintf(tsv, sizeof tsv, "%s/sources.tsv", tmpdir);
	snprintf(out, sizeof out, "%s/drums.ds", tmpdir);
	f = fopen(tsv, "w");
	fputs("path\tpackage\tversion\tlicence\tkind\nsong.mid\tpkgX\t1.0\tGPL-3+\tmidi\n", f);
	fclose(f);
	argv[0] = (char *)"dataset";
	argv[1] = (char *)"--sources";
	argv[2] = tsv;
	argv[3] = (char *)"-q";
	argv[4] = (char *)"--kind";
	argv[5] = (char *)"drums";
	argv[6] = (char *)"-o";
	argv[7] = out;
	is_int(cmd_dataset(8, argv), 0, "musicvae dataset --sources TSV: the table's files");
	if (dataset_read(&d, out, err, sizeof err) == -1)
		diag("%s", err);
	ok(d.kind == DATASET_DRUMS && d.n_sources == 1 && d.count == 1 /* two equal windows */ && strcmp(d.sources[0].path, "song.mid") == 0 && strcmp(d.sources[0].package, "pkgX") == 0 &&
	    strcmp(d.sources[0].licence, "GPL-3+") == 0, "with their path, package and licence (%zu windows)",
	    d.count);
	dataset_free(&d);
	seq_fini(&s);
}

int
main(int argc, char **argv)
{
	unsigned seed = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : (unsigned)time(NULL);
	char cmd[300];

	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	plan(71);
	diag("seed %u (pass it as the first argument to replay)", seed);
	test_silence_split();
	test_top_line();
	test_instruments();
	test_codec_parity(seed);
	test_meter();
	test_smf_time_sig();
	test_drums();
	test_groove();
	test_build();
	test_split();
	test_valid_kinds();
	test_near_duplicates();
	test_filter_brute(seed);
	test_cap(seed);
	test_file();
	test_main();
	test_main_sources();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		diag("could not remove %s", tmpdir);
	return tap_failed != 0 || tap_n != tap_planned;
}
