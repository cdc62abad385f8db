/* SPDX-License-Identifier: GPL-3.0-or-later */
/* dataset_io.c: the dataset file (format in dataset.h): writing, fully validated reading, freeing. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "dataset.h"
#include "err.h"
#include "file.h"
#include "hash.h"

#define DATASET_MAX_FILE_BYTES (4ull << 30)     /* larger files are refused before reading */
#define DATASET_MAX_STRING (1u << 16)

void
dataset_init(struct dataset *d, const struct dataset_opts *o)
{
	memset(d, 0, sizeof *d);
	d->kind = o->kind;
	d->num_steps = o->num_steps;
	d->n_classes = o->kind != DATASET_MELODY ? DATASET_DRUM_CLASSES : DATASET_MEL_CLASSES;
	d->min_pitch = o->kind != DATASET_MELODY ? 0 : DATASET_MIN_PITCH;
	d->valid_permille = o->valid_permille;
	d->version = DATASET_VERSION;
	d->valid_distance = o->valid_distance;
	d->cap_percent = 100;
	d->roland = o->roland && o->kind != DATASET_MELODY;
}

void
dataset_free(struct dataset *d)
{
	for (size_t i = 0; d->sources != NULL && i < d->n_sources; i++) {
		free(d->sources[i].path);
		free(d->sources[i].package);
		free(d->sources[i].licence);
		free(d->sources[i].kind);
		free(d->sources[i].error);
	}
	free(d->valid_kinds);
	free(d->cap_kind);
	free(d->sources);
	free(d->tokens);
	free(d->source);
	free(d->split);
	free(d->transpose);
	free(d->groove);
	memset(d, 0, sizeof *d);
}

/* ---- little-endian fields, written through buf.h ------------------------------------------ */

static uint64_t
dataset_get_le(const unsigned char *p, int bytes)
{
	uint64_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void
dataset_put_str(struct buf *b, const char *s)
{
	size_t n;

	s = s != NULL ? s : "";
	n = strlen(s);

	buf_put_le(b, n, 4);
	buf_put(b, s, n);
}

/* ---- writing ------------------------------------------------------------------------------ */

const char *
dataset_kind_name(int kind)
{
	return kind == DATASET_MELODY ? "melody" : kind == DATASET_DRUMS ? "drums" : kind == DATASET_GROOVE ?
	    "groove" : "unknown";
}

int
dataset_kind_parse(const char *name)
{
	for (int k = DATASET_MELODY; k <= DATASET_GROOVE; k++)
		if (strcmp(name, dataset_kind_name(k)) == 0)
			return k;
	return -1;
}

size_t
dataset_record_bytes(int kind, int num_steps)
{
	return (2 + (kind == DATASET_GROOVE ? 2 * DATASET_GROOVE_COLS : 0)) * (size_t)num_steps + 8;
}

static void
dataset_put_body(struct buf *b, const struct dataset *d)
{
	size_t T = (size_t)d->num_steps;

	for (size_t w = 0; w < d->count; w++) {
		for (size_t i = 0; i < T; i++)
			buf_put_le(b, d->tokens[w * T + i], 2);
		buf_put_le(b, d->source[w], 4);
		buf_put_le(b, d->split[w], 1);
		buf_put_le(b, (uint8_t)d->transpose[w], 1);
		buf_put_le(b, 0, 2);
		for (size_t i = 0; d->groove != NULL && i < T * DATASET_GROOVE_COLS; i++)
			buf_put_le(b, (uint16_t)d->groove[w * T * DATASET_GROOVE_COLS + i], 2);
	}
	for (size_t i = 0; i < d->n_sources; i++) {
		buf_put_le(b, (uint64_t)d->sources[i].split, 1);
		dataset_put_str(b, d->sources[i].path);
		dataset_put_str(b, d->sources[i].package);
		dataset_put_str(b, d->sources[i].licence);
		dataset_put_str(b, d->sources[i].kind);
	}
	dataset_put_str(b, d->valid_kinds);
	buf_put_le(b, (uint32_t)d->valid_distance, 4);     /* -1 (unknown, from a version 1 file): all ones */
	dataset_put_str(b, d->cap_kind);
	buf_put_le(b, (uint64_t)d->cap_percent, 4);
	buf_put_le(b, (uint64_t)d->roland, 4);
}

static void
dataset_put_header(struct buf *b, const struct dataset *d, uint64_t sources_bytes, uint64_t sum)
{
	buf_put(b, DATASET_MAGIC, 8);
	buf_put_le(b, DATASET_VERSION, 4);
	buf_put_le(b, (uint64_t)d->kind, 4);
	buf_put_le(b, (uint64_t)d->num_steps, 4);
	buf_put_le(b, (uint64_t)d->n_classes, 4);
	buf_put_le(b, (uint64_t)d->min_pitch, 4);
	buf_put_le(b, dataset_record_bytes(d->kind, d->num_steps), 4);
	buf_put_le(b, d->count, 8);
	buf_put_le(b, d->n_sources, 4);
	buf_put_le(b, (uint64_t)d->valid_permille, 4);
	buf_put_le(b, sources_bytes, 8);
	buf_put_le(b, sum, 8);
}

int
dataset_write(const struct dataset *d, const char *path, char *err, size_t errlen)
{
	struct buf body = { 0 }, head = { 0 };
	size_t records = d->count * dataset_record_bytes(d->kind, d->num_steps);
	struct file_tmp t;
	int r = -1;

	dataset_put_body(&body, d);
	dataset_put_header(&head, d, body.n - records, hash_fnv1a(HASH_FNV1A_INIT, body.p, body.n));
	if (body.oom || head.oom) {
		err_fail(err, errlen, "%s: out of memory", path);
		goto out;
	}
	if (file_tmp_open(&t, path, err, errlen) < 0)
		goto out;
	if (fwrite(head.p, 1, head.n, t.f) != head.n || (body.n > 0 && fwrite(body.p, 1, body.n, t.f) != body.n)) {
		err_fail(err, errlen, "%s: %s", path, strerror(errno));
		file_tmp_abort(&t);
		goto out;
	}
	r = file_tmp_commit(&t, err, errlen);
out:
	free(body.p);
	free(head.p);
	return r;
}

/* ---- reading ------------------------------------------------------------------------------ */

struct dataset_rd {
	const unsigned char *buf;
	size_t len;
	const char *name;
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 3, 4)))
dataset_rd_fail(const struct dataset_rd *rd, size_t at, const char *fmt, ...)
{
	char where[512];
	va_list ap;

	snprintf(where, sizeof where, "%s: at byte %zu: ", rd->name, at);
	va_start(ap, fmt);
	err_failv(rd->err, rd->errlen, where, fmt, ap);
	va_end(ap);
	return -1;
}

/* Header fields into d; *sources_bytes and *sum for the rest of the checks. */
static int
dataset_rd_header(const struct dataset_rd *rd, struct dataset *d, uint64_t *sources_bytes, uint64_t *sum)
{
	const unsigned char *h = rd->buf;
	uint64_t T, rec, count, expect;

	if (rd->len < DATASET_HEADER_BYTES)
		return dataset_rd_fail(rd, rd->len, "truncated header (%zu of %d bytes)", rd->len,
		    DATASET_HEADER_BYTES);
	if (memcmp(h, DATASET_MAGIC, 8) != 0)
		return dataset_rd_fail(rd, 0, "not a dataset file (magic is not \"%s\")", DATASET_MAGIC);
	d->version = (int)dataset_get_le(h + 8, 4);
	if (d->version < 1 || d->version > DATASET_VERSION)
		return dataset_rd_fail(rd, 8, "version %u (this program reads 1 to %d)", (unsigned)d->version,
		    DATASET_VERSION);
	d->kind = (enum dataset_kind)dataset_get_le(h + 12, 4);
	T = dataset_get_le(h + 16, 4);
	d->n_classes = (int)dataset_get_le(h + 20, 4);
	d->min_pitch = (int)dataset_get_le(h + 24, 4);
	rec = dataset_get_le(h + 28, 4);
	count = dataset_get_le(h + 32, 8);
	d->n_sources = (size_t)dataset_get_le(h + 40, 4);
	d->valid_permille = (int)dataset_get_le(h + 44, 4);
	*sources_bytes = dataset_get_le(h + 48, 8);
	*sum = dataset_get_le(h + 56, 8);
	if (d->kind != DATASET_MELODY && d->kind != DATASET_DRUMS && d->kind != DATASET_GROOVE)
		return dataset_rd_fail(rd, 12, "unknown kind %d", (int)d->kind);
	if (d->n_classes != (d->kind != DATASET_MELODY ? DATASET_DRUM_CLASSES : DATASET_MEL_CLASSES))
		return dataset_rd_fail(rd, 20, "%d classes for a %s dataset", d->n_classes,
		    dataset_kind_name(d->kind));
	if (T < 1 || T > DATASET_MAX_STEPS || rec != dataset_record_bytes(d->kind, (int)T))
		return dataset_rd_fail(rd, 16, "%u steps in records of %u bytes", (unsigned)T, (unsigned)rec);
	d->num_steps = (int)T;
	if (count > UINT32_MAX || *sources_bytes > DATASET_MAX_FILE_BYTES || d->valid_permille > 1000)
		return dataset_rd_fail(rd, 32, "implausible counts (%llu windows, %llu source bytes)",
		    (unsigned long long)count, (unsigned long long)*sources_bytes);
	d->count = (size_t)count;
	expect = DATASET_HEADER_BYTES + count * rec + *sources_bytes;
	if (expect != rd->len)
		return dataset_rd_fail(rd, rd->len < expect ? rd->len : (size_t)expect, "%s: the header promises "
		    "%llu bytes (%llu windows of %llu, %llu of sources), the file has %zu",
		    rd->len < expect ? "truncated" : "trailing bytes", (unsigned long long)expect,
		    (unsigned long long)count, (unsigned long long)rec, (unsigned long long)*sources_bytes, rd->len);
	return 0;
}

static int
dataset_rd_alloc(const struct dataset_rd *rd, struct dataset *d)
{
	size_t n = d->count ? d->count : 1;

	d->cap = d->count;
	d->tokens = malloc(n * (size_t)d->num_steps * sizeof *d->tokens);
	d->source = malloc(n * sizeof *d->source);
	d->split = malloc(n);
	d->transpose = malloc(n);
	d->sources = calloc(d->n_sources + 1, sizeof *d->sources);
	if (d->kind == DATASET_GROOVE && (d->groove = malloc(n * (size_t)d->num_steps * DATASET_GROOVE_COLS *
	    sizeof *d->groove)) == NULL)
		return err_fail(rd->err, rd->errlen, "%s: out of memory", rd->name);
	if (d->tokens == NULL || d->source == NULL || d->split == NULL || d->transpose == NULL || d->sources == NULL)
		return err_fail(rd->err, rd->errlen, "%s: out of memory", rd->name);
	return 0;
}

static int
dataset_rd_records(const struct dataset_rd *rd, struct dataset *d)
{
	size_t T = (size_t)d->num_steps, rec = dataset_record_bytes(d->kind, d->num_steps);

	for (size_t w = 0; w < d->count; w++) {
		const unsigned char *p = rd->buf + DATASET_HEADER_BYTES + w * rec;
		size_t at = DATASET_HEADER_BYTES + w * rec;
		for (size_t i = 0; i < T; i++) {
			d->tokens[w * T + i] = (uint16_t)dataset_get_le(p + 2 * i, 2);
			if (d->tokens[w * T + i] >= d->n_classes)
				return dataset_rd_fail(rd, at + 2 * i, "window %zu: token %u at step %zu is not below "
				    "%d classes", w, d->tokens[w * T + i], i, d->n_classes);
		}
		d->source[w] = (uint32_t)dataset_get_le(p + 2 * T, 4);
		d->split[w] = p[2 * T + 4];
		d->transpose[w] = (int8_t)p[2 * T + 5];
		if (d->source[w] >= d->n_sources)
			return dataset_rd_fail(rd, at + 2 * T, "window %zu: source %u of %zu", w, d->source[w],
			    d->n_sources);
		if (d->split[w] > DATASET_VALID || dataset_get_le(p + 2 * T + 6, 2) != 0)
			return dataset_rd_fail(rd, at + 2 * T + 4, "window %zu: split %u (0 or 1) or reserved "
			    "bytes not zero", w, d->split[w]);
		for (size_t i = 0; d->groove != NULL && i < T * DATASET_GROOVE_COLS; i++) {
			int16_t v = (int16_t)dataset_get_le(p + 2 * T + 8 + 2 * i, 2);
			size_t t = i / DATASET_GROOVE_COLS, c = i % DATASET_GROOVE_COLS, k = c % 9;
			int hit = (d->tokens[w * T + t] >> k) & 1;
			if (c < 9 ? v < 0 || v > 127 || (!hit && v != 0) : v < -DATASET_OFFSET_ONE ||
			    v > DATASET_OFFSET_ONE || (!hit && v != 0))
				return dataset_rd_fail(rd, at + 2 * T + 8 + 2 * i, "window %zu: step %zu class %zu: %s "
				    "%d (%s)", w, t, k, c < 9 ? "velocity" : "offset", v, !hit ? "no hit there, 0 "
				    "expected" : c < 9 ? "0..127 expected" : "-16384..16384 expected");
			d->groove[w * T * DATASET_GROOVE_COLS + i] = v;
		}
	}
	return 0;
}

static char *
dataset_rd_str(const struct dataset_rd *rd, size_t *pos, size_t end, size_t i, const char *what)
{
	size_t n;
	char *s;

	if (end - *pos < 4) {
		dataset_rd_fail(rd, *pos, "source %zu: %s length past the end of the table", i, what);
		return NULL;
	}
	n = (size_t)dataset_get_le(rd->buf + *pos, 4);
	if (n > end - *pos - 4 || n > DATASET_MAX_STRING || memchr(rd->buf + *pos + 4, 0, n) != NULL) {
		dataset_rd_fail(rd, *pos, "source %zu: %s of %zu bytes past the end of the table or with a NUL",
		    i, what, n);
		return NULL;
	}
	if ((s = malloc(n + 1)) == NULL) {
		err_fail(rd->err, rd->errlen, "%s: out of memory", rd->name);
		return NULL;
	}
	memcpy(s, rd->buf + *pos + 4, n);
	s[n] = '\0';
	*pos += 4 + n;
	return s;
}

/* Version 2's build options after the sources; version 1: unknown distance, no kinds, no cap. */
static int
dataset_rd_options(const struct dataset_rd *rd, struct dataset *d, size_t *pos, size_t end)
{
	size_t at;

	d->valid_distance = -1;
	d->cap_percent = 100;
	if (d->version < 2)
		return (d->valid_kinds = strdup("")) == NULL || (d->cap_kind = strdup("")) == NULL ?
		    err_fail(rd->err, rd->errlen, "%s: out of memory", rd->name) : 0;
	if ((d->valid_kinds = dataset_rd_str(rd, pos, end, d->n_sources, "valid kinds")) == NULL)
		return -1;
	at = *pos;
	if (end - *pos < 4)
		return dataset_rd_fail(rd, at, "validation distance past the end of the table");
	d->valid_distance = dataset_get_le(rd->buf + *pos, 4) == UINT32_MAX ? -1 :
	    (int)dataset_get_le(rd->buf + *pos, 4);
	if (d->valid_distance > DATASET_MAX_DISTANCE || d->valid_distance < -1)
		return dataset_rd_fail(rd, at, "validation distance %d above %d", d->valid_distance,
		    DATASET_MAX_DISTANCE);
	*pos += 4;
	if ((d->cap_kind = dataset_rd_str(rd, pos, end, d->n_sources, "cap kind")) == NULL)
		return -1;
	at = *pos;
	if (end - *pos < 4 || (d->cap_percent = (int)dataset_get_le(rd->buf + *pos, 4)) > 100)
		return dataset_rd_fail(rd, at, "cap percent past the end or above 100");
	*pos += 4;
	if (d->version < 3)
		return 0;
	at = *pos;
	if (end - *pos < 4 || dataset_get_le(rd->buf + *pos, 4) > 1 ||
	    (dataset_get_le(rd->buf + *pos, 4) == 1 && d->kind == DATASET_MELODY))
		return dataset_rd_fail(rd, at, "pitch classes past the end, or not 0 (default) or 1 (roland, drums only)");
	d->roland = (int)dataset_get_le(rd->buf + *pos, 4);
	*pos += 4;
	return 0;
}

static int
dataset_rd_sources(const struct dataset_rd *rd, struct dataset *d)
{
	size_t pos = DATASET_HEADER_BYTES + d->count * dataset_record_bytes(d->kind, d->num_steps), end = rd->len;

	for (size_t i = 0; i < d->n_sources; i++) {
		struct dataset_source *s = &d->sources[i];
		if (pos >= end)
			return dataset_rd_fail(rd, pos, "source %zu of %zu past the end of the table", i, d->n_sources);
		s->split = rd->buf[pos];
		if (s->split > DATASET_VALID)
			return dataset_rd_fail(rd, pos, "source %zu: split %d (0 or 1)", i, s->split);
		pos++;
		if ((s->path = dataset_rd_str(rd, &pos, end, i, "path")) == NULL ||
		    (s->package = dataset_rd_str(rd, &pos, end, i, "package")) == NULL ||
		    (s->licence = dataset_rd_str(rd, &pos, end, i, "licence")) == NULL ||
		    (s->kind = d->version >= 2 ? dataset_rd_str(rd, &pos, end, i, "kind") : strdup("")) == NULL)
			return -1;
	}
	if (dataset_rd_options(rd, d, &pos, end) == -1)
		return -1;
	if (pos != end)
		return dataset_rd_fail(rd, pos, "%zu bytes after the last source", end - pos);
	return 0;
}

int
dataset_read_mem(struct dataset *d, const unsigned char *buf, size_t len, const char *name, char *err,
    size_t errlen)
{
	struct dataset_rd rd = { buf, len, name, err, errlen };
	uint64_t sources_bytes = 0, sum = 0, got;

	memset(d, 0, sizeof *d);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (dataset_rd_header(&rd, d, &sources_bytes, &sum) == -1)
		goto fail;
	got = hash_fnv1a(HASH_FNV1A_INIT, buf + DATASET_HEADER_BYTES, len - DATASET_HEADER_BYTES);
	if (got != sum) {
		dataset_rd_fail(&rd, 56, "checksum %016llx of bytes %d..%zu does not match the header's %016llx: "
		    "the file is corrupt", (unsigned long long)got, DATASET_HEADER_BYTES, len,
		    (unsigned long long)sum);
		goto fail;
	}
	if (dataset_rd_alloc(&rd, d) == -1 || dataset_rd_records(&rd, d) == -1 || dataset_rd_sources(&rd, d) == -1)
		goto fail;
	for (size_t w = 0; w < d->count; w++)
		if (d->split[w] != d->sources[d->source[w]].split) {
			dataset_rd_fail(&rd, DATASET_HEADER_BYTES + w * dataset_record_bytes(d->kind, d->num_steps),
			    "window %zu is in the other split than its source %u", w, d->source[w]);
			goto fail;
		}
	return 0;
fail:
	dataset_free(d);
	return -1;
}

int
dataset_read(struct dataset *d, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	struct stat st;
	size_t len = 0;
	int r = -1;

	memset(d, 0, sizeof *d);
	if (f == NULL || fstat(fileno(f), &st) == -1) {
		err_fail(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (unsigned long long)st.st_size > DATASET_MAX_FILE_BYTES) {
		err_fail(err, errlen, "%s: not a regular file of at most %llu bytes", path,
		    DATASET_MAX_FILE_BYTES);
		goto out;
	}
	len = (size_t)st.st_size;
	if ((buf = malloc(len ? len : 1)) == NULL || fread(buf, 1, len, f) != len) {
		err_fail(err, errlen, "%s: %s", path, buf == NULL ? "out of memory" : "short read");
		goto out;
	}
	r = dataset_read_mem(d, buf, len, path, err, errlen);
out:
	free(buf);
	if (f != NULL)
		fclose(f);
	return r;
}
