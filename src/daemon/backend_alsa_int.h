/* SPDX-License-Identifier: GPL-3.0-or-later */
/* backend_alsa_int.h: what the ALSA backend's two files share: the client's state (struct alsa_priv), the
 * counters the I/O thread keeps for the connector to report, and the connector's entry points
 * (backend_alsa_conn.c) that the I/O side (backend_alsa.c) starts and stops. Not for other files. */
#ifndef MUSICVAED_BACKEND_ALSA_INT_H
#define MUSICVAED_BACKEND_ALSA_INT_H

#include <pthread.h>
#include <regex.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>

#include <alsa/asoundlib.h>

#include "backend.h"
#include "ring.h"

#define ALSA_RATE 1000000       /* frames per second: one frame is one microsecond of queue time */
#define ALSA_LATE_BITS 24       /* late_last's lateness field: up to 16.7 s (the frame then has 40 bits, 12 days) */
#define ALSA_IN_MAX 4096        /* input events per period, with those carried to the next */
#define ALSA_RAW_MAX 16         /* bytes kept of an event that is no MIDI message (its class stays the same) */
#define ALSA_NOTICES 256        /* announcements waiting for the connector thread */
#define ALSA_PEERS 128          /* connections the connector keeps track of */
#define ALSA_REPORT_MS 1000     /* the connector logs new late periods and overruns at most this often */
#define ACNT(p, f) atomic_fetch_add_explicit(&(p)->f, 1, memory_order_relaxed)

/* An input event as rt_input will see it: raw MIDI bytes at a frame. */
struct alsa_in {
	uint64_t frame;
	uint8_t len;
	uint8_t data[ALSA_RAW_MAX];
};

/* I/O thread -> connector: one System:Announce event. */
struct alsa_notice {
	int type;
	snd_seq_addr_t a, b;    /* PORT_* / CLIENT_*: a; PORT_(UN)SUBSCRIBED: sender a, dest b */
};

struct alsa_counters {
	_Atomic uint64_t periods, late, overruns, dropped, out_errors, errors, notices_lost;
	_Atomic uint64_t wake_max;      /* us: the I/O thread's worst wake-up after its time (written by it alone) */
	_Atomic uint64_t late_last;     /* the latest late period, one word so that the two never mix: its first
	                                 * frame << ALSA_LATE_BITS | how far past it we were (frames, clamped) */
	_Atomic uint64_t late_events;   /* events scheduled for a time already past when written: they left late */
};

struct alsa_priv {
	snd_seq_t *seq;
	int client, in_port, out_port, ann_port, queue;
	char client_name[CFG_NAME_MAX], in_name[CFG_NAME_MAX], out_name[CFG_NAME_MAX];
	const char *timer;              /* "HR timer" or "system timer" (what we asked for) */

	/* I/O thread */
	pthread_t io, conn;
	int io_started, conn_started, io_rt;
	_Atomic int stop;
	snd_seq_queue_status_t *qstat;
	uint64_t frame0;                /* the next period's first frame */
	uint64_t now;                   /* queue time at which the current period is computed (0: outside one) */
	int n_in;                       /* input events waiting (this period's and carried ones) */
	int sx_open, sx_bad;            /* a SysEx that goes on in the next SYSEX event; a data byte >= 0x80 */
	uint8_t on[16][128];            /* note state after every event scheduled so far */
	uint64_t off_at[16][128];       /* 1 + frame of the last note-off scheduled (0: none) */
	struct alsa_in in[ALSA_IN_MAX];

	/* connector thread (and the main thread's connect op, under lock) */
	struct ring notices;            /* struct alsa_notice, I/O thread -> connector */
	sem_t wake;
	int have_ring, have_sem, have_lock;
	pthread_mutex_t lock;
	regex_t re_in[CFG_MAX_PATTERNS], re_out[CFG_MAX_PATTERNS];
	int n_re_in, n_re_out;
	snd_seq_addr_t peer[ALSA_PEERS];        /* ports connected to ours */
	int n_peer;
	uint64_t disconnects;
	uint64_t seen_late, seen_overruns, seen_dropped, seen_errors, seen_lost;

	struct alsa_counters cnt;
};

/* Logs what the I/O thread counted since the last look. */
void alsa_conn_report(struct alsa_priv *p);
/* The connector thread: announcements from the I/O thread -> subscriptions, disconnections, reports. */
void *alsa_conn_main(void *arg);
/* Frees n compiled patterns. */
void alsa_conn_free_patterns(regex_t *re, int n);
/* The connect op: compiles the configuration's patterns and connects every port that matches now. */
void alsa_conn_cfg(struct backend *b, const struct cfg *c);

#endif
