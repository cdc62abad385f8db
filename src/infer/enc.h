/* SPDX-License-Identifier: GPL-3.0-or-later */
/* enc.h: the encoder at run time: converter tensors (+ controls) -> z = mu, on buffers allocated once. */
#ifndef MVD_ENC_H
#define MVD_ENC_H

#include "vae.h"

struct enc {
	const struct vae *m;
	int max_b;
	float *in;              /* [B, T, K0]: converter columns then control columns */
	float *emb;             /* [B, S, 2 U0]: segment embeddings (hierarchical) */
	float *top;             /* [B, 2 U_top]: the final bidirectional state */
	float *scratch;         /* nn_bilstm_run_par scratch (both directions) for the widest level */
};

/* Allocates buffers for up to max_b sequences at once. Returns 0, or -1 when out of memory. */
int enc_init(struct enc *e, const struct vae *m, int max_b);
/* Frees the buffers. */
void enc_fini(struct enc *e);
/* z [B, Z] = mu of x [B, T, in_depth] with controls ctrl [T, C] (NULL when the model has none).
 * Allocates nothing. Returns -1 if B > max_b or controls are missing. */
int enc_run(struct enc *e, int B, const float *x, const float *ctrl, float *z);

#endif
