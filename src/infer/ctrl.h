/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ctrl.h: control tensors of conditioned models: chord encodings, key one-hot and extra controls per step. */
#ifndef MVD_CTRL_H
#define MVD_CTRL_H

#include <stddef.h>

struct json_t;                  /* jansson's value: config.json is parsed by the caller */

enum ctrl_chord_encoder {
	CTRL_CHORDS_NONE,
	CTRL_CHORDS_MAJOR_MINOR,        /* MajorMinorChordEncoder: 1 + 2*12 */
	CTRL_CHORDS_TRIAD,              /* TriadChordEncoder: 1 + 4*12 */
	CTRL_CHORDS_PITCH,              /* PitchChordEncoder: 1 + 3*12 */
};

#define CTRL_MAX_EXTRA 16
#define CTRL_NAME_MAX 64
#define CTRL_KEYS 12
#define CTRL_NO_CHORD "N.C."

/* What config.json asks for: the columns of every control row, in this order. */
struct ctrl_spec {
	enum ctrl_chord_encoder chords; /* chordEncoder */
	int condition_on_key;           /* conditionOnKey: 12 key columns */
	int n_extra;                    /* extraControls, in spec order */
	char extra_name[CTRL_MAX_EXTRA][CTRL_NAME_MAX];
	int extra_depth[CTRL_MAX_EXTRA];
};

/* Reads chordEncoder / conditionOnKey / extraControls from config.json's top level; err names the field. */
int ctrl_from_json(struct ctrl_spec *spec, const struct json_t *config, char *err, size_t errlen);
/* C: columns per control row (0 = unconditioned model). */
int ctrl_depth(const struct ctrl_spec *spec);
/* Columns of one chord encoding (0 for CTRL_CHORDS_NONE). */
int ctrl_chord_depth(enum ctrl_chord_encoder enc);
/* One chord symbol ("C", "F#m7", "Bbdim", "N.C.", ... parsed as magenta.js does with tonal 2.2.2) into
 * row [ctrl_chord_depth(enc)]. Unknown symbols and chords the encoder cannot represent: -1, err names it. */
int ctrl_chord_encode(enum ctrl_chord_encoder enc, const char *symbol, float *row, char *err, size_t errlen);
/*
 * out [num_steps, ctrl_depth] = per step: encoding of chord floor(s * n_chords / num_steps) | one-hot of key
 * (0 = C .. 11 = B; -1 = none) | extra [num_steps, sum of extra depths] (NULL when the spec has none).
 * The arguments must match the spec as magenta.js's checkControlArgs demands. As in magenta.js, extra controls
 * are truncated to integers when the first block is an int32 one-hot (see ctrl.c). Unlike magenta.js, a
 * PitchChordEncoder progression may mix "N.C." with chords (magenta.js fails on a dtype mismatch in tf.stack).
 * Returns 0 or -1 with err.
 */
int ctrl_build(const struct ctrl_spec *spec, int num_steps, const char *const *chords, int n_chords, int key,
    const float *extra, float *out, char *err, size_t errlen);

#endif
