/* SPDX-License-Identifier: GPL-3.0-or-later */
/* musicvaectl.c: the control client's command line and its one-shot, script and interactive modes (the
 * connection in conn.c, watch in watch.c). */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include "conn.h"
#include "proto.h"
#include "watch.h"

struct ctl_sess {
	int in_list;                    /* inside command_list_begin ... command_list_end */
	int keep_going;                 /* script mode: go on after an ACK */
	int interactive;                /* SIGINT while idle sends noidle; `bars` draws a roll */
	int closed;                     /* `close` was sent and the daemon hung up */
};

static struct ctl_reply ctl_scratch;    /* the latest reply at the prompt, for its roll */

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
	while ((r = conn_reply(c, stdout, &ctl_scratch, ack, sizeof ack)) == CTL_INTR)
		if (conn_sigint && idle && !sent_noidle) {
			conn_sigint = 0;
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
		conn_print_ack(ack, lineno);
	else if (r < 0)
		conn_print_lost(c, r);
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
	if (strncmp(line, "bars", 4) == 0 && line[4 + strspn(line + 4, " \t")] == '\0')
		watch_show_bar(&ctl_scratch);
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
	conn_catch(SIGINT);
	while (!s.closed) {
		conn_sigint = 0;
		if ((line = readline(s.in_list ? "musicvaed...> " : "musicvaed> ")) == NULL) {
			putchar('\n');
			if (!conn_sigint)
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
