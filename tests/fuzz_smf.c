/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz_smf.c: libFuzzer target: any bytes into smf_read_mem must give notes or an error, never a crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seq s;
	char err[256];
	unsigned char *out;
	size_t outlen;

	seq_init(&s);
	err[0] = '\0';
	if (smf_read_mem(data, size, "fuzz.mid", &s, err, sizeof err) == -1) {
		if (err[0] == '\0' || strncmp(err, "fuzz.mid: ", 10) != 0)
			abort();                /* every failure explains itself */
	} else if (smf_write_mem(&s, &out, &outlen, err, sizeof err) == 0) {
		free(out);                      /* the writer takes what the reader gives */
	} else if (err[0] == '\0') {
		abort();                        /* (notes past 2^28 ticks at 480 ppq are refused, with a reason) */
	}
	seq_fini(&s);
	return 0;
}
