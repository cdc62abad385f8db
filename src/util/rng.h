/* SPDX-License-Identifier: GPL-3.0-or-later */
/* rng.h: a small seeded generator (xoshiro256**) so that every sample can be replayed from its seed. */
#ifndef MVD_RNG_H
#define MVD_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s[4];
	int have_spare;         /* Box-Muller keeps its second value */
	double spare;
};

/* Seeds the state from one 64-bit value (splitmix64 expansion); equal seeds give equal streams. */
void rng_seed(struct rng *r, uint64_t seed);
/* Next 64 random bits. */
uint64_t rng_next(struct rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
double rng_uniform(struct rng *r);
/* Standard normal sample (Box-Muller). */
double rng_normal(struct rng *r);

#endif
