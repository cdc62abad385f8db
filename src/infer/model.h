/* SPDX-License-Identifier: GPL-3.0-or-later */
/* model.h: a loaded model ready to run: the vae, its encoder and decoder states and the converter glue
 * (note sequences in, note sequences or raw output rows out), batched up to a fixed size. */
#ifndef MVD_MODEL_H
#define MVD_MODEL_H

#include <stdint.h>

#include "dec.h"
#include "enc.h"
#include "seq.h"
#include "vae.h"

struct model {
	struct vae vae;
	struct enc enc;
	struct dec dec;
	int max_b;              /* rows per encoder call (decoder: dec.max_b); larger requests run in chunks */
	float *x;               /* [max_b, T, in_depth] converter output */
};

/* Loads the checkpoint directory and allocates for batches of max_b. err names the file and tensor. */
int model_open(struct model *md, const char *dir, int max_b, char *err, size_t errlen);
/* Frees everything. */
void model_close(struct model *md);
/* z [n, Z] from n quantized sequences (controls ctrl [T, C] or NULL). err names the sequence at fault. */
int model_encode(struct model *md, const struct seq *seqs, int n, const float *ctrl, float *z, char *err,
    size_t errlen);
/* out [n, T, out_depth] decoded from z [n, Z]; row i samples from the stream (seed, i). */
int model_decode(struct model *md, const float *z, int n, const float *ctrl, float temperature,
    uint64_t seed, float *out, char *err, size_t errlen);
/* Lets model_decode take n rows in one batched call: grows the decoder's buffers if they hold fewer (this
 * allocates: call it outside the hot path). -1 with err when out of memory (the old buffers stay). */
int model_reserve(struct model *md, int n, char *err, size_t errlen);
/* Notes of one decoded row block rows [T, out_depth]. */
int model_to_seq(const struct model *md, const float *rows, struct seq *out, char *err, size_t errlen);

#endif
