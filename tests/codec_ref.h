/* SPDX-License-Identifier: GPL-3.0-or-later */
/* codec_ref.h: compares src/codec.c and src/ctrl.c with golden data from tests/ref/codec_ref.js (TAP). */
#ifndef MVD_CODEC_REF_H
#define MVD_CODEC_REF_H

/* Reads the JSON file at path and prints one TAP test per group; returns the exit status. */
int codec_ref_run(const char *path);

#endif
