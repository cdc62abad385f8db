/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ckpt.h: magenta.js checkpoint directories (config.json, weights_manifest.json, shards) <-> named float32 tensors. */
#ifndef MVD_CKPT_H
#define MVD_CKPT_H

#include <stddef.h>
#include <stdint.h>

#define CKPT_MAX_DIMS 4
#define CKPT_CONFIG "config.json"
#define CKPT_MANIFEST "weights_manifest.json"

enum ckpt_dtype { CKPT_FLOAT32, CKPT_UINT8, CKPT_UINT16, CKPT_FLOAT16, CKPT_NDTYPES };

/* How the manifest names each stored dtype ("dtype" of float32, else quantization's "dtype") and its bytes per
 * element, indexed by enum ckpt_dtype: the one table the reader and the writer share. */
struct ckpt_dtype_info {
	const char *name;
	size_t size;
};
extern const struct ckpt_dtype_info ckpt_dtypes[CKPT_NDTYPES];

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
	struct json_t *config;  /* parsed config.json (jansson's json_t), owned */
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

/* dir/name into buf; -1 when it does not fit. */
int ckpt_path(char *buf, size_t len, const char *dir, const char *name);
/* Fills err (if not NULL) with "checkpoint DIR: " and the message; returns -1. For ckpt.c and ckpt_write.c. */
int ckpt_errf(char *err, size_t errlen, const char *dir, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* IEEE binary16 bits -> float32, exact (subnormals, infinities and NaN payloads included). */
float ckpt_f16_to_f32(uint16_t h);
/* float32 -> binary16 bits, rounded to nearest even; overflow gives infinity, NaN stays NaN. */
uint16_t ckpt_f32_to_f16(float f);

#endif
