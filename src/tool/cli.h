/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli.h: the offline tool's commands (info, encode, decode, sample, interpolate, similar; train, attributes,
 * dataset). */
#ifndef MVD_CLI_H
#define MVD_CLI_H

#include <stdint.h>

#define CLI_MAX_ATTRS 16

struct cli_opts {
	const char *output;     /* MIDI file to write, or NULL */
	float temperature;      /* < 0: the command's default */
	uint64_t seed;
	int have_seed;
	int n;                  /* results; 0 = the command's default */
	int slerp;
	float similarity;
	int bar;                /* first bar of the input to encode */
	const char *chords;     /* space-separated chord symbols */
	int key;                /* -1 = none */
	const char *attr_file;
	int n_attrs;
	char *attr_name[CLI_MAX_ATTRS];
	float attr_amount[CLI_MAX_ATTRS];
	int json;
	int js_drums;
	int exact;
	int verbose;
};

/* Defaults. */
void cli_opts_init(struct cli_opts *o);
/* Frees what cli_opts_set copied (attribute names). */
void cli_opts_fini(struct cli_opts *o);
/* Applies one getopt option; logs what was wrong and returns -1 for a bad value. */
int cli_opts_set(struct cli_opts *o, int opt, const char *arg);
/* Runs the commands that parse their own options (train, attributes, dataset; argv[0] = the command) and
 * returns the exit status, or -1 when argv[0] is none of them. */
int cli_tool(int argc, char **argv);
/* Runs COMMAND on MODEL with the remaining arguments; returns the process exit status. */
int cli_run(struct cli_opts *o, const char *command, const char *model, int argc, char **argv);

#endif
