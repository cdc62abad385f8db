/* SPDX-License-Identifier: GPL-3.0-or-later */
/* dataset_valid.c: an honest validation split: validation windows within a Hamming distance of a train window
 * are dropped (found through exact block hashes, pigeonhole), and one kind of source can be capped to a share
 * of the train windows. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hash.h"
#include "dataset.h"

/* A block's hash and its window. */
struct dataset_key {
	uint64_t h;
	uint32_t w;
};

static int
dataset_key_cmp(const void *a, const void *b)
{
	const struct dataset_key *p = a, *q = b;

	if (p->h != q->h)
		return p->h < q->h ? -1 : 1;
	return (p->w > q->w) - (p->w < q->w);
}

/* FNV-1a of the tokens at steps b, b + k, b + 2k, ... */
static uint64_t
dataset_block_hash(const uint16_t *tok, int T, int b, int k)
{
	uint64_t h = HASH_FNV1A_INIT;

	for (int t = b; t < T; t += k)
		h = hash_fnv1a(h, &tok[t], sizeof *tok);
	return h;
}

/* Steps where a and b differ, counted up to D + 1. */
static int
dataset_distance(const uint16_t *a, const uint16_t *b, int T, int D)
{
	int n = 0;

	for (int t = 0; t < T && n <= D; t++)
		n += a[t] != b[t];
	return n;
}

/* Keeps the windows with keep[w] (order kept) and drops the others. */
static void
dataset_compact(struct dataset *d, const unsigned char *keep)
{
	size_t T = (size_t)d->num_steps, m = 0;

	for (size_t w = 0; w < d->count; w++) {
		if (!keep[w])
			continue;
		if (m != w) {
			memmove(d->tokens + m * T, d->tokens + w * T, T * sizeof *d->tokens);
			d->source[m] = d->source[w];
			d->split[m] = d->split[w];
			d->transpose[m] = d->transpose[w];
			if (d->groove != NULL)
				memmove(dataset_groove(d, m), dataset_groove(d, w), dataset_groove_bytes(d));
		}
		m++;
	}
	d->count = m;
}

/* Smallest distance (up to D + 1) of window v to the train windows indexed in key[K][n]. */
static int
dataset_nearest(const struct dataset *d, const struct dataset_key *key, size_t n, int K, size_t v, int D)
{
	const int T = d->num_steps;
	const uint16_t *tv = d->tokens + v * (size_t)T;
	int best = D + 1;

	for (int b = 0; b < K; b++) {
		const struct dataset_key *kb = key + (size_t)b * n;
		uint64_t h = dataset_block_hash(tv, T, b, K);
		size_t lo = 0, hi = n;
		while (lo < hi) {       /* first entry of hash h */
			size_t mid = lo + (hi - lo) / 2;
			if (kb[mid].h < h)
				lo = mid + 1;
			else
				hi = mid;
		}
		/* block 0 is searched for an exact copy (it agrees on every block); past it, any near one will do */
		for (; lo < n && kb[lo].h == h && (b == 0 ? best > 0 : best > D); lo++) {
			int dist = dataset_distance(tv, d->tokens + (size_t)kb[lo].w * T, T, best - 1);
			best = dist < best ? dist : best;
		}
		if (best <= D)
			break;
	}
	return best;
}

int
dataset_filter_valid(struct dataset *d, int D, long *exact, long *near, char *err, size_t errlen)
{
	const int K = D + 1, T = d->num_steps;
	size_t n = 0, m = 0;
	struct dataset_key *key;
	unsigned char *keep;

	*exact = *near = 0;
	for (size_t w = 0; w < d->count; w++)
		n += d->split[w] == DATASET_TRAIN;
	key = malloc(((size_t)K * n + 1) * sizeof *key);
	keep = malloc(d->count + 1);
	if (key == NULL || keep == NULL) {
		free(key);
		free(keep);
		return err_fail(err, errlen, "out of memory");
	}
	for (size_t w = 0; w < d->count; w++) {
		keep[w] = 1;
		if (d->split[w] != DATASET_TRAIN)
			continue;
		for (int b = 0; b < K; b++)
			key[(size_t)b * n + m] = (struct dataset_key){ dataset_block_hash(d->tokens + w * T, T, b, K),
			    (uint32_t)w };
		m++;
	}
	for (int b = 0; b < K; b++)
		qsort(key + (size_t)b * n, n, sizeof *key, dataset_key_cmp);
	for (size_t v = 0; v < d->count && n > 0; v++) {
		int dist;
		if (d->split[v] != DATASET_VALID || (dist = dataset_nearest(d, key, n, K, v, D)) > D)
			continue;
		keep[v] = 0;
		*(dist == 0 ? exact : near) += 1;
		d->sources[d->source[v]].near++;
	}
	dataset_compact(d, keep);
	free(key);
	free(keep);
	return 0;
}

int
dataset_cap(struct dataset *d, const char *kind, int percent, struct dataset_stats *st, char *err,
    size_t errlen)
{
	size_t T = (size_t)d->num_steps, n = 0, nk = 0, keep_k;
	struct dataset_key *key;
	unsigned char *keep;

	for (size_t w = 0; w < d->count; w++)
		if (d->split[w] == DATASET_TRAIN) {
			n++;
			nk += strcmp(d->sources[d->source[w]].kind, kind) == 0;
		}
	st->train_before = (long)n;
	st->cap_before = (long)nk;
	st->cap_dropped = 0;
	if (percent >= 100 || nk * 100 <= (size_t)percent * n)
		return 0;
	keep_k = (size_t)percent * (n - nk) / (size_t)(100 - percent);  /* keep_k / (n - nk + keep_k) <= percent */
	key = malloc((nk + 1) * sizeof *key);
	keep = malloc(d->count + 1);
	if (key == NULL || keep == NULL) {
		free(key);
		free(keep);
		return err_fail(err, errlen, "out of memory");
	}
	nk = 0;
	for (size_t w = 0; w < d->count; w++) {
		keep[w] = 1;
		if (d->split[w] == DATASET_TRAIN && strcmp(d->sources[d->source[w]].kind, kind) == 0)
			key[nk++] = (struct dataset_key){ hash_fnv1a(HASH_FNV1A_INIT, d->tokens + w * T,
			    T * sizeof *d->tokens), (uint32_t)w };
	}
	qsort(key, nk, sizeof *key, dataset_key_cmp);
	for (size_t i = keep_k; i < nk; i++) {
		keep[key[i].w] = 0;
		d->sources[d->source[key[i].w]].capped++;
	}
	st->cap_dropped = (long)(nk - keep_k);
	dataset_compact(d, keep);
	free(key);
	free(keep);
	return 0;
}
