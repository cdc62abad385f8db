/* SPDX-License-Identifier: GPL-3.0-or-later */
/* backend_alsa_conn.c: the ALSA backend's connector thread and connect op: matches ports (at start, on reload, and
 * when System:Announce, handed over by the I/O thread through a ring, says one appeared) against the auto-connect
 * patterns and subscribes them, keeps track of the ports connected to ours and logs disconnections, and reports
 * what the I/O thread counted (late periods, overruns). It may allocate, lock and log; it never touches the queue
 * or the real-time state. */
#define _GNU_SOURCE             /* sem_clockwait; alloca, which the snd_*_alloca macros use */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "backend_alsa_int.h"
#include "log.h"
#include "mono.h"

static int
alsa_conn_is_ours(const struct alsa_priv *p, snd_seq_addr_t a)
{
	return a.client == p->client && (a.port == p->in_port || a.port == p->out_port);
}

/* "CLIENT NAME:PORT NAME" of a port, what the patterns are matched against. */
static int
alsa_conn_port_name(struct alsa_priv *p, snd_seq_addr_t a, char *buf, size_t len, unsigned *caps)
{
	snd_seq_client_info_t *ci;
	snd_seq_port_info_t *pi;

	snd_seq_client_info_alloca(&ci);
	snd_seq_port_info_alloca(&pi);
	if (snd_seq_get_any_client_info(p->seq, a.client, ci) < 0 ||
	    snd_seq_get_any_port_info(p->seq, a.client, a.port, pi) < 0) {
		snprintf(buf, len, "%d:%d", a.client, a.port);
		return -1;
	}
	snprintf(buf, len, "%s:%s", snd_seq_client_info_get_name(ci), snd_seq_port_info_get_name(pi));
	if (caps)
		*caps = snd_seq_port_info_get_capability(pi);
	return 0;
}

static int
alsa_conn_matches(const regex_t *re, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (regexec(&re[i], name, 0, NULL, 0) == 0)
			return 1;
	return 0;
}

/* Subscribes port a to our input or our output if its name matches. Caller holds p->lock. */
static void
alsa_conn_match_port(struct alsa_priv *p, snd_seq_addr_t a)
{
	const unsigned rd = SND_SEQ_PORT_CAP_READ | SND_SEQ_PORT_CAP_SUBS_READ;
	const unsigned wr = SND_SEQ_PORT_CAP_WRITE | SND_SEQ_PORT_CAP_SUBS_WRITE;
	char name[256];
	unsigned caps = 0;

	if (a.client == p->client || a.client == SND_SEQ_CLIENT_SYSTEM || alsa_conn_port_name(p, a, name, sizeof name,
	    &caps) < 0 || (caps & SND_SEQ_PORT_CAP_NO_EXPORT))
		return;
	if ((caps & rd) == rd && alsa_conn_matches(p->re_in, p->n_re_in, name) &&
	    snd_seq_connect_from(p->seq, p->in_port, a.client, a.port) == 0)
		log_info("ALSA: connected %s (%d:%d) -> %s:%s", name, a.client, a.port, p->client_name, p->in_name);
	if ((caps & wr) == wr && alsa_conn_matches(p->re_out, p->n_re_out, name) &&
	    snd_seq_connect_to(p->seq, p->out_port, a.client, a.port) == 0)
		log_info("ALSA: connected %s:%s -> %s (%d:%d)", p->client_name, p->out_name, name, a.client, a.port);
}

/* Every port of client c (c < 0: of every client). Caller holds p->lock. */
static void
alsa_conn_scan(struct alsa_priv *p, int c)
{
	snd_seq_client_info_t *ci;
	snd_seq_port_info_t *pi;

	snd_seq_client_info_alloca(&ci);
	snd_seq_port_info_alloca(&pi);
	snd_seq_client_info_set_client(ci, c < 0 ? -1 : c - 1);
	while (snd_seq_query_next_client(p->seq, ci) >= 0) {
		int client = snd_seq_client_info_get_client(ci);
		if (c >= 0 && client != c)
			break;
		snd_seq_port_info_set_client(pi, client);
		snd_seq_port_info_set_port(pi, -1);
		while (snd_seq_query_next_port(p->seq, pi) >= 0)
			alsa_conn_match_port(p, *snd_seq_port_info_get_addr(pi));
	}
}

static int
alsa_conn_peer_find(const struct alsa_priv *p, snd_seq_addr_t a)
{
	for (int i = 0; i < p->n_peer; i++)
		if (p->peer[i].client == a.client && p->peer[i].port == a.port)
			return i;
	return -1;
}

/* A connection to one of our ports ended (unsubscribed, or its port or client went away). */
static void
alsa_conn_peer_gone(struct alsa_priv *p, int i, const char *why)
{
	log_warnx("ALSA: %d:%d disconnected from %s (%s; %llu disconnections so far)", p->peer[i].client,
	    p->peer[i].port, p->client_name, why, (unsigned long long)++p->disconnects);
	p->peer[i] = p->peer[--p->n_peer];
}

static void
alsa_conn_subscription(struct alsa_priv *p, const struct alsa_notice *n)
{
	snd_seq_addr_t other;
	int i;

	if (!alsa_conn_is_ours(p, n->a) && !alsa_conn_is_ours(p, n->b))
		return;
	other = alsa_conn_is_ours(p, n->a) ? n->b : n->a;
	i = alsa_conn_peer_find(p, other);
	if (n->type == SND_SEQ_EVENT_PORT_SUBSCRIBED && i < 0 && p->n_peer < ALSA_PEERS)
		p->peer[p->n_peer++] = other;
	else if (n->type == SND_SEQ_EVENT_PORT_UNSUBSCRIBED && i >= 0)
		alsa_conn_peer_gone(p, i, "unsubscribed");
}

static void
alsa_conn_on_notice(struct alsa_priv *p, const struct alsa_notice *n)
{
	pthread_mutex_lock(&p->lock);
	switch (n->type) {
	case SND_SEQ_EVENT_PORT_START:
	case SND_SEQ_EVENT_PORT_CHANGE:
		alsa_conn_match_port(p, n->a);
		break;
	case SND_SEQ_EVENT_CLIENT_START:
	case SND_SEQ_EVENT_CLIENT_CHANGE:
		alsa_conn_scan(p, n->a.client);      /* a new name may match now */
		break;
	case SND_SEQ_EVENT_PORT_SUBSCRIBED:
	case SND_SEQ_EVENT_PORT_UNSUBSCRIBED:
		alsa_conn_subscription(p, n);
		break;
	case SND_SEQ_EVENT_PORT_EXIT:
	case SND_SEQ_EVENT_CLIENT_EXIT:
		for (int i = p->n_peer - 1; i >= 0; i--)
			if (p->peer[i].client == n->a.client &&
			    (n->type == SND_SEQ_EVENT_CLIENT_EXIT || p->peer[i].port == n->a.port))
				alsa_conn_peer_gone(p, i, n->type == SND_SEQ_EVENT_PORT_EXIT ? "its port went away" :
				    "its client went away");
		break;
	}
	pthread_mutex_unlock(&p->lock);
}

/* Logs what the I/O thread counted since the last look (it cannot log itself). */
void
alsa_conn_report(struct alsa_priv *p)
{
	uint64_t late = atomic_load(&p->cnt.late), ovr = atomic_load(&p->cnt.overruns);
	uint64_t drop = atomic_load(&p->cnt.dropped), err = atomic_load(&p->cnt.errors);
	uint64_t lost = atomic_load(&p->cnt.notices_lost), last = atomic_load(&p->cnt.late_last);

	if (late != p->seen_late)
		log_warnx("ALSA: %llu periods computed after their time (total %llu; the latest at queue time %.6f s, "
		    "%llu us late); %llu events sent late in all", (unsigned long long)(late - p->seen_late),
		    (unsigned long long)late, (double)(last >> ALSA_LATE_BITS) / ALSA_RATE,
		    (unsigned long long)(last & ((1u << ALSA_LATE_BITS) - 1)),
		    (unsigned long long)atomic_load(&p->cnt.late_events));
	if (ovr != p->seen_overruns || drop != p->seen_dropped)
		log_warnx("ALSA: input lost: %llu kernel FIFO overruns, %llu events over %d a period (totals)",
		    (unsigned long long)ovr, (unsigned long long)drop, ALSA_IN_MAX);
	if (err != p->seen_errors)
		log_warnx("ALSA: %llu sequencer errors (total %llu)", (unsigned long long)(err - p->seen_errors),
		    (unsigned long long)err);
	if (lost != p->seen_lost)
		log_warnx("ALSA: %llu announcements lost (total %llu): a new port may not have been connected",
		    (unsigned long long)(lost - p->seen_lost), (unsigned long long)lost);
	p->seen_late = late;
	p->seen_overruns = ovr;
	p->seen_dropped = drop;
	p->seen_errors = err;
	p->seen_lost = lost;
}

void *
alsa_conn_main(void *arg)
{
	struct alsa_priv *p = arg;
	struct alsa_notice n;
	struct timespec ts;
	uint64_t last = mono_usec();

	while (!atomic_load(&p->stop)) {
		if (mono_usec() - last >= ALSA_REPORT_MS * 1000u) {
			alsa_conn_report(p);
			last = mono_usec();
		}
		ts = mono_after(200);
		sem_clockwait(&p->wake, CLOCK_MONOTONIC, &ts);
		while (ring_pop(&p->notices, &n) == 0)
			alsa_conn_on_notice(p, &n);
	}
	return NULL;
}

void
alsa_conn_free_patterns(regex_t *re, int n)
{
	for (int i = 0; i < n; i++)
		regfree(&re[i]);
}

static int
alsa_conn_compile(regex_t *re, const char (*pat)[256], int n)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		if (regcomp(&re[k], pat[i], REG_EXTENDED | REG_NOSUB) == 0)
			k++;
		else
			log_warnx("ALSA: bad connect pattern '%s'", pat[i]);
	return k;
}

/* The connect op: new patterns, applied to every port there is now; the connector applies them to new ones. */
void
alsa_conn_cfg(struct backend *b, const struct cfg *c)
{
	struct alsa_priv *p = b->priv;

	if (p == NULL || p->seq == NULL || !p->have_lock)
		return;
	pthread_mutex_lock(&p->lock);
	alsa_conn_free_patterns(p->re_in, p->n_re_in);
	alsa_conn_free_patterns(p->re_out, p->n_re_out);
	p->n_re_in = alsa_conn_compile(p->re_in, c->connect_in, c->n_connect_in);
	p->n_re_out = alsa_conn_compile(p->re_out, c->connect_out, c->n_connect_out);
	alsa_conn_scan(p, -1);
	pthread_mutex_unlock(&p->lock);
}
