/* SPDX-License-Identifier: GPL-3.0-or-later */
/* gen_groove.c: MIDI drum files whose velocities and micro-timing are known, for tests/test_train_groove.sh.
 * `gen_groove DIR N BARS SEED` writes DIR/gNNN.mid: each file a drummer with one feel (straight, swung or laid
 * back) and one tempo; per hit a velocity and an offset set by its class, its place in the bar and the feel,
 * plus a little noise (sd 3 velocity, 0.02 step). A model that hears the feel reconstructs both far better than
 * predicting the mean; `gen_groove --tempo-change FILE` writes one file whose tempo changes (dataset refuses it).
 * A fifth argument `roland` plays the hi-hats on their edges (22, 26) as the Groove MIDI Dataset's kit does. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "seq.h"
#include "smf.h"

enum { KICK = 36, SNARE = 38, HAT = 42, OPEN_HAT = 46, CRASH = 49 };

static struct rng r;
static int hat = HAT, open_hat = OPEN_HAT;

static int
add(struct seq *s, int pitch, double step, double vel, double step_sec)
{
	struct note n = { 0 };
	int v = (int)lrint(vel + 3.0 * rng_normal(&r));

	n.pitch = pitch;
	n.velocity = v < 1 ? 1 : v > 127 ? 127 : v;
	n.is_drum = 1;
	n.instrument = 0;
	step += 0.02 * rng_normal(&r);
	n.start_time = step < 0.0 ? 0.0 : step * step_sec;
	n.end_time = n.start_time + 0.5 * step_sec;
	return seq_add(s, &n);
}

/* One file: feel 0 straight, 1 swung (off-beat 8ths and 16ths late), 2 laid back (snare late, kick early). */
static int
one_file(const char *path, int bars, int feel, double qpm, int sixteenths)
{
	struct seq s;
	double step_sec = 60.0 / qpm / 4.0;
	char err[256];
	int rc = 0;

	seq_init(&s);
	s.qpm = qpm;
	for (int b = 0; b < bars && rc == 0; b++) {
		double o = 16.0 * b;
		if (b % 4 == 0 && rng_uniform(&r) < 0.5)
			rc |= add(&s, CRASH, o, 115, step_sec);
		for (int t = 0; t < 16; t++) {
			double late = 0.0;
			if (feel == 1)
				late = t % 4 == 2 ? 0.30 : t % 2 == 1 ? 0.15 : 0.0;
			if (t == 0 || t == 8 || ((t == 3 || t == 6 || t == 10 || t == 14) && rng_uniform(&r) < 0.3))
				rc |= add(&s, KICK, o + t + (feel == 2 ? -0.08 : 0.0) + late, t % 8 == 0 ? 105 : 80,
				    step_sec);
			if (t == 4 || t == 12)
				rc |= add(&s, SNARE, o + t + (feel == 2 ? 0.22 : 0.03), 112, step_sec);
			else if (t % 2 == 1 && rng_uniform(&r) < 0.25)
				rc |= add(&s, SNARE, o + t + late, 35, step_sec);      /* ghost note */
			if (t % 2 == 0 || sixteenths) {
				int open = t == 14 && rng_uniform(&r) < 0.3;
				rc |= add(&s, open ? open_hat : hat, o + t + late, t % 4 == 0 ? 96 : t % 2 == 0 ? 64 : 44,
				    step_sec);
			}
		}
	}
	s.total_time = 16.0 * bars * step_sec;
	if (rc == 0 && smf_write(path, &s, err, sizeof err) < 0) {
		fprintf(stderr, "gen_groove: %s\n", err);
		rc = -1;
	}
	seq_fini(&s);
	return rc;
}

/* Two bars of beats at 120 qpm with a second tempo event at bar 1. */
static int
tempo_change_file(const char *path)
{
	static const unsigned char head[] = { 'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 0, 0, 1, 0, 96 };
	unsigned char trk[256];
	size_t n = 0;
	FILE *f;

	trk[n++] = 0, trk[n++] = 0xff, trk[n++] = 0x51, trk[n++] = 3;
	trk[n++] = 0x07, trk[n++] = 0xa1, trk[n++] = 0x20;                     /* 500000 us: 120 qpm */
	for (int i = 0; i < 16; i++) {
		trk[n++] = 0, trk[n++] = 0x99, trk[n++] = KICK, trk[n++] = 100;
		trk[n++] = 48, trk[n++] = 0x89, trk[n++] = KICK, trk[n++] = 0;
		if (i == 8)
			trk[n++] = 0, trk[n++] = 0xff, trk[n++] = 0x51, trk[n++] = 3,
			trk[n++] = 0x06, trk[n++] = 0x1a, trk[n++] = 0x80;          /* 400000 us: 150 qpm */
	}
	trk[n++] = 0, trk[n++] = 0xff, trk[n++] = 0x2f, trk[n++] = 0;
	if ((f = fopen(path, "wb")) == NULL)
		return -1;
	fwrite(head, 1, sizeof head, f);
	fputs("MTrk", f);
	fputc(0, f), fputc(0, f), fputc((int)(n >> 8), f), fputc((int)(n & 255), f);
	fwrite(trk, 1, n, f);
	return fclose(f);
}

int
main(int argc, char **argv)
{
	char path[4096];
	int n, bars;

	if (argc == 3 && strcmp(argv[1], "--tempo-change") == 0)
		return tempo_change_file(argv[2]) == 0 ? 0 : 1;
	if (argc < 5 || argc > 6 || (n = atoi(argv[2])) < 1 || (bars = atoi(argv[3])) < 1 ||
	    (argc == 6 && strcmp(argv[5], "roland") != 0)) {
		fprintf(stderr, "usage: gen_groove DIR N BARS SEED [roland] | --tempo-change FILE\n");
		return 2;
	}
	if (argc == 6)
		hat = 22, open_hat = 26;
	rng_seed(&r, strtoull(argv[4], NULL, 10));
	for (int i = 0; i < n; i++) {
		int feel = i % 3;
		snprintf(path, sizeof path, "%s/g%03d.mid", argv[1], i);
		if (one_file(path, bars, feel, 96.0 + 4.0 * (i % 9), i % 5 == 4) < 0)
			return 1;
	}
	return 0;
}
