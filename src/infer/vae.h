/* SPDX-License-Identifier: GPL-3.0-or-later */
/* vae.h: a loaded MusicVAE: the converter, the encoder and decoder layer views into the checkpoint. */
#ifndef MVD_VAE_H
#define MVD_VAE_H

#include <stddef.h>

#include "ckpt.h"
#include "codec.h"
#include "ctrl.h"
#include "nn.h"

#define VAE_MAX_LAYERS 4
#define VAE_MAX_CORES CODEC_MAX_SPLITS

enum vae_out {
	VAE_OUT_CATEGORICAL,    /* one-hot of the argmax (or a multinomial sample) */
	VAE_OUT_BOOLEAN,        /* logits >= 0 (or Bernoulli) per column */
	VAE_OUT_NADE,           /* NADE over D binary columns */
	VAE_OUT_GROOVE,         /* hits | sigmoid velocities | tanh offsets */
};

/* One direction pair of a single-layer bidirectional LSTM. */
struct vae_bilstm {
	struct nn_lstm fw, bw;  /* same K and U */
};

/* A base ("core") decoder: a stacked LSTM fed concat(previous output, embedding, controls). */
struct vae_core {
	enum vae_out kind;
	int n_layers, units;    /* L, U */
	struct nn_lstm cell[VAE_MAX_LAYERS];
	struct nn_dense init;   /* z_to_initial_state: [E, 2 L U] -> c0, h0, c1, h1, ... */
	struct nn_dense proj;   /* output_projection: [U, P]; P = D, or H + D for NADE */
	int depth;              /* D: output columns */
	int emb;                /* E: width of the embedding fed at every step */
	int ctrl;               /* C': control columns fed at every step (after preprocessing) */
	int col0;               /* first column of this core in the model's output row */
	int nade_h;             /* H */
	const float *nade_w_enc;   /* [D, 1, H] */
	const float *nade_w_dec;   /* [D, H, 1] */
};

struct vae {
	struct ckpt ck;
	struct codec codec;
	struct ctrl_spec ctrl;  /* what config.json says the control columns are */
	int ctrl_depth;         /* C: raw control columns per step (0 = none) */
	int z_dim;              /* Z */
	int num_steps;          /* T */
	int num_segments;       /* S (1 for flat models) */
	int seg_len;            /* T / S: steps per core-decoder run */
	int out_depth;          /* sum of the cores' D */
	int hier_enc;           /* 1: two-level encoder over S segments */
	struct vae_bilstm enc[2];
	struct nn_dense mu;     /* [2 U_top, Z] */
	int n_cond;             /* conductor layers (0 = flat decoder) */
	struct nn_lstm cond[VAE_MAX_LAYERS];
	struct nn_dense cond_init;  /* [Z, 2 L U_c] */
	int n_cores;
	struct vae_core core[VAE_MAX_CORES];
	int use_boolean;        /* config.json useBooleanDecoder */
	int has_pre;            /* control preprocessing bi-LSTM present */
	struct vae_bilstm pre;
};

/* Loads and validates a checkpoint directory; err names the file and the tensor at fault. */
int vae_load(struct vae *m, const char *dir, char *err, size_t errlen);
/* Frees the checkpoint. */
void vae_free(struct vae *m);
/* Short architecture description for `musicvae info`, e.g. "hierarchical, 2x256 categorical". */
void vae_describe(const struct vae *m, char *buf, size_t len);

#endif
