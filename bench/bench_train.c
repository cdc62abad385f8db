/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench_train.c: training throughput (samples/s) of `musicvae train`'s step on random windows, for melody and
 * drums at the default sizes and melody at Magenta's cat-mel_2bar_small shape (encoder 512, decoder 2 x 256,
 * z 256), with the achieved GFLOP/s of the step next to OpenBLAS sgemm's peak on square matrices measured in
 * the same run with the same threads. Usage: bench_train [STEPS] [THREADS] [BATCH]; one JSON line per model
 * and one per peak measurement. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "train.h"
#include "train_int.h"

/* FLOPs of one training step, 2 M N K per product, counted from the shapes (T = 32 steps, B rows):
 *   LSTM layer (K inputs, U units), per step: forward 2 B (K + U) 4U; backward: weight gradient
 *     2 B (K + U) 4U, input gradient 2 B (K + U - k0) 4U over the columns that need one (encoder: the h
 *     columns only, k0 = K, its input is data; decoder layer 0: z and h, k0 = D, the one-hot is data;
 *     decoder layers above: all, k0 = 0). Encoder: 2 directions with K = D_in, U = Ue; decoder: L layers,
 *     K = D + Z then Ud, U = Ud.
 *   output layer, per step: forward 2 B Ud D, backward 2 x 2 B Ud D (weight and input gradients).
 *   once per batch: mu and sigma 2 x 2 B 2Ue Z forward, twice that backward; z_to_initial_state 2 B Z 2LUd
 *     forward, twice that backward.
 * Elementwise work (gates, softmax, Adam) is not counted: the count is of matrix products only. */
static double
bench_flops(const struct train_hp *hp, int B)
{
	int T = 32, D = hp->kind == DATASET_DRUMS ? DATASET_DRUM_CLASSES : DATASET_MEL_CLASSES;
	int Din = hp->kind == DATASET_DRUMS ? 10 : DATASET_MEL_CLASSES, Ue = hp->enc_units, Ud = hp->dec_units;
	int Z = hp->z, L = hp->dec_layers;
	double f = 0.0, b = B;

	f += 2 * T * (2 * b * (Din + Ue) * 4 * Ue * 2 + 2 * b * Ue * 4 * Ue);
	for (int l = 0; l < L; l++) {
		int K = l ? Ud : D + Z, k0 = l ? 0 : D;
		f += T * (2 * b * (K + Ud) * 4 * Ud * 2 + 2 * b * (K + Ud - k0) * 4 * Ud);
	}
	f += T * 3 * 2 * b * Ud * D;
	f += 3 * (2 * 2 * b * 2 * Ue * Z + 2 * b * Z * 2 * L * Ud);
	return f;
}

/* OpenBLAS sgemm on n x n x n with the bench's threads: the best of 3 timed runs after a warm-up, GFLOP/s. */
static double
bench_peak(int n, int threads)
{
	float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
	double best = 0.0;

	if (a == NULL || b == NULL || c == NULL) {
		fprintf(stderr, "bench_train: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < (size_t)n * n; i++)
		a[i] = (float)(i % 7) * 0.1f, b[i] = (float)(i % 5) * 0.1f, c[i] = 0.0f;
	openblas_set_num_threads(threads);
	for (int rep = -1; rep < 3; rep++) {
		double t0 = train_now(), dt;
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
		dt = train_now() - t0;
		if (rep >= 0 && 2.0 * n * n * n / dt / 1e9 > best)
			best = 2.0 * n * n * n / dt / 1e9;
	}
	free(a);
	free(b);
	free(c);
	return best;
}

/* The best peak over the square sizes of the trainer's big products (its weight-gradient GEMMs are ~600 to
 * 2048 on a side), printed as one JSON line. */
static double
bench_peaks(int threads, const char *when)
{
	static const int sizes[] = { 1024, 2048 };
	double best = 0.0, g[2];

	for (int i = 0; i < 2; i++) {
		g[i] = bench_peak(sizes[i], threads);
		best = g[i] > best ? g[i] : best;
	}
	printf("{\"sgemm_peak\": \"%s\", \"threads\": %d, \"gflops_1024\": %.1f, \"gflops_2048\": %.1f}\n", when,
	    threads, g[0], g[1]);
	fflush(stdout);
	return best;
}

static double
bench_kind(int kind, int steps, int threads, int batch, int small, struct train_hp *hp)
{
	struct train_model m;
	struct train_buf b;
	struct train_sched s = { 1e-3, 0.1, 0.0, 0.0, 1.0, 1e4, 1.0f, 1 };
	struct train_metrics mt;
	struct dataset d;
	struct rng r;
	size_t rows[4096];
	char err[256];
	double t0 = 0.0;

	train_hp_init(hp, kind);
	if (small) {    /* cat-mel_2bar_small */
		hp->z = 256;
		hp->enc_units = 512;
		hp->dec_units = 256;
		hp->dec_layers = 2;
	}
	hp->threads = threads;
	if (batch > 0)
		hp->batch = batch;
	memset(&d, 0, sizeof d);
	d.kind = kind;
	d.num_steps = 32;
	d.count = 1024;
	d.tokens = calloc(d.count * 32, sizeof *d.tokens);
	rng_seed(&r, 1);
	for (size_t i = 0; i < d.count * 32; i++)
		d.tokens[i] = (uint16_t)(rng_next(&r) % (kind == DATASET_DRUMS ? 512 : 90));
	if (d.tokens == NULL || train_model_init(&m, hp, err, sizeof err) < 0 || train_buf_init(&b, &m, hp->batch) < 0) {
		fprintf(stderr, "bench_train: %s\n", err);
		exit(1);
	}
	nn_set_threads(threads);
	for (int it = -2; it < steps; it++) {
		if (it == 0)
			t0 = train_now();
		for (int k = 0; k < hp->batch; k++)
			rows[k] = rng_next(&r) % d.count;
		train_load_rows(&m, &b, &d, rows, hp->batch, kind);
		train_step_batch(&m, &b, hp->batch, &s, &r, &mt);
		s.t++;
	}
	t0 = train_now() - t0;
	train_buf_fini(&b);
	train_model_fini(&m);
	free(d.tokens);
	return steps * (double)hp->batch / t0;
}

int
main(int argc, char **argv)
{
	int steps = argc > 1 ? atoi(argv[1]) : 10, threads = argc > 2 ? atoi(argv[2]) : 1;
	int batch = argc > 3 ? atoi(argv[3]) : 0;
	double peak = bench_peaks(threads, "before"), p2;
	struct { int kind, small; double sps, flops; struct train_hp hp; } run[3] = { { .kind = 0 }, { .kind = 1 }, { .kind = 0, .small = 1 } };

	for (int i = 0; i < 3; i++) {
		struct train_hp *hp = &run[i].hp;
		run[i].sps = bench_kind(run[i].kind, steps, threads, batch, run[i].small, hp);
		run[i].flops = bench_flops(hp, hp->batch);
	}
	p2 = bench_peaks(threads, "after");
	peak = p2 > peak ? p2 : peak;
	for (int i = 0; i < 3; i++) {
		struct train_hp *hp = &run[i].hp;
		double gf = run[i].flops * run[i].sps / hp->batch / 1e9;
		printf("{\"kind\": \"%s\", \"shape\": \"%s\", \"z\": %d, \"enc_units\": %d, \"dec\": \"%dx%d\", "
		    "\"batch\": %d, \"threads\": %d, \"samples_per_s\": %.1f, \"ms_per_step\": %.1f, "
		    "\"gflop_per_step\": %.2f, \"gflops\": %.1f, \"sgemm_peak_gflops\": %.1f, \"pct_of_peak\": %.1f}\n",
		    run[i].kind ? "drums" : "melody", run[i].small ? "cat-mel_2bar_small" : "default", hp->z,
		    hp->enc_units, hp->dec_layers, hp->dec_units, hp->batch, threads, run[i].sps,
		    1e3 * hp->batch / run[i].sps, run[i].flops / 1e9, gf, peak, 100.0 * gf / peak);
	}
	return 0;
}
