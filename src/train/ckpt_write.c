/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ckpt_write.c: writes magenta.js checkpoint directories, quantizing and sharding as tfjs's converter does. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <jansson.h>

#include "ckpt_write.h"
#include "file.h"

#define CKPT_SHARD_DEFAULT ((size_t)4 << 20)

static void
ckpt_le_put(unsigned char *b, uint32_t v, size_t n)
{
	for (size_t i = 0; i < n; i++, v >>= 8)
		b[i] = (unsigned char)v;
}

/* Rounds the low `shift` bits of m away, to nearest, ties to even. */
static uint32_t
ckpt_round_shift(uint32_t m, unsigned shift)
{
	uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);

	if (rem > half || (rem == half && (q & 1)))
		q++;
	return q;
}

uint16_t
ckpt_f32_to_f16(float f)
{
	uint32_t x, ax;
	uint16_t sign;

	memcpy(&x, &f, sizeof x);
	sign = (uint16_t)((x >> 16) & 0x8000u);
	ax = x & 0x7fffffffu;
	if (ax >= 0x7f800000u)          /* inf stays inf; nan stays a quiet nan */
		return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u | ((ax >> 13) & 0x3ffu) : 0));
	if (ax >= 0x477ff000u)          /* >= 65520 rounds to inf */
		return (uint16_t)(sign | 0x7c00u);
	if (ax < 0x33000000u)           /* <= 2^-25 rounds to zero (2^-25 itself ties to even 0) */
		return sign;
	if (ax < 0x38800000u)           /* half subnormal: round(v * 2^24); may carry into the smallest normal */
		return (uint16_t)(sign | ckpt_round_shift((ax & 0x7fffffu) | 0x800000u, 126 - (ax >> 23)));
	/* normal: rebias the exponent by 127 - 15 and round 13 mantissa bits; a carry bumps the exponent */
	return (uint16_t)(sign | ckpt_round_shift(ax - (112u << 23), 13));
}

static size_t
ckpt_wcount(const struct ckpt_wtensor *t)
{
	size_t count = 1;
	int d;

	for (d = 0; d < t->ndim; d++)
		count *= (size_t)t->shape[d];
	return count;
}

static int
ckpt_wcheck_one(const char *dir, const struct ckpt_wtensor *t, enum ckpt_dtype dt, size_t *count, char *err,
    size_t errlen)
{
	size_t i;
	int d;

	if (t->name == NULL || *t->name == '\0')
		return ckpt_errf(err, errlen, dir, "writing: a tensor has no name");
	if (t->ndim < 0 || t->ndim > CKPT_MAX_DIMS)
		return ckpt_errf(err, errlen, dir, "writing tensor '%s': %d dimensions", t->name, t->ndim);
	for (d = 0, *count = 1; d < t->ndim; d++) {
		if (t->shape[d] < 0 || (t->shape[d] && *count > SIZE_MAX / 4 / (size_t)t->shape[d]))
			return ckpt_errf(err, errlen, dir, "writing tensor '%s': bad shape", t->name);
		*count *= (size_t)t->shape[d];
	}
	if (*count > 0 && t->data == NULL)
		return ckpt_errf(err, errlen, dir, "writing tensor '%s': no data", t->name);
	for (i = 0; i < *count; i++)
		if (!isfinite(t->data[i]))
			return ckpt_errf(err, errlen, dir, "writing tensor '%s': non-finite value at element %zu",
			    t->name, i);
	for (i = 0; dt == CKPT_FLOAT16 && i < *count; i++)   /* ckpt_open would reject the infinity */
		if (fabsf(t->data[i]) >= 65520.0f)
			return ckpt_errf(err, errlen, dir, "writing tensor '%s': element %zu = %g does not fit "
			    "float16 (max 65504)", t->name, i, (double)t->data[i]);
	return 0;
}

/* Validates the tensors as ckpt_open would and sums their stored bytes. */
static int
ckpt_wcheck(const char *dir, const struct ckpt_wtensor *t, size_t n, enum ckpt_dtype dt, size_t *total,
    char *err, size_t errlen)
{
	size_t i, j, count = 0, es = ckpt_dtypes[dt].size;

	if (dt != CKPT_FLOAT32 && dt != CKPT_UINT8 && dt != CKPT_UINT16 && dt != CKPT_FLOAT16)
		return ckpt_errf(err, errlen, dir, "writing: unknown dtype %d", (int)dt);
	for (i = 0, *total = 0; i < n; i++) {
		if (ckpt_wcheck_one(dir, &t[i], dt, &count, err, errlen))
			return -1;
		for (j = 0; j < i; j++)
			if (strcmp(t[i].name, t[j].name) == 0)
				return ckpt_errf(err, errlen, dir, "writing: tensor '%s' given twice", t[i].name);
		if (count * es > SIZE_MAX - *total)
			return ckpt_errf(err, errlen, dir, "writing: weights too large at tensor '%s'", t[i].name);
		*total += count * es;
	}
	return 0;
}

/* tfjs's affine quantizer: min = min(v), scale = (max - min) / (2^bits - 1) (1.0 when max == min),
 * q = round-half-even((v - min) / scale), clamped; q goes to out little-endian. */
static void
ckpt_quantize(const float *v, size_t n, int bits, unsigned char *out, double *scale, double *min)
{
	double lo = n ? v[0] : 0.0, hi = lo, qmax = (double)((1u << bits) - 1), q;
	size_t i;

	for (i = 1; i < n; i++) {
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	*min = lo;
	*scale = hi > lo ? (hi - lo) / qmax : 1.0;
	for (i = 0; i < n; i++) {
		q = nearbyint(((double)v[i] - lo) / *scale);
		q = q < 0 ? 0 : q > qmax ? qmax : q;
		ckpt_le_put(out + (size_t)bits / 8 * i, (uint32_t)q, (size_t)bits / 8);
	}
}

/* Encodes one tensor's bytes into out and returns its manifest entry (NULL when out of memory). */
static json_t *
ckpt_wencode(const struct ckpt_wtensor *t, enum ckpt_dtype dt, unsigned char *out)
{
	size_t i, n = ckpt_wcount(t);
	json_t *shape = json_array(), *q = NULL;
	double scale, min;
	uint32_t u;
	int d;

	for (d = 0; shape && d < t->ndim; d++)
		json_array_append_new(shape, json_integer(t->shape[d]));
	if (dt == CKPT_FLOAT32) {
		for (i = 0; i < n; i++) {
			memcpy(&u, &t->data[i], sizeof u);
			ckpt_le_put(out + 4 * i, u, 4);
		}
	} else if (dt == CKPT_FLOAT16) {
		for (i = 0; i < n; i++)
			ckpt_le_put(out + 2 * i, ckpt_f32_to_f16(t->data[i]), 2);
		q = json_pack("{s:s}", "dtype", ckpt_dtypes[dt].name);
	} else {
		ckpt_quantize(t->data, n, dt == CKPT_UINT8 ? 8 : 16, out, &scale, &min);
		q = json_pack("{s:s, s:f, s:f}", "dtype", ckpt_dtypes[dt].name, "scale", scale,
		    "min", min);
	}
	if (q)
		return json_pack("{s:s, s:o, s:s, s:o}", "name", t->name, "shape", shape, "dtype",
		    ckpt_dtypes[CKPT_FLOAT32].name, "quantization", q);
	if (dt == CKPT_FLOAT32)
		return json_pack("{s:s, s:o, s:s}", "name", t->name, "shape", shape, "dtype",
		    ckpt_dtypes[CKPT_FLOAT32].name);
	json_decref(shape);
	return NULL;
}

/* Replaces dir/name atomically by data[0..len). */
static int
ckpt_write_file(const char *dir, const char *name, const void *data, size_t len, char *err, size_t errlen)
{
	char path[PATH_MAX], why[PATH_MAX + 256];

	if (ckpt_path(path, sizeof path, dir, name))
		return ckpt_errf(err, errlen, dir, "writing %s: path too long", name);
	if (file_write_atomic(path, data, len, why, sizeof why) < 0)
		return ckpt_errf(err, errlen, dir, "writing %s", why);
	return 0;
}

/* Cuts buf into files of shard_bytes regardless of tensor boundaries, as tfjs does; returns their names. */
static json_t *
ckpt_write_shards(const char *dir, const unsigned char *buf, size_t total, size_t shard_bytes, char *err,
    size_t errlen)
{
	size_t i, off, nsh = total ? (total - 1) / shard_bytes + 1 : 1;
	json_t *paths = json_array();
	char name[64];

	for (i = 0; paths && i < nsh; i++) {
		off = i * shard_bytes;
		snprintf(name, sizeof name, "group1-shard%zuof%zu", i + 1, nsh);
		if (ckpt_write_file(dir, name, buf + off, total - off < shard_bytes ? total - off : shard_bytes,
		    err, errlen) || json_array_append_new(paths, json_string(name))) {
			json_decref(paths);
			return NULL;
		}
	}
	if (paths == NULL)
		ckpt_errf(err, errlen, dir, "writing: out of memory");
	return paths;
}

/* Shards, then config.json, then weights_manifest.json last, so a complete manifest means complete shards. */
static int
ckpt_write_all(const char *dir, const char *config_json, json_t *weights, const unsigned char *buf,
    size_t total, size_t shard_bytes, char *err, size_t errlen)
{
	json_t *paths, *manifest;
	char *text;
	int r;

	if ((paths = ckpt_write_shards(dir, buf, total, shard_bytes, err, errlen)) == NULL)
		return -1;
	manifest = json_pack("[{s:o, s:O}]", "paths", paths, "weights", weights);
	text = manifest ? json_dumps(manifest, JSON_INDENT(1)) : NULL;
	json_decref(manifest);
	if (text == NULL)
		return ckpt_errf(err, errlen, dir, "writing " CKPT_MANIFEST ": out of memory");
	r = ckpt_write_file(dir, CKPT_CONFIG, config_json, strlen(config_json), err, errlen);
	if (r == 0)
		r = ckpt_write_file(dir, CKPT_MANIFEST, text, strlen(text), err, errlen);
	free(text);
	return r;
}

int
ckpt_write(const char *dir, const char *config_json, const struct ckpt_wtensor *t, size_t n,
    enum ckpt_dtype dtype, size_t shard_bytes, char *err, size_t errlen)
{
	size_t i, total = 0, off = 0;
	unsigned char *buf = NULL;
	json_t *weights = NULL, *w;
	int r = -1;

	if (config_json == NULL)
		return ckpt_errf(err, errlen, dir, "writing: no config.json text");
	if (ckpt_wcheck(dir, t, n, dtype, &total, err, errlen))
		return -1;
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		return ckpt_errf(err, errlen, dir, "cannot create the directory: %s", strerror(errno));
	if ((buf = malloc(total + 1)) == NULL || (weights = json_array()) == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		if ((w = ckpt_wencode(&t[i], dtype, buf + off)) == NULL || json_array_append_new(weights, w))
			goto oom;
		off += ckpt_wcount(&t[i]) * ckpt_dtypes[dtype].size;
	}
	r = ckpt_write_all(dir, config_json, weights, buf, total, shard_bytes ? shard_bytes : CKPT_SHARD_DEFAULT,
	    err, errlen);
	goto out;
oom:
	ckpt_errf(err, errlen, dir, "writing: out of memory");
out:
	json_decref(weights);
	free(buf);
	return r;
}
