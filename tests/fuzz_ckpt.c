/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz_ckpt.c: libFuzzer target feeding arbitrary bytes to ckpt_open as weights_manifest.json. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fz_dir[64];

static int
fz_put(const char *name, const void *data, size_t len)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof path, "%s/%s", fz_dir, name);
	if ((f = fopen(path, "wb")) == NULL)
		return -1;
	ok = fwrite(data, 1, len, f) == len;
	return (fclose(f) == 0 && ok) ? 0 : -1;
}

static void
fz_cleanup(void)
{
	static const char *const names[] = { "config.json", "weights_manifest.json", "s", "group1-shard1of1" };
	char path[128];
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", fz_dir, names[i]);
		unlink(path);
	}
	rmdir(fz_dir);
}

/* One directory for the whole run: config.json and two 64-byte shards "s" and "group1-shard1of1" whose bytes
 * (< 0x7c) are finite as float32 and as float16, so manifests that fit them read every decoder. */
static void
fz_init(void)
{
	static const char config[] = "{\"type\":\"MusicVAE\"}";
	unsigned char shard[64];
	size_t i;

	strcpy(fz_dir, "/tmp/fuzz_ckpt-XXXXXX");
	if (mkdtemp(fz_dir) == NULL)
		abort();
	for (i = 0; i < sizeof shard; i++)
		shard[i] = (unsigned char)((i * 37) % 0x7c);
	if (fz_put("config.json", config, strlen(config)) || fz_put("s", shard, sizeof shard) ||
	    fz_put("group1-shard1of1", shard, sizeof shard))
		abort();
	atexit(fz_cleanup);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int any[CKPT_MAX_DIMS] = { -1, -1, -1, -1 };
	struct ckpt c;
	char err[512];
	size_t i;

	if (fz_dir[0] == '\0')
		fz_init();
	if (fz_put("weights_manifest.json", data, size))
		abort();
	if (ckpt_open(&c, fz_dir, err, sizeof err) == 0) {
		for (i = 0; i < c.n; i++) {
			const struct ckpt_tensor *t = ckpt_get(&c, c.t[i].name, c.t[i].ndim, any, err, sizeof err);

			if (t != &c.t[i] || (t->count > 0 && !(t->data[t->count - 1] == t->data[t->count - 1])))
				abort();        /* every name is found again, and the last element was written */
		}
		ckpt_get(&c, "missing", 1, any, err, sizeof err);
	} else if (memchr(err, '\0', sizeof err) == NULL || strncmp(err, "checkpoint ", 11) != 0) {
		abort();                /* every failure leaves a terminated message */
	}
	ckpt_close(&c);
	return 0;
}
