/* SPDX-License-Identifier: GPL-3.0-or-later */
/* musicvae.c: the offline tool: argv, sub-command dispatch, MIDI and JSON in and out. */
#include "config.h"

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
	    "  encode MODEL in.mid...              print z (JSON) for each file (MIDI or NoteSequence JSON)\n"
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
	    "  -v, --verbose          more log output (also before the command: musicvae -v train ...)\n"
	    "  -V, --version          print the version\n", f);
}

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
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Parses options from argv[optind] on ("+": up to the first operand); returns -1 when done, else the exit
 * status (help, version, a bad option). */
static int
parse_opts(struct cli_opts *o, int argc, char **argv, const char *optstring)
{
	int ch;

	while ((ch = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		if (ch == 'V') {
			printf("musicvae %s\n", PACKAGE_VERSION);
			return 0;
		}
		if (ch == 'h' || ch == '?' || cli_opts_set(o, ch, optarg) < 0) {
			usage(ch == 'h' ? stdout : stderr);
			return ch == 'h' ? 0 : 2;
		}
	}
	return -1;
}

/* train, attributes, dataset parse their own options: the ones given before the command's name follow it, except
 * -v (already applied). Returns their exit status, or -1 when argv[lead] is none of them. */
static int
run_tool(int argc, char **argv, int lead)
{
	char **targv = calloc((size_t)argc + 1, sizeof *targv);
	int n = 0, rc;

	if (targv == NULL) {
		log_errx("out of memory");
		return 1;
	}
	targv[n++] = argv[lead];
	for (int i = 1; i < lead; i++)
		if (strcmp(argv[i], "-v") != 0 && strcmp(argv[i], "--verbose") != 0)
			targv[n++] = argv[i];
	for (int i = lead + 1; i < argc; i++)
		targv[n++] = argv[i];
	optind = 0;             /* getopt starts over on the new vector */
	rc = cli_tool(n, targv);
	free(targv);
	return rc;
}

int
main(int argc, char **argv)
{
	struct cli_opts o;
	int rc, lead;

	log_init("musicvae", LOG_LEVEL_INFO);
	cli_opts_init(&o);
	/* options may come before the command (musicvae -v train ...), then one parser per command */
	if ((rc = parse_opts(&o, argc, argv, "+o:t:s:n:vVh")) >= 0)
		goto out;
	lead = optind;
	if (lead < argc && (rc = run_tool(argc, argv, lead)) >= 0)
		goto out;
	/* COMMAND MODEL [ARGS] with options anywhere: argv[0] (the command) stands where getopt expects the program */
	argc -= lead;
	argv += lead;
	optind = 0;
	if (argc >= 1 && (rc = parse_opts(&o, argc, argv, "o:t:s:n:vVh")) >= 0)
		goto out;
	if (argc < 1 || argc - optind < 1) {
		usage(stderr);
		rc = 2;
	} else
		rc = cli_run(&o, argv[0], argv[optind], argc - optind - 1, argv + optind + 1);
out:
	cli_opts_fini(&o);
	return rc;
}
