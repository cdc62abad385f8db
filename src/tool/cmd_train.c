/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cmd_train.c: `musicvae train`: its options, progress on stderr, SIGINT/SIGTERM to save and stop. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "dataset.h"
#include "train.h"

static void
train_usage(FILE *f)
{
	fputs("usage: musicvae train --data FILE.ds -o MODEL_DIR [options]\n"
	    "  --kind melody|drums|groove  model kind (default: the dataset's; groove: GrooVAE, hits plus\n"
	    "                          velocities and micro-timing, teacher forced unless --sampling is given)\n"
	    "  --humanize              groove: the encoder sees the hits only (velocities and offsets zeroed, as\n"
	    "                          GrooveConverter's humanize), the decoder learns to add them back: a model\n"
	    "                          that humanizes a quantized beat (Magenta's groovae_2bar_humanize)\n"
	    "  --steps N               train up to global step N (20000)\n"
	    "  --batch B               windows per step (64)\n"
	    "  --z Z                   latent size (128)\n"
	    "  --enc-units U           bidirectional encoder units per direction (256)\n"
	    "  --dec-units U           decoder units (256)\n"
	    "  --dec-layers L          decoder layers (2)\n"
	    "  --lr X --decay X --min-lr X          Adam learning rate schedule (1e-3, 0.9999, 1e-5)\n"
	    "  --max-beta X --beta-rate X           KL weight schedule (0.2, 0.99999)\n"
	    "  --free-bits X           KL free bits (melody 0, drums 48)\n"
	    "  --clip X                global-norm gradient clip (1.0)\n"
	    "  --sampling constant|exponential|inverse-sigmoid  scheduled sampling (inverse-sigmoid)\n"
	    "  --sampling-rate X       its rate (1000)\n"
	    "  --dropout-keep X        keep probability of the decoder output (1.0: no dropout)\n"
	    "  --patience N            stop after N validations without improvement (0: never)\n"
	    "  --eval-every N --log-every N --save-every N   (500, 50, 1000)\n"
	    "  --valid-max N           validation windows evaluated (2048; 0 = all)\n"
	    "  --seed S                (1) same seed, data and threads = the same weights bit for bit\n"
	    "  --threads N             OpenBLAS threads (1)\n"
	    "  --resume                continue from MODEL_DIR/" TRAIN_STATE_FILE " (its hyper-parameters)\n"
	    "  --warm-start            as --resume, also on another dataset of the same kind (fine-tuning: the\n"
	    "                          step, weights and optimizer carry on; --steps counts from the first run;\n"
	    "                          --lr/--decay/--min-lr, --max-beta/--beta-rate, --free-bits, --dropout-keep,\n"
	    "                          --sampling/--sampling-rate, --clip given here replace the saved ones)\n"
	    "  --evaluate              only print the saved state's validation metrics on the dataset given\n"
	    "                          (any of the model's kind; all its validation windows unless --valid-max N):\n"
	    "                          loss, accuracy teacher-forced and of the argmax reconstruction (z = mu, the\n"
	    "                          decoder fed its own argmax per 16th step: MusicVAE's Table 1, \"sampled\"),\n"
	    "                          then music metrics (melody: onset F1s, distinct and repeated pitches; drums:\n"
	    "                          hit F1, recall per class) and one key=value line; without a saved state\n"
	    "                          (or with --from-checkpoint) MODEL_DIR is any flat melody or drum checkpoint,\n"
	    "                          run through the inference path (no loss or KL: the checkpoint has no sigma)\n"
	    "  --from-checkpoint       with --evaluate: the checkpoint even when a saved state is there\n"
	    "  -q, --quiet             no progress output\n", f);
}

static int
train_num(const char *opt, const char *arg, double lo, double hi, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(arg, &end);
	if (errno || end == arg || *end || !(*out >= lo && *out <= hi)) {
		fprintf(stderr, "musicvae train: %s: '%s' is not a number in [%g, %g]\n", opt, arg, lo, hi);
		return -1;
	}
	return 0;
}

static int
train_sampling(const char *arg, struct train_hp *hp)
{
	static const char *const names[] = { "constant", "exponential", "inverse-sigmoid" };

	for (int i = 0; i < 3; i++)
		if (strcmp(arg, names[i]) == 0) {
			hp->sampling = i;
			return 0;
		}
	fprintf(stderr, "musicvae train: --sampling: constant, exponential or inverse-sigmoid\n");
	return -1;
}

static const struct option train_longopts[] = {
	{ "kind", 1, NULL, 'k' }, { "data", 1, NULL, 'd' }, { "output", 1, NULL, 'o' }, { "steps", 1, NULL, 'n' },
	{ "batch", 1, NULL, 'b' }, { "z", 1, NULL, 'z' }, { "enc-units", 1, NULL, 'E' },
	{ "dec-units", 1, NULL, 'U' }, { "dec-layers", 1, NULL, 'L' }, { "lr", 1, NULL, 'l' },
	{ "decay", 1, NULL, 'y' }, { "min-lr", 1, NULL, 'm' }, { "max-beta", 1, NULL, 'B' },
	{ "beta-rate", 1, NULL, 'R' }, { "free-bits", 1, NULL, 'F' }, { "clip", 1, NULL, 'c' },
	{ "sampling", 1, NULL, 'S' }, { "sampling-rate", 1, NULL, 'r' }, { "dropout-keep", 1, NULL, 'K' },
	{ "patience", 1, NULL, 'P' }, { "eval-every", 1, NULL, 'e' }, { "log-every", 1, NULL, 'g' },
	{ "save-every", 1, NULL, 'v' }, { "valid-max", 1, NULL, 'V' }, { "seed", 1, NULL, 's' },
	{ "threads", 1, NULL, 't' }, { "resume", 0, NULL, 'X' }, { "warm-start", 0, NULL, 'W' }, { "quiet", 0, NULL, 'q' },
	{ "evaluate", 0, NULL, 'Q' }, { "from-checkpoint", 0, NULL, 'C' }, { "humanize", 0, NULL, 'H' },
	{ "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 },
};

/* One option into hp; -1 on a bad value. */
static int
train_opt(struct train_hp *hp, int ch, const char *arg)
{
	double v = 0.0;
	struct { int ch; double lo, hi; } lim[] = {
		{ 'n', 0, 1e12 }, { 'b', 1, 4096 }, { 'z', 1, 4096 }, { 'E', 1, 4096 }, { 'U', 1, 4096 },
		{ 'L', 1, TRAIN_MAX_LAYERS }, { 'l', 0, 1 }, { 'y', 0, 1 }, { 'm', 0, 1 }, { 'B', 0, 100 },
		{ 'R', 0, 1 }, { 'F', 0, 1e6 }, { 'c', 0, 1e12 }, { 'r', 0, 1e12 }, { 'K', 0.01, 1 },
		{ 'P', 0, 1e9 }, { 'e', 1, 1e12 }, { 'g', 1, 1e12 }, { 'v', 1, 1e12 }, { 'V', 0, 1e9 },
		{ 's', 0, 9.2e18 }, { 't', 1, 64 },
	};

	static const struct { int ch; unsigned bit; } given[] = {
		{ 'l', TRAIN_GIVEN_LR }, { 'y', TRAIN_GIVEN_LR }, { 'm', TRAIN_GIVEN_LR }, { 'B', TRAIN_GIVEN_BETA },
		{ 'R', TRAIN_GIVEN_BETA }, { 'F', TRAIN_GIVEN_FREE_BITS }, { 'K', TRAIN_GIVEN_KEEP },
		{ 'S', TRAIN_GIVEN_SAMPLING }, { 'r', TRAIN_GIVEN_SAMPLING }, { 'c', TRAIN_GIVEN_CLIP },
		{ 'z', TRAIN_GIVEN_SHAPE }, { 'E', TRAIN_GIVEN_SHAPE }, { 'U', TRAIN_GIVEN_SHAPE }, { 'L', TRAIN_GIVEN_SHAPE },
	};

	for (size_t i = 0; i < sizeof given / sizeof given[0]; i++)
		if (given[i].ch == ch)
			hp->given |= given[i].bit;
	if (ch == 'S')
		return train_sampling(arg, hp);
	for (size_t i = 0; i < sizeof lim / sizeof lim[0]; i++) {
		if (lim[i].ch != ch)
			continue;
		for (const struct option *o = train_longopts; o->name; o++)
			if (o->val == ch && train_num(o->name, arg, lim[i].lo, lim[i].hi, &v) < 0)
				return -1;
		switch (ch) {
		case 'n': hp->steps = (long)v; break;
		case 'b': hp->batch = (int)v; break;
		case 'z': hp->z = (int)v; break;
		case 'E': hp->enc_units = (int)v; break;
		case 'U': hp->dec_units = (int)v; break;
		case 'L': hp->dec_layers = (int)v; break;
		case 'l': hp->lr = v; break;
		case 'y': hp->decay = v; break;
		case 'm': hp->min_lr = v; break;
		case 'B': hp->max_beta = v; break;
		case 'R': hp->beta_rate = v; break;
		case 'F': hp->free_bits = v; break;
		case 'c': hp->clip = v; break;
		case 'r': hp->sampling_rate = v; break;
		case 'K': hp->keep = v; break;
		case 'P': hp->patience = (int)v; break;
		case 'e': hp->eval_every = (long)v; break;
		case 'g': hp->log_every = (long)v; break;
		case 'v': hp->save_every = (long)v; break;
		case 'V': hp->valid_max = (int)v; break;
		case 's': hp->seed = (uint64_t)strtoull(arg, NULL, 10); break;
		case 't': hp->threads = (int)v; break;
		}
		return 0;
	}
	return -1;
}

static volatile sig_atomic_t train_interrupted;

static void
train_on_signal(int sig)
{
	(void)sig;
	train_interrupted = 1;
}

/* ---- progress on stderr: a bar redrawn at most 5 times a second on a TTY, else one line per CSV row ---- */

struct train_progress {
	int tty;
	double last_draw;       /* elapsed seconds at the last redraw */
};

static void
train_fmt_time(double s, char *buf, size_t len)
{
	long t = isfinite(s) && s > 0 ? (long)(s + 0.5) : 0;

	if (t >= 3600)
		snprintf(buf, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
	else
		snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
}

static void
train_progress_draw(struct train_progress *p, const struct train_event *e)
{
	const struct train_metrics *mt = e->mt;
	double rate = e->elapsed > 0 ? (e->step - e->first) / e->elapsed : 0.0;
	char eta[32], bar[31];
	int fill = e->steps > 0 ? (int)(30.0 * e->step / e->steps) : 30;

	p->last_draw = e->elapsed;
	train_fmt_time(rate > 0 ? (e->steps - e->step) / rate : NAN, eta, sizeof eta);
	if (p->tty) {
		for (int i = 0; i < 30; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[30] = '\0';
		fprintf(stderr, "\r[%s] %ld/%ld %3d%% loss %.3f KL %.2f %.0f samples/s ETA %s  ", bar, e->step,
		    e->steps, (int)(100.0 * e->step / (e->steps ? e->steps : 1)), mt->loss, mt->kl, rate * e->batch,
		    eta);
	} else
		fprintf(stderr, "step %ld/%ld loss %.4f CE %.4f KL %.3f |g| %.3g %.0f samples/s ETA %s\n", e->step,
		    e->steps, mt->loss, mt->ce, mt->kl, mt->norm, rate * e->batch, eta);
}

static void
train_progress_event(void *ctx, const struct train_event *e)
{
	struct train_progress *p = ctx;
	const struct train_eval *ev = e->ev;

	switch (e->kind) {
	case TRAIN_EV_START:
		fprintf(stderr, "training %s: %zu train / %zu validation windows, steps %ld..%ld, batch %d\n",
		    dataset_kind_name(e->model_kind), e->n_train, e->n_valid, e->step, e->steps,
		    e->batch);
		break;
	case TRAIN_EV_STEP:
		if (p->tty && e->elapsed - p->last_draw >= 0.2)
			train_progress_draw(p, e);
		break;
	case TRAIN_EV_LOG:
		train_progress_draw(p, e);
		break;
	case TRAIN_EV_EVAL:
		fprintf(stderr, "%sstep %ld: valid loss %.4f CE %.4f KL %.3f accuracy %.4f teacher-forced, "
		    "%.4f sampled (%ld windows)\n", p->tty ? "\n" : "", e->step, ev->loss, ev->ce, ev->kl,
		    ev->acc_tf, ev->acc_sampled, ev->n);
		if (ev->music.kind == DATASET_GROOVE && ev->g_n > 0)
			fprintf(stderr, "step %ld: groove velocity RMSE %.2f (mean %.2f), timing RMSE %.4f steps (mean "
			    "%.4f)\n", e->step, 127.0 * sqrt(ev->vel_se / ev->g_n), 127.0 * sqrt(ev->vel_se_mean / ev->g_n),
			    0.5 * sqrt(ev->off_se / ev->g_n), 0.5 * sqrt(ev->off_se_mean / ev->g_n));
		break;
	case TRAIN_EV_EARLY_STOP:
		fprintf(stderr, "early stopping at step %ld: no better validation loss since step %ld\n", e->step,
		    e->best_step);
		break;
	}
}

/* The music metrics of an evaluation, in words, then as one key=value line for scripts. */
static void
train_print_music(const struct train_eval *ev)
{
	const struct metrics *m = &ev->music;
	struct metrics_rates r;

	metrics_rates(m, &r);
	printf("argmax reconstruction (z = mu, the decoder fed its own argmax per 16th step; MusicVAE Table 1): "
	    "%.4f of %ld steps; teacher forced %.4f\n", r.acc, m->steps, ev->acc_tf);
	if (m->kind == DATASET_MELODY) {
		printf("melody: onset F1 %.4f (same pitch on the same step), onset-step F1 %.4f (rhythm only; %ld "
		    "input onsets, %ld decoded)\n", r.onset_f1, r.onset_step_f1, m->on_in, m->on_out);
		printf("melody: distinct pitches decode/input %.4f (%ld / %ld, summed over windows); repeated-pitch "
		    "share of successive onsets %.4f input, %.4f decode\n", r.distinct_ratio, m->distinct_out,
		    m->distinct_in, r.repeat_in, r.repeat_out);
	} else {
		printf("%s: hit F1 %.4f over (step, class) (%ld input hits, %ld decoded, %ld both); recall:",
		    dataset_kind_name(m->kind), r.hit_f1, m->hit_in, m->hit_out, m->hit_both);
		for (int k = 0; k < METRICS_DRUM_CLASSES; k++)
			printf(" %s %.3f (%ld)", metrics_drum_class(k), r.class_recall[k], m->class_in[k]);
		printf("\n");
	}
	printf("metrics: windows=%ld acc_argmax=%.6f acc_tf=%.6f ce=%.6f", ev->n, r.acc, ev->acc_tf, ev->ce);
	if (m->kind == DATASET_MELODY)
		printf(" onset_f1=%.6f onset_step_f1=%.6f distinct_ratio=%.6f repeat_in=%.6f repeat_out=%.6f",
		    r.onset_f1, r.onset_step_f1, r.distinct_ratio, r.repeat_in, r.repeat_out);
	else {
		printf(" hit_f1=%.6f", r.hit_f1);
		for (int k = 0; k < METRICS_DRUM_CLASSES; k++)
			printf(" recall_%s=%.6f", metrics_drum_class(k), r.class_recall[k]);
	}
	if (m->kind == DATASET_GROOVE && ev->g_n > 0)
		printf(" vel_rmse=%.6f vel_rmse_mean=%.6f off_rmse=%.6f off_rmse_mean=%.6f hits_loss=%.6f vel_loss=%.6f "
		    "off_loss=%.6f", sqrt(ev->vel_se / ev->g_n), sqrt(ev->vel_se_mean / ev->g_n),
		    sqrt(ev->off_se / ev->g_n), sqrt(ev->off_se_mean / ev->g_n), ev->g_hits, ev->g_vel, ev->g_off);
	printf("\n");
}

/* A groove model's velocities and micro-timing against predicting the train set's mean, in words. */
static void
train_print_groove(const struct train_eval *ev)
{
	if (ev->music.kind != DATASET_GROOVE || ev->g_n == 0)
		return;
	printf("groove: at the %ld input hits, the argmax reconstruction's velocity RMSE %.2f (MIDI velocity; "
	    "predicting the train mean: %.2f) and timing RMSE %.4f steps (mean: %.4f); loss per window: hits %.3f, "
	    "velocities %.3f, offsets %.3f (teacher forced)\n", ev->g_n, 127.0 * sqrt(ev->vel_se / ev->g_n),
	    127.0 * sqrt(ev->vel_se_mean / ev->g_n), 0.5 * sqrt(ev->off_se / ev->g_n),
	    0.5 * sqrt(ev->off_se_mean / ev->g_n), ev->g_hits, ev->g_vel, ev->g_off);
}

/* --evaluate: the saved state (as the trainer validates), else or with --from-checkpoint the checkpoint. */
static int
train_cmd_evaluate(const struct train_hp *hp, const struct dataset *d, const char *dir, int from_ckpt)
{
	struct train_eval ev;
	char state[4096], err[1024];
	long step;

	snprintf(state, sizeof state, "%s/%s", dir, TRAIN_STATE_FILE);
	if (!from_ckpt && access(state, F_OK) == 0) {
		if (train_evaluate_saved(hp, d, dir, &step, &ev, err, sizeof err) < 0) {
			fprintf(stderr, "musicvae train: %s\n", err);
			return 1;
		}
		printf("step %ld: valid loss %.6f CE %.6f KL %.6f accuracy %.6f teacher-forced, %.6f sampled "
		    "(%ld windows)\n", step, ev.loss, ev.ce, ev.kl, ev.acc_tf, ev.acc_sampled, ev.n);
	} else {
		if (train_evaluate_checkpoint(dir, d, hp->valid_max, hp->threads, &ev, err, sizeof err) < 0) {
			fprintf(stderr, "musicvae train: %s%s%s%s\n", err, from_ckpt ? "" : " (and no ",
			    from_ckpt ? "" : state, from_ckpt ? "" : " to evaluate instead)");
			return 1;
		}
		printf("checkpoint %s: valid CE %.6f accuracy %.6f teacher-forced, %.6f sampled (%ld windows; %ld "
		    "skipped: pitches outside the converter's range)\n", dir, ev.ce, ev.acc_tf, ev.acc_sampled,
		    ev.n, ev.skipped);
	}
	train_print_groove(&ev);
	train_print_music(&ev);
	return 0;
}

/* Kind from --kind or the dataset; the kind's defaults under the options given. */
static int
train_args(int argc, char **argv, struct train_hp *hp, const char **data, const char **dir, int *resume,
    int *quiet)
{
	int ch, kind = -1, valid_max_given = 0;

	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--kind") == 0 && (kind = dataset_kind_parse(argv[i + 1])) < 0)
			kind = -2;
	if (kind == -2) {
		fprintf(stderr, "musicvae train: --kind: melody, drums or groove\n");
		return -1;
	}
	train_hp_init(hp, kind < 0 ? DATASET_MELODY : kind);
	hp->kind = kind;
	if (kind < 0)
		hp->free_bits = NAN;    /* the dataset's kind decides */
	optind = 0;             /* glibc starts over, argument order included (musicvae.c parsed its own first) */
	while ((ch = getopt_long(argc, argv, "o:qh", train_longopts, NULL)) != -1) {
		switch (ch) {
		case 'h': train_usage(stdout); return 1;
		case 'k': break;
		case 'd': *data = optarg; break;
		case 'o': *dir = optarg; break;
		case 'X': *resume |= 1; break;
		case 'W': *resume |= 1 | 4; break;
		case 'Q': *resume |= 2; break;
		case 'C': *resume |= 8; break;
		case 'V':
			valid_max_given = 1;
			if (train_opt(hp, ch, optarg) < 0)
				return -1;
			break;
		case 'q': *quiet = 1; break;
		case 'H': hp->humanize = 1; break;
		default:
			if (ch == '?' || train_opt(hp, ch, optarg) < 0)
				return -1;
		}
	}
	if (optind < argc && *data == NULL)
		*data = argv[optind++];
	if (*data == NULL || *dir == NULL || optind < argc) {
		fprintf(stderr, "musicvae train: give --data FILE.ds and -o MODEL_DIR\n");
		return -1;
	}
	if ((*resume & 3) == 3) {
		fprintf(stderr, "musicvae train: --evaluate and --resume exclude each other (--evaluate trains "
		    "nothing)\n");
		return -1;
	}
	if ((*resume & 8) && !(*resume & 2)) {
		fprintf(stderr, "musicvae train: --from-checkpoint goes with --evaluate\n");
		return -1;
	}
	if ((*resume & 2) && !valid_max_given)
		hp->valid_max = 0;
	return 0;
}

int
cmd_train(int argc, char **argv)
{
	struct train_hp hp;
	struct train_progress prog = { isatty(STDERR_FILENO), -1.0 };
	struct train_hooks hooks = { train_progress_event, &prog, &train_interrupted };
	struct dataset d;
	const char *data = NULL, *dir = NULL;
	char err[1024];
	int resume = 0, quiet = 0, rc;

	if ((rc = train_args(argc, argv, &hp, &data, &dir, &resume, &quiet)) != 0) {
		if (rc > 0)
			return 0;       /* --help */
		train_usage(stderr);
		return 2;
	}
	if (dataset_read(&d, data, err, sizeof err) < 0) {
		fprintf(stderr, "musicvae train: %s\n", err);
		return 1;
	}
	if (hp.kind < 0) {
		struct train_hp k;
		train_hp_init(&k, (int)d.kind);
		hp.kind = (int)d.kind;
		if (isnan(hp.free_bits))
			hp.free_bits = k.free_bits;
		if (!(hp.given & TRAIN_GIVEN_SAMPLING))
			hp.sampling = k.sampling, hp.sampling_rate = k.sampling_rate;
	}
	if (resume & 2) {
		rc = train_cmd_evaluate(&hp, &d, dir, resume & 8);
		dataset_free(&d);
		return rc;
	}
	signal(SIGINT, train_on_signal);
	signal(SIGTERM, train_on_signal);
	if (quiet)
		hooks.event = NULL;
	rc = train_run(&hp, &d, dir, resume, &hooks, err, sizeof err);
	if (rc < 0)
		fprintf(stderr, "musicvae train: %s\n", err);
	else if (train_interrupted)
		fprintf(stderr, "interrupted: state saved in %s; continue with --resume\n", dir);
	else if (!quiet)
		fprintf(stderr, "wrote %s (loads: ok)\n", dir);
	dataset_free(&d);
	return rc < 0 ? 1 : 0;
}
