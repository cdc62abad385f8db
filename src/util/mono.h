/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mono.h: the monotonic clock, the one time base of timeouts, intervals and deadlines (a step of the wall
 * clock neither stalls nor rushes them). Safe in real-time code: clock_gettime only, no allocation. */
#ifndef MVD_MONO_H
#define MVD_MONO_H

#include <stdint.h>
#include <time.h>

/* Microseconds of CLOCK_MONOTONIC. */
uint64_t mono_usec(void);
/* Milliseconds of CLOCK_MONOTONIC, with the fraction. */
double mono_ms(void);
/* The CLOCK_MONOTONIC time ms milliseconds from now, for sem_clockwait and clock_nanosleep(TIMER_ABSTIME). */
struct timespec mono_after(long ms);

#endif
