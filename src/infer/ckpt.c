/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ckpt.c: reads and fully validates magenta.js checkpoint directories (config.json, manifest, shards). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <jansson.h>

#include "ckpt.h"
#include "err.h"

#define CKPT_CHUNK 4096                 /* elements decoded per read: a 16 KiB stack buffer */
/* Doubles at or above this magnitude round to infinity as float32 (FLT_MAX + half an ulp). */
#define CKPT_F32_OVERFLOW 0x1.ffffffp127

/* What validation learns about one weight and the read needs. */
struct ckpt_plan {
	uint64_t offset;        /* byte offset in the group's concatenated shards */
	uint64_t bytes;         /* stored bytes */
	double scale, min;      /* uint8/uint16 only */
};

/* One manifest group: its shard paths and the weights stored in them. */
struct ckpt_group {
	json_t *paths;          /* borrowed from the manifest */
	size_t first, n;        /* weights c->t[first .. first + n) */
	uint64_t bytes;         /* sum of the weights' stored bytes */
};

/* State of one ckpt_open, freed when it returns. */
struct ckpt_load {
	struct ckpt *c;
	json_t *manifest;
	struct ckpt_plan *plan;         /* [c->n] */
	struct ckpt_group *group;       /* [ngroup] */
	size_t ngroup;
	char *err;
	size_t errlen;
};

/* Shards of one group read back to back as one byte stream. */
struct ckpt_stream {
	struct ckpt_load *L;
	size_t gi;
	size_t next;            /* index in paths of the next shard to open */
	FILE *f;
	const char *cur;        /* path of the shard being read */
};

int
ckpt_errf(char *err, size_t errlen, const char *dir, const char *fmt, ...)
{
	char prefix[512];
	va_list ap;

	snprintf(prefix, sizeof prefix, "checkpoint %s: ", dir ? dir : "?");
	va_start(ap, fmt);
	err_failv(err, errlen, prefix, fmt, ap);
	va_end(ap);
	return -1;
}

#define ckpt_fail(L, ...) ckpt_errf((L)->err, (L)->errlen, (L)->c->dir, __VA_ARGS__)

const struct ckpt_dtype_info ckpt_dtypes[CKPT_NDTYPES] = {
	[CKPT_FLOAT32] = { "float32", 4 }, [CKPT_UINT8] = { "uint8", 1 }, [CKPT_UINT16] = { "uint16", 2 },
	[CKPT_FLOAT16] = { "float16", 2 },
};

int
ckpt_path(char *buf, size_t len, const char *dir, const char *name)
{
	int k = snprintf(buf, len, "%s/%s", dir, name);

	return (k < 0 || (size_t)k >= len) ? -1 : 0;
}

static uint32_t
ckpt_le_get(const unsigned char *b, size_t n)
{
	uint32_t v = 0;

	while (n-- > 0)
		v = v << 8 | b[n];
	return v;
}

float
ckpt_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, u;
	float f;

	if (e == 0) {           /* zero or subnormal: m * 2^-24, exact in float32 */
		f = (float)m * 0x1p-24f;
		return sign ? -f : f;
	}
	if (e == 31)
		u = sign | 0x7f800000u | (m << 13);
	else
		u = sign | ((e + 112) << 23) | (m << 13);
	memcpy(&f, &u, sizeof f);
	return f;
}

/* ---- reading: JSON ------------------------------------------------------------------------ */

static int
ckpt_load_json(struct ckpt_load *L, const char *name, size_t flags, json_t **out)
{
	char path[PATH_MAX];
	json_error_t je;

	if (ckpt_path(path, sizeof path, L->c->dir, name))
		return ckpt_fail(L, "%s: path too long", name);
	*out = json_load_file(path, flags, &je);
	if (*out != NULL)
		return 0;
	if (je.line > 0)
		return ckpt_fail(L, "%s:%d:%d: %s", name, je.line, je.column, je.text);
	return ckpt_fail(L, "%s: %s", name, je.text);
}

static int
ckpt_check_config(struct ckpt_load *L)
{
	json_t *cfg = L->c->config, *type = json_object_get(cfg, "type");

	if (!json_is_object(cfg))
		return ckpt_fail(L, CKPT_CONFIG ": top level must be an object");
	if (type == NULL)
		return ckpt_fail(L, CKPT_CONFIG ": no \"type\"; expected \"type\": \"MusicVAE\"");
	if (!json_is_string(type))
		return ckpt_fail(L, CKPT_CONFIG ": \"type\" is not a string; expected \"MusicVAE\"");
	if (strcmp(json_string_value(type), "MusicVAE") != 0)
		return ckpt_fail(L, CKPT_CONFIG ": \"type\" is \"%s\"; only \"MusicVAE\" checkpoints are supported",
		    json_string_value(type));
	return 0;
}

/* Shard paths stay inside the checkpoint directory: relative, no ".." component. */
static int
ckpt_check_path(struct ckpt_load *L, size_t gi, const char *p)
{
	const char *s = p;
	size_t len;

	if (*p == '\0')
		return ckpt_fail(L, CKPT_MANIFEST ": group %zu has an empty shard path", gi + 1);
	if (*p == '/')
		return ckpt_fail(L, CKPT_MANIFEST ": group %zu: shard path '%s' is absolute; paths must be "
		    "relative to the checkpoint directory", gi + 1, p);
	for (;;) {
		len = strcspn(s, "/");
		if (len == 2 && s[0] == '.' && s[1] == '.')
			return ckpt_fail(L, CKPT_MANIFEST ": group %zu: shard path '%s' escapes the checkpoint "
			    "directory ('..')", gi + 1, p);
		if (s[len] == '\0')
			return 0;
		s += len + 1;
	}
}

static int
ckpt_check_group(struct ckpt_load *L, size_t gi, json_t *g, size_t *n)
{
	json_t *paths = json_object_get(g, "paths"), *weights = json_object_get(g, "weights"), *p;
	size_t i;

	if (!json_is_object(g))
		return ckpt_fail(L, CKPT_MANIFEST ": group %zu is not an object", gi + 1);
	if (!json_is_array(paths))
		return ckpt_fail(L, CKPT_MANIFEST ": group %zu has no \"paths\" array", gi + 1);
	if (!json_is_array(weights))
		return ckpt_fail(L, CKPT_MANIFEST ": group %zu has no \"weights\" array", gi + 1);
	json_array_foreach(paths, i, p) {
		if (!json_is_string(p))
			return ckpt_fail(L, CKPT_MANIFEST ": group %zu: paths[%zu] is not a string", gi + 1, i);
		if (ckpt_check_path(L, gi, json_string_value(p)))
			return -1;
	}
	L->group[gi].paths = paths;
	L->group[gi].first = *n;
	L->group[gi].n = json_array_size(weights);
	*n += json_array_size(weights);
	return 0;
}

static int
ckpt_parse_shape(struct ckpt_load *L, struct ckpt_tensor *t, json_t *shape)
{
	size_t i, count = 1;
	json_int_t v;
	json_t *d;

	if (!json_is_array(shape))
		return ckpt_fail(L, CKPT_MANIFEST ": tensor '%s' has no \"shape\" array", t->name);
	if (json_array_size(shape) > CKPT_MAX_DIMS)
		return ckpt_fail(L, CKPT_MANIFEST ": tensor '%s' has %zu dimensions; at most %d are supported",
		    t->name, json_array_size(shape), CKPT_MAX_DIMS);
	json_array_foreach(shape, i, d) {
		if (!json_is_integer(d))
			return ckpt_fail(L, CKPT_MANIFEST ": tensor '%s': shape[%zu] is not an integer", t->name, i);
		v = json_integer_value(d);
		if (v < 0 || v > INT_MAX)
			return ckpt_fail(L, CKPT_MANIFEST ": tensor '%s': shape[%zu] = %lld is out of range",
			    t->name, i, (long long)v);
		if (v != 0 && count > SIZE_MAX / (size_t)v)
			return ckpt_fail(L, CKPT_MANIFEST ": tensor '%s': element count overflows", t->name);
		count *= (size_t)v;
		t->shape[i] = (int)v;
	}
	t->ndim = (int)json_array_size(shape);
	t->count = count;
	return 0;
}

static int
ckpt_parse_quant(struct ckpt_load *L, struct ckpt_tensor *t, struct ckpt_plan *p, json_t *q)
{
	json_t *dt = json_object_get(q, "dtype"), *scale, *min;
	const char *s;

	if (!json_is_object(q) || !json_is_string(dt))
		return ckpt_fail(L, CKPT_MANIFEST ": tensor '%s': \"quantization\" needs a \"dtype\" string", t->name);
	s = json_string_value(dt);
	t->stored = CKPT_FLOAT32;
	for (int k = CKPT_UINT8; k < CKPT_NDTYPES; k++)
		if (strcmp(s, ckpt_dtypes[k].name) == 0)
			t->stored = (enum ckpt_dtype)k;
	if (t->stored == CKPT_FLOAT32)
		return ckpt_fail(L, CKPT_MANIFEST ": tensor '%s' has unknown quantization dtype '%s' "
		    "(expected uint8, uint16 or float16)", t->name, s);
	if (t->stored == CKPT_FLOAT16)
		return 0;
	scale = json_object_get(q, "scale");
	min = json_object_get(q, "min");
	if (!json_is_number(scale) || !json_is_number(min))
		return ckpt_fail(L, CKPT_MANIFEST ": tensor '%s': %s quantization needs numeric \"scale\" and "
		    "\"min\"", t->name, s);
	p->scale = json_number_value(scale);
	p->min = json_number_value(min);
	if (!isfinite(p->scale) || !isfinite(p->min))
		return ckpt_fail(L, CKPT_MANIFEST ": tensor '%s': quantization scale/min not finite", t->name);
	return 0;
}

static int
ckpt_parse_dtype(struct ckpt_load *L, struct ckpt_tensor *t, struct ckpt_plan *p, json_t *w)
{
	json_t *dt = json_object_get(w, "dtype"), *q = json_object_get(w, "quantization");

	if (!json_is_string(dt))
		return ckpt_fail(L, CKPT_MANIFEST ": tensor '%s' has no \"dtype\" string", t->name);
	if (strcmp(json_string_value(dt), ckpt_dtypes[CKPT_FLOAT32].name) != 0)
		return ckpt_fail(L, CKPT_MANIFEST ": tensor '%s' has unknown dtype '%s' (only float32 weights are "
		    "supported)", t->name, json_string_value(dt));
	t->stored = CKPT_FLOAT32;
	if (q == NULL || json_is_null(q))
		return 0;
	return ckpt_parse_quant(L, t, p, q);
}

static int
ckpt_parse_weight(struct ckpt_load *L, size_t gi, size_t wi, json_t *w)
{
	struct ckpt *c = L->c;
	struct ckpt_tensor *t = &c->t[c->n];
	struct ckpt_plan *p = &L->plan[c->n];
	struct ckpt_group *g = &L->group[gi];
	json_t *name = json_object_get(w, "name");

	if (!json_is_object(w))
		return ckpt_fail(L, CKPT_MANIFEST ": group %zu weight %zu is not an object", gi + 1, wi + 1);
	if (!json_is_string(name) || json_string_length(name) == 0)
		return ckpt_fail(L, CKPT_MANIFEST ": group %zu weight %zu has no \"name\" string", gi + 1, wi + 1);
	if ((t->name = strdup(json_string_value(name))) == NULL)
		return ckpt_fail(L, "out of memory");
	c->n++;
	if (ckpt_parse_shape(L, t, json_object_get(w, "shape")) || ckpt_parse_dtype(L, t, p, w))
		return -1;
	if (t->count > UINT64_MAX / ckpt_dtypes[t->stored].size)
		return ckpt_fail(L, CKPT_MANIFEST ": tensor '%s' is too large", t->name);
	p->bytes = (uint64_t)t->count * ckpt_dtypes[t->stored].size;
	p->offset = g->bytes;
	if (p->bytes > UINT64_MAX - g->bytes)
		return ckpt_fail(L, CKPT_MANIFEST ": group %zu is too large at tensor '%s'", gi + 1, t->name);
	g->bytes += p->bytes;
	return 0;
}

static int
ckpt_parse_manifest(struct ckpt_load *L)
{
	struct ckpt *c = L->c;
	json_t *g, *w;
	size_t gi, wi, n = 0;

	if (!json_is_array(L->manifest))
		return ckpt_fail(L, CKPT_MANIFEST ": top level must be an array of groups");
	L->ngroup = json_array_size(L->manifest);
	if ((L->group = calloc(L->ngroup + 1, sizeof *L->group)) == NULL)
		return ckpt_fail(L, "out of memory");
	json_array_foreach(L->manifest, gi, g) {
		if (ckpt_check_group(L, gi, g, &n))
			return -1;
	}
	c->t = calloc(n + 1, sizeof *c->t);
	L->plan = calloc(n + 1, sizeof *L->plan);
	if (c->t == NULL || L->plan == NULL)
		return ckpt_fail(L, "out of memory for %zu tensors", n);
	json_array_foreach(L->manifest, gi, g) {
		json_array_foreach(json_object_get(g, "weights"), wi, w) {
			if (ckpt_parse_weight(L, gi, wi, w))
				return -1;
		}
	}
	return 0;
}

static int
ckpt_cmp_name(const void *a, const void *b)
{
	const struct ckpt_tensor *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* Sorts names for ckpt_find and rejects duplicates (magenta.js would silently keep the last one). */
static int
ckpt_index(struct ckpt_load *L)
{
	struct ckpt *c = L->c;
	size_t i;

	if ((c->byname = calloc(c->n + 1, sizeof *c->byname)) == NULL)
		return ckpt_fail(L, "out of memory");
	for (i = 0; i < c->n; i++)
		c->byname[i] = &c->t[i];
	qsort(c->byname, c->n, sizeof *c->byname, ckpt_cmp_name);
	for (i = 1; i < c->n; i++)
		if (strcmp(c->byname[i - 1]->name, c->byname[i]->name) == 0)
			return ckpt_fail(L, CKPT_MANIFEST ": tensor '%s' is listed twice", c->byname[i]->name);
	return 0;
}

/* ---- reading: shard sizes ----------------------------------------------------------------- */

static int
ckpt_shard_size(struct ckpt_load *L, size_t gi, const char *rel, uint64_t *size)
{
	char path[PATH_MAX];
	struct stat st;

	if (ckpt_path(path, sizeof path, L->c->dir, rel))
		return ckpt_fail(L, "shard '%s' (group %zu of " CKPT_MANIFEST "): path too long", rel, gi + 1);
	if (stat(path, &st) != 0)
		return ckpt_fail(L, "shard '%s' (group %zu of " CKPT_MANIFEST "): %s", rel, gi + 1, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return ckpt_fail(L, "shard '%s' (group %zu of " CKPT_MANIFEST ") is not a regular file", rel, gi + 1);
	*size = (uint64_t)st.st_size;
	return 0;
}

/* The shards hold fewer bytes than the weights: name the last shard with data and the first tensor past it. */
static int
ckpt_short(struct ckpt_load *L, size_t gi, const uint64_t *sizes, uint64_t total)
{
	struct ckpt_group *g = &L->group[gi];
	size_t i, last = 0, np = json_array_size(g->paths);
	const char *shard;

	for (i = 0; i < np; i++)
		if (sizes[i] > 0)
			last = i;
	for (i = g->first; i < g->first + g->n; i++)
		if (L->plan[i].offset + L->plan[i].bytes > total)
			break;
	if (np == 0)
		return ckpt_fail(L, CKPT_MANIFEST ": group %zu lists no shard files but tensor '%s' needs %llu "
		    "bytes", gi + 1, L->c->t[i].name, (unsigned long long)L->plan[i].bytes);
	shard = json_string_value(json_array_get(g->paths, last));
	return ckpt_fail(L, "shard '%s' is short: group %zu's shards hold %llu bytes but tensor '%s' runs "
	    "to byte %llu (" CKPT_MANIFEST " wants %llu bytes in all)", shard, gi + 1, (unsigned long long)total,
	    L->c->t[i].name, (unsigned long long)(L->plan[i].offset + L->plan[i].bytes),
	    (unsigned long long)g->bytes);
}

/* The shards hold more bytes than the weights: name the shard where the extra bytes start. */
static int
ckpt_extra(struct ckpt_load *L, size_t gi, const uint64_t *sizes, uint64_t total)
{
	struct ckpt_group *g = &L->group[gi];
	uint64_t end = 0;
	size_t i;

	for (i = 0; i + 1 < json_array_size(g->paths); i++) {
		end += sizes[i];
		if (end > g->bytes)
			break;
	}
	return ckpt_fail(L, "shard '%s' has %llu extra bytes: group %zu's weights end at byte %llu%s%s%s but "
	    "its shards hold %llu bytes (" CKPT_MANIFEST ")", json_string_value(json_array_get(g->paths, i)),
	    (unsigned long long)(total - g->bytes), gi + 1, (unsigned long long)g->bytes,
	    g->n ? " (after tensor '" : "", g->n ? L->c->t[g->first + g->n - 1].name : "", g->n ? "')" : "",
	    (unsigned long long)total);
}

static int
ckpt_check_shards(struct ckpt_load *L, size_t gi)
{
	struct ckpt_group *g = &L->group[gi];
	size_t i, np = json_array_size(g->paths);
	uint64_t *sizes, total = 0;
	int r = -1;

	if ((sizes = calloc(np + 1, sizeof *sizes)) == NULL)
		return ckpt_fail(L, "out of memory");
	for (i = 0; i < np; i++) {
		if (ckpt_shard_size(L, gi, json_string_value(json_array_get(g->paths, i)), &sizes[i]))
			goto out;
		if (sizes[i] > UINT64_MAX - total) {
			ckpt_fail(L, "group %zu: shard sizes overflow", gi + 1);
			goto out;
		}
		total += sizes[i];
	}
	if (total < g->bytes)
		ckpt_short(L, gi, sizes, total);
	else if (total > g->bytes)
		ckpt_extra(L, gi, sizes, total);
	else
		r = 0;
out:
	free(sizes);
	return r;
}

/* One allocation for every tensor's float32 data, sized only after the byte counts matched the files. */
static int
ckpt_alloc_data(struct ckpt_load *L)
{
	struct ckpt *c = L->c;
	size_t i, total = 0;
	uint64_t stored = 0;

	for (i = 0; i < L->ngroup; i++) {
		if (L->group[i].bytes > UINT64_MAX - stored || stored + L->group[i].bytes > SIZE_MAX)
			return ckpt_fail(L, "weights too large at group %zu", i + 1);
		stored += L->group[i].bytes;
	}
	c->stored_bytes = (size_t)stored;
	for (i = 0; i < c->n; i++) {
		if (c->t[i].count > SIZE_MAX / sizeof(float) - total)
			return ckpt_fail(L, "weights too large at tensor '%s'", c->t[i].name);
		total += c->t[i].count;
	}
	if ((c->data = malloc((total + 1) * sizeof(float))) == NULL)
		return ckpt_fail(L, "out of memory for %zu float32 weights", total);
	for (i = 0, total = 0; i < c->n; i++) {
		c->t[i].data = c->data + total;
		total += c->t[i].count;
	}
	return 0;
}

/* ---- reading: data ------------------------------------------------------------------------ */

/* Reads exactly n bytes of the group's concatenated shards. */
static int
ckpt_stream_read(struct ckpt_stream *s, unsigned char *buf, size_t n, const char *tensor)
{
	json_t *paths = s->L->group[s->gi].paths;
	char path[PATH_MAX];
	size_t got;

	while (n > 0) {
		if (s->f == NULL) {
			if (s->next >= json_array_size(paths))
				return ckpt_fail(s->L, "shard '%s' ended while reading tensor '%s' (did it change "
				    "while loading?)", s->cur ? s->cur : "?", tensor);
			s->cur = json_string_value(json_array_get(paths, s->next++));
			if (ckpt_path(path, sizeof path, s->L->c->dir, s->cur) || (s->f = fopen(path, "rb")) == NULL)
				return ckpt_fail(s->L, "shard '%s': %s", s->cur, strerror(errno));
		}
		got = fread(buf, 1, n, s->f);
		if (ferror(s->f))
			return ckpt_fail(s->L, "shard '%s': read error in tensor '%s'", s->cur, tensor);
		buf += got;
		n -= got;
		if (n > 0) {
			fclose(s->f);
			s->f = NULL;
		}
	}
	return 0;
}

/* value = (float)((double)q * scale + min): double arithmetic, one rounding, as tfjs does. */
static float
ckpt_dequant(uint32_t q, const struct ckpt_plan *p)
{
	double d = (double)q * p->scale + p->min;

	if (fabs(d) >= CKPT_F32_OVERFLOW)       /* out of float range: the cast would be undefined in ISO C */
		return d > 0 ? INFINITY : -INFINITY;
	return (float)d;
}

static void
ckpt_decode(const unsigned char *b, size_t k, enum ckpt_dtype dt, const struct ckpt_plan *p, float *out)
{
	size_t i, es = ckpt_dtypes[dt].size;
	uint32_t u;

	switch (dt) {
	case CKPT_FLOAT32:
		for (i = 0; i < k; i++) {
			u = ckpt_le_get(b + 4 * i, 4);
			memcpy(&out[i], &u, sizeof u);
		}
		break;
	case CKPT_UINT8:
	case CKPT_UINT16:
		for (i = 0; i < k; i++)
			out[i] = ckpt_dequant(ckpt_le_get(b + es * i, es), p);
		break;
	case CKPT_FLOAT16:
		for (i = 0; i < k; i++)
			out[i] = ckpt_f16_to_f32((uint16_t)ckpt_le_get(b + 2 * i, 2));
		break;
	case CKPT_NDTYPES:      /* not a dtype: the parser never stores it */
		break;
	}
}

static int
ckpt_read_tensor(struct ckpt_stream *s, struct ckpt_tensor *t, const struct ckpt_plan *p)
{
	unsigned char buf[CKPT_CHUNK * 4];
	size_t es = ckpt_dtypes[t->stored].size, done = 0, k, i;

	while (done < t->count) {
		k = t->count - done < CKPT_CHUNK ? t->count - done : CKPT_CHUNK;
		if (ckpt_stream_read(s, buf, k * es, t->name))
			return -1;
		ckpt_decode(buf, k, t->stored, p, t->data + done);
		for (i = 0; i < k; i++)
			if (!isfinite(t->data[done + i]))
				return ckpt_fail(s->L, "tensor '%s' has a non-finite value (%g) at element %zu; the "
				    "inference code needs finite weights", t->name, (double)t->data[done + i], done + i);
		done += k;
	}
	return 0;
}

static int
ckpt_read_group(struct ckpt_load *L, size_t gi)
{
	struct ckpt_stream s = { .L = L, .gi = gi };
	struct ckpt_group *g = &L->group[gi];
	size_t i;
	int r = 0;

	for (i = g->first; i < g->first + g->n && r == 0; i++)
		r = ckpt_read_tensor(&s, &L->c->t[i], &L->plan[i]);
	if (s.f)
		fclose(s.f);
	return r;
}

int
ckpt_open(struct ckpt *c, const char *dir, char *err, size_t errlen)
{
	struct ckpt_load L = { .c = c, .err = err, .errlen = errlen };
	size_t gi;
	int r = -1;

	memset(c, 0, sizeof *c);
	if ((c->dir = strdup(dir)) == NULL)
		return ckpt_errf(err, errlen, dir, "out of memory");
	if (ckpt_load_json(&L, CKPT_CONFIG, 0, &c->config) || ckpt_check_config(&L) ||
	    ckpt_load_json(&L, CKPT_MANIFEST, JSON_REJECT_DUPLICATES, &L.manifest) || ckpt_parse_manifest(&L) ||
	    ckpt_index(&L))
		goto fail;
	for (gi = 0; gi < L.ngroup; gi++)
		if (ckpt_check_shards(&L, gi))
			goto fail;
	if (ckpt_alloc_data(&L))
		goto fail;
	for (gi = 0; gi < L.ngroup; gi++)
		if (ckpt_read_group(&L, gi))
			goto fail;
	r = 0;
fail:
	json_decref(L.manifest);
	free(L.plan);
	free(L.group);
	if (r != 0)
		ckpt_close(c);
	return r;
}

void
ckpt_close(struct ckpt *c)
{
	size_t i;

	for (i = 0; c->t != NULL && i < c->n; i++)
		free(c->t[i].name);
	free(c->t);
	free(c->byname);
	free(c->data);
	json_decref(c->config);
	free(c->dir);
	memset(c, 0, sizeof *c);
}

/* ---- lookup ------------------------------------------------------------------------------- */

const struct ckpt_tensor *
ckpt_find(const struct ckpt *c, const char *name)
{
	size_t lo = 0, hi = c->n, mid;
	int k;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		k = strcmp(name, c->byname[mid]->name);
		if (k == 0)
			return c->byname[mid];
		if (k < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* "[512,*]" into buf; at most CKPT_MAX_DIMS + 1 dims are shown. */
static void
ckpt_fmt_shape(char *buf, size_t len, int ndim, const int *dims)
{
	size_t k = 0;
	int i;

	k += (size_t)snprintf(buf, len, "[");
	for (i = 0; i < ndim && i <= CKPT_MAX_DIMS && k < len; i++) {
		if (dims[i] < 0)
			k += (size_t)snprintf(buf + k, len - k, "%s*", i ? "," : "");
		else
			k += (size_t)snprintf(buf + k, len - k, "%s%d", i ? "," : "", dims[i]);
	}
	if (k < len)
		snprintf(buf + k, len - k, "%s]", ndim > CKPT_MAX_DIMS + 1 ? ",..." : "");
}

const struct ckpt_tensor *
ckpt_get(const struct ckpt *c, const char *name, int ndim, const int *dims, char *err, size_t errlen)
{
	const struct ckpt_tensor *t = ckpt_find(c, name);
	char have[96], want[96];
	int i, match;

	if (t == NULL) {
		ckpt_errf(err, errlen, c->dir, "tensor '%s' is missing from " CKPT_MANIFEST, name);
		return NULL;
	}
	match = t->ndim == ndim;
	for (i = 0; match && i < ndim; i++)
		match = dims[i] < 0 || dims[i] == t->shape[i];
	if (match)
		return t;
	ckpt_fmt_shape(have, sizeof have, t->ndim, t->shape);
	ckpt_fmt_shape(want, sizeof want, ndim, dims);
	ckpt_errf(err, errlen, c->dir, "tensor '%s' has shape %s, expected %s (" CKPT_MANIFEST ")", name, have, want);
	return NULL;
}
