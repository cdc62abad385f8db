/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hash.c: FNV-1a 64 (Fowler, Noll, Vo; public domain algorithm). */
#include "hash.h"

uint64_t
hash_fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}
