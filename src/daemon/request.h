/* SPDX-License-Identifier: GPL-3.0-or-later */
/* request.h: turning parsed control commands into an engine request on the main thread: file names resolved
 * inside the configured directories (no "..", no absolute paths, no symlinks out), MIDI files and z vectors read,
 * models loaded, so that the engine thread only checks and applies. */
#ifndef MVD_REQUEST_H
#define MVD_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "engine.h"
#include "proto.h"

/* dir/name (+ suffix unless name ends in it) into out[len] after resolving symlinks; the result must lie inside
 * dir (the configuration's `setting`, named when it is empty). for_write: the file may not exist yet (its directory must, inside dir) and must not be a symlink.
 * Returns 0, or -1 with e (PROTO_ACK_PERMISSION for a path outside, PROTO_ACK_NO_EXIST for a missing file). */
int request_resolve(const char *dir, const char *setting, const char *name, const char *suffix, int for_write,
    char *out, size_t len, struct proto_err *e);
/* Reads a z vector file ({"z": [[Z numbers]]}, [[...]] or [...], as `musicvae encode` prints): *z malloc'd, *n its
 * size. Returns 0 or -1 with e. */
int request_read_z(const char *path, float **z, int *n, struct proto_err *e);
/* A new engine request for cmds[0..n) of connection id. Returns it, or NULL with e (the index of the failing
 * command in *index). */
struct engine_ctl *request_build(const struct cfg *c, uint64_t id, const struct proto_cmd *cmds, int n, int list_ok,
    int *index, struct proto_err *e);

#endif
