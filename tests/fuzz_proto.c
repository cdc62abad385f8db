/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz_proto.c: libFuzzer target: any line into the control protocol's parser gives a command or an ACK that
 * explains itself, never a crash; a parsed command's strings are terminated and its numbers in range. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Does the relative path s have a ".." component? */
static int
fuzz_dotdot(const char *s)
{
	for (const char *p = s; (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == s || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[PROTO_LINE_MAX], ack[600], msg[300];
	struct proto_cmd c;
	struct proto_err e;
	size_t n = size < sizeof line - 1 ? size : sizeof line - 1;

	memcpy(line, data, n);
	line[n] = '\0';
	if (proto_parse(line, &c, &e) < 0) {
		if (e.code <= 0 || e.msg[0] == '\0' || memchr(e.msg, '\0', sizeof e.msg) == NULL)
			abort();        /* every refusal has a code and a message */
		proto_ack_format(ack, sizeof ack, e.code, 0, c.name, e.msg);
		if (strchr(ack, '\n') != NULL)
			*strchr(ack, '\n') = '\0';
		if (proto_reply_end(ack, msg, sizeof msg) != e.code)
			abort();        /* and reads back as the same ACK */
		return 0;
	}
	if (c.op < 0 || c.op >= PROTO_NOPS || memchr(c.arg, '\0', sizeof c.arg) == NULL ||
	    c.slot < 0 || c.slot >= PROTO_SLOTS || c.slot2 < 0 || c.slot2 >= PROTO_SLOTS || !isfinite(c.num) ||
	    c.n_chords < 0 || c.n_chords > PROTO_MAX_CHORDS)
		abort();
	if ((c.op == PROTO_TEMPO && (c.num < 20 || c.num > 400)) || (c.op == PROTO_TEMPERATURE && (c.num < 0 ||
	    c.num > 5)) || ((c.op == PROTO_ATTR_SET || c.op == PROTO_ATTR_NUDGE) && fabs(c.num) > 10))
		abort();
	if ((c.op == PROTO_LOAD || c.op == PROTO_SLOT_SAVE || c.op == PROTO_SLOT_LOAD || c.op == PROTO_MODEL) &&
	    (c.arg[0] == '/' || fuzz_dotdot(c.arg)))
		abort();        /* no way out of the configured directories */
	return 0;
}
