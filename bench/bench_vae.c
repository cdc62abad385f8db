/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench_vae.c: encode and decode times of one checkpoint next to the memory-bandwidth bound of its decoder,
 * printed as one JSON line (bench/run-bench puts it beside @magenta/music's figures). */
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"
#include "rng.h"

#define BW_BYTES ((size_t)1 << 30)
#define BW_THREADS_MAX 16

struct bw_part {
	const float *p;
	size_t n;
	double sum;
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Reads its part as eight sub-ranges in lockstep (the decoder's kernels stream eight weight rows at once)
 * into independent XOR chains of 64-bit words. One sequential float-sum stream, as measured before, gave
 * about half the read bandwidth the decoder itself reaches, so the "bound" was not one. */
static void *
bw_sum(void *arg)
{
	struct bw_part *b = arg;
	const uint64_t *p = (const void *)b->p;
	size_t n = b->n / 2 / 8;
	uint64_t s[8] = { 0 };

	for (size_t i = 0; i + 2 <= n; i += 2)
		for (int k = 0; k < 8; k++)
			s[k] ^= p[k * n + i] ^ p[k * n + i + 1];
	b->sum = (double)(s[0] ^ s[1] ^ s[2] ^ s[3] ^ s[4] ^ s[5] ^ s[6] ^ s[7]);
	return NULL;
}

/* Best-of-5 read bandwidth (bytes/ms) over 1 GiB with `threads` readers, like the decoder's BLAS calls. */
static double
bw_measure(int threads)
{
	size_t n = BW_BYTES / sizeof(float);
	float *buf = malloc(BW_BYTES);
	struct bw_part part[BW_THREADS_MAX];
	pthread_t tid[BW_THREADS_MAX];
	double best = 0, sink = 0;

	for (size_t i = 0; i < n; i++)
		buf[i] = (float)(i & 7);
	for (int rep = 0; rep < 5; rep++) {
		double t0 = now_ms(), ms;
		for (int k = 0; k < threads; k++) {
			part[k] = (struct bw_part){ buf + n / threads * k, n / threads, 0 };
			pthread_create(&tid[k], NULL, bw_sum, &part[k]);
		}
		for (int k = 0; k < threads; k++) {
			pthread_join(tid[k], NULL);
			sink += part[k].sum;
		}
		ms = now_ms() - t0;
		if (BW_BYTES / ms > best)
			best = BW_BYTES / ms;
	}
	free(buf);
	if (sink == 42.0)
		puts("");
	return best;
}

/* Weight bytes one decoder step reads: every core LSTM kernel and projection (and the conductor's, spread
 * over its segments). Initial-state projections are read once per decode, not per step. */
static double
decode_bytes_per_step(const struct vae *m)
{
	double b = 0;

	for (int i = 0; i < m->n_cores; i++) {
		const struct vae_core *c = &m->core[i];
		for (int l = 0; l < c->n_layers; l++)
			b += 4.0 * (c->cell[l].in + c->cell[l].units) * 4 * c->cell[l].units;
		b += 4.0 * c->proj.in * c->proj.out;
	}
	return b;
}

/* GFLOP/s of nn_matmul for 8 rows on a product that stays in cache (512 x 1024 weights, 2 MB): the ceiling
 * of the 8-candidate decode when its weights do not come from memory. Best of 200. */
static double
gemm8_cache_gflops(void)
{
	enum { K = 512, N = 1024 };
	float *x = calloc((size_t)8 * K, sizeof(float)), *W = calloc((size_t)K * N, sizeof(float));
	float *y = calloc((size_t)8 * N, sizeof(float));
	double best = 1e30;

	for (int i = 0; i < 8 * K; i++)
		x[i] = (float)(i % 13) * 0.1f + 0.05f;
	for (int i = 0; i < K * N; i++)
		W[i] = (float)(i % 7) * 0.01f;
	for (int rep = 0; rep < 200; rep++) {
		double t0 = now_ms(), ms;
		nn_matmul(8, K, N, x, W, y);
		ms = now_ms() - t0;
		best = ms < best ? ms : best;
	}
	free(x);
	free(W);
	free(y);
	return 2.0 * 8 * K * N / best / 1e6;
}

/* One core's fused multiply-add peak in GFLOP/s: 12 independent chains of 512-bit FMAs (256-bit without
 * AVX-512; 0 without FMA), enough to cover the FMA latency on two pipes. Best of 5 runs of 20 M rounds: the
 * figure against which a decode's GFLOP/s says how far from the arithmetic limit it runs. */
#define FMA_ROUNDS 20000000L
#define FMA_EACH(M, ...) M(0, __VA_ARGS__) M(1, __VA_ARGS__) M(2, __VA_ARGS__) M(3, __VA_ARGS__) M(4, __VA_ARGS__) \
	M(5, __VA_ARGS__) M(6, __VA_ARGS__) M(7, __VA_ARGS__) M(8, __VA_ARGS__) M(9, __VA_ARGS__) M(10, __VA_ARGS__) \
	M(11, __VA_ARGS__)
#define FMA_DECL(i, V, set1) V a##i = set1((float)(i));
#define FMA_STEP(i, fmadd) a##i = fmadd(a##i, b, c);
#define FMA_SUM(i, store, L) store(v, a##i); for (int j = 0; j < (L); j++) sum += v[j];
#define FMA_PEAK_FN(name, isa, V, L, set1, fmadd, store) \
__attribute__((target(isa))) static double \
name(void) \
{ \
	double best = 1e30; \
	float v[L], sum = 0.0f; \
	V b = set1(0.999f), c = set1(1e-6f); \
	FMA_EACH(FMA_DECL, V, set1) \
	for (int rep = 0; rep < 5; rep++) { \
		double t0 = now_ms(), ms; \
		for (long k = 0; k < FMA_ROUNDS; k++) { \
			FMA_EACH(FMA_STEP, fmadd) \
			__asm__ volatile("" ::: "memory"); \
		} \
		ms = now_ms() - t0; \
		best = ms < best ? ms : best; \
	} \
	FMA_EACH(FMA_SUM, store, L) \
	return sum == 12345.0f ? 0.0 : 2.0 * (L) * 12 * FMA_ROUNDS / best / 1e6;      /* sum: keeps the chains */ \
}

FMA_PEAK_FN(fma_peak512, "avx512f", __m512, 16, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_storeu_ps)
FMA_PEAK_FN(fma_peak256, "avx2,fma", __m256, 8, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_storeu_ps)

static double
fma_peak_gflops(void)
{
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f"))
		return fma_peak512();
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? fma_peak256() : 0.0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return v[n / 2];
}

int
main(int argc, char **argv)
{
	struct model md;
	struct rng r;
	struct seq s;
	char err[1024];
	int reps = argc > 2 ? atoi(argv[2]) : 5, threads = argc > 3 ? atoi(argv[3]) : 2;
	double t_enc[64], t_dec[64], t_dec8[64], bw, bytes, dec8;
	float *z, *out;

	if (argc < 2 || reps < 1 || reps > 64 || threads < 1 || threads > BW_THREADS_MAX) {
		fprintf(stderr, "usage: bench_vae CKPT_DIR [REPS (5)] [THREADS (2)]\n");
		return 2;
	}
	nn_set_threads(threads);
	if (model_open(&md, argv[1], 8, err, sizeof err) < 0) {
		fprintf(stderr, "bench_vae: %s\n", err);
		return 1;
	}
	z = calloc((size_t)8 * md.vae.z_dim, sizeof(float));
	out = calloc((size_t)8 * md.vae.num_steps * md.vae.out_depth, sizeof(float));
	rng_seed(&r, 7);
	for (int i = 0; i < 8 * md.vae.z_dim; i++)
		z[i] = (float)rng_normal(&r);
	seq_init(&s);
	s.steps_per_quarter = 4;
	s.total_steps = md.vae.num_steps;
	for (int t = 0; t < md.vae.num_steps; t += 2) {
		struct note n = { .pitch = 60 + t % 12, .velocity = 90, .start = t, .end = t + 2,
		    .is_drum = md.vae.codec.type != CODEC_MELODY };
		n.pitch = n.is_drum ? 36 + (t % 3) * 2 : n.pitch;
		seq_add(&s, &n);
	}
	for (int k = -1; k < reps; k++) {       /* k = -1 warms up */
		double t0 = now_ms(), t1, t2, t3;
		if (model_encode(&md, &s, 1, NULL, z, err, sizeof err) < 0) {
			fprintf(stderr, "bench_vae: encode: %s\n", err);
			return 1;
		}
		t1 = now_ms();
		model_decode(&md, z, 1, NULL, 0.0f, 1, out, err, sizeof err);
		t2 = now_ms();
		model_decode(&md, z, 8, NULL, 0.0f, 1, out, err, sizeof err);
		t3 = now_ms();
		if (k >= 0) {
			t_enc[k] = t1 - t0;
			t_dec[k] = t2 - t1;
			t_dec8[k] = t3 - t2;
		}
	}
	bw = bw_measure(threads);
	bytes = decode_bytes_per_step(&md.vae) * md.vae.num_steps;
	dec8 = median(t_dec8, reps);
	printf("{\"ckpt\": \"%s\", \"z\": %d, \"steps\": %d, \"encode_ms\": %.3f, \"decode_ms\": %.3f, "
	    "\"decode8_ms\": %.3f, \"decode_weight_bytes\": %.0f, \"bandwidth_GBps\": %.2f, "
	    "\"decode_bound_ms\": %.3f, \"decode8_gflops\": %.1f, \"gemm8_cache_gflops\": %.1f, "
	    "\"fma_peak_gflops\": %.1f, \"threads\": %d}\n", argv[1], md.vae.z_dim, md.vae.num_steps, median(t_enc, reps),
	    median(t_dec, reps), dec8, bytes, bw / 1e6, bytes / bw, 2.0 * 8 * bytes / 4 / dec8 / 1e6,
	    gemm8_cache_gflops(), fma_peak_gflops(), threads);
	seq_fini(&s);
	free(z);
	free(out);
	model_close(&md);
	return 0;
}
