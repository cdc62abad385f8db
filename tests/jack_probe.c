/* SPDX-License-Identifier: GPL-3.0-or-later */
/* jack_probe.c: the JACK MIDI client the integration tests drive: record, play (script or garbage), clockmaster. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jack/jack.h>
#include <jack/midiport.h>
#include <jack/transport.h>

#include "ring.h"

#define PROBE_MAX_CONNECT 16
#define PROBE_CHUNK 26          /* bytes per ring record; longer events span several records */
#define PROBE_RING 16384        /* ring records: ~1.5 s of a saturated 48 kHz / 256 port */
#define PROBE_MAX_LINE 4096     /* bytes per script event */
#define PROBE_GARBAGE_MAX 128   /* garbage events per period */
#define PROBE_TPB 1920.0        /* BBT ticks per beat published by the clockmaster */

enum { PROBE_OK = 0, PROBE_FAIL = 1, PROBE_USAGE = 2 };

struct probe_opts {
	const char *mode, *server, *client, *out, *script, *ready, *seed_s;
	const char *connect[PROBE_MAX_CONNECT];
	int nconnect, no_bbt;
	double seconds, wait, garbage, bpm, change_at, to_bpm, delay, at;
	uint64_t seed;
};

/* One ring record: a whole event, or a piece of one (more != 0: the next record continues it). */
struct probe_chunk {
	uint32_t frame;
	uint8_t len, more;
	uint8_t data[PROBE_CHUNK];
};

struct probe_ev {
	uint32_t offset;        /* frames after the playback start */
	uint32_t pos, len;      /* bytes in probe.bytes */
};

struct probe {
	struct probe_opts o;
	jack_client_t *client;
	jack_port_t *_Atomic port;      /* published once the port is registered */
	struct ring ring;               /* record: process callback -> main thread */
	struct probe_ev *ev;            /* play: [nev], offsets non-decreasing */
	unsigned char *bytes;
	size_t nev, next;
	atomic_int armed, done, stop, gone;
	int started;
	int line_open;                  /* record: a line whose event continues in the next chunk */
	uint32_t start;                 /* play: absolute frame of offset 0 */
	uint64_t rng;
	double acc;                     /* garbage: fractional events carried between periods */
	uint32_t change_frame;          /* clockmaster: transport frame of the tempo change */
	atomic_ulong dropped, late, sent, sent_bytes;
};

static volatile sig_atomic_t probe_quit;

static void
probe_on_signal(int sig)
{
	(void)sig;
	probe_quit = 1;
}

static void
probe_on_shutdown(void *arg)
{
	struct probe *p = arg;

	atomic_store(&p->gone, 1);
}

static void
probe_usage(FILE *f)
{
	fprintf(f,
	    "usage: jack_probe record --server NAME --client NAME [--connect SRC_REGEX...] [--seconds S]\n"
	    "                         --out FILE [--ready FILE] [--wait S]\n"
	    "       jack_probe play --server NAME --client NAME --connect DST_REGEX... [--ready FILE] [--wait S]\n"
	    "                       (--script FILE [--delay FRAMES | --at ABS_FRAME] | --garbage RATE --seconds S [--seed N])\n"
	    "       jack_probe clockmaster --server NAME [--client NAME] (--bpm B [--change-at S --to BPM] | --no-bbt)\n"
	    "                              [--seconds S]\n"
	    "--seconds 0 (record, clockmaster) runs until SIGTERM/SIGINT. Exit: 0 ok, 1 failure, 2 usage.\n");
}

static int
probe_bad(const char *fmt, const char *a)
{
	fprintf(stderr, "jack_probe: ");
	fprintf(stderr, fmt, a);
	fprintf(stderr, "\n");
	probe_usage(stderr);
	return -1;
}

/* Options taking a value: strings, or numbers checked against [lo, hi]. */
static const struct probe_optdef {
	const char *name;
	size_t off;
	int is_num;
	double lo, hi;
} probe_optdefs[] = {
	{ "--server", offsetof(struct probe_opts, server), 0, 0, 0 },
	{ "--client", offsetof(struct probe_opts, client), 0, 0, 0 },
	{ "--out", offsetof(struct probe_opts, out), 0, 0, 0 },
	{ "--script", offsetof(struct probe_opts, script), 0, 0, 0 },
	{ "--ready", offsetof(struct probe_opts, ready), 0, 0, 0 },
	{ "--seed", offsetof(struct probe_opts, seed_s), 0, 0, 0 },
	{ "--seconds", offsetof(struct probe_opts, seconds), 1, 0, 86400 },
	{ "--wait", offsetof(struct probe_opts, wait), 1, 0, 600 },
	{ "--delay", offsetof(struct probe_opts, delay), 1, 0, 1 << 30 },
	{ "--at", offsetof(struct probe_opts, at), 1, 0, 4294967295.0 },
	{ "--garbage", offsetof(struct probe_opts, garbage), 1, 1e-3, 1e6 },
	{ "--bpm", offsetof(struct probe_opts, bpm), 1, 1, 1000 },
	{ "--to", offsetof(struct probe_opts, to_bpm), 1, 1, 1000 },
	{ "--change-at", offsetof(struct probe_opts, change_at), 1, 0, 86400 },
};

static int
probe_parse_opt(struct probe_opts *o, int argc, char **argv, int *i)
{
	const char *k = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
	char *end;

	if (strcmp(k, "--no-bbt") == 0) {
		o->no_bbt = 1;
		return 0;
	}
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
			fprintf(stderr, "jack_probe: %s %s: want a number in [%g, %g]\n", k, v, od->lo, od->hi);
			return -1;
		}
		*(double *)((char *)o + od->off) = x;
		return 0;
	}
	return probe_bad("unknown argument '%s'", k);
}

/* Checks what each mode needs; returns an error message or NULL. */
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
	if (strcmp(o->mode, "clockmaster") == 0) {
		if ((o->bpm > 0) == o->no_bbt)
			return "clockmaster needs one of --bpm B and --no-bbt";
		return (o->change_at > 0) != (o->to_bpm > 0) ? "--change-at and --to go together" : NULL;
	}
	return "unknown mode (record, play, clockmaster)";
}

static int
probe_parse(struct probe_opts *o, int argc, char **argv)
{
	const char *err;

	memset(o, 0, sizeof *o);
	o->wait = 5.0;
	o->client = "jack_probe";
	if (argc < 2)
		return probe_bad("%s", "missing mode (record, play, clockmaster)");
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
	return 0;
}

/* ---- script ----------------------------------------------------------------------------------- */

/* Parses "FRAME_OFFSET BYTE..." into e and b[PROBE_MAX_LINE]; returns the byte count, 0 for a blank or comment
 * line, -1 with a message. */
static int
probe_script_line(char *s, struct probe_ev *e, unsigned char *b, const char *file, long lineno)
{
	char *end;
	unsigned long off;
	int n = 0;

	s += strspn(s, " \t\r\n");
	if (*s == '\0' || *s == '#')
		return 0;
	errno = 0;
	off = strtoul(s, &end, 10);
	if (end == s || errno || off > 0x7fffffffUL || !strchr(" \t", *end)) {
		fprintf(stderr, "jack_probe: %s:%ld: expected FRAME_OFFSET BYTE... (decimal, then hex)\n", file, lineno);
		return -1;
	}
	e->offset = (uint32_t)off;
	for (s = end + strspn(end, " \t\r\n"); *s; s = end + strspn(end, " \t\r\n")) {
		unsigned long x = strtoul(s, &end, 16);

		if (end == s || end - s > 2 || (*end && !strchr(" \t\r\n", *end)) || n == PROBE_MAX_LINE) {
			fprintf(stderr, "jack_probe: %s:%ld: bad byte '%.*s' (hex, at most %d a line)\n", file, lineno,
			    (int)strcspn(s, " \t\r\n") % 9, s, PROBE_MAX_LINE);
			return -1;
		}
		b[n++] = (unsigned char)x;
	}
	if (n == 0)
		fprintf(stderr, "jack_probe: %s:%ld: event without bytes\n", file, lineno);
	return n ? n : -1;
}

static int
probe_script_load(struct probe *p, const char *file)
{
	static unsigned char b[PROBE_MAX_LINE];
	FILE *f = fopen(file, "r");
	char *line = NULL;
	size_t cap = 0, nbytes = 0;
	long lineno = 0;
	int n = 0;
	struct probe_ev e;

	if (f == NULL) {
		fprintf(stderr, "jack_probe: %s: %s\n", file, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) != -1 && (n = probe_script_line(line, &e, b, file, ++lineno)) >= 0) {
		if (n == 0)
			continue;
		if (p->nev > 0 && e.offset < p->ev[p->nev - 1].offset) {
			fprintf(stderr, "jack_probe: %s:%ld: offset %" PRIu32 " goes back in time\n", file, lineno, e.offset);
			n = -1;
			break;
		}
		e.pos = (uint32_t)nbytes;
		e.len = (uint32_t)n;
		p->ev = realloc(p->ev, (p->nev + 1) * sizeof e);    /* start-up only: quadratic is fine */
		p->bytes = realloc(p->bytes, nbytes + n);
		if (p->ev == NULL || p->bytes == NULL) {
			n = -1;
			break;
		}
		p->ev[p->nev++] = e;
		memcpy(p->bytes + nbytes, b, n);
		nbytes += n;
	}
	free(line);
	fclose(f);
	if (n >= 0 && p->nev == 0)
		fprintf(stderr, "jack_probe: %s: no events\n", file);
	return n < 0 || p->nev == 0 ? -1 : 0;
}

/* ---- process callbacks (RT: no allocation, no locks, no stdio) ---------------------------------- */

static int
probe_record_process(jack_nframes_t n, void *arg)
{
	struct probe *p = arg;
	jack_port_t *port = atomic_load_explicit(&p->port, memory_order_acquire);
	jack_midi_event_t ev;
	struct probe_chunk c;
	uint32_t t0, cnt;
	void *buf;

	if (port == NULL)
		return 0;
	buf = jack_port_get_buffer(port, n);
	t0 = jack_last_frame_time(p->client);
	cnt = jack_midi_get_event_count(buf);
	for (uint32_t i = 0; i < cnt; i++) {
		if (jack_midi_event_get(&ev, buf, i) != 0)
			continue;
		if (ring_space(&p->ring) < ev.size / PROBE_CHUNK + 1) {
			atomic_fetch_add(&p->dropped, 1);
			continue;
		}
		c.frame = t0 + ev.time;
		for (size_t k = 0; k < ev.size || k == 0; k += PROBE_CHUNK) {
			c.len = (uint8_t)(ev.size - k < PROBE_CHUNK ? ev.size - k : PROBE_CHUNK);
			c.more = k + c.len < ev.size;
			memcpy(c.data, ev.buffer + k, c.len);
			ring_push(&p->ring, &c);
		}
	}
	return 0;
}

static void
probe_play_script(struct probe *p, void *buf, uint32_t t0, jack_nframes_t n)
{
	while (p->next < p->nev) {
		const struct probe_ev *e = &p->ev[p->next];
		uint32_t rel = p->start + e->offset - t0;

		if (rel >= n && rel < 0x80000000u)
			break;                  /* a later period */
		if (rel >= n) {
			rel = 0;                /* in the past: cannot happen unless a period was skipped */
			atomic_fetch_add(&p->late, 1);
		}
		if (jack_midi_event_write(buf, rel, p->bytes + e->pos, e->len) != 0)
			atomic_fetch_add(&p->dropped, 1);
		p->next++;
	}
	if (p->next == p->nev)
		atomic_store(&p->done, 1);
}

static uint32_t
probe_rand(struct probe *p)
{
	uint64_t z = (p->rng += 0x9e3779b97f4a7c15ULL);     /* splitmix64 */

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

/* One malformed-or-not event into b[48]; returns its length. */
static size_t
probe_garbage_event(struct probe *p, uint8_t *b)
{
	static const uint8_t rt[] = { 0xf8, 0xfa, 0xfb, 0xfc, 0xfe, 0xff };
	static const uint8_t undef[] = { 0xf4, 0xf5, 0xf9, 0xfd };
	static const uint8_t common[] = { 0xf1, 0xf2, 0xf3, 0xf6, 0xf7 };
	size_t n = 0, want;
	uint8_t st;
	int bad;

	switch (probe_rand(p) % 10) {
	case 0:                                 /* well-formed channel message */
	case 1:                                 /* channel status, wrong data count, 8-bit data */
		bad = probe_rand(p) % 2;
		st = 0x80 | (probe_rand(p) % 0x70);
		b[n++] = st;
		want = bad ? probe_rand(p) % 4 : (st & 0xe0) == 0xc0 ? 1 : 2;
		for (; want > 0; want--)
			b[n++] = bad && probe_rand(p) % 8 == 0 ? (uint8_t)(0x80 | probe_rand(p)) : probe_rand(p) % 0x80;
		break;
	case 2:                                 /* undefined status, maybe with data */
		b[n++] = undef[probe_rand(p) % sizeof undef];
		for (want = probe_rand(p) % 3; want > 0; want--)
			b[n++] = probe_rand(p) % 0x80;
		break;
	case 3:                                 /* system common, data possibly missing */
		b[n++] = common[probe_rand(p) % sizeof common];
		for (want = probe_rand(p) % 3; want > 0; want--)
			b[n++] = probe_rand(p) % 0x80;
		break;
	case 4:                                 /* sysex start, maybe unterminated */
		b[n++] = 0xf0;
		/* FALLTHROUGH */
	case 5:                                 /* sysex continuation: data, then maybe F7 */
		for (want = probe_rand(p) % 40; want > 0; want--)
			b[n++] = probe_rand(p) % 0x80;
		if (probe_rand(p) % 2 || n == 0)
			b[n++] = 0xf7;
		break;
	case 6:                                 /* data bytes without a status */
		for (want = 1 + probe_rand(p) % 3; want > 0; want--)
			b[n++] = probe_rand(p) % 0x80;
		break;
	case 7:                                 /* realtime alone */
		b[n++] = rt[probe_rand(p) % sizeof rt];
		break;
	case 8:                                 /* note on with a realtime byte inside */
		b[n++] = 0x90 | (probe_rand(p) % 16);
		b[n++] = probe_rand(p) % 0x80;
		b[n++] = rt[probe_rand(p) % sizeof rt];
		b[n++] = probe_rand(p) % 0x80;
		break;
	default:                                /* anything */
		for (want = 1 + probe_rand(p) % 16; want > 0; want--)
			b[n++] = (uint8_t)probe_rand(p);
		break;
	}
	return n;
}

static void
probe_play_garbage(struct probe *p, void *buf, jack_nframes_t n)
{
	uint32_t off[PROBE_GARBAGE_MAX];
	uint8_t b[48];
	size_t k, len;

	if (atomic_load_explicit(&p->stop, memory_order_relaxed))
		return;
	p->acc += p->o.garbage * n / jack_get_sample_rate(p->client);
	k = (size_t)p->acc;
	p->acc -= (double)k;
	if (k > PROBE_GARBAGE_MAX) {
		atomic_fetch_add(&p->dropped, k - PROBE_GARBAGE_MAX);
		k = PROBE_GARBAGE_MAX;
	}
	for (size_t i = 0; i < k; i++) {        /* sorted offsets: insertion sort, k is small */
		uint32_t v = probe_rand(p) % n;
		size_t j = i;
		for (; j > 0 && off[j - 1] > v; j--)
			off[j] = off[j - 1];
		off[j] = v;
	}
	for (size_t i = 0; i < k; i++) {
		len = probe_garbage_event(p, b);
		if (jack_midi_event_write(buf, off[i], b, len) != 0) {
			atomic_fetch_add(&p->dropped, 1);
			continue;
		}
		atomic_fetch_add(&p->sent, 1);
		atomic_fetch_add(&p->sent_bytes, len);
	}
}

static int
probe_play_process(jack_nframes_t n, void *arg)
{
	struct probe *p = arg;
	jack_port_t *port = atomic_load_explicit(&p->port, memory_order_acquire);
	uint32_t t0;
	void *buf;

	if (port == NULL)
		return 0;
	buf = jack_port_get_buffer(port, n);
	jack_midi_clear_buffer(buf);
	if (!atomic_load_explicit(&p->armed, memory_order_acquire))
		return 0;
	t0 = jack_last_frame_time(p->client);
	if (!p->started) {
		/* --at: script offsets count from that absolute frame (to play on another client's grid) */
		p->start = p->o.at > 0 ? (uint32_t)p->o.at : t0 + (uint32_t)p->o.delay;
		p->started = 1;
	}
	if (p->o.garbage > 0)
		probe_play_garbage(p, buf, n);
	else
		probe_play_script(p, buf, t0, n);
	return 0;
}

/* Publishes 4/4 BBT at --bpm, switching to --to at --change-at seconds of transport time. */
static void
probe_timebase(jack_transport_state_t st, jack_nframes_t n, jack_position_t *pos, int new_pos, void *arg)
{
	struct probe *p = arg;
	double rate = pos->frame_rate, beats, whole;
	uint32_t f = pos->frame;

	(void)st, (void)n, (void)new_pos;
	if (!(rate > 0))        /* the first callbacks may come before the position carries a rate */
		rate = jack_get_sample_rate(p->client);
	if (f < p->change_frame || p->o.to_bpm <= 0) {
		beats = f * p->o.bpm / (60.0 * rate);
		pos->beats_per_minute = p->o.bpm;
	} else {
		beats = p->change_frame * p->o.bpm / (60.0 * rate) + (f - p->change_frame) * p->o.to_bpm / (60.0 * rate);
		pos->beats_per_minute = p->o.to_bpm;
	}
	whole = floor(beats);
	pos->valid = JackPositionBBT;
	pos->beats_per_bar = 4;
	pos->beat_type = 4;
	pos->ticks_per_beat = PROBE_TPB;
	pos->bar = (int32_t)(whole / 4) + 1;
	pos->beat = (int32_t)fmod(whole, 4) + 1;
	pos->tick = (int32_t)((beats - whole) * PROBE_TPB);
	pos->bar_start_tick = (double)(pos->bar - 1) * 4 * PROBE_TPB;
}

/* ---- main thread -------------------------------------------------------------------------------- */

static double
probe_now(void)
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

static int
probe_open(struct probe *p, JackProcessCallback cb)
{
	jack_status_t status;
	jack_options_t opt = JackNoStartServer | (p->o.server ? JackServerName : 0);

	p->client = jack_client_open(p->o.client, opt, &status, p->o.server);
	if (p->client == NULL) {
		fprintf(stderr, "jack_probe: cannot open client '%s' on server '%s' (status 0x%x)%s\n", p->o.client,
		    p->o.server ? p->o.server : "default", (unsigned)status,
		    status & JackServerFailed ? ": is jackd running? (jack_lsp -s NAME)" : "");
		return -1;
	}
	jack_on_shutdown(p->client, probe_on_shutdown, p);
	if (cb && jack_set_process_callback(p->client, cb, p) != 0)
		return -1;
	if (jack_activate(p->client) != 0) {
		fprintf(stderr, "jack_probe: cannot activate client\n");
		return -1;
	}
	return 0;
}

/* Registers our port after activation (the callback ignores it until published). */
static int
probe_port(struct probe *p, const char *name, unsigned long flags)
{
	jack_port_t *port = jack_port_register(p->client, name, JACK_DEFAULT_MIDI_TYPE, flags, 0);

	if (port == NULL) {
		fprintf(stderr, "jack_probe: cannot register port %s\n", name);
		return -1;
	}
	atomic_store_explicit(&p->port, port, memory_order_release);
	return 0;
}

/* One try at pattern i: 0 when at least one port matches and every match is connected, else -1. */
static int
probe_connect_one(struct probe *p, int i, int ours_is_input, int quiet)
{
	const char *me = jack_port_name(p->port), **names;
	int rc = 0;

	names = jack_get_ports(p->client, p->o.connect[i], JACK_DEFAULT_MIDI_TYPE,
	    ours_is_input ? JackPortIsOutput : JackPortIsInput);
	if (names == NULL) {
		if (!quiet)
			fprintf(stderr, "jack_probe: no MIDI %s port matches '%s' (jack_lsp -t -s SERVER)\n",
			    ours_is_input ? "output" : "input", p->o.connect[i]);
		return -1;
	}
	for (int k = 0; names[k] && rc == 0; k++) {
		if (jack_port_connected_to(p->port, names[k]))
			continue;
		/* fails while the other client is not active yet: retried */
		rc = ours_is_input ? jack_connect(p->client, names[k], me) : jack_connect(p->client, me, names[k]);
		if (rc == EEXIST)
			rc = 0;
		if (rc != 0 && !quiet)
			fprintf(stderr, "jack_probe: cannot connect %s and %s\n", me, names[k]);
	}
	jack_free(names);
	return rc == 0 ? 0 : -1;
}

/* Connects our port to every MIDI port matching each pattern, retrying for up to --wait s, then lets the new
 * graph take effect (JACK switches it at a period boundary) so that nothing sent right after is lost. */
static int
probe_connect(struct probe *p, int ours_is_input)
{
	double deadline = probe_now() + p->o.wait;
	double period = (double)jack_get_buffer_size(p->client) / jack_get_sample_rate(p->client);

	for (int i = 0; i < p->o.nconnect; i++) {
		for (int last = 0; probe_connect_one(p, i, ours_is_input, !last) < 0; last = probe_now() >= deadline) {
			if (probe_quit || last)
				return -1;
			probe_sleep(0.02);
		}
	}
	while (p->o.nconnect > 0 && jack_port_connected(p->port) == 0 && probe_now() < deadline)
		probe_sleep(period);
	probe_sleep(3 * period);
	return 0;
}

static int
probe_ready(struct probe *p)
{
	FILE *f;

	if (p->o.ready == NULL)
		return 0;
	if ((f = fopen(p->o.ready, "w")) == NULL || fclose(f) != 0) {
		fprintf(stderr, "jack_probe: %s: %s\n", p->o.ready, strerror(errno));
		return -1;
	}
	return 0;
}

/* Sleeps in small steps until the deadline (0: none), a signal, server shutdown, or *flag. */
static void
probe_wait(struct probe *p, double deadline, atomic_int *flag, void (*tick)(struct probe *))
{
	while (!probe_quit && !atomic_load(&p->gone) && !(flag && atomic_load(flag))) {
		if (deadline > 0 && probe_now() >= deadline)
			break;
		if (tick)
			tick(p);
		probe_sleep(0.005);
	}
}

static FILE *probe_outf;

static void
probe_drain(struct probe *p)
{
	struct probe_chunk c;

	while (ring_pop(&p->ring, &c) == 0) {
		if (!p->line_open)
			fprintf(probe_outf, "%" PRIu32, c.frame);
		for (int k = 0; k < c.len; k++)
			fprintf(probe_outf, " %02X", c.data[k]);
		p->line_open = c.more;
		if (!p->line_open)
			fputc('\n', probe_outf);
	}
	fflush(probe_outf);
}

static int
probe_record(struct probe *p)
{
	double t0;

	if ((probe_outf = fopen(p->o.out, "w")) == NULL) {
		fprintf(stderr, "jack_probe: %s: %s\n", p->o.out, strerror(errno));
		return PROBE_FAIL;
	}
	if (ring_init(&p->ring, PROBE_RING, sizeof(struct probe_chunk)) < 0 ||
	    probe_open(p, probe_record_process) < 0)
		return PROBE_FAIL;
	fprintf(probe_outf, "# rate %" PRIu32 " period %" PRIu32 "\n", jack_get_sample_rate(p->client),
	    jack_get_buffer_size(p->client));
	fflush(probe_outf);
	if (probe_port(p, "in", JackPortIsInput) < 0 || probe_connect(p, 1) < 0 || probe_ready(p) < 0)
		return PROBE_FAIL;
	t0 = probe_now();
	probe_wait(p, p->o.seconds > 0 ? t0 + p->o.seconds : 0, NULL, probe_drain);
	jack_deactivate(p->client);
	probe_drain(p);
	if (atomic_load(&p->dropped))
		fprintf(probe_outf, "# dropped %lu\n", atomic_load(&p->dropped));
	if (fclose(probe_outf) != 0) {
		fprintf(stderr, "jack_probe: %s: %s\n", p->o.out, strerror(errno));
		return PROBE_FAIL;
	}
	if (atomic_load(&p->gone))
		fprintf(stderr, "jack_probe: the JACK server went away\n");
	return atomic_load(&p->gone) || atomic_load(&p->dropped) ? PROBE_FAIL : PROBE_OK;
}

static int
probe_play(struct probe *p)
{
	double period;

	if (p->o.script && probe_script_load(p, p->o.script) < 0)
		return PROBE_FAIL;
	if (p->o.garbage > 0) {
		if (p->o.seed_s == NULL)
			p->o.seed = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
		p->rng = p->o.seed;
		fprintf(stderr, "jack_probe: garbage seed %" PRIu64 " (replay with --seed)\n", p->o.seed);
	}
	if (probe_open(p, probe_play_process) < 0 || probe_port(p, "out", JackPortIsOutput) < 0 ||
	    probe_connect(p, 0) < 0 || probe_ready(p) < 0)
		return PROBE_FAIL;
	period = (double)jack_get_buffer_size(p->client) / jack_get_sample_rate(p->client);
	atomic_store_explicit(&p->armed, 1, memory_order_release);
	if (p->o.garbage > 0)
		probe_wait(p, probe_now() + p->o.seconds, NULL, NULL);
	else
		probe_wait(p, 0, &p->done, NULL);
	atomic_store(&p->stop, 1);
	probe_sleep(3 * period);                /* let the last period reach the readers */
	if (p->o.garbage > 0)
		printf("# garbage seed %" PRIu64 " sent %lu events %lu bytes dropped %lu\n", p->o.seed,
		    atomic_load(&p->sent), atomic_load(&p->sent_bytes), atomic_load(&p->dropped));
	if (atomic_load(&p->dropped) || atomic_load(&p->late))
		fprintf(stderr, "jack_probe: %lu events dropped, %lu late\n", atomic_load(&p->dropped),
		    atomic_load(&p->late));
	if (atomic_load(&p->gone) || (p->o.script && (atomic_load(&p->dropped) || atomic_load(&p->late))))
		return PROBE_FAIL;
	return probe_quit && p->o.script && !atomic_load(&p->done) ? PROBE_FAIL : PROBE_OK;
}

/* --seconds counts transport frames, not wall time: a loaded machine runs the dummy driver late, not short. */
static void
probe_clock_tick(struct probe *p)
{
	double end = p->o.seconds * jack_get_sample_rate(p->client);

	if (p->o.seconds > 0 && jack_get_current_transport_frame(p->client) >= end)
		atomic_store(&p->done, 1);
}

static int
probe_clockmaster(struct probe *p)
{
	jack_position_t pos;
	double t0;

	if (probe_open(p, NULL) < 0)
		return PROBE_FAIL;
	p->change_frame = (uint32_t)(p->o.change_at * jack_get_sample_rate(p->client));
	if (!p->o.no_bbt && jack_set_timebase_callback(p->client, 0, probe_timebase, p) != 0) {
		fprintf(stderr, "jack_probe: cannot become timebase master\n");
		return PROBE_FAIL;
	}
	/* Start only once the locate has landed: jack_midi_clock sends Start (FA) only when it sees the transport
	 * start at frame 0, otherwise Stop + Song Position. */
	jack_transport_locate(p->client, 0);
	t0 = probe_now();
	while (jack_transport_query(p->client, &pos), pos.frame != 0 && probe_now() < t0 + 2 && !probe_quit)
		probe_sleep(0.002);
	if (pos.frame != 0) {
		fprintf(stderr, "jack_probe: transport did not locate to 0 (at %" PRIu32 ")\n", pos.frame);
		return PROBE_FAIL;
	}
	jack_transport_start(p->client);
	probe_wait(p, 0, &p->done, probe_clock_tick);
	if (!atomic_load(&p->gone)) {
		jack_transport_stop(p->client);
		probe_sleep(0.1);               /* followers see Stopped with our BBT still published */
		if (!p->o.no_bbt)
			jack_release_timebase(p->client);
	}
	return atomic_load(&p->gone) ? PROBE_FAIL : PROBE_OK;
}

int
main(int argc, char **argv)
{
	static struct probe p;
	struct sigaction sa;
	int rc;

	if (probe_parse(&p.o, argc, argv) < 0)
		return PROBE_USAGE;
	if (strcmp(p.o.mode, "clockmaster") == 0 && strcmp(p.o.client, "jack_probe") == 0)
		p.o.client = "jack_probe_clock";
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = probe_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (strcmp(p.o.mode, "record") == 0)
		rc = probe_record(&p);
	else if (strcmp(p.o.mode, "play") == 0)
		rc = probe_play(&p);
	else
		rc = probe_clockmaster(&p);
	if (p.client)
		jack_client_close(p.client);
	if (p.ring.buf)
		ring_fini(&p.ring);
	free(p.ev);
	free(p.bytes);
	return rc;
}
