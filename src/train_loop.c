/* SPDX-License-Identifier: GPL-3.0-or-later */
/* train_loop.c: the training loop (batches, schedules, validation, early stopping, checkpoints), the
 * resumable state file and `musicvae train`'s command line. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model.h"
#include "train.h"
#include "train_int.h"

#define TRAIN_STATE_MAGIC "MVAETRST"
#define TRAIN_STATE_VERSION 1

static volatile sig_atomic_t train_interrupted;

/* Everything a run owns. */
struct train {
	struct train_hp hp;
	struct train_model m;
	struct train_buf b;
	struct train_log log;
	struct rng rng;         /* batches, eps, scheduled sampling, dropout: the only stream of a run */
	struct opt_early early;
	long step;
	size_t *train_rows, n_train, *valid_rows, n_valid;
};

/* ---- state file: hyper-parameters, step, RNG, early stopping, weights and Adam moments ------------ */

struct train_io {
	FILE *f;
	uint64_t h;             /* FNV-1a 64 of every byte so far */
	int bad;
};

static void
train_io_bytes(struct train_io *io, void *p, size_t n, int writing)
{
	unsigned char *c = p;

	if (io->bad || (writing ? fwrite(p, 1, n, io->f) : fread(p, 1, n, io->f)) != n) {
		io->bad = 1;
		return;
	}
	for (size_t i = 0; i < n; i++)
		io->h = (io->h ^ c[i]) * 0x100000001b3ULL;
}

#define TRAIN_IO(io, v, w) train_io_bytes((io), &(v), sizeof(v), (w))

/* The hyper-parameters a run is bound to (not steps or threads, which a resume may change). */
static void
train_io_hp(struct train_io *io, struct train_hp *hp, int w)
{
	int32_t i[] = { hp->kind, hp->z, hp->enc_units, hp->dec_units, hp->dec_layers, hp->batch, hp->sampling,
	    hp->patience, hp->valid_max };
	int64_t l[] = { hp->eval_every, hp->log_every, hp->save_every, (int64_t)hp->seed };
	double d[] = { hp->lr, hp->decay, hp->min_lr, hp->max_beta, hp->beta_rate, hp->free_bits, hp->clip,
	    hp->clip_to_zero, hp->sampling_rate, hp->keep };

	TRAIN_IO(io, i, w);
	TRAIN_IO(io, l, w);
	TRAIN_IO(io, d, w);
	if (w)
		return;
	hp->kind = i[0], hp->z = i[1], hp->enc_units = i[2], hp->dec_units = i[3], hp->dec_layers = i[4];
	hp->batch = i[5], hp->sampling = i[6], hp->patience = i[7], hp->valid_max = i[8];
	hp->eval_every = l[0], hp->log_every = l[1], hp->save_every = l[2], hp->seed = (uint64_t)l[3];
	hp->lr = d[0], hp->decay = d[1], hp->min_lr = d[2], hp->max_beta = d[3], hp->beta_rate = d[4];
	hp->free_bits = d[5], hp->clip = d[6], hp->clip_to_zero = d[7], hp->sampling_rate = d[8], hp->keep = d[9];
}

/* Step, RNG, early stopping, every tensor's value and Adam moments. */
static void
train_io_run(struct train_io *io, struct train *tr, uint64_t *count, int w)
{
	int64_t step = tr->step, spare = tr->rng.have_spare, es[2] = { tr->early.best_step, tr->early.bad };

	TRAIN_IO(io, step, w);
	TRAIN_IO(io, tr->rng.s, w);
	TRAIN_IO(io, spare, w);
	TRAIN_IO(io, tr->rng.spare, w);
	TRAIN_IO(io, tr->early.best, w);
	TRAIN_IO(io, es, w);
	TRAIN_IO(io, *count, w);
	tr->step = step;
	tr->rng.have_spare = (int)spare;
	tr->early.best_step = es[0];
	tr->early.bad = (int)es[1];
	for (int i = 0; i < tr->m.np; i++) {
		struct opt_param *p = &tr->m.p[i];
		train_io_bytes(io, p->w, sizeof(float) * p->n, w);
		train_io_bytes(io, p->m, sizeof(float) * p->n, w);
		train_io_bytes(io, p->v, sizeof(float) * p->n, w);
	}
}

static int
train_state_write(struct train *tr, const char *dir, uint64_t count, char *err, size_t errlen)
{
	char path[4096], tmp[4200];
	struct train_io io = { NULL, 0xcbf29ce484222325ULL, 0 };
	uint32_t ver = TRAIN_STATE_VERSION;
	uint64_t sum;

	snprintf(path, sizeof path, "%s/%s", dir, TRAIN_STATE_FILE);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if ((io.f = fopen(tmp, "wb")) == NULL) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	train_io_bytes(&io, TRAIN_STATE_MAGIC, 8, 1);
	TRAIN_IO(&io, ver, 1);
	train_io_hp(&io, &tr->hp, 1);
	train_io_run(&io, tr, &count, 1);
	sum = io.h;
	TRAIN_IO(&io, sum, 1);
	if (fclose(io.f) != 0 || io.bad || rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Reads dir's state: hyper-parameters into hp first (the model is then built from them), then the rest. */
static int
train_state_read(struct train *tr, const char *dir, uint64_t count, char *err, size_t errlen)
{
	char path[4096], magic[8];
	struct train_io io = { NULL, 0xcbf29ce484222325ULL, 0 };
	uint32_t ver = 0;
	uint64_t want, sum = 0, have = 0;
	int rc = -1;

	snprintf(path, sizeof path, "%s/%s", dir, TRAIN_STATE_FILE);
	if ((io.f = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "%s: %s (--resume and --evaluate need the state a previous run saved)", path,
		    strerror(errno));
		return -1;
	}
	train_io_bytes(&io, magic, 8, 0);
	TRAIN_IO(&io, ver, 0);
	if (io.bad || memcmp(magic, TRAIN_STATE_MAGIC, 8) != 0 || ver != TRAIN_STATE_VERSION) {
		snprintf(err, errlen, "%s: not a version %d training state", path, TRAIN_STATE_VERSION);
		goto out;
	}
	train_io_hp(&io, &tr->hp, 0);
	if (io.bad || train_model_init(&tr->m, &tr->hp, err, errlen) < 0)
		goto trunc;
	train_io_run(&io, tr, &have, 0);
	want = io.h;
	TRAIN_IO(&io, sum, 0);
	if (io.bad)
		goto trunc;
	if (sum != want) {
		snprintf(err, errlen, "%s: checksum mismatch (file damaged)", path);
		goto out;
	}
	if (have != count) {
		snprintf(err, errlen, "%s: saved for a dataset of %llu windows, this one has %llu", path,
		    (unsigned long long)have, (unsigned long long)count);
		goto out;
	}
	rc = 0;
	goto out;
trunc:
	if (!err[0] || io.bad)
		snprintf(err, errlen, "%s: truncated or unreadable", path);
out:
	fclose(io.f);
	return rc;
}

/* ---- the loop --------------------------------------------------------------------------------------- */

static int
train_rows(struct train *tr, const struct dataset *d, char *err, size_t errlen)
{
	tr->train_rows = calloc(d->count + 1, sizeof(size_t));
	tr->valid_rows = calloc(d->count + 1, sizeof(size_t));
	if (tr->train_rows == NULL || tr->valid_rows == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < d->count; i++) {
		if (d->split[i] == DATASET_TRAIN)
			tr->train_rows[tr->n_train++] = i;
		else if (tr->hp.valid_max == 0 || tr->n_valid < (size_t)tr->hp.valid_max)
			tr->valid_rows[tr->n_valid++] = i;
	}
	if (tr->n_train == 0) {
		snprintf(err, errlen, "the dataset has no training windows");
		return -1;
	}
	return 0;
}

static void
train_sched_at(const struct train *tr, struct train_sched *s)
{
	const struct train_hp *hp = &tr->hp;

	s->lr = opt_lr(hp->lr, hp->min_lr, hp->decay, tr->step);
	s->beta = opt_beta(hp->max_beta, hp->beta_rate, tr->step);
	s->p_sample = opt_sampling_prob(hp->sampling, hp->sampling_rate, tr->step);
	s->free_nats = hp->free_bits * log(2.0);
	s->clip = hp->clip;
	s->clip_to_zero = hp->clip_to_zero;
	s->keep = (float)hp->keep;
	s->t = tr->step + 1;
}

static void
train_one(struct train *tr, const struct dataset *d, struct train_metrics *mt)
{
	size_t rows[4096];
	struct train_sched s;
	int B = tr->hp.batch;

	for (int r = 0; r < B; r++)
		rows[r] = tr->train_rows[rng_next(&tr->rng) % tr->n_train];
	train_sched_at(tr, &s);
	train_load_rows(&tr->m, &tr->b, d, rows, B, tr->hp.kind);
	train_step_batch(&tr->m, &tr->b, B, &s, &tr->rng, mt);
	tr->step++;
}

static int
train_save(struct train *tr, const char *dir, uint64_t count, char *err, size_t errlen)
{
	char png[4096];

	if (train_model_write(&tr->m, dir, err, errlen) < 0 || train_state_write(tr, dir, count, err, errlen) < 0)
		return -1;
	snprintf(png, sizeof png, "%s/%s", dir, TRAIN_PLOT_FILE);
	return train_log_plot(&tr->log, png, err, errlen);
}

/* Validation at this step (if any), the CSV row, progress. Returns 1 when early stopping says stop. */
static int
train_report(struct train *tr, const struct dataset *d, struct train_metrics *acc, long n, int progress)
{
	const struct train_hp *hp = &tr->hp;
	struct train_eval ev, *evp = NULL;
	struct train_sched s;
	struct train_metrics avg = { acc->loss / n, acc->ce / n, acc->kl / n, acc->norm / n };
	int stop = 0, eval = tr->n_valid > 0 && (tr->step % hp->eval_every == 0 || tr->step == hp->steps);

	tr->step--;
	train_sched_at(tr, &s);         /* the schedule of the last update */
	tr->step++;
	if (eval) {
		train_evaluate(&tr->m, &tr->b, d, tr->valid_rows, tr->n_valid, hp->kind, s.beta, s.free_nats, &ev);
		evp = &ev;
		if (hp->patience > 0)
			stop = opt_early_update(&tr->early, ev.loss, tr->step);
	}
	train_log_row(&tr->log, tr->step, &avg, s.beta, s.lr, evp);
	if (progress >= 0) {
		train_log_progress(&tr->log, tr->step, hp->steps, hp->batch, &avg, 1, !tr->log.tty);
		if (evp != NULL)
			fprintf(stderr, "%sstep %ld: valid loss %.4f CE %.4f KL %.3f accuracy %.4f teacher-forced, "
			    "%.4f sampled (%ld windows)\n", tr->log.tty ? "\n" : "", tr->step, ev.loss, ev.ce, ev.kl,
			    ev.acc_tf, ev.acc_sampled, ev.n);
	}
	memset(acc, 0, sizeof *acc);
	return stop;
}

static int
train_loop(struct train *tr, const struct dataset *d, const char *dir, int progress, char *err, size_t errlen)
{
	const struct train_hp *hp = &tr->hp;
	struct train_metrics mt, acc = { 0 };
	long n = 0;
	int stop = 0;

	while (tr->step < hp->steps && !stop && !train_interrupted) {
		train_one(tr, d, &mt);
		acc.loss += mt.loss, acc.ce += mt.ce, acc.kl += mt.kl, acc.norm += mt.norm, n++;
		if (progress >= 0 && tr->log.tty)
			train_log_progress(&tr->log, tr->step, hp->steps, hp->batch, &mt, 0, 0);
		if (tr->step % hp->log_every == 0 || tr->step == hp->steps || tr->step % hp->eval_every == 0) {
			stop = train_report(tr, d, &acc, n, progress);
			n = 0;
		}
		if (stop && progress >= 0)
			fprintf(stderr, "early stopping at step %ld: no better validation loss since step %ld\n",
			    tr->step, tr->early.best_step);
		if ((tr->step % hp->save_every == 0 || tr->step == hp->steps || stop || train_interrupted) &&
		    train_save(tr, dir, d->count, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* The dataset must hold the windows the model takes. */
static int
train_kind_check(const struct train *tr, const struct dataset *d, char *err, size_t errlen)
{
	if ((int)d->kind == tr->hp.kind && d->num_steps == tr->m.T)
		return 0;
	snprintf(err, errlen, "the dataset holds %d-step %s windows; this model takes %d-step %s windows",
	    d->num_steps, d->kind == DATASET_DRUMS ? "drum" : "melody", tr->m.T,
	    tr->hp.kind == DATASET_DRUMS ? "drum" : "melody");
	return -1;
}

static int
train_setup(struct train *tr, const struct train_hp *hp, const struct dataset *d, const char *dir, int resume,
    char *err, size_t errlen)
{
	tr->hp = *hp;
	if (resume) {
		if (train_state_read(tr, dir, d->count, err, errlen) < 0)
			return -1;
		tr->hp.steps = hp->steps;
		tr->hp.threads = hp->threads;
	} else {
		if (train_model_init(&tr->m, &tr->hp, err, errlen) < 0)
			return -1;
		rng_seed(&tr->rng, tr->hp.seed);
		opt_early_init(&tr->early, tr->hp.patience);
	}
	tr->early.patience = tr->hp.patience;
	if (train_kind_check(tr, d, err, errlen) < 0)
		return -1;
	if (tr->hp.batch < 1 || tr->hp.batch > 4096 || tr->hp.log_every < 1 || tr->hp.eval_every < 1 ||
	    tr->hp.save_every < 1) {
		snprintf(err, errlen, "batch must be 1..4096 and the log/eval/save intervals positive");
		return -1;
	}
	if (train_rows(tr, d, err, errlen) < 0)
		return -1;
	if (train_buf_init(&tr->b, &tr->m, tr->hp.batch) < 0) {
		snprintf(err, errlen, "out of memory for batch buffers");
		return -1;
	}
	if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	return train_log_open(&tr->log, dir, resume, tr->step, err, errlen);
}

/* Opens the written checkpoint the way the daemon does: proof that it loads. */
static int
train_verify(const char *dir, char *err, size_t errlen)
{
	struct model md;

	if (model_open(&md, dir, 1, err, errlen) < 0)
		return -1;
	model_close(&md);
	return 0;
}

/* Everything a train_run or --evaluate set up (any part may be unset), and the caller's thread count back. */
static void
train_free(struct train *tr, int threads)
{
	nn_set_threads(threads);
	train_log_close(&tr->log);
	train_buf_fini(&tr->b);
	train_model_fini(&tr->m);
	free(tr->train_rows);
	free(tr->valid_rows);
}

int
train_run(const struct train_hp *hp, const struct dataset *d, const char *dir, int resume, int progress,
    char *err, size_t errlen)
{
	struct train tr;
	int threads = nn_get_threads(), rc = -1;

	memset(&tr, 0, sizeof tr);
	err[0] = '\0';
	if (train_setup(&tr, hp, d, dir, resume, err, errlen) < 0)
		goto out;
	nn_set_threads(tr.hp.threads);
	tr.log.step0 = tr.step;
	tr.log.t0 = train_now();
	if (progress >= 0)
		fprintf(stderr, "training %s: %zu train / %zu validation windows, steps %ld..%ld, batch %d\n",
		    tr.hp.kind == DATASET_DRUMS ? "drums" : "melody", tr.n_train, tr.n_valid, tr.step, tr.hp.steps,
		    tr.hp.batch);
	if (train_loop(&tr, d, dir, progress, err, errlen) < 0)
		goto out;
	if (tr.step >= tr.hp.steps && tr.step == tr.log.step0 && train_save(&tr, dir, d->count, err, errlen) < 0)
		goto out;
	rc = train_verify(dir, err, errlen);
out:
	train_free(&tr, threads);
	return rc;
}

/* --evaluate: the saved state's model on every validation window of d (the dataset it was trained on), printed
 * as the trainer prints a validation; nothing is written. */
static int
train_eval_saved(const struct train_hp *hp, const struct dataset *d, const char *dir, char *err, size_t errlen)
{
	struct train tr;
	struct train_sched s;
	struct train_eval ev;
	int threads = nn_get_threads(), rc = -1;
	long step;

	memset(&tr, 0, sizeof tr);
	err[0] = '\0';
	if (train_state_read(&tr, dir, d->count, err, errlen) < 0)
		goto out;
	tr.hp.valid_max = hp->valid_max;
	if (train_kind_check(&tr, d, err, errlen) < 0)
		goto out;
	if (train_rows(&tr, d, err, errlen) < 0 || tr.n_valid == 0) {
		if (!err[0])
			snprintf(err, errlen, "the dataset has no validation windows");
		goto out;
	}
	if (train_buf_init(&tr.b, &tr.m, tr.hp.batch) < 0) {
		snprintf(err, errlen, "out of memory for batch buffers");
		goto out;
	}
	nn_set_threads(hp->threads);
	step = tr.step;
	tr.step = step > 0 ? step - 1 : 0;
	train_sched_at(&tr, &s);        /* the schedule of the last update, as the trainer's validation */
	tr.step = step;
	train_evaluate(&tr.m, &tr.b, d, tr.valid_rows, tr.n_valid, tr.hp.kind, s.beta, s.free_nats, &ev);
	printf("step %ld: valid loss %.6f CE %.6f KL %.6f accuracy %.6f teacher-forced, %.6f sampled (%ld windows)\n",
	    tr.step, ev.loss, ev.ce, ev.kl, ev.acc_tf, ev.acc_sampled, ev.n);
	rc = 0;
out:
	train_free(&tr, threads);
	return rc;
}

/* ---- command line ----------------------------------------------------------------------------------- */

static void
train_usage(FILE *f)
{
	fputs("usage: musicvae train --data FILE.ds -o MODEL_DIR [options]\n"
	    "  --kind melody|drums     model kind (default: the dataset's)\n"
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
	    "  --evaluate              only print the saved state's validation metrics on the dataset it was\n"
	    "                          trained on (all its validation windows unless --valid-max N)\n"
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
	{ "threads", 1, NULL, 't' }, { "resume", 0, NULL, 'X' }, { "quiet", 0, NULL, 'q' },
	{ "evaluate", 0, NULL, 'Q' },
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

static void
train_on_signal(int sig)
{
	(void)sig;
	train_interrupted = 1;
}

/* Kind from --kind or the dataset; the kind's defaults under the options given. */
static int
train_args(int argc, char **argv, struct train_hp *hp, const char **data, const char **dir, int *resume,
    int *quiet)
{
	int ch, kind = -1, valid_max_given = 0;

	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--kind") == 0)
			kind = strcmp(argv[i + 1], "drums") == 0 ? DATASET_DRUMS : strcmp(argv[i + 1], "melody") == 0 ?
			    DATASET_MELODY : -2;
	if (kind == -2) {
		fprintf(stderr, "musicvae train: --kind: melody or drums\n");
		return -1;
	}
	train_hp_init(hp, kind < 0 ? DATASET_MELODY : kind);
	hp->kind = kind;
	if (kind < 0)
		hp->free_bits = NAN;    /* the dataset's kind decides */
	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:qh", train_longopts, NULL)) != -1) {
		switch (ch) {
		case 'h': train_usage(stdout); exit(0);
		case 'k': break;
		case 'd': *data = optarg; break;
		case 'o': *dir = optarg; break;
		case 'X': *resume |= 1; break;
		case 'Q': *resume |= 2; break;
		case 'V':
			valid_max_given = 1;
			if (train_opt(hp, ch, optarg) < 0)
				return -1;
			break;
		case 'q': *quiet = 1; break;
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
	if (*resume == 3) {
		fprintf(stderr, "musicvae train: --evaluate and --resume exclude each other (--evaluate trains "
		    "nothing)\n");
		return -1;
	}
	if (*resume == 2 && !valid_max_given)
		hp->valid_max = 0;
	return 0;
}

int
train_main(int argc, char **argv)
{
	struct train_hp hp;
	struct dataset d;
	const char *data = NULL, *dir = NULL;
	char err[1024];
	int resume = 0, quiet = 0, rc;

	if (train_args(argc, argv, &hp, &data, &dir, &resume, &quiet) < 0) {
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
	}
	if (resume == 2) {
		if ((rc = train_eval_saved(&hp, &d, dir, err, sizeof err)) < 0)
			fprintf(stderr, "musicvae train: %s\n", err);
		dataset_free(&d);
		return rc < 0 ? 1 : 0;
	}
	signal(SIGINT, train_on_signal);
	signal(SIGTERM, train_on_signal);
	rc = train_run(&hp, &d, dir, resume, quiet ? -1 : isatty(STDERR_FILENO), err, sizeof err);
	if (rc < 0)
		fprintf(stderr, "musicvae train: %s\n", err);
	else if (train_interrupted)
		fprintf(stderr, "interrupted: state saved in %s; continue with --resume\n", dir);
	else if (!quiet)
		fprintf(stderr, "wrote %s (loads: ok)\n", dir);
	dataset_free(&d);
	return rc < 0 ? 1 : 0;
}
