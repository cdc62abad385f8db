/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_lat.c: latent arithmetic: tfjs linspace rounding, lerp, slerp, attributes, seeded sampling. */
#include <math.h>
#include <string.h>

#include "lat.h"
#include "tap.h"

static double
norm(const float *v, int n)
{
	double s = 0;

	for (int i = 0; i < n; i++)
		s += (double)v[i] * v[i];
	return sqrt(s);
}

int
main(void)
{
	enum { Z = 64 };
	float a[Z], b[Z], o[Z], o2[Z], v[Z];
	const float *vecs[1] = { v };
	float amt[1] = { -2.0f };
	struct rng r1, r2;
	double mean = 0, var = 0;

	plan(14);
	ok(lat_linspace(11, 10) == 1.0000001192092896f, "linspace(0,1,11) ends at 1.0000001192 as tfjs's does");
	ok(lat_linspace(2, 1) == 1.0f && lat_linspace(5, 0) == 0.0f, "linspace ends for n = 2 and starts at 0");
	rng_seed(&r1, 3);
	rng_seed(&r2, 3);
	lat_sample(&r1, Z, a);
	lat_sample(&r2, Z, o);
	ok(memcmp(a, o, sizeof a) == 0, "the same seed gives the same z");
	lat_sample(&r1, Z, b);
	ok(memcmp(a, b, sizeof a) != 0, "the stream moves on");
	lat_lerp(Z, a, b, 0.0f, o);
	ok(memcmp(o, a, sizeof a) == 0, "lerp at 0 is z0");
	lat_lerp(Z, a, b, 0.5f, o);
	is_float(o[7], (float)((float)(0.5f * (float)(b[7] - a[7])) + a[7]), 0, "lerp rounds like magenta.js");
	lat_slerp(Z, a, b, 0.0f, o);
	lat_slerp(Z, a, b, 1.0f, o2);
	ok(fabs(o[3] - a[3]) < 1e-5 && fabs(o2[3] - b[3]) < 1e-5, "slerp ends at z0 and z1");
	lat_slerp(Z, a, a, 0.5f, o);
	is_float(o[0], a[0], 1e-6, "slerp of parallel vectors falls back to lerp");
	memcpy(b, a, sizeof a);
	b[0] = -a[0];
	lat_slerp(Z, a, b, 0.5f, o);
	is_float(norm(o, Z), norm(a, Z), 1e-3 * norm(a, Z), "slerp between equal-norm vectors keeps the norm");
	for (int i = 0; i < Z; i++)
		v[i] = (float)i;
	memcpy(o, a, sizeof a);
	lat_add_attributes(Z, o, 1, vecs, amt);
	is_float(o[10], a[10] - 20.0f, 1e-5, "attribute arithmetic adds amount x vector");
	lat_similar(&r1, Z, a, 1.0f, o);
	ok(memcmp(o, a, sizeof a) == 0, "similarity 1 keeps z");
	rng_seed(&r1, 99);
	for (int i = 0; i < 100000; i++) {
		double x = rng_normal(&r1);
		mean += x;
		var += x * x;
	}
	mean /= 100000;
	var = var / 100000 - mean * mean;
	is_float(mean, 0.0, 0.02, "normal samples have mean 0");
	is_float(var, 1.0, 0.03, "normal samples have variance 1");
	{
		double lo = 1, hi = 0;
		for (int i = 0; i < 100000; i++) {
			double u = rng_uniform(&r1);
			lo = u < lo ? u : lo;
			hi = u > hi ? u : hi;
		}
		ok(lo >= 0.0 && hi < 1.0 && lo < 0.001 && hi > 0.999, "uniform covers [0, 1)");
	}
	return done_testing();
}
