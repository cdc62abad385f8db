/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ring.c: one-writer/one-reader ring: head and tail are free-running counters, release/acquire ordered. */
#include <stdlib.h>
#include <string.h>

#include "ring.h"

int
ring_init(struct ring *r, size_t count, size_t elsize)
{
	size_t cap = 1;

	if (count == 0 || elsize == 0)
		return -1;
	while (cap < count)
		cap <<= 1;
	r->buf = calloc(cap, elsize);
	if (r->buf == NULL)
		return -1;
	r->elsize = elsize;
	r->mask = cap - 1;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	return 0;
}

void
ring_fini(struct ring *r)
{
	free(r->buf);
	r->buf = NULL;
}

int
ring_push(struct ring *r, const void *rec)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);

	if (head - tail > r->mask)
		return -1;
	memcpy(r->buf + (head & r->mask) * r->elsize, rec, r->elsize);
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	return 0;
}

int
ring_peek(struct ring *r, void *rec)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	size_t head = atomic_load_explicit(&r->head, memory_order_acquire);

	if (head == tail)
		return -1;
	memcpy(rec, r->buf + (tail & r->mask) * r->elsize, r->elsize);
	return 0;
}

int
ring_pop(struct ring *r, void *rec)
{
	if (ring_peek(r, rec) < 0)
		return -1;
	atomic_store_explicit(&r->tail, atomic_load_explicit(&r->tail, memory_order_relaxed) + 1,
	    memory_order_release);
	return 0;
}

size_t
ring_count(struct ring *r)
{
	return atomic_load_explicit(&r->head, memory_order_acquire) -
	    atomic_load_explicit(&r->tail, memory_order_acquire);
}

size_t
ring_space(struct ring *r)
{
	return r->mask + 1 - ring_count(r);
}
