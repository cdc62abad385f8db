/* SPDX-License-Identifier: GPL-3.0-or-later */
/* musicvae.c: the offline tool: argv, sub-command dispatch, MIDI and JSON in and out. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "lat.h"
#include "log.h"
#include "model.h"
#include "smf.h"

static void
usage(FILE *f)
{
	fputs("usage: musicvae COMMAND MODEL [ARGS] [OPTIONS]\n"
	    "  info MODEL                          describe a checkpoint directory\n"
	    "  encode MODEL in.mid...              print z (JSON) for each file\n"
	    "  decode MODEL z.json [out.mid]       decode every z in z.json\n"
	    "  sample MODEL [-n N]                 decode N samples from the prior\n"
	    "  interpolate MODEL a.mid b.mid [-n N] [--slerp]\n"
	    "  similar MODEL in.mid [-n N] [--similarity S]\n"
	    "  train --data FILE.ds -o MODEL [OPTIONS]   train a flat 2-bar model (train --help)\n"
	    "  attributes MODEL corpus.ds... [-o FILE]   attribute vectors (MODEL/attributes.json)\n"
	    "  dataset [OPTIONS] FILE.mid... -o FILE.ds  build a training set (dataset --help)\n"
	    "options:\n"
	    "  -o, --output FILE      write MIDI (all results one after another)\n"
	    "  -t, --temperature T    sampling temperature (0 = argmax; default 0.5, decode and\n"
	    "                         interpolate default 0)\n"
	    "  -s, --seed S           seed for z and token sampling (default: time; printed)\n"
	    "  -n N                   number of results (interpolate: points, ends included)\n"
	    "      --slerp            spherical interpolation (default: linear, as magenta.js)\n"
	    "      --similarity S     similar: z*S + noise*(1-S), default 0.8\n"
	    "      --bar N            encode from bar N of the input (default 0)\n"
	    "      --chords \"C G ..\"  chord progression for chord-conditioned models\n"
	    "      --key K            key (0 = C .. 11 = B) for key-conditioned models\n"
	    "      --attributes FILE  attribute vectors (JSON; default MODEL/attributes.json)\n"
	    "      --attr NAME=A      add A times attribute vector NAME to every z (repeatable)\n"
	    "      --json             print results as NoteSequence JSON instead of a grid\n"
	    "      --js-drums         magenta.js's drum input encoding (shifted no-hit column)\n"
	    "      --exact            sum products in tfjs's order (slow; for parity checks)\n"
	    "  -v, --verbose          more log output\n", f);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "temperature", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 's' },
		{ "slerp", no_argument, NULL, 'S' },
		{ "similarity", required_argument, NULL, 'm' },
		{ "bar", required_argument, NULL, 'b' },
		{ "chords", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "attributes", required_argument, NULL, 'A' },
		{ "attr", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "js-drums", no_argument, NULL, 'J' },
		{ "exact", no_argument, NULL, 'x' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_opts o;
	int ch;

	log_init("musicvae", LOG_LEVEL_INFO);
	if (argc >= 2 && (ch = cli_tool(argc - 1, argv + 1)) >= 0)
		return ch;      /* train, attributes, dataset: their own options, no MODEL first */
	cli_opts_init(&o);
	while ((ch = getopt_long(argc, argv, "o:t:s:n:vh", longopts, NULL)) != -1) {
		if (ch == 'h' || ch == '?' || cli_opts_set(&o, ch, optarg) < 0) {
			usage(ch == 'h' ? stdout : stderr);
			cli_opts_fini(&o);
			return ch == 'h' ? 0 : 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2) {
		usage(stderr);
		ch = 2;
	} else
		ch = cli_run(&o, argv[0], argv[1], argc - 2, argv + 2);
	cli_opts_fini(&o);
	return ch;
}
