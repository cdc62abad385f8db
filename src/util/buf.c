/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buf.c: the file writers' growable byte buffer (buf.h). */
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
buf_put(struct buf *b, const void *data, size_t len)
{
	size_t cap = b->cap ? b->cap : 4096;
	unsigned char *p;

	if (b->oom)
		return;
	while (cap - b->n < len) {
		if (cap > SIZE_MAX / 2) {
			b->oom = 1;
			return;
		}
		cap *= 2;
	}
	if (cap != b->cap) {
		if ((p = realloc(b->p, cap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	if (len > 0)
		memcpy(b->p + b->n, data, len);
	b->n += len;
}

void
buf_put_le(struct buf *b, uint64_t v, int bytes)
{
	unsigned char x[8];

	for (int i = 0; i < bytes; i++)
		x[i] = (unsigned char)(v >> (8 * i));
	buf_put(b, x, (size_t)bytes);
}

void
buf_put_be(struct buf *b, uint64_t v, int bytes)
{
	unsigned char x[8];

	for (int i = 0; i < bytes; i++)
		x[i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
	buf_put(b, x, (size_t)bytes);
}
