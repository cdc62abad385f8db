/* SPDX-License-Identifier: GPL-3.0-or-later */
/* tap.h: a tiny TAP producer for the unit tests (plan, ok, is_int, is_float, diag, skip). */
#ifndef MVD_TAP_H
#define MVD_TAP_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_n, tap_failed, tap_planned;

static inline void
plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline void
diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
}

static inline int
tap_vok(int cond, const char *fmt, va_list ap)
{
	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_n);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

static inline int
ok(int cond, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tap_vok(cond, fmt, ap);
	va_end(ap);
	return r;
}

static inline int
is_int(long long got, long long want, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tap_vok(got == want, fmt, ap);
	va_end(ap);
	if (!r)
		diag("  got %lld, want %lld", got, want);
	return r;
}

/* Passes when |got - want| <= tol (and neither is NaN). */
static inline int
is_float(double got, double want, double tol, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tap_vok(fabs(got - want) <= tol, fmt, ap);
	va_end(ap);
	if (!r)
		diag("  got %.9g, want %.9g (tolerance %.3g)", got, want, tol);
	return r;
}

/* Records n skipped tests with a reason. */
static inline void
skip(int n, const char *fmt, ...)
{
	va_list ap;
	char why[512];

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	while (n-- > 0) {
		tap_n++;
		printf("ok %d # SKIP %s\n", tap_n, why);
	}
	fflush(stdout);
}

/* Ends the test: exit status 0 only when every planned test ran and passed. */
static inline int
done_testing(void)
{
	if (tap_planned && tap_n != tap_planned)
		diag("planned %d tests but ran %d", tap_planned, tap_n);
	return (tap_failed == 0 && (!tap_planned || tap_n == tap_planned)) ? 0 : 1;
}

#endif
