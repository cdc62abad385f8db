/* SPDX-License-Identifier: GPL-3.0-or-later */
/* alsa_probe.c: the ALSA sequencer client the integration tests drive: record (timestamps what arrives with its
 * own queue's real-time clock), play (a script of timestamped raw MIDI scheduled on a queue, or garbage). */
#define _GNU_SOURCE             /* alloca, which the snd_*_alloca macros use */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <alsa/asoundlib.h>

#define PROBE_MAX_CONNECT 16
#define PROBE_MAX_LINE 8192     /* bytes per script event */
#define PROBE_POOL 2000         /* kernel event cells (the maximum) */

enum { PROBE_OK = 0, PROBE_FAIL = 1, PROBE_USAGE = 2 };

struct probe_opts {
	const char *mode, *client, *port, *out, *script, *ready, *queue, *seed_s;
	const char *connect[PROBE_MAX_CONNECT];
	int nconnect;
	double seconds, wait, garbage, delay, at, timer_hz;
	uint64_t seed;
};

struct probe_ev {
	uint64_t usec;          /* after the start */
	size_t pos, len;        /* bytes in probe.bytes */
};

struct probe {
	struct probe_opts o;
	snd_seq_t *seq;
	int client, port, queue, own_queue;
	struct probe_ev *ev;
	unsigned char *bytes;
	size_t nev;
	uint64_t rng;
	snd_midi_event_t *dec;
};

static volatile sig_atomic_t probe_quit;

static void
probe_on_signal(int sig)
{
	(void)sig;
	probe_quit = 1;
}

static void
probe_usage(FILE *f)
{
	fprintf(f,
	    "usage: alsa_probe record --client NAME [--port NAME] [--connect SRC_REGEX...] --out FILE [--ready FILE]\n"
	    "                         [--seconds S] [--wait S] [--timer-hz HZ]\n"
	    "       alsa_probe play --client NAME [--port NAME] --connect DST_REGEX... [--ready FILE] [--wait S]\n"
	    "                       (--script FILE [--queue N|NAME] [--delay USEC | --at USEC] |\n"
	    "                        --garbage RATE --seconds S [--seed N])\n"
	    "Ports are matched as \"CLIENT NAME:PORT NAME\" (POSIX extended regex, unanchored). record writes\n"
	    "\"USEC HEX...\" lines, its queue's real time when each event arrived; a script has \"USEC HEX...\" lines,\n"
	    "times after the start (--at: absolute times of --queue, e.g. a recorder's). Exit: 0 ok, 1 failure, 2 usage.\n");
}

static int
probe_bad(const char *fmt, const char *a)
{
	fprintf(stderr, "alsa_probe: ");
	fprintf(stderr, fmt, a);
	fprintf(stderr, "\n");
	probe_usage(stderr);
	return -1;
}

static const struct probe_optdef {
	const char *name;
	size_t off;
	int is_num;
	double lo, hi;
} probe_optdefs[] = {
	{ "--client", offsetof(struct probe_opts, client), 0, 0, 0 },
	{ "--port", offsetof(struct probe_opts, port), 0, 0, 0 },
	{ "--out", offsetof(struct probe_opts, out), 0, 0, 0 },
	{ "--script", offsetof(struct probe_opts, script), 0, 0, 0 },
	{ "--ready", offsetof(struct probe_opts, ready), 0, 0, 0 },
	{ "--queue", offsetof(struct probe_opts, queue), 0, 0, 0 },
	{ "--seed", offsetof(struct probe_opts, seed_s), 0, 0, 0 },
	{ "--seconds", offsetof(struct probe_opts, seconds), 1, 0, 86400 },
	{ "--wait", offsetof(struct probe_opts, wait), 1, 0, 600 },
	{ "--delay", offsetof(struct probe_opts, delay), 1, 0, 3.6e9 },
	{ "--at", offsetof(struct probe_opts, at), 1, 0, 1e15 },
	{ "--garbage", offsetof(struct probe_opts, garbage), 1, 1e-3, 1e6 },
	{ "--timer-hz", offsetof(struct probe_opts, timer_hz), 1, 10, 100000 },
};

static int
probe_parse_opt(struct probe_opts *o, int argc, char **argv, int *i)
{
	const char *k = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
	char *end;

	if (strcmp(k, "--connect") == 0) {
		for (; *i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0; o->nconnect++)
			if (o->nconnect == PROBE_MAX_CONNECT)
				return probe_bad("%s: too many port patterns", k);
			else
				o->connect[o->nconnect] = argv[++*i];
		return 0;
	}
	for (size_t d = 0; d < sizeof probe_optdefs / sizeof probe_optdefs[0]; d++) {
		const struct probe_optdef *od = &probe_optdefs[d];
		double x;

		if (strcmp(k, od->name) != 0)
			continue;
		if (v == NULL)
			return probe_bad("%s needs a value", k);
		++*i;
		if (!od->is_num) {
			*(const char **)((char *)o + od->off) = v;
			return 0;
		}
		errno = 0;
		x = strtod(v, &end);
		if (errno || end == v || *end != '\0' || !(x >= od->lo && x <= od->hi)) {
			fprintf(stderr, "alsa_probe: %s %s: want a number in [%g, %g]\n", k, v, od->lo, od->hi);
			return -1;
		}
		*(double *)((char *)o + od->off) = x;
		return 0;
	}
	return probe_bad("unknown argument '%s'", k);
}

static const char *
probe_check(struct probe_opts *o)
{
	char *end;

	if (o->seed_s) {
		errno = 0;
		o->seed = strtoull(o->seed_s, &end, 10);
		if (errno || end == o->seed_s || *end != '\0' || *o->seed_s == '-')
			return "--seed wants an unsigned integer";
	}
	if (strcmp(o->mode, "record") == 0)
		return o->out ? NULL : "record needs --out FILE";
	if (strcmp(o->mode, "play") == 0) {
		if (o->nconnect == 0)
			return "play needs --connect DST_REGEX...";
		if ((o->script == NULL) == (o->garbage == 0))
			return "play needs exactly one of --script FILE and --garbage RATE";
		return o->garbage > 0 && o->seconds <= 0 ? "--garbage needs --seconds S > 0" : NULL;
	}
	return "unknown mode (record, play)";
}

static int
probe_parse(struct probe_opts *o, int argc, char **argv)
{
	const char *err;

	memset(o, 0, sizeof *o);
	o->wait = 5.0;
	o->client = "alsa_probe";
	o->timer_hz = 1000;
	if (argc < 2)
		return probe_bad("%s", "missing mode (record, play)");
	o->mode = argv[1];
	if (strcmp(o->mode, "-h") == 0 || strcmp(o->mode, "--help") == 0) {
		probe_usage(stdout);
		exit(PROBE_OK);
	}
	for (int i = 2; i < argc; i++)
		if (probe_parse_opt(o, argc, argv, &i) < 0)
			return -1;
	if ((err = probe_check(o)) != NULL)
		return probe_bad("%s", err);
	if (o->port == NULL)
		o->port = strcmp(o->mode, "record") == 0 ? "in" : "out";
	return 0;
}

/* ---- time, queue, ports -------------------------------------------------------------------------- */

static double
probe_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void
probe_sleep(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

static uint64_t
probe_usec(const snd_seq_real_time_t *t)
{
	return (uint64_t)t->tv_sec * 1000000u + (t->tv_nsec + 500) / 1000;
}

static int
probe_queue_now(struct probe *p, uint64_t *now)
{
	snd_seq_queue_status_t *st;

	snd_seq_queue_status_alloca(&st);
	if (snd_seq_get_queue_status(p->seq, p->queue, st) < 0)
		return -1;
	*now = probe_usec(snd_seq_queue_status_get_real_time(st));
	return 0;
}

/* A queue of our own on the HR timer (the system timer if there is none), started. */
static int
probe_own_queue(struct probe *p)
{
	snd_seq_queue_timer_t *qt;
	snd_timer_id_t *id;
	char name[80];

	snprintf(name, sizeof name, "alsa_probe:%s", p->o.client);
	if ((p->queue = snd_seq_alloc_named_queue(p->seq, name)) < 0)
		return -1;
	p->own_queue = 1;
	snd_seq_queue_timer_alloca(&qt);
	snd_timer_id_alloca(&id);
	snd_timer_id_set_class(id, SND_TIMER_CLASS_GLOBAL);
	snd_timer_id_set_sclass(id, SND_TIMER_SCLASS_NONE);
	snd_timer_id_set_card(id, -1);
	snd_timer_id_set_device(id, SND_TIMER_GLOBAL_HRTIMER);
	if (snd_seq_get_queue_timer(p->seq, p->queue, qt) == 0) {
		snd_seq_queue_timer_set_type(qt, SND_SEQ_TIMER_ALSA);
		snd_seq_queue_timer_set_id(qt, id);
		snd_seq_queue_timer_set_resolution(qt, (unsigned)p->o.timer_hz);
		snd_seq_set_queue_timer(p->seq, p->queue, qt);  /* the kernel falls back to the system timer */
	}
	return snd_seq_start_queue(p->seq, p->queue, NULL) < 0 || snd_seq_drain_output(p->seq) < 0 ? -1 : 0;
}

/* --queue N or NAME: schedule on another client's queue (a recorder's), so both share one clock. */
static int
probe_use_queue(struct probe *p, const char *q)
{
	char *end;
	long n = strtol(q, &end, 10);

	p->queue = *end == '\0' && end != q ? (int)n : snd_seq_query_named_queue(p->seq, q);
	if (p->queue < 0 || snd_seq_set_queue_usage(p->seq, p->queue, 1) < 0) {
		fprintf(stderr, "alsa_probe: no queue '%s' (a recorder's queue is named alsa_probe:CLIENT)\n", q);
		return -1;
	}
	return 0;
}

static int
probe_open(struct probe *p, int input)
{
	unsigned caps = input ? SND_SEQ_PORT_CAP_WRITE | SND_SEQ_PORT_CAP_SUBS_WRITE :
	    SND_SEQ_PORT_CAP_READ | SND_SEQ_PORT_CAP_SUBS_READ;
	snd_seq_port_info_t *pi;

	if (snd_seq_open(&p->seq, "default", SND_SEQ_OPEN_DUPLEX, 0) < 0) {
		fprintf(stderr, "alsa_probe: cannot open the sequencer (/dev/snd/seq; modprobe snd-seq)\n");
		p->seq = NULL;
		return -1;
	}
	p->client = snd_seq_client_id(p->seq);
	snd_seq_set_client_name(p->seq, p->o.client);
	snd_seq_set_client_pool_input(p->seq, PROBE_POOL);
	snd_seq_set_client_pool_output(p->seq, PROBE_POOL);
	snd_seq_set_input_buffer_size(p->seq, 256 * 1024);
	snd_seq_set_output_buffer_size(p->seq, 256 * 1024);
	if (p->o.queue ? probe_use_queue(p, p->o.queue) < 0 : probe_own_queue(p) < 0) {
		fprintf(stderr, "alsa_probe: cannot set up a queue\n");
		return -1;
	}
	snd_seq_port_info_alloca(&pi);
	snd_seq_port_info_set_name(pi, p->o.port);
	snd_seq_port_info_set_capability(pi, caps);
	snd_seq_port_info_set_type(pi, SND_SEQ_PORT_TYPE_MIDI_GENERIC | SND_SEQ_PORT_TYPE_APPLICATION);
	if (input) {
		snd_seq_port_info_set_timestamping(pi, 1);
		snd_seq_port_info_set_timestamp_real(pi, 1);
		snd_seq_port_info_set_timestamp_queue(pi, p->queue);
	}
	if (snd_seq_create_port(p->seq, pi) < 0) {
		fprintf(stderr, "alsa_probe: cannot create port %s\n", p->o.port);
		return -1;
	}
	p->port = snd_seq_port_info_get_port(pi);
	return 0;
}

/* Subscribes every port named like each pattern ("CLIENT:PORT"); 0 when each pattern matched one at least. */
static int
probe_connect_once(struct probe *p, int input, int quiet)
{
	unsigned need = input ? SND_SEQ_PORT_CAP_READ | SND_SEQ_PORT_CAP_SUBS_READ :
	    SND_SEQ_PORT_CAP_WRITE | SND_SEQ_PORT_CAP_SUBS_WRITE;
	snd_seq_client_info_t *ci;
	snd_seq_port_info_t *pi;
	int missing = 0;

	snd_seq_client_info_alloca(&ci);
	snd_seq_port_info_alloca(&pi);
	for (int k = 0; k < p->o.nconnect; k++) {
		regex_t re;
		int found = 0;
		if (regcomp(&re, p->o.connect[k], REG_EXTENDED | REG_NOSUB) != 0)
			return probe_bad("bad pattern '%s'", p->o.connect[k]);
		snd_seq_client_info_set_client(ci, -1);
		while (snd_seq_query_next_client(p->seq, ci) >= 0) {
			int c = snd_seq_client_info_get_client(ci);
			if (c == p->client)
				continue;
			snd_seq_port_info_set_client(pi, c);
			snd_seq_port_info_set_port(pi, -1);
			while (snd_seq_query_next_port(p->seq, pi) >= 0) {
				char name[256];
				int rc;
				snprintf(name, sizeof name, "%s:%s", snd_seq_client_info_get_name(ci),
				    snd_seq_port_info_get_name(pi));
				if ((snd_seq_port_info_get_capability(pi) & need) != need || regexec(&re, name, 0, NULL, 0))
					continue;
				rc = input ? snd_seq_connect_from(p->seq, p->port, c, snd_seq_port_info_get_port(pi)) :
				    snd_seq_connect_to(p->seq, p->port, c, snd_seq_port_info_get_port(pi));
				found |= rc == 0 || rc == -EBUSY;
			}
		}
		regfree(&re);
		if (!found && !quiet)
			fprintf(stderr, "alsa_probe: no port matches '%s' (aconnect -l)\n", p->o.connect[k]);
		missing += !found;
	}
	return missing ? -1 : 0;
}

static int
probe_connect(struct probe *p, int input)
{
	double deadline = probe_mono() + p->o.wait;

	for (int last = 0; probe_connect_once(p, input, !last) < 0; last = probe_mono() >= deadline) {
		if (probe_quit || last)
			return -1;
		probe_sleep(0.02);
	}
	return 0;
}

static int
probe_ready(struct probe *p)
{
	FILE *f;

	if (p->o.ready == NULL)
		return 0;
	if ((f = fopen(p->o.ready, "w")) == NULL || fprintf(f, "%d:%d queue %d\n", p->client, p->port,
	    p->queue) < 0 || fclose(f) != 0) {
		fprintf(stderr, "alsa_probe: %s: %s\n", p->o.ready, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- record -------------------------------------------------------------------------------------- */

static void
probe_write_event(struct probe *p, FILE *f, const snd_seq_event_t *ev)
{
	static unsigned char buf[PROBE_POOL * sizeof(snd_seq_event_t)];
	long n;

	snd_midi_event_reset_decode(p->dec);
	n = snd_midi_event_decode(p->dec, buf, sizeof buf, ev);
	if (ev->type == SND_SEQ_EVENT_SYSEX && ev->data.ext.len <= sizeof buf) {
		n = (long)ev->data.ext.len;     /* as sent, even when it is no SysEx */
		memcpy(buf, ev->data.ext.ptr, (size_t)n);
	}
	if (n <= 0) {
		fprintf(f, "# event type %d from %d:%d\n", ev->type, ev->source.client, ev->source.port);
		return;
	}
	fprintf(f, "%" PRIu64, probe_usec(&ev->time.time));
	for (long i = 0; i < n; i++)
		fprintf(f, " %02X", buf[i]);
	fputc('\n', f);
}

static int
probe_record(struct probe *p)
{
	FILE *f = fopen(p->o.out, "w");
	double end;
	int rc = PROBE_OK;

	if (f == NULL) {
		fprintf(stderr, "alsa_probe: %s: %s\n", p->o.out, strerror(errno));
		return PROBE_FAIL;
	}
	if (probe_open(p, 1) < 0 || snd_midi_event_new(16, &p->dec) < 0)
		return PROBE_FAIL;
	snd_midi_event_no_status(p->dec, 1);
	fprintf(f, "# rate 1000000 period 1000\n# client %d port %d queue %d\n", p->client, p->port, p->queue);
	fflush(f);
	if ((p->o.nconnect && probe_connect(p, 1) < 0) || probe_ready(p) < 0)
		return PROBE_FAIL;
	end = p->o.seconds > 0 ? probe_mono() + p->o.seconds : 0;
	snd_seq_nonblock(p->seq, 1);
	while (!probe_quit && (end == 0 || probe_mono() < end)) {
		struct pollfd pfd[4];
		int n = snd_seq_poll_descriptors(p->seq, pfd, 4, POLLIN), r;
		snd_seq_event_t *ev;
		poll(pfd, (nfds_t)n, 100);
		while ((r = snd_seq_event_input(p->seq, &ev)) >= 0 || r == -ENOSPC) {
			if (r == -ENOSPC) {
				fprintf(f, "# input overrun: events lost\n");
				rc = PROBE_FAIL;
				continue;
			}
			probe_write_event(p, f, ev);
		}
		fflush(f);
	}
	if (fclose(f) != 0) {
		fprintf(stderr, "alsa_probe: %s: %s\n", p->o.out, strerror(errno));
		return PROBE_FAIL;
	}
	return rc;
}

/* ---- play ---------------------------------------------------------------------------------------- */

static int
probe_script_line(char *s, struct probe_ev *e, unsigned char *b, const char *file, long lineno)
{
	char *end;
	unsigned long long t;
	int n = 0;

	s += strspn(s, " \t\r\n");
	if (*s == '\0' || *s == '#')
		return 0;
	errno = 0;
	t = strtoull(s, &end, 10);
	if (end == s || errno || !strchr(" \t", *end)) {
		fprintf(stderr, "alsa_probe: %s:%ld: expected USEC BYTE... (decimal, then hex)\n", file, lineno);
		return -1;
	}
	e->usec = t;
	for (s = end + strspn(end, " \t\r\n"); *s; s = end + strspn(end, " \t\r\n")) {
		unsigned long x = strtoul(s, &end, 16);
		if (end == s || end - s > 2 || (*end && !strchr(" \t\r\n", *end)) || n == PROBE_MAX_LINE) {
			fprintf(stderr, "alsa_probe: %s:%ld: bad byte (hex, at most %d a line)\n", file, lineno,
			    PROBE_MAX_LINE);
			return -1;
		}
		b[n++] = (unsigned char)x;
	}
	if (n == 0)
		fprintf(stderr, "alsa_probe: %s:%ld: event without bytes\n", file, lineno);
	return n ? n : -1;
}

static int
probe_script_load(struct probe *p, const char *file)
{
	static unsigned char b[PROBE_MAX_LINE];
	FILE *f = fopen(file, "r");
	char *line = NULL;
	size_t cap = 0, nbytes = 0, evcap = 0;
	long lineno = 0;
	int n = 0;
	struct probe_ev e;

	if (f == NULL) {
		fprintf(stderr, "alsa_probe: %s: %s\n", file, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) != -1 && (n = probe_script_line(line, &e, b, file, ++lineno)) >= 0) {
		if (n == 0)
			continue;
		if (p->nev == evcap) {
			evcap = evcap ? 2 * evcap : 256;
			if ((p->ev = realloc(p->ev, evcap * sizeof e)) == NULL)
				break;
		}
		if ((p->bytes = realloc(p->bytes, nbytes + (size_t)n)) == NULL)
			break;
		e.pos = nbytes;
		e.len = (size_t)n;
		p->ev[p->nev++] = e;
		memcpy(p->bytes + nbytes, b, (size_t)n);
		nbytes += (size_t)n;
	}
	free(line);
	fclose(f);
	if (n >= 0 && p->nev == 0)
		fprintf(stderr, "alsa_probe: %s: no events\n", file);
	return n < 0 || p->nev == 0 || p->ev == NULL || p->bytes == NULL ? -1 : 0;
}

/* Raw bytes -> one event: one whole MIDI message becomes its event type; anything else (SysEx, malformed
 * bytes) goes as they are in a SYSEX event, which is how the sequencer carries a raw byte stream. */
static void
probe_event(snd_seq_event_t *ev, const unsigned char *d, size_t len)
{
	static const int sys[16] = { 0, SND_SEQ_EVENT_QFRAME, SND_SEQ_EVENT_SONGPOS, SND_SEQ_EVENT_SONGSEL, 0, 0,
		SND_SEQ_EVENT_TUNE_REQUEST, 0, SND_SEQ_EVENT_CLOCK, 0, SND_SEQ_EVENT_START, SND_SEQ_EVENT_CONTINUE,
		SND_SEQ_EVENT_STOP, 0, SND_SEQ_EVENT_SENSING, SND_SEQ_EVENT_RESET };
	static const size_t syslen[16] = { 0, 2, 3, 2, 0, 0, 1, 0, 1, 0, 1, 1, 1, 0, 1, 1 };
	int ok = len >= 1 && (d[0] & 0x80);
	uint8_t st = d[0], ch = st & 15;

	for (size_t i = 1; i < len; i++)
		ok &= !(d[i] & 0x80);
	snd_seq_ev_clear(ev);
	if (ok && st < 0xF0 && len == ((st & 0xE0) == 0xC0 ? 2u : 3u)) {
		switch (st & 0xF0) {
		case 0x80: snd_seq_ev_set_noteoff(ev, ch, d[1], d[2]); return;
		case 0x90: snd_seq_ev_set_noteon(ev, ch, d[1], d[2]); return;
		case 0xA0: snd_seq_ev_set_keypress(ev, ch, d[1], d[2]); return;
		case 0xB0: snd_seq_ev_set_controller(ev, ch, d[1], d[2]); return;
		case 0xC0: snd_seq_ev_set_pgmchange(ev, ch, d[1]); return;
		case 0xD0: snd_seq_ev_set_chanpress(ev, ch, d[1]); return;
		case 0xE0: snd_seq_ev_set_pitchbend(ev, ch, (d[1] | d[2] << 7) - 8192); return;
		}
	}
	if (ok && st >= 0xF0 && sys[st & 15] && len == syslen[st & 15]) {
		snd_seq_ev_set_fixed(ev);
		ev->type = (snd_seq_event_type_t)sys[st & 15];
		ev->data.control.value = len == 3 ? d[1] | d[2] << 7 : len == 2 ? d[1] : 0;
		return;
	}
	snd_seq_ev_set_sysex(ev, len, (void *)(uintptr_t)d);
}

static int
probe_send(struct probe *p, snd_seq_event_t *ev, uint64_t at, int direct)
{
	snd_seq_real_time_t t = { (unsigned)(at / 1000000u), (unsigned)(at % 1000000u) * 1000u };

	snd_seq_ev_set_source(ev, p->port);
	snd_seq_ev_set_subs(ev);
	if (direct)
		snd_seq_ev_set_direct(ev);
	else
		snd_seq_ev_schedule_real(ev, p->queue, 0, &t);
	return snd_seq_event_output(p->seq, ev) < 0 ? -1 : 0;
}

static int
probe_play_script(struct probe *p)
{
	uint64_t now, start, last;
	snd_seq_event_t ev;

	if (probe_queue_now(p, &now) < 0)
		return PROBE_FAIL;
	start = p->o.at > 0 ? (uint64_t)p->o.at : now + (uint64_t)p->o.delay + 20000;
	if (start + p->ev[0].usec < now)
		fprintf(stderr, "alsa_probe: the script starts %.3f s in the past\n",
		    (double)(now - start - p->ev[0].usec) * 1e-6);
	for (size_t i = 0; i < p->nev && !probe_quit; i++) {
		probe_event(&ev, p->bytes + p->ev[i].pos, p->ev[i].len);
		if (probe_send(p, &ev, start + p->ev[i].usec, 0) < 0) {  /* blocks while the pool is full */
			fprintf(stderr, "alsa_probe: cannot schedule event %zu\n", i);
			return PROBE_FAIL;
		}
	}
	snd_seq_drain_output(p->seq);
	last = start + p->ev[p->nev - 1].usec;
	while (!probe_quit && probe_queue_now(p, &now) == 0 && now < last + 20000)
		probe_sleep(now + 20000 < last ? 0.05 : 0.005);
	return probe_quit ? PROBE_FAIL : PROBE_OK;
}

static uint32_t
probe_rand(struct probe *p)
{
	uint64_t z = (p->rng += 0x9e3779b97f4a7c15ULL);     /* splitmix64 */

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

/* One malformed-or-not event (the byte patterns of jack_probe's garbage, plus what only ALSA can carry: values
 * out of range, non-MIDI event types). */
static void
probe_garbage_event(struct probe *p, snd_seq_event_t *ev, unsigned char *b)
{
	static const uint8_t rt[] = { 0xf8, 0xfa, 0xfb, 0xfc, 0xfe, 0xff };
	static const uint8_t undef[] = { 0xf4, 0xf5, 0xf9, 0xfd };
	static const uint8_t common[] = { 0xf1, 0xf2, 0xf3, 0xf6, 0xf7 };
	size_t n = 0, want;

	switch (probe_rand(p) % 11) {
	case 0:                                 /* channel message, maybe with a wrong data count or 8-bit data */
	case 1:
		b[n++] = 0x80 | (probe_rand(p) % 0x70);
		want = probe_rand(p) % 2 ? probe_rand(p) % 4 : (b[0] & 0xe0) == 0xc0 ? 1 : 2;
		for (; want > 0; want--)
			b[n++] = probe_rand(p) % 8 == 0 ? (uint8_t)(0x80 | probe_rand(p)) : probe_rand(p) % 0x80;
		break;
	case 2:                                 /* undefined status */
		b[n++] = undef[probe_rand(p) % sizeof undef];
		break;
	case 3:                                 /* system common, data possibly missing */
		b[n++] = common[probe_rand(p) % sizeof common];
		for (want = probe_rand(p) % 3; want > 0; want--)
			b[n++] = probe_rand(p) % 0x80;
		break;
	case 4:                                 /* SysEx, maybe unterminated or with 8-bit data */
		b[n++] = 0xf0;
		for (want = probe_rand(p) % 40; want > 0; want--)
			b[n++] = probe_rand(p) % 50 == 0 ? 0x90 : probe_rand(p) % 0x80;
		if (probe_rand(p) % 4)
			b[n++] = 0xf7;
		break;
	case 5:                                 /* data bytes without a status */
		for (want = 1 + probe_rand(p) % 3; want > 0; want--)
			b[n++] = probe_rand(p) % 0x80;
		break;
	case 6:                                 /* real-time alone (ignored while leading) */
		b[n++] = rt[probe_rand(p) % sizeof rt];
		break;
	case 7:                                 /* anything */
		for (want = 1 + probe_rand(p) % 16; want > 0; want--)
			b[n++] = (uint8_t)probe_rand(p);
		break;
	case 8:                                 /* note with values out of MIDI's range */
		snd_seq_ev_clear(ev);
		snd_seq_ev_set_noteon(ev, probe_rand(p) % 16, 128 + probe_rand(p) % 128, probe_rand(p) % 256);
		return;
	case 9:                                 /* events that are no MIDI message */
		snd_seq_ev_clear(ev);
		snd_seq_ev_set_fixed(ev);
		ev->type = probe_rand(p) % 2 ? SND_SEQ_EVENT_USR0 : SND_SEQ_EVENT_ECHO;
		return;
	default:                                /* a plain note off (well formed, on any channel) */
		b[n++] = 0x80 | (probe_rand(p) % 16);
		b[n++] = probe_rand(p) % 128;
		b[n++] = 0;
		break;
	}
	probe_event(ev, b, n);
}

static int
probe_play_garbage(struct probe *p)
{
	static unsigned char b[64];
	double t0 = probe_mono(), acc = 0, last = t0, now;
	unsigned long sent = 0;
	snd_seq_event_t ev;

	if (p->o.seed_s == NULL)
		p->o.seed = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
	p->rng = p->o.seed;
	while (!probe_quit && (now = probe_mono()) < t0 + p->o.seconds) {
		acc += p->o.garbage * (now - last);
		last = now;
		for (; acc >= 1.0; acc -= 1.0, sent++) {
			probe_garbage_event(p, &ev, b);
			if (probe_send(p, &ev, 0, 1) < 0)
				return PROBE_FAIL;
		}
		snd_seq_drain_output(p->seq);
		probe_sleep(0.002);
	}
	printf("# garbage seed %" PRIu64 " sent %lu events\n", p->o.seed, sent);
	return PROBE_OK;
}

static int
probe_play(struct probe *p)
{
	if (p->o.script && probe_script_load(p, p->o.script) < 0)
		return PROBE_FAIL;
	if (probe_open(p, 0) < 0 || probe_connect(p, 0) < 0 || probe_ready(p) < 0)
		return PROBE_FAIL;
	return p->o.garbage > 0 ? probe_play_garbage(p) : probe_play_script(p);
}

int
main(int argc, char **argv)
{
	static struct probe p;
	struct sigaction sa;
	int rc;

	if (probe_parse(&p.o, argc, argv) < 0)
		return PROBE_USAGE;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = probe_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = strcmp(p.o.mode, "record") == 0 ? probe_record(&p) : probe_play(&p);
	if (p.seq) {
		if (p.own_queue)
			snd_seq_free_queue(p.seq, p.queue);
		snd_seq_close(p.seq);
	}
	if (p.dec)
		snd_midi_event_free(p.dec);
	free(p.ev);
	free(p.bytes);
	return rc;
}
