/* SPDX-License-Identifier: GPL-3.0-or-later */
/* proto.h: the control protocol's wire format, shared by the daemon (daemon/ctl.c) and musicvaectl: one command
 * per line, arguments split at blanks or "double-quoted" (\" and \\ escaped), replies of "key: value" lines
 * ending in "OK" or "ACK [code@index] {command} message" as MPD's protocol does. Pure functions, no I/O. */
#ifndef MVD_PROTO_H
#define MVD_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION "1.0"
#define PROTO_GREETING "OK MUSICVAED " PROTO_VERSION
#define PROTO_LINE_MAX 4096     /* default bound on a command line, terminator included */
#define PROTO_MAX_ARGS 32
#define PROTO_ARG_MAX 256       /* longest argument (file and slot names, attribute names) */
#define PROTO_MAX_CHORDS 16
#define PROTO_SLOTS 8           /* latent slots A..H */
#define PROTO_LIST_MAX 64       /* commands in one command list */
#define PROTO_CANDIDATES_MAX 8  /* continue: answers decoded per window (the engine's CAND_MAX) */

/* ACK codes (MPD's numbers where the meaning is the same). */
enum proto_ack {
	PROTO_ACK_NOT_LIST = 1,         /* command_list_end without a begin */
	PROTO_ACK_ARG = 2,              /* wrong number or form of arguments, out of range */
	PROTO_ACK_PERMISSION = 4,       /* a path outside the configured directories */
	PROTO_ACK_UNKNOWN = 5,          /* no such command */
	PROTO_ACK_NO_EXIST = 50,        /* no such attribute, slot content, file or model */
	PROTO_ACK_SYSTEM = 52,          /* I/O or out of memory */
	PROTO_ACK_STATE = 54,           /* not possible now (e.g. tempo on an external clock, nothing captured) */
	PROTO_ACK_BUSY = 56,            /* the engine queue is full: try again */
};

enum proto_op {
	PROTO_STATUS, PROTO_MODE, PROTO_TEMPO, PROTO_TEMPERATURE, PROTO_SEED, PROTO_WALK, PROTO_CANDIDATES,
	PROTO_ATTR_LIST, PROTO_ATTR_SET, PROTO_ATTR_NUDGE, PROTO_ATTR_RESET,
	PROTO_CAPTURE, PROTO_SAMPLE, PROTO_LOAD, PROTO_SLOT_LIST, PROTO_SLOT_SAVE, PROTO_SLOT_LOAD,
	PROTO_MORPH, PROTO_CHORDS, PROTO_KEY, PROTO_MODEL, PROTO_BARS, PROTO_PANIC,
	PROTO_PING, PROTO_CLOSE, PROTO_COMMANDS, PROTO_IDLE, PROTO_NOIDLE,
	PROTO_LIST_BEGIN, PROTO_LIST_OK_BEGIN, PROTO_LIST_END,
	PROTO_NOPS
};

/* What `idle` waits for (bit i = subsystem i of proto_subsystem_name). */
enum proto_subsystem {
	PROTO_SUB_BAR, PROTO_SUB_MODE, PROTO_SUB_TEMPO, PROTO_SUB_TRANSPORT, PROTO_SUB_MODEL, PROTO_SUB_PHRASE,
	PROTO_SUB_ATTR, PROTO_SUB_SLOT, PROTO_SUB_OPTIONS, PROTO_NSUB
};
#define PROTO_SUB_ALL ((1u << PROTO_NSUB) - 1)

enum proto_mode_arg { PROTO_MODE_GENERATE, PROTO_MODE_CONTINUE, PROTO_MODE_MORPH };

/* One parsed command; strings are copies (the line may go). */
struct proto_cmd {
	enum proto_op op;
	char name[32];                  /* the command as typed ("attr set"), for ACK's {command} */
	int slot, slot2;                /* 0..PROTO_SLOTS-1 */
	int mode;                       /* enum proto_mode_arg */
	int bars, slerp, pingpong;      /* morph */
	int key;                        /* key: 0..11, -1 = none */
	int has_num;
	double num;                     /* tempo, temperature, walk, candidates, amount, delta, sample's temp. */
	uint64_t seed;
	long bar;                       /* load: first bar of the file (0) */
	char arg[PROTO_ARG_MAX];        /* attribute, file, slot-save or model name */
	int n_chords;
	char chords[PROTO_MAX_CHORDS][16];
	unsigned idle_mask;             /* idle: subsystems (PROTO_SUB_ALL when none given) */
};

/* A failure to report: code and message (the caller adds the index and command). */
struct proto_err {
	int code;                       /* enum proto_ack */
	char msg[256];
};

/* Fills e with code and the formatted message; returns -1 (`return proto_fail(...)`). */
int proto_fail(struct proto_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Splits line (no newline) into at most max arguments written into buf[len] as NUL-separated strings;
 * argv[i] point into buf. Returns the count, or -1 with e for an unterminated quote, a bad escape, too many
 * or too long arguments. */
int proto_split(const char *line, char *buf, size_t len, char **argv, int max, struct proto_err *e);
/* Parses one command line into c. Returns 0, or -1 with e (code and message naming what was wrong). */
int proto_parse(const char *line, struct proto_cmd *c, struct proto_err *e);
/* Formats "ACK [code@index] {command} message\n" into out[len]; returns its length (truncated like snprintf). */
int proto_ack_format(char *out, size_t len, int code, int index, const char *command, const char *msg);
/* Parses a reply's last line: 0 for "OK", the ACK code (> 0) for an ACK (message into msg), -1 for neither. */
int proto_reply_end(const char *line, char *msg, size_t len);
/* Name of subsystem i ("bar", "mode", ...), or NULL. */
const char *proto_subsystem_name(int i);
/* Name of mode m ("generate", "continue", "morph"). */
const char *proto_mode_name(int m);
/* Slot letter of index i ('A'..). */
char proto_slot_name(int i);
/* Every command's usage line, one per entry, NULL-terminated (for `commands` and the man page). */
extern const char *const proto_usage[];

#endif
