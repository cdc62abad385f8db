/* SPDX-License-Identifier: GPL-3.0-or-later */
/* train_loop.c: the training loop (batches, schedules, validation, early stopping, checkpoints), the
 * resumable state file and the evaluation of a saved state; progress goes to the caller's hooks. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "file.h"
#include "hash.h"
#include "model.h"
#include "train.h"
#include "train_int.h"

#define TRAIN_STATE_MAGIC "MVAETRST"
#define TRAIN_STATE_VERSION 2         /* 2 added num_steps, roland, humanize; version 1 (32 steps) is still read */

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
	const struct train_hooks *hooks;
};

/* Tells the caller's hook (if any) about e, filled in with the run's position. */
static void
train_emit(const struct train *tr, struct train_event *e)
{
	if (tr->hooks == NULL || tr->hooks->event == NULL)
		return;
	e->step = tr->step;
	e->steps = tr->hp.steps;
	e->first = tr->log.step0;
	e->batch = tr->hp.batch;
	e->elapsed = train_now() - tr->log.t0;
	tr->hooks->event(tr->hooks->ctx, e);
}

static int
train_stopped(const struct train *tr)
{
	return tr->hooks != NULL && tr->hooks->stop != NULL && *tr->hooks->stop;
}

/* ---- state file: hyper-parameters, step, RNG, early stopping, weights and Adam moments ------------ */

struct train_io {
	FILE *f;
	uint64_t h;             /* FNV-1a 64 of every byte so far */
	int bad;
};

static void
train_io_bytes(struct train_io *io, void *p, size_t n, int writing)
{
	if (io->bad || (writing ? fwrite(p, 1, n, io->f) : fread(p, 1, n, io->f)) != n) {
		io->bad = 1;
		return;
	}
	io->h = hash_fnv1a(io->h, p, n);
}

#define TRAIN_IO(io, v, w) train_io_bytes((io), &(v), sizeof(v), (w))

/* The hyper-parameters a run is bound to (not steps or threads, which a resume may change); ver: the file's. */
static void
train_io_hp(struct train_io *io, struct train_hp *hp, int w, uint32_t ver)
{
	int32_t T[3] = { hp->num_steps, hp->roland, hp->humanize };

	int32_t i[] = { hp->kind, hp->z, hp->enc_units, hp->dec_units, hp->dec_layers, hp->batch, hp->sampling,
	    hp->patience, hp->valid_max };
	int64_t l[] = { hp->eval_every, hp->log_every, hp->save_every, (int64_t)hp->seed };
	double d[] = { hp->lr, hp->decay, hp->min_lr, hp->max_beta, hp->beta_rate, hp->free_bits, hp->clip,
	    hp->clip_to_zero, hp->sampling_rate, hp->keep };

	TRAIN_IO(io, i, w);
	TRAIN_IO(io, l, w);
	TRAIN_IO(io, d, w);
	if (ver >= 2)
		TRAIN_IO(io, T, w);
	if (w)
		return;
	hp->num_steps = ver >= 2 ? T[0] : 2 * DATASET_STEPS_PER_BAR;
	hp->roland = ver >= 2 ? T[1] : 0;
	hp->humanize = ver >= 2 ? T[2] : 0;
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
	char path[4096];
	struct train_io io = { NULL, HASH_FNV1A_INIT, 0 };
	struct file_tmp t;
	uint32_t ver = TRAIN_STATE_VERSION;
	uint64_t sum;

	snprintf(path, sizeof path, "%s/%s", dir, TRAIN_STATE_FILE);
	if (file_tmp_open(&t, path, err, errlen) < 0)
		return -1;
	io.f = t.f;
	train_io_bytes(&io, TRAIN_STATE_MAGIC, 8, 1);
	TRAIN_IO(&io, ver, 1);
	train_io_hp(&io, &tr->hp, 1, ver);
	train_io_run(&io, tr, &count, 1);
	sum = io.h;
	TRAIN_IO(&io, sum, 1);
	if (io.bad) {
		err_fail(err, errlen, "%s: cannot write: %s", path, strerror(errno ? errno : EIO));
		file_tmp_abort(&t);
		return -1;
	}
	return file_tmp_commit(&t, err, errlen);
}

/* Reads dir's state: hyper-parameters into hp first (the model is then built from them), then the rest. */
static int
train_state_read(struct train *tr, const char *dir, uint64_t count, char *err, size_t errlen)
{
	char path[4096], magic[8];
	struct train_io io = { NULL, HASH_FNV1A_INIT, 0 };
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
	if (io.bad || memcmp(magic, TRAIN_STATE_MAGIC, 8) != 0 || ver < 1 || ver > TRAIN_STATE_VERSION) {
		snprintf(err, errlen, "%s: not a version 1 to %d training state", path, TRAIN_STATE_VERSION);
		goto out;
	}
	train_io_hp(&io, &tr->hp, 0, ver);
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
	if (count != TRAIN_ANY_DATA && have != count) {
		snprintf(err, errlen, "%s: saved for a dataset of %llu windows, this one has %llu (--warm-start "
		    "continues on another dataset)", path, (unsigned long long)have, (unsigned long long)count);
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
train_report(struct train *tr, const struct dataset *d, struct train_metrics *acc, long n)
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
	train_emit(tr, &(struct train_event){ .kind = TRAIN_EV_LOG, .mt = &avg });
	if (evp != NULL)
		train_emit(tr, &(struct train_event){ .kind = TRAIN_EV_EVAL, .ev = evp });
	memset(acc, 0, sizeof *acc);
	return stop;
}

static int
train_loop(struct train *tr, const struct dataset *d, const char *dir, char *err, size_t errlen)
{
	const struct train_hp *hp = &tr->hp;
	struct train_metrics mt, acc = { 0 };
	long n = 0;
	int stop = 0;

	while (tr->step < hp->steps && !stop && !train_stopped(tr)) {
		train_one(tr, d, &mt);
		acc.loss += mt.loss, acc.ce += mt.ce, acc.kl += mt.kl, acc.norm += mt.norm, n++;
		train_emit(tr, &(struct train_event){ .kind = TRAIN_EV_STEP, .mt = &mt });
		if (tr->step % hp->log_every == 0 || tr->step == hp->steps || tr->step % hp->eval_every == 0) {
			stop = train_report(tr, d, &acc, n);
			n = 0;
		}
		if (stop)
			train_emit(tr, &(struct train_event){ .kind = TRAIN_EV_EARLY_STOP,
			    .best_step = tr->early.best_step });
		if ((tr->step % hp->save_every == 0 || tr->step == hp->steps || stop || train_stopped(tr)) &&
		    train_save(tr, dir, d->count, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* The dataset must hold the windows the model takes. */
static int
train_kind_check(const struct train *tr, const struct dataset *d, char *err, size_t errlen)
{
	if ((int)d->kind == tr->hp.kind && d->num_steps == tr->m.T && d->roland != tr->hp.roland) {
		snprintf(err, errlen, "the dataset's drum pitch classes are %s, the model's %s", d->roland ? "roland" :
		    "the defaults", tr->hp.roland ? "roland" : "the defaults");
		return -1;
	}
	if ((int)d->kind == tr->hp.kind && d->num_steps == tr->m.T)
		return 0;
	snprintf(err, errlen, "the dataset holds %d-step %s windows; this model takes %d-step %s windows",
	    d->num_steps, dataset_kind_name(d->kind), tr->m.T, dataset_kind_name(tr->hp.kind));
	return -1;
}

/* A warm start's schedules: those given on the command line replace the saved ones (fine-tuning with, say,
 * more free bits); a different model shape cannot be warm-started. */
static int
train_warm_hp(struct train_hp *to, const struct train_hp *cl, char *err, size_t errlen)
{
	if ((cl->given & TRAIN_GIVEN_SHAPE) && (cl->z != to->z || cl->enc_units != to->enc_units ||
	    cl->dec_units != to->dec_units || cl->dec_layers != to->dec_layers)) {
		snprintf(err, errlen, "--warm-start keeps the saved model's shape (z %d, encoder %d, decoder %dx%d)",
		    to->z, to->enc_units, to->dec_layers, to->dec_units);
		return -1;
	}
	if (cl->given & TRAIN_GIVEN_LR)
		to->lr = cl->lr, to->decay = cl->decay, to->min_lr = cl->min_lr;
	if (cl->given & TRAIN_GIVEN_BETA)
		to->max_beta = cl->max_beta, to->beta_rate = cl->beta_rate;
	if (cl->given & TRAIN_GIVEN_FREE_BITS)
		to->free_bits = cl->free_bits;
	if (cl->given & TRAIN_GIVEN_KEEP)
		to->keep = cl->keep;
	if (cl->given & TRAIN_GIVEN_SAMPLING)
		to->sampling = cl->sampling, to->sampling_rate = cl->sampling_rate;
	if (cl->given & TRAIN_GIVEN_CLIP)
		to->clip = cl->clip;
	return 0;
}

static int
train_setup(struct train *tr, const struct train_hp *hp, const struct dataset *d, const char *dir, int resume,
    char *err, size_t errlen)
{
	tr->hp = *hp;
	if (resume) {
		if (train_state_read(tr, dir, resume & TRAIN_WARM ? TRAIN_ANY_DATA : d->count, err, errlen) < 0)
			return -1;
		tr->hp.steps = hp->steps;
		tr->hp.threads = hp->threads;
		if ((resume & TRAIN_WARM) && train_warm_hp(&tr->hp, hp, err, errlen) < 0)
			return -1;
	} else {
		if (tr->hp.num_steps == 0)
			tr->hp.num_steps = d->num_steps;
		tr->hp.roland = d->roland;
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
train_run(const struct train_hp *hp, const struct dataset *d, const char *dir, int resume,
    const struct train_hooks *hooks, char *err, size_t errlen)
{
	struct train tr;
	int threads = nn_get_threads(), rc = -1;

	memset(&tr, 0, sizeof tr);
	tr.hooks = hooks;
	err[0] = '\0';
	if (train_setup(&tr, hp, d, dir, resume, err, errlen) < 0)
		goto out;
	nn_set_threads(tr.hp.threads);
	tr.log.step0 = tr.step;
	tr.log.t0 = train_now();
	train_emit(&tr, &(struct train_event){ .kind = TRAIN_EV_START, .n_train = tr.n_train,
	    .n_valid = tr.n_valid, .model_kind = tr.hp.kind });
	if (train_loop(&tr, d, dir, err, errlen) < 0)
		goto out;
	if (tr.step >= tr.hp.steps && tr.step == tr.log.step0 && train_save(&tr, dir, d->count, err, errlen) < 0)
		goto out;
	rc = train_verify(dir, err, errlen);
out:
	train_free(&tr, threads);
	return rc;
}

int
train_evaluate_saved(const struct train_hp *hp, const struct dataset *d, const char *dir, long *at,
    struct train_eval *ev, char *err, size_t errlen)
{
	struct train tr;
	struct train_sched s;
	int threads = nn_get_threads(), rc = -1;
	long step;

	memset(&tr, 0, sizeof tr);
	err[0] = '\0';
	if (train_state_read(&tr, dir, TRAIN_ANY_DATA, err, errlen) < 0)     /* any dataset of its kind */
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
	train_evaluate(&tr.m, &tr.b, d, tr.valid_rows, tr.n_valid, tr.hp.kind, s.beta, s.free_nats, ev);
	*at = tr.step;
	rc = 0;
out:
	train_free(&tr, threads);
	return rc;
}

