/* SPDX-License-Identifier: GPL-3.0-or-later */
/* alloccount.h: interposes malloc/calloc/realloc/free in a test program to count the calls a thread makes
 * while it has counting switched on (shared libraries such as OpenBLAS are counted too). Sanitizer builds
 * own the allocator, so ALLOCCOUNT_AVAILABLE is 0 there and the counting tests skip. */
#ifndef MVD_ALLOCCOUNT_H
#define MVD_ALLOCCOUNT_H

#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define ALLOCCOUNT_AVAILABLE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define ALLOCCOUNT_AVAILABLE 0
#endif
#endif
#ifndef ALLOCCOUNT_AVAILABLE
#define ALLOCCOUNT_AVAILABLE 1
#endif

static _Thread_local int alloccount_on;
static _Thread_local long alloccount_calls;

#if ALLOCCOUNT_AVAILABLE
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t m);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

void *malloc(size_t n);
void *calloc(size_t n, size_t m);
void *realloc(void *p, size_t n);
void free(void *p);

void *
malloc(size_t n)
{
	alloccount_calls += alloccount_on;
	return __libc_malloc(n);
}

void *
calloc(size_t n, size_t m)
{
	alloccount_calls += alloccount_on;
	return __libc_calloc(n, m);
}

void *
realloc(void *p, size_t n)
{
	alloccount_calls += alloccount_on;
	return __libc_realloc(p, n);
}

void
free(void *p)
{
	alloccount_calls += alloccount_on && p != NULL;
	__libc_free(p);
}
#endif

/* Starts counting this thread's allocator calls from zero. */
static inline void
alloccount_start(void)
{
	alloccount_calls = 0;
	alloccount_on = 1;
}

/* Stops counting; returns the calls made since alloccount_start. */
static inline long
alloccount_stop(void)
{
	alloccount_on = 0;
	return alloccount_calls;
}

#endif
