/* SPDX-License-Identifier: GPL-3.0-or-later */
/* lat.c: latent-space arithmetic in float32, with the rounding magenta.js uses where it defines one. */
#include <math.h>

#include "lat.h"

void
lat_sample(struct rng *r, int Z, float *z)
{
	for (int i = 0; i < Z; i++)
		z[i] = (float)rng_normal(r);
}

void
lat_similar(struct rng *r, int Z, const float *z, float sim, float *out)
{
	float keep = sim, noise = 1.0f - sim;

	for (int i = 0; i < Z; i++)
		out[i] = z[i] * keep + (float)rng_normal(r) * noise;
}

float
lat_linspace(int n, int i)
{
	double step = 1.0 / (double)(n - 1);
	float v = 0.0f;

	for (int k = 0; k < i; k++)
		v = (float)((double)v + step);
	return v;
}

void
lat_lerp(int Z, const float *z0, const float *z1, float t, float *out)
{
	for (int i = 0; i < Z; i++) {
		float d = z1[i] - z0[i];
		float s = t * d;
		out[i] = s + z0[i];
	}
}

void
lat_slerp(int Z, const float *z0, const float *z1, float t, float *out)
{
	double dot = 0.0, n0 = 0.0, n1 = 0.0, omega, so, a, b;

	for (int i = 0; i < Z; i++) {
		dot += (double)z0[i] * z1[i];
		n0 += (double)z0[i] * z0[i];
		n1 += (double)z1[i] * z1[i];
	}
	if (n0 == 0.0 || n1 == 0.0) {
		lat_lerp(Z, z0, z1, t, out);
		return;
	}
	dot /= sqrt(n0 * n1);
	if (dot > 1.0)
		dot = 1.0;
	if (dot < -1.0)
		dot = -1.0;
	omega = acos(dot);
	so = sin(omega);
	if (so < 1e-6) {
		lat_lerp(Z, z0, z1, t, out);
		return;
	}
	a = sin((1.0 - t) * omega) / so;
	b = sin(t * omega) / so;
	for (int i = 0; i < Z; i++)
		out[i] = (float)(a * z0[i] + b * z1[i]);
}

void
lat_add_attributes(int Z, float *z, int n, const float *const *vec, const float *amount)
{
	for (int k = 0; k < n; k++) {
		if (amount[k] == 0.0f)
			continue;
		for (int i = 0; i < Z; i++)
			z[i] += amount[k] * vec[k][i];
	}
}
