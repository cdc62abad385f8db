/* SPDX-License-Identifier: GPL-3.0-or-later */
/* dataset.h: MIDI files -> deduplicated training windows of melody or drum tokens (groove: with velocities and
 * micro-timing), and their file. */
#ifndef MVD_DATASET_H
#define MVD_DATASET_H

#include <stddef.h>
#include <stdint.h>

struct seq;

/*
 * Windows, Magenta style: 16 steps per bar (4 per quarter); only bars in 4/4 or 2/2 (bar lines restart at each
 * time signature change; a file without one is 4/4); a line is split where it falls silent for >= gap_bars;
 * num_steps-long windows start on bar lines, hopped by hop_bars, inside one piece of a line.
 *   melody: the top line of each instrument's non-drum notes, as Magenta's melody extractor (or of all of them
 *           with per_instrument = 0): the highest of the notes starting together; a new onset cuts the sounding
 *           note. Tokens are MelodyConverter's (21..108: 90 classes): 0 = no event, 1 = note-off,
 *           2 + pitch - 21 = note-on, exactly the argmax of codec_encode on the window's notes (the notes that
 *           start inside it, shifted to step 0). Windows with a pitch outside 21..108 are dropped.
 *   drums:  channel-10 notes through codec.h's default 9 pitch classes (or, with roland, Magenta's
 *           ROLAND_DRUM_PITCH_CLASSES: the Groove MIDI Dataset's kit, its hi-hat edges 22 and 26 included); token = OR of 2^class of the hits at a
 *           step (DrumsConverter's 512 labels); pitches of no class are ignored.
 *   groove: as drums, plus per step and class GrooveConverter's velocity and offset of the hit (of the notes of
 *           one class at one step, the loudest; the first of equals): velocity 0..127 and offset = 2 (step -
 *           exact onset in steps) in units of 1/16384, so -16384..16384 (an early note is positive; smf_read
 *           rounds half up, so offsets lie in (-1, 1]); 0 and 0 where there is no hit. The exact onset is the
 *           note's time in seconds at the first tempo, as GrooveConverter computes it; a file whose tempo changes
 *           (seq.tempo_changes) gives no groove window (Magenta's quantizer refuses it too).
 * Windows with fewer than min_notes onsets (melody) or hits (drums) are dropped, and so are melody windows with
 * fewer than min_pitches distinct pitches. Duplicates (same tokens) are dropped, the first one kept. Train
 * melody windows are then transposed by transpose_lo..transpose_hi semitones (those leaving 21..108 dropped,
 * duplicates too); validation windows are not.
 * The split goes by source file, never by window: validation iff FNV-1a-64(key) % 1000 < valid_permille, key =
 * the file's base name up to its first '.' (so "x.mid" and the humanised renders "x.s3.mid" stay together).
 * With valid_kinds (a comma list, e.g. "midi"; `musicvae dataset --sources` defaults to it), files of another
 * kind (data/sources.tsv's column 5; unknown = "") always train; the others keep exactly that split.
 * Duplicates are dropped within each split (train windows first, then transposed ones). Then every validation
 * window within Hamming distance valid_distance (default 2: the number of steps whose token differs) of any
 * train window, transposed train windows included, is dropped: an honest validation set holds no near copy of
 * what was trained on. The search is exact (pigeonhole: the T steps are cut into valid_distance + 1 interleaved
 * blocks, t % (D + 1); a window within distance D agrees on one block, so train windows are indexed by each
 * block's hash and the candidates checked in full). Last, with cap_kind, the train windows of sources of that
 * kind are cut to at most cap_percent % of all train windows (after transposition), keeping those of lowest
 * FNV-1a hash of their tokens (deterministic); the Hamming filter ran against the uncut train set.
 *
 * File format (all integers little-endian):
 *   0  char     magic[8]        "MVAEDSET"
 *   8  uint32   version         3 (versions 1 and 2, without the parts marked v2 / v3, are read too)
 *  12  uint32   kind            0 melody, 1 drums, 2 groove
 *  16  uint32   num_steps       T (32)
 *  20  uint32   n_classes       90 (melody) or 512 (drums, groove); every token is below it
 *  24  uint32   min_pitch       melody: token 2 + k is pitch min_pitch + k (21); drums: 0
 *  28  uint32   record_bytes    2 * T + 8 (groove: 2 * T + 8 + 36 * T)
 *  32  uint64   count           windows
 *  40  uint32   n_sources
 *  44  uint32   valid_permille
 *  48  uint64   sources_bytes   size of the source table
 *  56  uint64   checksum        FNV-1a 64 of every byte from offset 64 to the end
 *  64  count records: uint16 tokens[T]; uint32 source (index in the table); uint8 split (0 train, 1 valid);
 *      int8 transpose (semitones, 0 for drums); uint16 zero; groove: then int16 groove[T][18] (velocities of
 *      the 9 classes, then their offsets, as above)
 *  64 + count * record_bytes: n_sources entries: uint8 split; then path, package, licence, (v2) kind, each as
 *      uint32 length + that many bytes (UTF-8, no NUL)
 *  v2, after the sources: the build options: valid_kinds (string, "" = every kind), uint32 valid_distance,
 *      cap_kind (string, "" = no cap), uint32 cap_percent; v3: uint32 pitch classes (0 default, 1 roland)
 * The file ends there: its size is 64 + count * record_bytes + sources_bytes (everything after the records).
 */

#define DATASET_MAGIC "MVAEDSET"
#define DATASET_VERSION 3
#define DATASET_VALID_DISTANCE 2        /* default Hamming distance of a dropped validation window */
#define DATASET_MAX_DISTANCE 8          /* beyond, blocks of 3 steps would index little */
#define DATASET_HEADER_BYTES 64
#define DATASET_STEPS_PER_BAR 16
#define DATASET_MIN_PITCH 21            /* melody classes: pitches 21..108 */
#define DATASET_MAX_PITCH 108
#define DATASET_MEL_CLASSES (DATASET_MAX_PITCH - DATASET_MIN_PITCH + 3)
#define DATASET_DRUM_CLASSES 512
#define DATASET_MAX_STEPS 4096          /* longest window */
#define DATASET_GROOVE_COLS 18          /* per step: 9 velocities, 9 offsets */
#define DATASET_OFFSET_ONE 16384        /* stored offset of 1 (half a step early) */

enum dataset_kind { DATASET_MELODY = 0, DATASET_DRUMS = 1, DATASET_GROOVE = 2 };
enum dataset_split { DATASET_TRAIN = 0, DATASET_VALID = 1 };

/* Why a source gave no window (build statistics, not stored). */
enum dataset_status {
	DATASET_SRC_OK,         /* read; may still have no window */
	DATASET_SRC_UNREADABLE, /* smf_read failed: see error */
	DATASET_SRC_METER,      /* no bar in 4/4 or 2/2 */
	DATASET_SRC_TEMPO,      /* groove: the tempo changes */
};

struct dataset_opts {
	enum dataset_kind kind;
	int num_steps;          /* window length, a multiple of 16 (32) */
	int hop_bars;           /* window start to window start (1) */
	int gap_bars;           /* silence that splits a line (1) */
	int min_notes;          /* least onsets (melody) or hits (drums) per window (2) */
	int min_pitches;        /* least distinct pitches per melody window (1) */
	int transpose_lo, transpose_hi; /* train melody augmentation in semitones (-6, 5); 0, 0 = none */
	int per_instrument;     /* melody: one top line per instrument (1, Magenta's extractor) or one per file */
	int program_lo, program_hi;     /* melody: programs taken (0, 127) */
	int valid_program_lo, valid_program_hi; /* melody: programs taken from validation files (-1: as above) */
	int valid_permille;     /* validation share of the source files (100) */
	const char *const *packages;    /* [n] package of each file, or NULL ("-") */
	const char *const *licences;    /* [n] licence of each file, or NULL ("unknown") */
	const char *const *names;       /* [n] path to store instead of the one read, or NULL */
	const char *const *kinds;       /* [n] kind of each file ("midi", "mma-groove"), or NULL ("") */
	const char *valid_kinds;        /* comma list of the kinds that may validate; NULL: every kind */
	int valid_distance;             /* validation windows within this Hamming distance of a train one are
	                                 * dropped (DATASET_VALID_DISTANCE; 0: exact duplicates only) */
	const char *cap_kind;           /* train windows of this kind are capped (NULL: none) */
	int cap_percent;                /* at this share of all train windows (0..100) */
	int roland;                     /* drums, groove: Magenta's Roland pitch classes, not the defaults */
};

/* What dataset_build dropped after windowing (not in the file). */
struct dataset_stats {
	long valid_exact;       /* validation windows equal to a train window */
	long valid_near;        /* within valid_distance of one, not equal */
	long cap_before;        /* train windows of cap_kind before the cap */
	long cap_dropped;       /* of them dropped */
	long train_before;      /* all train windows before the cap */
};

/* The hits of a groove dataset's windows (dataset_groove_stats). */
struct dataset_groove_stats {
	double hits;
	double vel_mean, vel_sd;        /* MIDI velocity 0..127 */
	double vel_input_mean;          /* mean of velocity / 127 (the model's input scale), summed at that scale:
	                                 * the trainer's baseline keeps its bits, vel_mean / 127 may differ in
	                                 * the last one */
	double off_mean, off_sd;        /* GrooveConverter's offset, -1..1 (+1 = half a step early) */
};

struct dataset_source {
	char *path, *package, *licence;
	char *kind;             /* "" when unknown (and in version 1 files) */
	int split;              /* enum dataset_split */
	/* statistics of dataset_build (not in the file) */
	int status;             /* enum dataset_status */
	char *error;            /* smf_read's message when unreadable, else NULL */
	long windows;           /* windows found before deduplication (untransposed) */
	long unique;            /* of them kept */
	long transposed;        /* transposed windows kept */
	long near;              /* validation windows dropped as (near) duplicates of train windows */
	long capped;            /* train windows dropped by the cap */
};

struct dataset {
	enum dataset_kind kind;
	int num_steps, n_classes, min_pitch, valid_permille;
	size_t count, cap;
	uint16_t *tokens;       /* [count, num_steps] */
	uint32_t *source;       /* [count] index into sources */
	uint8_t *split;         /* [count] enum dataset_split (that of the source) */
	int8_t *transpose;      /* [count] semitones */
	int16_t *groove;        /* [count, num_steps, DATASET_GROOVE_COLS] (groove datasets only, else NULL) */
	struct dataset_source *sources; /* [n_sources] */
	size_t n_sources;
	/* the build options (version 2 files; version 1: valid_distance -1, strings "") */
	int version;
	char *valid_kinds, *cap_kind;   /* "" = every kind, no cap */
	int valid_distance, cap_percent;
	int roland;                     /* drum classes: Magenta's ROLAND_DRUM_PITCH_CLASSES (v3; else 0) */
	struct dataset_stats stats;     /* of dataset_build, not in the file */
};

/* The drum pitch classes of a dataset as a converter's args.pitchClasses (roland; NULL for the defaults,
 * which a converter takes when it has none): a new reference, NULL also when out of memory. */
struct json_t *dataset_pitch_classes(int roland);
/* "melody", "drums", "groove" ("unknown" for another value), and back (-1: none of them). */
const char *dataset_kind_name(int kind);
int dataset_kind_parse(const char *name);
/* Bytes of one record of kind's windows of num_steps steps. */
size_t dataset_record_bytes(int kind, int num_steps);
/* The defaults above for kind. */
void dataset_opts_init(struct dataset_opts *o, enum dataset_kind kind);
/* Reads files[0..n) and fills *out (initialised here; free it with dataset_free even on failure). Unreadable
 * files and files without 4/4 bars are recorded in out->sources[i].status, not errors. Returns 0, or -1 with err
 * (bad options, out of memory). */
int dataset_build(const struct dataset_opts *o, char **files, int n, struct dataset *out, char *err,
    size_t errlen);
/* Appends the windows of one sequence quantized at 4 steps per quarter (as smf_read gives) to d, as source src
 * in split, without deduplication or transposition. Returns how many, or -1 with err (out of memory). */
long dataset_add_seq(struct dataset *d, const struct dataset_opts *o, const struct seq *s, uint32_t src,
    int split, char *err, size_t errlen);
/* 1 when s has at least one bar in 4/4 or 2/2. */
int dataset_has_bars(const struct seq *s);
/* The split of a source path (see above). */
int dataset_split_of(const char *path, int valid_permille);
/* 1 when kind is one of the comma list valid_kinds (NULL: every kind). */
int dataset_kind_in(const char *kind, const char *valid_kinds);
/* Drops the validation windows of d within Hamming distance D of a train window (exact: *exact, others:
 * *near; per source in sources[].near). Returns 0 or -1 with err (out of memory). */
int dataset_filter_valid(struct dataset *d, int D, long *exact, long *near, char *err, size_t errlen);
/* Cuts the train windows of sources of kind to at most percent % of the train windows (see above). */
int dataset_cap(struct dataset *d, const char *kind, int percent, struct dataset_stats *st, char *err,
    size_t errlen);
/* Empty dataset of o's kind and window length. */
void dataset_init(struct dataset *d, const struct dataset_opts *o);
/* Writes the file format above; err names the path. Returns 0 or -1. */
int dataset_write(const struct dataset *d, const char *path, char *err, size_t errlen);
/* Reads and fully validates a dataset file (checksum, sizes, every token and index); err names the file and
 * the byte offset of the first problem. On failure *d is left empty. Returns 0 or -1. */
int dataset_read(struct dataset *d, const char *path, char *err, size_t errlen);
/* As dataset_read from memory; name labels the messages. */
int dataset_read_mem(struct dataset *d, const unsigned char *buf, size_t len, const char *name, char *err,
    size_t errlen);
/* The hits of d's windows of split (enum dataset_split; -1: every window) in *st: how many, the mean and
 * standard deviation of their velocities and offsets. All 0 when d has no groove or no such hit. */
void dataset_groove_stats(const struct dataset *d, int split, struct dataset_groove_stats *st);
/* Frees everything d owns and empties it. */
void dataset_free(struct dataset *d);

/* Window w's groove columns [T, DATASET_GROOVE_COLS] and their size. */
static inline int16_t *
dataset_groove(const struct dataset *d, size_t w)
{
	return d->groove + w * (size_t)d->num_steps * DATASET_GROOVE_COLS;
}

static inline size_t
dataset_groove_bytes(const struct dataset *d)
{
	return (size_t)d->num_steps * DATASET_GROOVE_COLS * sizeof *d->groove;
}

#endif
