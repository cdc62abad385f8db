/* SPDX-License-Identifier: GPL-3.0-or-later */
/* model.c: batches converter tensors through the encoder and decoder states of one loaded model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

int
model_open(struct model *md, const char *dir, int max_b, char *err, size_t len)
{
	const struct vae *m = &md->vae;

	memset(md, 0, sizeof *md);
	if (max_b < 1)
		max_b = 1;
	if (vae_load(&md->vae, dir, err, len) < 0)
		return -1;
	md->max_b = max_b;
	md->x = calloc((size_t)max_b * m->num_steps * m->codec.in_depth, sizeof(float));
	if (md->x == NULL || enc_init(&md->enc, m, max_b) < 0 || dec_init(&md->dec, m, max_b) < 0) {
		snprintf(err, len, "%s: out of memory allocating run buffers for batch %d", dir, max_b);
		model_close(md);
		return -1;
	}
	return 0;
}

void
model_close(struct model *md)
{
	if (md->enc.m != NULL)
		enc_fini(&md->enc);
	if (md->dec.m != NULL)
		dec_fini(&md->dec);
	free(md->x);
	vae_free(&md->vae);
	memset(md, 0, sizeof *md);
}

int
model_encode(struct model *md, const struct seq *seqs, int n, const float *ctrl, float *z, char *err,
    size_t len)
{
	const struct vae *m = &md->vae;
	size_t rowx = (size_t)m->num_steps * m->codec.in_depth;
	char why[512];

	if (m->ctrl_depth > 0 && ctrl == NULL) {
		snprintf(err, len, "this model needs controls (%d columns per step: chords, key or extra "
		    "controls)", m->ctrl_depth);
		return -1;
	}
	for (int i0 = 0; i0 < n; i0 += md->max_b) {
		int B = n - i0 < md->max_b ? n - i0 : md->max_b;
		for (int b = 0; b < B; b++)
			if (codec_encode(&m->codec, &seqs[i0 + b], md->x + b * rowx, why, sizeof why) < 0) {
				snprintf(err, len, "sequence %d: %s", i0 + b + 1, why);
				return -1;
			}
		enc_run(&md->enc, B, md->x, ctrl, z + (size_t)i0 * m->z_dim);
	}
	return 0;
}

int
model_decode(struct model *md, const float *z, int n, const float *ctrl, float temperature, uint64_t seed,
    float *out, char *err, size_t len)
{
	const struct vae *m = &md->vae;
	size_t rowy = (size_t)m->num_steps * m->out_depth;

	if (m->ctrl_depth > 0 && ctrl == NULL) {
		snprintf(err, len, "this model needs controls (%d columns per step: chords, key or extra "
		    "controls)", m->ctrl_depth);
		return -1;
	}
	for (int i0 = 0; i0 < n; i0 += md->dec.max_b) {
		int B = n - i0 < md->dec.max_b ? n - i0 : md->dec.max_b;
		/* Row i of the whole request draws from stream (seed, i) whatever the chunking. */
		dec_run(&md->dec, B, z + (size_t)i0 * m->z_dim, ctrl, temperature,
		    seed + 0x9e3779b97f4a7c15ULL * (uint64_t)i0, out + i0 * rowy);
	}
	return 0;
}

int
model_reserve(struct model *md, int n, char *err, size_t len)
{
	struct dec d;

	if (n <= md->dec.max_b)
		return 0;
	if (dec_init(&d, &md->vae, n) < 0) {
		snprintf(err, len, "%s: out of memory allocating decoder buffers for %d rows", md->vae.ck.dir, n);
		return -1;
	}
	dec_fini(&md->dec);
	md->dec = d;
	return 0;
}

int
model_to_seq(const struct model *md, const float *rows, struct seq *out, char *err, size_t len)
{
	return codec_decode(&md->vae.codec, rows, out, err, len);
}
