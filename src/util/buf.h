/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buf.h: a growable byte buffer for the file writers (.ds datasets, Standard MIDI Files) that remembers running
 * out of memory, so that a writer appends without checking and tests oom once at the end. */
#ifndef MVD_BUF_H
#define MVD_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	unsigned char *p;       /* [n] bytes written, [cap] allocated; free() it */
	size_t n, cap;
	int oom;                /* set by the first failed growth; every later append is dropped */
};

/* Appends len bytes of data. */
void buf_put(struct buf *b, const void *data, size_t len);
/* Appends the low `bytes` bytes (1..8) of v, least significant first. */
void buf_put_le(struct buf *b, uint64_t v, int bytes);
/* Appends the low `bytes` bytes (1..8) of v, most significant first. */
void buf_put_be(struct buf *b, uint64_t v, int bytes);

#endif
