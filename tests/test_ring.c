/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_ring.c: the one-writer/one-reader ring, alone and across two threads: the copying API (push, pop,
 * peek) and the zero-copy one (claim/publish, peek_ptr/drop), full, empty, wrap-around of the slots and of
 * the free-running counters, and a seeded two-thread stress run (TEST_RING_SEED=N repeats a seed). */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ring.h"
#include "tap.h"

#define N_RECORDS 2000000u
#define N_STRESS 300000u

struct rec { uint32_t seq; uint8_t pad[12]; };

static void *
writer(void *arg)
{
	struct ring *r = arg;
	struct rec x;

	memset(&x, 0, sizeof x);
	for (uint32_t i = 0; i < N_RECORDS; ) {
		x.seq = i;
		x.pad[0] = (uint8_t)i;
		if (ring_push(r, &x) == 0)
			i++;
	}
	return NULL;
}

/* ---- the zero-copy stress run ---- */

struct big { uint32_t seq; uint32_t sum; uint8_t data[120]; };

struct stress {
	struct ring r;
	uint64_t seed;
	uint32_t w_bad;         /* writer: claim moved, or publish refused after a claim */
	uint32_t w_full;        /* writer: claims refused (the ring was full) */
};

static uint64_t
splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15u);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

static void
big_fill(struct big *b, uint32_t seq)
{
	uint32_t sum = 0;

	b->seq = seq;
	for (size_t k = 0; k < sizeof b->data; k++) {
		b->data[k] = (uint8_t)(seq * 31u + k);
		sum += b->data[k];
	}
	b->sum = sum ^ seq;
}

static int
big_check(const struct big *b, uint32_t seq)
{
	uint32_t sum = 0;

	if (b->seq != seq)
		return 0;
	for (size_t k = 0; k < sizeof b->data; k++) {
		if (b->data[k] != (uint8_t)(seq * 31u + k))
			return 0;
		sum += b->data[k];
	}
	return b->sum == (sum ^ seq);
}

/* Random pauses so that the two sides meet at every fill level, full and empty included. */
static void
jitter(uint64_t *rng)
{
	uint64_t x = splitmix(rng);

	if ((x & 0xFF) == 0)
		sched_yield();
	else if ((x & 0xF) == 0)
		for (volatile unsigned k = (unsigned)(x >> 8) & 63; k > 0; k--)
			;
}

static void *
stress_writer(void *arg)
{
	struct stress *s = arg;
	uint64_t rng = s->seed;

	for (uint32_t i = 0; i < N_STRESS; ) {
		struct big *b = ring_claim(&s->r);
		if (b == NULL) {
			s->w_full++;
			jitter(&rng);
			continue;
		}
		big_fill(b, i);
		if ((splitmix(&rng) & 7) == 0 && ring_claim(&s->r) != b)
			s->w_bad++;
		if (ring_publish(&s->r) < 0)
			s->w_bad++;
		i++;
		jitter(&rng);
	}
	return NULL;
}

static uint64_t
stress_seed(void)
{
	const char *env = getenv("TEST_RING_SEED");
	struct timespec ts;

	if (env != NULL && *env != '\0')
		return strtoull(env, NULL, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int
main(void)
{
	struct ring r;
	struct rec x, y;
	const struct rec *p, *q;
	struct rec *w, *w2;
	pthread_t t;
	uint32_t want = 0, bad = 0;
	int n;

	plan(37);
	/* ---- the copying API ---- */
	ok(ring_init(&r, 5, sizeof x) == 0, "init rounds 5 up");
	is_int(ring_space(&r), 8, "capacity is the next power of two");
	memset(&x, 0, sizeof x);
	for (n = 0; n < 8; n++) {
		x.seq = (uint32_t)n;
		if (ring_push(&r, &x) < 0)
			break;
	}
	is_int(n, 8, "eight records fit");
	ok(ring_push(&r, &x) == -1, "a full ring refuses the ninth");
	ok(ring_peek(&r, &y) == 0 && y.seq == 0, "peek sees the oldest");
	for (n = 0; ring_pop(&r, &y) == 0; n++)
		if (y.seq != (uint32_t)n)
			break;
	is_int(n, 8, "pop returns all eight in order");
	ok(ring_pop(&r, &y) == -1, "an empty ring refuses pop");
	ring_fini(&r);

	/* ---- layout ---- */
	ok(offsetof(struct ring, head) >= offsetof(struct ring, mask) + sizeof(size_t) + RING_CACHE_LINE &&
	    offsetof(struct ring, tail) >= offsetof(struct ring, tail_cache) + sizeof(size_t) + RING_CACHE_LINE &&
	    sizeof(struct ring) >= offsetof(struct ring, head_cache) + sizeof(size_t) + RING_CACHE_LINE,
	    "read-only fields, writer's pair and reader's pair are a cache line apart");

	/* ---- zero-copy: empty and full ---- */
	ok(ring_init(&r, 4, sizeof x) == 0, "init a ring of four");
	ok(ring_peek_ptr(&r) == NULL, "peek_ptr on an empty ring is NULL");
	ok(ring_drop(&r) == -1, "drop on an empty ring is refused");
	w = ring_claim(&r);
	ok(w != NULL && ring_claim(&r) == w, "claim gives a slot, and the same one until publish");
	w->seq = 100;
	ok(ring_peek_ptr(&r) == NULL && ring_count(&r) == 0, "a claimed record is invisible before publish");
	ok(ring_publish(&r) == 0 && ring_count(&r) == 1, "publish makes it the newest record");
	p = ring_peek_ptr(&r);
	ok(p != NULL && p == (const struct rec *)w && p->seq == 100, "peek_ptr points at it in place");
	for (n = 1; (w2 = ring_claim(&r)) != NULL; n++) {
		w2->seq = 100 + (uint32_t)n;
		ring_publish(&r);
	}
	is_int(n, 4, "claim/publish fills the ring to its capacity");
	ok(ring_claim(&r) == NULL && ring_publish(&r) == -1 && ring_push(&r, &x) == -1,
	    "a full ring refuses claim, publish and push");
	ok(ring_peek_ptr(&r) == p && p->seq == 100, "the peeked record stays put while the writer fills the ring");
	ok(ring_drop(&r) == 0 && ring_claim(&r) == (struct rec *)p,
	    "after drop the writer gets the oldest slot back");
	q = ring_peek_ptr(&r);
	ok(q != NULL && q->seq == 101 && ring_peek(&r, &y) == 0 && y.seq == 101 && ring_peek_ptr(&r) == q,
	    "peek_ptr and peek agree and neither consumes");
	for (n = 0; (q = ring_peek_ptr(&r)) != NULL; n++) {
		if (q->seq != 101u + (uint32_t)n)
			break;
		ring_drop(&r);
	}
	is_int(n, 3, "peek_ptr/drop drain the rest in order");
	ok(ring_peek_ptr(&r) == NULL && ring_drop(&r) == -1 && ring_count(&r) == 0 && ring_space(&r) == 4,
	    "drained: empty again, all four slots free");

	/* ---- zero-copy: wrap-around of the slots, mixed with the copying forms ---- */
	bad = 0;
	for (uint32_t i = 0, got = 0; i < 4u * 25u + 3u; ) {
		uint32_t burst = 1 + (i * 7u) % 4u;     /* 1..4 in, then as many out: every offset and fill */
		for (uint32_t k = 0; k < burst && i < 4u * 25u + 3u; k++, i++) {
			if (i % 3 == 0) {
				x.seq = i;
				bad += ring_push(&r, &x) != 0;
			} else if ((w = ring_claim(&r)) != NULL) {
				w->seq = i;
				bad += ring_publish(&r) != 0;
			} else {
				bad++;
			}
		}
		while (got < i) {
			if (got % 2 == 0) {
				q = ring_peek_ptr(&r);
				bad += q == NULL || q->seq != got || ring_drop(&r) != 0;
			} else {
				bad += ring_pop(&r, &y) != 0 || y.seq != got;
			}
			got++;
		}
	}
	is_int(bad, 0, "103 records wrap a ring of four 25 times, in bursts of 1..4, in order");
	ring_fini(&r);

	/* ---- wrap-around of the free-running counters ---- */
	ok(ring_init(&r, 4, sizeof x) == 0, "init a ring of four near SIZE_MAX");
	atomic_store(&r.head, SIZE_MAX - 5);
	atomic_store(&r.tail, SIZE_MAX - 5);
	r.head_cache = r.tail_cache = SIZE_MAX - 5;
	for (n = 0; (w = ring_claim(&r)) != NULL; n++) {
		w->seq = (uint32_t)n;
		ring_publish(&r);
	}
	ok(n == 4 && ring_count(&r) == 4 && ring_space(&r) == 0, "full at the counters' wrap");
	bad = 0;
	for (n = 0; n < 4; n++) {       /* head crosses zero; then tail does */
		bad += (q = ring_peek_ptr(&r)) == NULL || q->seq != (uint32_t)n || ring_drop(&r) != 0;
		x.seq = 4u + (uint32_t)n;
		bad += ring_push(&r, &x) != 0;
	}
	for (n = 4; n < 8; n++)
		bad += ring_pop(&r, &y) != 0 || y.seq != (uint32_t)n;
	ok(bad == 0 && atomic_load(&r.head) == 2 && atomic_load(&r.tail) == 2,
	    "head and tail wrap past SIZE_MAX with records intact and in order");
	ok(ring_peek_ptr(&r) == NULL && ring_count(&r) == 0 && ring_space(&r) == 4, "empty after the wrap");
	ring_fini(&r);

	/* ---- capacity one ---- */
	ok(ring_init(&r, 1, sizeof x) == 0 && ring_space(&r) == 1, "a ring of one");
	w = ring_claim(&r);
	ok(w != NULL && ring_publish(&r) == 0 && ring_claim(&r) == NULL, "one record fills it");
	ok(ring_peek_ptr(&r) == w && ring_drop(&r) == 0 && ring_claim(&r) == w, "the one slot goes round");
	ring_fini(&r);

	/* ---- two threads, copying API ---- */
	ok(ring_init(&r, 64, sizeof x) == 0, "init a small ring for the two-thread run");
	pthread_create(&t, NULL, writer, &r);
	bad = 0;
	while (want < N_RECORDS) {
		if (ring_pop(&r, &y) < 0)
			continue;
		if (y.seq != want || y.pad[0] != (uint8_t)want)
			bad++;
		want++;
	}
	pthread_join(t, NULL);
	is_int(bad, 0, "%u records crossed threads intact and in order", N_RECORDS);
	is_int(ring_count(&r), 0, "nothing left over");
	ring_fini(&r);

	/* ---- two threads, zero-copy API, seeded stress ---- */
	{
		static struct stress s;
		uint64_t seed = stress_seed(), rng = seed ^ 0x5A5A5A5A5A5A5A5Au;
		size_t cap = (size_t)1 << (splitmix(&rng) % 7);        /* 1..64 */
		uint32_t r_bad = 0, r_moved = 0, r_empty = 0;

		diag("stress seed %llu (TEST_RING_SEED=%llu repeats it), capacity %zu, %zu-byte records",
		    (unsigned long long)seed, (unsigned long long)seed, cap, sizeof(struct big));
		s.seed = seed;
		ok(ring_init(&s.r, cap, sizeof(struct big)) == 0, "init the stress ring");
		pthread_create(&t, NULL, stress_writer, &s);
		for (uint32_t i = 0; i < N_STRESS; ) {
			const struct big *b = ring_peek_ptr(&s.r);
			if (b == NULL) {
				r_empty++;
				jitter(&rng);
				continue;
			}
			if (!big_check(b, i))
				r_bad++;
			if ((splitmix(&rng) & 7) == 0) {        /* look again later: still the same, in place */
				jitter(&rng);
				if (ring_peek_ptr(&s.r) != b || !big_check(b, i))
					r_moved++;
			}
			if (ring_drop(&s.r) != 0)
				r_bad++;
			i++;
			jitter(&rng);
		}
		pthread_join(t, NULL);
		diag("writer found the ring full %u times, reader found it empty %u times", s.w_full, r_empty);
		ok(r_bad == 0 && r_moved == 0, "%u records read in place intact and in order (claim/publish, "
		    "peek_ptr/drop)", N_STRESS);
		ok(s.w_bad == 0, "the writer's claims held still and every publish went through");
		ok(ring_peek_ptr(&s.r) == NULL && ring_count(&s.r) == 0, "the stress ring ends empty");
		ring_fini(&s.r);
	}
	return done_testing();
}
