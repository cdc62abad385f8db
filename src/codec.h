/* SPDX-License-Identifier: GPL-3.0-or-later */
/* codec.h: magenta.js data converters: quantized note sequences <-> model tensors (pure functions). */
#ifndef MVD_CODEC_H
#define MVD_CODEC_H

#include <jansson.h>

#include "seq.h"

enum codec_type {
	CODEC_MELODY,           /* MelodyConverter */
	CODEC_DRUMS,            /* DrumsConverter: 10-column roll in, 512 classes out */
	CODEC_DRUMROLL,         /* DrumRollConverter: 10-column roll in, 9-dim multi-hot out */
	CODEC_DRUMS_ONEHOT,     /* DrumsOneHotConverter: 512 one-hot in and out */
	CODEC_TRIO,             /* TrioConverter: melody 90 | bass 90 | drums one-hot 512 */
	CODEC_GROOVE,           /* GrooveConverter: hits 9 | velocities 9 | offsets 9 */
	CODEC_MELODY_RHYTHM,    /* MelodyRhythmConverter */
	CODEC_MELODY_SHAPE,     /* MelodyShapeConverter */
};

#define CODEC_MAX_SPLITS 3
#define CODEC_DRUM_CLASSES 9
#define CODEC_MAX_CLASS_PITCHES 16

struct codec {
	enum codec_type type;
	int num_steps;          /* T */
	int num_segments;       /* 0 = flat model */
	int min_pitch, max_pitch;
	int ignore_polyphony;
	int bass_min_pitch, bass_max_pitch;     /* trio */
	int pitch_classes[CODEC_DRUM_CLASSES][CODEC_MAX_CLASS_PITCHES]; /* drum classes; first = output pitch */
	int n_class_pitches[CODEC_DRUM_CLASSES];
	int drums_js_shift;     /* 1: magenta.js's shifted "no hit" column; 0: Python Magenta's (default) */
	int steps_per_quarter, humanize, tapify, split_instruments; /* groove */
	int in_depth;           /* encoder input columns per step */
	int out_depth;          /* decoder output columns per step (sum of split_depth) */
	int n_splits;           /* 1, or 3 for trio (one base decoder per split) */
	int split_depth[CODEC_MAX_SPLITS];
};

/* Fills c from config.json's "dataConverter" object; err names the bad field. Returns 0 or -1. */
int codec_from_json(struct codec *c, const json_t *data_converter, char *err, size_t errlen);
/* Converts a quantized sequence into x [num_steps, in_depth] (zeroed first). Returns 0 or -1 with err. */
int codec_encode(const struct codec *c, const struct seq *s, float *x, char *err, size_t errlen);
/* Converts decoder output y [num_steps, out_depth] (one-hot, multi-hot or groove floats) into notes. */
int codec_decode(const struct codec *c, const float *y, struct seq *out, char *err, size_t errlen);

#endif
