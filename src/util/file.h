/* SPDX-License-Identifier: GPL-3.0-or-later */
/* file.h: replacing a file atomically: write a temporary beside it, fsync, rename over it, fsync the directory.
 * A reader (the daemon re-reading attributes.json on SIGHUP, a resumed training) sees the old file or the
 * whole new one, never a part; a crash leaves at most a stray PATH.tmp.* file. */
#ifndef MVD_FILE_H
#define MVD_FILE_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

struct file_tmp {
	FILE *f;                        /* write the new contents here */
	char path[PATH_MAX];            /* the file commit replaces */
	char tmp[PATH_MAX + 32];        /* PATH.tmp.PID.N */
};

/* Creates the temporary for path (mode 0666 less the umask). Returns 0, or -1 with err naming path. */
int file_tmp_open(struct file_tmp *t, const char *path, char *err, size_t len);
/* Flushes, fsyncs and closes the temporary and renames it over path; on any failure (a write error seen by the
 * stream included) removes it and returns -1 with err naming path and the reason. */
int file_tmp_commit(struct file_tmp *t, char *err, size_t len);
/* Closes and removes the temporary (after a failure of the caller's own). */
void file_tmp_abort(struct file_tmp *t);
/* Replaces path by p[0..n) as above. Returns 0 or -1 with err. */
int file_write_atomic(const char *path, const void *p, size_t n, char *err, size_t len);

#endif
