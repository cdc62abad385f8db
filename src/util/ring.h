/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ring.h: lock-free one-writer/one-reader ring of fixed-size records (C11 atomics).
 *
 * Ordering. head and tail are free-running counters (records written / records read); only the writer
 * stores head and only the reader stores tail. The writer fills a slot and then stores head + 1 with
 * release; the reader loads head with acquire before it reads any slot below it, so it sees the record
 * whole. Symmetrically the reader is done with a slot before it stores tail + 1 with release, and the writer
 * loads tail with acquire before it reuses that slot, so it never overwrites a record still being read.
 *
 * Cached indices. Each side keeps a private copy of the other side's counter (tail_cache for the writer,
 * head_cache for the reader) and reloads the shared one only when the copy says full (writer) or empty
 * (reader), so the common case touches no cache line the other thread writes.
 *
 * Layout. The read-only fields, the writer's pair and the reader's pair are kept 64 bytes apart by padding
 * (not alignas: a ring embedded in a malloc'd struct gets only malloc's alignment), so the two threads never
 * write the same cache line (no false sharing between producer and consumer).
 *
 * Zero-copy. ring_peek_ptr/ring_drop read a record in place; ring_claim/ring_publish fill one in place.
 * ring_push, ring_pop and ring_peek are the copying forms built on them. */
#ifndef MVD_RING_H
#define MVD_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define RING_CACHE_LINE 64

struct ring {
	/* set by ring_init, then read-only for both sides */
	unsigned char *buf;      /* [cap * elsize], allocated by ring_init */
	size_t elsize;           /* bytes per record */
	size_t mask;             /* cap - 1; cap is a power of two */
	char pad_w_[RING_CACHE_LINE];
	/* the writer's: only the writer stores these */
	_Atomic size_t head;     /* records written */
	size_t tail_cache;       /* the writer's last look at tail (<= tail) */
	char pad_r_[RING_CACHE_LINE];
	/* the reader's: only the reader stores these */
	_Atomic size_t tail;     /* records read */
	size_t head_cache;       /* the reader's last look at head (<= head) */
	char pad_end_[RING_CACHE_LINE];
};

/* Allocates room for at least `count` records of `elsize` bytes (rounded up to a power of two). */
int ring_init(struct ring *r, size_t count, size_t elsize);
/* Frees the buffer; neither side may be using the ring. */
void ring_fini(struct ring *r);

/* Writer: copies one record in; returns 0, or -1 when full (nothing written). Wait-free. */
int ring_push(struct ring *r, const void *rec);
/* Writer: the free slot the next record goes to (elsize bytes, old contents), or NULL when full. The
 * reader cannot see it until ring_publish; claiming again before that returns the same slot. Wait-free. */
void *ring_claim(struct ring *r);
/* Writer: makes the claimed slot the newest record (release). Returns 0, or -1 when full (nothing claimed
 * could be published). Wait-free. */
int ring_publish(struct ring *r);

/* Reader: copies the oldest record out; returns 0, or -1 when empty. Wait-free. */
int ring_pop(struct ring *r, void *rec);
/* Reader: copies the oldest record out without consuming it; returns 0, or -1 when empty. */
int ring_peek(struct ring *r, void *rec);
/* Reader: the oldest record in place, or NULL when empty. The pointer stays valid, and the record
 * unchanged, until this reader calls ring_drop or ring_pop (the writer cannot reuse the slot before). */
const void *ring_peek_ptr(struct ring *r);
/* Reader: consumes the oldest record (release; its slot goes back to the writer). Returns 0, or -1 when
 * empty. Pointers from ring_peek_ptr are invalid afterwards. Wait-free. */
int ring_drop(struct ring *r);

/* Either side: records waiting (a snapshot; exact for the reader's lower bound). */
size_t ring_count(struct ring *r);
/* Writer: free slots (a lower bound). */
size_t ring_space(struct ring *r);

#endif
