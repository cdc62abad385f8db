/* SPDX-License-Identifier: GPL-3.0-or-later */
/* conn.h: musicvaectl's connection to the control socket, its replies and its exit statuses. */
#ifndef MVD_CONN_H
#define MVD_CONN_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#include "proto.h"

/* Exit statuses (musicvaectl(1), EXIT STATUS). */
#define CTL_EXIT_ACK 1          /* the daemon refused a command */
#define CTL_EXIT_USAGE 2        /* bad command line or script */
#define CTL_EXIT_CONN 3         /* cannot connect, connection lost, not the protocol */

/* What reading a reply can end in, besides 0 (OK) and an ACK code > 0. */
#define CTL_EOF (-1)            /* the daemon closed the connection */
#define CTL_FAIL (-2)           /* I/O or protocol error, already reported */
#define CTL_INTR (-3)           /* a signal arrived while waiting (SIGINT, SIGWINCH) */

#define CTL_BUF 16384           /* reply bytes buffered: several reply lines */
#define CTL_LINES 512           /* reply lines kept for watch and the interactive roll */
#define CTL_LINE 256
#define CTL_GREETING_MS 5000    /* a socket that does not greet within this is not musicvaed */

struct ctl_conn {
	int fd;
	const char *path;
	char buf[CTL_BUF];
	size_t len;                     /* bytes in buf */
};

/* Body lines of one reply (without the final OK / ACK). */
struct ctl_reply {
	int n;
	char line[CTL_LINES][CTL_LINE];
};

extern volatile sig_atomic_t conn_sigint, conn_sigwinch;   /* set by the handlers conn_catch installs */

/* Installs a handler for sig that sets conn_sigint (conn_sigwinch for SIGWINCH) without SA_RESTART, so that
 * a wait returns CTL_INTR. */
void conn_catch(int sig);
/* --socket, else $MUSICVAED_SOCKET, else the user's daemon ($XDG_RUNTIME_DIR/musicvaed/ctl, or
 * /tmp/musicvaed-UID/ctl without XDG_RUNTIME_DIR, as musicvaed picks them) when it exists, else the system's. */
const char *conn_default_path(char *out, size_t len);
/* Connects and checks the greeting; 0, or -1 after a message. */
int conn_open(struct ctl_conn *c, const char *path);
/* Sends line and a newline; 0, or -1 when the daemon has gone (reported). */
int conn_send(struct ctl_conn *c, const char *line);
/* Reads one reply: body lines are printed to echo and kept in out (either may be NULL; out is appended to).
 * Returns 0 for OK, the ACK code with the ACK line in ack[], or CTL_EOF, CTL_FAIL, CTL_INTR. */
int conn_reply(struct ctl_conn *c, FILE *echo, struct ctl_reply *out, char *ack, size_t acklen);
/* "musicvaectl: {command} message" for an ACK line (with "line N: " when lineno > 0). */
void conn_print_ack(const char *ack, long lineno);
/* Says that the daemon closed the connection when r is CTL_EOF. */
void conn_print_lost(struct ctl_conn *c, int r);
/* The value of key in a reply ("key: value"), or NULL; from counts past earlier matches. */
const char *conn_get(const struct ctl_reply *r, const char *key, int *from);

#endif
