/* SPDX-License-Identifier: GPL-3.0-or-later */
/* dataset.c: windowing of note sequences into melody / drum / groove windows, deduplication, transposition,
 * splits. */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "codec.h"
#include "err.h"
#include "hash.h"
#include "dataset.h"
#include "seq.h"
#include "smf.h"

#define DATASET_FAR (INT_MAX / 4)       /* end of the last meter region: a line's last bar is padded */

/* One event of a line: a top-line note (value = pitch) or the hits of one drum step (value = class bits;
 * groove: g = their velocities and offsets, dataset.h's columns). */
struct dataset_ev {
	int start, end, value;
	int16_t g[DATASET_GROOVE_COLS];
};

/* Steps [a, b) in 4/4 or 2/2, bar lines at a + 16k. */
struct dataset_region {
	int a, b;
};

/* Open-addressing set of window indices into a dataset, keyed by their tokens. */
struct dataset_set {
	uint32_t *slot;         /* [cap] index + 1, 0 = empty */
	size_t cap, n;
};

void
dataset_opts_init(struct dataset_opts *o, enum dataset_kind kind)
{
	*o = (struct dataset_opts){
		.kind = kind, .num_steps = 2 * DATASET_STEPS_PER_BAR, .hop_bars = 1, .gap_bars = 1,
		.min_notes = 2, .min_pitches = 1, .transpose_lo = kind == DATASET_MELODY ? -6 : 0,
		.transpose_hi = kind == DATASET_MELODY ? 5 : 0, .per_instrument = 1, .program_lo = 0,
		.program_hi = 127, .valid_program_lo = -1, .valid_program_hi = -1, .valid_permille = 100,
		.valid_distance = DATASET_VALID_DISTANCE,
		.cap_percent = 100,
	};
}

int
dataset_kind_in(const char *kind, const char *valid_kinds)
{
	size_t n = strlen(kind);

	if (valid_kinds == NULL)
		return 1;
	for (const char *p = valid_kinds; *p != '\0'; p += strcspn(p, ","), p += *p == ',') {
		size_t k = strcspn(p, ",");
		if (k == n && strncmp(p, kind, n) == 0)
			return 1;
	}
	return 0;
}

int
dataset_split_of(const char *path, int valid_permille)
{
	const char *base = strrchr(path, '/');
	size_t len;

	base = base != NULL ? base + 1 : path;
	len = strcspn(base, ".");
	return hash_fnv1a(HASH_FNV1A_INIT, base, len) % 1000 < (uint64_t)valid_permille ? DATASET_VALID : DATASET_TRAIN;
}

/* ---- meter ---------------------------------------------------------------------------------- */

static int
dataset_is_44(const struct seq_time_sig *t)
{
	return (t->num == 4 && t->den == 4) || (t->num == 2 && t->den == 2);
}

/* Regions in 4/4 or 2/2 into r [SEQ_MAX_TIME_SIGS + 1]; returns how many. A file without time signatures is
 * 4/4; past the signatures seq kept, the meter is unknown and nothing is taken. */
static int
dataset_regions(const struct seq *s, struct dataset_region *r)
{
	int k = s->n_time_sigs < SEQ_MAX_TIME_SIGS ? s->n_time_sigs : SEQ_MAX_TIME_SIGS;
	int n = 0, from = 0, ok = 1;

	for (int i = 0; i <= k; i++) {
		int to = i < k ? s->time_sigs[i].step : s->n_time_sigs > k ? from : DATASET_FAR;
		if (ok && to > from)
			r[n++] = (struct dataset_region){ from, to };
		if (i < k) {
			from = s->time_sigs[i].step;
			ok = dataset_is_44(&s->time_sigs[i]);
		}
	}
	return n;
}

int
dataset_has_bars(const struct seq *s)
{
	struct dataset_region r[SEQ_MAX_TIME_SIGS + 1];
	int n = dataset_regions(s, r);

	for (int i = 0; i < n; i++)
		if (r[i].b - r[i].a >= DATASET_STEPS_PER_BAR)
			return 1;
	return 0;
}

/* ---- lines -------------------------------------------------------------------------------- */

static int
dataset_cmp_ev(const void *a, const void *b)
{
	const struct dataset_ev *p = a, *q = b;

	if (p->start != q->start)
		return p->start < q->start ? -1 : 1;
	return (p->value < q->value) - (p->value > q->value);       /* highest pitch first */
}

/* Drum events by step, then by note order (held in end while sorting). */
static int
dataset_cmp_drum(const void *a, const void *b)
{
	const struct dataset_ev *p = a, *q = b;

	if (p->start != q->start)
		return p->start < q->start ? -1 : 1;
	return (p->end > q->end) - (p->end < q->end);
}

static int
dataset_takes(const struct dataset_opts *o, const struct note *nt, int inst)
{
	return !nt->is_drum && nt->program >= o->program_lo && nt->program <= o->program_hi &&
	    (inst < 0 || nt->instrument == inst);
}

/* Top line of the notes dataset_takes (inst < 0: all instruments) into ev; returns its length. */
static size_t
dataset_top_line(const struct dataset_opts *o, const struct seq *s, int inst, struct dataset_ev *ev)
{
	size_t n = 0, m = 0;

	for (size_t i = 0; i < s->n; i++)
		if (dataset_takes(o, &s->notes[i], inst))
			ev[n++] = (struct dataset_ev){ .start = s->notes[i].start, .end = s->notes[i].end,
			    .value = s->notes[i].pitch };
	qsort(ev, n, sizeof *ev, dataset_cmp_ev);
	for (size_t i = 0; i < n; i++) {
		if (m > 0 && ev[m - 1].start == ev[i].start)
			continue;       /* a lower note starting together */
		if (m > 0 && ev[m - 1].end > ev[i].start)
			ev[m - 1].end = ev[i].start;    /* the new onset cuts the sounding note */
		ev[m++] = ev[i];
	}
	return m;
}

/* GrooveConverter's offset of a note at the sequence's first tempo, 2 (step - exact step), in 1/16384 and
 * clamped to -1..1 (a note the tick rounding put in its step is within). */
static int16_t
dataset_offset(const struct seq *s, const struct note *nt)
{
	double exact = nt->start_time * s->qpm / 60.0 * s->steps_per_quarter;
	double off = 2.0 * ((double)nt->start - exact);

	off = off < -1.0 ? -1.0 : off > 1.0 ? 1.0 : off;
	return (int16_t)lrint(off * DATASET_OFFSET_ONE);
}

/* Drum hits of known classes, one event per step with the OR of the class bits; groove (g != 0): with the
 * loudest note's velocity and offset per class (the first of equals, by the notes' order). */
static size_t
dataset_drum_line(const signed char *class_of, const struct seq *s, int g, struct dataset_ev *ev)
{
	size_t n = 0, m = 0;

	for (size_t i = 0; i < s->n; i++) {
		const struct note *nt = &s->notes[i];
		struct dataset_ev *e = &ev[n];
		int c;
		if (!nt->is_drum || nt->pitch < 0 || nt->pitch >= 128 || (c = class_of[nt->pitch]) < 0)
			continue;
		memset(e, 0, sizeof *e);
		e->start = nt->start, e->end = nt->start + 1, e->value = 1 << c;
		if (g) {
			e->g[c] = (int16_t)nt->velocity;
			e->g[9 + c] = dataset_offset(s, nt);
		}
		e->end = (int)i;        /* the note's order, for a stable sort; reset below */
		n++;
	}
	qsort(ev, n, sizeof *ev, dataset_cmp_drum);
	for (size_t i = 0; i < n; i++) {
		int c = __builtin_ctz((unsigned)ev[i].value);
		ev[i].end = ev[i].start + 1;
		if (m == 0 || ev[m - 1].start != ev[i].start) {
			ev[m++] = ev[i];
			continue;
		}
		if (!(ev[m - 1].value & ev[i].value) || ev[i].g[c] > ev[m - 1].g[c]) {
			ev[m - 1].g[c] = ev[i].g[c];
			ev[m - 1].g[9 + c] = ev[i].g[9 + c];
		}
		ev[m - 1].value |= ev[i].value;
	}
	return m;
}

/* Magenta's ROLAND_DRUM_PITCH_CLASSES (music_vae/data.py): the Groove MIDI Dataset's Roland TD-11 kit. */
static const int dataset_roland[9][4] = {
	{ 36 }, { 38, 37, 40 }, { 42, 22, 44 }, { 46, 26 }, { 43, 58 }, { 47, 45 }, { 50, 48 }, { 49, 52, 55, 57 },
	{ 51, 53, 59 },
};

json_t *
dataset_pitch_classes(int roland)
{
	json_t *a = roland ? json_array() : NULL;

	for (int k = 0; a != NULL && k < 9; k++) {
		json_t *c = json_array();
		for (int i = 0; c != NULL && i < 4 && dataset_roland[k][i] != 0; i++)
			json_array_append_new(c, json_integer(dataset_roland[k][i]));
		if (c == NULL || json_array_append_new(a, c) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* codec.h's default drum classes (DrumsConverter without pitchClasses), or Magenta's Roland ones. */
static int
dataset_drum_classes(int roland, signed char *class_of, char *err, size_t errlen)
{
	json_t *dc = json_pack("{s:s, s:{s:i}}", "type", "DrumsConverter", "args", "numSteps", 32);
	struct codec *c = malloc(sizeof *c);
	int r = -1;

	if (dc != NULL && roland && json_object_set_new(json_object_get(dc, "args"), "pitchClasses",
	    dataset_pitch_classes(1)) == -1) {
		json_decref(dc);
		dc = NULL;
	}
	if (dc == NULL || c == NULL)
		err_fail(err, errlen, "out of memory");
	else if (codec_from_json(c, dc, err, errlen) == 0) {
		memcpy(class_of, c->class_of, 128);
		r = 0;
	}
	free(c);
	json_decref(dc);
	return r;
}

/* ---- windows ------------------------------------------------------------------------------ */

static int
dataset_grow(struct dataset *d)
{
	size_t cap = d->cap ? 2 * d->cap : 1024, T = (size_t)d->num_steps;
	void *p;

	if (d->count < d->cap)
		return 0;
	if (cap > UINT32_MAX)
		return -1;
	if ((p = realloc(d->tokens, cap * T * sizeof *d->tokens)) == NULL)
		return -1;
	d->tokens = p;
	if ((p = realloc(d->source, cap * sizeof *d->source)) == NULL)
		return -1;
	d->source = p;
	if ((p = realloc(d->split, cap)) == NULL)
		return -1;
	d->split = p;
	if ((p = realloc(d->transpose, cap)) == NULL)
		return -1;
	d->transpose = p;
	if (d->kind == DATASET_GROOVE) {
		if ((p = realloc(d->groove, cap * T * DATASET_GROOVE_COLS * sizeof *d->groove)) == NULL)
			return -1;
		d->groove = p;
	}
	d->cap = cap;
	return 0;
}

/* Appends a window; returns its token row to fill (zeroed), or NULL when out of memory. */
static uint16_t *
dataset_push(struct dataset *d, uint32_t src, int split, int transpose)
{
	uint16_t *t;

	if (dataset_grow(d) == -1)
		return NULL;
	t = d->tokens + d->count * (size_t)d->num_steps;
	memset(t, 0, (size_t)d->num_steps * sizeof *t);
	if (d->groove != NULL)
		memset(dataset_groove(d, d->count), 0, dataset_groove_bytes(d));
	d->source[d->count] = src;
	d->split[d->count] = (uint8_t)split;
	d->transpose[d->count] = (int8_t)transpose;
	d->count++;
	return t;
}

/* Tokens of the events [i, n) that start in [w, w + T) into tok; returns 1 when the window passes the filters. */
static int
dataset_fill(const struct dataset *d, const struct dataset_opts *o, const struct dataset_ev *ev, size_t i,
    size_t n, int w, uint16_t *tok)
{
	int T = d->num_steps, notes = 0, pitches = 0;
	unsigned char seen[128] = { 0 };

	for (; i < n && ev[i].start < w + T; i++) {
		if (d->kind == DATASET_GROOVE)
			memcpy(dataset_groove(d, (size_t)(tok - d->tokens) / (size_t)T) + (size_t)(ev[i].start - w) *
			    DATASET_GROOVE_COLS, ev[i].g, sizeof ev[i].g);
		if (d->kind != DATASET_MELODY) {
			tok[ev[i].start - w] = (uint16_t)ev[i].value;
			notes += __builtin_popcount((unsigned)ev[i].value);
			continue;
		}
		if (ev[i].value < DATASET_MIN_PITCH || ev[i].value > DATASET_MAX_PITCH)
			return 0;
		tok[ev[i].start - w] = (uint16_t)(ev[i].value - DATASET_MIN_PITCH + 2);
		if (ev[i].end - w < T)
			tok[ev[i].end - w] = 1;
		notes++;
		pitches += !seen[ev[i].value];
		seen[ev[i].value] = 1;
	}
	return notes >= o->min_notes && (d->kind != DATASET_MELODY || pitches >= o->min_pitches);
}

/* Windows of one piece of a line: events [i, j) within region [a, b), bars padded to the last event's end. */
static long
dataset_piece(struct dataset *d, const struct dataset_opts *o, const struct dataset_ev *ev, size_t i,
    size_t j, int end, const struct dataset_region *rg, uint32_t src, int split)
{
	const int bar = DATASET_STEPS_PER_BAR, T = d->num_steps;
	long first = rg->a + (long)(ev[i].start - rg->a) / bar * bar;
	long last = rg->a + ((long)(end < rg->b ? end : rg->b) - rg->a + bar - 1) / bar * bar;
	long made = 0;

	if (rg->b != DATASET_FAR && last > rg->a + (long)(rg->b - rg->a) / bar * bar)
		last = rg->a + (long)(rg->b - rg->a) / bar * bar;      /* whole bars of the region only */
	for (long w = first; w + T <= last; w += (long)o->hop_bars * bar) {
		uint16_t *tok;

		while (i < j && ev[i].start < w)
			i++;
		if ((tok = dataset_push(d, src, split, 0)) == NULL)
			return -1;
		if (dataset_fill(d, o, ev, i, j, (int)w, tok))
			made++;
		else
			d->count--;
	}
	return made;
}

/* Splits a line at silences of gap_bars or more inside each region and windows every piece. */
static long
dataset_line(struct dataset *d, const struct dataset_opts *o, const struct dataset_ev *ev, size_t n,
    const struct dataset_region *rg, int nrg, uint32_t src, int split)
{
	const long gap = (long)o->gap_bars * DATASET_STEPS_PER_BAR;
	long made = 0, r;
	size_t i = 0;

	for (int k = 0; k < nrg; k++) {
		while (i < n && ev[i].start < rg[k].a)
			i++;
		while (i < n && ev[i].start < rg[k].b) {
			size_t j = i + 1;
			int end = ev[i].end;
			while (j < n && ev[j].start < rg[k].b && (long)ev[j].start - end < gap) {
				if (ev[j].end > end)
					end = ev[j].end;
				j++;
			}
			if ((r = dataset_piece(d, o, ev, i, j, end, &rg[k], src, split)) < 0)
				return -1;
			made += r;
			i = j;
		}
	}
	return made;
}

long
dataset_add_seq(struct dataset *d, const struct dataset_opts *o, const struct seq *s, uint32_t src, int split,
    char *err, size_t errlen)
{
	struct dataset_region rg[SEQ_MAX_TIME_SIGS + 1];
	int nrg = dataset_regions(s, rg), inst_hi = -1;
	struct dataset_opts vo;
	struct dataset_ev *ev;
	signed char class_of[128];
	long made = 0, r = 0;

	if (s->n == 0 || nrg == 0)
		return 0;
	if (s->steps_per_quarter != 4)
		return err_fail(err, errlen, "the sequence is quantized at %d steps per quarter (4 expected)",
		    s->steps_per_quarter);
	if ((ev = malloc(s->n * sizeof *ev)) == NULL)
		return err_fail(err, errlen, "out of memory");
	if (split == DATASET_VALID && o->valid_program_lo >= 0) {
		vo = *o;
		vo.program_lo = o->valid_program_lo, vo.program_hi = o->valid_program_hi;
		o = &vo;
	}
	if (d->kind != DATASET_MELODY) {
		if ((r = dataset_drum_classes(o->roland, class_of, err, errlen)) == 0)
			made = r = dataset_line(d, o, ev, dataset_drum_line(class_of, s, d->kind == DATASET_GROOVE, ev),
			    rg, nrg, src, split);
	} else if (!o->per_instrument) {
		made = r = dataset_line(d, o, ev, dataset_top_line(o, s, -1, ev), rg, nrg, src, split);
	} else {
		for (size_t i = 0; i < s->n; i++)
			if (s->notes[i].instrument > inst_hi)
				inst_hi = s->notes[i].instrument;
		for (int inst = 0; inst <= inst_hi && r >= 0; inst++) {
			r = dataset_line(d, o, ev, dataset_top_line(o, s, inst, ev), rg, nrg, src, split);
			made += r;
		}
	}
	free(ev);
	if (r < 0)
		return err != NULL && err[0] != '\0' ? -1 : err_fail(err, errlen, "out of memory");
	return made;
}

/* ---- deduplication and transposition --------------------------------------------------------- */

/* Hash of window w's tokens and split: duplicates are dropped within a split (dataset_filter_valid compares
 * the splits). */
static uint64_t
dataset_hash(const struct dataset *d, size_t w)
{
	size_t T = (size_t)d->num_steps;

	uint64_t h = hash_fnv1a(HASH_FNV1A_INIT, d->tokens + w * T, T * sizeof *d->tokens);

	if (d->groove != NULL)
		h = hash_fnv1a(h, dataset_groove(d, w), dataset_groove_bytes(d));
	return h + d->split[w];
}

static int
dataset_set_grow(struct dataset_set *set, const struct dataset *d)
{
	size_t cap = set->cap ? 2 * set->cap : 4096;
	uint32_t *old = set->slot, *slot = calloc(cap, sizeof *slot);

	if (slot == NULL)
		return -1;
	for (size_t i = 0; i < set->cap; i++) {
		size_t h;
		if (old[i] == 0)
			continue;
		h = (size_t)dataset_hash(d, old[i] - 1) & (cap - 1);
		while (slot[h] != 0)
			h = (h + 1) & (cap - 1);
		slot[h] = old[i];
	}
	free(old);
	set->slot = slot;
	set->cap = cap;
	return 0;
}

/* Keeps the last window of d when no earlier one of its split has its tokens (returns 1), else drops it (0);
 * -1: no memory. */
static int
dataset_keep_last(struct dataset_set *set, struct dataset *d)
{
	size_t w = d->count - 1, T = (size_t)d->num_steps, h;

	if (2 * (set->n + 1) > set->cap && dataset_set_grow(set, d) == -1)
		return -1;
	h = (size_t)dataset_hash(d, w) & (set->cap - 1);
	for (; set->slot[h] != 0; h = (h + 1) & (set->cap - 1))
		if (d->split[set->slot[h] - 1] == d->split[w] &&
		    memcmp(d->tokens + (set->slot[h] - 1) * T, d->tokens + w * T, T * sizeof *d->tokens) == 0 &&
		    (d->groove == NULL || memcmp(dataset_groove(d, set->slot[h] - 1), dataset_groove(d, w),
		    dataset_groove_bytes(d)) == 0)) {
			d->count--;
			return 0;
		}
	set->slot[h] = (uint32_t)w + 1;
	set->n++;
	return 1;
}

/* Copies window w of src into d and keeps it if new. */
static int
dataset_merge(struct dataset_set *set, struct dataset *d, const struct dataset *src, size_t w)
{
	uint16_t *t = dataset_push(d, src->source[w], src->split[w], src->transpose[w]);

	if (t == NULL)
		return -1;
	memcpy(t, src->tokens + w * (size_t)d->num_steps, (size_t)d->num_steps * sizeof *t);
	if (d->groove != NULL)
		memcpy(dataset_groove(d, d->count - 1), dataset_groove(src, w), dataset_groove_bytes(d));
	return dataset_keep_last(set, d);
}

/* Transposes the untransposed train windows [0, n0) by lo..hi semitones, keeping the new ones in range. */
static int
dataset_transpose_all(struct dataset_set *set, struct dataset *d, size_t n0, int lo, int hi)
{
	const size_t T = (size_t)d->num_steps;
	const int top = DATASET_MAX_PITCH - DATASET_MIN_PITCH + 2;

	for (size_t w = 0; w < n0; w++) {
		if (d->split[w] != DATASET_TRAIN || d->transpose[w] != 0)
			continue;
		for (int k = lo; k <= hi; k++) {
			uint16_t *t;
			size_t i;
			int r;
			if (k == 0)
				continue;
			if ((t = dataset_push(d, d->source[w], DATASET_TRAIN, k)) == NULL)
				return -1;
			for (i = 0; i < T; i++) {
				int v = d->tokens[w * T + i];   /* d->tokens may have moved: index, not pointer */
				if (v >= 2 && (v + k < 2 || v + k > top))
					break;
				t[i] = (uint16_t)(v >= 2 ? v + k : v);
			}
			if (i < T) {
				d->count--;
				continue;
			}
			if ((r = dataset_keep_last(set, d)) < 0)
				return -1;
			d->sources[d->source[w]].transposed += r;
		}
	}
	return 0;
}

void
dataset_groove_stats(const struct dataset *d, int split, struct dataset_groove_stats *st)
{
	size_t T = (size_t)d->num_steps;
	double n = 0.0, sv = 0.0, sv2 = 0.0, si = 0.0, so = 0.0, so2 = 0.0;

	memset(st, 0, sizeof *st);
	for (size_t w = 0; d->groove != NULL && w < d->count; w++)
		for (size_t t = 0; (split < 0 || d->split[w] == split) && t < T; t++)
			for (int k = 0; k < 9; k++) {
				const int16_t *g = dataset_groove(d, w) + t * DATASET_GROOVE_COLS;
				double v = g[k], o = (double)g[9 + k] / DATASET_OFFSET_ONE;
				if (!((d->tokens[w * T + t] >> k) & 1))
					continue;
				n++, sv += v, sv2 += v * v, si += g[k] / 127.0, so += o, so2 += o * o;
			}
	if (n == 0.0)
		return;
	st->hits = n;
	st->vel_mean = sv / n;
	st->vel_sd = sqrt(fmax(0.0, sv2 / n - sv * sv / n / n));
	st->vel_input_mean = si / n;
	st->off_mean = so / n;
	st->off_sd = sqrt(fmax(0.0, so2 / n - so * so / n / n));
}

/* ---- build -------------------------------------------------------------------------------- */

static int
dataset_check_opts(const struct dataset_opts *o, char *err, size_t errlen)
{
	if (o->kind != DATASET_MELODY && o->kind != DATASET_DRUMS && o->kind != DATASET_GROOVE)
		return err_fail(err, errlen, "unknown dataset kind %d", (int)o->kind);
	if (o->num_steps < DATASET_STEPS_PER_BAR || o->num_steps > DATASET_MAX_STEPS ||
	    o->num_steps % DATASET_STEPS_PER_BAR != 0)
		return err_fail(err, errlen, "window of %d steps: a multiple of %d up to %d expected",
		    o->num_steps, DATASET_STEPS_PER_BAR, DATASET_MAX_STEPS);
	if (o->hop_bars < 1 || o->gap_bars < 1 || o->min_notes < 0 || o->min_pitches < 0)
		return err_fail(err, errlen, "hop and gap must be at least 1 bar, note counts at least 0");
	if (o->transpose_lo > o->transpose_hi || o->transpose_lo < -48 || o->transpose_hi > 48)
		return err_fail(err, errlen, "transposition %d..%d: expected lo <= hi within -48..48",
		    o->transpose_lo, o->transpose_hi);
	if (o->valid_permille < 0 || o->valid_permille > 1000 || o->program_lo < 0 || o->program_hi > 127)
		return err_fail(err, errlen, "validation share 0..1000 per mille, programs 0..127 expected");
	if (o->valid_program_lo > o->valid_program_hi || o->valid_program_hi > 127)
		return err_fail(err, errlen, "validation programs %d..%d: expected lo <= hi within 0..127",
		    o->valid_program_lo, o->valid_program_hi);
	if (o->valid_distance < 0 || o->valid_distance > DATASET_MAX_DISTANCE ||
	    o->valid_distance >= o->num_steps)
		return err_fail(err, errlen, "validation distance %d: 0..%d expected", o->valid_distance,
		    DATASET_MAX_DISTANCE);
	if (o->cap_percent < 0 || o->cap_percent > 100)
		return err_fail(err, errlen, "cap of %d %%: 0..100 expected", o->cap_percent);
	return 0;
}

static char *
dataset_strdup(const char *s, const char *fallback)
{
	return strdup(s != NULL ? s : fallback);
}

static int
dataset_sources(struct dataset *d, const struct dataset_opts *o, char **files, int n)
{
	if ((d->sources = calloc((size_t)n + 1, sizeof *d->sources)) == NULL)
		return -1;
	d->n_sources = (size_t)n;
	for (int i = 0; i < n; i++) {
		struct dataset_source *s = &d->sources[i];
		s->path = dataset_strdup(o->names != NULL ? o->names[i] : NULL, files[i]);
		s->package = dataset_strdup(o->packages != NULL ? o->packages[i] : NULL, "-");
		s->licence = dataset_strdup(o->licences != NULL ? o->licences[i] : NULL, "unknown");
		s->kind = dataset_strdup(o->kinds != NULL ? o->kinds[i] : NULL, "");
		if (s->path == NULL || s->package == NULL || s->licence == NULL || s->kind == NULL)
			return -1;
		s->split = dataset_kind_in(s->kind, o->valid_kinds) ? dataset_split_of(s->path, o->valid_permille) :
		    DATASET_TRAIN;
	}
	d->valid_kinds = dataset_strdup(o->valid_kinds, "");
	d->cap_kind = dataset_strdup(o->cap_kind, "");
	d->valid_distance = o->valid_distance;
	d->cap_percent = o->cap_kind != NULL ? o->cap_percent : 100;
	return d->valid_kinds == NULL || d->cap_kind == NULL ? -1 : 0;
}

/* Reads one file into its windows (tmp) and merges the new ones into d. */
static int
dataset_file(struct dataset *d, struct dataset *tmp, struct dataset_set *set, const struct dataset_opts *o,
    const char *file, uint32_t i, struct seq *s, char *err, size_t errlen)
{
	struct dataset_source *src = &d->sources[i];
	char msg[512];
	long r;

	if (smf_read(file, s, msg, sizeof msg) == -1) {
		src->status = DATASET_SRC_UNREADABLE;
		return (src->error = strdup(msg)) == NULL ? err_fail(err, errlen, "out of memory") : 0;
	}
	if (!dataset_has_bars(s)) {
		src->status = DATASET_SRC_METER;
		return 0;
	}
	if (o->kind == DATASET_GROOVE && s->tempo_changes > 0) {
		src->status = DATASET_SRC_TEMPO;
		return 0;
	}
	tmp->count = 0;
	if ((r = dataset_add_seq(tmp, o, s, i, src->split, err, errlen)) < 0)
		return -1;
	src->windows = r;
	for (size_t w = 0; w < tmp->count; w++) {
		int k = dataset_merge(set, d, tmp, w);
		if (k < 0)
			return err_fail(err, errlen, "out of memory");
		src->unique += k;
	}
	return 0;
}

int
dataset_build(const struct dataset_opts *o, char **files, int n, struct dataset *out, char *err, size_t errlen)
{
	struct dataset tmp;
	struct dataset_set set = { 0 };
	struct seq s;
	int r = -1;

	dataset_init(out, o);
	dataset_init(&tmp, o);
	seq_init(&s);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (dataset_check_opts(o, err, errlen) == -1)
		goto fail;
	if (n < 0 || dataset_sources(out, o, files, n) == -1) {
		err_fail(err, errlen, n < 0 ? "negative file count" : "out of memory");
		goto fail;
	}
	for (int i = 0; i < n; i++)
		if (dataset_file(out, &tmp, &set, o, files[i], (uint32_t)i, &s, err, errlen) == -1)
			goto fail;
	if (o->kind == DATASET_MELODY && dataset_transpose_all(&set, out, out->count, o->transpose_lo,
	    o->transpose_hi) == -1) {
		err_fail(err, errlen, "out of memory");
		goto fail;
	}
	if (dataset_filter_valid(out, o->valid_distance, &out->stats.valid_exact, &out->stats.valid_near, err,
	    errlen) == -1)
		goto fail;
	if (o->cap_kind != NULL && dataset_cap(out, o->cap_kind, o->cap_percent, &out->stats, err, errlen) == -1)
		goto fail;
	r = 0;
fail:
	free(set.slot);
	dataset_free(&tmp);
	seq_fini(&s);
	return r;
}
