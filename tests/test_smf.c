/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_smf.c: note sequences (quantization, JSON) and Standard MIDI Files: round trips, hand-made files,
 * every rejection, and a seeded mutation run (TEST_SEED=n replays one). */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "seq.h"
#include "seq_json.h"
#include "smf.h"
#include "tap.h"

/* ---- building files by hand -------------------------------------------------------------- */

struct mb {
	unsigned char b[1 << 14];
	size_t n, trk;
};

/* Appends bytes written as hex pairs: "90 3C 40". */
static void
mb_hex(struct mb *m, const char *hex)
{
	unsigned v;
	int used;

	while (sscanf(hex, " %2x%n", &v, &used) == 1) {
		m->b[m->n++] = (unsigned char)v;
		hex += used;
	}
}

static void
mb_header(struct mb *m, int format, int ntracks, int division)
{
	m->n = 0;
	mb_hex(m, "4D 54 68 64 00 00 00 06");
	m->b[m->n++] = (unsigned char)(format >> 8);
	m->b[m->n++] = (unsigned char)format;
	m->b[m->n++] = (unsigned char)(ntracks >> 8);
	m->b[m->n++] = (unsigned char)ntracks;
	m->b[m->n++] = (unsigned char)(division >> 8);
	m->b[m->n++] = (unsigned char)division;
}

static void
mb_track(struct mb *m, const char *events)
{
	size_t len;

	mb_hex(m, "4D 54 72 6B 00 00 00 00");
	m->trk = m->n;
	mb_hex(m, events);
	len = m->n - m->trk;
	for (int i = 0; i < 4; i++)
		m->b[m->trk - 4 + (size_t)i] = (unsigned char)(len >> (8 * (3 - i)));
}

static int
rd(const struct mb *m, struct seq *s, char *err)
{
	return smf_read_mem(m->b, m->n, "t.mid", s, err, 256);
}

/* Reading must fail with a message containing want. */
static void
reject(const struct mb *m, const char *want, const char *what)
{
	struct seq s;
	char err[256] = "";
	int r;

	seq_init(&s);
	r = rd(m, &s, err);
	ok(r == -1 && strstr(err, want) != NULL, "rejects %s", what);
	if (r != -1 || strstr(err, want) == NULL)
		diag("  got %d \"%s\", want \"%s\"", r, err, want);
	seq_fini(&s);
}

static struct note
mk(int pitch, int start, int end, int inst, int drum, int prog, int vel)
{
	struct note n;

	memset(&n, 0, sizeof n);
	n.pitch = pitch;
	n.start = start;
	n.end = end;
	n.instrument = inst;
	n.is_drum = drum;
	n.program = prog;
	n.velocity = vel;
	n.start_time = start * 0.125;
	n.end_time = end * 0.125;
	return n;
}

static int
note_eq(const struct note *a, const struct note *b)
{
	return a->pitch == b->pitch && a->velocity == b->velocity && a->program == b->program &&
	    a->is_drum == b->is_drum && a->instrument == b->instrument && a->start == b->start &&
	    a->end == b->end && a->start_time == b->start_time && a->end_time == b->end_time;
}

/* ---- sequences --------------------------------------------------------------------------- */

static void
test_seq_basics(void)
{
	struct seq a, b;
	struct note n = mk(60, 0, 4, 0, 0, 0, 90);

	seq_init(&a);
	seq_init(&b);
	is_float(a.qpm, 120, 0, "seq_init: 120 qpm");
	for (int i = 0; i < 100; i++) {
		n.pitch = i;
		seq_add(&a, &n);
	}
	a.total_steps = 7;
	ok(seq_copy(&b, &a) == 0 && b.n == 100 && b.notes != a.notes && b.notes[99].pitch == 99 &&
	    b.total_steps == 7, "seq_copy: deep copy of 100 notes");
	seq_clear(&a);
	ok(a.n == 0 && a.cap >= 100 && a.total_steps == 7, "seq_clear keeps allocation and timing");
	seq_fini(&a);
	seq_fini(&b);
}

static void
test_seq_quantize(void)
{
	struct seq s;
	struct note n = mk(60, 0, 0, 0, 0, 0, 0);
	double st[] = { 0.0625, 0.0624, 1.0, 0.3 };
	double en[] = { 0.25, 0.0626, 1.0, 4.0 };

	seq_init(&s);
	for (int i = 0; i < 4; i++) {
		n.start_time = st[i];
		n.end_time = en[i];
		seq_add(&s, &n);
	}
	s.total_time = 5.0;
	ok(seq_quantize(&s, 4) == 0, "seq_quantize at 120 qpm, 4 steps/quarter");
	is_int(s.notes[0].start, 1, "half a step rounds up (0.0625 s -> 1)");
	is_int(s.notes[0].end, 2, "0.25 s -> step 2");
	is_int(s.notes[1].start, 0, "just under half a step rounds down");
	is_int(s.notes[1].end, 1, "0.0626 s -> 1");
	is_int(s.notes[2].end - s.notes[2].start, 1, "zero-length note gets one step");
	is_int(s.total_steps, 40, "total_steps from totalTime (5 s = 40 steps)");
	s.total_time = 0;
	ok(seq_quantize(&s, 4) == 0 && s.total_steps == 32, "total_steps from the last note end");
	s.qpm = 90;
	ok(seq_quantize(&s, 4) == 0 && s.notes[3].end == 24 && s.notes[3].start == 2,
	    "90 qpm: 6 steps per second");
	s.notes[1].start_time = -1;
	s.notes[0].start = 99;
	ok(seq_quantize(&s, 4) == -1 && s.notes[0].start == 99, "negative time: -1, sequence unchanged");
	s.notes[1].start_time = 0;
	ok(seq_quantize(&s, 0) == -1, "0 steps per quarter refused");
	seq_fini(&s);
}

static void
test_seq_json(void)
{
	static const char *js = "{\"notes\":[{\"pitch\":60,\"velocity\":80,\"startTime\":0.5,\"endTime\":1,"
	    "\"quantizedStartStep\":\"4\",\"quantizedEndStep\":\"8\"},"
	    "{\"pitch\":36,\"isDrum\":true,\"instrument\":2,\"quantizedEndStep\":1,\"program\":5}],"
	    "\"quantizationInfo\":{\"stepsPerQuarter\":4},\"tempos\":[{\"time\":0,\"qpm\":90}],"
	    "\"totalQuantizedSteps\":\"32\",\"totalTime\":10.5}";
	struct seq s, t;
	json_t *j = json_loads(js, 0, NULL), *out;
	char err[256];

	seq_init(&s);
	seq_init(&t);
	ok(seq_from_json(&s, j, err, sizeof err) == 0, "seq_from_json: protobuf-js style (int64 as strings)");
	ok(s.n == 2 && s.notes[0].pitch == 60 && s.notes[0].velocity == 80 && s.notes[0].start == 4 &&
	    s.notes[0].end == 8 && s.notes[0].start_time == 0.5 && s.notes[0].end_time == 1 &&
	    !s.notes[0].is_drum && s.notes[0].program == 0, "note 0 fields");
	ok(s.notes[1].is_drum && s.notes[1].instrument == 2 && s.notes[1].start == 0 && s.notes[1].end == 1 &&
	    s.notes[1].program == 5 && s.notes[1].velocity == 0, "note 1 fields, defaults for absent ones");
	ok(s.steps_per_quarter == 4 && s.qpm == 90 && s.total_steps == 32 && s.total_time == 10.5,
	    "sequence fields");
	out = seq_to_json(&s);
	ok(out != NULL && seq_from_json(&t, out, err, sizeof err) == 0 && t.n == 2 &&
	    note_eq(&t.notes[0], &s.notes[0]) && note_eq(&t.notes[1], &s.notes[1]) && t.qpm == 90 && t.total_steps == 32 &&
	    t.steps_per_quarter == 4 && t.total_time == 10.5, "seq_to_json -> seq_from_json round trip");
	ok(json_object_get(json_array_get(json_object_get(out, "notes"), 1), "velocity") == NULL &&
	    json_is_integer(json_object_get(json_array_get(json_object_get(out, "notes"), 0),
	    "quantizedStartStep")), "unset velocity omitted, steps as JSON integers");
	json_decref(out);
	json_decref(j);
	seq_fini(&s);
	seq_fini(&t);
}

static void
json_reject(const char *js, const char *want)
{
	json_t *j = json_loads(js, JSON_DECODE_ANY, NULL);
	struct seq s;
	char err[256] = "";
	int r;

	seq_init(&s);
	r = seq_from_json(&s, j, err, sizeof err);
	ok(r == -1 && strstr(err, want) != NULL && s.n == 0, "JSON error: %s", want);
	if (r != -1 || strstr(err, want) == NULL)
		diag("  got \"%s\"", err);
	json_decref(j);
	seq_fini(&s);
}

static void
test_seq_json_errors(void)
{
	json_reject("[]", "expected a JSON object");
	json_reject("{\"notes\":{}}", "notes: expected an array");
	json_reject("{\"notes\":[{\"pitch\":1},{\"velocity\":3}]}", "note 1: missing pitch");
	json_reject("{\"notes\":[{\"pitch\":200}]}", "note 0: pitch 200 out of range 0..127");
	json_reject("{\"notes\":[{\"pitch\":1,\"quantizedStartStep\":\"x4\"}]}",
	    "note 0: quantizedStartStep: expected an integer");
	json_reject("{\"notes\":[{\"pitch\":1,\"quantizedStartStep\":5,\"quantizedEndStep\":4}]}",
	    "note 0: quantizedEndStep 4 before quantizedStartStep 5");
	json_reject("{\"notes\":[{\"pitch\":1},{\"pitch\":2,\"isDrum\":1}]}", "note 1: isDrum");
	json_reject("{\"notes\":[{\"pitch\":1,\"startTime\":\"NaN\"}]}", "note 0: startTime: expected a finite");
	json_reject("{\"notes\":[{\"pitch\":1,\"startTime\":2,\"endTime\":1}]}", "note 0: endTime 1 before");
	json_reject("{\"notes\":[{\"pitch\":1,\"velocity\":1.5}]}", "note 0: velocity: expected an integer");
	json_reject("{\"notes\":[],\"tempos\":[{\"qpm\":0}]}", "tempos[0]: qpm");
	json_reject("{\"quantizationInfo\":{\"stepsPerQuarter\":-1}}", "quantizationInfo: stepsPerQuarter -1");
}

/* ---- SMF round trips --------------------------------------------------------------------- */

static int
roundtrip(const struct seq *in, struct seq *out)
{
	unsigned char *buf;
	size_t len;
	char err[256];
	int r;

	if (smf_write_mem(in, &buf, &len, err, sizeof err) == -1) {
		diag("write: %s", err);
		return -1;
	}
	r = smf_read_mem(buf, len, "rt.mid", out, err, sizeof err);
	if (r == -1)
		diag("read: %s", err);
	free(buf);
	return r;
}

static void
test_roundtrip_melody(void)
{
	struct seq a, b;
	int pitches[] = { 60, 62, 64, 65, 67, 67, 72 };
	int ok_all = 1;

	seq_init(&a);
	seq_init(&b);
	a.steps_per_quarter = 4;
	for (int i = 0; i < 7; i++) {
		struct note n = mk(pitches[i], 2 * i, 2 * i + 2, 0, 0, 0, i ? 60 + i : 0);

		seq_add(&a, &n);
	}
	a.total_steps = 16;
	ok(roundtrip(&a, &b) == 0 && b.n == 7, "melody: write and read back 7 notes");
	for (size_t i = 0; i < b.n; i++)
		ok_all &= b.notes[i].pitch == pitches[i] && b.notes[i].start == (int)i * 2 &&
		    b.notes[i].end == (int)i * 2 + 2 && b.notes[i].velocity == (i ? 60 + (int)i : 100) &&
		    b.notes[i].start_time == i * 0.25 && b.notes[i].end_time == i * 0.25 + 0.25 &&
		    !b.notes[i].is_drum && b.notes[i].instrument == 0;
	ok(ok_all, "melody: pitches, steps, seconds, velocities (0 -> 100), repeated pitch kept");
	ok(b.steps_per_quarter == 4 && b.qpm == 120 && b.total_steps == 14 && b.total_time == 1.75,
	    "melody: 4 steps/quarter, 120 qpm, total from the last note");
	seq_fini(&a);
	seq_fini(&b);
}

static void
test_roundtrip_trio(void)
{
	struct seq a, b;
	struct note n[] = {
		mk(72, 0, 4, 0, 0, 0, 0), mk(36, 0, 1, 2, 1, 0, 110), mk(40, 0, 8, 1, 0, 33, 0),
		mk(42, 2, 3, 2, 1, 0, 70), mk(74, 4, 6, 0, 0, 0, 0), mk(38, 4, 5, 2, 1, 0, 0),
	};
	int drum_ok = 1, mel_ok = 1;

	seq_init(&a);
	seq_init(&b);
	a.steps_per_quarter = 4;
	a.qpm = 100;
	for (size_t i = 0; i < 6; i++)
		seq_add(&a, &n[i]);
	ok(roundtrip(&a, &b) == 0 && b.n == 6, "trio: 6 notes back");
	is_float(b.qpm, 100, 1e-9, "trio: tempo 100 qpm");
	for (size_t i = 0; i < b.n; i++) {
		const struct note *x = &b.notes[i];

		if (x->is_drum)
			drum_ok &= x->instrument == 2 && x->program == 0;
		else if (x->pitch >= 72)
			mel_ok &= x->instrument == 0 && x->program == 0;
		else
			mel_ok &= x->instrument == 1 && x->program == 33 && x->end == 8;
	}
	ok(drum_ok, "trio: drums on channel 10 come back as drums, instrument 2");
	ok(mel_ok, "trio: melody instrument 0, bass instrument 1 with program 33");
	is_float(b.notes[1].start_time, 0, 0, "trio: sorted by onset");
	is_float(b.notes[b.n - 1].start_time, 4 * 60.0 / 100 / 4, 1e-12, "trio: seconds at 100 qpm");
	seq_fini(&a);
	seq_fini(&b);
}

static void
test_roundtrip_file(void)
{
	struct seq a, b;
	struct note n = mk(60, 0, 0, 0, 0, 7, 0);
	char path[] = "/tmp/test_smf_XXXXXX", err[256];
	int fd = mkstemp(path);

	seq_init(&a);
	seq_init(&b);
	a.qpm = 90;                     /* not quantized: written from seconds */
	n.start_time = 1.0;
	n.end_time = 1.5;
	seq_add(&a, &n);
	n.pitch = 64;
	n.start_time = 1.5;
	n.end_time = 1.5;               /* zero length: one tick */
	seq_add(&a, &n);
	ok(fd >= 0 && smf_write(path, &a, err, sizeof err) == 0, "smf_write to %s", path);
	ok(smf_read(path, &b, err, sizeof err) == 0 && b.n == 2, "smf_read back");
	is_float(b.notes[0].start_time, 1.0, 1e-6, "seconds preserved at 90 qpm");
	is_float(b.notes[0].end_time, 1.5, 1e-6, "end preserved");
	ok(b.notes[0].start == 6 && b.notes[0].end == 9 && b.notes[0].program == 7, "steps from ticks, program");
	ok(b.notes[1].start == 9 && b.notes[1].end == 10, "zero-length note: one step");
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	ok(smf_read("/nonexistent/x.mid", &b, err, sizeof err) == -1 && strstr(err, "/nonexistent/x.mid: "),
	    "smf_read: missing file named (%s)", err);
	ok(smf_write("/nonexistent/x.mid", &a, err, sizeof err) == -1 && strstr(err, "/nonexistent/x.mid: "),
	    "smf_write: unwritable path named (%s)", err);
	seq_fini(&a);
	seq_fini(&b);
}

static void
test_write_rules(void)
{
	struct seq a, b;
	struct note n = mk(60, 0, 8, 0, 0, 0, 0);
	unsigned char *buf;
	size_t len;
	char err[256];

	seq_init(&a);
	seq_init(&b);
	a.steps_per_quarter = 4;
	seq_add(&a, &n);
	n.start = 4;
	n.end = 6;
	seq_add(&a, &n);                /* same pitch inside the first: first is cut at 4 */
	ok(roundtrip(&a, &b) == 0 && b.n == 2 && b.notes[0].end == 4 && b.notes[1].start == 4 &&
	    b.notes[1].end == 6, "same-pitch overlap cut at the later onset");
	a.notes[1].pitch = 200;
	ok(smf_write_mem(&a, &buf, &len, err, sizeof err) == -1 && strstr(err, "note 1: "),
	    "pitch 200 refused: %s", err);
	a.notes[1].pitch = 60;
	a.qpm = 0;
	ok(smf_write_mem(&a, &buf, &len, err, sizeof err) == -1 && strstr(err, "tempo"), "qpm 0 refused: %s", err);
	a.qpm = 120;
	a.n = 0;
	ok(roundtrip(&a, &b) == 0 && b.n == 0 && b.total_steps == 0, "empty sequence round trip");
	seq_fini(&a);
	seq_fini(&b);
}

/* ---- hand-made files --------------------------------------------------------------------- */

static void
test_running_status(void)
{
	struct mb m;
	struct seq s;
	char err[256];

	seq_init(&s);
	mb_header(&m, 0, 1, 96);
	/* on 60, running: on 64, meta text (keeps running status), running: 60 vel 0, 80-off 64 */
	mb_track(&m, "00 90 3C 40  00 40 50  00 FF 01 02 68 69  18 3C 00  00 FF 01 00 18 40 00"
	    "  00 80 40 00  00 FF 2F 00");
	ok(rd(&m, &s, err) == 0 && s.n == 2, "running status across a meta event, format 0");
	ok(s.n == 2 && s.notes[0].pitch == 60 && s.notes[0].end == 1 && s.notes[0].velocity == 64 &&
	    s.notes[1].pitch == 64 && s.notes[1].end == 2 && s.notes[1].velocity == 80,
	    "note-on velocity 0 ends a note; velocities kept");
	is_int(s.total_steps, 2, "total_steps");
	seq_fini(&s);
}

static void
test_tempo_change(void)
{
	struct mb m;
	struct seq s;
	char err[256];

	seq_init(&s);
	mb_header(&m, 1, 2, 96);
	/* 120 qpm at 0, 240 qpm at tick 96 */
	mb_track(&m, "00 FF 51 03 07 A1 20  60 FF 51 03 03 D0 90  00 FF 2F 00");
	mb_track(&m, "00 C0 28  00 90 3C 64  60 80 3C 00  00 90 3E 64  60 80 3E 00  00 FF 2F 00");
	ok(rd(&m, &s, err) == 0 && s.n == 2, "format 1: tempo track + note track");
	is_int(s.tempo_changes, 1, "tempo_changes: 120 then 240 qpm");
	is_float(s.qpm, 120, 0, "qpm from the first tempo");
	is_float(s.notes[1].start_time, 0.5, 1e-12, "second note starts at 0.5 s");
	is_float(s.notes[1].end_time, 0.75, 1e-12, "and ends at 0.75 s (240 qpm)");
	ok(s.notes[1].start == 4 && s.notes[1].end == 8, "steps come from ticks, not seconds");
	ok(s.notes[0].program == 40 && s.notes[1].program == 40, "program change applies to the channel");
	is_float(s.total_time, 0.75, 1e-12, "total_time");
	mb_header(&m, 1, 1, 96);
	mb_track(&m, "00 90 3C 64  60 80 3C 00  00 FF 51 03 0F 42 40  60 90 3C 64  60 FF 2F 00");
	ok(rd(&m, &s, err) == 0 && s.n == 2, "first tempo after tick 0");
	is_float(s.qpm, 60, 1e-12, "qpm is that first tempo (60)");
	is_float(s.notes[0].end_time, 0.5, 1e-12, "120 qpm implied before it");
	is_float(s.notes[1].end_time, 2.5, 1e-12, "a note never closed ends at the end of track");
	is_int(s.tempo_changes, 1, "tempo_changes: the implied 120, then 60");
	mb_header(&m, 1, 1, 96);     /* 100 qpm at tick 0 twice (the last wins), again at 96: no change */
	mb_track(&m, "00 FF 51 03 07 A1 20  00 FF 51 03 09 27 C0  00 90 3C 64  60 FF 51 03 09 27 C0  00 80 3C 00  00 FF 2F 00");
	ok(rd(&m, &s, err) == 0 && s.tempo_changes == 0 && s.qpm == 100.0, "one tempo set three times: no change");
	mb_header(&m, 1, 1, 96);     /* 120 qpm only from tick 96: the implied one */
	mb_track(&m, "00 90 3C 64  60 FF 51 03 07 A1 20  00 80 3C 00  00 FF 2F 00");
	ok(rd(&m, &s, err) == 0 && s.tempo_changes == 0, "120 qpm set late: no change");
	seq_fini(&s);
}

static void
test_quantize_ticks(void)
{
	struct mb m;
	struct seq s;
	char err[256];

	seq_init(&s);
	mb_header(&m, 0, 1, 96);        /* 24 ticks per step */
	mb_track(&m, "0C 90 3C 64  01 80 3C 00  00 90 3E 64  0B 80 3E 00  00 90 40 64  24 80 40 00"
	    "  00 FF 2F 00");
	ok(rd(&m, &s, err) == 0 && s.n == 3, "three short notes");
	ok(s.notes[0].start == 1 && s.notes[0].end == 2, "onset at exactly half a step rounds up; end >= start+1");
	ok(s.notes[1].start == 1 && s.notes[1].end == 2, "tick 13 -> 1, tick 24 -> 1 -> end 2");
	ok(s.notes[2].start == 1 && s.notes[2].end == 3, "tick 60 (2.5 steps) -> 3");
	is_int(s.total_steps, 3, "total_steps = ceil(60/24)");
	seq_fini(&s);
}

static void
test_overlap_and_drums(void)
{
	struct mb m;
	struct seq s;
	char err[256];

	seq_init(&s);
	mb_header(&m, 1, 1, 4);         /* 1 tick per step */
	/* two overlapping 60s, a sysex, an unknown chunk before the track, drums on channel 10, a dangling note */
	m.n = 14;
	mb_hex(&m, "58 59 5A 5A 00 00 00 02 AB CD");
	mb_track(&m, "00 90 3C 40  02 90 3C 50  00 F0 03 7E 7F F7  02 80 3C 00  02 80 3C 00"
	    "  00 99 24 70  01 89 24 00  00 90 43 40  05 FF 2F 00");
	m.b[11] = 1;
	ok(rd(&m, &s, err) == 0 && s.n == 4, "unknown chunk and sysex skipped (%s)", err);
	ok(s.n == 4 && s.notes[0].start == 0 && s.notes[0].end == 2 && s.notes[1].start == 2 &&
	    s.notes[1].end == 4 && s.notes[1].velocity == 80, "a new note-on closes the sounding one");
	ok(s.n == 4 && s.notes[2].pitch == 36 && s.notes[2].is_drum && s.notes[2].instrument == 1 &&
	    !s.notes[0].is_drum && s.notes[0].instrument == 0, "channel 10 = drums, own instrument");
	ok(s.n == 4 && s.notes[3].pitch == 67 && s.notes[3].end == 12, "dangling note ends at end of track");
	seq_fini(&s);
}

static void
test_rejections(void)
{
	struct mb m;
	struct seq s;
	char err[256];

	m.n = 0;
	reject(&m, "t.mid: at byte 0: not a Standard MIDI File", "an empty file");
	mb_hex(&m, "52 49 46 46 00 00 00 00 00 00 00 00 00 00 00 00");
	reject(&m, "t.mid: at byte 0: not a Standard MIDI File", "a RIFF file");
	mb_header(&m, 0, 1, 96);
	m.n = 12;
	reject(&m, "t.mid: at byte 0: truncated header", "a truncated header");
	mb_header(&m, 0, 1, 96);
	m.b[7] = 4;
	reject(&m, "t.mid: at byte 4: bad header: length 4", "a header length of 4");
	mb_header(&m, 0, 1, 96);
	m.b[4] = 1;
	reject(&m, "t.mid: at byte 4: bad header: length 16777222 past the end", "a header length past the end");
	mb_header(&m, 2, 1, 96);
	reject(&m, "t.mid: at byte 8: format 2", "format 2");
	mb_header(&m, 7, 1, 96);
	reject(&m, "unknown format 7", "format 7");
	mb_header(&m, 1, 0, 96);
	reject(&m, "t.mid: at byte 10: bad header: no tracks", "zero tracks");
	mb_header(&m, 1, 1, 0xE728);
	reject(&m, "t.mid: at byte 12: SMPTE time division", "SMPTE division");
	mb_header(&m, 1, 1, 0);
	reject(&m, "t.mid: at byte 12: bad header: 0 ticks", "0 ticks per quarter");
	mb_header(&m, 1, 2, 96);
	mb_track(&m, "00 FF 2F 00");
	reject(&m, "t.mid: at byte 26: truncated file: the header announces 2 tracks, 1 found", "a missing track");
	mb_header(&m, 1, 1, 96);
	mb_track(&m, "00 FF 2F 00");
	m.b[21] = 5;
	reject(&m, "t.mid: at byte 18: chunk length 5 past the end of the file (4 bytes left)", "chunk past end");
	mb_header(&m, 1, 1, 96);
	mb_track(&m, "00 90 3C");
	reject(&m, "t.mid: track 1 at byte 22: truncated event", "a truncated note-on");
	mb_header(&m, 1, 1, 96);
	mb_track(&m, "00 90 3C 40 81");
	reject(&m, "t.mid: track 1 at byte 26: truncated event", "a truncated delta");
	mb_header(&m, 1, 1, 96);
	mb_track(&m, "00 90 3C 40 81 81 81 81 00 80 3C 00");
	reject(&m, "t.mid: track 1 at byte 26: bad variable-length quantity (more than 4 bytes)", "a 5-byte VLQ");
	mb_header(&m, 1, 1, 96);
	mb_track(&m, "00 3C 40 00 FF 2F 00");
	reject(&m, "t.mid: track 1 at byte 23: data byte 0x3c without a running status", "no running status");
	mb_header(&m, 1, 1, 96);
	mb_track(&m, "00 90 3C 90 00 FF 2F 00");
	reject(&m, "t.mid: track 1 at byte 25: status byte 0x90 where a data byte", "a status byte as data");
	mb_header(&m, 1, 1, 96);
	mb_track(&m, "00 F3 01 00 FF 2F 00");
	reject(&m, "t.mid: track 1 at byte 22: status byte 0xf3 is not allowed", "a system common message");
	mb_header(&m, 1, 1, 96);
	mb_track(&m, "00 FF 51 02 07 A1 00 FF 2F 00");
	reject(&m, "t.mid: track 1 at byte 22: tempo event of 2 bytes", "a 2-byte tempo");
	mb_header(&m, 1, 1, 96);
	mb_track(&m, "00 FF 51 03 00 00 00 00 FF 2F 00");
	reject(&m, "tempo of 0 microseconds", "a zero tempo");
	mb_header(&m, 1, 1, 96);
	mb_track(&m, "00 FF 01 10 41 42");
	reject(&m, "t.mid: track 1 at byte 22: truncated event (meta length 16", "meta past track end");
	mb_header(&m, 1, 1, 96);
	mb_track(&m, "00 F0 8F FF FF 7F 00");
	reject(&m, "t.mid: track 1 at byte 22: truncated event (sysex length", "sysex past track end");
	mb_header(&m, 1, 2, 96);
	mb_track(&m, "00 FF 2F 00");
	mb_track(&m, "00 90 3C 40 00");
	reject(&m, "t.mid: track 2 at byte 38: truncated event", "an error in track 2");
	mb_header(&m, 1, 1, 4);
	mb_track(&m, "00 90 3C 40 FF FF FF 7F 80 3C 00 00 FF 2F 00");
	reject(&m, "t.mid: a note ending at tick 268435455 lies beyond", "a note past SEQ_MAX_STEPS");
	seq_init(&s);
	ok(smf_read_mem(m.b, (size_t)SMF_MAX_BYTES + 1, "big.mid", &s, err, sizeof err) == -1 &&
	    strstr(err, "big.mid: at byte 0: file of") != NULL, "rejects a file over SMF_MAX_BYTES");
	seq_fini(&s);
}

static void
test_note_limit(void)
{
	size_t n = (size_t)SEQ_MAX_NOTES + 1, len = 22 + 4 + 3 * (n - 1) + 4;
	unsigned char *b = malloc(len);
	struct seq s;
	char err[256] = "";

	memcpy(b, "MThd\0\0\0\6\0\0\0\1\0\140MTrk", 18);
	for (int i = 0; i < 4; i++)
		b[18 + i] = (unsigned char)((len - 22) >> (8 * (3 - i)));
	b[22] = 0;
	b[23] = 0x90;
	b[24] = 60;
	b[25] = 64;
	for (size_t i = 1; i < n; i++)
		memcpy(b + 23 + 3 * i, "\1\74\100", 3);     /* running status, one tick apart */
	memcpy(b + len - 4, "\0\377\57\0", 4);
	seq_init(&s);
	ok(smf_read_mem(b, len, "many.mid", &s, err, sizeof err) == -1 && strstr(err, "more than 1048576 notes"),
	    "bounded: %s", err);
	seq_fini(&s);
	free(b);
}

/* ---- mutation ---------------------------------------------------------------------------- */

static uint64_t
xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void
test_mutation(void)
{
	const char *env = getenv("TEST_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)getpid() << 20, x;
	struct mb m;
	struct seq s;
	char err[256];
	int good = 0, bad = 0, explained = 1;

	diag("mutation seed %" PRIu64 " (replay with TEST_SEED=%" PRIu64 ")", seed, seed);
	x = seed ? seed : 1;
	mb_header(&m, 1, 3, 96);
	mb_track(&m, "00 FF 51 03 07 A1 20  60 FF 51 03 03 D0 90  00 FF 58 04 04 02 18 08  00 FF 2F 00");
	mb_track(&m, "00 C0 28  00 90 3C 64  30 3E 50  30 3C 00  00 F0 02 01 F7  30 80 3E 00  00 B0 07 64"
	    "  00 E0 00 40  00 A0 3C 10  00 D0 20  00 FF 2F 00");
	mb_track(&m, "00 99 24 70  18 89 24 00  00 99 26 70  18 26 00  00 FF 01 03 61 62 63  00 FF 2F 00");
	seq_init(&s);
	ok(rd(&m, &s, err) == 0 && s.n == 4, "mutation base file reads (4 notes)");
	for (int it = 0; it < 20000; it++) {
		size_t len = m.n;
		unsigned char *b = malloc(len);
		int k = (int)(xorshift(&x) % 4) + 1, r;

		memcpy(b, m.b, len);
		for (int j = 0; j < k; j++) {
			uint64_t v = xorshift(&x);

			if (v % 5 == 0)
				len = (size_t)(v >> 8) % (len + 1);                  /* truncate */
			else if (len > 0 && v % 5 == 1)
				b[(v >> 8) % len] ^= (unsigned char)(1u << (v >> 40) % 8); /* flip a bit */
			else if (len > 0)
				b[(v >> 8) % len] = (unsigned char)(v >> 40);         /* set a byte */
		}
		r = smf_read_mem(b, len, "m.mid", &s, err, sizeof err);   /* exact-size buffer for ASan */
		if (r == 0)
			good++;
		else
			bad++;
		if (r == -1 && strncmp(err, "m.mid: ", 7) != 0) {
			explained = 0;
			diag("iteration %d: error without the file name: \"%s\"", it, err);
		}
		free(b);
	}
	ok(good + bad == 20000 && explained, "20000 mutations: %d read, %d rejected with a message", good, bad);
	seq_fini(&s);
}

int
main(void)
{
	test_seq_basics();
	test_seq_quantize();
	test_seq_json();
	test_seq_json_errors();
	test_roundtrip_melody();
	test_roundtrip_trio();
	test_roundtrip_file();
	test_write_rules();
	test_running_status();
	test_tempo_change();
	test_quantize_ticks();
	test_overlap_and_drums();
	test_rejections();
	test_note_limit();
	test_mutation();
	plan(tap_n);
	return done_testing();
}
