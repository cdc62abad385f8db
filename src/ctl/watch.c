/* SPDX-License-Identifier: GPL-3.0-or-later */
/* watch.c: musicvaectl's live view: a status header and a piano roll of the last bars, redrawn on every
 * change the daemon reports through `idle`. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "watch.h"

#define WATCH_NOTES 256         /* notes per bar (in and out) */
#define WATCH_LABEL 5           /* pitch label column ("C#4 ") */
#define WATCH_IDLE "idle bar mode tempo attr slot options transport"

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
	struct ctl_reply scratch;        /* the latest `bars` or `idle` reply */
};

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
	const char *v = conn_get(r, "bar", NULL);
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
	const char *mode = conn_get(s, "mode", NULL), *bar = conn_get(s, "bar", NULL);
	const char *step = conn_get(s, "step", NULL), *run = conn_get(s, "running", NULL);
	const char *morph = conn_get(s, "morph_position", NULL), *temp = conn_get(s, "temperature", NULL), *a;
	char tempo[64];
	size_t o;
	int from = 0;

	watch_tempo(conn_get(s, "tempo", NULL), conn_get(s, "clock", NULL), tempo, sizeof tempo);
	o = (size_t)snprintf(out, len, "bar %s.%s | %s | %s | %s", bar ? bar : "?", step ? step : "?",
	    mode ? mode : "?", tempo, run == NULL ? "?" : strcmp(run, "1") == 0 ? "running" : "stopped");
	if (morph != NULL && o < len && mode != NULL && strcmp(mode, "morph") == 0)
		o += (size_t)snprintf(out + o, len - o, " | morph %s", morph);
	if (temp != NULL && o < len)
		o += (size_t)snprintf(out + o, len - o, " | temp %s", temp);
	while ((a = conn_get(s, "attr", &from)) != NULL && o < len) {
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
	while ((r = conn_reply(c, NULL, out, ack, sizeof ack)) == CTL_INTR && !conn_sigint)
		;
	if (r > 0)
		out->n = 0;             /* e.g. no bar played yet: show nothing rather than stop */
	return r >= 0 ? 0 : r;
}

static int
watch_refresh(struct ctl_conn *c, struct watch *w)
{
	int r;

	if ((r = watch_ask(c, "status", &w->status)) < 0 || (r = watch_ask(c, "bars", &w->scratch)) < 0)
		return r;
	watch_add_bar(w, &w->scratch);
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

	w->scratch.n = 0;
	if (conn_send(c, WATCH_IDLE) < 0)
		return CTL_FAIL;
	while ((r = conn_reply(c, NULL, &w->scratch, ack, sizeof ack)) == CTL_INTR && !conn_sigint)
		if (conn_sigwinch && w->tty) {
			conn_sigwinch = 0;
			fputs("\033[2J", stdout);
			watch_draw(w);
		}
	if (r > 0) {
		conn_print_ack(ack, 0);
		return CTL_FAIL;
	}
	while (r == 0 && (v = conn_get(&w->scratch, "changed", &from)) != NULL)
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

int
watch_run(struct ctl_conn *c, int want)
{
	static struct watch w;
	int r;

	w.tty = isatty(STDOUT_FILENO);
	w.want = want;
	conn_catch(SIGINT);
	conn_catch(SIGTERM);
	conn_catch(SIGWINCH);
	if (w.tty)
		fputs("\033[?25l\033[H\033[2J", stdout);
	r = watch_refresh(c, &w);
	while (r >= 0 && !conn_sigint) {
		if ((r = watch_wait(c, &w)) < 0)
			break;
		if (r == 1 || w.tty)
			r = watch_refresh(c, &w);
	}
	watch_end(&w);
	if (conn_sigint)
		return 0;
	conn_print_lost(c, r);
	return CTL_EXIT_CONN;
}

void
watch_show_bar(const struct ctl_reply *r)
{
	static struct watch w;

	w.nbars = 0;
	w.want = 1;
	watch_add_bar(&w, r);
	if (w.nbars > 0) {
		watch_draw_roll(&w, w.hist, 1, 0, 0);
		fflush(stdout);
	}
}
