/* SPDX-License-Identifier: GPL-3.0-or-later */
/* capture.c: note-ons and note-offs with fractional clock positions -> notes on the step grid. */
#include <math.h>
#include <string.h>

#include "capture.h"

void
capture_reset(struct capture *c, int drums)
{
	memset(c, 0, sizeof *c);
	c->drums = drums;
}

static int64_t
capture_round(double pos)
{
	return (int64_t)floor(pos + 0.5);
}

void
capture_add(struct capture *c, const struct rt_in *in)
{
	int64_t step;

	if (in->pos < 0.0) {
		c->unplaced++;
		return;
	}
	step = capture_round(in->pos);
	c->last_frame = in->frame;
	if (in->status == 0x90) {
		if (c->n == CAPTURE_MAX_NOTES) {
			c->overflow++;
			return;
		}
		c->notes[c->n++] = (struct capture_note){ step, -1, in->pitch, in->velocity };
		return;
	}
	for (int i = c->n - 1; i >= 0; i--)
		if (c->notes[i].pitch == in->pitch && c->notes[i].end < 0) {
			c->notes[i].end = step > c->notes[i].start ? step : c->notes[i].start + 1;
			return;
		}
}

void
capture_forget_before(struct capture *c, int64_t step)
{
	int kept = 0;

	for (int i = 0; i < c->n; i++)
		if (c->notes[i].start >= step || c->notes[i].end < 0)
			c->notes[kept++] = c->notes[i];
	c->n = kept;
}

int
capture_held(const struct capture *c)
{
	int n = 0;

	for (int i = 0; i < c->n; i++)
		n += c->notes[i].end < 0;
	return n;
}

int64_t
capture_first_step(const struct capture *c)
{
	int64_t s = -1;

	for (int i = 0; i < c->n; i++)
		if (s < 0 || c->notes[i].start < s)
			s = c->notes[i].start;
	return s;
}

int64_t
capture_last_step(const struct capture *c)
{
	int64_t s = -1;

	for (int i = 0; i < c->n; i++)
		if (c->notes[i].start > s)
			s = c->notes[i].start;
	return s;
}

void
capture_window(const struct capture *c, int64_t start, int nsteps, struct seq *out)
{
	seq_clear(out);
	out->steps_per_quarter = 4;
	out->qpm = 120.0;
	out->total_steps = nsteps;
	out->total_time = nsteps * 60.0 / (out->qpm * 4);
	for (int i = 0; i < c->n; i++) {
		const struct capture_note *cn = &c->notes[i];
		struct note n;
		if (cn->start < start || cn->start >= start + nsteps)
			continue;
		memset(&n, 0, sizeof n);
		n.pitch = cn->pitch;
		n.velocity = cn->velocity;
		n.is_drum = c->drums;
		n.start = (int)(cn->start - start);
		n.end = cn->end < 0 || cn->end > start + nsteps ? nsteps : (int)(cn->end - start);
		n.start_time = n.start * 0.125;
		n.end_time = n.end * 0.125;
		seq_add(out, &n);
	}
}
