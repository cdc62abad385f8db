/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ckpt.h: magenta.js checkpoint directories (config.json, weights_manifest.json, shards) <-> named float32 tensors. */
#ifndef MVD_CKPT_H
#define MVD_CKPT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define CKPT_MAX_DIMS 4

enum ckpt_dtype { CKPT_FLOAT32, CKPT_UINT8, CKPT_UINT16, CKPT_FLOAT16 };

struct ckpt_tensor {
	char *name;
	int ndim;
	int shape[CKPT_MAX_DIMS];
	size_t count;           /* elements = product of shape */
	enum ckpt_dtype stored; /* dtype in the shards (data is always dequantized float32) */
	float *data;            /* [count], row-major, owned by the checkpoint */
};

struct ckpt {
	char *dir;
	json_t *config;         /* parsed config.json, owned */
	struct ckpt_tensor *t;  /* [n] in manifest order */
	size_t n;
	size_t stored_bytes;    /* bytes of weights in the shards */
	struct ckpt_tensor **byname; /* [n] sorted by name, for ckpt_find */
	float *data;            /* the one allocation every t[i].data points into */
};

/* Reads and fully validates a checkpoint directory; on error fills err naming the file and tensor, returns -1
 * (c is then left closed: ckpt_close is harmless). Non-finite weights are rejected. */
int ckpt_open(struct ckpt *c, const char *dir, char *err, size_t errlen);
/* Frees everything ckpt_open allocated; safe on a zeroed or failed struct. */
void ckpt_close(struct ckpt *c);
/* The tensor called name, or NULL (binary search). */
const struct ckpt_tensor *ckpt_find(const struct ckpt *c, const char *name);
/* The tensor called name with ndim dims matching dims (-1 = any); otherwise err names tensor, file, shapes. */
const struct ckpt_tensor *ckpt_get(const struct ckpt *c, const char *name, int ndim, const int *dims,
    char *err, size_t errlen);

/* One tensor to write. */
struct ckpt_wtensor {
	const char *name;
	int ndim;
	int shape[CKPT_MAX_DIMS];
	const float *data;
};

/* Writes dir/config.json (config_json verbatim), dir/weights_manifest.json and shards of at most shard_bytes
 * (0 = 4 MiB) named group1-shardNofM, storing weights as dtype (uint8/uint16 affine per tensor, as tfjs does;
 * float16 rounds to nearest even). Creates dir if needed; each file is written as NAME.tmp then renamed. */
int ckpt_write(const char *dir, const char *config_json, const struct ckpt_wtensor *t, size_t n,
    enum ckpt_dtype dtype, size_t shard_bytes, char *err, size_t errlen);

/* Fills err (if not NULL) with "checkpoint DIR: " and the message; returns -1. For ckpt.c and ckpt_write.c. */
int ckpt_errf(char *err, size_t errlen, const char *dir, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* IEEE binary16 bits -> float32, exact (subnormals, infinities and NaN payloads included). */
float ckpt_f16_to_f32(uint16_t h);
/* float32 -> binary16 bits, rounded to nearest even; overflow gives infinity, NaN stays NaN. */
uint16_t ckpt_f32_to_f16(float f);

#endif
