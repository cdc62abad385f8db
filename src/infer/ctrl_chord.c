/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ctrl_chord.c: chord symbols as magenta.js's ChordSymbols reads them (tonal 2.2.2) and the three chord encoders. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl.h"

enum { CTRL_MAJOR, CTRL_MINOR, CTRL_AUG, CTRL_DIM, CTRL_OTHER };       /* magenta.js ChordQuality */

/*
 * tonal-dictionary 2.2.2's chord types (data/chords.json, names and aliases; MIT licence), sorted by name:
 * pitch classes above the root as a 12-bit mask (bit 0 = root) and magenta.js's quality, which is the one
 * triad (1P 3M 5P / 1P 3m 5P / 1P 3M 5A / 1P 3m 5d, matched by interval name) the type contains, if exactly one.
 * Generated with tonal itself (Chord.notes("C", name), Chord.intervals) and checked by tests/codec_ref.sh.
 */
static const struct ctrl_chord_type {
	const char *name;
	unsigned short mask;
	unsigned char quality;
} ctrl_chord_types[] = {
	{ "", 0x091, 0 },
	{ "+", 0x111, 2 },
	{ "+7", 0x511, 2 },
	{ "+add#9", 0x119, 2 },
	{ "+add9", 0x115, 2 },
	{ "-9b5", 0x44d, 4 },
	{ "-M9", 0x88d, 1 },
	{ "11", 0x4a5, 4 },
	{ "11b9", 0x4a3, 4 },
	{ "13", 0x695, 0 },
	{ "13#11", 0x6d5, 0 },
	{ "13#4", 0x6d5, 0 },
	{ "13#9", 0x699, 0 },
	{ "13#9#11", 0x6d9, 0 },
	{ "13#9_", 0x699, 0 },
	{ "13+4", 0x6d5, 0 },
	{ "13_", 0x695, 0 },
	{ "13b5", 0x655, 4 },
	{ "13b9", 0x693, 0 },
	{ "13b9#11", 0x6d3, 0 },
	{ "13no5", 0x615, 4 },
	{ "13sus", 0x6a5, 4 },
	{ "13sus4", 0x6a5, 4 },
	{ "2", 0x095, 0 },
	{ "4", 0x429, 4 },
	{ "5", 0x081, 4 },
	{ "6", 0x291, 0 },
	{ "6#11", 0x2d1, 0 },
	{ "64", 0x091, 4 },
	{ "67", 0x691, 0 },
	{ "69", 0x295, 0 },
	{ "69#11", 0x2d5, 0 },
	{ "6b5", 0x2d1, 0 },
	{ "7", 0x491, 0 },
	{ "7#11", 0x4d1, 0 },
	{ "7#11_", 0x4d1, 0 },
	{ "7#11b13", 0x5d1, 0 },
	{ "7#4", 0x4d1, 0 },
	{ "7#4_", 0x4d1, 0 },
	{ "7#5", 0x511, 2 },
	{ "7#5#9", 0x519, 2 },
	{ "7#5#9_", 0x519, 2 },
	{ "7#5b9", 0x513, 2 },
	{ "7#5b9#11", 0x553, 2 },
	{ "7#5sus4", 0x521, 4 },
	{ "7#9", 0x499, 0 },
	{ "7#9#11", 0x4d9, 0 },
	{ "7#9#11b13", 0x5d9, 0 },
	{ "7#9_", 0x499, 0 },
	{ "7#9b13", 0x599, 0 },
	{ "7#9b13_", 0x519, 2 },
	{ "7+4", 0x4d1, 0 },
	{ "79", 0x495, 0 },
	{ "7add13", 0x691, 0 },
	{ "7add6", 0x691, 0 },
	{ "7alt", 0x519, 2 },
	{ "7aug", 0x511, 2 },
	{ "7b13", 0x511, 4 },
	{ "7b5", 0x451, 4 },
	{ "7b5#9", 0x4d9, 0 },
	{ "7b5b13", 0x5d1, 0 },
	{ "7b5b9", 0x4d3, 0 },
	{ "7b5b9b13", 0x5d3, 0 },
	{ "7b6", 0x591, 0 },
	{ "7b9", 0x493, 0 },
	{ "7b9#11", 0x4d3, 0 },
	{ "7b9#11b13", 0x5d3, 0 },
	{ "7b9#9", 0x49b, 0 },
	{ "7b9b13", 0x593, 0 },
	{ "7b9b13#11", 0x5d3, 0 },
	{ "7b9b13sus4", 0x5a3, 4 },
	{ "7b9sus", 0x4a3, 4 },
	{ "7b9sus4", 0x4a3, 4 },
	{ "7no5", 0x411, 4 },
	{ "7sus", 0x4a1, 4 },
	{ "7sus4", 0x4a1, 4 },
	{ "7sus4b9", 0x4a3, 4 },
	{ "7sus4b9b13", 0x5a3, 4 },
	{ "7susb9", 0x4a3, 4 },
	{ "9", 0x495, 0 },
	{ "9#11", 0x4d5, 0 },
	{ "9#11_", 0x4d5, 0 },
	{ "9#11b13", 0x5d5, 0 },
	{ "9#4", 0x4d5, 0 },
	{ "9#4_", 0x4d5, 0 },
	{ "9#5", 0x515, 2 },
	{ "9#5#11", 0x555, 2 },
	{ "9+", 0x515, 2 },
	{ "9+4", 0x4d5, 0 },
	{ "9b13", 0x515, 4 },
	{ "9b5", 0x455, 4 },
	{ "9b5b13", 0x5d5, 0 },
	{ "9no5", 0x415, 4 },
	{ "9sus", 0x4a5, 4 },
	{ "9sus4", 0x4a5, 4 },
	{ "Dom", 0x491, 0 },
	{ "Dominant", 0x491, 0 },
	{ "M", 0x091, 0 },
	{ "M#5", 0x111, 2 },
	{ "M#5add9", 0x115, 2 },
	{ "M13", 0xa95, 0 },
	{ "M13#11", 0xad5, 0 },
	{ "M13#4", 0xad5, 0 },
	{ "M13+4", 0xad5, 0 },
	{ "M6", 0x291, 0 },
	{ "M6#11", 0x2d1, 0 },
	{ "M69", 0x295, 0 },
	{ "M69#11", 0x2d5, 0 },
	{ "M6b5", 0x2d1, 0 },
	{ "M7", 0x891, 0 },
	{ "M7#11", 0x8d1, 0 },
	{ "M7#4", 0x8d1, 0 },
	{ "M7#5", 0x911, 2 },
	{ "M7#5sus4", 0x921, 4 },
	{ "M7#9#11", 0x8d9, 0 },
	{ "M7+", 0x911, 2 },
	{ "M7+4", 0x8d1, 0 },
	{ "M7add13", 0xa95, 0 },
	{ "M7b5", 0x851, 4 },
	{ "M7b6", 0x911, 4 },
	{ "M7b9", 0x893, 0 },
	{ "M7sus4", 0x8a1, 4 },
	{ "M9", 0x895, 0 },
	{ "M9#11", 0x8d5, 0 },
	{ "M9#4", 0x8d5, 0 },
	{ "M9#5", 0x915, 2 },
	{ "M9#5sus4", 0x925, 4 },
	{ "M9+4", 0x8d5, 0 },
	{ "M9b5", 0x855, 4 },
	{ "M9sus4", 0x8a5, 4 },
	{ "Madd9", 0x095, 0 },
	{ "Maddb9", 0x093, 0 },
	{ "Maj#5", 0x111, 2 },
	{ "Maj13", 0xa95, 0 },
	{ "Maj13#11", 0xad5, 0 },
	{ "Maj7", 0x891, 0 },
	{ "Maj7#11", 0x8d1, 0 },
	{ "Maj7#5", 0x911, 2 },
	{ "Maj9", 0x895, 0 },
	{ "Maj9#11", 0x8d5, 0 },
	{ "Maj9#5", 0x915, 2 },
	{ "Major", 0x091, 0 },
	{ "Mb5", 0x051, 4 },
	{ "Mb6", 0x111, 4 },
	{ "Msus2", 0x085, 4 },
	{ "Msus4", 0x0a1, 4 },
	{ "_", 0x489, 1 },
	{ "_11", 0x4ad, 1 },
	{ "_11b5", 0x46d, 4 },
	{ "_13", 0x6ad, 1 },
	{ "_6", 0x2a9, 1 },
	{ "_69", 0x28d, 1 },
	{ "_7", 0x489, 1 },
	{ "_7b5", 0x449, 3 },
	{ "_9", 0x48d, 1 },
	{ "_M7", 0x889, 1 },
	{ "add2", 0x095, 0 },
	{ "add9", 0x095, 0 },
	{ "add9no3", 0x085, 4 },
	{ "aug", 0x111, 2 },
	{ "aug7", 0x511, 2 },
	{ "augmented", 0x111, 2 },
	{ "dim", 0x049, 3 },
	{ "dim7", 0x249, 3 },
	{ "diminished", 0x249, 3 },
	{ "h11", 0x46d, 4 },
	{ "h7", 0x449, 3 },
	{ "h9", 0x44d, 4 },
	{ "half-diminished", 0x449, 3 },
	{ "m", 0x089, 1 },
	{ "m#5", 0x109, 4 },
	{ "m+", 0x109, 4 },
	{ "m11", 0x4ad, 1 },
	{ "m11A 5", 0x52d, 4 },
	{ "m11b5", 0x46d, 4 },
	{ "m13", 0x6ad, 1 },
	{ "m6", 0x2a9, 1 },
	{ "m69", 0x28d, 1 },
	{ "m6b5", 0x249, 3 },
	{ "m7", 0x489, 1 },
	{ "m7#5", 0x509, 4 },
	{ "m7add11", 0x4a9, 1 },
	{ "m7add4", 0x4a9, 1 },
	{ "m7b5", 0x449, 3 },
	{ "m9", 0x48d, 1 },
	{ "m9#5", 0x50d, 4 },
	{ "m9b5", 0x44d, 4 },
	{ "mM7", 0x889, 1 },
	{ "mM7b6", 0x989, 1 },
	{ "mM9", 0x88d, 1 },
	{ "mM9b6", 0x98d, 1 },
	{ "mMaj7", 0x889, 1 },
	{ "mMaj7b6", 0x989, 1 },
	{ "mMaj9", 0x88d, 1 },
	{ "mMaj9b6", 0x98d, 1 },
	{ "madd4", 0x0a9, 1 },
	{ "madd9", 0x08d, 1 },
	{ "maj#5", 0x111, 2 },
	{ "maj13", 0xa95, 0 },
	{ "maj13#11", 0xad5, 0 },
	{ "maj7", 0x891, 0 },
	{ "maj7#11", 0x8d1, 0 },
	{ "maj7#5", 0x911, 2 },
	{ "maj9", 0x895, 0 },
	{ "maj9#11", 0x8d5, 0 },
	{ "maj9#5", 0x911, 2 },
	{ "mb5", 0x049, 3 },
	{ "mb6", 0x109, 4 },
	{ "mb6M7", 0x909, 4 },
	{ "mb6b9", 0x10b, 4 },
	{ "minor7", 0x489, 1 },
	{ "o", 0x049, 3 },
	{ "o7", 0x249, 3 },
	{ "o7M7", 0xa49, 3 },
	{ "oM7", 0x849, 3 },
	{ "phryg", 0x4a3, 4 },
	{ "quartal", 0x429, 4 },
	{ "sus", 0x0a1, 4 },
	{ "sus2", 0x085, 4 },
	{ "sus24", 0x0a5, 4 },
	{ "sus4", 0x0a1, 4 },
	{ "sus4add9", 0x0a5, 4 },
	{ "susb9", 0x4a3, 4 },
};

#define CTRL_N_TYPES (sizeof ctrl_chord_types / sizeof ctrl_chord_types[0])
#define CTRL_MAX_ALT 100        /* beyond this tonal's chroma arithmetic goes negative: refused */

/* A parsed chord symbol. */
struct ctrl_chord {
	int root;                       /* pitch class 0..11 */
	const struct ctrl_chord_type *type;
};

static const struct ctrl_chord_type *
ctrl_chord_type(const char *name, size_t len)
{
	for (size_t i = 0; i < CTRL_N_TYPES; i++)
		if (strlen(ctrl_chord_types[i].name) == len && memcmp(ctrl_chord_types[i].name, name, len) == 0)
			return &ctrl_chord_types[i];
	return NULL;
}

/* The run of c at *p; returns its length and moves *p past it. */
static int
ctrl_chord_run(const char **p, char c)
{
	int n = 0;

	while (**p == c) {
		(*p)++;
		n++;
	}
	return n;
}

/* tonal's note regex /^([a-gA-G]?)(#+|b+|x+|)(-?\d*)\s*(.*)$/: letter, alteration, digits, rest. */
static int
ctrl_chord_split(const char *s, int *letter, int *alt, const char **dig, size_t *ndig, const char **rest)
{
	static const char semis[7] = { 9, 11, 0, 2, 4, 5, 7 };  /* A..G */
	const char *p = s;
	int up = *p >= 'a' && *p <= 'g' ? *p - 'a' + 'A' : *p;

	*letter = up >= 'A' && up <= 'G' ? up : 0;
	if (*letter == 0)
		return 0;
	p++;
	*alt = ctrl_chord_run(&p, '#');
	if (*alt == 0)
		*alt = -ctrl_chord_run(&p, 'b');
	if (*alt == 0)
		*alt = 2 * ctrl_chord_run(&p, 'x');
	*dig = p;
	if (*p == '-')
		p++;
	while (*p >= '0' && *p <= '9')
		p++;
	*ndig = (size_t)(p - *dig);
	while (strchr(" \t\n\v\f\r", *p) != NULL && *p != '\0')
		p++;
	*rest = p;
	*alt += semis[*letter - 'A'];
	return strpbrk(p, "\n\r") == NULL;     /* `.` matches no line terminator: the regex fails */
}

/* "6", "64", "7", "9", "11", "13" belong to the chord type, other digits to the tonic's octave. */
static int
ctrl_chord_numtype(const char *d, size_t n)
{
	static const char *const nums[] = { "6", "64", "7", "9", "11", "13" };

	for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
		if (strlen(nums[i]) == n && memcmp(nums[i], d, n) == 0)
			return 1;
	return 0;
}

/* Chord.tokenize + Note.chroma + the dictionary, with magenta.js's error messages. */
static int
ctrl_chord_parse(const char *sym, struct ctrl_chord *c, char *err, size_t errlen)
{
	const char *dig, *rest;
	size_t ndig;
	int letter, semi, ok = ctrl_chord_split(sym, &letter, &semi, &dig, &ndig, &rest);

	if (letter == 0 || (letter == 'A' && strcmp(rest, "ug") == 0)) {
		snprintf(err, errlen, "Chord symbol has unknown root: %s", sym);
		return -1;
	}
	if (!ok || semi < -CTRL_MAX_ALT || semi > CTRL_MAX_ALT) {
		snprintf(err, errlen, "Unrecognized chord symbol: %s", sym);
		return -1;
	}
	c->root = (semi % 12 + 12) % 12;
	if (ctrl_chord_numtype(dig, ndig)) {
		char type[256];
		int n = snprintf(type, sizeof type, "%.*s%s", (int)ndig, dig, rest);
		c->type = n > 0 && (size_t)n < sizeof type ? ctrl_chord_type(type, (size_t)n) : NULL;
	} else
		c->type = ctrl_chord_type(rest, strlen(rest));
	if (c->type == NULL) {
		snprintf(err, errlen, "Unrecognized chord symbol: %s", sym);
		return -1;
	}
	return 0;
}

int
ctrl_chord_depth(enum ctrl_chord_encoder enc)
{
	switch (enc) {
	case CTRL_CHORDS_MAJOR_MINOR:
		return 1 + 2 * 12;
	case CTRL_CHORDS_TRIAD:
		return 1 + 4 * 12;
	case CTRL_CHORDS_PITCH:
		return 1 + 3 * 12;
	case CTRL_CHORDS_NONE:
		break;
	}
	return 0;
}

/* PitchChordEncoder: [0 | root one-hot | chord pitch classes | bass = root one-hot]. */
static void
ctrl_chord_pitches(const struct ctrl_chord *c, float *row)
{
	row[1 + c->root] = 1;
	for (int pc = 0; pc < 12; pc++)
		if (c->type->mask >> pc & 1)
			row[13 + (c->root + pc) % 12] = 1;
	row[25 + c->root] = 1;
}

int
ctrl_chord_encode(enum ctrl_chord_encoder enc, const char *sym, float *row, char *err, size_t errlen)
{
	struct ctrl_chord c;
	int depth = ctrl_chord_depth(enc), idx;

	memset(row, 0, (size_t)depth * sizeof *row);
	if (depth == 0) {
		snprintf(err, errlen, "this model takes no chords");
		return -1;
	}
	if (strcmp(sym, CTRL_NO_CHORD) == 0) {
		row[0] = 1;
		return 0;
	}
	if (ctrl_chord_parse(sym, &c, err, errlen) < 0)
		return -1;
	if (enc == CTRL_CHORDS_PITCH) {
		ctrl_chord_pitches(&c, row);
		return 0;
	}
	idx = 1 + c.type->quality * 12 + c.root;
	if (idx >= depth) {
		snprintf(err, errlen, enc == CTRL_CHORDS_TRIAD ? "Chord is not a standard triad: %s" :
		    "Chord is neither major nor minor: %s", sym);
		return -1;
	}
	row[idx] = 1;
	return 0;
}
