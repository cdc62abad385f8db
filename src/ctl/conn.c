/* SPDX-License-Identifier: GPL-3.0-or-later */
/* conn.c: musicvaectl's connection to the control socket: finding and opening it, the greeting, command lines
 * out, reply lines in, and the signals that interrupt a wait. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "conn.h"

volatile sig_atomic_t conn_sigint, conn_sigwinch;

static void
conn_on_signal(int sig)
{
	if (sig == SIGWINCH)
		conn_sigwinch = 1;
	else
		conn_sigint = 1;
}

/* Signals that interrupt a wait (no SA_RESTART) so that the waiting loop sees them. */
void
conn_catch(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = conn_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* --socket, else $MUSICVAED_SOCKET, else the user's daemon ($XDG_RUNTIME_DIR/musicvaed/ctl, or
 * /tmp/musicvaed-UID/ctl without XDG_RUNTIME_DIR, as musicvaed picks them) when it exists, else the system's. */
const char *
conn_default_path(char *out, size_t len)
{
	const char *env = getenv("MUSICVAED_SOCKET"), *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;

	if (env != NULL && *env != '\0')
		return env;
	if (xdg != NULL && xdg[0] == '/')
		snprintf(out, len, "%s/musicvaed/ctl", xdg);
	else
		snprintf(out, len, "/tmp/musicvaed-%ld/ctl", (long)geteuid());
	if (stat(out, &st) == 0)
		return out;
	return "/run/musicvaed/ctl";
}

/* Reads one line (without "\n" or "\r") into line[size]: 1, or CTL_EOF, CTL_FAIL, CTL_INTR. */
static int
conn_read_line(struct ctl_conn *c, char *line, size_t size, int timeout_ms)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		ssize_t r;
		int k;
		if (nl != NULL) {
			size_t n = (size_t)(nl - c->buf), m = n > 0 && nl[-1] == '\r' ? n - 1 : n;
			snprintf(line, size, "%.*s", (int)m, c->buf);
			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			return 1;
		}
		if (c->len == sizeof c->buf) {
			fprintf(stderr, "musicvaectl: %s: a reply line longer than %d bytes\n", c->path, CTL_BUF);
			return CTL_FAIL;
		}
		if ((k = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
			return CTL_INTR;
		if (k == 0) {
			fprintf(stderr, "musicvaectl: %s: no reply within %d ms\n", c->path, timeout_ms);
			return CTL_FAIL;
		}
		if ((r = read(c->fd, c->buf + c->len, sizeof c->buf - c->len)) < 0 && errno == EINTR)
			return CTL_INTR;
		if (r < 0 && errno == ECONNRESET)
			return CTL_EOF;
		if (r < 0) {
			fprintf(stderr, "musicvaectl: reading %s: %s\n", c->path, strerror(errno));
			return CTL_FAIL;
		}
		if (r == 0)
			return CTL_EOF;
		c->len += (size_t)r;
	}
}

/* Sends line and a newline; 0, or -1 when the daemon has gone (reported). */
int
conn_send(struct ctl_conn *c, const char *line)
{
	char buf[PROTO_LINE_MAX + 1];
	size_t n = (size_t)snprintf(buf, sizeof buf, "%s\n", line), off = 0;

	if (n >= sizeof buf) {
		fprintf(stderr, "musicvaectl: a command line longer than %d bytes\n", PROTO_LINE_MAX - 1);
		return -1;
	}
	while (off < n) {
		ssize_t w = send(c->fd, buf + off, n - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			fprintf(stderr, "musicvaectl: writing to %s: %s\n", c->path, strerror(errno));
			return -1;
		}
		off += (size_t)w;
	}
	return 0;
}

static int
conn_fail_connect(const char *path, int err)
{
	fprintf(stderr, "musicvaectl: cannot connect to %s: %s (is musicvaed running? --socket or MUSICVAED_SOCKET)\n",
	    path, strerror(err));
	return -1;
}

/* Connects and checks the greeting; 0, or -1 after a message. */
int
conn_open(struct ctl_conn *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char greet[CTL_LINE];
	int r;

	c->path = path;
	c->len = 0;
	if (strlen(path) >= sizeof sa.sun_path)
		return conn_fail_connect(path, ENAMETOOLONG);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return conn_fail_connect(path, errno);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int err = errno;
		close(c->fd);
		return conn_fail_connect(path, err);
	}
	while ((r = conn_read_line(c, greet, sizeof greet, CTL_GREETING_MS)) == CTL_INTR)
		;
	if (r == 1 && strncmp(greet, "OK MUSICVAED ", 13) == 0)
		return 0;
	if (r != CTL_FAIL)
		fprintf(stderr, "musicvaectl: %s: not a musicvaed control socket (%s%s%s)\n", path,
		    r == 1 ? "greeting \"" : "closed without a greeting", r == 1 ? greet : "", r == 1 ? "\"" : "");
	close(c->fd);
	return -1;
}

/* Reads one reply: body lines are printed to echo and kept in out (either may be NULL; out is appended to).
 * Returns 0 for OK, the ACK code with the ACK line in ack[], or CTL_EOF, CTL_FAIL, CTL_INTR. */
int
conn_reply(struct ctl_conn *c, FILE *echo, struct ctl_reply *out, char *ack, size_t acklen)
{
	char line[PROTO_LINE_MAX];

	for (;;) {
		int r = conn_read_line(c, line, sizeof line, -1), end;
		if (r != 1)
			return r;
		if ((end = proto_reply_end(line, NULL, 0)) >= 0) {
			if (end > 0)
				snprintf(ack, acklen, "%s", line);
			return end;
		}
		if (echo != NULL)
			fprintf(echo, "%s\n", line);
		if (out != NULL && out->n < CTL_LINES)
			snprintf(out->line[out->n++], CTL_LINE, "%s", line);
	}
}

/* "musicvaectl: {command} message" for an ACK line. */
void
conn_print_ack(const char *ack, long lineno)
{
	const char *brace = strchr(ack, '{');

	if (lineno > 0)
		fprintf(stderr, "musicvaectl: line %ld: %s\n", lineno, brace ? brace : ack);
	else
		fprintf(stderr, "musicvaectl: %s\n", brace ? brace : ack);
}

void
conn_print_lost(struct ctl_conn *c, int r)
{
	if (r == CTL_EOF)
		fprintf(stderr, "musicvaectl: musicvaed closed the connection (%s)\n", c->path);
}

/* The value of key in a reply ("key: value"), or NULL; from counts past earlier matches. */
const char *
conn_get(const struct ctl_reply *r, const char *key, int *from)
{
	size_t k = strlen(key);

	for (int i = from ? *from : 0; i < r->n; i++)
		if (strncmp(r->line[i], key, k) == 0 && r->line[i][k] == ':') {
			if (from)
				*from = i + 1;
			return r->line[i] + k + (r->line[i][k + 1] == ' ' ? 2 : 1);
		}
	return NULL;
}
