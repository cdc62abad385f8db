/* SPDX-License-Identifier: GPL-3.0-or-later */
/* musicvaed.c: the daemon: argv, start-up order (config, model, control socket, backend, RT state, engine), one
 * poll loop (signals through a signalfd, the control socket and its clients, the engine's replies, reconnecting
 * a lost server, status) and the shutdown that silences every note. */
#define _GNU_SOURCE
#include "config.h"             /* PACKAGE_VERSION */

#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "cfg.h"
#include "ctl.h"
#include "engine.h"
#include "log.h"
#include "model.h"
#include "mono.h"
#include "notify.h"
#include "request.h"

#define MAIN_RECONNECT_MS 1000
#define MAIN_STATUS_MS 10000
#define MAIN_TICK_MS 100

static int quit, reload, status;

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
	    "  -o S=V    override one setting, e.g. -o clock.bpm=96 -o mode=continue\n"
	    "  -V        print the version (--version)\n", SYSCONFDIR);
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

/* model.path as given when it names a directory (it has a '/'); a bare name is looked up in control.model_dirs,
 * then in ../models beside the executable: the source tree's models for build/musicvaed in a checkout. */
static void
model_path(const struct cfg *c, char *out, size_t len)
{
	char exe[PATH_MAX], cand[PATH_MAX + 300];
	ssize_t n;

	snprintf(out, len, "%s", c->model);
	if (strchr(c->model, '/') != NULL)
		return;
	for (int i = 0; i < c->n_model_dirs; i++) {
		snprintf(cand, sizeof cand, "%s/%s/config.json", c->model_dirs[i], c->model);
		if (access(cand, R_OK) == 0) {
			snprintf(out, len, "%s/%s", c->model_dirs[i], c->model);
			return;
		}
	}
	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) > 0) {
		exe[n] = '\0';
		*strrchr(exe, '/') = '\0';
		snprintf(cand, sizeof cand, "%s/../models/%s/config.json", exe, c->model);
		if (access(cand, R_OK) == 0) {
			snprintf(out, len, "%s/../models/%s", exe, c->model);
			return;
		}
	}
#ifdef TOP_SRCDIR               /* an out-of-tree build run where it was built */
	snprintf(cand, sizeof cand, "%s/models/%s/config.json", TOP_SRCDIR, c->model);
	if (access(cand, R_OK) == 0)
		snprintf(out, len, "%s/models/%s", TOP_SRCDIR, c->model);
#endif
}

static struct model *
load_model(const struct cfg *c, char *err, size_t len)
{
	struct model *md = calloc(1, sizeof *md);
	char path[PATH_MAX];

	model_path(c, path, sizeof path);
	if (md == NULL || model_open(md, path, 1, err, len) < 0) {
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
	d->ops->connect(&d->be, &d->cfg);       /* returns once the running graph has the connections */
	atomic_store(&d->rt.now.linked, 1);     /* now autostart may play */
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
	char tempo[32];

	clock_stats_read(&d->rt.clock, &cs);
#define U(x) ((unsigned long long)atomic_load(&(x)))
	if (cs.bpm > 0.0)
		snprintf(tempo, sizeof tempo, "%.4f BPM", cs.bpm);
	else
		snprintf(tempo, sizeof tempo, "unknown");       /* external clock: no two ticks yet */
	log_info("status: mode %s, tempo %s, step %lld, running %d, ticks %llu, missed ticks %llu, "
	    "late steps %llu, periods %llu, in events %llu, in notes %llu, bad status %llu, bad length %llu, "
	    "bad data %llu, other %llu, capture overflow %llu, bars played %llu, repeated %llu, missing %llu, "
	    "stale %llu, out events %llu, out refused %llu, forced off %llu, flushes %llu, groove early on step %llu, "
	    "groove pending full %llu, windows %llu, "
	    "phrases %llu, resyncs %llu, decode ms last %.2f max %.2f, xruns %llu, commands %llu",
	    cfg_mode_name(atomic_load(&d->eng.mode)), tempo, (long long)atomic_load(&d->rt.now.step),
	    atomic_load(&d->rt.now.running), (unsigned long long)cs.ticks, (unsigned long long)cs.missed_ticks,
	    (unsigned long long)cs.late_steps, U(c->periods), U(c->in_events), U(c->in_notes),
	    U(c->in_bad_status), U(c->in_bad_length), U(c->in_bad_data), U(c->in_other), U(c->capture_overflow),
	    U(c->bars_played), U(c->bars_repeated), U(c->bars_missing), U(c->bars_stale), U(c->out_events),
	    U(c->out_refused), U(c->notes_forced_off), U(c->flushes), U(c->early_on_step), U(c->pending_full),
	    U(e->windows), U(e->phrases),
	    U(e->resyncs), U(e->decode_us_last) / 1000.0, U(e->decode_us_max) / 1000.0, U(d->be.xruns),
	    U(e->ctl_commands));
#undef U
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
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

/* The signals the poll loop takes, through a signalfd; every thread blocks them. */
static void
main_signal_set(sigset_t *s)
{
	sigemptyset(s);
	sigaddset(s, SIGHUP);
	sigaddset(s, SIGINT);
	sigaddset(s, SIGTERM);
	sigaddset(s, SIGUSR1);
}

/* Runs from the executable's .preinit_array, before any shared library's constructor: OpenBLAS starts its
 * thread pool in one, libjack and the engine start theirs later; every thread inherits this mask, so a signal
 * is never handled on the real-time thread and always waits in the signalfd for the main loop. */
static void
main_block_signals(int argc, char **argv, char **envp)
{
	sigset_t s;

	(void)argc, (void)argv, (void)envp;
	main_signal_set(&s);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
}

__attribute__((section(".preinit_array"), used))
static void (*const main_preinit)(int, char **, char **) = main_block_signals;

static void
daemon_signals(struct daemon *d)
{
	struct signalfd_siginfo si[16];
	ssize_t n;

	while ((n = read(d->sigfd, si, sizeof si)) > 0)
		for (ssize_t i = 0; i < n / (ssize_t)sizeof si[0]; i++) {
			if (si[i].ssi_signo == SIGHUP)
				reload = 1;
			else if (si[i].ssi_signo == SIGUSR1)
				status = 1;
			else if (si[i].ssi_signo == SIGTERM || si[i].ssi_signo == SIGINT)
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

static void daemon_notify_status(struct daemon *d, int ready);

/* Replies the engine finished, and what changed, to the control clients. */
static void
daemon_engine_events(struct daemon *d)
{
	struct engine_ctl *c;
	unsigned changed = engine_changes(&d->eng);

	if (changed & (1u << PROTO_SUB_MODE | 1u << PROTO_SUB_TEMPO | 1u << PROTO_SUB_TRANSPORT))
		daemon_notify_status(d, 0);
	while ((c = engine_ctl_done(&d->eng)) != NULL) {
		if (!c->reply.oom)
			ctl_reply(&d->ctl, c->id, (const char *)c->reply.p, c->reply.n);
		else
			ctl_reply(&d->ctl, c->id, "ACK [52@0] {} out of memory\n", 28);
		engine_ctl_free(c);
	}
	if (changed)
		ctl_changed(&d->ctl, changed);
}

/* The one-line status the service manager shows (systemctl status). */
static void
daemon_notify_status(struct daemon *d, int ready)
{
	struct clock_stats cs;
	char st[256];

	clock_stats_read(&d->rt.clock, &cs);
	if (cs.bpm > 0.0)
		snprintf(st, sizeof st, "mode %s, %.1f BPM, %s clock%s", cfg_mode_name(atomic_load(&d->eng.mode)),
		    cs.bpm, cfg_clock_name(d->cfg.clock), atomic_load(&d->rt.now.running) ? ", running" : ", stopped");
	else
		snprintf(st, sizeof st, "mode %s, tempo unknown, %s clock", cfg_mode_name(atomic_load(&d->eng.mode)),
		    cfg_clock_name(d->cfg.clock));
	if (ready)
		notify_ready(st);
	else
		notify_status(st);
}

/* WATCHDOG=1 only when the engine thread and (while a backend runs) the real-time thread moved on since the
 * last time: a hung thread lets the service manager's watchdog fire. */
static void
daemon_watchdog(struct daemon *d, uint64_t *last_loops, uint64_t *last_periods)
{
	uint64_t loops = atomic_load(&d->eng.cnt.loops), periods = atomic_load(&d->rt.cnt.periods);
	int rt_ok = !d->backend_open || atomic_load(&d->be.lost) || periods != *last_periods;

	if (loops != *last_loops && rt_ok)
		notify_watchdog();
	*last_loops = loops;
	*last_periods = periods;
}

static void
daemon_loop(struct daemon *d, const char *path, int argc, char **overrides, int explicit_path)
{
	struct pollfd p[2 + 1 + 1024];
	double last_status = mono_ms(), last_retry = mono_ms() - MAIN_RECONNECT_MS, last_wd = mono_ms();
	double wd_ms = (double)notify_watchdog_usec() / 2000.0;
	uint64_t wd_loops = 0, wd_periods = 0;
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
			notify_reloading();
			daemon_reload(d, path, argc, overrides, explicit_path);
			daemon_notify_status(d, 1);
		}
		if (wd_ms > 0 && mono_ms() - last_wd >= wd_ms) {
			daemon_watchdog(d, &wd_loops, &wd_periods);
			last_wd = mono_ms();
		}
		if (d->backend_open && atomic_load(&d->be.lost)) {
			log_warnx("%s: server gone; reconnecting", d->ops->name);
			atomic_store(&d->rt.now.linked, 0);
			d->ops->close(&d->be);
			d->backend_open = 0;
			last_retry = mono_ms();
		}
		if (d->backend_open && atomic_exchange(&d->be.ports_changed, 0))
			d->ops->connect(&d->be, &d->cfg);       /* a port appeared: connect it if a pattern matches */
		if (!d->backend_open && mono_ms() - last_retry >= MAIN_RECONNECT_MS) {
			last_retry = mono_ms();
			if (backend_up(d, err, sizeof err) == 0)
				log_info("%s: connected again", d->ops->name);
		}
		if (status) {
			status = 0;
			daemon_report(d);
		}
		if (mono_ms() - last_status >= MAIN_STATUS_MS) {
			daemon_status(d, 1);
			last_status = mono_ms();
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

	int fd = notify_listen_fd();

	d->ctl.fd = -1;
	if (fd >= 0) {          /* socket activation: systemd (musicvaed.socket) made and owns the socket */
		snprintf(path, sizeof path, "%s", c->ctl_socket[0] ? c->ctl_socket : "(socket activation)");
		if (ctl_adopt(&d->ctl, fd, &o, daemon_exec, d, err, len) < 0)
			return -1;
		log_info("control socket from the service manager (fd %d)", fd);
		return 0;
	}
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
	nn_set_threads(c->threads);     /* before the engine runs; later only the engine thread changes it */
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
	/* the model and the rings are allocated and no period has run yet: from now on every page the real-time
	 * thread may touch stays in RAM, so no period page-faults (needs LimitMEMLOCK / the memlock rlimit; without
	 * it we say so and go on) */
	if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
		log_warn("mlockall: memory not locked (raise the memlock limit, e.g. LimitMEMLOCK=infinity)");
	else
		log_debug("memory locked (mlockall)");
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
	int ch, check = 0, verbose = 0, explicit_path = 0, n_over = 0;
	sigset_t sigs;
	static const struct option longopts[] = { { "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 } };

	snprintf(path, sizeof path, "%s/musicvaed.conf", SYSCONFDIR);
	while ((ch = getopt_long(argc, argv, "c:tvo:hV", longopts, NULL)) != -1)
		switch (ch) {
		case 'V': printf("musicvaed %s\n", PACKAGE_VERSION); return 0;
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
	log_detect_journal();
	if (load_config(&d.cfg, path, n_over, overrides, explicit_path, err, sizeof err) < 0)
		fatalx("%s", err);
	log_init("musicvaed", verbose ? LOG_LEVEL_DEBUG : d.cfg.log_level);
	if (check) {
		struct model *md;
		main_signal_set(&sigs);         /* a check is a plain command: ^C ends it */
		pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
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
	main_signal_set(&sigs);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);        /* already blocked by main_block_signals; says so here */
	if ((d.sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		fatal("signalfd");
	signal(SIGPIPE, SIG_IGN);
	if (daemon_start(&d, err, sizeof err) < 0)
		fatalx("%s", err);
	if (d.cfg.clock == CFG_CLOCK_INTERNAL)
		log_info("running: model %s, %s backend, internal clock at %.1f BPM, mode %s", d.cfg.model,
		    d.ops->name, d.cfg.bpm, cfg_mode_name(d.cfg.mode));
	else
		log_info("running: model %s, %s backend, external clock (tempo from the MIDI clock in), mode %s",
		    d.cfg.model, d.ops->name, cfg_mode_name(d.cfg.mode));
	daemon_notify_status(&d, 1);   /* model loaded, ports made, control socket listening */
	daemon_loop(&d, path, n_over, overrides, explicit_path);
	notify_stopping();
	log_info("stopping");
	daemon_stop(&d);
	daemon_status(&d, 1);
	return 0;
}
