/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cmd_attributes.c: `musicvae attributes`: its options, the vectors written to MODEL/attributes.json, and
 * --check's table of how far each vector moves its attribute. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "attrs.h"
#include "cmd.h"
#include "dataset.h"
#include "model.h"

struct attrs_opts {
	const char *out, *vectors;      /* -o; --check's vector file (MODEL/attributes.json) */
	int split, check, count;        /* --split (-1: all); --check; windows it decodes (512) */
	float amount;                   /* --amount: the multiple of each vector added and subtracted (1) */
};

static int
attrs_args(int argc, char **argv, struct attrs_opts *o)
{
	static const struct option lo[] = { { "output", 1, NULL, 'o' }, { "split", 1, NULL, 'S' },
		{ "check", 0, NULL, 'c' }, { "vectors", 1, NULL, 'V' }, { "count", 1, NULL, 'n' },
		{ "amount", 1, NULL, 'a' }, { "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	char *end;
	long v;
	int ch;

	optind = 0;             /* glibc starts over, argument order included (musicvae.c parsed its own first) */
	while ((ch = getopt_long(argc, argv, "o:n:h", lo, NULL)) != -1) {
		if (ch == 'o')
			o->out = optarg;
		else if (ch == 'S' && strcmp(optarg, "train") == 0)
			o->split = DATASET_TRAIN;
		else if (ch == 'S' && strcmp(optarg, "valid") == 0)
			o->split = DATASET_VALID;
		else if (ch == 'S' && strcmp(optarg, "all") == 0)
			o->split = -1;
		else if (ch == 'c')
			o->check = 1;
		else if (ch == 'V')
			o->vectors = optarg;
		else if (ch == 'n' && (errno = 0, v = strtol(optarg, &end, 10)) >= 4 && v <= 1000000 && !errno &&
		    end != optarg && *end == '\0')
			o->count = (int)v;
		else if (ch == 'a' && (o->amount = strtof(optarg, &end)) > 0.0f && *end == '\0' && o->amount <= 100.0f)
			continue;
		else {
			if (ch == 'n' || ch == 'a' || ch == 'S')
				fprintf(stderr, "musicvae attributes: --%s %s: expected %s\n", ch == 'n' ? "count" :
				    ch == 'a' ? "amount" : "split", optarg, ch == 'n' ? "an integer 4..1000000" :
				    ch == 'a' ? "a number in (0, 100]" : "train, valid or all");
			return ch == 'h' ? 1 : -1;
		}
	}
	return optind + 2 <= argc ? 0 : -1;
}

/* --check: every vector added (+amount) to the encoded windows must raise its attribute in the argmax decodes
 * on average, subtracted must lower it, and the rise from -amount to +amount must exceed the control's (random
 * directions of the same length). Prints one line per attribute; 0 if all pass. */
static int
attrs_check(struct model *md, int kind, struct attrs_set *a, const struct attrs_opts *o, const char *path)
{
	const char *names[ATTRS_MAX];
	int Z = md->vae.z_dim, rc = 0;
	size_t n = a->n < (size_t)o->count ? a->n : (size_t)o->count;
	float *vec = malloc(sizeof(float) * ATTRS_MAX * Z);
	double base[ATTRS_MAX], lo[ATTRS_MAX], hi[ATTRS_MAX], control;
	char err[1024];

	for (int k = 0; k < ATTRS_MAX; k++)
		names[k] = attrs_name(kind, k);
	if (vec == NULL || attr_load(path, Z, ATTRS_MAX, names, vec, err, sizeof err) < 0) {
		fprintf(stderr, "musicvae attributes: %s\n", vec ? err : "out of memory");
		free(vec);
		return 1;
	}
	/* n windows spread evenly over all encoded ones (they come in source order); source >= destination */
	for (size_t i = 0; i < n; i++)
		memmove(a->z + i * Z, a->z + (size_t)((uint64_t)i * a->n / n) * Z, sizeof(float) * Z);
	printf("# %zu windows, argmax decodes of z = mu %+g x vector (vectors: %s); control: the largest change from\n"
	    "# -x to +x over %d random directions of the vector's length\n", n, (double)o->amount, path, ATTRS_CONTROLS);
	printf("# %-18s %10s %10s %10s %10s  %s\n", "attribute", "-x", "0", "+x", "control", "moves");
	if (attrs_decoded(md, kind, a->z, n, vec, 0.0f, base, err, sizeof err) < 0)
		goto fail;
	for (int k = 0; k < ATTRS_MAX; k++) {
		const float *v = vec + (size_t)k * Z;
		int good;
		if (attrs_decoded(md, kind, a->z, n, v, -o->amount, lo, err, sizeof err) < 0 ||
		    attrs_decoded(md, kind, a->z, n, v, o->amount, hi, err, sizeof err) < 0 ||
		    attrs_control(md, kind, a->z, n, v, k, o->amount, &control, err, sizeof err) < 0)
			goto fail;
		/* false if one is NaN (no decode defines it) */
		good = lo[k] < base[k] && base[k] < hi[k] && hi[k] - lo[k] > control;
		printf("%-20s %10.4f %10.4f %10.4f %10.4f  %s\n", names[k], lo[k], base[k], hi[k], control,
		    good ? "yes" : "NO");
		if (!good)
			rc = 1;
	}
	free(vec);
	return rc;
fail:
	fprintf(stderr, "musicvae attributes: decode: %s\n", err);
	free(vec);
	return 1;
}

int
cmd_attributes(int argc, char **argv)
{
	const char *usage = "usage: musicvae attributes MODEL corpus.ds... [-o FILE] [--split train|valid|all]\n"
	    "       musicvae attributes MODEL corpus.ds... --check [--vectors FILE] [--split S] [-n COUNT] "
	    "[--amount X]\n"
	    "  computes the attribute vectors (mean z of the top quartile minus the bottom quartile) of the\n"
	    "  split's windows (train by default) into MODEL/attributes.json; with --check, tests them instead:\n"
	    "  each vector added to COUNT (512) encoded windows of the split (valid by default) must raise its\n"
	    "  attribute in the decodes, and subtracted must lower it (exit 1 if one does not)\n";
	struct attrs_opts o = { .split = -2, .count = 512, .amount = 1.0f };
	struct attrs_set a = { 0 };
	struct model md;
	char err[1024], path[4096];
	float *vec = NULL;
	size_t defined[ATTRS_MAX];
	int rc = 1, r = attrs_args(argc, argv, &o), kind = -1;

	if (r != 0) {
		fputs(usage, r > 0 ? stdout : stderr);
		return r > 0 ? 0 : 2;
	}
	if (o.split == -2)       /* vectors from the training windows, checked on the held-out ones */
		o.split = o.check ? DATASET_VALID : DATASET_TRAIN;
	if (model_open(&md, argv[optind], ATTRS_BATCH, err, sizeof err) < 0) {
		fprintf(stderr, "musicvae attributes: %s\n", err);
		return 1;
	}
	for (int i = optind + 1; i < argc; i++) {
		struct dataset d;
		if (dataset_read(&d, argv[i], err, sizeof err) < 0 || attrs_encode(&md, &d, o.split, &a, err,
		    sizeof err) < 0) {
			fprintf(stderr, "musicvae attributes: %s: %s\n", argv[i], err);
			dataset_free(&d);
			goto out;
		}
		kind = (int)d.kind;
		dataset_free(&d);
	}
	if (a.n < 4) {
		fprintf(stderr, "musicvae attributes: need at least 4 windows of the %s split (have %zu; see --split)\n",
		    o.split == DATASET_TRAIN ? "train" : o.split == DATASET_VALID ? "valid" : "whole", a.n);
		goto out;
	}
	snprintf(path, sizeof path, "%s/attributes.json", argv[optind]);
	if (o.check) {
		rc = attrs_check(&md, kind, &a, &o, o.vectors ? o.vectors : path);
		goto out;
	}
	vec = calloc((size_t)ATTRS_MAX * md.vae.z_dim, sizeof(float));
	if (vec == NULL || attrs_vectors(a.n, md.vae.z_dim, ATTRS_MAX, a.z, a.val, vec, defined) < 0) {
		fprintf(stderr, "musicvae attributes: out of memory\n");
		goto out;
	}
	for (int k = 0; k < ATTRS_MAX; k++) {
		if (defined[k] < 4) {
			fprintf(stderr, "musicvae attributes: %s is defined on %zu of the %zu windows; it needs 4 "
			    "(windows with %s)\n", attrs_name(kind, k), defined[k], a.n, kind == DATASET_MELODY &&
			    k == 2 ? "two onsets" : "an onset");
			goto out;
		}
		fprintf(stderr, "%s: %zu windows, quartiles of %zu\n", attrs_name(kind, k), defined[k],
		    defined[k] / 4);
	}
	if (attrs_write(o.out ? o.out : path, kind, md.vae.z_dim, vec, a.n, err, sizeof err) < 0) {
		fprintf(stderr, "musicvae attributes: %s\n", err);
		goto out;
	}
	fprintf(stderr, "wrote %d attribute vectors from %zu windows to %s\n", ATTRS_MAX, a.n, o.out ? o.out : path);
	rc = 0;
out:
	free(vec);
	free(a.z);
	free(a.val);
	model_close(&md);
	return rc;
}
