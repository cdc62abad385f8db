/* SPDX-License-Identifier: GPL-3.0-or-later */
/* clockshift.c: LD_PRELOAD library for tests: clock_gettime(CLOCK_REALTIME) reads CLOCKSHIFT_SECONDS (default
 * -3600) off the real time, as if the wall clock had been stepped; every other clock is left alone. Lets a test
 * without root see whether a wait follows the wall clock. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

int
clock_gettime(clockid_t id, struct timespec *ts)
{
	static int (*real)(clockid_t, struct timespec *);
	static long shift = 1;
	int rc;

	if (real == NULL)
		real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
	if (shift == 1) {
		const char *s = getenv("CLOCKSHIFT_SECONDS");
		shift = s ? atol(s) : -3600;
	}
	rc = real(id, ts);
	if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
		ts->tv_sec += shift;
	return rc;
}
