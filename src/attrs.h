/* SPDX-License-Identifier: GPL-3.0-or-later */
/* attrs.h: the MusicVAE paper's musical attributes of a 2-bar window (melody or drum tokens) and the attribute
 * vectors built from them (`musicvae attributes`): mean z of the top quartile minus mean z of the bottom one. */
#ifndef MVD_ATTRS_H
#define MVD_ATTRS_H

#include <stddef.h>
#include <stdint.h>

#define ATTRS_MAX 5

/* Attributes of a kind (enum dataset_kind): 5 each. */
int attrs_count(int kind);
/* Name of attribute i as written in attributes.json ("note_density", ...). */
const char *attrs_name(int kind, int i);
/*
 * out [attrs_count] of one window's tokens [T] (dataset.h's encodings, 16 steps per bar).
 * melody: note_density (onsets per step), c_diatonic (share of onsets whose pitch class is in C major),
 *         avg_interval (mean |semitones| between consecutive onsets), syncopation_16th (share of onsets on
 *         off-beat 16ths, odd steps), syncopation_8th (share of onsets on off-beat 8ths, steps 2 mod 4);
 * drums:  hit_density (hits per step), kick_density, snare_density, hat_density (closed or open hat, per
 *         step), syncopation (share of steps with hits that are off-beat 16ths).
 * An attribute a window does not define is NaN: the shares without an onset (drums: hit), avg_interval
 * without two onsets.
 */
void attrs_compute(int kind, const uint16_t *tok, int T, double *out);
/* out [A, Z]: for each attribute a, mean z of the windows in the top quartile of val[., a] minus the mean of
 * the bottom quartile, over the windows that define a (val not NaN; their count in defined[a] unless defined
 * is NULL; a zero vector when fewer than 4 do). Ties are ordered by a fixed hash of the window index. z [n, Z],
 * val [n, A]. Returns -1 when out of memory. */
int attrs_vectors(size_t n, int Z, int A, const float *z, const double *val, float *out, size_t *defined);
struct model;
/* mean [ATTRS_MAX]: each attribute's mean over the argmax decodes of z [n, Z] + amount * v [Z] that define it
 * (NaN if none does). Returns 0, or -1 with err when decoding fails or memory runs out. */
int attrs_decoded(struct model *md, int kind, const float *z, size_t n, const float *v, float amount, double *mean,
    char *err, size_t len);
/* Writes {"attributes": {NAME: [Z floats]}, "windows": n} (attr.c's format). Returns 0 or -1 with err. */
int attrs_write(const char *path, int kind, int Z, const float *vec, size_t n, char *err, size_t errlen);
/* `musicvae attributes MODEL corpus.ds... [-o FILE] [--split train|valid|all]` (argv[0] = "attributes"). */
int attrs_main(int argc, char **argv);

#endif
