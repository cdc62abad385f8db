/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ring.h: lock-free one-writer/one-reader ring of fixed-size records (C11 atomics). */
#ifndef MVD_RING_H
#define MVD_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct ring {
	unsigned char *buf;      /* [cap * elsize], allocated by ring_init */
	size_t elsize;           /* bytes per record */
	size_t mask;             /* cap - 1; cap is a power of two */
	_Atomic size_t head;     /* records written; only the writer stores it */
	_Atomic size_t tail;     /* records read; only the reader stores it */
};

/* Allocates room for at least `count` records of `elsize` bytes (rounded up to a power of two). */
int ring_init(struct ring *r, size_t count, size_t elsize);
/* Frees the buffer; neither side may be using the ring. */
void ring_fini(struct ring *r);
/* Writer: copies one record in; returns 0, or -1 when full (nothing written). Wait-free. */
int ring_push(struct ring *r, const void *rec);
/* Reader: copies the oldest record out; returns 0, or -1 when empty. Wait-free. */
int ring_pop(struct ring *r, void *rec);
/* Reader: copies the oldest record out without consuming it; returns 0, or -1 when empty. */
int ring_peek(struct ring *r, void *rec);
/* Either side: records waiting (a snapshot; exact for the reader's lower bound). */
size_t ring_count(struct ring *r);
/* Writer: free slots (a lower bound). */
size_t ring_space(struct ring *r);

#endif
