/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz_ckpt.c: libFuzzer target: one input is a whole checkpoint directory (config.json, weights_manifest.json,
 * shards) that vae_load (and ckpt_open under it) must load or refuse with a message naming the directory; a loaded
 * checkpoint finds every tensor again by name and shape. Never a crash.
 *
 * Input format (tests/corpus/pack_ckpt.sh writes it from a checkpoint directory): a sequence of files, each
 * starting with a header line at the start of the input or right after a '\n':
 *
 *     "@@ NAME\n"          the file NAME holds the bytes up to the '\n' before the next header, or to the end
 *     "@@ NAME *SIZE\n"    the file NAME is SIZE bytes (decimal): the section's bytes repeated, zeros if none
 *
 * so the JSON stays text the mutator can edit in place and a shard of megabytes costs a dozen bytes of input.
 * NAME is 1..64 of [A-Za-z0-9._-] other than "." and ".."; a section with another name, bytes before the first
 * header and files past FZ_MAX_FILES are ignored; a later section of the same name replaces an earlier one.
 * Filled files hold at most FZ_FILL_MAX bytes in all (larger sizes are cut to what is left). The files go to
 * one directory per process (under $TMPDIR, else /dev/shm, else /tmp), emptied before each input and removed at
 * exit (a crash leaves it behind). */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt.h"
#include "vae.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_FILES 16
#define FZ_NAME_MAX 64
#define FZ_FILL_MAX (2u << 20)

static char fz_dir[256];
static char fz_names[FZ_MAX_FILES][FZ_NAME_MAX + 1];    /* files the last input wrote */
static int fz_n;

static void
fz_clear(void)
{
	char path[512];

	for (int i = 0; i < fz_n; i++) {
		snprintf(path, sizeof path, "%s/%s", fz_dir, fz_names[i]);
		unlink(path);
	}
	fz_n = 0;
}

static void
fz_cleanup(void)
{
	fz_clear();
	rmdir(fz_dir);
}

static void
fz_init(void)
{
	const char *t = getenv("TMPDIR");

	if (t == NULL || *t == '\0')
		t = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(fz_dir, sizeof fz_dir, "%s/fuzz_ckpt-XXXXXX", t);
	if (mkdtemp(fz_dir) == NULL)
		abort();
	atexit(fz_cleanup);
}

/* Writes len bytes of `bytes`, or (is_fill) `fill` bytes of `bytes` repeated (zeros when len == 0). */
static void
fz_write(const char *name, const uint8_t *bytes, size_t len, size_t fill, int is_fill)
{
	static uint8_t buf[1 << 16];
	char path[512];
	size_t i, k, n;
	FILE *f;
	int ok = 1;

	snprintf(path, sizeof path, "%s/%s", fz_dir, name);
	if ((f = fopen(path, "wb")) == NULL)
		abort();
	if (!is_fill) {
		ok = fwrite(bytes, 1, len, f) == len;
	} else {
		/* whole copies of the pattern in buf, so the file is written in large blocks */
		n = len == 0 ? sizeof buf : len > sizeof buf ? len : sizeof buf / len * len;
		for (i = 0; len > 0 && len <= sizeof buf && i < n; i += len)
			memcpy(buf + i, bytes, len);
		if (len == 0)
			memset(buf, 0, sizeof buf);
		for (i = 0; i < fill && ok; i += k) {
			k = fill - i < n ? fill - i : n;
			ok = fwrite(len > sizeof buf ? bytes : buf, 1, k, f) == k;
		}
	}
	if (fclose(f) != 0 || !ok)
		abort();
	for (i = 0; i < (size_t)fz_n; i++)
		if (strcmp(fz_names[i], name) == 0)
			return;
	snprintf(fz_names[fz_n++], sizeof fz_names[0], "%s", name);
}

/* Parses the header line at h (after "@@ ", up to end): name, and *SIZE if given. 0 if it is not a file. */
static int
fz_header(const uint8_t *h, const uint8_t *end, char *name, size_t *fill, int *is_fill)
{
	size_t n = 0;

	while (h < end && n < FZ_NAME_MAX && (h[0] == '.' || h[0] == '_' || h[0] == '-' ||
	    (h[0] >= '0' && h[0] <= '9') || (h[0] >= 'A' && h[0] <= 'Z') || (h[0] >= 'a' && h[0] <= 'z')))
		name[n++] = (char)*h++;
	name[n] = '\0';
	if (n == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	*is_fill = 0;
	*fill = 0;
	if (h < end && h[0] == ' ' && h + 1 < end && h[1] == '*') {
		*is_fill = 1;
		for (h += 2; h < end && *h >= '0' && *h <= '9'; h++)
			*fill = *fill > FZ_FILL_MAX ? *fill : *fill * 10 + (size_t)(*h - '0');
	}
	return h == end;
}

/* Start of the next header at or after p ("@@ " at the start of the input or after '\n'), or end. */
static const uint8_t *
fz_next(const uint8_t *data, const uint8_t *p, const uint8_t *end)
{
	for (; p + 3 <= end; p++)
		if (p[0] == '@' && p[1] == '@' && p[2] == ' ' && (p == data || p[-1] == '\n'))
			return p;
	return end;
}

static void
fz_unpack(const uint8_t *data, size_t size)
{
	const uint8_t *end = data + size, *h = fz_next(data, data, end), *eol, *body, *next, *stop;
	char name[FZ_NAME_MAX + 1];
	size_t fill, budget = FZ_FILL_MAX;
	int is_fill;

	while (h < end) {
		eol = memchr(h, '\n', (size_t)(end - h));
		if (eol == NULL)
			return;
		body = eol + 1;
		next = fz_next(data, body, end);
		stop = next < end ? next - 1 : end;     /* the '\n' before a header is not content */
		if (stop < body)
			stop = body;
		if (fz_header(h + 3, eol, name, &fill, &is_fill) && fz_n < FZ_MAX_FILES) {
			fill = fill < budget ? fill : budget;
			budget -= is_fill ? fill : 0;
			fz_write(name, body, (size_t)(stop - body), fill, is_fill);
		}
		h = next;
	}
}

/* Every tensor is found again by name with its shape, and its last element was written. */
static void
fz_check_ckpt(const struct ckpt *c)
{
	static const int any[CKPT_MAX_DIMS] = { -1, -1, -1, -1 };
	char err[512];

	for (size_t i = 0; i < c->n; i++) {
		const struct ckpt_tensor *t = ckpt_get(c, c->t[i].name, c->t[i].ndim, c->t[i].shape, err, sizeof err);

		if (t != &c->t[i] || (t->count > 0 && !(t->data[t->count - 1] == t->data[t->count - 1])))
			abort();
		if (ckpt_get(c, c->t[i].name, c->t[i].ndim, any, err, sizeof err) != t)
			abort();
	}
	if (ckpt_get(c, "missing", 1, any, err, sizeof err) != ckpt_find(c, "missing") ||
	    (ckpt_find(c, "missing") == NULL && strncmp(err, "checkpoint ", 11) != 0))
		abort();
}

/* A refusal is a terminated, non-empty message that names the checkpoint directory. */
static void
fz_check_err(const char *err, size_t len)
{
	if (memchr(err, '\0', len) == NULL || err[0] == '\0' || strstr(err, fz_dir) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ckpt c;
	struct vae m;
	char err[1024], desc[256];

	if (fz_dir[0] == '\0')
		fz_init();
	fz_clear();
	fz_unpack(data, size);
	/* The model loader first (ckpt_open, then config.json's converter and controls against the shapes): a
	 * valid directory is read once. */
	memset(err, 0, sizeof err);
	if (vae_load(&m, fz_dir, err, sizeof err) == 0) {
		fz_check_ckpt(&m.ck);
		vae_describe(&m, desc, sizeof desc);
		if (memchr(desc, '\0', sizeof desc) == NULL)
			abort();
		vae_free(&m);
		return 0;
	}
	fz_check_err(err, sizeof err);
	/* Refused: was it the checkpoint itself? */
	memset(err, 0, sizeof err);
	if (ckpt_open(&c, fz_dir, err, sizeof err) < 0) {
		fz_check_err(err, sizeof err);
		if (strncmp(err, "checkpoint ", 11) != 0)
			abort();
	} else {
		fz_check_ckpt(&c);
	}
	ckpt_close(&c);                 /* also harmless after a failure */
	return 0;
}
