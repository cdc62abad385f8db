/* SPDX-License-Identifier: GPL-3.0-or-later */
/* rtalloc.c: an LD_PRELOAD library for the daemon tests: wraps jack_set_process_callback so that it knows
 * when a thread is inside the JACK process callback, and counts malloc/calloc/realloc/free (and
 * posix_memalign, aligned_alloc) made there. At exit it writes "process_calls N allocs A frees F" to the
 * file named by RTALLOC_OUT. No production code knows about it. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include <jack/jack.h>

static _Thread_local int in_process;
static _Atomic unsigned long allocs, frees, calls;
static JackProcessCallback user_cb;

/* dlsym itself may call calloc before the real one is known: serve that from a small static arena. */
static char arena[4096];
static size_t arena_used;

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_set_process)(jack_client_t *, JackProcessCallback, void *);

static void
rtalloc_init(void)
{
	static _Thread_local int busy;

	if (busy || real_free)
		return;
	busy = 1;
	real_malloc = dlsym(RTLD_NEXT, "malloc");
	real_calloc = dlsym(RTLD_NEXT, "calloc");
	real_realloc = dlsym(RTLD_NEXT, "realloc");
	real_free = dlsym(RTLD_NEXT, "free");
	busy = 0;
}

void *
malloc(size_t n)
{
	rtalloc_init();
	if (in_process)
		atomic_fetch_add(&allocs, 1);
	return real_malloc(n);
}

void *
calloc(size_t n, size_t m)
{
	rtalloc_init();         /* returns at once while dlsym itself is running */
	if (real_calloc == NULL) {
		void *p = arena + arena_used;
		arena_used += (n * m + 15) & ~(size_t)15;
		if (arena_used > sizeof arena)
			abort();
		return p;
	}
	if (in_process)
		atomic_fetch_add(&allocs, 1);
	return real_calloc(n, m);
}

void *
realloc(void *p, size_t n)
{
	rtalloc_init();
	if (in_process)
		atomic_fetch_add(&allocs, 1);
	return real_realloc(p, n);
}

void
free(void *p)
{
	if ((char *)p >= arena && (char *)p < arena + sizeof arena)
		return;
	rtalloc_init();
	if (in_process && p != NULL)
		atomic_fetch_add(&frees, 1);
	real_free(p);
}

static int
rtalloc_process(jack_nframes_t n, void *arg)
{
	int rc;

	in_process = 1;
	atomic_fetch_add(&calls, 1);
	rc = user_cb(n, arg);
	in_process = 0;
	return rc;
}

int
jack_set_process_callback(jack_client_t *client, JackProcessCallback cb, void *arg)
{
	if (real_set_process == NULL)
		real_set_process = (int (*)(jack_client_t *, JackProcessCallback, void *))dlsym(RTLD_NEXT,
		    "jack_set_process_callback");
	user_cb = cb;
	return real_set_process(client, rtalloc_process, arg);
}

__attribute__((destructor)) static void
rtalloc_report(void)
{
	const char *path = getenv("RTALLOC_OUT");
	FILE *f;

	if (path == NULL || (f = fopen(path, "w")) == NULL)
		return;
	fprintf(f, "process_calls %lu allocs %lu frees %lu\n", atomic_load(&calls), atomic_load(&allocs),
	    atomic_load(&frees));
	fclose(f);
}
