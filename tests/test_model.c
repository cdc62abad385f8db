/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_model.c: the run-time contract of encoder and decoder on random checkpoints: nothing allocated per
 * step, batches equal single rows, seeded sampling replays, exact and fast modes agree on tokens. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloccount.h"
#include "mkmodel.h"
#include "model.h"
#include "tap.h"

static char tmpl[] = "/tmp/test_model.XXXXXX";

static void
random_z(struct rng *r, float *z, int n)
{
	for (int i = 0; i < n; i++)
		z[i] = (float)rng_normal(r);
}

static int
tokens_equal(const struct model *md, const float *a, const float *b)
{
	const struct vae *m = &md->vae;

	for (int t = 0; t < m->num_steps; t++)
		if (nn_argmax(a + (size_t)t * m->out_depth, m->out_depth) !=
		    nn_argmax(b + (size_t)t * m->out_depth, m->out_depth))
			return 0;
	return 1;
}

static int
distinct_tokens(const struct model *md, const float *a)
{
	const struct vae *m = &md->vae;
	int seen[512] = { 0 }, n = 0;

	for (int t = 0; t < m->num_steps; t++) {
		int k = nn_argmax(a + (size_t)t * m->out_depth, m->out_depth);
		n += !seen[k];
		seen[k] = 1;
	}
	return n;
}

static void
check_kind(const char *kind)
{
	char dir[256], err[512];
	struct model md;
	struct rng r;
	struct seq s;
	float z[8 * 24], z1[24], *out, *one, *tmp;
	size_t rowy;
	long calls;
	int all_same = 1, t, steps = 0;

	snprintf(dir, sizeof dir, "%s/%s", tmpl, kind);
	if (!ok(mkmodel(dir, kind, 42, err, sizeof err) == 0, "%s: random checkpoint written", kind) ||
	    !ok(model_open(&md, dir, 8, err, sizeof err) == 0, "%s: loads", kind)) {
		diag("%s", err);
		skip(11, "no model");
		return;
	}
	rowy = (size_t)md.vae.num_steps * md.vae.out_depth;
	out = calloc(8 * rowy, sizeof(float));
	one = calloc(rowy, sizeof(float));
	tmp = calloc(rowy, sizeof(float));
	rng_seed(&r, 5);
	random_z(&r, z, 8 * md.vae.z_dim);

	/* The step API allocates nothing: begin, every step, and an encoder run. */
	seq_init(&s);
	s.steps_per_quarter = 4;
	s.total_steps = md.vae.num_steps;
	for (t = 0; t < md.vae.num_steps; t += 3) {
		struct note n = { .pitch = strcmp(kind, "drums") ? 60 + t % 7 : 36, .start = t, .end = t + 2,
		    .velocity = 80, .is_drum = !strcmp(kind, "drums") };
		seq_add(&s, &n);
	}
	codec_encode(&md.vae.codec, &s, md.x, err, sizeof err);
	alloccount_start();
	enc_run(&md.enc, 1, md.x, NULL, z1);
	dec_begin(&md.dec, 8, z, NULL, 0.8f, 3);
	while (dec_step(&md.dec) >= 0)
		steps++;
	calls = alloccount_stop();
	if (ALLOCCOUNT_AVAILABLE)
		is_int(calls, 0, "%s: encode + begin + %d steps x 8 rows make no allocator call", kind, steps);
	else
		skip(1, "the sanitizer owns the allocator");
	is_int(steps, md.vae.num_steps, "%s: dec_step yields every step once", kind);

	/* Batch of 8 = 8 single decodes, bit for bit in exact mode. */
	nn_set_mode(NN_EXACT);
	model_decode(&md, z, 8, NULL, 0.0f, 0, out, err, sizeof err);
	for (int b = 0; b < 8; b++) {
		model_decode(&md, z + b * md.vae.z_dim, 1, NULL, 0.0f, 0, one, err, sizeof err);
		all_same &= memcmp(one, out + b * rowy, rowy * sizeof(float)) == 0;
	}
	ok(all_same, "%s: exact mode: row b of a batch of 8 equals decoding z_b alone", kind);
	ok(distinct_tokens(&md, out) > 2, "%s: the random model's argmax output is not constant (%d tokens)",
	    kind, distinct_tokens(&md, out));
	/* Fast (OpenBLAS) mode picks the same tokens. */
	nn_set_mode(NN_FAST);
	all_same = 1;
	for (int b = 0; b < 8; b++) {
		model_decode(&md, z + b * md.vae.z_dim, 1, NULL, 0.0f, 0, one, err, sizeof err);
		all_same &= tokens_equal(&md, one, out + b * rowy);
	}
	ok(all_same, "%s: OpenBLAS mode picks the exact mode's tokens for 8 z", kind);
	/* Fast mode: N candidates in one batched call are the single decodes, bit for bit; N copies of one z
	 * are N copies of its single decode (the daemon's candidates rely on it). */
	model_decode(&md, z, 8, NULL, 0.0f, 0, out, err, sizeof err);
	all_same = 1;
	for (int b = 0; b < 8; b++) {
		model_decode(&md, z + b * md.vae.z_dim, 1, NULL, 0.0f, 0, one, err, sizeof err);
		all_same &= memcmp(one, out + b * rowy, rowy * sizeof(float)) == 0;
	}
	ok(all_same, "%s: fast mode: row b of a batch of 8 equals decoding z_b alone", kind);
	{
		float zc[8 * 24];
		for (int b = 0; b < 8; b++)
			memcpy(zc + b * md.vae.z_dim, z + 5 * md.vae.z_dim, sizeof(float) * md.vae.z_dim);
		model_decode(&md, zc, 8, NULL, 0.0f, 0, out, err, sizeof err);
		model_decode(&md, zc, 1, NULL, 0.0f, 0, one, err, sizeof err);
		all_same = 1;
		for (int b = 0; b < 8; b++)
			all_same &= memcmp(one, out + b * rowy, rowy * sizeof(float)) == 0 &&
			    tokens_equal(&md, one, out + b * rowy);
		ok(all_same, "%s: fast mode: 8 copies of one z decode to its single decode's tokens", kind);
	}

	/* Seeded sampling replays, and row b of a batch replays alone from its own stream. */
	model_decode(&md, z, 8, NULL, 1.0f, 77, out, err, sizeof err);
	model_decode(&md, z, 1, NULL, 1.0f, 77, one, err, sizeof err);
	ok(memcmp(one, out, rowy * sizeof(float)) == 0, "%s: same seed, same samples", kind);
	model_decode(&md, z + 3 * md.vae.z_dim, 1, NULL, 1.0f, 77 + 0x9e3779b97f4a7c15ULL * 3, one, err,
	    sizeof err);
	ok(memcmp(one, out + 3 * rowy, rowy * sizeof(float)) == 0, "%s: batch row 3 replays alone", kind);
	model_decode(&md, z, 1, NULL, 1.0f, 78, tmp, err, sizeof err);
	ok(memcmp(tmp, out, rowy * sizeof(float)) != 0, "%s: another seed, other samples", kind);
	{
		float zb[2 * 24];
		nn_set_mode(NN_EXACT);
		model_encode(&md, &s, 1, NULL, z1, err, sizeof err);
		model_encode(&md, (struct seq[]){ s, s }, 2, NULL, zb, err, sizeof err);
		nn_set_mode(NN_FAST);
		ok(memcmp(zb, zb + md.vae.z_dim, md.vae.z_dim * sizeof(float)) == 0 &&
		    memcmp(zb, z1, md.vae.z_dim * sizeof(float)) == 0,
		    "%s: exact mode: encoding a batch equals encoding alone", kind);
	}
	seq_fini(&s);
	free(out);
	free(one);
	free(tmp);
	model_close(&md);
}

/* A model opened for one row (as the daemon opens them) grows to 8 decoder rows: one batched call, the
 * same bits as 8 single decodes, no allocation per step. */
static void
check_reserve(void)
{
	char dir[256], err[512];
	struct model md;
	struct rng r;
	float z[8 * 24], *out, *one;
	size_t rowy;
	int same = 1;
	long calls;

	snprintf(dir, sizeof dir, "%s/mel", tmpl);
	if (!ok(model_open(&md, dir, 1, err, sizeof err) == 0 && model_reserve(&md, 8, err, sizeof err) == 0,
	    "model_reserve: a model opened for 1 row takes 8")) {
		diag("%s", err);
		skip(2, "no model");
		return;
	}
	rowy = (size_t)md.vae.num_steps * md.vae.out_depth;
	out = calloc(8 * rowy, sizeof(float));
	one = calloc(rowy, sizeof(float));
	rng_seed(&r, 11);
	random_z(&r, z, 8 * md.vae.z_dim);
	model_decode(&md, z, 8, NULL, 0.0f, 0, out, err, sizeof err);
	for (int b = 0; b < 8; b++) {
		model_decode(&md, z + b * md.vae.z_dim, 1, NULL, 0.0f, 0, one, err, sizeof err);
		same &= memcmp(one, out + b * rowy, rowy * sizeof(float)) == 0;
	}
	ok(same && md.dec.max_b == 8, "model_reserve: 8 rows in one call equal 8 single decodes");
	alloccount_start();
	dec_begin(&md.dec, 8, z, NULL, 0.0f, 0);
	while (dec_step(&md.dec) >= 0)
		;
	calls = alloccount_stop();
	if (ALLOCCOUNT_AVAILABLE)
		is_int(calls, 0, "model_reserve: 8 rows decode without an allocator call");
	else
		skip(1, "the sanitizer owns the allocator");
	free(out);
	free(one);
	model_close(&md);
}

int
main(void)
{
	char cmd[512];

	plan(42);
	if (mkdtemp(tmpl) == NULL)
		return 1;
	check_kind("mel");
	check_reserve();
	check_kind("melhier");
	check_kind("drums");
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpl);
	if (system(cmd) != 0)
		diag("could not remove %s", tmpl);
	return done_testing();
}
