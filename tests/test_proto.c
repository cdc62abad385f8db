/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_proto.c: the control protocol parser: every command, every refusal, quoting, ACK lines and reply ends. */
#include <string.h>

#include "proto.h"
#include "tap.h"

/* A line as it can go into a TAP description: control characters as '?', at most 60 bytes. */
static const char *
shown(const char *line)
{
	static char buf[80];
	size_t i;

	for (i = 0; line[i] && i < 60; i++)
		buf[i] = (unsigned char)line[i] < 0x20 || line[i] == 0x7f ? '?' : line[i];
	snprintf(buf + i, sizeof buf - i, "%s", line[i] ? "..." : "");
	return buf;
}

static struct proto_cmd cmd;
static struct proto_err err;

static int
parse_ok(const char *line, enum proto_op op, const char *name)
{
	int r;

	memset(&err, 0, sizeof err);
	r = proto_parse(line, &cmd, &err);
	if (!ok(r == 0 && cmd.op == op && strcmp(cmd.name, name) == 0, "parses: %s", shown(line)))
		diag("  r %d, op %d, name \"%s\", ACK %d %s", r, (int)cmd.op, cmd.name, err.code, err.msg);
	return r == 0;
}

static void
parse_ack(const char *line, int code, const char *msg_part)
{
	int r;

	memset(&err, 0, sizeof err);
	r = proto_parse(line, &cmd, &err);
	if (!ok(r == -1 && err.code == code && strstr(err.msg, msg_part) != NULL, "ACK %d (%s): %s", code, msg_part,
	    shown(line)))
		diag("  r %d, ACK %d \"%s\"", r, err.code, err.msg);
}

/* Every command once with valid arguments, and what it parsed into. */
static void
test_commands(void)
{
	parse_ok("status", PROTO_STATUS, "status");
	if (parse_ok("mode continue", PROTO_MODE, "mode"))
		is_int(cmd.mode, PROTO_MODE_CONTINUE, "mode continue -> PROTO_MODE_CONTINUE");
	parse_ok("mode generate", PROTO_MODE, "mode");
	parse_ok("mode morph", PROTO_MODE, "mode");
	if (parse_ok("tempo 96.5", PROTO_TEMPO, "tempo"))
		is_float(cmd.num, 96.5, 0, "tempo 96.5");
	parse_ok("tempo 20", PROTO_TEMPO, "tempo");
	parse_ok("tempo 400", PROTO_TEMPO, "tempo");
	if (parse_ok("temperature 0", PROTO_TEMPERATURE, "temperature"))
		is_float(cmd.num, 0, 0, "temperature 0 (argmax)");
	parse_ok("temperature 5", PROTO_TEMPERATURE, "temperature");
	if (parse_ok("seed 18446744073709551615", PROTO_SEED, "seed"))
		ok(cmd.seed == UINT64_MAX, "seed 2^64-1");
	parse_ok("walk 0", PROTO_WALK, "walk");
	parse_ok("walk 1", PROTO_WALK, "walk");
	if (parse_ok("candidates 8", PROTO_CANDIDATES, "candidates"))
		is_float(cmd.num, 8, 0, "candidates 8");
	parse_ok("candidates 1", PROTO_CANDIDATES, "candidates");
	parse_ok("attr list", PROTO_ATTR_LIST, "attr list");
	if (parse_ok("attr set note_density -0.8", PROTO_ATTR_SET, "attr set"))
		ok(strcmp(cmd.arg, "note_density") == 0 && cmd.num == -0.8, "attr set: name and amount");
	parse_ok("attr set x 10", PROTO_ATTR_SET, "attr set");
	parse_ok("attr nudge x -10", PROTO_ATTR_NUDGE, "attr nudge");
	parse_ok("attr reset", PROTO_ATTR_RESET, "attr reset");
	if (parse_ok("capture c", PROTO_CAPTURE, "capture"))
		is_int(cmd.slot, 2, "capture c: slot C (lower case)");
	if (parse_ok("sample H", PROTO_SAMPLE, "sample"))
		ok(cmd.slot == 7 && cmd.num == 1.0, "sample H: slot 7, temperature 1 by default");
	if (parse_ok("sample B 0.25", PROTO_SAMPLE, "sample"))
		ok(cmd.slot == 1 && cmd.num == 0.25, "sample B 0.25");
	if (parse_ok("load A phrase.mid", PROTO_LOAD, "load"))
		ok(cmd.slot == 0 && cmd.bar == 0 && strcmp(cmd.arg, "phrase.mid") == 0, "load: slot, file, bar 0");
	if (parse_ok("load D songs/verse.mid 12", PROTO_LOAD, "load"))
		ok(cmd.slot == 3 && cmd.bar == 12 && strcmp(cmd.arg, "songs/verse.mid") == 0, "load: a sub-directory, bar 12");
	parse_ok("slot list", PROTO_SLOT_LIST, "slot list");
	if (parse_ok("slot save E chorus", PROTO_SLOT_SAVE, "slot save"))
		ok(cmd.slot == 4 && strcmp(cmd.arg, "chorus") == 0, "slot save E chorus");
	parse_ok("slot load F chorus", PROTO_SLOT_LOAD, "slot load");
	if (parse_ok("morph A B 8", PROTO_MORPH, "morph"))
		ok(cmd.slot == 0 && cmd.slot2 == 1 && cmd.bars == 8 && cmd.slerp == 1 && cmd.pingpong == 0,
		    "morph A B 8: slerp and hold by default");
	if (parse_ok("morph H a 4096 lerp pingpong", PROTO_MORPH, "morph"))
		ok(cmd.slot == 7 && cmd.slot2 == 0 && cmd.bars == 4096 && cmd.slerp == 0 && cmd.pingpong == 1,
		    "morph H a 4096 lerp pingpong");
	parse_ok("morph A B 1 pingpong slerp", PROTO_MORPH, "morph");
	if (parse_ok("chords C G Am F#m7 Bb C/E N.C.", PROTO_CHORDS, "chords"))
		ok(cmd.n_chords == 7 && strcmp(cmd.chords[3], "F#m7") == 0 && strcmp(cmd.chords[6], "N.C.") == 0,
		    "chords: 7 symbols kept");
	parse_ok("chords C C C C C C C C C C C C C C C C", PROTO_CHORDS, "chords");
	if (parse_ok("key 11", PROTO_KEY, "key"))
		is_int(cmd.key, 11, "key 11");
	if (parse_ok("key none", PROTO_KEY, "key"))
		is_int(cmd.key, -1, "key none -> -1");
	if (parse_ok("model mel_2bar", PROTO_MODEL, "model"))
		ok(strcmp(cmd.arg, "mel_2bar") == 0, "model name kept");
	parse_ok("model magenta/mel_16bar", PROTO_MODEL, "model");
	parse_ok("bars", PROTO_BARS, "bars");
	parse_ok("panic", PROTO_PANIC, "panic");
	parse_ok("ping", PROTO_PING, "ping");
	parse_ok("close", PROTO_CLOSE, "close");
	parse_ok("commands", PROTO_COMMANDS, "commands");
	if (parse_ok("idle", PROTO_IDLE, "idle"))
		ok(cmd.idle_mask == PROTO_SUB_ALL, "idle without subsystems waits for all");
	if (parse_ok("idle bar attr", PROTO_IDLE, "idle"))
		ok(cmd.idle_mask == (1u << PROTO_SUB_BAR | 1u << PROTO_SUB_ATTR), "idle bar attr: two bits");
	parse_ok("idle bar mode tempo transport model phrase attr slot options", PROTO_IDLE, "idle");
	parse_ok("noidle", PROTO_NOIDLE, "noidle");
	parse_ok("command_list_begin", PROTO_LIST_BEGIN, "command_list_begin");
	parse_ok("command_list_ok_begin", PROTO_LIST_OK_BEGIN, "command_list_ok_begin");
	parse_ok("command_list_end", PROTO_LIST_END, "command_list_end");
	parse_ok("  \tping \r", PROTO_PING, "ping");
	parse_ok("ping\r\n", PROTO_PING, "ping");
}

/* Each command with one argument too few (when it needs any) and one too many. */
static void
test_counts(void)
{
	static const struct {
		const char *cmd;
		int min, max;
	} defs[] = {
		{ "status", 0, 0 }, { "mode", 1, 1 }, { "tempo", 1, 1 }, { "temperature", 1, 1 }, { "seed", 1, 1 },
		{ "walk", 1, 1 }, { "candidates", 1, 1 }, { "attr list", 0, 0 }, { "attr set", 2, 2 }, { "attr nudge", 2, 2 },
		{ "attr reset", 0, 0 }, { "capture", 1, 1 }, { "sample", 1, 2 }, { "load", 2, 3 },
		{ "slot list", 0, 0 }, { "slot save", 2, 2 }, { "slot load", 2, 2 }, { "morph", 3, 5 },
		{ "chords", 1, PROTO_MAX_CHORDS }, { "key", 1, 1 }, { "model", 1, 1 }, { "bars", 0, 0 },
		{ "panic", 0, 0 }, { "ping", 0, 0 }, { "close", 0, 0 }, { "commands", 0, 0 },
		{ "idle", 0, PROTO_NSUB }, { "noidle", 0, 0 }, { "command_list_begin", 0, 0 },
		{ "command_list_ok_begin", 0, 0 }, { "command_list_end", 0, 0 },
	};

	for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
		char line[256];
		size_t o;
		if (defs[i].min > 0) {
			o = (size_t)snprintf(line, sizeof line, "%s", defs[i].cmd);
			for (int k = 0; k < defs[i].min - 1; k++)
				o += (size_t)snprintf(line + o, sizeof line - o, " A");
			parse_ack(line, PROTO_ACK_ARG, "wrong number of arguments");
		}
		o = (size_t)snprintf(line, sizeof line, "%s", defs[i].cmd);
		for (int k = 0; k < defs[i].max + 1; k++)
			o += (size_t)snprintf(line + o, sizeof line - o, " A");
		parse_ack(line, PROTO_ACK_ARG, "wrong number of arguments");
	}
	ok(strcmp(cmd.name, "command_list_end") == 0, "a refused command still names itself for {command}");
}

/* Numbers out of range or not numbers. */
static void
test_ranges(void)
{
	parse_ack("tempo 19.99", PROTO_ACK_ARG, "20..400");
	parse_ack("tempo 400.01", PROTO_ACK_ARG, "20..400");
	parse_ack("tempo fast", PROTO_ACK_ARG, "20..400");
	parse_ack("tempo 120bpm", PROTO_ACK_ARG, "20..400");
	parse_ack("tempo nan", PROTO_ACK_ARG, "20..400");
	parse_ack("tempo inf", PROTO_ACK_ARG, "20..400");
	parse_ack("tempo \"\"", PROTO_ACK_ARG, "20..400");
	parse_ack("temperature -0.01", PROTO_ACK_ARG, "0..5");
	parse_ack("temperature 5.01", PROTO_ACK_ARG, "0..5");
	parse_ack("walk 1.5", PROTO_ACK_ARG, "0..1");
	parse_ack("walk -1", PROTO_ACK_ARG, "0..1");
	parse_ack("candidates 0", PROTO_ACK_ARG, "1..8");
	parse_ack("candidates 9", PROTO_ACK_ARG, "1..8");
	parse_ack("candidates 2.5", PROTO_ACK_ARG, "1..8");
	parse_ack("seed 0", PROTO_ACK_ARG, "1..18446744073709551615");
	parse_ack("seed -1", PROTO_ACK_ARG, "1..18446744073709551615");
	parse_ack("seed 18446744073709551616", PROTO_ACK_ARG, "1..18446744073709551615");
	parse_ack("seed 7x", PROTO_ACK_ARG, "1..18446744073709551615");
	parse_ack("seed +7", PROTO_ACK_ARG, "1..18446744073709551615");
	parse_ack("attr set x 10.5", PROTO_ACK_ARG, "-10..10");
	parse_ack("attr nudge x -11", PROTO_ACK_ARG, "-10..10");
	parse_ack("attr set x much", PROTO_ACK_ARG, "-10..10");
	parse_ack("sample A 6", PROTO_ACK_ARG, "0..5");
	parse_ack("load A a.mid -1", PROTO_ACK_ARG, "0..100000");
	parse_ack("load A a.mid 1.5", PROTO_ACK_ARG, "0..100000");
	parse_ack("load A a.mid 100001", PROTO_ACK_ARG, "0..100000");
	parse_ack("morph A B 0", PROTO_ACK_ARG, "1..4096");
	parse_ack("morph A B 4097", PROTO_ACK_ARG, "1..4096");
	parse_ack("morph A B 2.5", PROTO_ACK_ARG, "1..4096");
	parse_ack("morph A B 8 wobble", PROTO_ACK_ARG, "slerp, lerp, hold or pingpong");
	parse_ack("key 12", PROTO_ACK_ARG, "0..11");
	parse_ack("key -1", PROTO_ACK_ARG, "0..11");
	parse_ack("key 1.5", PROTO_ACK_ARG, "0..11");
	parse_ack("key C", PROTO_ACK_ARG, "0..11");
}

/* Slots, modes, names, chords, subsystems, unknown commands. */
static void
test_words(void)
{
	parse_ack("capture I", PROTO_ACK_ARG, "slot A..H");
	parse_ack("capture AB", PROTO_ACK_ARG, "slot A..H");
	parse_ack("capture 1", PROTO_ACK_ARG, "slot A..H");
	parse_ack("sample \"\"", PROTO_ACK_ARG, "slot A..H");
	parse_ack("load Z a.mid", PROTO_ACK_ARG, "slot A..H");
	parse_ack("slot save Q x", PROTO_ACK_ARG, "slot A..H");
	parse_ack("morph A Z 4", PROTO_ACK_ARG, "two slots");
	parse_ack("mode jazz", PROTO_ACK_ARG, "generate, continue or morph");
	parse_ack("mode Generate", PROTO_ACK_ARG, "generate, continue or morph");
	parse_ack("load A ../secret.mid", PROTO_ACK_PERMISSION, "no \"..\"");
	parse_ack("load A songs/../../x.mid", PROTO_ACK_PERMISSION, "no \"..\"");
	parse_ack("slot load A a/..", PROTO_ACK_PERMISSION, "no \"..\"");
	parse_ack("model ..", PROTO_ACK_PERMISSION, "no \"..\"");
	parse_ack("load A /etc/passwd", PROTO_ACK_PERMISSION, "no absolute path");
	parse_ack("slot save A /tmp/z", PROTO_ACK_PERMISSION, "no absolute path");
	parse_ack("model /usr/share/musicvaed/models/mel_2bar", PROTO_ACK_PERMISSION, "no absolute path");
	parse_ack("model a//b", PROTO_ACK_PERMISSION, "model name");
	parse_ack("model a/", PROTO_ACK_PERMISSION, "model name");
	parse_ack("model \"\"", PROTO_ACK_PERMISSION, "model name");
	parse_ack("model \"a\001b\"", PROTO_ACK_ARG, "control character 0x01");
	parse_ack("chords H", PROTO_ACK_ARG, "not a chord symbol");
	parse_ack("chords c", PROTO_ACK_ARG, "not a chord symbol");
	parse_ack("chords C Cm!", PROTO_ACK_ARG, "not a chord symbol");
	parse_ack("chords Cmaj7add9sus4b13", PROTO_ACK_ARG, "not a chord symbol");
	parse_ack("chords N.C", PROTO_ACK_ARG, "not a chord symbol");
	parse_ack("idle bar jazz", PROTO_ACK_ARG, "no such subsystem");
	parse_ack("frobnicate", PROTO_ACK_UNKNOWN, "unknown command");
	ok(strcmp(cmd.name, "frobnicate") == 0, "an unknown command is named in {command}");
	parse_ack("STATUS", PROTO_ACK_UNKNOWN, "unknown command");
	parse_ack("", PROTO_ACK_UNKNOWN, "empty command");
	parse_ack("   \t ", PROTO_ACK_UNKNOWN, "empty command");
	parse_ack("attr", PROTO_ACK_ARG, "list|set|nudge|reset");
	parse_ack("attr frob x", PROTO_ACK_ARG, "list|set|nudge|reset");
	parse_ack("slot", PROTO_ACK_ARG, "list|save|load");
	parse_ack("slot drop A", PROTO_ACK_ARG, "list|save|load");
}

/* The tokenizer: quotes, escapes, limits, control characters. */
static void
test_split(void)
{
	char buf[PROTO_LINE_MAX], *argv[PROTO_MAX_ARGS], line[PROTO_LINE_MAX + 64], name[PROTO_ARG_MAX + 1];
	int n;

	n = proto_split("attr  set\t\"my attr\" 0.5", buf, sizeof buf, argv, PROTO_MAX_ARGS, &err);
	ok(n == 4 && strcmp(argv[2], "my attr") == 0 && strcmp(argv[3], "0.5") == 0, "a quoted argument keeps its blank");
	n = proto_split("x \"a\\\"b\\\\c\" \"\" y", buf, sizeof buf, argv, PROTO_MAX_ARGS, &err);
	ok(n == 4 && strcmp(argv[1], "a\"b\\c") == 0 && strcmp(argv[2], "") == 0 && strcmp(argv[3], "y") == 0,
	    "\\\" and \\\\ escapes, an empty quoted argument");
	n = proto_split("x a\\b", buf, sizeof buf, argv, PROTO_MAX_ARGS, &err);
	ok(n == 2 && strcmp(argv[1], "a\\b") == 0, "a backslash outside quotes is a plain character");
	n = proto_split("a b\r\n", buf, sizeof buf, argv, PROTO_MAX_ARGS, &err);
	is_int(n, 2, "CR LF ends the line");
	n = proto_split("", buf, sizeof buf, argv, PROTO_MAX_ARGS, &err);
	is_int(n, 0, "an empty line has no arguments");
	parse_ack("attr set \"my attr 1", PROTO_ACK_ARG, "unterminated quote");
	parse_ack("attr set \"a\\nb\" 1", PROTO_ACK_ARG, "escapes");
	parse_ack("attr set \"a\\", PROTO_ACK_ARG, "escapes");
	parse_ack("attr set \"a\"b 1", PROTO_ACK_ARG, "a quote must end the argument");
	parse_ack("attr set a\x01z 1", PROTO_ACK_ARG, "control character 0x01");
	parse_ack("attr set a\x7fz 1", PROTO_ACK_ARG, "control character 0x7f");
	parse_ack("attr set \"a\x1b[2Jz\" 1", PROTO_ACK_ARG, "control character 0x1b");
	parse_ack("attr set \"a\tb\" 1", PROTO_ACK_ARG, "control character 0x09");

	snprintf(line, sizeof line, "chords");
	for (int i = 0; i < PROTO_MAX_ARGS; i++)
		strcat(line, " C");
	parse_ack(line, PROTO_ACK_ARG, "too many arguments");
	n = proto_split(line, buf, sizeof buf, argv, PROTO_MAX_ARGS - 1, &err);
	is_int(n, -1, "proto_split honours a smaller max");

	memset(name, 'n', PROTO_ARG_MAX - 1);
	name[PROTO_ARG_MAX - 1] = '\0';
	snprintf(line, sizeof line, "attr set %s 1", name);
	if (parse_ok(line, PROTO_ATTR_SET, "attr set"))
		is_int((long long)strlen(cmd.arg), PROTO_ARG_MAX - 1, "an argument of %d bytes is kept whole",
		    PROTO_ARG_MAX - 1);
	memset(name, 'n', PROTO_ARG_MAX);
	name[PROTO_ARG_MAX] = '\0';
	snprintf(line, sizeof line, "attr set %s 1", name);
	parse_ack(line, PROTO_ACK_ARG, "longer than 255 bytes");
	snprintf(line, sizeof line, "attr set \"%s\" 1", name);
	parse_ack(line, PROTO_ACK_ARG, "longer than 255 bytes");
}

/* A caller's buffer that the arguments fill exactly: nothing is written past it. */
static void
test_split_bounds(void)
{
	char buf[8], *argv[4];
	int n;

	memset(buf, '#', sizeof buf);
	n = proto_split("a \"\"", buf, 2, argv, 4, &err);
	ok(n == -1 && buf[2] == '#', "an empty quoted argument after a full buffer is refused, not written");
	memset(buf, '#', sizeof buf);
	n = proto_split("ab", buf, 2, argv, 4, &err);
	ok(n == -1 && buf[2] == '#', "an argument longer than the buffer is refused");
	memset(buf, '#', sizeof buf);
	n = proto_split("a b", buf, 4, argv, 4, &err);
	ok(n == 2 && buf[4] == '#' && strcmp(argv[1], "b") == 0, "two arguments that fill the buffer exactly");
}

/* ACK lines, reply ends, names. */
static void
test_replies(void)
{
	char line[512], msg[256];
	int n;

	n = proto_ack_format(line, sizeof line, PROTO_ACK_ARG, 3, "attr set", "\"x\": expected an amount -10..10");
	ok(strcmp(line, "ACK [2@3] {attr set} \"x\": expected an amount -10..10\n") == 0, "proto_ack_format");
	is_int(n, (long long)strlen(line), "proto_ack_format returns the length");
	line[n - 1] = '\0';
	is_int(proto_reply_end(line, msg, sizeof msg), PROTO_ACK_ARG, "proto_reply_end reads the code back");
	ok(strcmp(msg, "\"x\": expected an amount -10..10") == 0, "... and the message");
	is_int(proto_ack_format(line, 8, 50, 0, "model", "no such model"), 33, "a truncated ACK returns the full length");
	ok(strcmp(line, "ACK [50") == 0, "... and is cut like snprintf");
	proto_ack_format(line, sizeof line, PROTO_ACK_UNKNOWN, 0, "", "empty command (try: commands)");
	line[strlen(line) - 1] = '\0';
	is_int(proto_reply_end(line, msg, sizeof msg), PROTO_ACK_UNKNOWN, "an ACK with an empty {} is an ACK");
	ok(strcmp(msg, "empty command (try: commands)") == 0, "... with its message");
	is_int(proto_reply_end("ACK [56@2] {sample} queue full", NULL, 0), PROTO_ACK_BUSY, "msg may be NULL");
	is_int(proto_reply_end("ACK [54@0] {tempo} ", msg, sizeof msg), PROTO_ACK_STATE, "an empty message");
	is_int(proto_reply_end("ACK [0@0] {x} y", msg, sizeof msg), -1, "code 0 is not an ACK");
	is_int(proto_reply_end("ACK [2@0] no braces", msg, sizeof msg), -1, "an ACK needs {command}");
	is_int(proto_reply_end("ACK [2@0] {unclosed", msg, sizeof msg), -1, "an ACK needs the closing brace");
	is_int(proto_reply_end("OK", msg, sizeof msg), 0, "OK ends a reply");
	is_int(proto_reply_end("OK MUSICVAED 1.0", msg, sizeof msg), -1, "the greeting is not a reply end");
	is_int(proto_reply_end("list_OK", msg, sizeof msg), -1, "list_OK is not a reply end");
	is_int(proto_reply_end("changed: bar", msg, sizeof msg), -1, "a key: value line is not a reply end");
	is_int(proto_reply_end("OK ", msg, sizeof msg), -1, "OK with trailing text is not a reply end");
	ok(strcmp(PROTO_GREETING, "OK MUSICVAED 1.0") == 0, "the greeting");
	ok(strcmp(proto_subsystem_name(PROTO_SUB_BAR), "bar") == 0 &&
	    strcmp(proto_subsystem_name(PROTO_SUB_OPTIONS), "options") == 0 && proto_subsystem_name(PROTO_NSUB) == NULL &&
	    proto_subsystem_name(-1) == NULL, "subsystem names");
	ok(strcmp(proto_mode_name(PROTO_MODE_MORPH), "morph") == 0 && strcmp(proto_mode_name(7), "?") == 0, "mode names");
	ok(proto_slot_name(0) == 'A' && proto_slot_name(PROTO_SLOTS - 1) == 'H', "slot names");
}

/* Every usage line starts with a command the parser knows. */
static void
test_usage(void)
{
	int n = 0, known = 0;

	for (; proto_usage[n] != NULL; n++) {
		char first[64];
		sscanf(proto_usage[n], "%63s", first);
		known += proto_parse(first, &cmd, &err) == 0 || err.code != PROTO_ACK_UNKNOWN;
	}
	ok(n >= 25 && known == n, "every one of the %d usage lines names a known command", n);
}

int
main(void)
{
	plan(233);
	test_commands();
	test_counts();
	test_ranges();
	test_words();
	test_split();
	test_split_bounds();
	test_replies();
	test_usage();
	return done_testing();
}
