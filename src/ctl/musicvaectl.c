/* SPDX-License-Identifier: GPL-3.0-or-later */
/* musicvaectl.c: the control client: connecting, and the one-shot, script, interactive and watch modes. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <editline/readline.h>

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

#define WATCH_BARS_MAX 64       /* bars of history watch keeps */
#define WATCH_NOTES 256         /* notes per bar (in and out) */
#define WATCH_LABEL 5           /* pitch label column ("C#4 ") */
#define WATCH_IDLE "idle bar mode tempo attr slot options transport"

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

struct ctl_sess {
	int in_list;                    /* inside command_list_begin ... command_list_end */
	int keep_going;                 /* script mode: go on after an ACK */
	int interactive;                /* SIGINT while idle sends noidle; `bars` draws a roll */
	int closed;                     /* `close` was sent and the daemon hung up */
};

struct watch_note {
	int step, pitch, len, vel, out;
};

struct watch_bar {
	long bar;
	int n;
	struct watch_note note[WATCH_NOTES];
};

struct watch {
	int tty, want;                  /* stdout is a terminal; bars to show */
	int nbars;                      /* bars in hist, oldest first */
	struct watch_bar hist[WATCH_BARS_MAX];
	struct ctl_reply status;
};

static volatile sig_atomic_t ctl_sigint, ctl_sigwinch;
static struct ctl_reply ctl_scratch;    /* the interactive roll's copy of a `bars` reply */

/* ---- the connection ------------------------------------------------------------------------------- */

static void
ctl_on_signal(int sig)
{
	if (sig == SIGWINCH)
		ctl_sigwinch = 1;
	else
		ctl_sigint = 1;
}

/* Signals that interrupt a wait (no SA_RESTART) so that the waiting loop sees them. */
static void
ctl_catch(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = ctl_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* --socket, else $MUSICVAED_SOCKET, else the user's daemon ($XDG_RUNTIME_DIR/musicvaed/ctl, or
 * /tmp/musicvaed-UID/ctl without XDG_RUNTIME_DIR, as musicvaed picks them) when it exists, else the system's. */
static const char *
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
static int
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
static int
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
static int
reply_read(struct ctl_conn *c, FILE *echo, struct ctl_reply *out, char *ack, size_t acklen)
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
static void
reply_print_ack(const char *ack, long lineno)
{
	const char *brace = strchr(ack, '{');

	if (lineno > 0)
		fprintf(stderr, "musicvaectl: line %ld: %s\n", lineno, brace ? brace : ack);
	else
		fprintf(stderr, "musicvaectl: %s\n", brace ? brace : ack);
}

static void
reply_print_lost(struct ctl_conn *c, int r)
{
	if (r == CTL_EOF)
		fprintf(stderr, "musicvaectl: musicvaed closed the connection (%s)\n", c->path);
}

/* The value of key in a reply ("key: value"), or NULL; from counts past earlier matches. */
static const char *
reply_get(const struct ctl_reply *r, const char *key, int *from)
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

/* ---- one command line from words ------------------------------------------------------------------- */

/* Appends word to out, in double quotes (with \" and \\) when it is empty or holds blanks, quotes or
 * backslashes, so that proto_split gives it back unchanged. */
static int
ctl_quote(char *out, size_t len, size_t *o, const char *word)
{
	int q = *word == '\0' || strpbrk(word, " \t\"\\") != NULL;

	if (q && *o + 1 < len)
		out[(*o)++] = '"';
	for (const char *p = word; *p; p++) {
		if (q && (*p == '"' || *p == '\\') && *o + 1 < len)
			out[(*o)++] = '\\';
		if (*o + 1 < len)
			out[(*o)++] = *p;
	}
	if (q && *o + 1 < len)
		out[(*o)++] = '"';
	out[*o] = '\0';
	return *o + 1 < len ? 0 : -1;
}

/* The words as one command line; -1 when it would not fit a protocol line, -2 when a word holds a control
 * character (a newline would smuggle in a second command; the daemon refuses the others anyway). */
static int
ctl_join(int argc, char **argv, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; i < argc; i++) {
		for (const char *p = argv[i]; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return -2;
		if (i > 0 && o + 1 < len)
			out[o++] = ' ';
		if (ctl_quote(out, len, &o, argv[i]) < 0)
			return -1;
	}
	return 0;
}

/* The first word of a command line ("" when it does not split). */
static void
ctl_first_word(const char *line, char *word, size_t len)
{
	char buf[PROTO_LINE_MAX], *argv[PROTO_MAX_ARGS];
	struct proto_err e;

	word[0] = '\0';
	if (strlen(line) < sizeof buf && proto_split(line, buf, sizeof buf, argv, PROTO_MAX_ARGS, &e) > 0)
		snprintf(word, len, "%s", argv[0]);
}

/* ---- watch: the header and the piano roll ----------------------------------------------------------- */

static void
watch_term_size(int tty, int *cols, int *rows)
{
	struct winsize ws;
	const char *env = getenv("COLUMNS");

	*cols = 0;
	*rows = 0;
	if (tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	} else if (env != NULL && atoi(env) > 0)
		*cols = atoi(env);
}

/* Keeps the notes of a `bars` reply as the newest bar (replacing it when the daemon sent it again). */
static void
watch_add_bar(struct watch *w, const struct ctl_reply *r)
{
	const char *v = reply_get(r, "bar", NULL);
	struct watch_bar *b;
	long bar;

	if (v == NULL || sscanf(v, "%ld", &bar) != 1)
		return;
	if (w->nbars > 0 && bar < w->hist[w->nbars - 1].bar)
		w->nbars = 0;           /* the song position went back: a new take */
	if (w->nbars == 0 || bar != w->hist[w->nbars - 1].bar) {
		if (w->nbars == WATCH_BARS_MAX)
			memmove(w->hist, w->hist + 1, sizeof w->hist[0] * --w->nbars);
		w->nbars++;
	}
	b = &w->hist[w->nbars - 1];
	b->bar = bar;
	b->n = 0;
	for (int i = 0; i < r->n && b->n < WATCH_NOTES; i++) {
		struct watch_note *nt = &b->note[b->n];
		int out = strncmp(r->line[i], "out: ", 5) == 0;
		if (!out && strncmp(r->line[i], "in: ", 4) != 0)
			continue;
		if (sscanf(r->line[i] + (out ? 5 : 4), "%d %d %d %d", &nt->step, &nt->pitch, &nt->len, &nt->vel) != 4 ||
		    nt->step < 0 || nt->step > 15 || nt->pitch < 0 || nt->pitch > 127)
			continue;
		nt->out = out;
		b->n++;
	}
}

/* "120.0 BPM", "tempo unknown (ext)" */
static void
watch_tempo(const char *tempo, const char *clk, char *out, size_t len)
{
	const char *ext = clk != NULL && strcmp(clk, "external") == 0 ? " (ext)" : "";
	double bpm;

	if (tempo != NULL && sscanf(tempo, "%lf", &bpm) == 1)
		snprintf(out, len, "%.1f BPM%s", bpm, ext);
	else
		snprintf(out, len, "tempo %s%s", tempo ? tempo : "?", ext);
}

/* "bar 12.3 | generate | 120.0 BPM | running | morph 0.375 | temp 0.5 | note_density +0.80" */
static void
watch_header(const struct watch *w, char *out, size_t len)
{
	const struct ctl_reply *s = &w->status;
	const char *mode = reply_get(s, "mode", NULL), *bar = reply_get(s, "bar", NULL);
	const char *step = reply_get(s, "step", NULL), *run = reply_get(s, "running", NULL);
	const char *morph = reply_get(s, "morph_position", NULL), *temp = reply_get(s, "temperature", NULL), *a;
	char tempo[64];
	size_t o;
	int from = 0;

	watch_tempo(reply_get(s, "tempo", NULL), reply_get(s, "clock", NULL), tempo, sizeof tempo);
	o = (size_t)snprintf(out, len, "bar %s.%s | %s | %s | %s", bar ? bar : "?", step ? step : "?",
	    mode ? mode : "?", tempo, run == NULL ? "?" : strcmp(run, "1") == 0 ? "running" : "stopped");
	if (morph != NULL && o < len && mode != NULL && strcmp(mode, "morph") == 0)
		o += (size_t)snprintf(out + o, len - o, " | morph %s", morph);
	if (temp != NULL && o < len)
		o += (size_t)snprintf(out + o, len - o, " | temp %s", temp);
	while ((a = reply_get(s, "attr", &from)) != NULL && o < len) {
		char name[64];
		double v;
		if (sscanf(a, "%63s %lf", name, &v) == 2 && v != 0.0)
			o += (size_t)snprintf(out + o, len - o, " | %s %+.2f", name, v);
	}
}

static const char *
watch_pitch_name(int p, char *buf, size_t len)
{
	static const char *const names[12] = { "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B" };

	snprintf(buf, len, "%s%d", names[p % 12], p / 12 - 1);
	return buf;
}

/* The glyph of one cell: '#' the daemon's note ('=' held), '+' the player's ('-' held), '*' both; ':' an empty
 * beat, '.' an empty step. */
static char
watch_cell(const struct watch_bar *b, int pitch, int step)
{
	int in = 0, out = 0;

	for (int i = 0; i < b->n; i++) {
		const struct watch_note *nt = &b->note[i];
		int held = nt->len > 0 ? nt->len : 1;
		if (nt->pitch != pitch || step < nt->step || step >= nt->step + held)
			continue;
		if (nt->out)
			out |= step == nt->step ? 2 : 1;
		else
			in |= step == nt->step ? 2 : 1;
	}
	if (in && out)
		return '*';
	if (out)
		return out & 2 ? '#' : '=';
	if (in)
		return in & 2 ? '+' : '-';
	return step % 4 == 0 ? ':' : '.';
}

/* Which pitches get a row: the whole range that occurs, or only the pitches that occur when the range is
 * taller than max_rows (then the highest max_rows of them). Returns the count, highest first in rows[]. */
static int
watch_rows(const struct watch_bar *bars, int nb, int max_rows, int *rows)
{
	int used[128] = { 0 }, lo = 128, hi = -1, n = 0;

	for (int b = 0; b < nb; b++)
		for (int i = 0; i < bars[b].n; i++) {
			int p = bars[b].note[i].pitch;
			used[p] = 1;
			lo = p < lo ? p : lo;
			hi = p > hi ? p : hi;
		}
	for (int p = hi; p >= lo && p >= 0; p--)
		if (used[p] || (max_rows <= 0 || hi - lo + 1 <= max_rows))
			if (max_rows <= 0 || n < max_rows)
				rows[n++] = p;
	return n;
}

/* One line of the frame: in place on a terminal (erasing the rest of the line), plain otherwise. */
static void
watch_put(const struct watch *w, const char *s, int cols)
{
	if (w->tty)
		printf("%.*s\033[K\n", cols > 0 ? cols : (int)strlen(s), s);
	else
		printf("%s\n", s);
}

static void
watch_draw_roll(const struct watch *w, const struct watch_bar *bars, int nb, int cols, int max_rows)
{
	char line[WATCH_LABEL + WATCH_BARS_MAX * 17 + 2], name[8];
	int rows[128], nr = watch_rows(bars, nb, max_rows, rows);
	size_t o = (size_t)snprintf(line, sizeof line, "%*s", WATCH_LABEL, "");

	for (int b = 0; b < nb; b++)
		o += (size_t)snprintf(line + o, sizeof line - o, "|%-16ld", bars[b].bar);
	snprintf(line + o, sizeof line - o, "|");
	watch_put(w, line, cols);
	if (nr == 0)
		watch_put(w, "     (no notes)", cols);
	for (int r = 0; r < nr; r++) {
		o = (size_t)snprintf(line, sizeof line, "%-*s", WATCH_LABEL, watch_pitch_name(rows[r], name, sizeof name));
		for (int b = 0; b < nb; b++) {
			line[o++] = '|';
			for (int s = 0; s < 16; s++)
				line[o++] = watch_cell(&bars[b], rows[r], s);
		}
		snprintf(line + o, sizeof line - o, "|");
		watch_put(w, line, cols);
	}
}

/* A frame: the header, then the last bars that fit. */
static void
watch_draw(struct watch *w)
{
	char head[1024];
	int cols, rows, nb = w->want, fit;

	watch_term_size(w->tty, &cols, &rows);
	fit = cols > 0 && w->tty ? (cols - WATCH_LABEL - 1) / 17 : WATCH_BARS_MAX;
	nb = nb > fit ? (fit > 0 ? fit : 1) : nb;
	nb = nb > w->nbars ? w->nbars : nb;
	if (w->tty)
		fputs("\033[H", stdout);
	watch_header(w, head, sizeof head);
	watch_put(w, head, cols);
	watch_draw_roll(w, w->hist + w->nbars - nb, nb, cols, w->tty && rows > 4 ? rows - 4 : 0);
	watch_put(w, "     # out (= held)  + in (- held)  * both", cols);
	if (w->tty)
		fputs("\033[J", stdout);
	else
		putchar('\n');
	fflush(stdout);
}

/* ---- watch: the loop --------------------------------------------------------------------------------- */

/* One command whose reply watch keeps in out (emptied on ACK); 0, or -1 when the connection ended. */
static int
watch_ask(struct ctl_conn *c, const char *cmd, struct ctl_reply *out)
{
	char ack[PROTO_LINE_MAX];
	int r;

	out->n = 0;
	if (conn_send(c, cmd) < 0)
		return -1;
	while ((r = reply_read(c, NULL, out, ack, sizeof ack)) == CTL_INTR && !ctl_sigint)
		;
	if (r > 0)
		out->n = 0;             /* e.g. no bar played yet: show nothing rather than stop */
	return r >= 0 ? 0 : r;
}

static int
watch_refresh(struct ctl_conn *c, struct watch *w)
{
	int r;

	if ((r = watch_ask(c, "status", &w->status)) < 0 || (r = watch_ask(c, "bars", &ctl_scratch)) < 0)
		return r;
	watch_add_bar(w, &ctl_scratch);
	watch_draw(w);
	return 0;
}

/* Waits for `idle`; returns whether a bar went by (1), some other change (0), or < 0. SIGWINCH redraws. */
static int
watch_wait(struct ctl_conn *c, struct watch *w)
{
	char ack[PROTO_LINE_MAX];
	int r, bar = 0, from = 0;
	const char *v;

	ctl_scratch.n = 0;
	if (conn_send(c, WATCH_IDLE) < 0)
		return CTL_FAIL;
	while ((r = reply_read(c, NULL, &ctl_scratch, ack, sizeof ack)) == CTL_INTR && !ctl_sigint)
		if (ctl_sigwinch && w->tty) {
			ctl_sigwinch = 0;
			fputs("\033[2J", stdout);
			watch_draw(w);
		}
	if (r > 0) {
		reply_print_ack(ack, 0);
		return CTL_FAIL;
	}
	while (r == 0 && (v = reply_get(&ctl_scratch, "changed", &from)) != NULL)
		bar |= strcmp(v, "bar") == 0;
	return r < 0 ? r : bar;
}

static void
watch_end(const struct watch *w)
{
	if (w->tty)
		fputs("\033[?25h", stdout);
	fflush(stdout);
}

/* `watch`: redraws on every change until SIGINT (0) or until the daemon goes away (3). */
static int
watch_run(struct ctl_conn *c, int want)
{
	static struct watch w;
	int r;

	w.tty = isatty(STDOUT_FILENO);
	w.want = want;
	ctl_catch(SIGINT);
	ctl_catch(SIGTERM);
	ctl_catch(SIGWINCH);
	if (w.tty)
		fputs("\033[?25l\033[H\033[2J", stdout);
	r = watch_refresh(c, &w);
	while (r >= 0 && !ctl_sigint) {
		if ((r = watch_wait(c, &w)) < 0)
			break;
		if (r == 1 || w.tty)
			r = watch_refresh(c, &w);
	}
	watch_end(&w);
	if (ctl_sigint)
		return 0;
	reply_print_lost(c, r);
	return CTL_EXIT_CONN;
}

/* ---- commands: one-shot, script, interactive ----------------------------------------------------------- */

/* Sends one line and prints its reply (none inside a command list): 0 OK, 1 ACK, -1 connection ended. */
static int
ctl_exec(struct ctl_conn *c, struct ctl_sess *s, const char *line, long lineno)
{
	char word[PROTO_ARG_MAX], ack[PROTO_LINE_MAX];
	int r, idle, sent_noidle = 0;

	ctl_first_word(line, word, sizeof word);
	if (conn_send(c, line) < 0)
		return -1;
	if (strcmp(word, "command_list_begin") == 0 || strcmp(word, "command_list_ok_begin") == 0)
		s->in_list = 1;
	if (s->in_list && strcmp(word, "command_list_end") != 0)
		return 0;
	s->in_list = 0;
	idle = strcmp(word, "idle") == 0;
	ctl_scratch.n = 0;
	while ((r = reply_read(c, stdout, &ctl_scratch, ack, sizeof ack)) == CTL_INTR)
		if (ctl_sigint && idle && !sent_noidle) {
			ctl_sigint = 0;
			sent_noidle = 1;
			if (conn_send(c, "noidle") < 0)
				return -1;
		}
	fflush(stdout);
	if (r == CTL_EOF && strcmp(word, "close") == 0) {
		s->closed = 1;
		return 0;
	}
	if (r > 0)
		reply_print_ack(ack, lineno);
	else if (r < 0)
		reply_print_lost(c, r);
	return r > 0 ? 1 : r < 0 ? -1 : 0;
}

static int
ctl_oneshot(struct ctl_conn *c, int argc, char **argv)
{
	char line[PROTO_LINE_MAX + 1];  /* ctl_join needs a spare byte to tell a full line from a cut one */
	struct ctl_sess s = { 0 };
	int r;

	if ((r = ctl_join(argc, argv, line, sizeof line)) < 0) {
		if (r == -2)
			fprintf(stderr, "musicvaectl: an argument holds a control character\n");
		else
			fprintf(stderr, "musicvaectl: the command is longer than %d bytes\n", PROTO_LINE_MAX - 1);
		return CTL_EXIT_USAGE;
	}
	if (strncmp(line, "command_list_", 13) == 0) {
		fprintf(stderr, "musicvaectl: a command list spans several lines: give it on standard input "
		    "(musicvaectl -)\n");
		return CTL_EXIT_USAGE;
	}
	r = ctl_exec(c, &s, line, 0);
	return r < 0 ? CTL_EXIT_CONN : r > 0 ? CTL_EXIT_ACK : 0;
}

/* Blank lines and lines starting with '#' are left out of scripts and the interactive prompt. */
static int
ctl_skip(const char *line)
{
	line += strspn(line, " \t");
	return *line == '\0' || *line == '#';
}

/* Commands from stdin, one a line; stops at the first ACK unless keep_going. */
static int
ctl_script(struct ctl_conn *c, int keep_going)
{
	struct ctl_sess s = { .keep_going = keep_going };
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	int failed = 0, r = 0;

	while (!s.closed && (n = getline(&line, &cap, stdin)) >= 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (ctl_skip(line))
			continue;
		if ((r = ctl_exec(c, &s, line, lineno)) < 0)
			break;
		failed |= r;
		if (r > 0 && !keep_going)
			break;
	}
	free(line);
	if (r < 0)
		return CTL_EXIT_CONN;
	if (s.in_list && !failed) {
		fprintf(stderr, "musicvaectl: line %ld: the input ended inside a command list (no command_list_end)\n",
		    lineno);
		return CTL_EXIT_USAGE;
	}
	return failed ? CTL_EXIT_ACK : 0;
}

/* ---- interactive: completion and history ------------------------------------------------------------- */

/* Candidates for the word being completed: command names, or the second word after attr, slot, mode and
 * idle, all taken from proto_usage. */
static char *
ctl_complete_next(const char *text, int state)
{
	static char cand[128][32];
	static int ncand, next;

	if (state == 0) {
		char first[32] = "";
		int word = sscanf(rl_line_buffer, "%31s", first) == 1 && strspn(rl_line_buffer, " \t") +
		    strlen(first) < (size_t)rl_point ? 1 : 0;
		ncand = next = 0;
		for (int i = 0; proto_usage[i] != NULL && ncand < 120; i++) {
			char w0[64], w1[64];
			int k = sscanf(proto_usage[i], "%63s %63s", w0, w1);
			if (word == 0) {
				snprintf(cand[ncand++], 32, "%s", w0);
				if (strcmp(w0, "command_list_begin") == 0) {
					snprintf(cand[ncand++], 32, "command_list_ok_begin");
					snprintf(cand[ncand++], 32, "command_list_end");
				}
			} else if (k == 2 && strcmp(w0, first) == 0 && strspn(w1, "abcdefghijklmnopqrstuvwxyz|") ==
			    strlen(w1))
				for (char *tok = strtok(w1, "|"); tok != NULL; tok = strtok(NULL, "|"))
					snprintf(cand[ncand++], 32, "%s", tok);
		}
		for (int i = 0; word == 1 && strcmp(first, "idle") == 0 && proto_subsystem_name(i); i++)
			snprintf(cand[ncand++], 32, "%s", proto_subsystem_name(i));
	}
	while (next < ncand)
		if (strncmp(cand[next++], text, strlen(text)) == 0)
			return strdup(cand[next - 1]);
	return NULL;
}

static char **
ctl_complete(const char *text, int start, int end)
{
	rl_attempted_completion_over = 1;       /* no file names: they live on the daemon's side */
	return rl_completion_matches(text, ctl_complete_next);
}

static const char *
ctl_history_path(char *out, size_t len)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (state != NULL && *state != '\0')
		snprintf(out, len, "%s/musicvaectl_history", state);
	else if (home != NULL && *home != '\0')
		snprintf(out, len, "%s/.musicvaectl_history", home);
	else
		return NULL;
	return out;
}

/* After `bars` at the prompt, the bar as a roll too. */
static void
ctl_show_roll(const char *line)
{
	static struct watch w;

	if (strncmp(line, "bars", 4) != 0 || line[4 + strspn(line + 4, " \t")] != '\0')
		return;
	w.nbars = 0;
	w.want = 1;
	watch_add_bar(&w, &ctl_scratch);
	if (w.nbars > 0) {
		watch_draw_roll(&w, w.hist, 1, 0, 0);
		fflush(stdout);
	}
}

/* The prompt: line editing, history, completion; quit, exit or ^D leave, ^C drops the line. */
static int
ctl_interactive(struct ctl_conn *c)
{
	struct ctl_sess s = { .interactive = 1 };
	char hist[4096];
	const char *hpath = ctl_history_path(hist, sizeof hist);
	char *line;
	int r = 0;

	rl_readline_name = "musicvaectl";
	rl_attempted_completion_function = ctl_complete;
	stifle_history(1000);
	if (hpath != NULL)
		read_history(hpath);
	ctl_catch(SIGINT);
	while (!s.closed) {
		ctl_sigint = 0;
		if ((line = readline(s.in_list ? "musicvaed...> " : "musicvaed> ")) == NULL) {
			putchar('\n');
			if (!ctl_sigint)
				break;          /* ^D */
			continue;               /* ^C: a fresh prompt */
		}
		if (!ctl_skip(line)) {
			add_history(line);
			if (strcmp(line, "quit") == 0 || strcmp(line, "exit") == 0) {
				free(line);
				break;
			}
			if ((r = ctl_exec(c, &s, line, 0)) < 0) {
				free(line);
				break;
			}
			if (r == 0 && !s.in_list)
				ctl_show_roll(line);
		}
		free(line);
	}
	if (hpath != NULL)
		write_history(hpath);
	return r < 0 ? CTL_EXIT_CONN : 0;
}

/* ---- argv ------------------------------------------------------------------------------------------ */

static void
usage(FILE *f)
{
	fputs("usage: musicvaectl [-s SOCKET] COMMAND [ARG...]   one command, its reply on stdout\n"
	    "       musicvaectl [-s SOCKET] [-k] [-]             commands from stdin, one a line\n"
	    "       musicvaectl [-s SOCKET]                      a prompt when stdin is a terminal\n"
	    "       musicvaectl [-s SOCKET] watch [--bars N]     a live view: header and piano roll\n"
	    "options:\n"
	    "  -s, --socket PATH   the control socket (default: $MUSICVAED_SOCKET, else\n"
	    "                      $XDG_RUNTIME_DIR/musicvaed/ctl if it exists, else /run/musicvaed/ctl)\n"
	    "  -k, --keep-going    script mode: go on after a refused command (exit 1 at the end)\n"
	    "  -b, --bars N        watch: bars shown (1..64, default 4; fewer if the terminal is narrow)\n"
	    "  -h, --help          this text and the daemon's commands\n"
	    "  -V, --version       print the version\n"
	    "exit status: 0 ok, 1 the daemon refused a command (ACK), 2 usage, 3 connection or protocol\n"
	    "commands (musicvaectl(1) has the details):\n", f);
	for (int i = 0; proto_usage[i] != NULL; i++)
		fprintf(f, "  %s\n", proto_usage[i]);
}

static int
ctl_parse_bars(const char *s, int *bars)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end != '\0' || v < 1 || v > WATCH_BARS_MAX) {
		fprintf(stderr, "musicvaectl: --bars \"%s\": expected 1..%d\n", s, WATCH_BARS_MAX);
		return -1;
	}
	*bars = (int)v;
	return 0;
}

/* Options before the command (and after `watch`); the other commands' words are left alone. */
static int
ctl_options(int argc, char **argv, const char **sock, int *keep, int *bars)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' }, { "keep-going", no_argument, NULL, 'k' },
		{ "bars", required_argument, NULL, 'b' }, { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "+s:kb:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 's': *sock = optarg; break;
		case 'k': *keep = 1; break;
		case 'b': if (ctl_parse_bars(optarg, bars) < 0) return -1; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("musicvaectl %s (protocol %s)\n", PACKAGE_VERSION, PROTO_VERSION); exit(0);
		default: usage(stderr); return -1;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	char pathbuf[4096];
	const char *sock = NULL;
	static struct ctl_conn c;
	int keep = 0, bars = 4, rc, script;

	if (ctl_options(argc, argv, &sock, &keep, &bars) < 0)
		return CTL_EXIT_USAGE;
	argc -= optind;
	argv += optind;
	if (argc > 0 && strcmp(argv[0], "watch") == 0) {
		optind = 0;             /* watch's own options: argv[0] is "watch" */
		if (ctl_options(argc, argv, &sock, &keep, &bars) < 0)
			return CTL_EXIT_USAGE;
		if (optind != argc) {
			fprintf(stderr, "musicvaectl: watch \"%s\": usage: watch [--bars N]\n", argv[optind]);
			return CTL_EXIT_USAGE;
		}
		argc = 1;
	}
	script = argc == 1 && strcmp(argv[0], "-") == 0;
	if (sock == NULL)
		sock = conn_default_path(pathbuf, sizeof pathbuf);
	if (conn_open(&c, sock) < 0)
		return CTL_EXIT_CONN;
	if (argc > 0 && strcmp(argv[0], "watch") == 0)
		rc = watch_run(&c, bars);
	else if (script || (argc == 0 && !isatty(STDIN_FILENO)))
		rc = ctl_script(&c, keep);
	else if (argc == 0)
		rc = ctl_interactive(&c);
	else
		rc = ctl_oneshot(&c, argc, argv);
	close(c.fd);
	return rc;
}
