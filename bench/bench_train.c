/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench_train.c: training throughput (samples/s) of `musicvae train`'s step at the default model sizes, on
 * random windows, for melody and drums. Usage: bench_train [STEPS] [THREADS] [BATCH]; one JSON line per kind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"
#include "train_int.h"

static double
bench_kind(int kind, int steps, int threads, int batch, struct train_hp *hp)
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

	for (int kind = 0; kind < 2; kind++) {
		struct train_hp hp;
		double sps = bench_kind(kind, steps, threads, batch, &hp);
		printf("{\"kind\": \"%s\", \"z\": %d, \"enc_units\": %d, \"dec\": \"%dx%d\", \"batch\": %d, \"threads\": %d, "
		    "\"samples_per_s\": %.1f, \"ms_per_step\": %.1f}\n", kind ? "drums" : "melody", hp.z, hp.enc_units,
		    hp.dec_layers, hp.dec_units, hp.batch, threads, sps, 1e3 * hp.batch / sps);
		fflush(stdout);
	}
	return 0;
}
