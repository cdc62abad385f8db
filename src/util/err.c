/* SPDX-License-Identifier: GPL-3.0-or-later */
/* err.c: the err[] formatter every library module reports failures through (err.h). */
#include <stdio.h>
#include <string.h>

#include "err.h"

int
err_failv(char *err, size_t len, const char *prefix, const char *fmt, va_list ap)
{
	size_t k = 0;

	if (err == NULL || len == 0)
		return -1;
	err[0] = '\0';
	if (prefix != NULL) {
		k = strlen(prefix) < len - 1 ? strlen(prefix) : len - 1;
		memcpy(err, prefix, k);
		err[k] = '\0';
	}
	vsnprintf(err + k, len - k, fmt, ap);
	return -1;
}

void
err_set(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_failv(err, len, NULL, fmt, ap);
	va_end(ap);
}

int
err_fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_failv(err, len, NULL, fmt, ap);
	va_end(ap);
	return -1;
}
