/* SPDX-License-Identifier: GPL-3.0-or-later */
/* codec.h: magenta.js data converters: quantized note sequences <-> model tensors (pure functions). */
#ifndef MVD_CODEC_H
#define MVD_CODEC_H

#include <stddef.h>

#include "seq.h"

struct json_t;                  /* jansson's value: config.json is parsed by the caller */

enum codec_type {
	CODEC_MELODY,           /* MelodyConverter: one-hot 3 + pitches in and out */
	CODEC_DRUMS,            /* DrumsConverter: 10-column roll in, 512 classes out */
	CODEC_DRUMROLL,         /* DrumRollConverter: 10-column roll in, 9-dim multi-hot out */
	CODEC_DRUMS_ONEHOT,     /* DrumsOneHotConverter: 512 one-hot in and out */
	CODEC_TRIO,             /* TrioConverter: melody 90 | bass 90 | drums one-hot 512 */
	CODEC_TRIO_RHYTHM,      /* TrioRhythmConverter: [melody onset, bass onset, drum hit] in and out */
	CODEC_GROOVE,           /* GrooveConverter: hits 9 | velocities 9 | offsets 9 */
	CODEC_MELODY_RHYTHM,    /* MelodyRhythmConverter: 1 column (onset) in and out */
	CODEC_MELODY_SHAPE,     /* MelodyShapeConverter: 3 columns (down, same, up) in and out */
};

#define CODEC_MAX_SPLITS 3
#define CODEC_DRUM_CLASSES 9            /* most drum classes a converter may have (2^9 = 512 labels) */
#define CODEC_MAX_CLASS_PITCHES 128

struct codec {
	enum codec_type type;
	int num_steps;          /* T */
	int num_segments;       /* 0 = flat model */
	int min_pitch, max_pitch;               /* melody, or trio melody part */
	int ignore_polyphony;                   /* JS truthiness of args.ignorePolyphony; absent = 1 */
	int bass_min_pitch, bass_max_pitch;     /* trio bass part */
	int bass_ignore_polyphony;
	int n_classes;          /* drum classes K (9 unless args.pitchClasses says otherwise) */
	int pitch_classes[CODEC_DRUM_CLASSES][CODEC_MAX_CLASS_PITCHES]; /* drum classes; first = output pitch */
	int n_class_pitches[CODEC_DRUM_CLASSES];                        /* 0 for k >= n_classes */
	signed char class_of[128];              /* pitch -> class (last list wins, as a JS Map); -1 = none */
	int drums_js_shift;     /* 1: magenta.js's shifted "no hit" column; 0: Python Magenta's (default) */
	int steps_per_quarter, humanize, tapify, split_instruments; /* groove */
	int in_depth;           /* encoder input columns per step (groove split: the same T*3K floats as [T*K, 3]) */
	int out_depth;          /* decoder output columns per step (sum of split_depth) */
	int n_splits;           /* 1, or 3 for trio (one base decoder per split) */
	int split_depth[CODEC_MAX_SPLITS];
};

/* Fills c from config.json's "dataConverter" object; err names the bad field. Returns 0 or -1. */
int codec_from_json(struct codec *c, const struct json_t *data_converter, char *err, size_t errlen);
/* magenta.js class name of c's converter ("MelodyConverter", ...), for messages and `musicvae info`. */
const char *codec_name(const struct codec *c);
/* 1 for the converters of drums alone (Drums, DrumRoll, DrumsOneHot, Groove): they read is_drum notes. */
int codec_is_drums(const struct codec *c);
/* 1 for the converters of one melodic line (Melody, MelodyRhythm, MelodyShape): they read pitched notes. */
int codec_is_melody(const struct codec *c);
/* Selects the drum roll's "no hit" column: 1 = magenta.js (shifted one row up), 0 = Python Magenta. */
void codec_set_drums_js(struct codec *c, int on);
/* Converts a quantized sequence into x [num_steps, in_depth] (zeroed first) as magenta.js's toTensor does;
 * notes starting at or past num_steps are dropped where magenta.js drops them and refused where it fails.
 * Groove accepts an unquantized sequence and quantizes a copy. Returns 0 or -1 with err. */
int codec_encode(const struct codec *c, const struct seq *s, float *x, char *err, size_t errlen);
/* Converts decoder output y [num_steps, out_depth] (one-hot rows: first argmax; multi-hot: nonzero; groove
 * floats) into notes as toNoteSequence does, replacing out's notes: 4 steps per quarter, 120 qpm,
 * total_steps = num_steps. Groove output is unquantized (times carry the offsets; start/end hold the grid
 * step). Returns 0 or -1 with err (out of memory). */
int codec_decode(const struct codec *c, const float *y, struct seq *out, char *err, size_t errlen);

#endif
