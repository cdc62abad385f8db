/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ctl.h: the control socket server: a listening Unix socket, its clients' line buffers and states (command
 * lists, idle), driven by the daemon's poll loop. Commands that touch the engine go out through a callback and
 * come back as reply text; the socket never blocks the caller and never talks to the RT thread. */
#ifndef MVD_CTL_H
#define MVD_CTL_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto.h"

#define CTL_OUT_MAX (256 * 1024)        /* a client that lets this much pile up unread is dropped */

enum ctl_state { CTL_READY, CTL_LIST, CTL_IDLE, CTL_WAIT, CTL_CLOSING };

struct ctl_client {
	int fd;
	uint64_t id;                    /* connection serial: replies for a closed connection are dropped */
	pid_t pid;
	uid_t uid;
	char *in;                       /* [max_line] unparsed input */
	size_t in_len;
	int discard;                    /* skipping the rest of an over-long line */
	int eof;                        /* the client shut its side: answer what it sent, then close */
	char *out;                      /* pending output */
	size_t out_len, out_cap;
	enum ctl_state state;
	int list_ok;                    /* command_list_ok_begin */
	struct proto_cmd *list;         /* [PROTO_LIST_MAX] while in a list */
	int n_list, list_err_index;     /* index of the first bad command, -1 if none */
	struct proto_err list_err;
	char list_err_name[32];
	unsigned idle_mask;
	unsigned changed;               /* subsystems changed since the client's last idle reply */
};

/* What the daemon does with a command list (a single command is a list of one); reply text comes back through
 * ctl_reply(id). Returns 0 when accepted, -1 with e and the failing command's index when refused at once (a
 * file that cannot be read, the engine queue full). */
typedef int (*ctl_exec_fn)(void *ctx, uint64_t id, const struct proto_cmd *cmds, int n, int list_ok, int *index,
    struct proto_err *e);

struct ctl_opts {
	const char *path;               /* socket path */
	int mode;                       /* permission bits */
	const char *group;              /* "" = unchanged */
	int max_clients, max_line;
};

struct ctl {
	int fd;                         /* listening socket, -1 when closed */
	char path[108];
	int unlink_at_close;
	int max_clients;
	size_t max_line;
	struct ctl_client *cl;          /* [max_clients] */
	int n_cl;
	uint64_t next_id;
	ctl_exec_fn exec;
	void *ctx;
	uint64_t dropped;               /* clients dropped for unread output or a protocol abuse */
};

/* Default socket path: /run/musicvaed/ctl for root, else $XDG_RUNTIME_DIR/musicvaed/ctl (or /tmp/musicvaed-UID/ctl
 * without XDG_RUNTIME_DIR). */
void ctl_default_path(char *buf, size_t len);
/* Creates the socket at o->path (its directory too, 0755 for root else 0700) with o->mode and o->group. A stale
 * socket file (nobody accepts on it) is replaced; a live one is an error ("another musicvaed is listening").
 * Returns 0 or -1 with err. */
int ctl_open(struct ctl *c, const struct ctl_opts *o, ctl_exec_fn exec, void *ctx, char *err, size_t len);
/* As ctl_open on an inherited listening socket (systemd socket activation); the path is not unlinked at close. */
int ctl_adopt(struct ctl *c, int fd, const struct ctl_opts *o, ctl_exec_fn exec, void *ctx, char *err, size_t len);
/* Fills p[0..max) with the fds to poll (listener first, then clients); returns the count. */
int ctl_pollfds(const struct ctl *c, struct pollfd *p, int max);
/* Handles what poll reported for the n entries ctl_pollfds filled. */
void ctl_handle(struct ctl *c, const struct pollfd *p, int n);
/* The reply to connection id's command (list): text of "key: value" lines ending in OK or an ACK line. */
void ctl_reply(struct ctl *c, uint64_t id, const char *text, size_t len);
/* Subsystems that changed (enum proto_subsystem bits): idle clients waiting for one of them are answered. */
void ctl_changed(struct ctl *c, unsigned mask);
/* Closes every client and the socket (and unlinks the path it created). */
void ctl_close(struct ctl *c);

#endif
