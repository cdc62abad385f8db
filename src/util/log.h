/* SPDX-License-Identifier: GPL-3.0-or-later */
/* log.h: leveled logging to stderr for the programs (never called on a real-time path). */
#ifndef MVD_LOG_H
#define MVD_LOG_H

#include <stdarg.h>

enum log_level { LOG_LEVEL_ERR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Sets the program name prefixed to every line and the most verbose level printed. */
void log_init(const char *progname, enum log_level level);
/* Under systemd (stderr is the journal's stream: $JOURNAL_STREAM names its device and inode), prefix every
 * line with its syslog priority "<N>" so that the journal keeps the levels; plain stderr otherwise. */
void log_detect_journal(void);
/* Parses "error", "warn", "info" or "debug"; returns -1 for anything else. */
int log_level_parse(const char *name);
/* Warning with ": strerror(errno)" appended. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Warning without errno. */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Error without errno (the program goes on). */
void log_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs with strerror(errno) and exits 1. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Logs and exits 1. */
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
#endif
