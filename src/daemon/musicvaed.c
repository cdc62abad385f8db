/* SPDX-License-Identifier: GPL-3.0-or-later */
/* musicvaed.c: the daemon: argv, start-up order (config, model, control socket, backend, RT state, engine), one
 * poll loop (signals through a self-pipe, the control socket and its clients, the engine's replies, reconnecting
 * a lost server, status) and the shutdown that silences every note. */
#define _GNU_SOURCE             /* pipe2 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "cfg.h"
#include "ctl.h"
#include "engine.h"
#include "log.h"
#include "model.h"
#include "request.h"

#define MAIN_RECONNECT_MS 1000
#define MAIN_STATUS_MS 10000
#define MAIN_TICK_MS 100

static int quit, reload, status;
static int sigpipe_w = -1;      /* the handler's end of the self-pipe */

struct daemon {
	struct cfg cfg;
	const struct backend_ops *ops;
	struct backend be;
	struct rt rt;
	struct engine eng;
	struct ctl ctl;
	int backend_open;
	int sigfd;
	uint64_t last_repeats, last_stale, last_bad;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: musicvaed [-c FILE] [-t] [-v] [-o section.setting=value]...\n"
	    "  -c FILE   configuration file (default %s/musicvaed.conf)\n"
	    "  -t        check the configuration and the model, then exit\n"
	    "  -v        verbose (debug) logging\n"
	    "  -o S=V    override one setting, e.g. -o clock.bpm=96 -o mode=continue\n", SYSCONFDIR);
}

static int
load_config(struct cfg *c, const char *path, int argc, char **overrides, int explicit_path, char *err,
    size_t len)
{
	cfg_defaults(c);
	if ((explicit_path || access(path, F_OK) == 0) && cfg_load(c, path, err, len) < 0)
		return -1;
	for (int i = 0; i < argc; i++)
		if (cfg_override(c, overrides[i], err, len) < 0)
			return -1;
	return 0;
}

static struct model *
load_model(const struct cfg *c, char *err, size_t len)
{
	struct model *md = calloc(1, sizeof *md);

	nn_set_threads(c->threads);
	if (md == NULL || model_open(md, c->model, 1, err, len) < 0) {
		free(md);
		return NULL;
	}
	codec_set_drums_js(&md->vae.codec, c->js_drums);
	return md;
}

static int
backend_up(struct daemon *d, char *err, size_t len)
{
	memset(&d->be, 0, sizeof d->be);
	d->be.ops = d->ops;
	if (d->ops->open(&d->be, &d->cfg, err, len) < 0) {
		d->ops->close(&d->be);
		return -1;
	}
	rt_reset(&d->rt, d->be.rate);   /* new frame counter, maybe a new rate */
	if (d->ops->start(&d->be, &d->rt, err, len) < 0) {
		d->ops->close(&d->be);
		return -1;
	}
	d->ops->connect(&d->be, &d->cfg);
	d->backend_open = 1;
	return 0;
}

static void
daemon_reload(struct daemon *d, const char *path, int argc, char **overrides, int explicit_path)
{
	struct cfg *c = malloc(sizeof *c);
	struct engine_req r = { .type = ENGINE_REQ_CFG };
	struct model *md = NULL;
	char err[1024];

	if (c == NULL || load_config(c, path, argc, overrides, explicit_path, err, sizeof err) < 0) {
		log_errx("reload refused, keeping the running configuration: %s", c ? err : "out of memory");
		free(c);
		return;
	}
	if (strcmp(c->model, d->cfg.model) != 0 && (md = load_model(c, err, sizeof err)) == NULL) {
		log_errx("reload refused, keeping the running configuration: %s", err);
		free(c);
		return;
	}
	if (c->backend != d->cfg.backend || c->clock != d->cfg.clock || strcmp(c->client_name,
	    d->cfg.client_name) || strcmp(c->server_name, d->cfg.server_name) || strcmp(c->in_port,
	    d->cfg.in_port) || strcmp(c->out_port, d->cfg.out_port))
		log_warnx("reload: backend, client, port and clock source changes take effect at restart");
	if (md != NULL) {
		struct engine_req mr = { .type = ENGINE_REQ_MODEL, .model = md };
		engine_request(&d->eng, &mr);
	}
	d->cfg = *c;
	r.cfg = c;
	if (engine_request(&d->eng, &r) < 0) {
		log_errx("reload: the engine is busy; try again");
		free(c);
		return;
	}
	if (d->backend_open)
		d->ops->connect(&d->be, &d->cfg);
	log_info("configuration reloaded from %s", path);
}

/* Logs what the RT thread dropped or repeated since the last report, once it happens. */
static void
daemon_status(struct daemon *d, int force)
{
	struct rt_counters *c = &d->rt.cnt;
	struct clock_stats cs;
	uint64_t rep = atomic_load(&c->bars_repeated), stale = atomic_load(&c->bars_stale);
	uint64_t bad = atomic_load(&c->in_bad_status) + atomic_load(&c->in_bad_length) +
	    atomic_load(&c->in_bad_data);

	if (rep != d->last_repeats)
		log_warnx("%llu bars came late and the previous bar was repeated (total %llu)",
		    (unsigned long long)(rep - d->last_repeats), (unsigned long long)rep);
	if (bad != d->last_bad)
		log_warnx("dropped %llu malformed MIDI input events (total %llu)",
		    (unsigned long long)(bad - d->last_bad), (unsigned long long)bad);
	clock_stats_read(&d->rt.clock, &cs);
	if (force || stale != d->last_stale)
		log_debug("periods %llu, bars played %llu, repeated %llu, stale %llu, tempo %.2f BPM, step %lld, "
		    "windows %llu, last decode %.1f ms", (unsigned long long)atomic_load(&c->periods),
		    (unsigned long long)atomic_load(&c->bars_played), (unsigned long long)rep,
		    (unsigned long long)stale, cs.bpm,
		    (long long)atomic_load(&d->rt.now.step), (unsigned long long)atomic_load(&d->eng.cnt.windows),
		    atomic_load(&d->eng.cnt.decode_us_last) / 1000.0);
	d->last_repeats = rep;
	d->last_stale = stale;
	d->last_bad = bad;
}

/* SIGUSR1: one line with every counter, for operators and tests. */
static void
daemon_report(struct daemon *d)
{
	struct rt_counters *c = &d->rt.cnt;
	struct clock_stats cs;
	const struct engine_counters *e = &d->eng.cnt;

	clock_stats_read(&d->rt.clock, &cs);
#define U(x) ((unsigned long long)atomic_load(&(x)))
	log_info("status: mode %s, tempo %.4f BPM, step %lld, running %d, ticks %llu, missed ticks %llu, "
	    "late steps %llu, periods %llu, in events %llu, in notes %llu, bad status %llu, bad length %llu, "
	    "bad data %llu, other %llu, capture overflow %llu, bars played %llu, repeated %llu, missing %llu, "
	    "stale %llu, out events %llu, out refused %llu, forced off %llu, flushes %llu, windows %llu, "
	    "phrases %llu, resyncs %llu, decode ms last %.2f max %.2f",
	    cfg_mode_name(atomic_load(&d->eng.mode)), cs.bpm, (long long)atomic_load(&d->rt.now.step),
	    atomic_load(&d->rt.now.running), (unsigned long long)cs.ticks, (unsigned long long)cs.missed_ticks,
	    (unsigned long long)cs.late_steps, U(c->periods), U(c->in_events), U(c->in_notes),
	    U(c->in_bad_status), U(c->in_bad_length), U(c->in_bad_data), U(c->in_other), U(c->capture_overflow),
	    U(c->bars_played), U(c->bars_repeated), U(c->bars_missing), U(c->bars_stale), U(c->out_events),
	    U(c->out_refused), U(c->notes_forced_off), U(c->flushes), U(e->windows), U(e->phrases),
	    U(e->resyncs), U(e->decode_us_last) / 1000.0, U(e->decode_us_max) / 1000.0);
#undef U
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);   /* a signal ends it early, which is what the loop wants */
}

/* Waits (bounded) until the RT thread has applied the engine's last flush, so note-offs go out. */
static void
daemon_drain(struct daemon *d, uint64_t flushes_before)
{
	for (int i = 0; i < 50 && d->backend_open && !atomic_load(&d->be.lost); i++) {
		if (atomic_load(&d->rt.cnt.flushes) > flushes_before)
			return;
		sleep_ms(10);
	}
}

/* Any thread may take the signal (OpenBLAS starts its threads before main): the handler only writes the
 * number into the self-pipe, which wakes the poll loop. */
static void
on_signal(int sig)
{
	int e = errno;
	unsigned char b = (unsigned char)sig;

	(void)!write(sigpipe_w, &b, 1);
	errno = e;
}

static void
daemon_signals(struct daemon *d)
{
	unsigned char sig[64];
	ssize_t n;

	while ((n = read(d->sigfd, sig, sizeof sig)) > 0)
		for (ssize_t i = 0; i < n; i++) {
			if (sig[i] == SIGHUP)
				reload = 1;
			else if (sig[i] == SIGUSR1)
				status = 1;
			else if (sig[i] == SIGTERM || sig[i] == SIGINT)
				quit = 1;
		}
}

/* The control socket's exec: files and models are read here, the engine checks and applies. */
static int
daemon_exec(void *ctx, uint64_t id, const struct proto_cmd *cmds, int n, int list_ok, int *index,
    struct proto_err *e)
{
	struct daemon *d = ctx;
	struct engine_req r = { .type = ENGINE_REQ_CTL };

	if ((r.ctl = request_build(&d->cfg, id, cmds, n, list_ok, index, e)) == NULL)
		return -1;
	if (engine_request(&d->eng, &r) < 0) {
		engine_ctl_free(r.ctl);
		*index = 0;
		e->code = PROTO_ACK_BUSY;
		snprintf(e->msg, sizeof e->msg, "the engine is busy; try again");
		return -1;
	}
	return 0;
}

/* Replies the engine finished, and what changed, to the control clients. */
static void
daemon_engine_events(struct daemon *d)
{
	struct engine_ctl *c;
	unsigned changed = engine_changes(&d->eng);

	while ((c = engine_ctl_done(&d->eng)) != NULL) {
		if (c->reply != NULL)
			ctl_reply(&d->ctl, c->id, c->reply, c->reply_len);
		else
			ctl_reply(&d->ctl, c->id, "ACK [52@0] {} out of memory\n", 28);
		engine_ctl_free(c);
	}
	if (changed)
		ctl_changed(&d->ctl, changed);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static void
daemon_loop(struct daemon *d, const char *path, int argc, char **overrides, int explicit_path)
{
	struct pollfd p[2 + 1 + 1024];
	double last_status = now_ms(), last_retry = now_ms() - MAIN_RECONNECT_MS;
	char err[1024];

	while (!quit) {
		int n = 0, nctl;
		p[n++] = (struct pollfd){ d->sigfd, POLLIN, 0 };
		p[n++] = (struct pollfd){ engine_event_fd(&d->eng), POLLIN, 0 };
		nctl = ctl_pollfds(&d->ctl, p + n, (int)(sizeof p / sizeof p[0]) - n);
		if (poll(p, (nfds_t)(n + nctl), MAIN_TICK_MS) < 0 && errno != EINTR) {
			log_warn("poll");
			continue;
		}
		if (p[0].revents)
			daemon_signals(d);
		if (p[1].revents)
			daemon_engine_events(d);
		ctl_handle(&d->ctl, p + n, nctl);
		if (reload) {
			reload = 0;
			daemon_reload(d, path, argc, overrides, explicit_path);
		}
		if (d->backend_open && atomic_load(&d->be.lost)) {
			log_warnx("%s: server gone; reconnecting", d->ops->name);
			d->ops->close(&d->be);
			d->backend_open = 0;
			last_retry = now_ms();
		}
		if (!d->backend_open && now_ms() - last_retry >= MAIN_RECONNECT_MS) {
			last_retry = now_ms();
			if (backend_up(d, err, sizeof err) == 0)
				log_info("%s: connected again", d->ops->name);
		}
		if (status) {
			status = 0;
			daemon_report(d);
		}
		if (now_ms() - last_status >= MAIN_STATUS_MS) {
			daemon_status(d, 1);
			last_status = now_ms();
		} else
			daemon_status(d, 0);
	}
}

/* The control socket: control.socket, else $MUSICVAED_SOCKET, else the system or the user's default; "none"
 * runs without one. */
static int
daemon_ctl_open(struct daemon *d, char *err, size_t len)
{
	const struct cfg *c = &d->cfg;
	const char *env = getenv("MUSICVAED_SOCKET");
	char path[108];
	struct ctl_opts o = { path, c->ctl_mode, c->ctl_group, c->ctl_max_clients, c->ctl_max_line };

	d->ctl.fd = -1;
	if (strcmp(c->ctl_socket, "none") == 0)
		return 0;
	if (c->ctl_socket[0])
		snprintf(path, sizeof path, "%s", c->ctl_socket);
	else if (env != NULL && env[0])
		snprintf(path, sizeof path, "%s", env);
	else
		ctl_default_path(path, sizeof path);
	if (ctl_open(&d->ctl, &o, daemon_exec, d, err, len) < 0)
		return -1;
	log_info("control socket %s (mode %04o)", path, c->ctl_mode);
	return 0;
}

static int
daemon_start(struct daemon *d, char *err, size_t len)
{
	struct model *md;
	const struct cfg *c = &d->cfg;

	if ((d->ops = backend_lookup(c->backend, err, len)) == NULL)
		return -1;
	if ((md = load_model(c, err, len)) == NULL)
		return -1;
	if (daemon_ctl_open(d, err, len) < 0) {
		model_close(md);
		free(md);
		return -1;
	}
	if (rt_init(&d->rt, c->null_rate, c->clock == CFG_CLOCK_INTERNAL, c->bpm, c->send_clock,
	    c->send_transport, c->in_channel - 1, c->out_channel - 1) < 0) {
		snprintf(err, len, "out of memory for the real-time queues");
		model_close(md);
		free(md);
		return -1;
	}
	if (engine_init(&d->eng, &d->rt, md, c, err, len) < 0)
		return -1;
	if (backend_up(d, err, len) < 0) {
		if (c->backend != CFG_BACKEND_JACK)
			return -1;
		log_warnx("%s; retrying every second", err);
	}
	if (engine_start(&d->eng) < 0) {
		snprintf(err, len, "cannot start the engine thread");
		return -1;
	}
	return 0;
}

static void
daemon_stop(struct daemon *d)
{
	uint64_t before = atomic_load(&d->rt.cnt.flushes);

	engine_fini(&d->eng);           /* its last act is a flush: every sounding note gets a note-off */
	daemon_drain(d, before);
	if (d->backend_open)
		d->ops->close(&d->be);
	rt_fini(&d->rt);
	ctl_close(&d->ctl);
}

int
main(int argc, char **argv)
{
	static struct daemon d;
	char path[1024], err[1024], *overrides[64];
	int ch, check = 0, verbose = 0, explicit_path = 0, n_over = 0, pfd[2];
	struct sigaction sa;

	snprintf(path, sizeof path, "%s/musicvaed.conf", SYSCONFDIR);
	while ((ch = getopt(argc, argv, "c:tvo:h")) != -1)
		switch (ch) {
		case 'c': snprintf(path, sizeof path, "%s", optarg); explicit_path = 1; break;
		case 't': check = 1; break;
		case 'v': verbose = 1; break;
		case 'o':
			if (n_over == 64)
				fatalx("too many -o overrides (64 at most)");
			overrides[n_over++] = optarg;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init("musicvaed", LOG_LEVEL_INFO);
	if (load_config(&d.cfg, path, n_over, overrides, explicit_path, err, sizeof err) < 0)
		fatalx("%s", err);
	log_init("musicvaed", verbose ? LOG_LEVEL_DEBUG : d.cfg.log_level);
	if (check) {
		struct model *md;
		if (backend_lookup(d.cfg.backend, err, sizeof err) == NULL)
			fatalx("%s", err);
		if ((md = load_model(&d.cfg, err, sizeof err)) == NULL)
			fatalx("%s", err);
		model_close(md);
		free(md);
		printf("%s: configuration OK; model %s loads\n", explicit_path || access(path, F_OK) == 0 ?
		    path : "defaults", d.cfg.model);
		return 0;
	}
	if (pipe2(pfd, O_NONBLOCK | O_CLOEXEC) < 0)
		fatal("pipe");
	d.sigfd = pfd[0];
	sigpipe_w = pfd[1];
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (daemon_start(&d, err, sizeof err) < 0)
		fatalx("%s", err);
	log_info("running: model %s, %s backend, %s clock at %.1f BPM, mode %s", d.cfg.model, d.ops->name,
	    d.cfg.clock == CFG_CLOCK_INTERNAL ? "internal" : "external", d.cfg.bpm, cfg_mode_name(d.cfg.mode));
	daemon_loop(&d, path, n_over, overrides, explicit_path);
	log_info("stopping");
	daemon_stop(&d);
	daemon_status(&d, 1);
	return 0;
}
