/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli.c: the offline tool's commands over one loaded model: MIDI in, z and MIDI or JSON out. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "attr.h"
#include "seq_json.h"
#include "attrs.h"
#include "cli.h"
#include "cmd.h"
#include "ctrl.h"
#include "lat.h"
#include "log.h"
#include "model.h"
#include "smf.h"
#include "train.h"

#define CLI_BATCH 8
#define CLI_MAX_RESULTS 4096
#define CLI_INFO_ATTRS 64       /* attribute vectors info lists */
#define CLI_MAX_CHORDS 64
#define CLI_COMMANDS "info, encode, decode, sample, interpolate, similar; train, attributes, dataset"

/* The state one command works on. */
struct cli {
	struct cli_opts *o;
	struct model md;
	float *ctrl;            /* [T, C] or NULL */
	float *attr[CLI_MAX_ATTRS];     /* rows of attr_buf */
	float *attr_buf;
	struct rng rng;
	int Z, T;
};

void
cli_opts_init(struct cli_opts *o)
{
	memset(o, 0, sizeof *o);
	o->temperature = -1.0f;
	o->similarity = 0.8f;
	o->key = -1;
}

void
cli_opts_fini(struct cli_opts *o)
{
	for (int k = 0; k < o->n_attrs; k++)
		free(o->attr_name[k]);
	o->n_attrs = 0;
}

static int
cli_parse_float(const char *what, const char *arg, float lo, float hi, float *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end != '\0' || !(v >= lo && v <= hi)) {
		log_errx("%s: '%s' is not a number in [%g, %g]", what, arg, lo, hi);
		return -1;
	}
	*out = (float)v;
	return 0;
}

static int
cli_parse_int(const char *what, const char *arg, long lo, long hi, long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (errno || end == arg || *end != '\0' || v < lo || v > hi) {
		log_errx("%s: '%s' is not an integer in [%ld, %ld]", what, arg, lo, hi);
		return -1;
	}
	*out = (long)v;
	return 0;
}

static int
cli_opt_attr(struct cli_opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg || o->n_attrs == CLI_MAX_ATTRS) {
		log_errx("--attr: expected NAME=AMOUNT (at most %d), got '%s'", CLI_MAX_ATTRS, arg);
		return -1;
	}
	if (cli_parse_float("--attr", eq + 1, -100.0f, 100.0f, &o->attr_amount[o->n_attrs]) < 0)
		return -1;
	o->attr_name[o->n_attrs++] = strndup(arg, (size_t)(eq - arg));
	return 0;
}

int
cli_opts_set(struct cli_opts *o, int opt, const char *arg)
{
	long v;

	switch (opt) {
	case 'o': o->output = arg; return 0;
	case 't': return cli_parse_float("--temperature", arg, 0.0f, 100.0f, &o->temperature);
	case 's':
		if (cli_parse_int("--seed", arg, 0, 0x7fffffffffffffffL, &v) < 0)
			return -1;
		o->seed = (uint64_t)v;
		o->have_seed = 1;
		return 0;
	case 'n':
		if (cli_parse_int("-n", arg, 1, CLI_MAX_RESULTS, &v) < 0)
			return -1;
		o->n = (int)v;
		return 0;
	case 'S': o->slerp = 1; return 0;
	case 'm': return cli_parse_float("--similarity", arg, 0.0f, 1.0f, &o->similarity);
	case 'b':
		if (cli_parse_int("--bar", arg, 0, 100000, &v) < 0)
			return -1;
		o->bar = (int)v;
		return 0;
	case 'c': o->chords = arg; return 0;
	case 'k':
		if (cli_parse_int("--key", arg, 0, 11, &v) < 0)
			return -1;
		o->key = (int)v;
		return 0;
	case 'A': o->attr_file = arg; return 0;
	case 'a': return cli_opt_attr(o, arg);
	case 'j': o->json = 1; return 0;
	case 'J': o->js_drums = 1; return 0;
	case 'x': o->exact = 1; return 0;
	case 'v': o->verbose = 1; log_init("musicvae", LOG_LEVEL_DEBUG); return 0;
	}
	return -1;
}

/* The model's steps per quarter: the groove codec names it; the others count steps of quantized input, which
 * MIDI gives at 4. */
static int
cli_codec_spq(const struct cli *c)
{
	int spq = c->md.vae.codec.steps_per_quarter;

	return spq > 0 ? spq : SMF_READ_STEPS_PER_QUARTER;
}

/* Keeps the notes the converter can use that start inside the model's window at o->bar, shifted to 0. */
static int
cli_window(struct cli *c, const char *path, struct seq *s)
{
	const struct codec *cd = &c->md.vae.codec;
	int off = c->o->bar * 4 * s->steps_per_quarter, kept = 0, range = 0, other = 0, drums = 0;
	int melodic = codec_is_melody(cd), drummy = codec_is_drums(cd);

	for (size_t i = 0; i < s->n; i++)
		drums += s->notes[i].is_drum;
	for (size_t i = 0; i < s->n; i++) {
		struct note n = s->notes[i];
		if (n.start < off || n.start >= off + c->T)
			continue;
		if ((melodic && n.is_drum) || (drummy && drums > 0 && !n.is_drum)) {
			other++;
			continue;
		}
		if (melodic && (n.pitch < cd->min_pitch || n.pitch > cd->max_pitch)) {
			range++;
			continue;
		}
		n.start -= off;
		n.end -= off;
		n.start_time -= off * 60.0 / (s->qpm * s->steps_per_quarter);
		n.end_time -= off * 60.0 / (s->qpm * s->steps_per_quarter);
		s->notes[kept++] = n;
	}
	s->n = (size_t)kept;
	s->total_steps = c->T;
	s->total_time = c->T * 60.0 / (s->qpm * s->steps_per_quarter);
	if (other)
		log_info("%s: ignored %d %s notes", path, other, melodic ? "drum" : "non-drum");
	if (range)
		log_warnx("%s: dropped %d notes outside the model's pitch range %d..%d", path, range,
		    cd->min_pitch, cd->max_pitch);
	if (kept == 0)
		log_warnx("%s: no usable notes in bars %d..%d: encoding silence", path, c->o->bar,
		    c->o->bar + c->T / (4 * s->steps_per_quarter) - 1);
	return 0;
}

/* 1 when the file's first byte after blanks (and a UTF-8 byte order mark) is '{' or '[': NoteSequence JSON. 0 for
 * anything else, and for a file that cannot be opened (the MIDI reader then says why). */
static int
cli_is_json(const char *path)
{
	FILE *f = fopen(path, "rb");
	int ch = EOF;

	if (f == NULL)
		return 0;
	while ((ch = fgetc(f)) != EOF && (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == 0xef ||
	    ch == 0xbb || ch == 0xbf))
		;
	fclose(f);
	return ch == '{' || ch == '[';
}

/* A NoteSequence as @magenta/music writes it (JSON.stringify), or an array of one (as --json prints). */
static int
cli_read_json(const struct cli *c, const char *path, struct seq *s)
{
	json_error_t je;
	json_t *root;
	char err[512];
	int rc = -1;

	if ((root = json_load_file(path, 0, &je)) == NULL) {
		log_errx("%s:%d:%d: %s", path, je.line, je.column, je.text);
		return -1;
	}
	if (json_is_array(root) && json_array_size(root) != 1)
		log_errx("%s: a JSON array of %zu NoteSequences: give one NoteSequence per file", path,
		    json_array_size(root));
	else if (seq_from_json(s, json_is_array(root) ? json_array_get(root, 0) : root, err, sizeof err) < 0)
		log_errx("%s: %s", path, err);
	else if (s->steps_per_quarter == 0 && seq_quantize(s, cli_codec_spq(c)) < 0)
		log_errx("%s: the notes' times cannot be quantized at %d steps per quarter", path, cli_codec_spq(c));
	else
		rc = 0;
	json_decref(root);
	return rc;
}

/* MIDI or NoteSequence JSON, told apart by content; logs which form was read. */
static int
cli_load_input(struct cli *c, const char *path, struct seq *s)
{
	char err[512];
	int json = cli_is_json(path);

	seq_init(s);
	if (json && cli_read_json(c, path, s) < 0)
		return -1;
	if (!json && smf_read(path, s, err, sizeof err) < 0) {
		log_errx("%s", err);
		return -1;
	}
	log_info("%s: %s, %zu notes", path, json ? "NoteSequence JSON" : "MIDI", s->n);
	return cli_window(c, path, s);
}

/* Says which of --chords / --key the model needs or refuses; returns 0, or 2 (usage) after the message. */
static int
cli_controls_check(const struct cli *c)
{
	const struct ctrl_spec *sp = &c->md.vae.ctrl;
	int bars = c->T / (4 * cli_codec_spq(c));

	if (sp->chords != CTRL_CHORDS_NONE && c->o->chords == NULL)
		log_errx("this model is conditioned on chords: give a progression with --chords \"C G Am F\" "
		    "(spread evenly over its %d bar%s)", bars, bars == 1 ? "" : "s");
	else if (sp->chords == CTRL_CHORDS_NONE && c->o->chords != NULL)
		log_errx("this model takes no chords: leave out --chords");
	else if (sp->condition_on_key && c->o->key < 0)
		log_errx("this model is conditioned on a key: give it with --key K (0 = C .. 11 = B)");
	else if (!sp->condition_on_key && c->o->key >= 0)
		log_errx("this model takes no key: leave out --key");
	else
		return 0;
	return 2;
}

/* Splits o->chords on spaces and builds the control rows the model needs; returns an exit status (0 = ok). */
static int
cli_controls(struct cli *c)
{
	const struct vae *m = &c->md.vae;
	char buf[1024], *chords[CLI_MAX_CHORDS], *save = NULL, err[512];
	int n = 0;

	if (m->ctrl_depth == 0) {
		if (c->o->chords || c->o->key >= 0)
			log_warnx("this model takes no chords or key: --chords/--key ignored");
		return 0;
	}
	if (cli_controls_check(c) != 0)
		return 2;
	if (m->ctrl.n_extra > 0) {
		log_errx("this model needs the control signal '%s' at every step, which musicvae cannot give it",
		    m->ctrl.extra_name[0]);
		return 1;
	}
	snprintf(buf, sizeof buf, "%s", c->o->chords ? c->o->chords : "");
	for (char *t = strtok_r(buf, " ,|", &save); t && n < CLI_MAX_CHORDS; t = strtok_r(NULL, " ,|", &save))
		chords[n++] = t;
	c->ctrl = calloc((size_t)c->T * m->ctrl_depth, sizeof(float));
	if (c->ctrl == NULL ||
	    ctrl_build(&m->ctrl, c->T, (const char *const *)chords, n, c->o->key, NULL, c->ctrl, err,
	    sizeof err) < 0) {
		log_errx("%s%s%s: %s", c->o->chords ? "--chords \"" : "controls", c->o->chords ? c->o->chords : "",
		    c->o->chords ? "\"" : "", c->ctrl ? err : "out of memory");
		return 1;
	}
	return 0;
}

/* Reads the attribute vectors named with --attr (from --attributes or MODEL/attributes.json). */
static int
cli_attributes(struct cli *c, const char *model)
{
	char path[4096], err[1024];
	float *all;

	if (c->o->n_attrs == 0)
		return 0;
	if (c->o->attr_file)
		snprintf(path, sizeof path, "%s", c->o->attr_file);
	else
		snprintf(path, sizeof path, "%s/attributes.json", model);
	all = calloc((size_t)c->o->n_attrs * c->Z, sizeof(float));
	if (all == NULL || attr_load(path, c->Z, c->o->n_attrs, (const char *const *)c->o->attr_name, all, err,
	    sizeof err) < 0) {
		log_errx("%s", all ? err : "out of memory");
		free(all);
		return -1;
	}
	for (int k = 0; k < c->o->n_attrs; k++)
		c->attr[k] = all + (size_t)k * c->Z;
	c->attr_buf = all;
	return 0;
}

static void
cli_apply_attributes(struct cli *c, float *z, int n)
{
	for (int i = 0; i < n; i++)
		lat_add_attributes(c->Z, z + (size_t)i * c->Z, c->o->n_attrs, (const float *const *)c->attr,
		    c->o->attr_amount);
}

static const char *const cli_drum_names[9] = { "kick", "snare", "cl.hat", "op.hat", "lo.tom", "mid.tom",
	"hi.tom", "crash", "ride" };

/* One text line per voice: a pitch name at each onset, '-' while held, '.' at rest; bars split by '|'. */
static void
cli_print_voice(const struct seq *s, int inst, int T)
{
	static const char *const names[12] = { "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B" };
	char cell[8];

	printf("  %-7s", inst == 0 ? "melody" : inst == 1 ? "bass" : "voice");
	for (int t = 0; t < T; t++) {
		const struct note *on = NULL, *held = NULL;
		for (size_t i = 0; i < s->n; i++) {
			const struct note *n = &s->notes[i];
			if (n->is_drum || n->instrument != inst)
				continue;
			if (n->start == t && (on == NULL || n->pitch > on->pitch))
				on = n;
			else if (n->start < t && n->end > t)
				held = n;
		}
		if (t % 16 == 0)
			fputs("|", stdout);
		if (on)
			snprintf(cell, sizeof cell, "%s%d", names[on->pitch % 12], on->pitch / 12 - 1);
		else
			snprintf(cell, sizeof cell, "%s", held ? "-" : ".");
		printf("%-4s", cell);
	}
	puts("|");
}

static void
cli_print_drums(const struct codec *cd, const struct seq *s, int T)
{
	for (int k = CODEC_DRUM_CLASSES - 1; k >= 0; k--) {
		printf("  %-7s", cli_drum_names[k]);
		for (int t = 0; t < T; t++) {
			char mark = t % 4 == 0 ? ':' : '.';
			for (size_t i = 0; i < s->n; i++)
				if (s->notes[i].is_drum && s->notes[i].start == t &&
				    cd->class_of[s->notes[i].pitch & 127] == k)
					mark = 'x';
			printf("%s%c", t % 16 == 0 ? "|" : "", mark);
		}
		puts("|");
	}
}

static void
cli_print_seq(const struct cli *c, const struct seq *s, int idx, const char *label)
{
	int voices[8] = { 0 }, drums = 0;

	printf("%s %d: %zu notes\n", label, idx + 1, s->n);
	for (size_t i = 0; i < s->n; i++) {
		if (s->notes[i].is_drum)
			drums = 1;
		else if (s->notes[i].instrument >= 0 && s->notes[i].instrument < 8)
			voices[s->notes[i].instrument] = 1;
	}
	for (int v = 0; v < 8; v++)
		if (voices[v])
			cli_print_voice(s, v, c->T);
	if (drums)
		cli_print_drums(&c->md.vae.codec, s, c->T);
}

/* Steps per quarter of a decoded sequence: its own, or the codec's when it is not quantized (groove). */
static int
cli_steps_per_quarter(const struct cli *c, const struct seq *s)
{
	return s->steps_per_quarter > 0 ? s->steps_per_quarter : cli_codec_spq(c);
}

/* Adds the attribute offsets to n z, decodes them, prints them (grid or JSON) and writes them one after
 * another to o->output. z NULL means its allocation failed. */
static int
cli_emit(struct cli *c, float *z, int n, float temperature, const char *label)
{
	const struct vae *m = &c->md.vae;
	size_t rowy = (size_t)m->num_steps * m->out_depth;
	float *out = calloc((size_t)n * rowy, sizeof(float));
	struct seq all, s;
	json_t *arr = json_array();
	char err[512];
	int rc = -1;

	seq_init(&all);
	seq_init(&s);
	if (z != NULL)
		cli_apply_attributes(c, z, n);
	if (z == NULL || out == NULL || model_decode(&c->md, z, n, c->ctrl, temperature, rng_next(&c->rng), out, err,
	    sizeof err) < 0) {
		log_errx("decode: %s", z && out ? err : "out of memory");
		goto done;
	}
	for (int i = 0; i < n; i++) {
		double dt;

		if (model_to_seq(&c->md, out + i * rowy, &s, err, sizeof err) < 0) {
			log_errx("result %d: %s", i + 1, err);
			goto done;
		}
		if (c->o->json)
			json_array_append_new(arr, seq_to_json(&s));
		else
			cli_print_seq(c, &s, i, label);
		/* the groove codec's output is not quantized (steps_per_quarter 0): its steps are the codec's */
		dt = (double)i * c->T * 60.0 / (s.qpm * cli_steps_per_quarter(c, &s));
		for (size_t k = 0; k < s.n; k++) {
			struct note nt = s.notes[k];
			nt.start += i * c->T;
			nt.end += i * c->T;
			nt.start_time += dt;
			nt.end_time += dt;
			seq_add(&all, &nt);
		}
		all.qpm = s.qpm;
		all.steps_per_quarter = s.steps_per_quarter;
	}
	all.total_steps = n * c->T;
	all.total_time = all.total_steps * 60.0 / (all.qpm * cli_steps_per_quarter(c, &all));
	if (c->o->json)
		json_dumpf(arr, stdout, JSON_INDENT(1)), putchar('\n');
	if (c->o->output && smf_write(c->o->output, &all, err, sizeof err) < 0) {
		log_errx("%s", err);
		goto done;
	}
	if (c->o->output)
		log_info("wrote %d result%s (%zu notes, %d bars) to %s", n, n > 1 ? "s" : "", all.n,
		    all.total_steps / 16, c->o->output);
	rc = 0;
done:
	json_decref(arr);
	seq_fini(&s);
	seq_fini(&all);
	free(out);
	return rc;
}

static void
cli_print_z_json(const struct cli *c, const float *z, int n, char **names)
{
	json_t *root = json_object(), *zs = json_array(), *files = json_array();

	for (int i = 0; i < n; i++) {
		json_t *v = json_array();
		for (int k = 0; k < c->Z; k++)
			json_array_append_new(v, json_real(z[(size_t)i * c->Z + k]));
		json_array_append_new(zs, v);
		json_array_append_new(files, json_string(names[i]));
	}
	json_object_set_new(root, "inputs", files);
	json_object_set_new(root, "z", zs);
	json_dumpf(root, stdout, JSON_COMPACT | JSON_REAL_PRECISION(9));
	putchar('\n');
	json_decref(root);
}

/* Encodes files into z [n, Z] (allocated); returns n or -1. */
static int
cli_encode_files(struct cli *c, int n, char **paths, float **zout)
{
	struct seq *s = calloc((size_t)n, sizeof *s);
	float *z = calloc((size_t)n * c->Z, sizeof(float));
	char err[512];
	int rc = -1, loaded = 0;

	if (s == NULL || z == NULL)
		goto done;
	for (; loaded < n; loaded++)
		if (cli_load_input(c, paths[loaded], &s[loaded]) < 0) {
			seq_fini(&s[loaded]);
			goto done;
		}
	if (model_encode(&c->md, s, n, c->ctrl, z, err, sizeof err) < 0) {
		log_errx("%s", err);
		goto done;
	}
	*zout = z;
	z = NULL;
	rc = n;
done:
	for (int i = 0; i < loaded; i++)
		seq_fini(&s[i]);
	free(s);
	free(z);
	return rc;
}

/* What the daemon will do with the model: the lines a converted checkpoint's owner needs before playing it. */
static void
cli_info_daemon(struct cli *c, const char *model)
{
	const struct codec *cd = &c->md.vae.codec;
	char path[4200], names[CLI_INFO_ATTRS][ATTR_NAME_MAX], err[512];
	float *v = calloc((size_t)CLI_INFO_ATTRS * c->Z, sizeof(float));
	int n = 0;

	printf("  daemon: model.path = \"%s\"; windows of %d steps (%d bars); plays %s\n", model, cd->num_steps,
	    cd->num_steps / 16, codec_is_drums(cd) ? "drum notes (out_channel 10 for GM drums)" :
	    codec_is_melody(cd) ? "a monophonic line" : "several instruments (channels per part)");
	printf("  continue mode: encodes the %s played on in_channel\n", codec_is_drums(cd) ?
	    "drum hits (GM drum notes)" : codec_is_melody(cd) ? "top line of the notes" : "notes (as one "
	    "non-drum instrument; the converter's other parts stay empty)");
	if (cd->type == CODEC_GROOVE)
		printf("  groove: velocities and micro-timing are played (output.groove_timing scales the timing, 0 = on "
		    "the step); continue mode humanizes a beat played in\n");
	snprintf(path, sizeof path, "%s/attributes.json", model);
	if (v != NULL && access(path, R_OK) == 0 && attr_load_all(path, c->Z, CLI_INFO_ATTRS, names, v, &n, err,
	    sizeof err) == 0) {
		printf("  attributes: %d vectors in attributes.json (", n);
		for (int i = 0; i < n; i++)
			printf("%s%s", i ? ", " : "", names[i]);
		printf(")\n");
	} else if (v != NULL && access(path, R_OK) == 0) {
		printf("  attributes: attributes.json unreadable: %s\n", err);
	} else {
		printf("  attributes: none (the daemon's `attr` commands need them: musicvae attributes %s DATA.ds, "
		    "for melody and drum models)\n", model);
	}
	free(v);
}

static int
cli_cmd_info(struct cli *c, const char *model, int argc, char **argv)
{
	const struct ctrl_spec *sp = &c->md.vae.ctrl;
	char desc[512];

	vae_describe(&c->md.vae, desc, sizeof desc);
	printf("%s: %s\n", model, desc);
	printf("  weights: %zu tensors, %zu bytes stored\n", c->md.vae.ck.n, c->md.vae.ck.stored_bytes);
	if (c->md.vae.ctrl_depth > 0) {
		fputs("  controls:", stdout);   /* what the other commands will ask for */
		if (sp->chords != CTRL_CHORDS_NONE)
			fputs(" chords (--chords \"C G Am F\"; daemon: musicvaectl chords C G Am F)", stdout);
		if (sp->condition_on_key)
			fputs(" key (--key 0..11; daemon: musicvaectl key N)", stdout);
		if (sp->n_extra > 0)
			printf(" signal '%s' (musicvae cannot give it; the daemon plays it as zeros)", sp->extra_name[0]);
		putchar('\n');
	}
	cli_info_daemon(c, model);
	return 0;
}

static int
cli_cmd_encode(struct cli *c, const char *model, int argc, char **argv)
{
	float *z;

	if (argc < 1) {
		log_errx("encode: give one or more MIDI or NoteSequence JSON files");
		return 2;
	}
	if (cli_encode_files(c, argc, argv, &z) < 0)
		return 1;
	cli_print_z_json(c, z, argc, argv);
	free(z);
	return 0;
}

/* z.json: {"z": [[Z numbers]...]}, [[...]...] or one [...]. Returns how many z were read, or -1. */
static int
cli_read_z(struct cli *c, const char *path, float **zout)
{
	json_error_t je;
	json_t *root, *zs;
	float *z = NULL;
	int n = -1, flat;
	size_t count;

	if ((root = json_load_file(path, 0, &je)) == NULL) {
		log_errx("%s:%d:%d: %s", path, je.line, je.column, je.text);
		return -1;
	}
	zs = json_is_object(root) ? json_object_get(root, "z") : root;
	flat = json_is_number(json_array_get(zs, 0));
	count = flat ? 1 : json_array_size(zs);
	if (!json_is_array(zs) || count == 0 || count > CLI_MAX_RESULTS) {
		log_errx("%s: expected {\"z\": [[%d numbers], ...]}", path, c->Z);
		goto out;
	}
	z = calloc(count * c->Z, sizeof(float));
	for (size_t i = 0; z != NULL && i < count; i++) {
		json_t *v = flat ? zs : json_array_get(zs, i);
		if (!json_is_array(v) || (int)json_array_size(v) != c->Z) {
			log_errx("%s: z[%zu]: expected an array of %d numbers (the model's z size)", path, i,
			    c->Z);
			goto out;
		}
		for (int k = 0; k < c->Z; k++) {
			json_t *x = json_array_get(v, k);
			if (!json_is_number(x) || !isfinite(json_number_value(x))) {
				log_errx("%s: z[%zu][%d]: not a finite number", path, i, k);
				goto out;
			}
			z[i * c->Z + k] = (float)json_number_value(x);
		}
	}
	n = (int)count;
	*zout = z;
	z = NULL;
out:
	free(z);
	json_decref(root);
	return n;
}

static float
cli_temperature(const struct cli *c, float dflt)
{
	return c->o->temperature >= 0.0f ? c->o->temperature : dflt;
}

static int
cli_cmd_decode(struct cli *c, const char *model, int argc, char **argv)
{
	float *z;
	int n, rc;

	if (argc < 1) {
		log_errx("decode: give a z.json file (as printed by musicvae encode)");
		return 2;
	}
	if (argc > 1 && c->o->output == NULL)
		c->o->output = argv[1];
	if ((n = cli_read_z(c, argv[0], &z)) < 0)
		return 1;
	rc = cli_emit(c, z, n, cli_temperature(c, 0.0f), "decoded") < 0;
	free(z);
	return rc;
}

static int
cli_cmd_sample(struct cli *c, const char *model, int argc, char **argv)
{
	int n = c->o->n ? c->o->n : 1, rc;
	float *z = calloc((size_t)n * c->Z, sizeof(float));

	if (z == NULL)
		return 1;
	for (int i = 0; i < n; i++)
		lat_sample(&c->rng, c->Z, z + (size_t)i * c->Z);
	rc = cli_emit(c, z, n, cli_temperature(c, 0.5f), "sample") < 0;
	free(z);
	return rc;
}

static int
cli_cmd_interpolate(struct cli *c, const char *model, int argc, char **argv)
{
	int n = c->o->n ? c->o->n : 5, rc;
	float *ends, *z;

	if (argc != 2 || n < 2) {
		log_errx("interpolate: give two MIDI or NoteSequence JSON files and -n of at least 2");
		return 2;
	}
	if (cli_encode_files(c, 2, argv, &ends) < 0)
		return 1;
	z = calloc((size_t)n * c->Z, sizeof(float));
	for (int i = 0; z != NULL && i < n; i++) {
		float t = lat_linspace(n, i);
		if (c->o->slerp)
			lat_slerp(c->Z, ends, ends + c->Z, t, z + (size_t)i * c->Z);
		else
			lat_lerp(c->Z, ends, ends + c->Z, t, z + (size_t)i * c->Z);
	}
	rc = cli_emit(c, z, n, cli_temperature(c, 0.0f), "step") < 0;
	free(ends);
	free(z);
	return rc;
}

static int
cli_cmd_similar(struct cli *c, const char *model, int argc, char **argv)
{
	int n = c->o->n ? c->o->n : 4, rc;
	float *z0, *z;

	if (argc != 1) {
		log_errx("similar: give one MIDI or NoteSequence JSON file");
		return 2;
	}
	if (cli_encode_files(c, 1, argv, &z0) < 0)
		return 1;
	z = calloc((size_t)n * c->Z, sizeof(float));
	for (int i = 0; z != NULL && i < n; i++)
		lat_similar(&c->rng, c->Z, z0, c->o->similarity, z + (size_t)i * c->Z);
	rc = cli_emit(c, z, n, cli_temperature(c, 0.5f), "similar") < 0;
	free(z0);
	free(z);
	return rc;
}

/* The commands that run on a loaded model, for lookup before the model is opened. */
static const struct cli_command {
	const char *name;
	int (*run)(struct cli *c, const char *model, int argc, char **argv);
	int runs_model;         /* needs the controls (--chords, --key) and --attr vectors */
} cli_commands[] = {
	{ "info", cli_cmd_info, 0 },
	{ "encode", cli_cmd_encode, 1 },
	{ "decode", cli_cmd_decode, 1 },
	{ "sample", cli_cmd_sample, 1 },
	{ "interpolate", cli_cmd_interpolate, 1 },
	{ "similar", cli_cmd_similar, 1 },
};

int
cli_tool(int argc, char **argv)
{
	if (argc < 1)
		return -1;
	if (strcmp(argv[0], "train") == 0)
		return cmd_train(argc, argv);
	if (strcmp(argv[0], "attributes") == 0)
		return cmd_attributes(argc, argv);
	if (strcmp(argv[0], "dataset") == 0)
		return cmd_dataset(argc, argv);
	return -1;
}

int
cli_run(struct cli_opts *o, const char *cmd, const char *model, int argc, char **argv)
{
	const struct cli_command *run = NULL;
	struct cli c;
	char err[1024];
	int rc = 1;

	for (size_t i = 0; i < sizeof cli_commands / sizeof cli_commands[0]; i++)
		if (strcmp(cmd, cli_commands[i].name) == 0)
			run = &cli_commands[i];
	if (run == NULL) {
		log_errx("unknown command '%s' (%s)", cmd, CLI_COMMANDS);
		return 2;
	}
	memset(&c, 0, sizeof c);
	c.o = o;
	if (o->exact)
		nn_set_mode(NN_EXACT);
	if (model_open(&c.md, model, CLI_BATCH, err, sizeof err) < 0) {
		log_errx("%s", err);
		return 1;
	}
	c.md.vae.codec.drums_js_shift = o->js_drums;
	c.Z = c.md.vae.z_dim;
	c.T = c.md.vae.num_steps;
	if (!o->have_seed) {
		o->seed = (uint64_t)time(NULL);
		if (strcmp(cmd, "sample") == 0 || strcmp(cmd, "similar") == 0 || o->temperature > 0.0f)
			log_info("seed %llu (replay with --seed)", (unsigned long long)o->seed);
	}
	rng_seed(&c.rng, o->seed);
	if (!run->runs_model)
		rc = run->run(&c, model, argc, argv);
	else if ((rc = cli_controls(&c)) == 0)
		rc = cli_attributes(&c, model) == 0 ? run->run(&c, model, argc, argv) : 1;
	free(c.attr_buf);
	free(c.ctrl);
	model_close(&c.md);
	return rc;
}
