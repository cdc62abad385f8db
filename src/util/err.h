/* SPDX-License-Identifier: GPL-3.0-or-later */
/* err.h: how library modules report a failure: a message in the caller's char err[len], and -1. */
#ifndef MVD_ERR_H
#define MVD_ERR_H

#include <stdarg.h>
#include <stddef.h>

/* Formats into err[len] like snprintf (nothing when err is NULL or len 0). */
void err_set(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* As err_set, returning -1 so that `return err_fail(...)` ends a failing function. */
int err_fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* prefix (e.g. "file.mid: track 2 at byte 31: ", may be NULL) then the message; returns -1. For the modules that
 * add where it happened to every message of theirs. */
int err_failv(char *err, size_t len, const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

#endif
