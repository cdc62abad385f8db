/* SPDX-License-Identifier: GPL-3.0-or-later */
/* proto.c: the control protocol: tokenizing a line, the command table, argument checks, ACK lines. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

static const char *const proto_subs[PROTO_NSUB] = { "bar", "mode", "tempo", "transport", "model", "phrase",
	"attr", "slot", "options" };
static const char *const proto_modes[] = { "generate", "continue", "morph" };

const char *const proto_usage[] = {
	"status                              mode, clock, tempo, position, model, settings, counters",
	"mode generate|continue|morph        switch at the next bar line",
	"tempo BPM                           internal clock tempo (20..400), from the next bar line",
	"temperature T                       sampling temperature (0 = argmax .. 5)",
	"seed N                              generate mode's seed (same seed, same bars)",
	"walk W                              generate: 0 = fresh sample per window, else random-walk step (0..1)",
	"candidates N                        continue: answers decoded per window, the best played (1..8)",
	"attr list                           attribute vectors of the model and their amounts",
	"attr set NAME AMOUNT                amount of one attribute vector (-10..10)",
	"attr nudge NAME DELTA               add DELTA to its amount",
	"attr reset                          every amount back to 0",
	"capture SLOT                        encode the last phrase the player played into SLOT (A..H)",
	"sample SLOT [TEMP]                  a prior sample into SLOT (temperature scales the draw, default 1)",
	"load SLOT FILE.mid [BAR]            encode a MIDI file (from the MIDI directory) into SLOT",
	"slot list                           which slots hold a z and where it came from",
	"slot save SLOT NAME                 write SLOT's z as NAME.json in the slot directory",
	"slot load SLOT NAME                 read NAME.json from the slot directory into SLOT",
	"morph A B BARS [slerp|lerp] [hold|pingpong]   morph between two slots over BARS bars",
	"chords CHORD...                     chord progression for chord-conditioned models (e.g. C G Am F)",
	"key K                               key 0..11 (0 = C) for key-conditioned models, or 'none'",
	"model NAME                          swap to a model in the model directories; the clock keeps running",
	"bars                                the last bar played in and out, as notes",
	"panic                               every note off now",
	"ping                                OK",
	"close                               end this connection",
	"commands                            this list",
	"idle [SUBSYSTEM...]                 wait for a change: bar mode tempo transport model phrase attr slot options",
	"noidle                              stop waiting",
	"command_list_begin | command_list_ok_begin ... command_list_end   apply a batch at one bar line, or none",
	NULL,
};

int
proto_fail(struct proto_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

/* Appends ch to argument n (begun at buf[start]) if it fits and is printable. */
static int
proto_put(char *buf, size_t len, size_t *o, size_t start, char ch, int n, struct proto_err *e)
{
	if (*o + 1 >= len || *o - start + 1 >= PROTO_ARG_MAX)
		return proto_fail(e, PROTO_ACK_ARG, "argument %d is longer than %d bytes", n, PROTO_ARG_MAX - 1);
	if ((unsigned char)ch < 0x20 || ch == 0x7f)
		return proto_fail(e, PROTO_ACK_ARG, "argument %d: control character 0x%02x", n, (unsigned char)ch);
	buf[(*o)++] = ch;
	return 0;
}

int
proto_split(const char *line, char *buf, size_t len, char **argv, int max, struct proto_err *e)
{
	const char *p = line;
	size_t o = 0;
	int n = 0;

	for (;;) {
		size_t start;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '\r' || *p == '\n')
			return n;
		if (n == max)
			return proto_fail(e, PROTO_ACK_ARG, "too many arguments (at most %d)", max - 1);
		start = o;
		if (*p == '"') {
			for (p++; *p != '"'; p++) {
				if (*p == '\0')
					return proto_fail(e, PROTO_ACK_ARG, "argument %d: unterminated quote", n);
				if (*p == '\\') {
					p++;
					if (*p != '"' && *p != '\\')
						return proto_fail(e, PROTO_ACK_ARG, "argument %d: only \\\" and \\\\ are "
						    "escapes", n);
				}
				if (proto_put(buf, len, &o, start, *p, n, e) < 0)
					return -1;
			}
			p++;
			if (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
				return proto_fail(e, PROTO_ACK_ARG, "argument %d: a quote must end the argument", n);
		} else {
			for (; *p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n'; p++)
				if (proto_put(buf, len, &o, start, *p, n, e) < 0)
					return -1;
		}
		if (o >= len)   /* an empty "" after arguments that filled buf */
			return proto_fail(e, PROTO_ACK_ARG, "argument %d is longer than the line buffer", n);
		buf[o++] = '\0';
		argv[n++] = buf + start;
	}
}

/* ---- argument checks -------------------------------------------------------------------------------- */

static int
proto_num(const char *s, double lo, double hi, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return end != s && *end == '\0' && errno == 0 && isfinite(*out) && *out >= lo && *out <= hi ? 0 : -1;
}

static int
proto_slot(const char *s, int *slot)
{
	int c = toupper((unsigned char)s[0]);

	if (s[0] == '\0' || s[1] != '\0' || c < 'A' || c >= 'A' + PROTO_SLOTS)
		return -1;
	*slot = c - 'A';
	return 0;
}

/* A file, slot or model name: one path component or a relative path inside the configured directory (no
 * "..", no leading '/', printable). The daemon also resolves symlinks before it opens anything. */
static int
proto_name_ok(const char *s)
{
	const char *seg = s;

	if (*s == '\0' || *s == '/')
		return 0;
	for (const char *p = s;; p++) {
		if (*p == '/' || *p == '\0') {
			if (p - seg == 2 && seg[0] == '.' && seg[1] == '.')
				return 0;
			if (p == seg)
				return 0;       /* empty component: "a//b" or a trailing '/' */
			if (*p == '\0')
				return 1;
			seg = p + 1;
		} else if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	}
}

static int
proto_mode_of(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(s, proto_modes[i]) == 0)
			return i;
	return -1;
}

/* Chord symbols as the chord encoders read them: a root A-G, optional # or b, then a quality of letters,
 * digits and a few signs; N.C. for none. The model's encoder checks the symbol itself. */
static int
proto_chord_ok(const char *s)
{
	if (strcmp(s, "N.C.") == 0)
		return 1;
	if (strlen(s) >= 16 || *s < 'A' || *s > 'G')
		return 0;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("#b+-/()", *s))
			return 0;
	return 1;
}

/* ---- the command table ---------------------------------------------------------------------------- */

struct proto_def {
	const char *name;       /* first word */
	const char *sub;        /* second word, or NULL */
	enum proto_op op;
	int min, max;           /* arguments after the name (and sub) */
	const char *usage;
};

static const struct proto_def proto_defs[] = {
	{ "status", NULL, PROTO_STATUS, 0, 0, "status" },
	{ "mode", NULL, PROTO_MODE, 1, 1, "mode generate|continue|morph" },
	{ "tempo", NULL, PROTO_TEMPO, 1, 1, "tempo BPM (20..400)" },
	{ "temperature", NULL, PROTO_TEMPERATURE, 1, 1, "temperature T (0..5)" },
	{ "seed", NULL, PROTO_SEED, 1, 1, "seed N (1..2^64-1)" },
	{ "walk", NULL, PROTO_WALK, 1, 1, "walk W (0..1)" },
	{ "candidates", NULL, PROTO_CANDIDATES, 1, 1, "candidates N (1..8)" },
	{ "attr", "list", PROTO_ATTR_LIST, 0, 0, "attr list" },
	{ "attr", "set", PROTO_ATTR_SET, 2, 2, "attr set NAME AMOUNT (-10..10)" },
	{ "attr", "nudge", PROTO_ATTR_NUDGE, 2, 2, "attr nudge NAME DELTA (-10..10)" },
	{ "attr", "reset", PROTO_ATTR_RESET, 0, 0, "attr reset" },
	{ "capture", NULL, PROTO_CAPTURE, 1, 1, "capture SLOT" },
	{ "sample", NULL, PROTO_SAMPLE, 1, 2, "sample SLOT [TEMP (0..5)]" },
	{ "load", NULL, PROTO_LOAD, 2, 3, "load SLOT FILE.mid [BAR]" },
	{ "slot", "list", PROTO_SLOT_LIST, 0, 0, "slot list" },
	{ "slot", "save", PROTO_SLOT_SAVE, 2, 2, "slot save SLOT NAME" },
	{ "slot", "load", PROTO_SLOT_LOAD, 2, 2, "slot load SLOT NAME" },
	{ "morph", NULL, PROTO_MORPH, 3, 5, "morph A B BARS [slerp|lerp] [hold|pingpong]" },
	{ "chords", NULL, PROTO_CHORDS, 1, PROTO_MAX_CHORDS, "chords CHORD... (at most 16)" },
	{ "key", NULL, PROTO_KEY, 1, 1, "key 0..11|none" },
	{ "model", NULL, PROTO_MODEL, 1, 1, "model NAME" },
	{ "bars", NULL, PROTO_BARS, 0, 0, "bars" },
	{ "panic", NULL, PROTO_PANIC, 0, 0, "panic" },
	{ "ping", NULL, PROTO_PING, 0, 0, "ping" },
	{ "close", NULL, PROTO_CLOSE, 0, 0, "close" },
	{ "commands", NULL, PROTO_COMMANDS, 0, 0, "commands" },
	{ "idle", NULL, PROTO_IDLE, 0, PROTO_NSUB, "idle [SUBSYSTEM...]" },
	{ "noidle", NULL, PROTO_NOIDLE, 0, 0, "noidle" },
	{ "command_list_begin", NULL, PROTO_LIST_BEGIN, 0, 0, "command_list_begin" },
	{ "command_list_ok_begin", NULL, PROTO_LIST_OK_BEGIN, 0, 0, "command_list_ok_begin" },
	{ "command_list_end", NULL, PROTO_LIST_END, 0, 0, "command_list_end" },
};

#define PROTO_NDEFS (sizeof proto_defs / sizeof proto_defs[0])

static const struct proto_def *
proto_find(int argc, char **argv, struct proto_err *e)
{
	int named = 0;

	for (size_t i = 0; i < PROTO_NDEFS; i++) {
		const struct proto_def *d = &proto_defs[i];
		if (strcmp(argv[0], d->name) != 0)
			continue;
		named = 1;
		if (d->sub == NULL || (argc > 1 && strcmp(argv[1], d->sub) == 0))
			return d;
	}
	if (named)
		proto_fail(e, PROTO_ACK_ARG, "expected %s %s", argv[0], strcmp(argv[0], "attr") == 0 ?
		    "list|set|nudge|reset" : "list|save|load");
	else
		proto_fail(e, PROTO_ACK_UNKNOWN, "unknown command \"%.64s\" (try: commands)", argv[0]);
	return NULL;
}

/* The arguments of d (argv after its name) into c. */
static int
proto_args(const struct proto_def *d, int argc, char **argv, struct proto_cmd *c, struct proto_err *e)
{
	double v;

	switch (d->op) {
	case PROTO_MODE:
		if ((c->mode = proto_mode_of(argv[0])) < 0)
			return proto_fail(e, PROTO_ACK_ARG, "\"%.32s\": expected generate, continue or morph", argv[0]);
		return 0;
	case PROTO_TEMPO:
		if (proto_num(argv[0], 20.0, 400.0, &c->num) < 0)
			return proto_fail(e, PROTO_ACK_ARG, "\"%.32s\": expected a tempo 20..400 BPM", argv[0]);
		return 0;
	case PROTO_TEMPERATURE:
		if (proto_num(argv[0], 0.0, 5.0, &c->num) < 0)
			return proto_fail(e, PROTO_ACK_ARG, "\"%.32s\": expected a temperature 0..5", argv[0]);
		return 0;
	case PROTO_WALK:
		if (proto_num(argv[0], 0.0, 1.0, &c->num) < 0)
			return proto_fail(e, PROTO_ACK_ARG, "\"%.32s\": expected a walk step 0..1", argv[0]);
		return 0;
	case PROTO_CANDIDATES:
		if (proto_num(argv[0], 1, PROTO_CANDIDATES_MAX, &c->num) < 0 || c->num != floor(c->num))
			return proto_fail(e, PROTO_ACK_ARG, "\"%.32s\": expected a candidate count 1..%d", argv[0],
			    PROTO_CANDIDATES_MAX);
		return 0;
	case PROTO_SEED: {
		char *end;
		errno = 0;
		c->seed = strtoull(argv[0], &end, 10);
		if (!isdigit((unsigned char)argv[0][0]) || *end || errno || c->seed == 0)
			return proto_fail(e, PROTO_ACK_ARG, "\"%.32s\": expected a seed 1..18446744073709551615",
			    argv[0]);
		return 0;
	}
	case PROTO_ATTR_SET:
	case PROTO_ATTR_NUDGE:
		snprintf(c->arg, sizeof c->arg, "%s", argv[0]);
		if (proto_num(argv[1], -10.0, 10.0, &c->num) < 0)
			return proto_fail(e, PROTO_ACK_ARG, "\"%.32s\": expected an amount -10..10", argv[1]);
		return 0;
	case PROTO_SAMPLE:
		c->num = 1.0;
		if (argc > 1 && proto_num(argv[1], 0.0, 5.0, &c->num) < 0)
			return proto_fail(e, PROTO_ACK_ARG, "\"%.32s\": expected a temperature 0..5", argv[1]);
		/* FALLTHROUGH */
	case PROTO_CAPTURE:
		if (proto_slot(argv[0], &c->slot) < 0)
			return proto_fail(e, PROTO_ACK_ARG, "\"%.32s\": expected a slot A..%c", argv[0],
			    proto_slot_name(PROTO_SLOTS - 1));
		return 0;
	case PROTO_LOAD:
		if (argc > 2 && (proto_num(argv[2], 0, 100000, &v) < 0 || v != floor(v)))
			return proto_fail(e, PROTO_ACK_ARG, "\"%.32s\": expected a bar number 0..100000", argv[2]);
		c->bar = argc > 2 ? (long)v : 0;
		/* FALLTHROUGH */
	case PROTO_SLOT_SAVE:
	case PROTO_SLOT_LOAD:
		if (proto_slot(argv[0], &c->slot) < 0)
			return proto_fail(e, PROTO_ACK_ARG, "\"%.32s\": expected a slot A..%c", argv[0],
			    proto_slot_name(PROTO_SLOTS - 1));
		if (!proto_name_ok(argv[1]))
			return proto_fail(e, PROTO_ACK_PERMISSION, "\"%.64s\": expected a name inside the configured "
			    "directory (no absolute path, no \"..\")", argv[1]);
		snprintf(c->arg, sizeof c->arg, "%s", argv[1]);
		return 0;
	case PROTO_MODEL:
		if (!proto_name_ok(argv[0]))
			return proto_fail(e, PROTO_ACK_PERMISSION, "\"%.64s\": expected a model name inside the model "
			    "directories (no absolute path, no \"..\")", argv[0]);
		snprintf(c->arg, sizeof c->arg, "%s", argv[0]);
		return 0;
	case PROTO_MORPH:
		if (proto_slot(argv[0], &c->slot) < 0 || proto_slot(argv[1], &c->slot2) < 0)
			return proto_fail(e, PROTO_ACK_ARG, "expected two slots A..%c", proto_slot_name(PROTO_SLOTS - 1));
		if (proto_num(argv[2], 1, 4096, &v) < 0 || v != floor(v))
			return proto_fail(e, PROTO_ACK_ARG, "\"%.32s\": expected a bar count 1..4096", argv[2]);
		c->bars = (int)v;
		c->slerp = 1;
		for (int i = 3; i < argc; i++) {
			if (strcmp(argv[i], "slerp") == 0 || strcmp(argv[i], "lerp") == 0)
				c->slerp = argv[i][0] == 's';
			else if (strcmp(argv[i], "hold") == 0 || strcmp(argv[i], "pingpong") == 0)
				c->pingpong = argv[i][0] == 'p';
			else
				return proto_fail(e, PROTO_ACK_ARG, "\"%.32s\": expected slerp, lerp, hold or pingpong",
				    argv[i]);
		}
		return 0;
	case PROTO_CHORDS:
		for (int i = 0; i < argc; i++) {
			if (!proto_chord_ok(argv[i]))
				return proto_fail(e, PROTO_ACK_ARG, "\"%.32s\": not a chord symbol (e.g. C, F#m7, Bb, "
				    "N.C.)", argv[i]);
			snprintf(c->chords[i], sizeof c->chords[i], "%s", argv[i]);
		}
		c->n_chords = argc;
		return 0;
	case PROTO_KEY:
		if (strcmp(argv[0], "none") == 0) {
			c->key = -1;
			return 0;
		}
		if (proto_num(argv[0], 0, 11, &v) < 0 || v != floor(v))
			return proto_fail(e, PROTO_ACK_ARG, "\"%.32s\": expected a key 0..11 (0 = C) or none", argv[0]);
		c->key = (int)v;
		return 0;
	case PROTO_IDLE:
		c->idle_mask = argc == 0 ? PROTO_SUB_ALL : 0;
		for (int i = 0; i < argc; i++) {
			int k = 0;
			while (k < PROTO_NSUB && strcmp(argv[i], proto_subs[k]) != 0)
				k++;
			if (k == PROTO_NSUB)
				return proto_fail(e, PROTO_ACK_ARG, "\"%.32s\": no such subsystem (bar, mode, tempo, "
				    "transport, model, phrase, attr, slot, options)", argv[i]);
			c->idle_mask |= 1u << k;
		}
		return 0;
	default:
		return 0;
	}
}

int
proto_parse(const char *line, struct proto_cmd *c, struct proto_err *e)
{
	char buf[PROTO_LINE_MAX], *argv[PROTO_MAX_ARGS];
	const struct proto_def *d;
	int argc, skip;

	memset(c, 0, sizeof *c);
	c->key = -1;
	if ((argc = proto_split(line, buf, sizeof buf, argv, PROTO_MAX_ARGS, e)) < 0)
		return -1;
	if (argc == 0)
		return proto_fail(e, PROTO_ACK_UNKNOWN, "empty command (try: commands)");
	if ((d = proto_find(argc, argv, e)) == NULL) {
		snprintf(c->name, sizeof c->name, "%.31s", argv[0]);
		for (char *q = c->name; *q; q++)        /* the ACK's {command} must stay one token */
			if (*q == '{' || *q == '}' || (unsigned char)*q < 0x20 || *q == 0x7f)
				*q = '?';
		return -1;
	}
	snprintf(c->name, sizeof c->name, "%s%s%s", d->name, d->sub ? " " : "", d->sub ? d->sub : "");
	c->op = d->op;
	skip = d->sub ? 2 : 1;
	if (argc - skip < d->min || argc - skip > d->max)
		return proto_fail(e, PROTO_ACK_ARG, "wrong number of arguments (usage: %s)", d->usage);
	return proto_args(d, argc - skip, argv + skip, c, e);
}

int
proto_ack_format(char *out, size_t len, int code, int index, const char *command, const char *msg)
{
	return snprintf(out, len, "ACK [%d@%d] {%s} %s\n", code, index, command, msg);
}

int
proto_reply_end(const char *line, char *msg, size_t len)
{
	int code, index, n = 0;
	const char *end;

	if (strcmp(line, "OK") == 0)
		return 0;
	/* {} may be empty: the ACK for an empty line or one that does not split names no command */
	if (sscanf(line, "ACK [%d@%d] {%n", &code, &index, &n) >= 2 && n > 0 && code > 0 &&
	    (end = strchr(line + n, '}')) != NULL) {
		end += strspn(end + 1, " ") + 1;
		if (msg != NULL && len > 0)
			snprintf(msg, len, "%s", end);
		return code;
	}
	return -1;
}

const char *
proto_subsystem_name(int i)
{
	return i >= 0 && i < PROTO_NSUB ? proto_subs[i] : NULL;
}

const char *
proto_mode_name(int m)
{
	return m >= 0 && m < 3 ? proto_modes[m] : "?";
}

char
proto_slot_name(int i)
{
	return (char)('A' + i);
}
