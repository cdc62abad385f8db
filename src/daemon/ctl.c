/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ctl.c: the control socket server (ctl.h): listening, accepting, buffering lines in and replies out without
 * ever blocking, command lists and idle; what a command does is the exec callback's business. */
#define _GNU_SOURCE             /* accept4, struct ucred */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "err.h"
#include "log.h"

void
ctl_default_path(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (geteuid() == 0)
		snprintf(buf, len, "/run/musicvaed/ctl");
	else if (xdg != NULL && xdg[0] == '/')
		snprintf(buf, len, "%s/musicvaed/ctl", xdg);
	else
		snprintf(buf, len, "/tmp/musicvaed-%ld/ctl", (long)geteuid());
}

/* ---- output ------------------------------------------------------------------------------------------ */

static void ctl_drop(struct ctl *c, struct ctl_client *k, const char *why);

/* Queues text for k; a client that lets CTL_OUT_MAX pile up unread is dropped. Returns -1 if dropped. */
static int
ctl_send(struct ctl *c, struct ctl_client *k, const char *s, size_t n)
{
	if (k->state == CTL_CLOSING)
		return 0;
	if (k->out_len + n > CTL_OUT_MAX) {
		ctl_drop(c, k, "it does not read its replies");
		return -1;
	}
	if (k->out_len + n > k->out_cap) {
		size_t cap = k->out_cap ? k->out_cap : 1024;
		char *p;
		while (cap < k->out_len + n)
			cap *= 2;
		if ((p = realloc(k->out, cap)) == NULL) {
			ctl_drop(c, k, "out of memory");
			return -1;
		}
		k->out = p;
		k->out_cap = cap;
	}
	memcpy(k->out + k->out_len, s, n);
	k->out_len += n;
	return 0;
}

static int
ctl_sendf(struct ctl *c, struct ctl_client *k, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
ctl_sendf(struct ctl *c, struct ctl_client *k, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return ctl_send(c, k, buf, n < (int)sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void
ctl_ack(struct ctl *c, struct ctl_client *k, int index, const char *cmd, const struct proto_err *e)
{
	char buf[512];
	int n = proto_ack_format(buf, sizeof buf, e->code, index, cmd, e->msg);

	ctl_send(c, k, buf, n < (int)sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void
ctl_flush_out(struct ctl *c, struct ctl_client *k)
{
	while (k->out_len > 0) {
		ssize_t w = send(k->fd, k->out, k->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				ctl_drop(c, k, strerror(errno));
			return;
		}
		memmove(k->out, k->out + w, k->out_len - (size_t)w);
		k->out_len -= (size_t)w;
	}
}

/* ---- clients --------------------------------------------------------------------------------------- */

static void
ctl_client_free(struct ctl_client *k)
{
	if (k->fd >= 0)
		close(k->fd);
	free(k->in);
	free(k->out);
	free(k->list);
	memset(k, 0, sizeof *k);
	k->fd = -1;
}

/* Marks k for removal at the end of ctl_handle (its slot must stay put while we iterate). */
static void
ctl_drop(struct ctl *c, struct ctl_client *k, const char *why)
{
	if (k->state == CTL_CLOSING)
		return;
	if (why != NULL) {
		log_warnx("control: connection %llu (pid %ld) dropped: %s", (unsigned long long)k->id, (long)k->pid,
		    why);
		c->dropped++;
	} else
		log_debug("control: connection %llu closed", (unsigned long long)k->id);
	k->state = CTL_CLOSING;
	k->out_len = 0;
}

static void
ctl_reap(struct ctl *c)
{
	for (int i = 0; i < c->n_cl; i++) {     /* a half-closed client with nothing left to say or hear */
		struct ctl_client *k = &c->cl[i];
		if (k->eof && k->state != CTL_WAIT && k->state != CTL_CLOSING && k->out_len == 0)
			ctl_drop(c, k, NULL);
	}
	for (int i = 0; i < c->n_cl;) {
		if (c->cl[i].state != CTL_CLOSING) {
			i++;
			continue;
		}
		ctl_client_free(&c->cl[i]);
		c->cl[i] = c->cl[--c->n_cl];
		c->cl[c->n_cl].fd = -1;
	}
}

static void
ctl_accept(struct ctl *c)
{
	struct ctl_client *k;
	struct ucred cr;
	socklen_t crlen = sizeof cr;
	int fd;

	while ((fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (c->n_cl >= c->max_clients) {
			static const char busy[] = "ACK [56@0] {} too many clients\n";
			(void)!write(fd, busy, sizeof busy - 1);
			close(fd);
			log_warnx("control: connection refused: %d clients already (control.max_clients)", c->n_cl);
			continue;
		}
		k = &c->cl[c->n_cl];
		memset(k, 0, sizeof *k);
		k->fd = fd;
		k->id = ++c->next_id;
		k->in = malloc(c->max_line);
		k->list_err_index = -1;
		if (k->in == NULL) {
			close(fd);
			k->fd = -1;
			continue;
		}
		c->n_cl++;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) == 0) {
			k->pid = cr.pid;
			k->uid = cr.uid;
		}
		log_info("control: connection %llu from pid %ld uid %ld gid %ld", (unsigned long long)k->id,
		    (long)cr.pid, (long)cr.uid, (long)cr.gid);
		ctl_sendf(c, k, "%s\n", PROTO_GREETING);
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
		log_warn("control: accept");
}

/* ---- commands ---------------------------------------------------------------------------------------- */

static void
ctl_idle_answer(struct ctl *c, struct ctl_client *k)
{
	unsigned due = k->changed & k->idle_mask;

	for (int i = 0; i < PROTO_NSUB; i++)
		if (due & (1u << i))
			ctl_sendf(c, k, "changed: %s\n", proto_subsystem_name(i));
	k->changed &= ~due;
	ctl_send(c, k, "OK\n", 3);
	k->state = CTL_READY;
}

static void
ctl_exec(struct ctl *c, struct ctl_client *k, const struct proto_cmd *cmds, int n, int list_ok)
{
	struct proto_err e;
	int index = 0;

	k->state = CTL_WAIT;
	if (c->exec(c->ctx, k->id, cmds, n, list_ok, &index, &e) < 0) {
		k->state = CTL_READY;
		ctl_ack(c, k, index, index >= 0 && index < n ? cmds[index].name : "", &e);
	}
}

static void
ctl_list_line(struct ctl *c, struct ctl_client *k, const char *line)
{
	struct proto_cmd cmd;
	struct proto_err e;
	int bad = proto_parse(line, &cmd, &e) < 0;

	if (!bad && cmd.op == PROTO_LIST_END) {
		k->state = CTL_READY;
		if (k->list_err_index >= 0)
			ctl_ack(c, k, k->list_err_index, k->list_err_name, &k->list_err);
		else if (k->n_list == 0)
			ctl_send(c, k, "OK\n", 3);
		else
			ctl_exec(c, k, k->list, k->n_list, k->list_ok);
		return;
	}
	if (!bad && (cmd.op == PROTO_IDLE || cmd.op == PROTO_NOIDLE || cmd.op == PROTO_CLOSE ||
	    cmd.op == PROTO_LIST_BEGIN || cmd.op == PROTO_LIST_OK_BEGIN)) {
		bad = 1;
		e.code = PROTO_ACK_ARG;
		snprintf(e.msg, sizeof e.msg, "not allowed in a command list");
	}
	if (!bad && k->n_list == PROTO_LIST_MAX) {
		bad = 1;
		e.code = PROTO_ACK_ARG;
		snprintf(e.msg, sizeof e.msg, "a command list holds at most %d commands", PROTO_LIST_MAX);
	}
	if (bad) {
		if (k->list_err_index < 0) {
			k->list_err_index = k->n_list;
			k->list_err = e;
			snprintf(k->list_err_name, sizeof k->list_err_name, "%s", cmd.name);
		}
		return;
	}
	k->list[k->n_list++] = cmd;
}

static void
ctl_line(struct ctl *c, struct ctl_client *k, const char *line)
{
	struct proto_cmd cmd;
	struct proto_err e;

	if (k->state == CTL_LIST) {
		ctl_list_line(c, k, line);
		return;
	}
	if (proto_parse(line, &cmd, &e) < 0) {
		if (k->state == CTL_IDLE)
			k->state = CTL_READY;
		ctl_ack(c, k, 0, cmd.name, &e);
		return;
	}
	if (k->state == CTL_IDLE) {
		if (cmd.op == PROTO_NOIDLE) {
			k->idle_mask = PROTO_SUB_ALL;   /* report whatever changed, as MPD does */
			ctl_idle_answer(c, k);
		} else {
			k->state = CTL_READY;
			e.code = PROTO_ACK_ARG;
			snprintf(e.msg, sizeof e.msg, "only noidle is allowed while idle");
			ctl_ack(c, k, 0, cmd.name, &e);
		}
		return;
	}
	switch (cmd.op) {
	case PROTO_PING:
	case PROTO_NOIDLE:
		ctl_send(c, k, "OK\n", 3);
		return;
	case PROTO_CLOSE:
		ctl_drop(c, k, NULL);
		return;
	case PROTO_COMMANDS:
		for (int i = 0; proto_usage[i]; i++)
			ctl_sendf(c, k, "command: %s\n", proto_usage[i]);
		ctl_send(c, k, "OK\n", 3);
		return;
	case PROTO_IDLE:
		k->idle_mask = cmd.idle_mask;
		k->state = CTL_IDLE;
		if (k->changed & k->idle_mask)
			ctl_idle_answer(c, k);
		return;
	case PROTO_LIST_BEGIN:
	case PROTO_LIST_OK_BEGIN:
		if (k->list == NULL && (k->list = malloc(sizeof *k->list * PROTO_LIST_MAX)) == NULL) {
			ctl_drop(c, k, "out of memory");
			return;
		}
		k->state = CTL_LIST;
		k->list_ok = cmd.op == PROTO_LIST_OK_BEGIN;
		k->n_list = 0;
		k->list_err_index = -1;
		return;
	case PROTO_LIST_END:
		e.code = PROTO_ACK_NOT_LIST;
		snprintf(e.msg, sizeof e.msg, "not in a command list");
		ctl_ack(c, k, 0, cmd.name, &e);
		return;
	default:
		ctl_exec(c, k, &cmd, 1, 0);
	}
}

/* Runs the complete lines in k's buffer until it must wait for the engine. */
static void
ctl_lines(struct ctl *c, struct ctl_client *k)
{
	size_t start = 0;

	while (k->state == CTL_READY || k->state == CTL_LIST || k->state == CTL_IDLE) {
		char *nl = memchr(k->in + start, '\n', k->in_len - start);
		if (nl == NULL)
			break;
		*nl = '\0';
		if (nl > k->in + start && nl[-1] == '\r')
			nl[-1] = '\0';
		ctl_line(c, k, k->in + start);
		start = (size_t)(nl - k->in) + 1;
	}
	memmove(k->in, k->in + start, k->in_len - start);
	k->in_len -= start;
}

static void
ctl_read(struct ctl *c, struct ctl_client *k)
{
	for (;;) {
		ssize_t r;
		if (k->in_len == c->max_line) {
			if (k->state == CTL_WAIT)
				return;         /* a full buffer of commands waits its turn (we stop polling) */
			k->in_len = 0;
			k->discard = 1;
			ctl_sendf(c, k, "ACK [%d@0] {} command line longer than %zu bytes (control.max_line)\n",
			    PROTO_ACK_ARG, c->max_line - 1);
		}
		r = recv(k->fd, k->in + k->in_len, c->max_line - k->in_len, MSG_DONTWAIT);
		if (r == 0) {
			k->eof = 1;     /* half-closed (socat, a script): its commands still get their replies */
			ctl_lines(c, k);
			return;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				ctl_drop(c, k, strerror(errno));
			return;
		}
		if (k->discard) {       /* drop up to the end of the over-long line */
			char *nl = memchr(k->in + k->in_len, '\n', (size_t)r);
			if (nl == NULL)
				continue;
			k->discard = 0;
			r -= nl + 1 - (k->in + k->in_len);
			memmove(k->in + k->in_len, nl + 1, (size_t)r);
		}
		k->in_len += (size_t)r;
		ctl_lines(c, k);
		if (k->state == CTL_CLOSING)
			return;
	}
}

/* ---- the socket ------------------------------------------------------------------------------------ */

static int
ctl_setup(struct ctl *c, const struct ctl_opts *o, ctl_exec_fn exec, void *ctx, char *err, size_t len)
{
	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->exec = exec;
	c->ctx = ctx;
	c->max_clients = o->max_clients > 0 ? o->max_clients : 64;
	c->max_line = o->max_line >= 64 ? (size_t)o->max_line : PROTO_LINE_MAX;
	if (c->max_line > PROTO_LINE_MAX)
		c->max_line = PROTO_LINE_MAX;   /* the parser's own bound */
	if ((c->cl = calloc((size_t)c->max_clients, sizeof *c->cl)) == NULL)
		return err_fail(err, len, "control socket: out of memory");
	for (int i = 0; i < c->max_clients; i++)
		c->cl[i].fd = -1;
	return 0;
}

/* Is somebody accepting on path? 1 yes, 0 no (stale or absent), -1 not a socket. */
static int
ctl_live(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, live;

	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode))
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	live = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return live;
}

static int
ctl_mkdir_parent(const char *path, char *err, size_t len)
{
	char dir[108];
	char *slash;

	snprintf(dir, sizeof dir, "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, geteuid() == 0 ? 0755 : 0700) < 0 && errno != EEXIST)
		return err_fail(err, len, "control socket %s: cannot create the directory %s: %s", path, dir,
		    strerror(errno));
	return 0;
}

static int
ctl_group(const char *path, const char *group, char *err, size_t len)
{
	struct group *g;

	if (group == NULL || group[0] == '\0')
		return 0;
	if ((g = getgrnam(group)) == NULL)
		return err_fail(err, len, "control socket %s: no group \"%s\" (control.group)", path, group);
	if (chown(path, (uid_t)-1, g->gr_gid) < 0)
		return err_fail(err, len, "control socket %s: chown to group %s: %s", path, group, strerror(errno));
	return 0;
}

int
ctl_open(struct ctl *c, const struct ctl_opts *o, ctl_exec_fn exec, void *ctx, char *err, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int live;

	if (ctl_setup(c, o, exec, ctx, err, len) < 0)
		return -1;
	if (strlen(o->path) >= sizeof sa.sun_path)
		return err_fail(err, len, "control socket %s: path longer than %zu bytes (control.socket)", o->path,
		    sizeof sa.sun_path - 1);
	snprintf(c->path, sizeof c->path, "%s", o->path);
	if (ctl_mkdir_parent(c->path, err, len) < 0)
		return -1;
	if ((live = ctl_live(c->path)) != 0)
		return err_fail(err, len, live > 0 ? "control socket %s: another musicvaed is listening there "
		    "(stop it, or set control.socket)" : "control socket %s: exists and is not a socket", c->path);
	unlink(c->path);        /* stale: its daemon died without removing it */
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", c->path);
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		return err_fail(err, len, "control socket %s: %s", c->path, strerror(errno));
	c->unlink_at_close = 1;
	if (chmod(c->path, (mode_t)o->mode) < 0)
		return err_fail(err, len, "control socket %s: chmod %04o: %s", c->path, o->mode, strerror(errno));
	if (ctl_group(c->path, o->group, err, len) < 0)
		return -1;
	if (listen(c->fd, 64) < 0)
		return err_fail(err, len, "control socket %s: listen: %s", c->path, strerror(errno));
	return 0;
}

int
ctl_adopt(struct ctl *c, int fd, const struct ctl_opts *o, ctl_exec_fn exec, void *ctx, char *err, size_t len)
{
	if (ctl_setup(c, o, exec, ctx, err, len) < 0)
		return -1;
	snprintf(c->path, sizeof c->path, "%s", o->path);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return err_fail(err, len, "control socket (inherited fd %d): %s", fd, strerror(errno));
	c->fd = fd;
	return 0;
}

int
ctl_pollfds(const struct ctl *c, struct pollfd *p, int max)
{
	int n = 0;

	if (c->fd >= 0 && n < max)
		p[n++] = (struct pollfd){ c->fd, POLLIN, 0 };
	for (int i = 0; i < c->n_cl && n < max; i++) {
		const struct ctl_client *k = &c->cl[i];
		short ev = k->out_len > 0 ? POLLOUT : 0;
		if (!k->eof && !(k->state == CTL_WAIT && k->in_len == c->max_line))
			ev |= POLLIN;
		p[n++] = (struct pollfd){ k->fd, ev, 0 };
	}
	return n;
}

static struct ctl_client *
ctl_by_fd(struct ctl *c, int fd)
{
	for (int i = 0; i < c->n_cl; i++)
		if (c->cl[i].fd == fd)
			return &c->cl[i];
	return NULL;
}

void
ctl_handle(struct ctl *c, const struct pollfd *p, int n)
{
	for (int i = 0; i < n; i++) {
		struct ctl_client *k;
		if (p[i].revents == 0)
			continue;
		if (p[i].fd == c->fd) {
			ctl_accept(c);
			continue;
		}
		if ((k = ctl_by_fd(c, p[i].fd)) == NULL || k->state == CTL_CLOSING)
			continue;
		if (p[i].revents & (POLLIN | POLLHUP | POLLERR))
			ctl_read(c, k);
		if (k->state != CTL_CLOSING && k->out_len > 0)
			ctl_flush_out(c, k);
	}
	ctl_reap(c);
}

void
ctl_reply(struct ctl *c, uint64_t id, const char *text, size_t len)
{
	for (int i = 0; i < c->n_cl; i++) {
		struct ctl_client *k = &c->cl[i];
		if (k->id != id || k->state == CTL_CLOSING)
			continue;
		if (ctl_send(c, k, text, len) == 0 && k->state == CTL_WAIT) {
			k->state = CTL_READY;
			ctl_lines(c, k);
		}
		if (k->state != CTL_CLOSING)
			ctl_flush_out(c, k);
		break;
	}
	ctl_reap(c);
}

void
ctl_changed(struct ctl *c, unsigned mask)
{
	for (int i = 0; i < c->n_cl; i++) {
		struct ctl_client *k = &c->cl[i];
		k->changed |= mask;
		if (k->state == CTL_IDLE && (k->changed & k->idle_mask)) {
			ctl_idle_answer(c, k);
			ctl_lines(c, k);
			if (k->state != CTL_CLOSING)
				ctl_flush_out(c, k);
		}
	}
	ctl_reap(c);
}

void
ctl_close(struct ctl *c)
{
	for (int i = 0; i < c->n_cl; i++)
		ctl_client_free(&c->cl[i]);
	c->n_cl = 0;
	free(c->cl);
	c->cl = NULL;
	if (c->fd >= 0)
		close(c->fd);
	if (c->unlink_at_close)
		unlink(c->path);
	c->fd = -1;
}
