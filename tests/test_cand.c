/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test_cand.c: the answer candidates' score on hand-made phrases (each part checked against its definition
 * in docs/candidates.md) and the latent vectors around an answer's z. */
#include <math.h>
#include <string.h>

#include "cand.h"
#include "tap.h"

/* Appends notes (pitch, start step, length) to s. */
static void
add(struct seq *s, int drum, int n, const int (*notes)[3])
{
	for (int i = 0; i < n; i++) {
		struct note x = { .pitch = notes[i][0], .start = notes[i][1], .end = notes[i][1] + notes[i][2],
		    .velocity = 80, .is_drum = drum };
		seq_add(s, &x);
	}
}

static void
mkseq(struct seq *s)
{
	seq_init(s);
	s->steps_per_quarter = 4;
	s->total_steps = 32;
}

int
main(void)
{
	/* examples/phrase-a's notes: C D E G C B G A G F E C over two bars */
	static const int phrase[][3] = { { 60, 0, 2 }, { 62, 2, 2 }, { 64, 4, 2 }, { 67, 6, 2 }, { 72, 8, 4 },
	    { 71, 12, 4 }, { 67, 16, 2 }, { 69, 18, 2 }, { 67, 20, 2 }, { 65, 22, 2 }, { 64, 24, 4 }, { 60, 28, 4 } };
	/* same rhythm, same key, other notes: an answer */
	static const int answer[][3] = { { 64, 0, 2 }, { 65, 2, 2 }, { 67, 4, 2 }, { 72, 6, 2 }, { 71, 8, 4 },
	    { 67, 12, 4 }, { 64, 16, 2 }, { 62, 18, 2 }, { 60, 20, 2 }, { 62, 22, 2 }, { 64, 24, 4 }, { 67, 28, 4 } };
	/* chromatic cluster in F#, off the phrase's steps */
	static const int far[][3] = { { 66, 1, 1 }, { 61, 3, 1 }, { 63, 5, 1 }, { 66, 9, 1 }, { 70, 11, 1 },
	    { 68, 13, 1 }, { 66, 15, 1 }, { 61, 17, 1 } };
	/* the collapse issue 15 describes: C, then G nine times, then C C */
	static const int collapse[][3] = { { 60, 0, 2 }, { 67, 2, 2 }, { 67, 4, 2 }, { 67, 6, 2 }, { 67, 8, 2 },
	    { 67, 10, 2 }, { 67, 12, 2 }, { 67, 14, 2 }, { 67, 16, 2 }, { 67, 18, 2 }, { 60, 24, 4 }, { 60, 28, 4 } };
	struct seq p, c;
	struct cand_score s, t;
	double totals[4];
	float z[3] = { 0.5f, -1.0f, 2.0f }, out[4 * 3];
	struct rng r;
	int moved = 1;

	plan(17);
	mkseq(&p);
	mkseq(&c);
	add(&p, 0, 12, phrase);

	/* a copy: perfect key and rhythm, full penalty */
	add(&c, 0, 12, phrase);
	cand_score(&p, &c, 32, 0, &s);
	is_float(s.key, 1.0, 1e-12, "copy: pitch-class histograms correlate 1");
	is_float(s.rhythm, 1.0, 1e-12, "copy: onset-step F1 1");
	is_float(s.copy, 1.0, 1e-12, "copy: every note on a phrase note's pitch and step");
	is_float(s.total, 2.0 - CAND_COPY_WEIGHT, 1e-12, "copy: total = key + rhythm - %g", CAND_COPY_WEIGHT);
	totals[0] = s.total;

	/* the answer: same rhythm, same scale, 1 of 12 notes copied (E at 24, below the tolerated share) */
	seq_clear(&c);
	add(&c, 0, 12, answer);
	cand_score(&p, &c, 32, 0, &t);
	is_float(t.rhythm, 1.0, 1e-12, "answer: same onset steps, F1 1");
	is_float(t.copy, 1.0 / 12.0, 1e-12, "answer: 1 of 12 notes copied (E at step 24)");
	is_float(t.copy_penalty, 0.0, 0, "answer: below %g copied, no penalty", CAND_COPY_MAX);
	ok(t.key > 0.5, "answer: same key, histograms correlate (%.3f)", t.key);
	totals[1] = t.total;

	/* far: another key, other steps */
	seq_clear(&c);
	add(&c, 0, 8, far);
	cand_score(&p, &c, 32, 0, &s);
	ok(s.key < 0.0, "far: F# cluster against C major correlates negatively (%.3f)", s.key);
	is_float(s.rhythm, 0.0, 0, "far: no shared onset step, F1 0");
	totals[2] = s.total;

	/* the collapse: rhythm mostly kept, key weakly, few copies */
	seq_clear(&c);
	add(&c, 0, 12, collapse);
	cand_score(&p, &c, 32, 0, &s);
	is_float(s.rhythm, 2.0 * 10 / 24, 1e-12, "collapse: 10 of its 12 onset steps shared, F1 20/24");
	ok(s.total < t.total, "the answer (%.3f) beats the collapse (%.3f)", t.total, s.total);
	totals[3] = s.total;
	is_int(cand_best(totals, 4), 1, "cand_best picks the answer over the copy, far and collapse");

	/* no notes: below anything with notes; onsets are taken modulo the window */
	seq_clear(&c);
	is_float(cand_score(&p, &c, 32, 0, &s), CAND_EMPTY, 0, "a silent candidate scores %g", CAND_EMPTY);
	{
		static const int shifted[][3] = { { 36, 32, 1 }, { 38, 36, 1 } }, kit[][3] = { { 36, 0, 1 }, { 38, 4, 1 } };
		struct seq d;
		mkseq(&d);
		add(&d, 1, 2, kit);
		add(&c, 1, 2, shifted);
		cand_score(&d, &c, 32, 1, &s);
		ok(s.rhythm == 1.0 && s.copy == 1.0 && fabs(s.key - 1.0) < 1e-12,
		    "drums: steps modulo the window, histograms over drum pitches");
		seq_fini(&d);
	}

	/* perturbations: row 0 is z itself, the others move by about CAND_SPREAD per component */
	rng_seed(&r, 9);
	cand_perturb(&r, 3, z, 4, CAND_SPREAD, out);
	ok(memcmp(out, z, sizeof z) == 0, "candidate 0 is the answer's z itself");
	for (int b = 1; b < 4; b++)
		moved &= memcmp(out + 3 * b, z, sizeof z) != 0 && fabsf(out[3 * b] - z[0]) < 10 * CAND_SPREAD;
	ok(moved, "candidates 1..3 are near z but not z");
	seq_fini(&p);
	seq_fini(&c);
	return done_testing();
}
