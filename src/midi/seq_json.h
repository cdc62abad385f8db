/* SPDX-License-Identifier: GPL-3.0-or-later */
/* seq_json.h: note sequences <-> magenta's NoteSequence JSON (jansson values), the form @magenta/music uses. */
#ifndef MVD_SEQ_JSON_H
#define MVD_SEQ_JSON_H

#include <jansson.h>

#include "seq.h"

/* Replaces s's contents with a NoteSequence in magenta's JSON form (JSON.stringify of the protobuf message or of
 * a plain object: int64 fields may be strings, defaults may be absent). err names the note index and field;
 * on error s is left empty. */
int seq_from_json(struct seq *s, const json_t *ns, char *err, size_t errlen);
/* New NoteSequence JSON object (same field names, integers as JSON numbers); NULL when out of memory. */
json_t *seq_to_json(const struct seq *s);

#endif
