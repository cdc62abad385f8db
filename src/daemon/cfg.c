/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cfg.c: reads the daemon's libconfig file and -o overrides into one struct cfg, checking every value once
 * against a single table of settings, so that each error names FILE:LINE, the setting and what was expected. */
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cfg.h"
#include "err.h"
#include "log.h"

#ifndef DATADIR
#define DATADIR "/usr/local/share/musicvaed"
#endif

/* Same order as enum log_level in log.h (log_level_parse uses these names too). */
static const char *const log_names[] = { "error", "warn", "info", "debug", NULL };
static const char *const mode_names[] = { "generate", "continue", "morph", NULL };
static const char *const backend_names[] = { "jack", "alsa", "null", NULL };
static const char *const clock_names[] = { "internal", "external", NULL };
static const char *const morph_end_names[] = { "hold", "pingpong", NULL };

/* Section names, in the order the example file uses ("" is the top level). */
static const char *const sections[] = { "model", "backend", "clock", "capture", "output", "continue", "generate",
	"morph", "control", NULL };

enum key_type { K_BOOL, K_INT, K_U64, K_FLOAT, K_DOUBLE, K_STR, K_ENUM, K_LIST, K_ATTRS, K_PATHS, K_OCTAL };

/* One setting: where it lives in the file and in struct cfg, and what it accepts.
 * min/max bound numbers, the string length (K_STR: min only) and the attribute amounts (K_ATTRS). */
struct key {
	const char *sect, *name;
	enum key_type type;
	size_t off;                     /* offset of the field in struct cfg */
	size_t aux;                     /* K_STR: buffer size; K_LIST: offset of the count */
	double min, max;
	const char *const *names;       /* K_ENUM: value names, index = value */
};

#define OFF(f) offsetof(struct cfg, f)
#define FIELD(c, k, type) ((type *)(void *)((char *)(c) + (k)->off))
#define FSZ(f) sizeof(((struct cfg *)0)->f)
#define PATTERN_SIZE FSZ(connect_in[0])
#define ATTR_AMOUNT_MAX 10.0

static const struct key keys[] = {
	{ "", "log_level", K_ENUM, OFF(log_level), 0, 0, 0, log_names },
	{ "", "mode", K_ENUM, OFF(mode), 0, 0, 0, mode_names },
	{ "model", "path", K_STR, OFF(model), FSZ(model), 1, 0, NULL },
	{ "model", "attributes", K_STR, OFF(attributes), FSZ(attributes), 0, 0, NULL },
	{ "model", "temperature", K_FLOAT, OFF(temperature), 0, 0, 10, NULL },
	{ "model", "seed", K_U64, OFF(seed), 0, 0, (double)INT64_MAX, NULL },
	{ "model", "js_drums", K_BOOL, OFF(js_drums), 0, 0, 0, NULL },
	{ "model", "threads", K_INT, OFF(threads), 0, 1, 256, NULL },
	{ "model", "attributes_offset", K_ATTRS, OFF(n_attrs), 0, -ATTR_AMOUNT_MAX, ATTR_AMOUNT_MAX, NULL },
	{ "backend", "type", K_ENUM, OFF(backend), 0, 0, 0, backend_names },
	{ "backend", "client_name", K_STR, OFF(client_name), FSZ(client_name), 1, 0, NULL },
	{ "backend", "server_name", K_STR, OFF(server_name), FSZ(server_name), 0, 0, NULL },
	{ "backend", "input_port", K_STR, OFF(in_port), FSZ(in_port), 1, 0, NULL },
	{ "backend", "output_port", K_STR, OFF(out_port), FSZ(out_port), 1, 0, NULL },
	{ "backend", "connect_input", K_LIST, OFF(connect_in), OFF(n_connect_in), 0, CFG_MAX_PATTERNS, NULL },
	{ "backend", "connect_output", K_LIST, OFF(connect_out), OFF(n_connect_out), 0, CFG_MAX_PATTERNS, NULL },
	{ "backend", "null_rate", K_DOUBLE, OFF(null_rate), 0, 8000, 384000, NULL },
	{ "backend", "null_period", K_INT, OFF(null_period), 0, 16, 8192, NULL },
	{ "clock", "source", K_ENUM, OFF(clock), 0, 0, 0, clock_names },
	{ "clock", "bpm", K_DOUBLE, OFF(bpm), 0, 20, 400, NULL },
	{ "clock", "send_clock", K_BOOL, OFF(send_clock), 0, 0, 0, NULL },
	{ "clock", "send_transport", K_BOOL, OFF(send_transport), 0, 0, 0, NULL },
	{ "clock", "autostart", K_BOOL, OFF(autostart), 0, 0, 0, NULL },
	{ "capture", "channel", K_INT, OFF(in_channel), 0, 0, 16, NULL },
	{ "capture", "rest_seconds", K_DOUBLE, OFF(rest_seconds), 0, 0.1, 60, NULL },
	{ "output", "channel", K_INT, OFF(out_channel), 0, 1, 16, NULL },
	{ "output", "velocity", K_INT, OFF(velocity), 0, 1, 127, NULL },
	{ "output", "groove_timing", K_FLOAT, OFF(groove_timing), 0, 0, 1, NULL },
	{ "output", "lookahead_bars", K_INT, OFF(lookahead_bars), 0, 1, 16, NULL },
	{ "continue", "drift", K_FLOAT, OFF(drift), 0, 0, 10, NULL },
	{ "continue", "answer_bars", K_INT, OFF(answer_bars), 0, 1, 64, NULL },
	{ "continue", "candidates", K_INT, OFF(candidates), 0, 1, 8, NULL },
	{ "generate", "walk", K_FLOAT, OFF(walk), 0, 0, 10, NULL },
	{ "morph", "bars", K_INT, OFF(morph_bars), 0, 1, 1024, NULL },
	{ "morph", "end", K_ENUM, OFF(morph_end), 0, 0, 0, morph_end_names },
	{ "morph", "slerp", K_BOOL, OFF(slerp), 0, 0, 0, NULL },
	{ "control", "socket", K_STR, OFF(ctl_socket), FSZ(ctl_socket), 0, 0, NULL },
	{ "control", "mode", K_OCTAL, OFF(ctl_mode), 0, 0, 0777, NULL },
	{ "control", "group", K_STR, OFF(ctl_group), FSZ(ctl_group), 0, 0, NULL },
	{ "control", "max_clients", K_INT, OFF(ctl_max_clients), 0, 1, 1024, NULL },
	{ "control", "max_line", K_INT, OFF(ctl_max_line), 0, 256, 65536, NULL },
	{ "control", "midi_dir", K_STR, OFF(midi_dir), FSZ(midi_dir), 0, 0, NULL },
	{ "control", "slot_dir", K_STR, OFF(slot_dir), FSZ(slot_dir), 0, 0, NULL },
	{ "control", "model_dirs", K_PATHS, OFF(model_dirs), OFF(n_model_dirs), 0, CFG_MAX_PATTERNS, NULL },
};
#define NKEYS (sizeof keys / sizeof keys[0])

_Static_assert(sizeof(enum cfg_mode) == sizeof(int) && sizeof(enum cfg_backend) == sizeof(int) &&
	sizeof(enum cfg_clock) == sizeof(int) && sizeof(enum cfg_morph_end) == sizeof(int),
	"enum fields are written as int (int and unsigned int may alias)");

/* Where values come from: file == NULL means the command line. */
struct ctx {
	const char *file;
	const char *incdir;             /* directory of file: libconfig names included files without it */
	char *err;
	size_t errlen;
};

void
cfg_defaults(struct cfg *c)
{
	memset(c, 0, sizeof *c);
	c->log_level = LOG_LEVEL_INFO;
	snprintf(c->model, sizeof c->model, "mel_2bar");       /* looked up in model_dirs (musicvaed.c) */
	c->temperature = 0.5f;
	c->threads = 1;
	c->backend = CFG_BACKEND_JACK;
	snprintf(c->client_name, sizeof c->client_name, "musicvaed");
	snprintf(c->in_port, sizeof c->in_port, "midi_in");
	snprintf(c->out_port, sizeof c->out_port, "midi_out");
	c->null_rate = 48000;
	c->null_period = 256;
	c->clock = CFG_CLOCK_INTERNAL;
	c->bpm = 120;
	c->autostart = 1;
	c->out_channel = 1;
	c->velocity = 100;
	c->groove_timing = 1.0f;
	c->rest_seconds = 1.5;
	c->lookahead_bars = 2;
	c->mode = CFG_MODE_GENERATE;
	c->answer_bars = 2;
	c->candidates = 8;
	c->morph_bars = 8;
	c->morph_end = CFG_MORPH_PINGPONG;
	c->slerp = 1;
	c->ctl_mode = 0660;
	c->ctl_max_clients = 64;
	c->ctl_max_line = 4096;
	c->n_model_dirs = 1;
	snprintf(c->model_dirs[0], sizeof c->model_dirs[0], "%s", DATADIR "/models");
}

/* ---- messages ------------------------------------------------------------------------------- */

/* Writes "LOC: name: message" where LOC is FILE:LINE of s, or "command line"; returns -1. */
static int __attribute__((format(printf, 4, 5)))
cfg_fail(const struct ctx *x, const config_setting_t *s, const char *name, const char *fmt, ...)
{
	const char *file = s ? config_setting_source_file(s) : NULL;
	unsigned line = s ? config_setting_source_line(s) : 0;
	int inc = file && x->file && *x->incdir && *file != '/' && strcmp(file, x->file) != 0;
	char where[1024];
	va_list ap;

	if (x->file == NULL)
		snprintf(where, sizeof where, "command line: %s: ", name);
	else
		snprintf(where, sizeof where, "%s%s%s:%u: %s: ", inc ? x->incdir : "", inc ? "/" : "",
		    file ? file : x->file, line, name);
	va_start(ap, fmt);
	err_failv(x->err, x->errlen, where, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *
type_name(int t)
{
	static const char *const names[] = { [CONFIG_TYPE_GROUP] = "a group", [CONFIG_TYPE_INT] = "an integer",
		[CONFIG_TYPE_INT64] = "an integer", [CONFIG_TYPE_FLOAT] = "a float", [CONFIG_TYPE_STRING] = "a string",
		[CONFIG_TYPE_BOOL] = "a boolean", [CONFIG_TYPE_ARRAY] = "an array", [CONFIG_TYPE_LIST] = "a list" };

	return t > 0 && t < (int)(sizeof names / sizeof names[0]) && names[t] ? names[t] : "nothing";
}

static void
names_join(const char *const *names, int quote, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; names[i] && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s%s%s", i ? ", " : "", quote ? "\"" : "", names[i],
			quote ? "\"" : "");
}

/* What a key accepts, for the "(expected ...)" part of every message. */
static void
key_expect(const struct key *k, char *buf, size_t len)
{
	switch (k->type) {
	case K_BOOL: snprintf(buf, len, "true or false"); break;
	case K_INT: snprintf(buf, len, "an integer %g..%g", k->min, k->max); break;
	case K_U64: snprintf(buf, len, "an integer >= 0"); break;
	case K_FLOAT: case K_DOUBLE: snprintf(buf, len, "a number %g..%g", k->min, k->max); break;
	case K_STR:
		snprintf(buf, len, "a %sstring of at most %zu bytes", k->min > 0 ? "non-empty " : "", k->aux - 1);
		break;
	case K_ENUM: {
		char list[256];
		names_join(k->names, 1, list, sizeof list);
		snprintf(buf, len, "one of %s", list);
		break;
	}
	case K_PATHS:
		snprintf(buf, len, "a directory or a list of at most %d directories", CFG_MAX_PATTERNS); break;
	case K_OCTAL: snprintf(buf, len, "permission bits as an octal string, e.g. \"0660\""); break;
	case K_LIST:
		snprintf(buf, len, "a string or a list of at most %d strings of at most %zu bytes, each a POSIX "
			"extended regular expression", CFG_MAX_PATTERNS, PATTERN_SIZE - 1);
		break;
	case K_ATTRS:
		snprintf(buf, len, "a group of at most %d settings name = amount, amount %g..%g, name at most %d "
			"bytes", CFG_MAX_ATTRS, k->min, k->max, CFG_NAME_MAX - 1);
		break;
	}
}

static int
fail_type(const struct ctx *x, const struct key *k, const char *name, const config_setting_t *s)
{
	char exp[384];

	key_expect(k, exp, sizeof exp);
	return cfg_fail(x, s, name, "wrong type: %s (expected %s)", type_name(config_setting_type(s)), exp);
}

static int
fail_range(const struct ctx *x, const struct key *k, const char *name, const config_setting_t *s, double v)
{
	char exp[384], num[32];

	/* The shortest form that reads back as v: 0.05, not 0.050000000000000003. */
	snprintf(num, sizeof num, "%.15g", v);
	if (strtod(num, NULL) != v)
		snprintf(num, sizeof num, "%.17g", v);
	key_expect(k, exp, sizeof exp);
	return cfg_fail(x, s, name, "%s is out of range (expected %s)", num, exp);
}

/* ---- setters: one per key type, each checks and writes one field ---------------------------- */

#define IS_INT_TYPE(t) ((t) == CONFIG_TYPE_INT || (t) == CONFIG_TYPE_INT64)

static int
set_bool(const struct ctx *x, const struct key *k, const char *name, const config_setting_t *s, struct cfg *c)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return fail_type(x, k, name, s);
	*FIELD(c, k, int) = config_setting_get_bool(s) != 0;
	return 0;
}

static int
set_int(const struct ctx *x, const struct key *k, const char *name, const config_setting_t *s, struct cfg *c)
{
	long long v;

	if (!IS_INT_TYPE(config_setting_type(s)))
		return fail_type(x, k, name, s);
	v = config_setting_get_int64(s);
	if (v < k->min || (double)v > k->max)
		return fail_range(x, k, name, s, (double)v);
	if (k->type == K_U64)
		*FIELD(c, k, uint64_t) = (uint64_t)v;
	else
		*FIELD(c, k, int) = (int)v;
	return 0;
}

/* A number where integers are accepted too; non-finite values (1e999) are out of range. */
static int
get_real(const struct ctx *x, const struct key *k, const char *name, const config_setting_t *s, double *v)
{
	int t = config_setting_type(s);

	if (t == CONFIG_TYPE_FLOAT)
		*v = config_setting_get_float(s);
	else if (IS_INT_TYPE(t))
		*v = (double)config_setting_get_int64(s);
	else
		return fail_type(x, k, name, s);
	if (!isfinite(*v) || *v < k->min || *v > k->max)
		return fail_range(x, k, name, s, *v);
	return 0;
}

static int
set_real(const struct ctx *x, const struct key *k, const char *name, const config_setting_t *s, struct cfg *c)
{
	double d;

	if (get_real(x, k, name, s, &d) < 0)
		return -1;
	if (k->type == K_FLOAT)
		*FIELD(c, k, float) = (float)d;
	else
		*FIELD(c, k, double) = d;
	return 0;
}

/* Copies a string setting into dst[size], refusing empty (when min > 0) and too long strings. */
static int
copy_str(const struct ctx *x, const struct key *k, const char *name, const config_setting_t *s, char *dst,
	size_t size)
{
	const char *v;
	char exp[384];
	size_t n;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail_type(x, k, name, s);
	v = config_setting_get_string(s);
	n = strlen(v);
	key_expect(k, exp, sizeof exp);
	if (n == 0 && k->min > 0)
		return cfg_fail(x, s, name, "empty string (expected %s)", exp);
	if (n >= size)
		return cfg_fail(x, s, name, "string of %zu bytes is too long (expected %s)", n, exp);
	memcpy(dst, v, n + 1);
	return 0;
}

static int
set_enum(const struct ctx *x, const struct key *k, const char *name, const config_setting_t *s, struct cfg *c)
{
	const char *v;
	char exp[384];

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail_type(x, k, name, s);
	v = config_setting_get_string(s);
	for (int i = 0; k->names[i]; i++)
		if (strcmp(v, k->names[i]) == 0) {
			*FIELD(c, k, int) = i;
			return 0;
		}
	key_expect(k, exp, sizeof exp);
	return cfg_fail(x, s, name, "unknown value \"%.64s\" (expected %s)", v, exp);
}

/* One connection pattern: a non-empty POSIX extended regular expression, as jack_get_ports(3) takes. */
static int
set_pattern(const struct ctx *x, const struct key *k, const char *name, const config_setting_t *s, char *dst)
{
	regex_t re;
	char why[128];
	int rc;

	if (copy_str(x, k, name, s, dst, PATTERN_SIZE) < 0)
		return -1;
	if (k->type == K_PATHS)
		return dst[0] ? 0 : cfg_fail(x, s, name, "empty directory name");
	if (dst[0] == '\0')
		return cfg_fail(x, s, name, "empty pattern (expected a POSIX extended regular expression)");
	rc = regcomp(&re, dst, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		regerror(rc, &re, why, sizeof why);
		return cfg_fail(x, s, name, "bad regular expression: %s (expected a POSIX extended regular "
			"expression)", why);
	}
	regfree(&re);
	return 0;
}

/* A list (or array) of patterns, or a single string as a list of one. */
static int
set_list(const struct ctx *x, const struct key *k, const char *name, const config_setting_t *s, struct cfg *c)
{
	char (*dst)[PATTERN_SIZE] = (char (*)[PATTERN_SIZE])FIELD(c, k, char);
	int t = config_setting_type(s), n;
	char ename[160], exp[384];

	if (t == CONFIG_TYPE_STRING) {
		n = 1;
		if (set_pattern(x, k, name, s, dst[0]) < 0)
			return -1;
	} else if (t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST) {
		n = config_setting_length(s);
		key_expect(k, exp, sizeof exp);
		if (n > CFG_MAX_PATTERNS)
			return cfg_fail(x, s, name, "%d patterns are too many (expected %s)", n, exp);
		for (int i = 0; i < n; i++) {
			snprintf(ename, sizeof ename, "%s[%d]", name, i);
			if (set_pattern(x, k, ename, config_setting_get_elem(s, (unsigned)i), dst[i]) < 0)
				return -1;
		}
	} else {
		return fail_type(x, k, name, s);
	}
	*(int *)(void *)((char *)c + k->aux) = n;
	return 0;
}

/* Permission bits written as an octal string ("0660"): libconfig would read 0660 as decimal 660. */
static int
set_octal(const struct ctx *x, const struct key *k, const char *name, const config_setting_t *s, struct cfg *c)
{
	const char *v = config_setting_get_string(s);
	char *end;
	long m;

	if (v == NULL)
		return fail_type(x, k, name, s);
	errno = 0;
	m = strtol(v, &end, 8);
	if (*v == '\0' || *end != '\0' || errno || m < 0 || m > (long)k->max)
		return cfg_fail(x, s, name, "\"%.32s\" is not permission bits (expected an octal string 0000..0777, "
		    "e.g. \"0660\")", v);
	*FIELD(c, k, int) = (int)m;
	return 0;
}

/* Sets (or adds) one attribute offset: name = amount. */
static int
attr_put(const struct ctx *x, const struct key *k, const char *aname, const config_setting_t *s, struct cfg *c)
{
	const struct key amount = { k->sect, k->name, K_FLOAT, 0, 0, k->min, k->max, NULL };
	char name[160];
	double d;
	int i;

	snprintf(name, sizeof name, "%s.%s.%.80s", k->sect, k->name, aname);
	if (aname[0] == '\0' || strlen(aname) >= CFG_NAME_MAX)
		return cfg_fail(x, s, name, "bad attribute name (expected 1 to %d bytes)", CFG_NAME_MAX - 1);
	if (get_real(x, &amount, name, s, &d) < 0)
		return -1;
	for (i = 0; i < c->n_attrs; i++)
		if (strcmp(c->attr_name[i], aname) == 0)
			break;
	if (i == CFG_MAX_ATTRS)
		return cfg_fail(x, s, name, "too many attributes (expected at most %d)", CFG_MAX_ATTRS);
	if (i == c->n_attrs)
		c->n_attrs++;
	memcpy(c->attr_name[i], aname, strlen(aname) + 1);
	c->attr_amount[i] = (float)d;
	return 0;
}

/* The whole group replaces the offsets set so far. */
static int
set_attrs(const struct ctx *x, const struct key *k, const char *name, const config_setting_t *s, struct cfg *c)
{
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return fail_type(x, k, name, s);
	c->n_attrs = 0;
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *a = config_setting_get_elem(s, (unsigned)i);
		if (attr_put(x, k, config_setting_name(a), a, c) < 0)
			return -1;
	}
	return 0;
}

static int
key_set(const struct ctx *x, const struct key *k, const config_setting_t *s, struct cfg *c)
{
	char name[160];

	snprintf(name, sizeof name, "%s%s%s", k->sect, *k->sect ? "." : "", k->name);
	switch (k->type) {
	case K_BOOL: return set_bool(x, k, name, s, c);
	case K_INT: case K_U64: return set_int(x, k, name, s, c);
	case K_FLOAT: case K_DOUBLE: return set_real(x, k, name, s, c);
	case K_STR: return copy_str(x, k, name, s, FIELD(c, k, char), k->aux);
	case K_ENUM: return set_enum(x, k, name, s, c);
	case K_LIST: return set_list(x, k, name, s, c);
	case K_ATTRS: return set_attrs(x, k, name, s, c);
	case K_PATHS: return set_list(x, k, name, s, c);
	case K_OCTAL: return set_octal(x, k, name, s, c);
	}
	return -1;
}

/* ---- the schema: lookups and hints for unknown names ----------------------------------------- */

static const struct key *
key_find(const char *sect, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].sect, sect) == 0 && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static int
is_section(const char *name)
{
	for (int i = 0; sections[i]; i++)
		if (strcmp(sections[i], name) == 0)
			return 1;
	return 0;
}

/* Levenshtein distance for "did you mean"; long names are simply "far". */
static int
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int row[65], prev, tmp;

	if (la > 64 || lb > 64)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			tmp = row[j];
			int best = prev + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

/* The names valid in one scope: a section's keys, or the top-level keys and the sections. */
static int
scope_names(const char *sect, const char **out, int max)
{
	int n = 0;

	for (size_t i = 0; i < NKEYS && n < max; i++)
		if (strcmp(keys[i].sect, sect) == 0)
			out[n++] = keys[i].name;
	for (int i = 0; *sect == '\0' && sections[i] && n < max; i++)
		out[n++] = sections[i];
	out[n] = NULL;
	return n;
}

/* "(bpm belongs in section clock)", "(did you mean client_name?)" or the list of valid names. */
static void
unknown_hint(const char *sect, const char *name, char *buf, size_t len)
{
	const char *names[NKEYS + 16], *best = NULL;
	int n = scope_names(sect, names, (int)NKEYS + 8), bestd = 3;
	char list[512];

	size_t w = 0;
	for (size_t i = 0; i < NKEYS && w < len; i++)
		if (strcmp(keys[i].name, name) == 0 && strcmp(keys[i].sect, sect) != 0)
			w += (size_t)snprintf(buf + w, len - w, "%s%s", w ? " or " : "", *keys[i].sect ?
				keys[i].sect : "the top level");
	if (w > 0 && w < len) {
		snprintf(list, sizeof list, "%s", buf);
		snprintf(buf, len, "%s belongs in %s", name, list);
		return;
	}
	for (int i = 0; i < n; i++) {
		int d = edit_distance(name, names[i]);
		if (d < bestd && d < (int)strlen(names[i])) {
			bestd = d;
			best = names[i];
		}
	}
	if (best) {
		snprintf(buf, len, "did you mean %s?", best);
		return;
	}
	names_join(names, 0, list, sizeof list);
	snprintf(buf, len, "expected one of: %s", list);
}

static int
fail_unknown(const struct ctx *x, const char *sect, const char *name, const config_setting_t *s)
{
	char full[160], hint[600];

	snprintf(full, sizeof full, "%s%s%.80s", sect, *sect ? "." : "", name);
	unknown_hint(sect, name, hint, sizeof hint);
	return cfg_fail(x, s, full, "unknown setting (%s)", hint);
}

/* ---- the file -------------------------------------------------------------------------------- */

/* Walks a group in file order, so that the first error reported is the first one in the file. */
static int
apply_group(const struct ctx *x, const char *sect, const config_setting_t *g, struct cfg *c)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);
		const struct key *k = key_find(sect, name);
		int rc;

		if (k)
			rc = key_set(x, k, s, c);
		else if (*sect == '\0' && is_section(name) && config_setting_type(s) == CONFIG_TYPE_GROUP)
			rc = apply_group(x, name, s, c);
		else if (*sect == '\0' && is_section(name))
			rc = cfg_fail(x, s, name, "wrong type: %s (expected a group: %s = { setting = value; ... };)",
				type_name(config_setting_type(s)), name);
		else
			rc = fail_unknown(x, sect, name, s);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int
cfg_load(struct cfg *c, const char *path, char *err, size_t errlen)
{
	char dir[1024];
	struct ctx x = { path, dir, err, errlen };
	struct cfg t;
	struct stat st;
	config_t lc;
	int rc = -1;

	if (path == NULL || *path == '\0') {
		err_set(err, errlen, "no configuration file given");
		return -1;
	}
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		err_set(err, errlen, "%s: is a directory (expected a configuration file)", path);
		return -1;
	}
	if (strlen(path) >= sizeof t.file) {
		err_set(err, errlen, "%s: path too long (at most %zu bytes)", path, sizeof t.file - 1);
		return -1;
	}
	cfg_defaults(&t);
	snprintf(t.file, sizeof t.file, "%s", path);
	config_init(&lc);
	cfg_file_include_dir(&lc, path, dir, sizeof dir);
	if (cfg_file_check(path, *dir || path[0] != '/' ? dir : "/", err, errlen) == 0) {
		if (config_read_file(&lc, path) != CONFIG_TRUE)
			cfg_file_read_fail(&lc, path, dir, err, errlen);
		else if (apply_group(&x, "", config_root_setting(&lc), &t) == 0)
			rc = 0;
	}
	config_destroy(&lc);
	if (rc == 0)
		*c = t;
	return rc;
}

/* ---- command-line overrides ------------------------------------------------------------------ */

static int
parse_bool_word(const char *v, int *b)
{
	static const char *const words[] = { "false", "true", "no", "yes", "off", "on", "0", "1" };

	for (int i = 0; i < 8; i++)
		if (strcasecmp(v, words[i]) == 0) {
			*b = i & 1;
			return 0;
		}
	return -1;
}

/* A setting "v" holding one value of type t (libconfig keeps it until lc is destroyed). */
static config_setting_t *
value_add(config_t *lc, int t, long long i, double d, const char *str)
{
	config_setting_t *s = config_setting_add(config_root_setting(lc), "v", t);

	if (t == CONFIG_TYPE_BOOL)
		config_setting_set_bool(s, (int)i);
	else if (t == CONFIG_TYPE_INT64)
		config_setting_set_int64(s, i);
	else if (t == CONFIG_TYPE_FLOAT)
		config_setting_set_float(s, d);
	else if (t == CONFIG_TYPE_STRING)
		config_setting_set_string(s, str);
	return s;
}

/* Turns the text after '=' into a setting of the type the key wants when the text reads as one, else a
 * string, so that the setter reports the type error the file would get. [ ( { start libconfig syntax. */
static config_setting_t *
override_value(const struct ctx *x, const char *key, const struct key *k, enum key_type type, const char *v,
	config_t *lc)
{
	char *end, buf[4200];
	long long i;
	int b;

	if (v[0] != '\0' && strchr("[({", v[0]) != NULL) {
		snprintf(buf, sizeof buf, "v = %s;", v);
		if (config_read_string(lc, buf) == CONFIG_TRUE)
			return config_lookup(lc, "v");
		cfg_fail(x, NULL, key, "cannot parse the value: %s (expected libconfig syntax, e.g. [ \"a\", \"b\" ] "
			"or { name = 1.0; })", config_error_text(lc));
		return NULL;
	}
	if ((type == K_LIST || type == K_PATHS) && v[0] == '\0')
		return value_add(lc, CONFIG_TYPE_ARRAY, 0, 0, NULL);
	if (type == K_BOOL && parse_bool_word(v, &b) == 0)
		return value_add(lc, CONFIG_TYPE_BOOL, b, 0, NULL);
	if (type != K_INT && type != K_U64 && type != K_FLOAT && type != K_DOUBLE)
		return value_add(lc, CONFIG_TYPE_STRING, 0, 0, v);
	errno = 0;
	i = strtoll(v, &end, 10);
	if (*v && *end == '\0' && errno == ERANGE && (type == K_INT || type == K_U64)) {
		key_expect(k, buf, sizeof buf);
		cfg_fail(x, NULL, key, "%.40s is out of range (expected %s)", v, buf);
		return NULL;
	}
	if (*v && *end == '\0' && errno == 0)
		return value_add(lc, CONFIG_TYPE_INT64, i, 0, NULL);
	double d = strtod(v, &end);
	if (*v && *end == '\0')
		return value_add(lc, CONFIG_TYPE_FLOAT, 0, d, NULL);
	return value_add(lc, CONFIG_TYPE_STRING, 0, 0, v);
}

/* Splits "a.b" (or "a") into the section and the name; "model.attributes_offset.NAME" sets *attr. */
static const struct key *
override_key(const char *key, const char **attr, char *sect, size_t len, const char **name)
{
	const char *dot = strchr(key, '.');
	const struct key *k;

	*attr = NULL;
	sect[0] = '\0';
	*name = key;
	if (dot == NULL)
		return key_find("", key);
	snprintf(sect, len, "%.*s", (int)(dot - key), key);
	*name = dot + 1;
	if (strncmp(*name, "attributes_offset.", 18) == 0 && strcmp(sect, "model") == 0) {
		*attr = *name + 18;
		return key_find("model", "attributes_offset");
	}
	k = key_find(sect, *name);
	return k && strchr(*name, '.') == NULL ? k : NULL;
}

static int
override_apply(const struct ctx *x, const char *key, const char *v, struct cfg *c)
{
	const char *attr, *name;
	const struct key *k;
	config_setting_t *s;
	config_t lc;
	char sect[64];
	int rc = -1;

	k = override_key(key, &attr, sect, sizeof sect, &name);
	if (k == NULL) {
		if (sect[0] && !is_section(sect))
			return fail_unknown(x, "", sect, NULL);
		return fail_unknown(x, sect, name, NULL);
	}
	config_init(&lc);
	s = override_value(x, key, k, attr ? K_FLOAT : k->type, v, &lc);
	if (s != NULL)
		rc = attr ? attr_put(x, k, attr, s, c) : key_set(x, k, s, c);
	config_destroy(&lc);
	return rc;
}

int
cfg_override(struct cfg *c, const char *assignment, char *err, size_t errlen)
{
	struct ctx x = { NULL, "", err, errlen };
	const char *eq = strchr(assignment, '=');
	struct cfg t;
	char key[128];

	if (eq == NULL || eq == assignment) {
		err_set(err, errlen, "command line: %.100s: expected section.setting=value", assignment);
		return -1;
	}
	if ((size_t)(eq - assignment) >= sizeof key) {
		err_set(err, errlen, "command line: %.60s...: setting name too long", assignment);
		return -1;
	}
	memcpy(key, assignment, (size_t)(eq - assignment));
	key[eq - assignment] = '\0';
	t = *c;
	if (override_apply(&x, key, eq + 1, &t) < 0)
		return -1;
	*c = t;
	return 0;
}

/* Index = value, as the tables above; "?" outside. */
const char *cfg_mode_name(enum cfg_mode m) { return (unsigned)m < 3 ? mode_names[m] : "?"; }
const char *cfg_backend_name(enum cfg_backend b) { return (unsigned)b < 3 ? backend_names[b] : "?"; }
const char *cfg_clock_name(enum cfg_clock k) { return (unsigned)k < 2 ? clock_names[k] : "?"; }
const char *cfg_morph_end_name(enum cfg_morph_end e) { return (unsigned)e < 2 ? morph_end_names[e] : "?"; }
