/* SPDX-License-Identifier: GPL-3.0-or-later */
/* parity_run.c: runs one reference case (tests/ref/gen_case.js format) through musicvae's model code and
 * writes the same OUT.json layout as tests/ref/ref_run.js, so compare.js can diff the two. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lat.h"
#include "seq_json.h"
#include "model.h"
#include "parity_ctrl.h"

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "parity_run: %s: %s\n", what, why);
	exit(2);
}

static json_t *
rows_json(const float *rows, int T, int D)
{
	json_t *a = json_array();

	for (int t = 0; t < T; t++) {
		json_t *r = json_array();
		for (int k = 0; k < D; k++)
			json_array_append_new(r, json_real(rows[(size_t)t * D + k]));
		json_array_append_new(a, r);
	}
	return a;
}

static json_t *
vec_json(const float *v, int n)
{
	json_t *a = json_array();

	for (int k = 0; k < n; k++)
		json_array_append_new(a, json_real(v[k]));
	return a;
}

/* Decodes n z at temperature 0 and returns the output tensors as JSON [n][T][D]. */
static json_t *
decode_json(struct model *md, const float *z, int n, const float *ctrl)
{
	const struct vae *m = &md->vae;
	size_t rowy = (size_t)m->num_steps * m->out_depth;
	float *out = calloc((size_t)n * rowy + 1, sizeof(float));
	json_t *a = json_array();
	char err[512];

	if (model_decode(md, z, n, ctrl, 0.0f, 0, out, err, sizeof err) < 0)
		die("decode", err);
	for (int i = 0; i < n; i++)
		json_array_append_new(a, rows_json(out + i * rowy, m->num_steps, m->out_depth));
	free(out);
	return a;
}

static char *
model_path(const char *case_path, const char *model)
{
	char *tmp = strdup(case_path), *p;
	size_t n;

	if (model[0] == '/') {
		free(tmp);
		return strdup(model);
	}
	n = strlen(dirname(tmp)) + strlen(model) + 2;
	p = malloc(n);
	snprintf(p, n, "%s/%s", dirname(strcpy(tmp, case_path)), model);
	free(tmp);
	return p;
}

int
main(int argc, char **argv)
{
	json_error_t jerr;
	json_t *cs, *inputs, *zs, *out, *zout = json_array();
	struct model md;
	struct seq *seqs;
	float *z, *zd, *ctrl = NULL;
	char err[1024], *dir;
	int n, nz, ninterp, Z;

	if (argc < 3)
		die("usage", "parity_run CASE.json OUT.json [--exact]");
	if (argc > 3 && strcmp(argv[3], "--exact") == 0)
		nn_set_mode(NN_EXACT);
	if ((cs = json_load_file(argv[1], 0, &jerr)) == NULL)
		die(argv[1], jerr.text);
	dir = model_path(argv[1], json_string_value(json_object_get(cs, "model")));
	if (model_open(&md, dir, 8, err, sizeof err) < 0)
		die(dir, err);
	md.vae.codec.drums_js_shift = 1;        /* the reference is magenta.js */
	Z = md.vae.z_dim;
	if (parity_ctrl_build(&md, json_object_get(cs, "controls"), &ctrl, err, sizeof err) < 0)
		die("controls", err);
	inputs = json_object_get(cs, "inputs");
	n = (int)json_array_size(inputs);
	seqs = calloc((size_t)n + 1, sizeof *seqs);
	z = calloc((size_t)(n + 1) * Z, sizeof(float));
	for (int i = 0; i < n; i++) {
		seq_init(&seqs[i]);
		if (seq_from_json(&seqs[i], json_array_get(inputs, i), err, sizeof err) < 0)
			die("inputs", err);
	}
	if (n > 0 && model_encode(&md, seqs, n, ctrl, z, err, sizeof err) < 0)
		die("encode", err);
	for (int i = 0; i < n; i++)
		json_array_append_new(zout, vec_json(z + (size_t)i * Z, Z));
	out = json_object();
	json_object_set_new(out, "z", zout);

	zs = json_object_get(cs, "z");
	nz = (int)json_array_size(zs);
	zd = calloc((size_t)(nz + 1) * Z, sizeof(float));
	for (int i = 0; i < nz; i++)
		for (int k = 0; k < Z; k++)
			zd[(size_t)i * Z + k] = (float)json_number_value(json_array_get(json_array_get(zs, i), k));
	json_object_set_new(out, "decode", decode_json(&md, zd, nz, ctrl));

	ninterp = (int)json_integer_value(json_object_get(cs, "interpolate"));
	if (ninterp >= 2 && n >= 2) {
		float *zi = calloc((size_t)ninterp * Z, sizeof(float));
		for (int i = 0; i < ninterp; i++)
			lat_lerp(Z, z, z + Z, lat_linspace(ninterp, i), zi + (size_t)i * Z);
		json_object_set_new(out, "interpolate", decode_json(&md, zi, ninterp, ctrl));
		free(zi);
	}
	if (json_dump_file(out, argv[2], JSON_COMPACT | JSON_REAL_PRECISION(9)) < 0)
		die(argv[2], "cannot write");
	json_decref(out);
	json_decref(cs);
	for (int i = 0; i < n; i++)
		seq_fini(&seqs[i]);
	free(seqs);
	free(z);
	free(zd);
	free(ctrl);
	free(dir);
	model_close(&md);
	return 0;
}
