/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cmd.h: the offline tool's subcommands that parse their own options (train, dataset, attributes). */
#ifndef MVD_CMD_H
#define MVD_CMD_H

/* `musicvae train ...` (argv[0] = "train"): trains a flat 2-bar model; returns the exit status. */
int cmd_train(int argc, char **argv);
/* `musicvae dataset ...`: builds a dataset file from MIDI files and prints the counts per package. */
int cmd_dataset(int argc, char **argv);
/* `musicvae attributes MODEL corpus.ds... [-o FILE] [--split train|valid|all] [--check]`. */
int cmd_attributes(int argc, char **argv);

#endif
