/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz_cfg.c: libFuzzer target: any configuration file into cfg_load, and any -o assignments into cfg_override,
 * give a config whose every value is in range, or -1 with a message that starts with the file's name (or
 * "command line") and a struct left untouched; never a crash.
 *
 * Input: the file's text, then optionally a NUL byte and assignments "section.setting=value" one per line, applied
 * in order to the loaded config (to the defaults when the file is refused). The file is written to one directory
 * per process (under $TMPDIR, else /dev/shm, else /tmp; a crash leaves it behind) next to inc.conf (valid) and
 * bad.conf (a syntax error on line 2) for @include. Inputs that @include anything but a plain file name are
 * skipped: libconfig 1.5 follows "../" out of the directory, and exits the process when the name is a directory
 * ("input in flex scanner failed"). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* libconfig 1.5 leaks the lexer's string buffer on some syntax errors (fixed in 1.7); not ours to report. */
const char *
__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

static char fz_dir[256], fz_path[300];

static void
fz_put(const char *name, const void *text, size_t len)
{
	char path[300];
	FILE *f;
	int ok;

	snprintf(path, sizeof path, "%s/%s", fz_dir, name);
	if ((f = fopen(path, "wb")) == NULL)
		abort();
	ok = fwrite(text, 1, len, f) == len;
	if (fclose(f) != 0 || !ok)
		abort();
}

static void
fz_cleanup(void)
{
	static const char *const names[] = { "fuzz.conf", "inc.conf", "bad.conf" };
	char path[300];

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", fz_dir, names[i]);
		unlink(path);
	}
	rmdir(fz_dir);
}

static void
fz_init(void)
{
	static const char inc[] = "clock = { bpm = 77; };\nmodel = { attributes_offset = { density = 0.5; }; };\n";
	static const char bad[] = "capture = { channel = 2; };\noutput = { channel 3; };\n";
	const char *t = getenv("TMPDIR");

	if (t == NULL || *t == '\0')
		t = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(fz_dir, sizeof fz_dir, "%s/fuzz_cfg-XXXXXX", t);
	if (mkdtemp(fz_dir) == NULL)
		abort();
	snprintf(fz_path, sizeof fz_path, "%s/fuzz.conf", fz_dir);
	fz_put("inc.conf", inc, sizeof inc - 1);
	fz_put("bad.conf", bad, sizeof bad - 1);
	atexit(fz_cleanup);
}

/* Does every @include (in any case) name a plain file of the directory? libconfig's is `@include[ \t]+"NAME"`. */
static int
fz_includes_ok(const char *s)
{
	for (const char *q = s; (q = strchr(q, '@')) != NULL; q++) {   /* q, not p, moves on: p may sit on the NUL */
		const char *p = q;
		size_t n = 0;

		if (strncasecmp(p, "@include", 8) != 0)
			continue;
		p += 8;
		if (*p != ' ' && *p != '\t')
			continue;               /* not an include for libconfig either: a syntax error */
		p += strspn(p, " \t");
		if (*p != '"')
			continue;
		for (p++; p[n] != '\0' && strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-",
		    p[n]) != NULL; n++)
			;
		if (p[n] != '"' || n == 0 || strncmp(p, ".", n) == 0 || strncmp(p, "..", n) == 0)
			return 0;
	}
	return 1;
}

static int
fz_term(const char *s, size_t len)
{
	return memchr(s, '\0', len) != NULL;
}

#define IN(x, lo, hi) ((x) >= (lo) && (x) <= (hi))     /* false for NaN */

/* What a successful load or override must guarantee, whatever the input said (the ranges of cfg.c's table). */
static int
fz_sane(const struct cfg *c)
{
	int ok = IN(c->log_level, 0, 3) && IN((int)c->mode, 0, 2) && IN((int)c->backend, 0, 2) &&
	    IN((int)c->clock, 0, 1) && IN((int)c->morph_end, 0, 1) && IN(c->temperature, 0, 10) &&
	    IN(c->threads, 1, 256) && IN(c->null_rate, 8000, 384000) && IN(c->null_period, 16, 8192) &&
	    IN(c->bpm, 20, 400) && IN(c->in_channel, 0, 16) && IN(c->rest_seconds, 0.1, 60) &&
	    IN(c->out_channel, 1, 16) && IN(c->velocity, 1, 127) && IN(c->lookahead_bars, 1, 16) &&
	    IN(c->drift, 0, 10) && IN(c->answer_bars, 1, 64) && IN(c->walk, 0, 10) && IN(c->morph_bars, 1, 1024) &&
	    IN(c->ctl_mode, 0, 0777) && IN(c->ctl_max_clients, 1, 1024) && IN(c->ctl_max_line, 256, 65536) &&
	    IN(c->n_attrs, 0, CFG_MAX_ATTRS) && IN(c->n_connect_in, 0, CFG_MAX_PATTERNS) &&
	    IN(c->n_connect_out, 0, CFG_MAX_PATTERNS) && IN(c->n_model_dirs, 0, CFG_MAX_PATTERNS) &&
	    IN(c->seed, 0, (uint64_t)INT64_MAX);

	ok = ok && fz_term(c->file, sizeof c->file) && fz_term(c->model, sizeof c->model) && c->model[0] &&
	    fz_term(c->attributes, sizeof c->attributes) && fz_term(c->client_name, sizeof c->client_name) &&
	    c->client_name[0] && fz_term(c->server_name, sizeof c->server_name) &&
	    fz_term(c->in_port, sizeof c->in_port) && c->in_port[0] && fz_term(c->out_port, sizeof c->out_port) &&
	    c->out_port[0] && fz_term(c->ctl_socket, sizeof c->ctl_socket) &&
	    fz_term(c->ctl_group, sizeof c->ctl_group) && fz_term(c->midi_dir, sizeof c->midi_dir) &&
	    fz_term(c->slot_dir, sizeof c->slot_dir);
	for (int i = 0; ok && i < c->n_attrs; i++)
		ok = fz_term(c->attr_name[i], sizeof c->attr_name[i]) && c->attr_name[i][0] &&
		    IN(c->attr_amount[i], -10, 10);
	for (int i = 0; ok && i < c->n_connect_in; i++)
		ok = fz_term(c->connect_in[i], sizeof c->connect_in[i]) && c->connect_in[i][0];
	for (int i = 0; ok && i < c->n_connect_out; i++)
		ok = fz_term(c->connect_out[i], sizeof c->connect_out[i]) && c->connect_out[i][0];
	for (int i = 0; ok && i < c->n_model_dirs; i++)
		ok = fz_term(c->model_dirs[i], sizeof c->model_dirs[i]);
	return ok;
}

/* err starts with the file, or with one of the files it includes, and a ':'. */
static int
fz_names_file(const char *err, const char *text)
{
	size_t n = strlen(fz_dir), k;
	char quoted[80];

	if (strncmp(err, fz_path, strlen(fz_path)) == 0 && err[strlen(fz_path)] == ':')
		return 1;
	if (strncmp(err, fz_dir, n) != 0 || err[n] != '/')
		return 0;
	k = strcspn(err + n + 1, ":");
	if (err[n + 1 + k] != ':' || k == 0 || k + 3 > sizeof quoted)
		return 0;
	snprintf(quoted, sizeof quoted, "\"%.*s\"", (int)k, err + n + 1);
	return strstr(text, quoted) != NULL;
}

static void
fz_overrides(struct cfg *c, char *lines)
{
	struct cfg before;
	char err[512], *line, *save = NULL;

	for (line = strtok_r(lines, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		int rc;

		memcpy(&before, c, sizeof before);
		memset(err, 0, sizeof err);
		if ((rc = cfg_override(c, line, err, sizeof err)) == 0) {
			if (!fz_sane(c))
				abort();
		} else if (rc != -1 || !fz_term(err, sizeof err) || strncmp(err, "command line: ", 14) != 0 ||
		    memcmp(c, &before, sizeof *c) != 0) {
			abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cfg c, before;
	char err[1400], *text;
	size_t flen = strnlen((const char *)data, size);
	int rc;

	if (fz_dir[0] == '\0')
		fz_init();
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';              /* text = the file; text + flen + 1 = the assignments, if any */
	if (!fz_includes_ok(text)) {
		free(text);
		return 0;
	}
	fz_put("fuzz.conf", text, flen);
	cfg_defaults(&c);
	c.bpm = -7;                     /* a refusal must leave the struct as it was */
	memcpy(&before, &c, sizeof before);
	memset(err, 0, sizeof err);
	if ((rc = cfg_load(&c, fz_path, err, sizeof err)) == 0) {
		if (!fz_sane(&c) || strcmp(c.file, fz_path) != 0)
			abort();
	} else {
		if (rc != -1 || !fz_term(err, sizeof err) || !fz_names_file(err, text) ||
		    memcmp(&c, &before, sizeof c) != 0)
			abort();
		cfg_defaults(&c);
	}
	if (flen < size)
		fz_overrides(&c, text + flen + 1);
	free(text);
	return 0;
}
