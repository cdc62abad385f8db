/* SPDX-License-Identifier: GPL-3.0-or-later */
/* dec.h: the decoder at run time, advanced one step at a time on buffers allocated once (flat, split and
 * hierarchical decoders; categorical, boolean, NADE and groove outputs). */
#ifndef MVD_DEC_H
#define MVD_DEC_H

#include <stdint.h>

#include "rng.h"
#include "vae.h"

struct dec_core {
	float *c, *h;           /* [L][B, U] */
	float *xh;              /* [L][B, K_l + U]: layer input then h */
	float *gates;           /* [B, 4U] */
	float *logits;          /* [B, P] */
	float *prev;            /* [B, D]: the last output, fed back at the next step */
	float *init;            /* [B, 2 L U] */
	float *nade_a;          /* [B, H] */
	float *nade_hh;         /* [H] */
};

struct dec {
	const struct vae *m;
	int max_b;
	int B;                  /* rows in the current decode */
	int t;                  /* next step to produce */
	float temperature;      /* 0 = argmax (deterministic) */
	float *z;               /* [B, Z] */
	float *cc, *ch;         /* conductor state [Lc][B, Uc] */
	float *cxh;             /* [Lc][B, K_l + Uc] */
	float *cgates;          /* [B, 4 Uc] */
	float *cinit;           /* [B, 2 Lc Uc] */
	float *ctrl;            /* [T, C']: controls as the cores see them (preprocessed if the model says so) */
	float *scratch;         /* control-preprocessing scratch */
	struct dec_core core[VAE_MAX_CORES];
	struct rng *rng;        /* [max_b]: one stream per row, so candidate b replays alone */
	float *out;             /* [B, T, out_depth] */
};

/* Allocates every buffer for up to max_b rows. Returns 0, or -1 when out of memory. */
int dec_init(struct dec *d, const struct vae *m, int max_b);
/* Frees the buffers. */
void dec_fini(struct dec *d);
/* Starts decoding z [B, Z] with controls ctrl [T, C] (NULL if the model has none) at a temperature
 * (0 = argmax); row b samples from the stream seeded by (seed, b). Allocates nothing. Returns -1 if
 * B > max_b or controls are missing. */
int dec_begin(struct dec *d, int B, const float *z, const float *ctrl, float temperature, uint64_t seed);
/* Produces step d->t for every row into d->out and returns its index, or -1 once all T are done.
 * Allocates nothing. */
int dec_step(struct dec *d);
/* Row b, step t of the output: [out_depth] floats. */
const float *dec_row(const struct dec *d, int b, int t);
/* dec_begin then every step; out (if not NULL) receives [B, T, out_depth]. */
int dec_run(struct dec *d, int B, const float *z, const float *ctrl, float temperature, uint64_t seed,
    float *out);

#endif
