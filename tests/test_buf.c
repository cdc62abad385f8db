/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_buf.c: buf.h, the file writers' byte buffer: byte orders, growth past the first allocation, the oom flag. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tap.h"

int
main(void)
{
	static const unsigned char want[] = { 0x04, 0x03, 0x02, 0x01, 0x01, 0x02, 0x03, 0x04, 0xab, 0x12, 0x34 };
	struct buf b = { 0 };
	int same = 1;

	buf_put_le(&b, 0x01020304u, 4);
	buf_put_be(&b, 0x01020304u, 4);
	buf_put(&b, "\xab", 1);
	buf_put_be(&b, 0xff1234u, 2);           /* only the low two bytes */
	ok(b.n == sizeof want && memcmp(b.p, want, sizeof want) == 0 && !b.oom,
	    "little- and big-endian fields and raw bytes, in order (%zu bytes)", b.n);
	for (int i = 0; i < 10000; i++)
		buf_put_le(&b, (uint64_t)i, 2);
	for (int i = 0; i < 10000 && same; i++)
		same = b.p[sizeof want + 2 * i] == (unsigned char)i && b.p[sizeof want + 2 * i + 1] == (unsigned char)(i >> 8);
	ok(b.n == sizeof want + 20000 && b.cap >= b.n && same && !b.oom,
	    "20,000 more bytes grow the buffer past its first 4,096 and keep every byte (cap %zu)", b.cap);
	buf_put(&b, NULL, 0);
	ok(b.n == sizeof want + 20000, "an empty append changes nothing");
	b.oom = 1;
	buf_put(&b, "x", 1);
	ok(b.n == sizeof want + 20000, "after a failed growth every append is dropped");
	free(b.p);
	plan(tap_n);
	return done_testing();
}
