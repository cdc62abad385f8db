/* SPDX-License-Identifier: GPL-3.0-or-later */
/* lat.h: latent-space arithmetic: prior samples, similar, linear (magenta.js) and spherical interpolation,
 * attribute vectors. Pure functions over caller-owned [Z] vectors. */
#ifndef MVD_LAT_H
#define MVD_LAT_H

#include "rng.h"

/* z[Z] ~ N(0, I). */
void lat_sample(struct rng *r, int Z, float *z);
/* out = z * sim + N(0, I) * (1 - sim), as magenta.js's similar(). */
void lat_similar(struct rng *r, int Z, const float *z, float sim, float *out);
/* tf.linspace(0, 1, n)[i], accumulated in float32 as tfjs does (n >= 2). */
float lat_linspace(int n, int i);
/* out = (float)((float)(t * (float)(z1 - z0)) + z0), magenta.js's interpolate(). */
void lat_lerp(int Z, const float *z0, const float *z1, float t, float *out);
/* Spherical interpolation (Shoemake), falling back to lerp when z0 and z1 are nearly parallel. */
void lat_slerp(int Z, const float *z0, const float *z1, float t, float *out);
/* z += sum over k of amount[k] * vec[k][Z]. */
void lat_add_attributes(int Z, float *z, int n, const float *const *vec, const float *amount);

#endif
