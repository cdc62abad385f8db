/* SPDX-License-Identifier: GPL-3.0-or-later */
/* smf_write.c: Standard MIDI File writer: a note sequence as format 1, one track per (instrument, drums). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "smf.h"
#include "err.h"
#include "file.h"

#define SMF_MAX_TICK 0x0fffffffu        /* largest delta a 4-byte quantity holds; absolute ticks stay below */
#define SMF_DRUM_CHANNEL 9

/* A note in ticks, plus what orders it inside its track. */
struct smf_wnote {
	uint64_t on, off;
	size_t idx;             /* index in the sequence */
	int instrument, drum, pitch, vel, prog;
};

struct smf_wev {
	uint64_t tick;
	int kind;               /* 0 note-off, 1 note-on: offs first so repeated pitches restrike */
	int pitch, vel, prog;
	size_t order;
};

/* ---- MIDI encodings into the output buffer (buf.h) ------------------------------------------ */

static void
smf_put_vlq(struct buf *o, uint32_t v)
{
	unsigned char b[4];
	int n = 0;

	do {
		b[3 - n] = (unsigned char)((v & 0x7f) | (n ? 0x80 : 0));
		v >>= 7;
		n++;
	} while (v && n < 4);
	buf_put(o, b + 4 - n, (size_t)n);
}

static void
smf_put_event(struct buf *o, uint64_t *last, uint64_t tick, const unsigned char *ev, size_t len)
{
	smf_put_vlq(o, (uint32_t)(tick - *last));
	*last = tick;
	buf_put(o, ev, len);
}

/* Starts an MTrk chunk; returns the offset of its length field for smf_track_end. */
static size_t
smf_track_begin(struct buf *o)
{
	size_t at;

	buf_put(o, "MTrk", 4);
	at = o->n;
	buf_put_be(o, 0, 4);
	return at;
}

static void
smf_track_end(struct buf *o, size_t at, uint64_t *last)
{
	static const unsigned char eot[3] = { 0xff, 0x2f, 0x00 };
	uint32_t len;

	smf_put_event(o, last, *last, eot, sizeof eot);
	if (o->oom)
		return;
	len = (uint32_t)(o->n - at - 4);
	for (int i = 0; i < 4; i++)
		o->p[at + (size_t)i] = (unsigned char)(len >> (8 * (3 - i)));
}

/* ---- notes to ticks ---------------------------------------------------------------------- */

static int
smf_note_check(const struct note *n, size_t i, int quantized, char *err, size_t errlen)
{
	if (n->pitch < 0 || n->pitch > 127 || n->velocity < 0 || n->velocity > 127 || n->program < 0 ||
	    n->program > 127 || n->instrument < 0) {
		err_set(err, errlen, "note %zu: pitch %d, velocity %d, program %d or instrument %d out of range",
		    i, n->pitch, n->velocity, n->program, n->instrument);
		return -1;
	}
	/* seconds before 0 are clamped (smf_wnote_fill): a groove's early hit on the first step is one */
	if (quantized ? (n->start < 0 || n->end < 0) : !(isfinite(n->start_time) && isfinite(n->end_time))) {
		err_set(err, errlen, "note %zu: %s time", i, quantized ? "negative" : "non-finite");
		return -1;
	}
	return 0;
}

static double
smf_ticks(const struct seq *s, int step, double seconds)
{
	if (s->steps_per_quarter > 0)
		return (double)step * SMF_WRITE_PPQ / s->steps_per_quarter;
	return seconds * s->qpm / 60.0 * SMF_WRITE_PPQ;
}

static int
smf_wnote_fill(const struct seq *s, size_t i, struct smf_wnote *w, char *err, size_t errlen)
{
	const struct note *n = &s->notes[i];
	double on, off;

	if (smf_note_check(n, i, s->steps_per_quarter > 0, err, errlen) == -1)
		return -1;
	on = fmax(0.0, floor(smf_ticks(s, n->start, n->start_time) + 0.5));
	off = fmax(0.0, floor(smf_ticks(s, n->end, n->end_time) + 0.5));
	if (off >= SMF_MAX_TICK || on >= SMF_MAX_TICK) {
		err_set(err, errlen, "note %zu: ends after tick %u, past what a MIDI file can say", i, SMF_MAX_TICK);
		return -1;
	}
	w->on = (uint64_t)on;
	w->off = off > on ? (uint64_t)off : w->on + 1;
	w->idx = i;
	w->instrument = n->instrument;
	w->drum = n->is_drum != 0;
	w->pitch = n->pitch;
	w->vel = n->velocity > 0 ? n->velocity : 100;
	w->prog = n->program;
	return 0;
}

static int
smf_cmp_wnote(const void *a, const void *b)
{
	const struct smf_wnote *x = a, *y = b;

	if (x->instrument != y->instrument)
		return x->instrument < y->instrument ? -1 : 1;
	if (x->drum != y->drum)
		return x->drum - y->drum;
	if (x->pitch != y->pitch)
		return x->pitch - y->pitch;
	if (x->on != y->on)
		return x->on < y->on ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int
smf_cmp_wev(const void *a, const void *b)
{
	const struct smf_wev *x = a, *y = b;

	if (x->tick != y->tick)
		return x->tick < y->tick ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind - y->kind;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* ---- tracks ------------------------------------------------------------------------------ */

static void
smf_tempo_track(struct buf *o, double qpm)
{
	unsigned char tempo[6] = { 0xff, 0x51, 0x03 };
	static const unsigned char timesig[7] = { 0xff, 0x58, 0x04, 0x04, 0x02, 0x18, 0x08 };
	uint32_t uspq = (uint32_t)floor(60e6 / qpm + 0.5);
	uint64_t last = 0;
	size_t at = smf_track_begin(o);

	tempo[3] = (unsigned char)(uspq >> 16);
	tempo[4] = (unsigned char)(uspq >> 8);
	tempo[5] = (unsigned char)uspq;
	smf_put_event(o, &last, 0, tempo, sizeof tempo);
	smf_put_event(o, &last, 0, timesig, sizeof timesig);
	smf_track_end(o, at, &last);
}

/* Two events per note of w[0..n) (sorted by pitch, onset), a sounding note cut at the next onset of its pitch;
 * a note cut to nothing (same onset) gives way to the later one. Returns the number of events. */
static size_t
smf_group_events(const struct smf_wnote *w, size_t n, struct smf_wev *ev)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t off = w[i].off;

		if (i + 1 < n && w[i + 1].pitch == w[i].pitch && w[i + 1].on < off)
			off = w[i + 1].on;
		if (off <= w[i].on)
			continue;
		ev[k] = (struct smf_wev){ w[i].on, 1, w[i].pitch, w[i].vel, w[i].prog, k };
		ev[k + 1] = (struct smf_wev){ off, 0, w[i].pitch, 0, 0, k + 1 };
		k += 2;
	}
	qsort(ev, k, sizeof *ev, smf_cmp_wev);
	return k;
}

static void
smf_note_track(struct buf *o, const struct smf_wev *ev, size_t n, int ch)
{
	uint64_t last = 0;
	size_t at = smf_track_begin(o);
	int prog = -1;

	for (size_t i = 0; i < n; i++) {
		unsigned char m[3] = { (unsigned char)(0x80 | ch), (unsigned char)ev[i].pitch, 0x40 };

		if (ev[i].kind == 1 && ev[i].prog != prog) {
			unsigned char pc[2] = { (unsigned char)(0xc0 | ch), (unsigned char)ev[i].prog };

			smf_put_event(o, &last, ev[i].tick, pc, sizeof pc);
			prog = ev[i].prog;
		}
		if (ev[i].kind == 1) {
			m[0] = (unsigned char)(0x90 | ch);
			m[2] = (unsigned char)ev[i].vel;
		}
		smf_put_event(o, &last, ev[i].tick, m, sizeof m);
	}
	smf_track_end(o, at, &last);
}

/* One track per run of equal (instrument, drum) in the sorted w[]; returns the number of tracks. */
static unsigned
smf_note_tracks(struct buf *o, const struct smf_wnote *w, size_t n, struct smf_wev *ev)
{
	static const int chans[15] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15 };
	unsigned tracks = 0, melodic = 0;
	size_t i = 0, j, k;

	while (i < n) {
		for (j = i + 1; j < n && w[j].instrument == w[i].instrument && w[j].drum == w[i].drum; j++)
			;
		k = smf_group_events(w + i, j - i, ev);
		smf_note_track(o, ev, k, w[i].drum ? SMF_DRUM_CHANNEL : chans[melodic++ % 15]);
		tracks++;
		i = j;
	}
	return tracks;
}

static int
smf_check_qpm(double qpm, char *err, size_t errlen)
{
	if (!(qpm >= 60e6 / 0xffffff && qpm <= 60e6)) {
		err_set(err, errlen, "tempo of %g qpm cannot be written (3.58..60000000)", qpm);
		return -1;
	}
	return 0;
}

int
smf_write_mem(const struct seq *s, unsigned char **buf, size_t *len, char *err, size_t errlen)
{
	struct buf o = { 0 };
	struct smf_wnote *w = NULL;
	struct smf_wev *ev = NULL;
	unsigned tracks;

	*buf = NULL;
	*len = 0;
	if (smf_check_qpm(s->qpm, err, errlen) == -1)
		return -1;
	if (s->n > SEQ_MAX_NOTES) {
		err_set(err, errlen, "%zu notes, more than the limit of %d", s->n, SEQ_MAX_NOTES);
		return -1;
	}
	w = malloc((s->n ? s->n : 1) * sizeof *w);
	ev = malloc((s->n ? s->n : 1) * 2 * sizeof *ev);
	if (w == NULL || ev == NULL)
		goto oom;
	for (size_t i = 0; i < s->n; i++)
		if (smf_wnote_fill(s, i, &w[i], err, errlen) == -1)
			goto fail;
	qsort(w, s->n, sizeof *w, smf_cmp_wnote);
	buf_put(&o, "MThd", 4);
	buf_put_be(&o, 6, 4);
	buf_put_be(&o, 1, 2);
	buf_put_be(&o, 0, 2);                   /* track count, patched below */
	buf_put_be(&o, SMF_WRITE_PPQ, 2);
	smf_tempo_track(&o, s->qpm);
	tracks = 1 + smf_note_tracks(&o, w, s->n, ev);
	if (o.oom || tracks > 0xffff) {
		if (!o.oom)
			err_set(err, errlen, "%u tracks, more than a MIDI file holds", tracks);
		goto oom_or_fail;
	}
	o.p[10] = (unsigned char)(tracks >> 8);
	o.p[11] = (unsigned char)tracks;
	free(w);
	free(ev);
	*buf = o.p;
	*len = o.n;
	return 0;
oom_or_fail:
	if (!o.oom)
		goto fail;
oom:
	err_set(err, errlen, "out of memory");
fail:
	free(w);
	free(ev);
	free(o.p);
	return -1;
}

int
smf_write(const char *path, const struct seq *s, char *err, size_t errlen)
{
	unsigned char *buf;
	size_t len;
	char why[256];
	int rc;

	if (smf_write_mem(s, &buf, &len, why, sizeof why) == -1)
		return err_fail(err, errlen, "%s: %s", path, why);
	rc = file_write_atomic(path, buf, len, err, errlen);
	free(buf);
	return rc;
}
