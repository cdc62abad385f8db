/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ckpt_write.h: writing magenta.js checkpoint directories (what the trainer and the test fixtures save). */
#ifndef MVD_CKPT_WRITE_H
#define MVD_CKPT_WRITE_H

#include "ckpt.h"

/* One tensor to write. */
struct ckpt_wtensor {
	const char *name;
	int ndim;
	int shape[CKPT_MAX_DIMS];
	const float *data;
};

/* Writes dir/config.json (config_json verbatim), dir/weights_manifest.json and shards of at most shard_bytes
 * (0 = 4 MiB) named group1-shardNofM, storing weights as dtype (uint8/uint16 affine per tensor, as tfjs does;
 * float16 rounds to nearest even). Creates dir if needed; each file is replaced atomically (file.h). */
int ckpt_write(const char *dir, const char *config_json, const struct ckpt_wtensor *t, size_t n,
    enum ckpt_dtype dtype, size_t shard_bytes, char *err, size_t errlen);

#endif
