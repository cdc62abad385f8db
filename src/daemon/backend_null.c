/* SPDX-License-Identifier: GPL-3.0-or-later */
/* backend_null.c: no MIDI at all: a thread that runs the rt functions on the wall clock at a configured rate
 * and period and discards the output (counted). For tests and for running the engine without a server. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"

struct null_priv {
	pthread_t thread;
	int started;
	_Atomic int stop;
	uint64_t frame0;
};

static int
null_write(void *ctx, uint64_t frame, const uint8_t *data, uint32_t len)
{
	(void)ctx;
	(void)frame;
	(void)data;
	(void)len;
	return 0;
}

static void *
null_main(void *arg)
{
	struct backend *b = arg;
	struct null_priv *p = b->priv;
	struct timespec t;
	long ns = (long)(1e9 * b->period / b->rate);

	clock_gettime(CLOCK_MONOTONIC, &t);
	while (!atomic_load(&p->stop)) {
		rt_begin(b->rt, p->frame0, b->period, null_write, NULL);
		rt_end(b->rt, null_write, NULL);
		p->frame0 += b->period;
		t.tv_nsec += ns;
		while (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
			;
	}
	return NULL;
}

static int
null_open(struct backend *b, const struct cfg *c, char *err, size_t len)
{
	b->priv = calloc(1, sizeof(struct null_priv));
	if (b->priv == NULL) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	b->rate = c->null_rate;
	b->period = (uint32_t)c->null_period;
	return 0;
}

static int
null_start(struct backend *b, struct rt *rt, char *err, size_t len)
{
	struct null_priv *p = b->priv;

	b->rt = rt;
	if (pthread_create(&p->thread, NULL, null_main, b) != 0) {
		snprintf(err, len, "cannot start the null backend's thread");
		return -1;
	}
	p->started = 1;
	return 0;
}

static void
null_connect(struct backend *b, const struct cfg *c)
{
	(void)b;
	(void)c;
}

static void
null_close(struct backend *b)
{
	struct null_priv *p = b->priv;

	if (p == NULL)
		return;
	if (p->started) {
		atomic_store(&p->stop, 1);
		pthread_join(p->thread, NULL);
	}
	free(p);
	b->priv = NULL;
}

const struct backend_ops backend_null_ops = {
	.name = "null",
	.open = null_open,
	.start = null_start,
	.connect = null_connect,
	.close = null_close,
};
