/* SPDX-License-Identifier: GPL-3.0-or-later */
/* log.c: leveled logging to stderr, one line per call (err.c formats the library modules' messages). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static const char *log_prog = "musicvae";
static enum log_level log_max = LOG_LEVEL_INFO;

static const char *const log_names[] = { "error", "warn", "info", "debug" };
static const char *const log_prio[] = { "<3>", "<4>", "<6>", "<7>" };   /* syslog: err, warning, info, debug */
static int log_journal;

void
log_init(const char *progname, enum log_level level)
{
	log_prog = progname;
	log_max = level;
}

void
log_detect_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	log_journal = js != NULL && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
	    (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

int
log_level_parse(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, log_names[i]) == 0)
			return i;
	return -1;
}

/* One fprintf per line so that concurrent threads do not interleave inside a line. */
static void
log_vemit(enum log_level lv, int errnum, const char *fmt, va_list ap)
{
	char msg[1024];

	if (lv > log_max)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (log_journal)        /* the journal adds the program name and keeps the priority */
		fprintf(stderr, "%s%s%s%s\n", log_prio[lv], msg, errnum ? ": " : "", errnum ? strerror(errnum) : "");
	else if (errnum)
		fprintf(stderr, "%s: %s: %s: %s\n", log_prog, log_names[lv], msg, strerror(errnum));
	else
		fprintf(stderr, "%s: %s: %s\n", log_prog, log_names[lv], msg);
}

#define LOG_BODY(lv, errnum) do { va_list ap; va_start(ap, fmt); \
	log_vemit(lv, errnum, fmt, ap); va_end(ap); } while (0)

void log_warn(const char *fmt, ...) { int e = errno; LOG_BODY(LOG_LEVEL_WARN, e); }
void log_warnx(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_WARN, 0); }
void log_errx(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_ERR, 0); }
void log_info(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_INFO, 0); }
void log_debug(const char *fmt, ...) { LOG_BODY(LOG_LEVEL_DEBUG, 0); }

void
fatal(const char *fmt, ...)
{
	int e = errno;
	LOG_BODY(LOG_LEVEL_ERR, e);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERR, 0);
	exit(1);
}
