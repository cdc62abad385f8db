/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_rt_prefault.c: rt_init (through ring_init) leaves every page of the three rings in RAM (mincore), so
 * that the real-time thread's first write to a slot cannot page-fault even when mlockall was refused. */
#define _DEFAULT_SOURCE         /* mincore */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rt.h"
#include "tap.h"

/* Pages of [p, p + n) that are not resident; -1 if mincore fails. */
static long
absent_pages(const void *p, size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)(pg - 1), e = (uintptr_t)p + n;
	size_t np = (e - a + pg - 1) / pg;
	unsigned char *v = malloc(np);
	long absent = 0;

	if (v == NULL || mincore((void *)a, e - a, v) < 0) {
		free(v);
		return -1;
	}
	for (size_t i = 0; i < np; i++)
		absent += !(v[i] & 1);
	free(v);
	return absent;
}

int
main(void)
{
	static struct rt rt;    /* as the daemon has it: static */
	const struct ring *r[3] = { &rt.bars, &rt.capture, &rt.cmds };
	const char *name[3] = { "bars", "capture", "cmds" };

	plan(4);
	ok(rt_init(&rt, 48000.0, 1, 120.0, 0, 0, -1, 0) == 0, "rt_init");
	for (int i = 0; i < 3; i++) {
		size_t n = (r[i]->mask + 1) * r[i]->elsize;
		long a = absent_pages(r[i]->buf, n);
		ok(a == 0, "ring %s (%zu bytes): every page resident after rt_init (%ld absent)", name[i], n, a);
	}
	rt_fini(&rt);
	return done_testing();
}
