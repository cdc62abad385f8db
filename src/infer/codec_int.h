/* SPDX-License-Identifier: GPL-3.0-or-later */
/* codec_int.h: what the converter files (codec_mel, codec_drums, codec_groove, codec_trio) share; private. */
#ifndef MVD_CODEC_INT_H
#define MVD_CODEC_INT_H

#include "codec.h"
#include "err.h"
#include "nn.h"

#define CODEC_NOTE_OFF 1        /* melody token: note-off */
#define CODEC_FIRST_PITCH 2     /* melody token of min_pitch */
#define CODEC_SNARE 38          /* DEFAULT_DRUM_PITCH_CLASSES[1][0]: rhythm converters' output pitch */

/* Appends a decoded note at steps [start, end) (times at 120 qpm, 4 steps per quarter). -1 on ENOMEM. */
int codec_add_note(struct seq *out, int pitch, int start, int end, int instrument, int program, int is_drum);
/* Resets out to an empty quantized sequence of T steps at 4 steps per quarter and 120 qpm. */
void codec_out_init(struct seq *out, int T);

/* Melody.fromNoteSequence over the notes sel[0..n) of s (all notes when sel is NULL): events [T]. */
int codec_mel_events(const struct seq *s, const size_t *sel, size_t n, int min_pitch, int max_pitch,
    int ignore_polyphony, int T, int *events, char *err, size_t errlen);
/* Melody, MelodyRhythm and MelodyShape toTensor. */
int codec_mel_encode(const struct codec *c, const struct seq *s, float *x, char *err, size_t errlen);
/* Melody, MelodyRhythm and MelodyShape toNoteSequence. */
int codec_mel_decode(const struct codec *c, const float *y, struct seq *out, char *err, size_t errlen);
/* Melody.toNoteSequence of events [T] with the given note fields; -1 on ENOMEM. */
int codec_mel_notes(const int *events, int T, int min_pitch, int instrument, int program, struct seq *out);

/* Drums and DrumRoll toTensor: the 10-column roll (never fails). */
void codec_drums_roll(const struct codec *c, const struct seq *s, float *x);
/* DrumsOneHot labels [T] over notes sel[0..n) (all when sel is NULL); -1 when a note starts past T. */
int codec_drums_labels(const struct codec *c, const struct seq *s, const size_t *sel, size_t n, long *labels,
    char *err, size_t errlen);
/* tf.oneHot(int32(labels), depth) into rows of x with the given stride: NaN labels are class 0, labels past
 * depth give an all-zero row. */
void codec_drums_onehot(const long *labels, int T, int depth, float *x, int stride);
/* Notes of label at step s (one per set bit, class order) with the given instrument; -1 on ENOMEM. */
int codec_drums_label_notes(const struct codec *c, long label, int s, int instrument, struct seq *out);
/* Drums, DrumRoll and DrumsOneHot: toTensor and toNoteSequence. */
int codec_drums_encode(const struct codec *c, const struct seq *s, float *x, char *err, size_t errlen);
int codec_drums_decode(const struct codec *c, const float *y, struct seq *out, char *err, size_t errlen);

/* Trio and TrioRhythm: toTensor and toNoteSequence. */
int codec_trio_encode(const struct codec *c, const struct seq *s, float *x, char *err, size_t errlen);
int codec_trio_decode(const struct codec *c, const float *y, struct seq *out, char *err, size_t errlen);

/* Groove: toTensor and toNoteSequence. */
int codec_groove_encode(const struct codec *c, const struct seq *s, float *x, char *err, size_t errlen);
int codec_groove_decode(const struct codec *c, const float *y, struct seq *out, char *err, size_t errlen);

#endif
