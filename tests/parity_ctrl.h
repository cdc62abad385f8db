/* SPDX-License-Identifier: GPL-3.0-or-later */
/* parity_ctrl.h: magenta.js controlArgs in a case file ({chordProgression, key, extraControls}) -> the
 * model's control rows [T, C], through ctrl_build as the tools do. */
#ifndef MVD_PARITY_CTRL_H
#define MVD_PARITY_CTRL_H

#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "ctrl.h"
#include "model.h"

static inline int
parity_ctrl_extra(const struct ctrl_spec *spec, const json_t *extra, int T, float **out, char *err,
    size_t len)
{
	int width = 0, col = 0;

	for (int k = 0; k < spec->n_extra; k++)
		width += spec->extra_depth[k];
	if (width == 0)
		return 0;
	*out = calloc((size_t)T * width, sizeof(float));
	for (int k = 0; k < spec->n_extra; k++) {
		const json_t *rows = json_object_get(extra, spec->extra_name[k]);
		if ((int)json_array_size(rows) != T) {
			snprintf(err, len, "extraControls.%s: expected %d rows", spec->extra_name[k], T);
			return -1;
		}
		for (int t = 0; t < T; t++)
			for (int d = 0; d < spec->extra_depth[k]; d++)
				(*out)[(size_t)t * width + col + d] = (float)json_number_value(
				    json_array_get(json_array_get(rows, t), d));
		col += spec->extra_depth[k];
	}
	return 0;
}

/* *ctrl = NULL for unconditioned models, else a malloc'd [T, C] the caller frees. */
static inline int
parity_ctrl_build(const struct model *md, const json_t *controls, float **ctrl, char *err, size_t len)
{
	const struct vae *m = &md->vae;
	const json_t *prog = json_object_get(controls, "chordProgression"), *key = json_object_get(controls, "key");
	const char *chords[64];
	float *extra = NULL;
	int n = 0, rc;

	*ctrl = NULL;
	if (m->ctrl_depth == 0)
		return 0;
	for (size_t i = 0; i < json_array_size(prog) && n < 64; i++)
		chords[n++] = json_string_value(json_array_get(prog, i));
	if (parity_ctrl_extra(&m->ctrl, json_object_get(controls, "extraControls"), m->num_steps, &extra, err,
	    len) < 0)
		return -1;
	*ctrl = calloc((size_t)m->num_steps * m->ctrl_depth, sizeof(float));
	rc = ctrl_build(&m->ctrl, m->num_steps, chords, n, json_is_integer(key) ? (int)json_integer_value(key) : -1,
	    extra, *ctrl, err, len);
	free(extra);
	return rc;
}

#endif
