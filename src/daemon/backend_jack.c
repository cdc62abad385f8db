/* SPDX-License-Identifier: GPL-3.0-or-later */
/* backend_jack.c: JACK MIDI in and out with sample-accurate frames; the process callback only calls the rt
 * functions. Survives the server going away: the shutdown callback marks the backend lost and the main loop
 * reopens it when a server answers again. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jack/jack.h>
#include <jack/midiport.h>

#include "backend.h"
#include "log.h"
#include "mono.h"

struct jack_priv {
	jack_client_t *client;
	jack_port_t *in, *out;
	void *out_buf;          /* this period's output buffer (process thread only) */
	uint64_t frame0;
	uint64_t frames;        /* jack_last_frame_time widened to 64 bits (process thread only) */
	uint32_t nframes;
};

static int
jack_write(void *ctx, uint64_t frame, const uint8_t *data, uint32_t len)
{
	struct jack_priv *p = ctx;
	uint64_t off = frame - p->frame0;

	if (frame < p->frame0 || off >= p->nframes)
		return -1;
	return jack_midi_event_write(p->out_buf, (jack_nframes_t)off, data, len) == 0 ? 0 : -1;
}

/* The real-time callback: no allocation, locks or logging here (rt.c keeps the same rules). */
static int
jack_process(jack_nframes_t nframes, void *arg)
{
	struct backend *b = arg;
	struct jack_priv *p = b->priv;
	void *in = jack_port_get_buffer(p->in, nframes);
	jack_midi_event_t ev;
	uint32_t n = jack_midi_get_event_count(in);

	p->out_buf = jack_port_get_buffer(p->out, nframes);
	jack_midi_clear_buffer(p->out_buf);
	p->frame0 = rt_frames_widen(&p->frames, jack_last_frame_time(p->client));
	p->nframes = nframes;
	rt_begin(b->rt, p->frame0, nframes, jack_write, p);
	for (uint32_t i = 0; i < n; i++)
		if (jack_midi_event_get(&ev, in, i) == 0 && ev.time < nframes)
			rt_input(b->rt, p->frame0 + ev.time, ev.buffer, (uint32_t)ev.size);
	rt_end(b->rt, jack_write, p);
	return 0;
}

static void
jack_shutdown(jack_status_t code, const char *reason, void *arg)
{
	struct backend *b = arg;

	(void)code;
	(void)reason;
	atomic_store(&b->lost, 1);
}

static int
jack_buffer_size(jack_nframes_t n, void *arg)
{
	struct backend *b = arg;

	b->period = n;
	return 0;
}

/* libjack's errors (never from the process callback): logged, at most 20 (a dying server can flood). */
static void
jack_error(const char *msg)
{
	static _Atomic int n;

	if (atomic_fetch_add(&n, 1) < 20)
		log_warnx("libjack: %s", msg);
}

static void
jack_silence(const char *msg)
{
	(void)msg;      /* libjack's informational chatter */
}

/* A port registered (a synth or keyboard that appeared after us): JACK forbids connecting from its callbacks,
 * so the main loop does it. */
static void
jack_port_registration(jack_port_id_t id, int registered, void *arg)
{
	struct backend *b = arg;

	(void)id;
	if (registered)
		atomic_store(&b->ports_changed, 1);
}

static int
jack_xrun(void *arg)
{
	struct backend *b = arg;

	atomic_fetch_add_explicit(&b->xruns, 1, memory_order_relaxed);
	return 0;
}

static int
jack_open(struct backend *b, const struct cfg *c, char *err, size_t len)
{
	struct jack_priv *p = calloc(1, sizeof *p);
	jack_status_t st;
	jack_options_t opt = JackNoStartServer | (c->server_name[0] ? JackServerName : 0);

	if (p == NULL)
		return -1;
	b->priv = p;
	jack_set_error_function(jack_error);
	jack_set_info_function(jack_silence);
	p->client = jack_client_open(c->client_name, opt, &st, c->server_name);
	if (p->client == NULL) {
		/* how to get a server: musicvaed.c logs this first failure only, then retries every second */
		snprintf(err, len, "JACK: cannot connect to server %s%s%s (status 0x%x)%s%s%s%s",
		    c->server_name[0] ? "'" : "", c->server_name[0] ? c->server_name : "default",
		    c->server_name[0] ? "'" : "", (unsigned)st,
		    st & JackServerFailed ? ": no JACK server is running; start your own (qjackctl, or jackd with "
		    "your sound card), or for a test one without audio: jackd" : "",
		    st & JackServerFailed && c->server_name[0] ? " -n " : "",
		    st & JackServerFailed ? c->server_name : "", st & JackServerFailed ? " -d dummy" : "");
		return -1;
	}
	p->in = jack_port_register(p->client, c->in_port, JACK_DEFAULT_MIDI_TYPE, JackPortIsInput, 0);
	p->out = jack_port_register(p->client, c->out_port, JACK_DEFAULT_MIDI_TYPE, JackPortIsOutput, 0);
	if (p->in == NULL || p->out == NULL) {
		snprintf(err, len, "JACK: cannot register ports '%s' and '%s'", c->in_port, c->out_port);
		return -1;
	}
	if (strcmp(jack_get_client_name(p->client), c->client_name) != 0)
		log_warnx("JACK: the name '%s' is taken (another musicvaed?): this client is '%s'", c->client_name,
		    jack_get_client_name(p->client));
	else
		log_info("JACK: client '%s' on server %s", jack_get_client_name(p->client),
		    c->server_name[0] ? c->server_name : "default");
	b->rate = jack_get_sample_rate(p->client);
	b->period = jack_get_buffer_size(p->client);
	jack_set_process_callback(p->client, jack_process, b);
	jack_set_buffer_size_callback(p->client, jack_buffer_size, b);
	jack_on_info_shutdown(p->client, jack_shutdown, b);
	jack_set_port_registration_callback(p->client, jack_port_registration, b);
	jack_set_xrun_callback(p->client, jack_xrun, b);
	return 0;
}

/* jack_connect changes the server's next graph; the process cycles run the current one until the server
 * switches at the start of a later cycle. Waits (at most 1 s) until our cycles see the connection, so that what
 * is played first (autostart's Start and bar 0, just after backend_up) reaches the ports connected at start. */
static void
jack_connect_settle(jack_port_t *ours, const char *other)
{
	struct timespec nap = { 0, 2000000L };
	uint64_t end = mono_usec() + 1000000u;

	do {    /* jack_port_connected_to also sleeps a period while a graph change is pending */
		if (jack_port_connected_to(ours, other) != 0)
			return;
		nanosleep(&nap, NULL);
	} while (mono_usec() < end);
	log_warnx("JACK: %s and %s: the connection is not in the server's graph after 1 s", jack_port_name(ours),
	    other);
}

/* Connects every port of `flags` whose name matches one of the patterns to (or from) our port. */
static void
jack_connect_matching(struct jack_priv *p, const char (*pat)[256], int n, unsigned long flags, int to_us)
{
	const char **ports;
	const char *ours = jack_port_name(to_us ? p->in : p->out);

	for (int k = 0; k < n; k++) {
		regex_t re;
		if (regcomp(&re, pat[k], REG_EXTENDED | REG_NOSUB) != 0) {
			log_warnx("JACK: bad connect pattern '%s'", pat[k]);
			continue;
		}
		ports = jack_get_ports(p->client, NULL, JACK_DEFAULT_MIDI_TYPE, flags);
		for (int i = 0; ports && ports[i]; i++) {
			int rc;
			if (regexec(&re, ports[i], 0, NULL, 0) != 0 || strcmp(ports[i], ours) == 0)
				continue;
			rc = to_us ? jack_connect(p->client, ports[i], ours) : jack_connect(p->client, ours, ports[i]);
			if (rc == 0) {
				log_info("JACK: connected %s -> %s", to_us ? ports[i] : ours, to_us ? ours : ports[i]);
				jack_connect_settle(to_us ? p->in : p->out, ports[i]);
			}
		}
		jack_free(ports);
		regfree(&re);
	}
}

static void
jack_connect_cfg(struct backend *b, const struct cfg *c)
{
	struct jack_priv *p = b->priv;

	if (p == NULL || p->client == NULL)
		return;
	jack_connect_matching(p, c->connect_in, c->n_connect_in, JackPortIsOutput, 1);
	jack_connect_matching(p, c->connect_out, c->n_connect_out, JackPortIsInput, 0);
}

static int
jack_start(struct backend *b, struct rt *rt, char *err, size_t len)
{
	struct jack_priv *p = b->priv;

	b->rt = rt;
	if (jack_activate(p->client) != 0) {
		snprintf(err, len, "JACK: cannot activate the client");
		return -1;
	}
	return 0;
}

static void
jack_close(struct backend *b)
{
	struct jack_priv *p = b->priv;

	if (p == NULL)
		return;
	if (p->client != NULL) {
		if (!atomic_load(&b->lost))
			jack_deactivate(p->client);
		jack_client_close(p->client);
	}
	free(p);
	b->priv = NULL;
}

const struct backend_ops backend_jack_ops = {
	.name = "jack",
	.open = jack_open,
	.start = jack_start,
	.connect = jack_connect_cfg,
	.close = jack_close,
};
