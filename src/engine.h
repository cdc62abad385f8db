/* SPDX-License-Identifier: GPL-3.0-or-later */
/* engine.h: the inference worker: captures phrases, runs the model, and keeps the RT thread's bar queue
 * filled ahead of the clock in the current mode (generate, continue, morph). */
#ifndef MVD_ENGINE_H
#define MVD_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "capture.h"
#include "cfg.h"
#include "model.h"
#include "rng.h"
#include "rt.h"

#define ENGINE_MAX_REQ 32
#define ENGINE_SLOTS 2

enum engine_req_type {
	ENGINE_REQ_MODE,        /* value: enum cfg_mode */
	ENGINE_REQ_CFG,         /* apply a new configuration's run-time settings (*cfg) */
	ENGINE_REQ_MODEL,       /* swap in *model (the engine frees the old one) */
	ENGINE_REQ_QUIT,        /* notes off, stop the thread */
};

struct engine_req {
	int type;
	int value;
	struct cfg *cfg;        /* owned by the engine once queued */
	struct model *model;    /* owned by the engine once queued */
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
	float *z, *zprev;       /* [Z] */
	float *slot[ENGINE_SLOTS];      /* morph ends A and B */
	float *ctrl;            /* [T, C] controls, or NULL */
	float *rows;            /* [T, out_depth] */
	float *attr;            /* [n_attrs, Z] attribute vectors */
	int morph_window;       /* morph: windows done in this direction */
	int morph_dir;
	struct capture cap;
	int listen;             /* enum engine_listen */
	int64_t answer_end;     /* first bar after the answer */
	struct seq phrase, out;
	struct engine_counters cnt;
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

#endif
