/* SPDX-License-Identifier: GPL-3.0-or-later */
/* smf.h: Standard MIDI Files (formats 0 and 1, PPQ division) to and from note sequences. */
#ifndef MVD_SMF_H
#define MVD_SMF_H

#include <stddef.h>

#include "seq.h"

#define SMF_MAX_BYTES (64u << 20)       /* larger files are refused before reading */
#define SMF_WRITE_PPQ 480               /* ticks per quarter written: 120 per step at 4 steps/quarter */
#define SMF_READ_STEPS_PER_QUARTER 4    /* quantization applied by smf_read from ticks */

/* Reads a file into *out (replacing its notes): start/end in seconds through the tempo map and in steps at
 * 4 steps/quarter rounded half up from ticks; instrument = index of the (track, channel) pair, channel 10 = drums.
 * Returns 0, or -1 with err like "in.mid: track 2 at byte 1234: truncated event" (tracks count from 1). */
int smf_read(const char *path, struct seq *out, char *err, size_t errlen);
/* As smf_read from memory; name only labels the messages. Never reads outside buf[0..len). */
int smf_read_mem(const unsigned char *buf, size_t len, const char *name, struct seq *out, char *err,
    size_t errlen);
/* Writes format 1 at SMF_WRITE_PPQ: a tempo track, then one track per (instrument, is_drum) in that order
 * (drums on channel 10, others on channels 1.. with program changes). Uses steps when s is quantized, else
 * seconds; times before 0 (a groove's early first hit, as magenta.js makes them too) become 0. Same-pitch
 * overlaps in a track are cut at the later onset. Returns 0 or -1 with err. */
int smf_write(const char *path, const struct seq *s, char *err, size_t errlen);
/* As smf_write into a malloc'd buffer *buf of *len bytes (the caller frees it). */
int smf_write_mem(const struct seq *s, unsigned char **buf, size_t *len, char *err, size_t errlen);

#endif
