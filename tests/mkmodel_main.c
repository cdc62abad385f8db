/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mkmodel_main.c: `mkmodel KIND DIR [SEED]` writes a small random-weight checkpoint for shell tests. */
#include <stdio.h>
#include <stdlib.h>

#include "mkmodel.h"

int
main(int argc, char **argv)
{
	char err[512];

	if (argc < 3) {
		fprintf(stderr, "usage: mkmodel mel|melhier|drums DIR [SEED]\n");
		return 2;
	}
	if (mkmodel(argv[2], argv[1], argc > 3 ? strtoull(argv[3], NULL, 10) : 1, err, sizeof err) < 0) {
		fprintf(stderr, "mkmodel: %s\n", err);
		return 1;
	}
	return 0;
}
