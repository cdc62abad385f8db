/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_train.c: the attribute functions, the trainer's encoder input against codec_encode, and tiny training
 * runs on synthetic windows: the loss falls, a seed replays bit for bit, a resumed run ends on the same weights,
 * the checkpoint loads, and +-1x attribute vectors move the decoded attributes. Seeded: TEST_SEED replays.
 * `test_train --make-dataset melody|drums FILE` writes the synthetic dataset for tests/test_train_cli.sh. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "attr.h"
#include "attrs.h"
#include "cmd.h"
#include "codec.h"
#include "model.h"
#include "tap.h"
#include "train.h"

static struct rng r;

static void __attribute__((format(printf, 1, 2), noreturn))
bail_out(const char *fmt, ...)
{
	va_list ap;

	fputs("Bail out! ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	exit(1);
}

/* ---- synthetic windows ------------------------------------------------------------------------------- */

/* A regular melody whose onset period (density), phase (syncopation), scale (diatonic or chromatic) and step
 * (interval) are drawn per window, so every attribute varies strongly and a tiny model learns it fast. */
static void
syn_melody(uint16_t *tok, int T)
{
	static const int periods[] = { 1, 2, 2, 4, 4, 8 }, scale[12] = { 0, 0, 2, 2, 4, 5, 5, 7, 7, 9, 9, 11 };
	int k = periods[rng_next(&r) % 6], o = (int)(rng_next(&r) % (unsigned)k), dia = rng_uniform(&r) < 0.5;
	int step = (int)(rng_next(&r) % 5) - 2, pitch = 60 + 7 * (int)(rng_next(&r) % 2), sounding = 0;

	for (int t = 0; t < T; t++) {
		tok[t] = 0;
		if (t % k == o) {
			pitch += step;
			if (pitch < 48 || pitch > 84)
				step = -step, pitch += 2 * step;
			tok[t] = (uint16_t)(2 + (dia ? pitch / 12 * 12 + scale[pitch % 12] : pitch) - DATASET_MIN_PITCH);
			sounding = 1;
		} else if (sounding && k >= 4 && t % k == (o + k / 2) % k) {
			tok[t] = 1;
			sounding = 0;
		}
	}
}

/* Drums: kick on beats, snare on backbeats, hats at a per-window density, some off-beat hits. */
static void
syn_drums(uint16_t *tok, int T)
{
	double hat = 0.8 * rng_uniform(&r), kick = rng_uniform(&r), off = 0.5 * rng_uniform(&r);

	for (int t = 0; t < T; t++) {
		unsigned v = 0;
		if (t % 4 == 0 && rng_uniform(&r) < kick)
			v |= 1;
		if (t % 8 == 4)
			v |= 2;
		if (rng_uniform(&r) < (t % 2 ? hat * off : hat))
			v |= rng_uniform(&r) < 0.8 ? 4 : 8;
		if (t % 2 && rng_uniform(&r) < off * 0.3)
			v |= 1u << (4 + rng_next(&r) % 5);
		tok[t] = (uint16_t)v;
	}
}

static void
syn_dataset(struct dataset *d, int kind, size_t n, int valid_every)
{
	struct dataset_opts o;

	dataset_opts_init(&o, kind);
	dataset_init(d, &o);
	d->count = d->cap = n;
	d->tokens = calloc(n * d->num_steps, sizeof *d->tokens);
	d->source = calloc(n, sizeof *d->source);
	d->split = calloc(n, 1);
	d->transpose = calloc(n, 1);
	d->sources = calloc(2, sizeof *d->sources);
	d->n_sources = 2;
	for (int s = 0; s < 2; s++) {
		d->sources[s].path = strdup(s ? "synthetic-valid" : "synthetic-train");
		d->sources[s].package = strdup("test_train");
		d->sources[s].licence = strdup("GPL-3.0-or-later");
		d->sources[s].split = s;
	}
	for (size_t i = 0; i < n; i++) {
		uint16_t *tok = d->tokens + i * d->num_steps;
		if (kind == DATASET_DRUMS)
			syn_drums(tok, d->num_steps);
		else
			syn_melody(tok, d->num_steps);
		d->split[i] = d->source[i] = i % (size_t)valid_every == (size_t)valid_every - 1;
	}
}

/* ---- attribute functions ----------------------------------------------------------------------------- */

static void
test_attrs(void)
{
	uint16_t m[32] = { 0 }, dr[32] = { 0 };
	double a[ATTRS_MAX];

	/* C4 at 0, E4 at 3 (off-beat 16th), F#4 at 6 (off-beat 8th), note-off at 8 */
	m[0] = 2 + 60 - 21, m[3] = 2 + 64 - 21, m[6] = 2 + 66 - 21, m[8] = 1;
	attrs_compute(DATASET_MELODY, m, 32, a);
	is_float(a[0], 3.0 / 32, 1e-12, "note density: 3 onsets in 32 steps");
	is_float(a[1], 2.0 / 3, 1e-12, "C-diatonic share: C and E of C, E, F#");
	is_float(a[2], 3.0, 1e-12, "average interval: (4 + 2) / 2 semitones");
	is_float(a[3], 1.0 / 3, 1e-12, "16th syncopation: one onset of three on an odd step");
	is_float(a[4], 1.0 / 3, 1e-12, "8th syncopation: one onset of three at step 2 mod 4");
	memset(m, 0, sizeof m);
	attrs_compute(DATASET_MELODY, m, 32, a);
	ok(a[0] == 0 && isnan(a[1]) && isnan(a[2]) && isnan(a[3]) && isnan(a[4]),
	    "an empty melody: density 0, the shares and the interval undefined (NaN)");
	m[5] = 2 + 62 - 21;
	attrs_compute(DATASET_MELODY, m, 32, a);
	ok(a[1] == 1 && isnan(a[2]) && a[3] == 1 && a[4] == 0, "one onset defines the shares, not the interval");
	dr[0] = 1 | 4, dr[4] = 2, dr[5] = 8, dr[8] = 1 | 2 | 4 | 256;
	attrs_compute(DATASET_DRUMS, dr, 32, a);
	is_float(a[0], 8.0 / 32, 1e-12, "hit density: 8 hits");
	is_float(a[1], 2.0 / 32, 1e-12, "kick density");
	is_float(a[2], 2.0 / 32, 1e-12, "snare density");
	is_float(a[3], 3.0 / 32, 1e-12, "hat density: closed or open hat steps");
	is_float(a[4], 1.0 / 4, 1e-12, "drum syncopation: one of four hit steps is odd");
	memset(dr, 0, sizeof dr);
	attrs_compute(DATASET_DRUMS, dr, 32, a);
	ok(a[0] == 0 && a[3] == 0 && isnan(a[4]), "silent drums: densities 0, syncopation undefined (NaN)");
	ok(strcmp(attrs_name(DATASET_MELODY, 0), "note_density") == 0 &&
	    strcmp(attrs_name(DATASET_DRUMS, 4), "syncopation") == 0, "attribute names");
	{
		/* z = (value, 1): the vector is top-quartile mean minus bottom-quartile mean */
		float z[8 * 2], v[2];
		double val[8];
		for (int i = 0; i < 8; i++)
			z[2 * i] = (float)i, z[2 * i + 1] = 1.0f, val[i] = 7 - i;
		size_t def;
		int rc = attrs_vectors(8, 2, 1, z, val, v, &def);
		ok(rc == 0 && v[0] == -6.0f && v[1] == 0.0f && def == 8,
		    "quartile vector: mean z of the top 2 minus the bottom 2 (%g, %g)", v[0], v[1]);
		/* windows 0..3 undefined: quartiles of the other 4 are one window each (z 4 high, z 7 low) */
		for (int i = 0; i < 4; i++)
			val[i] = NAN;
		rc = attrs_vectors(8, 2, 1, z, val, v, &def);
		ok(rc == 0 && v[0] == -3.0f && def == 4, "quartiles only of the windows defining the attribute (%g, %zu)",
		    v[0], def);
		val[4] = NAN;
		rc = attrs_vectors(8, 2, 1, z, val, v, &def);
		ok(rc == 0 && v[0] == 0.0f && v[1] == 0.0f && def == 3, "fewer than 4 defining windows: a zero vector");
	}
}

/* train_window_input is codec_encode's tensor for the window's notes (drums: Python Magenta's roll). */
static void
test_window_input(void)
{
	const char *cfg[2] = { "{\"type\": \"MelodyConverter\", \"args\": {\"numSteps\": 32, \"minPitch\": 21, "
	    "\"maxPitch\": 108}}", "{\"type\": \"DrumsConverter\", \"args\": {\"numSteps\": 32}}" };
	int bad[2] = { 0, 0 };

	for (int kind = 0; kind < 2; kind++) {
		struct codec c;
		struct seq s;
		json_t *j = json_loads(cfg[kind], 0, NULL);
		float x[32 * 90], y[32 * 90], onehot[32 * 512];
		uint16_t tok[32];
		char err[256];
		if (codec_from_json(&c, j, err, sizeof err) < 0)
			bail_out("codec: %s", err);
		json_decref(j);
		seq_init(&s);
		for (int i = 0; i < 50; i++) {
			int D = kind ? 512 : 90;
			kind ? syn_drums(tok, 32) : syn_melody(tok, 32);
			memset(onehot, 0, sizeof onehot);
			for (int t = 0; t < 32; t++)
				onehot[t * D + tok[t]] = 1.0f;
			if (codec_decode(&c, onehot, &s, err, sizeof err) < 0 ||
			    codec_encode(&c, &s, x, err, sizeof err) < 0)
				bail_out("codec: %s", err);
			train_window_input(kind, tok, NULL, 32, y);
			bad[kind] += memcmp(x, y, sizeof(float) * 32 * c.in_depth) != 0;
		}
		seq_fini(&s);
	}
	ok(bad[0] == 0, "melody encoder input = codec_encode of the decoded window (%d of 50 differ)", bad[0]);
	ok(bad[1] == 0, "drum encoder input = codec_encode (drums_js_shift 0) (%d of 50 differ)", bad[1]);
}

/* ---- training runs ------------------------------------------------------------------------------------ */

static char work[256];

static void
tiny_hp(struct train_hp *hp, int kind, long steps)
{
	train_hp_init(hp, kind);
	hp->z = 8;
	hp->enc_units = 24;
	hp->dec_units = 32;
	hp->dec_layers = 2;
	hp->batch = 32;
	hp->steps = steps;
	hp->lr = 1e-2;
	hp->decay = 0.999;
	hp->eval_every = 50;
	hp->log_every = 10;
	hp->save_every = 50;
	hp->valid_max = 64;
	hp->free_bits = 0;
	hp->max_beta = 0.05;
	hp->beta_rate = 0.99;
	hp->sampling = OPT_SAMPLING_CONSTANT;   /* scheduled sampling at 5% from the start */
	hp->sampling_rate = 0.05;
	hp->seed = 7;
}

/* The whole file's bytes (NULL if unreadable). */
static unsigned char *
slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p = NULL;
	long len;

	*n = 0;
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (p = malloc((size_t)len + 1)) != NULL && fread(p, 1, (size_t)len, f) == (size_t)len)
		*n = (size_t)len;
	fclose(f);
	return p;
}

static int
same_file(const char *a, const char *b)
{
	size_t na, nb;
	unsigned char *pa = slurp(a, &na), *pb = slurp(b, &nb);
	int same = pa != NULL && pb != NULL && na == nb && memcmp(pa, pb, na) == 0;

	free(pa);
	free(pb);
	return same;
}

/* First and last train_loss of a run's CSV. */
static void
csv_losses(const char *dir, double *first, double *last, int *rows)
{
	char path[512], line[1024];
	FILE *f;

	*first = *last = NAN;
	*rows = 0;
	snprintf(path, sizeof path, "%s/%s", dir, TRAIN_LOG_FILE);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		char *c = strchr(line, ',');
		if (line[0] < '0' || line[0] > '9' || c == NULL)
			continue;
		*last = strtod(c + 1, NULL);
		if ((*rows)++ == 0)
			*first = *last;
	}
	fclose(f);
}

static int
run(const struct train_hp *hp, const struct dataset *d, const char *name, int resume)
{
	char dir[512], err[1024];

	snprintf(dir, sizeof dir, "%s/%s", work, name);
	if (train_run(hp, d, dir, resume, NULL, err, sizeof err) < 0) {
		diag("train %s: %s", name, err);
		return -1;
	}
	return 0;
}

static int
same_weights(const char *a, const char *b)
{
	char pa[512], pb[512];

	snprintf(pa, sizeof pa, "%s/%s/group1-shard1of1", work, a);
	snprintf(pb, sizeof pb, "%s/%s/group1-shard1of1", work, b);
	return same_file(pa, pb);
}

/* attributes.json of the trained model from its dataset; +-1x each vector moves the decoded attribute. */
static void
test_attribute_vectors(const struct dataset *d, const char *name, int kind)
{
	char dir[512], ds[512], out[512], err[1024], *argv[5];
	const char *names[ATTRS_MAX];
	struct model md;
	float vec[ATTRS_MAX * 64], *z;
	double base[ATTRS_MAX];
	int n = 0, Z, T = d->num_steps;

	snprintf(dir, sizeof dir, "%s/%s", work, name);
	snprintf(ds, sizeof ds, "%s/%s.ds", work, name);
	snprintf(out, sizeof out, "%s/attributes.json", dir);
	if (dataset_write(d, ds, err, sizeof err) < 0)
		bail_out("%s", err);
	argv[0] = "attributes", argv[1] = dir, argv[2] = ds, argv[3] = NULL;
	ok(cmd_attributes(3, argv) == 0, "musicvae attributes %s writes MODEL/attributes.json", name);
	if (model_open(&md, dir, 64, err, sizeof err) < 0)
		bail_out("%s", err);
	Z = md.vae.z_dim;
	for (int a = 0; a < ATTRS_MAX; a++)
		names[a] = attrs_name(kind, a);
	ok(attr_load(out, Z, ATTRS_MAX, names, vec, err, sizeof err) == 0, "attr_load reads every vector: %s",
	    err);
	z = malloc(sizeof(float) * d->count * Z);
	for (size_t i = 0; i < d->count && n < 64; i++) {
		float x[32 * 90];
		if (d->split[i] != DATASET_VALID)
			continue;
		train_window_input(kind, d->tokens + i * T, NULL, T, x);
		enc_run(&md.enc, 1, x, NULL, z + (size_t)n * Z);
		n++;
	}
	if (attrs_decoded(&md, kind, z, (size_t)n, vec, 0.0f, base, err, sizeof err) < 0)
		bail_out("decode: %s", err);
	for (int a = 0; a < ATTRS_MAX; a++) {
		double m[2][ATTRS_MAX], lo, mid = base[a], hi;
		for (int i = 0; i < 2; i++)
			if (attrs_decoded(&md, kind, z, (size_t)n, vec + a * Z, i ? 1.0f : -1.0f, m[i], err, sizeof err) < 0)
				bail_out("decode: %s", err);
		lo = m[0][a], hi = m[1][a];
		/* The tiny model learns rhythm (density, syncopation) in 500 steps but hardly pitch: the pitch
		 * attributes are reported, not required. */
		if (a == 1 || a == 2) {
			int moved = hi > mid && lo < mid;
			printf("%s %d - %s %s: -1x %.4f < 0x %.4f < +1x %.4f (means of %d decodes)%s\n", moved ? "ok" :
			    "not ok", ++tap_n, name, names[a], lo, mid, hi, n, moved ? "" : " # TODO pitch attributes "
			    "need a model that learned pitch (test_attr_models.sh checks the bundled one)");
			continue;
		}
		ok(hi > mid && lo < mid, "%s %s: -1x %.4f < 0x %.4f < +1x %.4f (means of %d decodes)", name,
		    names[a], lo, mid, hi, n);
	}
	free(z);
	model_close(&md);
}

static void
test_training(void)
{
	struct dataset mel, drums;
	struct train_hp hp;
	double first, last;
	int rows;
	char dir[512], err[1024];
	struct model md;

	syn_dataset(&mel, DATASET_MELODY, 600, 8);
	tiny_hp(&hp, DATASET_MELODY, 100);
	ok(run(&hp, &mel, "a", 0) == 0, "100 steps on %zu synthetic melody windows", mel.count);
	snprintf(dir, sizeof dir, "%s/a", work);
	csv_losses(dir, &first, &last, &rows);
	ok(rows == 10 && last < 0.8 * first, "the training loss falls: %.3f -> %.3f over %d log rows", first, last,
	    rows);
	ok(run(&hp, &mel, "b", 0) == 0, "the same run again");
	ok(same_weights("a", "b"), "same seed, same data: the same weights bit for bit");
	hp.steps = 50;
	ok(run(&hp, &mel, "c", 0) == 0, "a run stopped at step 50");
	hp.steps = 100;
	hp.lr = 1.0;            /* ignored: a resumed run keeps the saved hyper-parameters */
	ok(run(&hp, &mel, "c", 1) == 0, "resumed to step 100");
	ok(same_weights("a", "c"), "the resumed run ends on the uninterrupted run's weights");
	snprintf(dir, sizeof dir, "%s/c", work);
	csv_losses(dir, &first, &last, &rows);
	ok(rows == 10, "the resumed CSV log has one row per 10 steps (%d)", rows);
	snprintf(dir, sizeof dir, "%s/a", work);
	ok(model_open(&md, dir, 4, err, sizeof err) == 0 && md.vae.z_dim == 8 && md.vae.core[0].n_layers == 2,
	    "model_open loads the trained checkpoint: %s", err);
	model_close(&md);

	syn_dataset(&drums, DATASET_DRUMS, 300, 8);
	tiny_hp(&hp, DATASET_DRUMS, 40);
	hp.free_bits = 2;
	hp.keep = 0.9;
	ok(run(&hp, &drums, "d", 0) == 0, "40 drum steps (512 classes, free bits, dropout)");
	snprintf(dir, sizeof dir, "%s/d", work);
	csv_losses(dir, &first, &last, &rows);
	ok(last < first, "the drum loss falls: %.3f -> %.3f", first, last);

	/* attribute vectors on a model trained a little longer */
	tiny_hp(&hp, DATASET_MELODY, 500);
	hp.save_every = 500;
	hp.eval_every = 500;
	ok(run(&hp, &mel, "attr", 0) == 0, "500 melody steps for the attribute vectors");
	test_attribute_vectors(&mel, "attr", DATASET_MELODY);
	dataset_free(&mel);
	dataset_free(&drums);
}

static int
make_dataset(const char *kind, const char *path)
{
	struct dataset d;
	char err[512];
	int k = strcmp(kind, "drums") == 0 ? DATASET_DRUMS : DATASET_MELODY;

	syn_dataset(&d, k, 400, 8);
	if (dataset_write(&d, path, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	dataset_free(&d);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *s = getenv("TEST_SEED");
	uint64_t seed = s ? strtoull(s, NULL, 10) : 20240601;
	char cmd[600];
	int rc;

	rng_seed(&r, seed);
	if (argc == 4 && strcmp(argv[1], "--make-dataset") == 0)
		return make_dataset(argv[2], argv[3]);
	snprintf(work, sizeof work, "%s/test_train.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(work) == NULL)
		bail_out("mkdtemp failed");
	plan(38);
	diag("seed %llu (TEST_SEED replays), work %s", (unsigned long long)seed, work);
	test_attrs();
	test_window_input();
	test_training();
	rc = done_testing();
	if (getenv("TEST_TRAIN_KEEP") == NULL) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
		if (system(cmd) != 0)
			diag("could not remove %s", work);
	}
	return rc;
}
