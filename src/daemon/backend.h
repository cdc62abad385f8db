/* SPDX-License-Identifier: GPL-3.0-or-later */
/* backend.h: MIDI I/O behind one interface (JACK, ALSA sequencer, null). A backend owns the real-time thread and
 * calls rt_begin / rt_input / rt_end once per period. */
#ifndef MVD_BACKEND_H
#define MVD_BACKEND_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "rt.h"

struct backend;

struct backend_ops {
	const char *name;
	/* Connects to the server and creates the ports (not yet running); sets rate and period. */
	int (*open)(struct backend *b, const struct cfg *c, char *err, size_t errlen);
	/* Starts calling the rt functions and connects the configured ports. */
	int (*start)(struct backend *b, struct rt *rt, char *err, size_t errlen);
	/* Re-applies the auto-connect patterns of c (after a reload). */
	void (*connect)(struct backend *b, const struct cfg *c);
	/* Stops the real-time thread and disconnects. Safe after a failed open or a lost server. */
	void (*close)(struct backend *b);
};

struct backend {
	const struct backend_ops *ops;
	struct rt *rt;
	double rate;            /* frames per second */
	uint32_t period;        /* frames per period (may change) */
	_Atomic int lost;       /* the server went away: the main loop closes and reopens */
	_Atomic int ports_changed;      /* a port appeared: the main loop applies the connect patterns again */
	_Atomic uint64_t xruns; /* the server's xruns (JACK) */
	void *priv;
};

extern const struct backend_ops backend_jack_ops;
extern const struct backend_ops backend_alsa_ops;
extern const struct backend_ops backend_null_ops;

/* The operations for the configured backend type; NULL with err if it is not built in. */
const struct backend_ops *backend_lookup(int type, char *err, size_t errlen);

#endif
