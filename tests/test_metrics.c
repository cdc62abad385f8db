/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_metrics.c: the music metrics of reconstructions (src/train/metrics.c) on small hand-computed windows. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "dataset.h"
#include "metrics.h"
#include "tap.h"

static void
test_melody(void)
{
	/* pitches as tokens: 12, 14, 16 are three note-ons; 1 = note-off, 0 = no event */
	const uint16_t in1[8] = { 12, 0, 1, 12, 0, 14, 0, 16 }, out1[8] = { 12, 0, 0, 14, 0, 14, 1, 0 };
	const uint16_t in2[8] = { 20, 0, 0, 0, 20, 0, 0, 0 }, out2[8] = { 0 };
	struct metrics m, a, b;
	struct metrics_rates r;

	metrics_init(&m, DATASET_MELODY);
	metrics_add(&m, in1, out1, 8);
	metrics_rates(&m, &r);
	is_float(r.acc, 4.0 / 8, 1e-12, "argmax accuracy: 4 of 8 steps equal");
	ok(m.on_in == 4 && m.on_out == 3 && m.on_pitch == 2 && m.on_step == 3, "onsets: 4 in, 3 out, 2 same pitch "
	    "and step, 3 same step (%ld %ld %ld %ld)", m.on_in, m.on_out, m.on_pitch, m.on_step);
	is_float(r.onset_f1, 4.0 / 7, 1e-12, "pitch-and-step onset F1 = 2 * 2 / (4 + 3)");
	is_float(r.onset_step_f1, 6.0 / 7, 1e-12, "onset-step F1 = 2 * 3 / (4 + 3)");
	is_float(r.distinct_ratio, 2.0 / 3, 1e-12, "distinct pitches decode/input = 2 / 3");
	is_float(r.repeat_in, 1.0 / 3, 1e-12, "repeated-pitch share in the input: 1 of 3 successive pairs");
	is_float(r.repeat_out, 1.0 / 2, 1e-12, "in the decode: 1 of 2");
	/* a second window, decoded as silence: sums pool over windows */
	metrics_add(&m, in2, out2, 8);
	metrics_rates(&m, &r);
	is_float(r.acc, 10.0 / 16, 1e-12, "pooled accuracy 10 / 16");
	is_float(r.onset_f1, 4.0 / 9, 1e-12, "pooled onset F1 2 * 2 / (6 + 3)");
	is_float(r.distinct_ratio, 2.0 / 4, 1e-12, "distinct pitches summed over windows: 2 / 4");
	is_float(r.repeat_in, 2.0 / 4, 1e-12, "repeats pooled: 2 of 4 input pairs");
	metrics_init(&a, DATASET_MELODY);
	metrics_init(&b, DATASET_MELODY);
	metrics_add(&a, in1, out1, 8);
	metrics_add(&b, in2, out2, 8);
	metrics_merge(&a, &b);
	ok(memcmp(&a, &m, sizeof a) == 0, "merging two sums = adding both windows to one");
	metrics_init(&a, DATASET_MELODY);
	metrics_add(&a, out2, out2, 8);
	metrics_rates(&a, &r);
	ok(r.acc == 1.0 && isnan(r.onset_f1) && isnan(r.distinct_ratio), "no onsets at all: F1 and ratio undefined "
	    "(NAN), not 0 or 1");
}

static void
test_drums(void)
{
	/* bits: 1 kick, 2 snare, 4 closed hat, 256 ride */
	const uint16_t in[4] = { 1 | 4, 2, 0, 1 | 256 }, out[4] = { 1, 2 | 4, 4, 1 };
	struct metrics m;
	struct metrics_rates r;

	metrics_init(&m, DATASET_DRUMS);
	metrics_add(&m, in, out, 4);
	metrics_rates(&m, &r);
	ok(m.hit_in == 5 && m.hit_out == 5 && m.hit_both == 3, "hits: 5 in, 5 out, 3 on the same (step, class)");
	is_float(r.hit_f1, 0.6, 1e-12, "hit F1 = 2 * 3 / (5 + 5)");
	is_float(r.acc, 0.0, 1e-12, "no step has the same token: accuracy 0 though most hits match");
	ok(r.class_recall[0] == 1.0 && r.class_recall[1] == 1.0 && r.class_recall[2] == 0.0 &&
	    r.class_recall[8] == 0.0, "recall: kick 1, snare 1, closed hat 0, ride 0");
	ok(isnan(r.class_recall[3]) && isnan(r.class_recall[7]), "classes absent from the input: recall undefined");
	ok(strcmp(metrics_drum_class(0), "kick") == 0 && strcmp(metrics_drum_class(8), "ride") == 0,
	    "class names in DrumsConverter order");
}

int
main(void)
{
	plan(19);
	test_melody();
	test_drums();
	return tap_failed != 0 || tap_n != tap_planned;
}
