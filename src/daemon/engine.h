/* SPDX-License-Identifier: GPL-3.0-or-later */
/* engine.h: the inference worker: captures phrases, runs the model, and keeps the RT thread's bar queue
 * filled ahead of the clock in the current mode (generate, continue, morph). */
#ifndef MVD_ENGINE_H
#define MVD_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "buf.h"
#include "cand.h"
#include "capture.h"
#include "cfg.h"
#include "model.h"
#include "proto.h"
#include "rng.h"
#include "rt.h"

#define ENGINE_MAX_REQ 256      /* > control.max_clients: each client has at most one request in flight */
#define ENGINE_SLOTS PROTO_SLOTS
#define ENGINE_MAX_ATTRS 32     /* attribute vectors of one model */
#define ENGINE_HISTORY 8        /* bars of notes in and out kept for `bars` */
#define ENGINE_HISTORY_NOTES 128
#define ENGINE_MAX_ANSWER 64    /* windows of one answer */

enum engine_req_type {
	ENGINE_REQ_MODE,        /* value: enum cfg_mode */
	ENGINE_REQ_CFG,         /* apply a new configuration's run-time settings (*cfg) */
	ENGINE_REQ_MODEL,       /* swap in *model (the engine frees the old one) */
	ENGINE_REQ_QUIT,        /* notes off, stop the thread */
	ENGINE_REQ_CTL,         /* run *ctl (control socket commands) and hand it back through the done queue */
};

/* A control command list on its way through the engine: the main thread parses and reads files, the engine
 * checks every command against its state, applies all of them at one bar boundary (or none) and writes the
 * reply; the main thread sends it and frees the request. */
struct engine_ctl {
	uint64_t id;                    /* control connection */
	int n, list_ok;
	struct proto_cmd cmd[PROTO_LIST_MAX];
	struct seq *seq[PROTO_LIST_MAX];       /* load: the file's notes (owned) */
	float *z[PROTO_LIST_MAX];              /* slot load: the vector read (owned); nz: its length */
	int nz[PROTO_LIST_MAX];
	char *path[PROTO_LIST_MAX];            /* slot save: where to write (owned) */
	struct model *model;                    /* model: loaded by the main thread (owned until applied) */
	int64_t applied_bar;                    /* the first bar the change is heard in (-1: not a change) */
	struct buf reply;                       /* text sent to the client, ends in OK or an ACK line */
	struct engine_ctl *next;
};

struct engine_req {
	int type;
	int value;
	struct cfg *cfg;        /* owned by the engine once queued */
	struct model *model;    /* owned by the engine once queued */
	struct engine_ctl *ctl; /* owned by the engine until it is in the done queue */
};

/* Notes of one bar, in and out, for `bars` and musicvaectl watch. */
struct engine_hist_note {
	uint8_t step, pitch, len, velocity;
};
struct engine_hist {
	int64_t bar;            /* -1: empty */
	int n_in, n_out;
	struct engine_hist_note in[ENGINE_HISTORY_NOTES], out[ENGINE_HISTORY_NOTES];
};

/* Counters for the status report (engine thread writes, others read). */
struct engine_counters {
	_Atomic uint64_t windows;       /* model windows decoded */
	_Atomic uint64_t phrases;       /* phrases captured and encoded (continue) */
	_Atomic uint64_t bars_queued;
	_Atomic uint64_t resyncs;       /* the clock jumped away from the queued bars */
	_Atomic uint64_t encode_errors; /* phrases the converter refused */
	_Atomic uint64_t decode_us_last;
	_Atomic uint64_t decode_us_max;
	_Atomic uint64_t ctl_commands;  /* control commands applied */
	_Atomic uint64_t replaces;      /* queued bars re-decoded after a change */
	_Atomic uint64_t loops;         /* the thread's heartbeat (the watchdog checks it moves) */
};

enum engine_listen { ENGINE_LISTENING, ENGINE_ANSWERING };

struct engine {
	struct rt *rt;
	struct model *model;
	struct cfg cfg;
	pthread_t thread;
	int thread_started;
	pthread_mutex_t lock;   /* guards the request queue only */
	struct engine_req req[ENGINE_MAX_REQ];
	int n_req;
	_Atomic int quit;
	_Atomic int mode;       /* enum cfg_mode, readable by others */

	/* engine thread only */
	struct rng rng;
	uint64_t seed;          /* cfg seed, or the start time */
	uint64_t window_seed;   /* sampling stream of the window being decoded */
	uint32_t epoch;
	int started;            /* internal clock: transport started */
	int was_running;        /* transport state at the last tick */
	uint32_t resets;        /* rt resets seen */
	int64_t next_bar;       /* first bar not queued yet */
	int64_t queued_from;    /* first bar of this epoch's queue */
	int64_t cue_bar;        /* stopped (generate, morph): the bar a Continue resumes in, as queued ... */
	uint32_t cue_epoch;     /* ... in this epoch (a flush since then: queue again) */
	int64_t start_end;      /* stopped: bars [0, start_end) are queued ahead of cue_bar's for a Start (0: none) */
	float *z, *zprev;       /* [Z] */
	int zdim;               /* Z of the buffers */
	float *slot[ENGINE_SLOTS];      /* latent slots A..H; morph goes from morph_a to morph_b */
	char slot_src[ENGINE_SLOTS][80];/* where each slot's z came from */
	int morph_a, morph_b;
	int64_t morph_from;     /* bar the morph's first window plays at */
	float *ctrl;            /* [T, C] controls, or NULL */
	float *rows;            /* [T, out_depth] */
	int n_attr;             /* the model's attribute vectors (attributes.json) */
	char attr_name[ENGINE_MAX_ATTRS][64];
	float attr_amount[ENGINE_MAX_ATTRS];
	float *attr;            /* [n_attr, Z] */
	char chords[PROTO_MAX_CHORDS][16];      /* the chord progression given by `chords` */
	int n_chords;
	int key;                /* `key`, -1 = none (C for key-conditioned models) */
	struct capture cap;
	int listen;             /* enum engine_listen */
	int64_t answer_end;     /* first bar after the answer */
	int64_t answer_bar0;    /* first bar of the answer */
	int answer_windows;
	float *answer_z;        /* [ENGINE_MAX_ANSWER, Z]: each answer window's z before attributes */
	float *cand_z;          /* [CAND_MAX, Z]: the candidates of one answer window, attributes added */
	float *cand_rows;       /* [CAND_MAX, T, out_depth]: their decodes */
	struct seq cand_seq;    /* one candidate's notes, for its score */
	int cand_pick;          /* candidate played in the last answer window, and its score (-1: none) */
	double cand_total;
	uint64_t answer_seed[ENGINE_MAX_ANSWER];
	struct seq phrase, out, last_phrase;
	int64_t last_bar;       /* the bar the clock was in at the last tick (bar events) */
	struct engine_hist hist[ENGINE_HISTORY];
	int64_t in_start[128];  /* player's sounding notes: start position x 16 (steps x 16), -1 = off */
	uint8_t in_vel[128];
	struct engine_counters cnt;

	/* the control socket's side: replies and change events back to the main thread */
	pthread_mutex_t done_lock;
	struct engine_ctl *done_head, *done_tail;
	_Atomic unsigned changed;       /* enum proto_subsystem bits since the main thread last looked */
	int event_fd;                   /* eventfd the main loop polls: a reply is done or something changed */
};

/* Takes ownership of *model; cfg is copied. Starts nothing yet. Returns -1 with err. */
int engine_init(struct engine *e, struct rt *rt, struct model *model, const struct cfg *cfg, char *err,
    size_t errlen);
/* Starts the worker thread. */
int engine_start(struct engine *e);
/* Queues a request (any thread); returns -1 when the queue is full. */
int engine_request(struct engine *e, const struct engine_req *r);
/* Asks the thread to send note-offs and stop, joins it, frees everything. */
void engine_fini(struct engine *e);
/* The eventfd to poll: readable when a control reply is done or a subsystem changed. */
int engine_event_fd(const struct engine *e);
/* Clears the eventfd and returns the subsystems that changed since the last call (enum proto_subsystem bits). */
unsigned engine_changes(struct engine *e);
/* Hands a finished control request back (NULL when none is waiting); the caller frees it with engine_ctl_free. */
struct engine_ctl *engine_ctl_done(struct engine *e);
/* Frees a control request and everything it owns. */
void engine_ctl_free(struct engine_ctl *c);

/* engine_ctl.c: runs a control request on the engine thread (checks all, applies all or none, replies). */
void engine_ctl_run(struct engine *e, struct engine_ctl *c);
/* engine.c and engine_setup.c helpers engine_ctl.c uses (engine thread only). */
/* The first bar a change made now can be heard from without a late bar: the next window start (generate,
 * morph) or bar line (continue, answers), at least 2 x the longest decode + 2 periods ahead. */
int64_t engine_boundary(struct engine *e);
/* Re-decodes what is queued from from_bar on (a new epoch that replaces only those bars). */
void engine_replace(struct engine *e, int64_t from_bar);
/* Switches the mode from from_bar on; what plays before it is untouched. */
void engine_set_mode_at(struct engine *e, int mode, int64_t from_bar);
/* Internal clock: the tempo changes at the first tick of from_bar. */
void engine_tempo_at(struct engine *e, double bpm, int64_t from_bar);
/* Swaps in md (owned from now on) from from_bar on; the clock keeps running. */
void engine_swap_model(struct engine *e, struct model *md, int64_t from_bar);
/* Every note off now; the queue starts again at the next bar. */
void engine_panic(struct engine *e);
/* Morph position (0 = slot A, 1 = slot B) of the window that plays at bar. */
double engine_morph_position(const struct engine *e, int64_t bar);
/* Drops the notes the model cannot take (melody: pitch range) from s. */
void engine_fit_notes(const struct engine *e, struct seq *s);
/* Control rows [T, C] for the given chords and key (NULL *out for an unconditioned model). */
int engine_build_controls(struct engine *e, int n_chords, const char (*chords)[16], int key, float **out,
    char *err, size_t len);
/* Notes the main thread (the control socket's idle) of changed subsystems. */
void engine_changed(struct engine *e, unsigned mask);
/* engine_setup.c functions the others use (engine thread only, or before it starts). */
/* Bars per decoded window (the model's steps / 16). */
int engine_bars_per_window(const struct engine *e);
/* (Re)loads the attribute vectors; keep: amounts already set for a name the new file also has stay. */
int engine_load_attrs(struct engine *e, int keep, char *err, size_t len);
/* (Re)allocates everything sized by the model (keep: a model swap or reload). */
int engine_buffers(struct engine *e, int keep, char *err, size_t len);
/* engine.c helpers engine_change.c uses (engine thread only). */
/* A new epoch: the RT thread silences everything and drops queued bars; we queue again from bar. */
void engine_flush(struct engine *e, int64_t bar);
/* generate and morph: keeps bars queued up to lookahead bars past bar cur. */
void engine_fill(struct engine *e, int64_t cur, int mode);
/* Decodes answer window w (its z kept in answer_z) and queues it. */
int engine_answer_window(struct engine *e, int w);
/* engine_change.c functions engine.c uses (engine thread only). */
/* Forgets the notes kept for bars from `from` on (they are queued again). */
void engine_hist_drop_from(struct engine *e, int64_t from);
/* A new epoch that replaces the queued bars from `from` on; the ones before it play as queued. */
void engine_epoch_from(struct engine *e, int64_t from);
/* Immediate mode change (SIGHUP reload): a flush, queued again from the next bar. */
void engine_set_mode(struct engine *e, int mode);
/* A reloaded configuration (c is owned from now on): run-time settings take effect at the next window. */
void engine_set_cfg(struct engine *e, struct cfg *c);
/* SIGHUP with a new model path: md (owned from now on) at once, a flush, queued again from the next bar. */
void engine_set_model(struct engine *e, struct model *md);

#endif
