/* SPDX-License-Identifier: GPL-3.0-or-later */
/* attrs.c: musical attributes of token windows, the quartile attribute vectors, and how far a vector moves its
 * attribute in decodes (`musicvae attributes` and its --check). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "attr.h"
#include "err.h"
#include "file.h"
#include "attrs.h"
#include "dataset.h"
#include "model.h"
#include "nn.h"
#include "rng.h"
#include "train.h"


static const char *const attrs_mel[ATTRS_MAX] = { "note_density", "c_diatonic", "avg_interval", "syncopation_16th",
	"syncopation_8th" };
static const char *const attrs_drum[ATTRS_MAX] = { "hit_density", "kick_density", "snare_density", "hat_density",
	"syncopation" };

int
attrs_count(int kind)
{
	(void)kind;
	return ATTRS_MAX;
}

const char *
attrs_name(int kind, int i)
{
	return i < 0 || i >= ATTRS_MAX ? NULL : kind == DATASET_DRUMS ? attrs_drum[i] : attrs_mel[i];
}

static void
attrs_melody(const uint16_t *tok, int T, double *out)
{
	static const int diatonic[12] = { 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1 };
	int n = 0, dia = 0, s16 = 0, s8 = 0, prev = -1, steps = 0;
	double iv = 0.0;

	for (int t = 0; t < T; t++) {
		int p;
		if (tok[t] < 2)
			continue;
		p = DATASET_MIN_PITCH + tok[t] - 2;
		n++;
		dia += diatonic[p % 12];
		s16 += t % 2 == 1;
		s8 += t % 4 == 2;
		if (prev >= 0) {
			iv += abs(p - prev);
			steps++;
		}
		prev = p;
	}
	out[0] = (double)n / T;
	out[1] = n ? (double)dia / n : NAN;
	out[2] = steps ? iv / steps : NAN;
	out[3] = n ? (double)s16 / n : NAN;
	out[4] = n ? (double)s8 / n : NAN;
}

static void
attrs_drums(const uint16_t *tok, int T, double *out)
{
	int hits = 0, kick = 0, snare = 0, hat = 0, steps = 0, off = 0;

	for (int t = 0; t < T; t++) {
		unsigned v = tok[t];
		hits += __builtin_popcount(v);
		kick += v & 1;
		snare += (v >> 1) & 1;
		hat += (v & 12) != 0;
		steps += v != 0;
		off += v != 0 && t % 2 == 1;
	}
	out[0] = (double)hits / T;
	out[1] = (double)kick / T;
	out[2] = (double)snare / T;
	out[3] = (double)hat / T;
	out[4] = steps ? (double)off / steps : NAN;
}

void
attrs_compute(int kind, const uint16_t *tok, int T, double *out)
{
	if (kind == DATASET_DRUMS)
		attrs_drums(tok, T, out);
	else
		attrs_melody(tok, T, out);
}

/* qsort context: values of one attribute (qsort_r is not C11). */
static const double *attrs_key;
static int attrs_stride;

static uint64_t
attrs_mix(uint64_t v)
{
	v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ULL;
	v = (v ^ (v >> 27)) * 0x94d049bb133111ebULL;
	return v ^ (v >> 31);
}

/* By attribute value; ties (many windows share a value, e.g. an average interval of 0) in a fixed pseudo-random
 * order, so a quartile cut inside a tie takes windows from all over the corpus, not from its first sources. */
static int
attrs_cmp(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	double x = attrs_key[i * attrs_stride], y = attrs_key[j * attrs_stride];
	uint64_t hi = attrs_mix(i), hj = attrs_mix(j);

	return x < y ? -1 : x > y ? 1 : hi < hj ? -1 : hi > hj ? 1 : i < j ? -1 : i > j;
}

int
attrs_vectors(size_t n, int Z, int A, const float *z, const double *val, float *out, size_t *defined)
{
	size_t *idx = malloc(sizeof(size_t) * (n ? n : 1));
	double *acc = calloc((size_t)Z, sizeof(double));

	if (idx == NULL || acc == NULL) {
		free(idx);
		free(acc);
		return -1;
	}
	for (int a = 0; a < A; a++) {
		size_t m = 0, q;
		for (size_t i = 0; i < n; i++)
			if (!isnan(val[i * A + a]))
				idx[m++] = i;
		attrs_key = val + a;
		attrs_stride = A;
		qsort(idx, m, sizeof *idx, attrs_cmp);
		q = m / 4;
		memset(acc, 0, sizeof(double) * Z);
		for (size_t i = 0; i < q; i++)
			for (int k = 0; k < Z; k++)
				acc[k] += (double)z[idx[m - 1 - i] * Z + k] - z[idx[i] * Z + k];
		for (int k = 0; k < Z; k++)
			out[(size_t)a * Z + k] = q ? (float)(acc[k] / q) : 0.0f;
		if (defined != NULL)
			defined[a] = m;
	}
	free(idx);
	free(acc);
	return 0;
}

int
attrs_write(const char *path, int kind, int Z, const float *vec, size_t n, char *err, size_t errlen)
{
	json_t *root = json_object(), *attrs = json_object();
	char *text;
	int rc;

	for (int a = 0; a < attrs_count(kind); a++) {
		json_t *v = json_array();
		for (int k = 0; k < Z; k++)
			json_array_append_new(v, json_real(vec[(size_t)a * Z + k]));
		json_object_set_new(attrs, attrs_name(kind, a), v);
	}
	json_object_set_new(root, "attributes", attrs);
	json_object_set_new(root, "windows", json_integer((json_int_t)n));
	text = json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(8));
	json_decref(root);
	if (text == NULL)
		return err_fail(err, errlen, "%s: out of memory", path);
	rc = file_write_atomic(path, text, strlen(text), err, errlen);
	free(text);
	return rc;
}

/* ---- encoded windows and their attributes -------------------------------------------------------- */

static int
attrs_grow(struct attrs_set *a, size_t more, int Z)
{
	float *z;
	double *v;
	size_t cap = a->cap;

	if (a->n + more <= a->cap)
		return 0;
	while (cap < a->n + more)
		cap = cap ? 2 * cap : 1024;
	if ((z = realloc(a->z, cap * Z * sizeof *z)) != NULL)
		a->z = z;
	if ((v = realloc(a->val, cap * ATTRS_MAX * sizeof *v)) != NULL)
		a->val = v;
	if (z == NULL || v == NULL)
		return -1;
	a->cap = cap;
	return 0;
}

int
attrs_encode(struct model *md, const struct dataset *d, int split, struct attrs_set *a, char *err, size_t len)
{
	const struct vae *m = &md->vae;
	int T = m->num_steps, Din = m->codec.in_depth, Z = m->z_dim, kind = (int)d->kind, B = 0;
	int want = m->codec.type == CODEC_DRUMS ? DATASET_DRUMS : m->codec.type == CODEC_MELODY ? DATASET_MELODY : -1;
	float *x = calloc((size_t)ATTRS_BATCH * T * Din, sizeof(float));
	int rc = -1;

	if (x == NULL || want != kind || d->num_steps != T || attrs_grow(a, d->count, Z) < 0) {
		snprintf(err, len, x == NULL ? "out of memory" : "the model (%s, %d steps) does not take the dataset's "
		    "%d-step %s windows", codec_name(&m->codec), T, d->num_steps, kind == DATASET_DRUMS ? "drum" :
		    "melody");
		goto out;
	}
	for (size_t i = 0; i <= d->count; i++) {
		if (i < d->count && (split < 0 || d->split[i] == split)) {
			const uint16_t *tok = d->tokens + i * (size_t)T;
			train_window_input(kind, tok, NULL, T, x + (size_t)B * T * Din);
			attrs_compute(kind, tok, T, a->val + (a->n + B) * ATTRS_MAX);
			B++;
		}
		if (B > 0 && (B == ATTRS_BATCH || i == d->count)) {
			if (enc_run(&md->enc, B, x, NULL, a->z + a->n * Z) < 0) {
				snprintf(err, len, "encoder failed");
				goto out;
			}
			a->n += (size_t)B;
			B = 0;
		}
	}
	rc = 0;
out:
	free(x);
	return rc;
}

/* Each attribute is averaged over the decodes that define it, so that a vector emptying the decodes does not
 * pass for lowering a share. */
int
attrs_decoded(struct model *md, int kind, const float *z, size_t n, const float *v, float amount, double *mean,
    char *err, size_t len)
{
	int Z = md->vae.z_dim, T = md->vae.num_steps, D = md->vae.out_depth, rc = -1;
	float *zz = malloc(sizeof(float) * ATTRS_BATCH * Z), *out = malloc(sizeof(float) * ATTRS_BATCH * T * D);
	uint16_t *tok = malloc(sizeof(uint16_t) * T);
	double at[ATTRS_MAX], sum[ATTRS_MAX] = { 0 };
	size_t cnt[ATTRS_MAX] = { 0 };

	if (zz == NULL || out == NULL || tok == NULL) {
		snprintf(err, len, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i += ATTRS_BATCH) {
		int B = n - i < ATTRS_BATCH ? (int)(n - i) : ATTRS_BATCH;
		for (int k = 0; k < B * Z; k++)
			zz[k] = z[i * Z + k] + amount * v[k % Z];
		if (model_decode(md, zz, B, NULL, 0.0f, 0, out, err, len) < 0)
			goto out;
		for (int b = 0; b < B; b++) {
			for (int t = 0; t < T; t++)
				tok[t] = (uint16_t)nn_argmax(out + ((size_t)b * T + t) * D, D);
			attrs_compute(kind, tok, T, at);
			for (int a = 0; a < ATTRS_MAX; a++)
				if (!isnan(at[a])) {
					sum[a] += at[a];
					cnt[a]++;
				}
		}
	}
	for (int a = 0; a < ATTRS_MAX; a++)
		mean[a] = cnt[a] ? sum[a] / (double)cnt[a] : NAN;
	rc = 0;
out:
	free(zz);
	free(out);
	free(tok);
	return rc;
}

/* The control of one vector: the largest |mean at +x - mean at -x| of attribute k over ATTRS_CONTROLS random
 * directions of the vector's length (fixed seeds), i.e. how far a push of that size moves the attribute by
 * chance. A vector passes only if it moves its attribute further. */
int
attrs_control(struct model *md, int kind, const float *z, size_t n, const float *v, int k, float amount,
    double *control, char *err, size_t len)
{
	int Z = md->vae.z_dim;
	float *r = malloc(sizeof(float) * Z);
	double norm = 0.0, lo[ATTRS_MAX], hi[ATTRS_MAX];
	struct rng g;

	if (r == NULL) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	for (int j = 0; j < Z; j++)
		norm += (double)v[j] * v[j];
	*control = 0.0;
	for (int c = 0; c < ATTRS_CONTROLS; c++) {
		double rn = 0.0;
		rng_seed(&g, 0x61747472ULL * (uint64_t)(ATTRS_CONTROLS * k + c + 1));
		for (int j = 0; j < Z; j++) {
			r[j] = (float)rng_normal(&g);
			rn += (double)r[j] * r[j];
		}
		for (int j = 0; j < Z; j++)
			r[j] = (float)(r[j] * sqrt(norm / rn));
		if (attrs_decoded(md, kind, z, n, r, -amount, lo, err, len) < 0 ||
		    attrs_decoded(md, kind, z, n, r, amount, hi, err, len) < 0) {
			free(r);
			return -1;
		}
		if (!(fabs(hi[k] - lo[k]) <= *control))         /* NaN too: no decode defines it */
			*control = fabs(hi[k] - lo[k]);
	}
	free(r);
	return 0;
}

