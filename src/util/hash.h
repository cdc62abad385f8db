/* SPDX-License-Identifier: GPL-3.0-or-later */
/* hash.h: FNV-1a 64, the one hash of the dataset's splits and dedup, and the checksums of the files we write. */
#ifndef MVD_HASH_H
#define MVD_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV1A_INIT 14695981039346656037ull /* FNV-1a 64 offset basis */

/* Continues FNV-1a 64 from h (HASH_FNV1A_INIT to start) over p[0..n). */
uint64_t hash_fnv1a(uint64_t h, const void *p, size_t n);

#endif
