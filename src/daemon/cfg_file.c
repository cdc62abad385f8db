/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cfg_file.c: the configuration file as a file, for cfg_load: where its @include files are found, checking
 * them before libconfig reads them (its scanner exits the process on a bad one), and libconfig's read errors
 * as FILE:LINE messages. */
#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cfg.h"
#include "err.h"

/* Includes (@include "x.conf") are found next to the file: dir[] gets the file's directory ("" = cwd). */
void
cfg_file_include_dir(config_t *lc, const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	dir[0] = '\0';
	if (slash == NULL || n >= len)
		return;
	memcpy(dir, path, n);
	dir[n] = '\0';
	config_set_include_dir(lc, n == 0 ? "/" : dir);
}

#define CFG_INCLUDE_DEPTH 10     /* libconfig 1.5's own limit */

static int cfg_file_walk(const char *file, const char *from, const char *dir, int depth, char *err,
    size_t errlen);

/* The file an @include names (read from f after its opening quote) is a regular file that reads to its end,
 * and so are those it includes. */
static int
cfg_file_include(FILE *f, const char *file, int line, const char *dir, int depth, char *err, size_t errlen)
{
	char name[512], full[1600], from[2800];
	struct stat st;
	size_t n = 0;
	int c;

	while ((c = getc(f)) != EOF && c != '"' && c != '\n') {
		if (c == '\\' && (c = getc(f)) == EOF)
			break;
		if (n < sizeof name - 1)
			name[n++] = (char)c;
	}
	name[n] = '\0';
	if (c != '"')
		return 0;               /* not an include libconfig would open: its parser reports it */
	snprintf(full, sizeof full, "%s%s%s", name[0] != '/' && *dir ? dir : "", name[0] != '/' && *dir ? "/" : "",
	    name);
	if (depth >= CFG_INCLUDE_DEPTH)
		return err_fail(err, errlen, "%s:%d: @include \"%s\": includes nested more than %d deep", file, line,
		    name, CFG_INCLUDE_DEPTH);
	if (stat(full, &st) < 0)
		return err_fail(err, errlen, "%s:%d: @include \"%s\": %s: %s", file, line, name, full, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return err_fail(err, errlen, "%s:%d: @include \"%s\": %s is a directory (expected a configuration "
		    "file)", file, line, name, full);
	if (!S_ISREG(st.st_mode))
		return err_fail(err, errlen, "%s:%d: @include \"%s\": %s is not a regular file", file, line, name, full);
	snprintf(from, sizeof from, "%s:%d: @include \"%s\"", file, line, name);
	return cfg_file_walk(full, from, dir, depth + 1, err, errlen);
}

/* libconfig 1.5 reads included files with a flex scanner that exits the process when a read fails (a
 * directory, an unreadable file) and that would block on a FIFO: so every @include line outside comments and
 * strings is checked first, and a bad one is an error naming the file and line. The file is read to its end
 * (a read error is reported too, after `from`: the including file, line and name; NULL for the top file). */
static int
cfg_file_walk(const char *file, const char *from, const char *dir, int depth, char *err, size_t errlen)
{
	FILE *f = fopen(file, "r");
	int c, prev = 0, line = 1, bol = 1, rc = 0;
	enum { TEXT, STRING, LINE_COMMENT, BLOCK_COMMENT } st = TEXT;
	char word[9];

	if (f == NULL)          /* the top file: libconfig says why */
		return from == NULL ? 0 : err_fail(err, errlen, "%s: %s: %s", from, file, strerror(errno));
	while (rc == 0 && (c = getc(f)) != EOF) {
		if (c == '\n') {
			line++;
			bol = 1;
			if (st == LINE_COMMENT)
				st = TEXT;
		} else if (st == STRING) {
			if (c == '\\') {
				if ((c = getc(f)) == '\n')
					line++;
				c = 0;  /* an escaped character ends nothing */
			} else if (c == '"')
				st = TEXT;
		} else if (st == BLOCK_COMMENT) {
			if (prev == '*' && c == '/') {
				st = TEXT;
				c = 0;
			}
		} else if (st == TEXT) {
			if (bol && c == '@' && fscanf(f, "%8[a-z]", word) == 1 && strcmp(word, "include") == 0) {
				int sp = 0;
				while ((c = getc(f)) == ' ' || c == '\t')
					sp = 1;
				if (sp && c == '"')
					rc = cfg_file_include(f, file, line, dir, depth, err, errlen);
				else if (c != EOF)
					ungetc(c, f);
				bol = 0;
				continue;
			}
			if (c == '"')
				st = STRING;
			else if (c == '#' || (prev == '/' && c == '/'))
				st = LINE_COMMENT;
			else if (prev == '/' && c == '*') {
				st = BLOCK_COMMENT;
				c = 0;          /* its star does not end it: the comment needs one more */
			}
			if (c != ' ' && c != '\t' && c != '\r')
				bol = 0;
		}
		prev = c;
	}
	if (rc == 0 && ferror(f))
		rc = err_fail(err, errlen, "%s%s%s: cannot read: %s", from ? from : "", from ? ": " : "", file,
		    strerror(errno));
	fclose(f);
	return rc;
}

int
cfg_file_read_fail(const config_t *lc, const char *path, const char *dir, char *err, size_t errlen)
{
	const char *file = config_error_file(lc), *text = config_error_text(lc);
	int inc = file && *dir && *file != '/' && strcmp(file, path) != 0;
	FILE *fp;

	if (config_error_type(lc) == CONFIG_ERR_PARSE) {
		text = text ? text : "syntax error";
		err_set(err, errlen, "%s%s%s:%d: %s%s", inc ? dir : "", inc ? "/" : "", file ? file : path,
			config_error_line(lc), text, strcmp(text, "syntax error") ? "" : " (expected name = value; "
			"with strings in double quotes and sections as name = { ... };)");
		return -1;
	}
	if ((fp = fopen(path, "r")) == NULL) {
		err_set(err, errlen, "%s: cannot read the configuration file: %s", path, strerror(errno));
		return -1;
	}
	fclose(fp);
	err_set(err, errlen, "%s: cannot read the configuration file or a file it includes", path);
	return -1;
}

int
cfg_file_check(const char *path, const char *dir, char *err, size_t errlen)
{
	return cfg_file_walk(path, NULL, dir, 0, err, errlen);
}
