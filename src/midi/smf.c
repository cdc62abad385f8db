/* SPDX-License-Identifier: GPL-3.0-or-later */
/* smf.c: Standard MIDI File reader: chunks, events and the tempo map into a note sequence (writer: smf_write.c). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"
#include "smf.h"

#define SMF_DEFAULT_USPQ 500000u        /* 120 qpm */
#define SMF_DRUM_CHANNEL 9
#define SMF_NO_NOTE (-1)
#define SMF_NOWHERE SIZE_MAX            /* smf_fail: no byte offset to name */

/* A note while reading: ticks from the start of the track. */
struct smf_raw {
	uint64_t on, off;
	uint32_t order;         /* position in the file, the last sort key */
	uint32_t group;         /* (track, channel) while parsing, then the dense instrument index */
	uint8_t chan, pitch, vel, prog;
};

struct smf_tempo {
	uint64_t tick;
	uint32_t uspq;          /* microseconds per quarter */
	uint32_t order;
	double seconds;         /* at tick, filled once all tracks are read */
};

struct smf_tsig {
	uint64_t tick;
	uint32_t order;
	uint8_t num, den_log2;
};

struct smf_rd {
	const unsigned char *buf;
	size_t len;
	const char *name;
	char *err;
	size_t errlen;
	unsigned ppq;
	unsigned track;         /* 1-based MTrk index, 0 outside tracks */
	size_t pos, end;        /* read position and end of the current chunk */
	uint64_t tick;
	uint8_t status;         /* running status, 0 = none */
	int32_t open[16][128];  /* index into notes of the sounding note, or SMF_NO_NOTE */
	size_t n_open;          /* sounding notes, so that a track without any costs nothing to close */
	uint8_t prog[16];
	struct smf_raw *notes;  /* [n] */
	size_t n, cap;
	struct smf_tempo *tempos; /* [nt] */
	size_t nt, tcap;
	struct smf_tsig *tsigs; /* [nts] time signatures in file order */
	size_t nts, tscap;
	uint32_t n_groups;
};

static int __attribute__((format(printf, 3, 4)))
smf_fail(struct smf_rd *rd, size_t at, const char *fmt, ...)
{
	char where[512];
	va_list ap;

	if (at == SMF_NOWHERE)
		snprintf(where, sizeof where, "%s: ", rd->name);
	else if (rd->track > 0)
		snprintf(where, sizeof where, "%s: track %u at byte %zu: ", rd->name, rd->track, at);
	else
		snprintf(where, sizeof where, "%s: at byte %zu: ", rd->name, at);
	va_start(ap, fmt);
	err_failv(rd->err, rd->errlen, where, fmt, ap);
	va_end(ap);
	return -1;
}

static uint32_t
smf_be(const unsigned char *p, int bytes)
{
	uint32_t v = 0;

	for (int i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

/* ---- growing arrays (bounded) ------------------------------------------------------------ */

static int
smf_grow(void **p, size_t *cap, size_t want, size_t elsize)
{
	size_t ncap = *cap ? *cap * 2 : 256;
	void *np;

	if (want <= *cap)
		return 0;
	if (ncap > SEQ_MAX_NOTES)
		ncap = SEQ_MAX_NOTES;
	np = realloc(*p, ncap * elsize);
	if (np == NULL)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

static int
smf_push_tempo(struct smf_rd *rd, uint32_t uspq, size_t at)
{
	struct smf_tempo *t;

	if (rd->nt >= SEQ_MAX_NOTES)
		return smf_fail(rd, at, "more than %d tempo changes", SEQ_MAX_NOTES);
	if (smf_grow((void **)&rd->tempos, &rd->tcap, rd->nt + 1, sizeof *t) == -1)
		return smf_fail(rd, at, "out of memory");
	t = &rd->tempos[rd->nt];
	t->tick = rd->tick;
	t->uspq = uspq;
	t->order = (uint32_t)rd->nt++;
	t->seconds = 0;
	return 0;
}

/* Keeps a time signature meta event; nonsense ones (0/x, denominators past 2^7) are ignored, as players do. */
static int
smf_push_tsig(struct smf_rd *rd, uint8_t num, uint8_t den_log2, size_t at)
{
	struct smf_tsig *t;

	if (num == 0 || den_log2 > 7)
		return 0;
	if (rd->nts >= SEQ_MAX_NOTES)
		return smf_fail(rd, at, "more than %d time signatures", SEQ_MAX_NOTES);
	if (smf_grow((void **)&rd->tsigs, &rd->tscap, rd->nts + 1, sizeof *t) == -1)
		return smf_fail(rd, at, "out of memory");
	t = &rd->tsigs[rd->nts];
	*t = (struct smf_tsig){ .tick = rd->tick, .order = (uint32_t)rd->nts, .num = num, .den_log2 = den_log2 };
	rd->nts++;
	return 0;
}

/* ---- notes ------------------------------------------------------------------------------- */

static void
smf_note_close(struct smf_rd *rd, int ch, int pitch)
{
	int32_t i = rd->open[ch][pitch];

	if (i == SMF_NO_NOTE)
		return;
	rd->notes[i].off = rd->tick;
	rd->open[ch][pitch] = SMF_NO_NOTE;
	rd->n_open--;
}

static int
smf_note_open(struct smf_rd *rd, int ch, int pitch, int vel, size_t at)
{
	int32_t i = rd->open[ch][pitch];
	struct smf_raw *r;

	if (i != SMF_NO_NOTE && rd->notes[i].on == rd->tick) {
		rd->notes[i].vel = (uint8_t)vel;        /* a repeated note-on at the same tick restates the note */
		rd->notes[i].prog = rd->prog[ch];
		return 0;
	}
	smf_note_close(rd, ch, pitch);                  /* a new note-on ends the sounding one */
	if (rd->n >= SEQ_MAX_NOTES)
		return smf_fail(rd, at, "more than %d notes", SEQ_MAX_NOTES);
	if (smf_grow((void **)&rd->notes, &rd->cap, rd->n + 1, sizeof *r) == -1)
		return smf_fail(rd, at, "out of memory");
	r = &rd->notes[rd->n];
	r->on = r->off = rd->tick;
	r->order = (uint32_t)rd->n;
	r->group = (uint32_t)ch;
	r->chan = (uint8_t)ch;
	r->pitch = (uint8_t)pitch;
	r->vel = (uint8_t)vel;
	r->prog = rd->prog[ch];
	rd->open[ch][pitch] = (int32_t)rd->n++;
	rd->n_open++;
	return 0;
}

static void
smf_close_all(struct smf_rd *rd)
{
	for (int ch = 0; ch < 16 && rd->n_open > 0; ch++)
		for (int p = 0; p < 128; p++)
			smf_note_close(rd, ch, p);
}

/* ---- events ------------------------------------------------------------------------------ */

/* Variable-length quantity of at most 4 bytes inside the current chunk. */
static int
smf_vlq(struct smf_rd *rd, uint32_t *v, size_t ev)
{
	size_t start = rd->pos;

	*v = 0;
	for (int i = 0; i < 4; i++) {
		if (rd->pos >= rd->end)
			return smf_fail(rd, ev, "truncated event");
		*v = *v << 7 | (rd->buf[rd->pos] & 0x7f);
		if (!(rd->buf[rd->pos++] & 0x80))
			return 0;
	}
	return smf_fail(rd, start, "bad variable-length quantity (more than 4 bytes)");
}

static int
smf_event_channel(struct smf_rd *rd, uint8_t st, size_t ev)
{
	int ch = st & 0x0f, type = st >> 4, nd = (type == 0xc || type == 0xd) ? 1 : 2;
	uint8_t d[2] = { 0, 0 };

	for (int i = 0; i < nd; i++) {
		if (rd->pos >= rd->end)
			return smf_fail(rd, ev, "truncated event");
		d[i] = rd->buf[rd->pos++];
		if (d[i] & 0x80)
			return smf_fail(rd, rd->pos - 1, "status byte 0x%02x where a data byte was expected", d[i]);
	}
	if (type == 0x9 && d[1] > 0)
		return smf_note_open(rd, ch, d[0], d[1], ev);
	if (type == 0x8 || type == 0x9)
		smf_note_close(rd, ch, d[0]);
	else if (type == 0xc)
		rd->prog[ch] = d[0];
	return 0;
}

/* Returns 1 at end of track, 0 to go on, -1 on error. */
static int
smf_event_meta(struct smf_rd *rd, size_t ev)
{
	uint32_t len, uspq;
	uint8_t type;

	if (rd->pos >= rd->end)
		return smf_fail(rd, ev, "truncated event");
	type = rd->buf[rd->pos++];
	if (smf_vlq(rd, &len, ev) == -1)
		return -1;
	if (len > rd->end - rd->pos)
		return smf_fail(rd, ev, "truncated event (meta length %u past the end of the track)", len);
	if (type == 0x2f)
		return 1;
	if (type == 0x51) {
		if (len != 3)
			return smf_fail(rd, ev, "tempo event of %u bytes (3 expected)", len);
		uspq = smf_be(rd->buf + rd->pos, 3);
		if (uspq == 0)
			return smf_fail(rd, ev, "tempo of 0 microseconds per quarter");
		if (smf_push_tempo(rd, uspq, ev) == -1)
			return -1;
	}
	if (type == 0x58 && len >= 2 && smf_push_tsig(rd, rd->buf[rd->pos], rd->buf[rd->pos + 1], ev) == -1)
		return -1;
	rd->pos += len;
	return 0;
}

static int
smf_event_sysex(struct smf_rd *rd, size_t ev)
{
	uint32_t len;

	if (smf_vlq(rd, &len, ev) == -1)
		return -1;
	if (len > rd->end - rd->pos)
		return smf_fail(rd, ev, "truncated event (sysex length %u past the end of the track)", len);
	rd->pos += len;
	return 0;
}

/* One delta-time + event. Returns 1 at end of track, 0 to go on, -1 on error. */
static int
smf_event(struct smf_rd *rd)
{
	size_t ev = rd->pos;
	uint32_t delta;
	uint8_t st;

	if (smf_vlq(rd, &delta, ev) == -1)
		return -1;
	rd->tick += delta;
	if (rd->pos >= rd->end)
		return smf_fail(rd, ev, "truncated event");
	st = rd->buf[rd->pos];
	if (st & 0x80) {
		rd->pos++;
	} else if (rd->status == 0) {
		return smf_fail(rd, rd->pos, "data byte 0x%02x without a running status", st);
	} else {
		st = rd->status;
	}
	if (st == 0xff)
		return smf_event_meta(rd, ev);         /* meta and sysex keep the running status: files rely on it */
	if (st == 0xf0 || st == 0xf7)
		return smf_event_sysex(rd, ev);
	if (st >= 0xf0)
		return smf_fail(rd, ev, "status byte 0x%02x is not allowed in a file", st);
	rd->status = st;
	return smf_event_channel(rd, st, ev);
}

/* After a track: (track, channel) pairs with notes get dense instrument numbers in channel order. */
static void
smf_track_groups(struct smf_rd *rd, size_t first)
{
	uint32_t id[16];
	int used[16] = { 0 };

	for (size_t i = first; i < rd->n; i++)
		used[rd->notes[i].chan] = 1;
	for (int ch = 0; ch < 16; ch++)
		if (used[ch])
			id[ch] = rd->n_groups++;
	for (size_t i = first; i < rd->n; i++)
		rd->notes[i].group = id[rd->notes[i].chan];
}

static int
smf_track(struct smf_rd *rd, size_t body, uint32_t len)
{
	size_t first = rd->n;
	int r = 0;

	rd->pos = body;
	rd->end = body + len;
	rd->tick = 0;
	rd->status = 0;
	memset(rd->prog, 0, sizeof rd->prog);
	while (r == 0 && rd->pos < rd->end)
		r = smf_event(rd);
	if (r == -1)
		return -1;
	smf_close_all(rd);                              /* notes never closed end at the end of the track */
	smf_track_groups(rd, first);
	return 0;
}

/* ---- chunks ------------------------------------------------------------------------------ */

static int
smf_header(struct smf_rd *rd, unsigned *ntracks, size_t *next)
{
	uint32_t hlen;
	unsigned format, division;

	if (rd->len < 14 || memcmp(rd->buf, "MThd", 4) != 0)
		return smf_fail(rd, 0, "%s", rd->len < 4 || memcmp(rd->buf, "MThd", 4) != 0 ?
		    "not a Standard MIDI File (no MThd header)" : "truncated header");
	hlen = smf_be(rd->buf + 4, 4);
	if (hlen < 6)
		return smf_fail(rd, 4, "bad header: length %u (at least 6 expected)", hlen);
	if (hlen > rd->len - 8)
		return smf_fail(rd, 4, "bad header: length %u past the end of the file", hlen);
	format = smf_be(rd->buf + 8, 2);
	*ntracks = smf_be(rd->buf + 10, 2);
	division = smf_be(rd->buf + 12, 2);
	if (format == 2)
		return smf_fail(rd, 8, "format 2 (independent sequences) is not supported");
	if (format > 2)
		return smf_fail(rd, 8, "bad header: unknown format %u", format);
	if (*ntracks == 0)
		return smf_fail(rd, 10, "bad header: no tracks");
	if (division & 0x8000)
		return smf_fail(rd, 12, "SMPTE time division (0x%04x) is not supported, only ticks per quarter",
		    division);
	if (division == 0)
		return smf_fail(rd, 12, "bad header: 0 ticks per quarter");
	rd->ppq = division;
	*next = 8 + (size_t)hlen;
	return 0;
}

/* Walks the chunks after the header; chunks that are not MTrk are skipped, as the standard asks. */
static int
smf_chunks(struct smf_rd *rd, unsigned ntracks, size_t pos)
{
	uint32_t len;
	unsigned found = 0;

	while (found < ntracks) {
		rd->track = 0;
		if (rd->len - pos < 8)
			return smf_fail(rd, pos, "truncated file: the header announces %u tracks, %u found",
			    ntracks, found);
		len = smf_be(rd->buf + pos + 4, 4);
		if (len > rd->len - pos - 8)
			return smf_fail(rd, pos + 4, "chunk length %u past the end of the file (%zu bytes left)",
			    len, rd->len - pos - 8);
		if (memcmp(rd->buf + pos, "MTrk", 4) == 0) {
			rd->track = ++found;
			if (smf_track(rd, pos + 8, len) == -1)
				return -1;
		}
		pos += 8 + (size_t)len;
	}
	rd->track = 0;
	return 0;
}

/* ---- ticks to seconds and steps ---------------------------------------------------------- */

static int
smf_cmp_tempo(const void *a, const void *b)
{
	const struct smf_tempo *x = a, *y = b;

	if (x->tick != y->tick)
		return x->tick < y->tick ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int
smf_cmp_tsig(const void *a, const void *b)
{
	const struct smf_tsig *x = a, *y = b;

	if (x->tick != y->tick)
		return x->tick < y->tick ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int
smf_cmp_raw(const void *a, const void *b)
{
	const struct smf_raw *x = a, *y = b;

	if (x->on != y->on)
		return x->on < y->on ? -1 : 1;
	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	if (x->pitch != y->pitch)
		return x->pitch < y->pitch ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Puts a 120 qpm entry at tick 0 before the sorted tempo changes unless one is there; seconds accumulate. */
static int
smf_tempo_map(struct smf_rd *rd)
{
	if (rd->nt == 0 || rd->tempos[0].tick > 0) {
		if (smf_push_tempo(rd, SMF_DEFAULT_USPQ, SMF_NOWHERE) == -1)
			return -1;
		memmove(rd->tempos + 1, rd->tempos, (rd->nt - 1) * sizeof *rd->tempos);
		rd->tempos[0] = (struct smf_tempo){ 0, SMF_DEFAULT_USPQ, 0, 0.0 };
	}
	for (size_t i = 1; i < rd->nt; i++)
		rd->tempos[i].seconds = rd->tempos[i - 1].seconds + (double)(rd->tempos[i].tick -
		    rd->tempos[i - 1].tick) * rd->tempos[i - 1].uspq / (1e6 * rd->ppq);
	return 0;
}

static double
smf_seconds(const struct smf_rd *rd, uint64_t tick)
{
	size_t lo = 0, hi = rd->nt;     /* last entry with tempos[i].tick <= tick; tempos[0].tick == 0 */

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (rd->tempos[mid].tick <= tick)
			lo = mid;
		else
			hi = mid;
	}
	return rd->tempos[lo].seconds + (double)(tick - rd->tempos[lo].tick) * rd->tempos[lo].uspq /
	    (1e6 * rd->ppq);
}

/* The first tempo of the sorted file tempos: the one in effect at the earliest tempo event; else 120. */
static double
smf_first_qpm(const struct smf_rd *rd)
{
	size_t i = 0;

	if (rd->nt == 0)
		return 60e6 / SMF_DEFAULT_USPQ;
	while (i + 1 < rd->nt && rd->tempos[i + 1].tick == rd->tempos[0].tick)
		i++;
	return 60e6 / rd->tempos[i].uspq;
}

/* Round half up of tick * steps / ppq; the sum cannot overflow: ticks stay below 2^60. */
static uint64_t
smf_step(const struct smf_rd *rd, uint64_t tick)
{
	return (tick * 2 * SMF_READ_STEPS_PER_QUARTER + rd->ppq) / (2 * (uint64_t)rd->ppq);
}

static int
smf_note_to_seq(struct smf_rd *rd, const struct smf_raw *r, struct seq *out)
{
	struct note n;
	uint64_t start = smf_step(rd, r->on), end = smf_step(rd, r->off);

	if (end <= start)
		end = start + 1;
	if (end > SEQ_MAX_STEPS)
		return smf_fail(rd, SMF_NOWHERE, "a note ending at tick %llu lies beyond %d steps",
		    (unsigned long long)r->off, SEQ_MAX_STEPS);
	memset(&n, 0, sizeof n);
	n.pitch = r->pitch;
	n.velocity = r->vel;
	n.program = r->prog;
	n.is_drum = r->chan == SMF_DRUM_CHANNEL;
	n.instrument = (int)r->group;
	n.start = (int)start;
	n.end = (int)end;
	n.start_time = smf_seconds(rd, r->on);
	n.end_time = smf_seconds(rd, r->off);
	if (seq_add(out, &n) == -1)
		return smf_fail(rd, SMF_NOWHERE, "out of memory");
	if (n.end > out->total_steps)
		out->total_steps = n.end;
	return 0;
}

/* Time signatures by step: of several at one step the last in file order wins; repeats of the one in force go. */
static void
smf_time_sigs(struct smf_rd *rd, struct seq *out)
{
	struct seq_time_sig cur, spill, *last = NULL;
	int n = 0;

	if (rd->nts > 0)
		qsort(rd->tsigs, rd->nts, sizeof *rd->tsigs, smf_cmp_tsig);
	for (size_t i = 0; i < rd->nts; i++) {
		uint64_t step = smf_step(rd, rd->tsigs[i].tick);

		if (step > SEQ_MAX_STEPS)
			break;
		cur = (struct seq_time_sig){ (int)step, rd->tsigs[i].num, 1 << rd->tsigs[i].den_log2 };
		if (last != NULL && last->step == cur.step) {
			*last = cur;    /* same step: replaces (and may now repeat the one before: harmless) */
			continue;
		}
		if (last != NULL && last->num == cur.num && last->den == cur.den)
			continue;
		if (n < SEQ_MAX_TIME_SIGS)
			last = &out->time_sigs[n];
		else
			last = &spill;  /* counted, not kept */
		*last = cur;
		n++;
	}
	out->n_time_sigs = n;
}

static int
smf_build(struct smf_rd *rd, struct seq *out)
{
	uint64_t last = 0;

	if (rd->nt > 0)
		qsort(rd->tempos, rd->nt, sizeof *rd->tempos, smf_cmp_tempo);
	out->qpm = smf_first_qpm(rd);
	out->tempo_changes = 0;
	for (size_t i = 0, j, prev = SMF_DEFAULT_USPQ; i < rd->nt; i = j) {  /* 120 qpm until a tempo at tick 0 */
		for (j = i + 1; j < rd->nt && rd->tempos[j].tick == rd->tempos[i].tick; j++)
			;       /* per tick, the last tempo there is in effect */
		out->tempo_changes += (i > 0 || rd->tempos[i].tick > 0) && rd->tempos[j - 1].uspq != prev;
		prev = rd->tempos[j - 1].uspq;
	}
	if (smf_tempo_map(rd) == -1)
		return -1;
	if (rd->n > 0)
		qsort(rd->notes, rd->n, sizeof *rd->notes, smf_cmp_raw);
	seq_clear(out);
	out->steps_per_quarter = SMF_READ_STEPS_PER_QUARTER;
	out->total_steps = 0;
	for (size_t i = 0; i < rd->n; i++) {
		if (smf_note_to_seq(rd, &rd->notes[i], out) == -1)
			return -1;
		if (rd->notes[i].off > last)
			last = rd->notes[i].off;
	}
	/* ceil of the last end in steps, and at least every note's end */
	if ((last * SMF_READ_STEPS_PER_QUARTER + rd->ppq - 1) / rd->ppq > (uint64_t)out->total_steps)
		out->total_steps = (int)((last * SMF_READ_STEPS_PER_QUARTER + rd->ppq - 1) / rd->ppq);
	out->total_time = smf_seconds(rd, last);
	smf_time_sigs(rd, out);
	return 0;
}

/* ---- entry points ------------------------------------------------------------------------ */

int
smf_read_mem(const unsigned char *buf, size_t len, const char *name, struct seq *out, char *err, size_t errlen)
{
	struct smf_rd *rd;
	unsigned ntracks = 0;
	size_t pos = 0;
	int r = -1;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	rd = calloc(1, sizeof *rd);
	if (rd == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	*rd = (struct smf_rd){ .buf = buf, .len = len, .name = name, .err = err, .errlen = errlen };
	memset(rd->open, 0xff, sizeof rd->open);        /* SMF_NO_NOTE; each track's smf_close_all restores it */
	if (len > SMF_MAX_BYTES)
		smf_fail(rd, 0, "file of %zu bytes is larger than the limit of %u", len, SMF_MAX_BYTES);
	else if (smf_header(rd, &ntracks, &pos) == 0 && smf_chunks(rd, ntracks, pos) == 0)
		r = smf_build(rd, out);
	free(rd->notes);
	free(rd->tempos);
	free(rd->tsigs);
	free(rd);
	return r;
}

static int
smf_slurp(const char *path, unsigned char **buf, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct stat st;

	*buf = NULL;
	if (f == NULL || fstat(fileno(f), &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)SMF_MAX_BYTES) {
		snprintf(err, errlen, "%s: not a regular file of at most %u bytes", path, SMF_MAX_BYTES);
		goto fail;
	}
	*len = (size_t)st.st_size;
	*buf = malloc(*len ? *len : 1);
	if (*buf == NULL || fread(*buf, 1, *len, f) != *len) {
		snprintf(err, errlen, "%s: %s", path, *buf == NULL ? "out of memory" : "short read");
		goto fail;
	}
	fclose(f);
	return 0;
fail:
	free(*buf);
	*buf = NULL;
	if (f != NULL)
		fclose(f);
	return -1;
}

int
smf_read(const char *path, struct seq *out, char *err, size_t errlen)
{
	unsigned char *buf;
	size_t len;
	int r;

	if (smf_slurp(path, &buf, &len, err, errlen) == -1)
		return -1;
	r = smf_read_mem(buf, len, path, out, err, errlen);
	free(buf);
	return r;
}
