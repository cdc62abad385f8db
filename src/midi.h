/* SPDX-License-Identifier: GPL-3.0-or-later */
/* midi.h: classifying MIDI events that arrive from outside (whole events from JACK or ALSA): what they are,
 * whether they are well formed, and why one was dropped. Pure functions, safe on a real-time thread. */
#ifndef MVD_MIDI_H
#define MVD_MIDI_H

#include <stddef.h>
#include <stdint.h>

enum midi_kind {
	MIDI_NOTE_ON,           /* 0x9n with velocity > 0 */
	MIDI_NOTE_OFF,          /* 0x8n, or 0x9n with velocity 0 */
	MIDI_CLOCK,             /* 0xF8, 0xFA, 0xFB, 0xFC, or 0xF2 song position (goes to the clock) */
	MIDI_OTHER,             /* well-formed but of no use here: CC, program change, sysex, active sensing... */
	MIDI_BAD_STATUS,        /* first byte is not a status byte, or an undefined one (0xF4, 0xF5, 0xF9, 0xFD) */
	MIDI_BAD_LENGTH,        /* wrong number of bytes for the status */
	MIDI_BAD_DATA,          /* a data byte with the top bit set */
};

/* Bytes a message with this status byte has (including it); 0 for sysex/undefined/data bytes. */
int midi_msg_len(uint8_t status);
/* What one complete event is. */
enum midi_kind midi_classify(const uint8_t *data, size_t len);

#endif
