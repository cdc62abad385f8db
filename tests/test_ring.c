/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_ring.c: the one-writer/one-reader ring, alone and across two threads. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "ring.h"
#include "tap.h"

#define N_RECORDS 2000000u

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

int
main(void)
{
	struct ring r;
	struct rec x, y;
	pthread_t t;
	uint32_t want = 0, bad = 0;
	int n;

	plan(10);
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

	ok(ring_init(&r, 64, sizeof x) == 0, "init a small ring for the two-thread run");
	pthread_create(&t, NULL, writer, &r);
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
	return done_testing();
}
