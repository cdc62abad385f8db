/* SPDX-License-Identifier: GPL-3.0-or-later */
/* midi.c: status-byte lengths and event classification per the MIDI 1.0 specification. */
#include "midi.h"

int
midi_msg_len(uint8_t status)
{
	if (status < 0x80)
		return 0;
	switch (status & 0xF0) {
	case 0x80: case 0x90: case 0xA0: case 0xB0: case 0xE0:
		return 3;
	case 0xC0: case 0xD0:
		return 2;
	}
	switch (status) {
	case 0xF1: case 0xF3:
		return 2;
	case 0xF2:
		return 3;
	case 0xF6: case 0xF8: case 0xFA: case 0xFB: case 0xFC: case 0xFE: case 0xFF:
		return 1;
	}
	return 0;       /* 0xF0 sysex (variable), 0xF7, undefined 0xF4 0xF5 0xF9 0xFD */
}

static enum midi_kind
midi_classify_sysex(const uint8_t *data, size_t len)
{
	if (len < 2 || data[len - 1] != 0xF7)
		return MIDI_KIND_BAD_LENGTH;
	for (size_t i = 1; i + 1 < len; i++)
		if (data[i] & 0x80)
			return MIDI_KIND_BAD_DATA;
	return MIDI_KIND_OTHER;
}

enum midi_kind
midi_classify(const uint8_t *data, size_t len)
{
	int want;

	if (len == 0 || !(data[0] & 0x80))
		return MIDI_KIND_BAD_STATUS;
	if (data[0] == 0xF0)
		return midi_classify_sysex(data, len);
	if ((want = midi_msg_len(data[0])) == 0)
		return MIDI_KIND_BAD_STATUS;
	if ((size_t)want != len)
		return MIDI_KIND_BAD_LENGTH;
	for (int i = 1; i < want; i++)
		if (data[i] & 0x80)
			return MIDI_KIND_BAD_DATA;
	switch (data[0] & 0xF0) {
	case 0x90:
		return data[2] ? MIDI_KIND_NOTE_ON : MIDI_KIND_NOTE_OFF;
	case 0x80:
		return MIDI_KIND_NOTE_OFF;
	}
	switch (data[0]) {
	case MIDI_BYTE_CLOCK: case MIDI_BYTE_START: case MIDI_BYTE_CONTINUE: case MIDI_BYTE_STOP: case MIDI_BYTE_SPP:
		return MIDI_KIND_CLOCK;
	}
	return MIDI_KIND_OTHER;
}
