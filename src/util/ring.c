/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ring.c: one-writer/one-reader ring: head and tail are free-running counters, release/acquire ordered;
 * each side caches the other's counter and reloads it only when the ring looks full or empty. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ring.h"

/* calloc's zero pages are mapped on first touch: write one byte of every page now, so that the real-time side
 * never page-faults on its first use of a slot. Volatile stores: the compiler drops a memset of fresh calloc
 * memory (it did, and tests/test_rt_prefault.c saw the absent page). */
static void
ring_prefault(void *buf, size_t n)
{
	volatile unsigned char *b = buf;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	for (size_t i = 0; i < n; i += pg)
		b[i] = 0;
	b[n - 1] = 0;
}

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
	ring_prefault(r->buf, cap * elsize);
	r->elsize = elsize;
	r->mask = cap - 1;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	r->tail_cache = 0;
	r->head_cache = 0;
	return 0;
}

void
ring_fini(struct ring *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* Writer: is there a free slot at `head`? Reloads tail (acquire: the reader's reads of the slot we are
 * about to reuse happened before) only when the cached value says full. */
static int
ring_has_room(struct ring *r, size_t head)
{
	if (head - r->tail_cache <= r->mask)
		return 1;
	r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
	return head - r->tail_cache <= r->mask;
}

/* Reader: is there a record at `tail`? Reloads head (acquire: the writer's writes of the records below it
 * happened before) only when the cached value says empty. */
static int
ring_has_record(struct ring *r, size_t tail)
{
	if (tail != r->head_cache)
		return 1;
	r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
	return tail != r->head_cache;
}

void *
ring_claim(struct ring *r)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);       /* our own */

	if (!ring_has_room(r, head))
		return NULL;
	return r->buf + (head & r->mask) * r->elsize;
}

int
ring_publish(struct ring *r)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);

	if (!ring_has_room(r, head))
		return -1;
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	return 0;
}

int
ring_push(struct ring *r, const void *rec)
{
	void *slot = ring_claim(r);

	if (slot == NULL)
		return -1;
	memcpy(slot, rec, r->elsize);
	return ring_publish(r);
}

const void *
ring_peek_ptr(struct ring *r)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);       /* our own */

	if (!ring_has_record(r, tail))
		return NULL;
	return r->buf + (tail & r->mask) * r->elsize;
}

int
ring_drop(struct ring *r)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);

	if (!ring_has_record(r, tail))
		return -1;
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	return 0;
}

int
ring_peek(struct ring *r, void *rec)
{
	const void *p = ring_peek_ptr(r);

	if (p == NULL)
		return -1;
	memcpy(rec, p, r->elsize);
	return 0;
}

int
ring_pop(struct ring *r, void *rec)
{
	if (ring_peek(r, rec) < 0)
		return -1;
	return ring_drop(r);
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
