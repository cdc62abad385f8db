/* SPDX-License-Identifier: GPL-3.0-or-later */
/* attrs.h: the MusicVAE paper's musical attributes of a 2-bar window (melody or drum tokens) and the attribute
 * vectors built from them (`musicvae attributes`): mean z of the top quartile minus mean z of the bottom one. */
#ifndef MVD_ATTRS_H
#define MVD_ATTRS_H

#include <stddef.h>
#include <stdint.h>

#define ATTRS_MAX 5
#define ATTRS_BATCH 64         /* windows encoded or decoded per model call */

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
struct dataset;
/* Encoded windows (z = mu) and their attributes, grown by attrs_encode; the caller frees z and val. */
struct attrs_set {
	float *z;               /* [n, Z] */
	double *val;            /* [n, ATTRS_MAX] */
	size_t n, cap;
};
/* Appends every window of d in the split (enum dataset_split; -1: all), encoded in batches of ATTRS_BATCH, and its
 * attributes to a. The model must take d's windows. Returns 0 or -1 with err. */
int attrs_encode(struct model *md, const struct dataset *d, int split, struct attrs_set *a, char *err, size_t len);
/* Random directions of a vector's length that attrs_control tries. */
#define ATTRS_CONTROLS 3
/* control: the largest |mean at +amount - mean at -amount| of attribute k over ATTRS_CONTROLS random directions of
 * v's length (fixed seeds): how far a push of that size moves the attribute by chance. Returns 0 or -1 with err. */
int attrs_control(struct model *md, int kind, const float *z, size_t n, const float *v, int k, float amount,
    double *control, char *err, size_t len);
/* Writes {"attributes": {NAME: [Z floats]}, "windows": n} (attr.c's format). Returns 0 or -1 with err. */
int attrs_write(const char *path, int kind, int Z, const float *vec, size_t n, char *err, size_t errlen);

#endif
