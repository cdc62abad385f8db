/* SPDX-License-Identifier: GPL-3.0-or-later */
/* file.c: atomic replacement of a file (temporary, fsync, rename, directory fsync). */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "file.h"

static atomic_uint file_seq;    /* tells apart the temporaries of one process's threads */

int
file_tmp_open(struct file_tmp *t, const char *path, char *err, size_t len)
{
	int fd;

	t->f = NULL;
	if (strlen(path) >= sizeof t->path)
		return err_fail(err, len, "%.64s...: path too long", path);
	strcpy(t->path, path);
	snprintf(t->tmp, sizeof t->tmp, "%s.tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&file_seq, 1));
	if ((fd = open(t->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0)
		return err_fail(err, len, "%s: cannot create %s: %s", path, t->tmp, strerror(errno));
	if ((t->f = fdopen(fd, "wb")) == NULL) {
		int e = errno;
		close(fd);
		unlink(t->tmp);
		return err_fail(err, len, "%s: %s", path, strerror(e));
	}
	return 0;
}

/* The rename is durable only once the directory holding the name is on disk too. */
static void
file_sync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == path)
		strcpy(dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);        /* best effort: some file systems refuse fsync on a directory */
		close(fd);
	}
}

int
file_tmp_commit(struct file_tmp *t, char *err, size_t len)
{
	int e = 0;

	if (t->f == NULL)
		return err_fail(err, len, "%s: not open", t->path);
	if (fflush(t->f) != 0 || ferror(t->f))
		e = errno ? errno : EIO;
	else if (fsync(fileno(t->f)) != 0 && errno != EINVAL)
		e = errno;
	if (fclose(t->f) != 0 && e == 0)
		e = errno;
	t->f = NULL;
	if (e == 0 && rename(t->tmp, t->path) != 0)
		e = errno;
	if (e != 0) {
		unlink(t->tmp);
		return err_fail(err, len, "%s: cannot write: %s", t->path, strerror(e));
	}
	file_sync_dir(t->path);
	return 0;
}

void
file_tmp_abort(struct file_tmp *t)
{
	if (t->f != NULL) {
		fclose(t->f);
		t->f = NULL;
	}
	unlink(t->tmp);
}

int
file_write_atomic(const char *path, const void *p, size_t n, char *err, size_t len)
{
	struct file_tmp t;

	if (file_tmp_open(&t, path, err, len) < 0)
		return -1;
	if (n > 0 && fwrite(p, 1, n, t.f) != n) {
		int e = errno ? errno : EIO;
		file_tmp_abort(&t);
		return err_fail(err, len, "%s: cannot write: %s", path, strerror(e));
	}
	return file_tmp_commit(&t, err, len);
}
