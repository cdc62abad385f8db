/* SPDX-License-Identifier: GPL-3.0-or-later */
/* midi.h: classifying MIDI events that arrive from outside (whole events from JACK or ALSA): what they are,
 * whether they are well formed, and why one was dropped. Pure functions, safe on a real-time thread. */
#ifndef MVD_MIDI_H
#define MVD_MIDI_H

#include <stddef.h>
#include <stdint.h>

/* System real-time and common status bytes the clock and the RT thread send or follow. */
#define MIDI_BYTE_SPP 0xF2      /* song position pointer (2 data bytes: LSB, MSB) */
#define MIDI_BYTE_CLOCK 0xF8    /* timing clock: 24 per quarter note */
#define MIDI_BYTE_START 0xFA
#define MIDI_BYTE_CONTINUE 0xFB
#define MIDI_BYTE_STOP 0xFC
#define MIDI_BYTE_SENSING 0xFE  /* active sensing */

/* What an incoming event is (midi_classify). */
enum midi_kind {
	MIDI_KIND_NOTE_ON,      /* 0x9n with velocity > 0 */
	MIDI_KIND_NOTE_OFF,     /* 0x8n, or 0x9n with velocity 0 */
	MIDI_KIND_CLOCK,        /* 0xF8, 0xFA, 0xFB, 0xFC, or 0xF2 song position (goes to the clock) */
	MIDI_KIND_OTHER,        /* well-formed but of no use here: CC, program change, sysex, active sensing... */
	MIDI_KIND_BAD_STATUS,   /* first byte is not a status byte, or an undefined one (0xF4, 0xF5, 0xF9, 0xFD) */
	MIDI_KIND_BAD_LENGTH,   /* wrong number of bytes for the status */
	MIDI_KIND_BAD_DATA,     /* a data byte with the top bit set */
};

/* Bytes a message with this status byte has (including it); 0 for sysex/undefined/data bytes. */
int midi_msg_len(uint8_t status);
/* What one complete event is. */
enum midi_kind midi_classify(const uint8_t *data, size_t len);

#endif
