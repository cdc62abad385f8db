/* SPDX-License-Identifier: GPL-3.0-or-later */
/* enc.c: flat and hierarchical bidirectional-LSTM encoders followed by the mu projection. */
#include <stdlib.h>
#include <string.h>

#include "enc.h"

int
enc_init(struct enc *e, const struct vae *m, int max_b)
{
	const struct vae_bilstm *top = &m->enc[m->hier_enc ? 1 : 0];
	size_t K0 = m->enc[0].fw.in, s0, s1;

	memset(e, 0, sizeof *e);
	e->m = m;
	e->max_b = max_b;
	s0 = nn_bilstm_par_scratch(max_b, (int)K0, m->enc[0].fw.units);
	s1 = nn_bilstm_par_scratch(max_b, top->fw.in, top->fw.units);
	e->in = calloc((size_t)max_b * m->num_steps * K0, sizeof(float));
	e->emb = calloc((size_t)max_b * m->num_segments * 2 * m->enc[0].fw.units, sizeof(float));
	/* top also holds one segment's level-0 states before they are scattered into emb. */
	e->top = calloc((size_t)max_b * 2 * (top->fw.units > m->enc[0].fw.units ? top->fw.units :
	    m->enc[0].fw.units), sizeof(float));
	e->scratch = calloc(s0 > s1 ? s0 : s1, sizeof(float));
	if (e->in == NULL || e->emb == NULL || e->top == NULL || e->scratch == NULL) {
		enc_fini(e);
		return -1;
	}
	return 0;
}

void
enc_fini(struct enc *e)
{
	free(e->in);
	free(e->emb);
	free(e->top);
	free(e->scratch);
	memset(e, 0, sizeof *e);
}

int
enc_run(struct enc *e, int B, const float *x, const float *ctrl, float *z)
{
	const struct vae *m = e->m;
	int T = m->num_steps, D = m->codec.in_depth, C = m->ctrl_depth, K0 = D + C;
	int S = m->num_segments, L = m->seg_len, U0 = m->enc[0].fw.units;

	if (B < 1 || B > e->max_b || (C > 0 && ctrl == NULL))
		return -1;
	for (int b = 0; b < B; b++)
		for (int t = 0; t < T; t++) {
			float *row = e->in + ((size_t)b * T + t) * K0;
			memcpy(row, x + ((size_t)b * T + t) * D, sizeof(float) * D);
			if (C > 0)
				memcpy(row + D, ctrl + (size_t)t * C, sizeof(float) * C);
		}
	if (!m->hier_enc) {
		nn_bilstm_run_par(&m->enc[0].fw, &m->enc[0].bw, B, T, e->in, (size_t)T * K0, e->top, NULL,
		    e->scratch);
	} else {
		/* Level 0: each segment from a fresh zero state; its embedding is row s of emb. */
		for (int s = 0; s < S; s++) {
			nn_bilstm_run_par(&m->enc[0].fw, &m->enc[0].bw, B, L, e->in + (size_t)s * L * K0,
			    (size_t)T * K0, e->top, NULL, e->scratch);
			for (int b = 0; b < B; b++)
				memcpy(e->emb + ((size_t)b * S + s) * 2 * U0, e->top + (size_t)b * 2 * U0,
				    sizeof(float) * 2 * U0);
		}
		nn_bilstm_run_par(&m->enc[1].fw, &m->enc[1].bw, B, S, e->emb, (size_t)S * 2 * U0, e->top, NULL,
		    e->scratch);
	}
	nn_dense_forward(&m->mu, B, e->top, z);
	return 0;
}
