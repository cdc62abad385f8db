/* SPDX-License-Identifier: GPL-3.0-or-later */
/* train.h: `musicvae train`: a flat MusicVAE (melody, drums or GrooVAE; 2 or more bars) trained with nn.c's forward passes and
 * grad.c's backward passes, Adam and Magenta's schedules, written as a magenta.js checkpoint directory. */
#ifndef MVD_TRAIN_H
#define MVD_TRAIN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "metrics.h"
#include "nn.h"
#include "opt.h"

#define TRAIN_MAX_LAYERS 4
#define TRAIN_MAX_PARAMS (10 + 2 * TRAIN_MAX_LAYERS)
#define TRAIN_STATE_FILE "train_state.bin"
#define TRAIN_RESUME 1          /* train_run's resume: continue from dir's state on the dataset it was saved for */
#define TRAIN_WARM 4            /* with TRAIN_RESUME: on any dataset of the model's kind (fine-tuning) */
#define TRAIN_ANY_DATA UINT64_MAX
#define TRAIN_LOG_FILE "train_log.csv"
#define TRAIN_PLOT_FILE "train_log.png"

/* Hyper-parameters, named after Magenta's HParams where one exists. */
struct train_hp {
	int kind;               /* enum dataset_kind */
	int num_steps;          /* window length T (0: the dataset's) */
	int roland;             /* drum classes: Magenta's Roland ones (the dataset's; written into config.json) */
	int humanize;           /* groove: the encoder input without velocities and offsets (config "humanize") */
	int z, enc_units, dec_units, dec_layers, batch;
	long steps;             /* global step to stop at */
	double lr, decay, min_lr;               /* learning_rate, decay_rate, min_learning_rate */
	double max_beta, beta_rate, free_bits;
	double clip, clip_to_zero;              /* grad_clip, grad_norm_clip_to_zero (global norm) */
	int sampling;           /* enum opt_sampling */
	double sampling_rate;
	double keep;            /* dropout keep probability of the decoder's top-layer output (1: none) */
	int patience;           /* validations without improvement before stopping (0: never stop early) */
	long eval_every, log_every, save_every;
	int valid_max;          /* validation windows evaluated (0: all) */
	uint64_t seed;
	int threads;            /* OpenBLAS threads: bitwise results hold for one thread count */
	unsigned given;         /* TRAIN_GIVEN_*: set on the command line (a warm start takes them over the saved) */
};

/* Schedules a warm start may change (the shape of the model it may not). */
#define TRAIN_GIVEN_LR 1u               /* lr, decay, min_lr */
#define TRAIN_GIVEN_BETA 2u             /* max_beta, beta_rate */
#define TRAIN_GIVEN_FREE_BITS 4u
#define TRAIN_GIVEN_KEEP 8u             /* dropout */
#define TRAIN_GIVEN_SAMPLING 16u        /* sampling, sampling_rate */
#define TRAIN_GIVEN_CLIP 32u
#define TRAIN_GIVEN_SHAPE 64u           /* z, units, layers: refused on a warm start */

/* The trainable model: every tensor, in checkpoint order, and the layer views over them. */
struct train_model {
	int kind;               /* enum dataset_kind */
	int roland;             /* the config's pitchClasses are Magenta's Roland classes */
	int humanize;           /* groove: encoder input of hits only */
	int D_in, D, T, Z, Ue, Ud, L;   /* encoder input, classes (groove: output columns), steps, latent, units,
	                                 * decoder layers */
	struct opt_param p[TRAIN_MAX_PARAMS];
	int shape[TRAIN_MAX_PARAMS][2]; /* rows, cols (0 for a vector) */
	char *name[TRAIN_MAX_PARAMS];
	int np;
	struct nn_lstm efw, ebw;        /* encoder bi-LSTM [D_in + Ue, 4Ue] */
	struct nn_dense mu, sigma;      /* [2Ue, Z] */
	struct nn_lstm cell[TRAIN_MAX_LAYERS]; /* layer 0 [D + Z + Ud, 4Ud], then [2Ud, 4Ud] */
	struct nn_dense init;           /* z_to_initial_state [Z, 2 L Ud] */
	struct nn_dense proj;           /* output_projection [Ud, D] */
};

/* Validation metrics (z = mu). */
struct train_eval {
	double loss, ce, kl;    /* per window: CE summed over steps, KL in nats; loss = ce + beta * KL cost
	                         * (a checkpoint alone has no sigma: loss and kl are NAN there) */
	double acc_tf;          /* per-step accuracy, teacher forced */
	double acc_sampled;     /* per-step accuracy of the argmax reconstruction: z = mu, the decoder fed its own
	                         * argmax at every 16th step (MusicVAE Table 1) */
	long n;
	struct metrics music;   /* the argmax reconstruction against the input (metrics.h) */
	long skipped;           /* checkpoint: windows its converter cannot take (pitch range) */
	/* groove: the loss's parts per window (teacher forced), and the argmax reconstruction's velocity and
	 * offset at the input's hits against the input's: squared error sums, and those of predicting the mean
	 * of the train windows' hits (the baseline a model must beat) */
	double g_hits, g_vel, g_off;
	double vel_se, off_se, vel_se_mean, off_se_mean;       /* velocity 0..1, offset -1..1 (GrooveConverter) */
	long g_n;               /* hits in the input */
};

/* One step's (or a mean over steps') training metrics. */
struct train_metrics {
	double loss, ce, kl, norm;
};

enum train_event_kind {
	TRAIN_EV_START,         /* n_train, n_valid, model_kind */
	TRAIN_EV_STEP,          /* after every update: mt = its metrics */
	TRAIN_EV_LOG,           /* a CSV row: mt = the mean since the last row */
	TRAIN_EV_EVAL,          /* a validation: ev */
	TRAIN_EV_EARLY_STOP,    /* best_step: the last validation that improved */
};

/* What train_run reports as it goes; the caller decides what to print. */
struct train_event {
	enum train_event_kind kind;
	long step, steps, first;        /* global step done, step to stop at, step the run started from */
	int batch;
	double elapsed;                 /* seconds since the run started (monotonic) */
	const struct train_metrics *mt;
	const struct train_eval *ev;
	size_t n_train, n_valid;
	int model_kind;                 /* enum dataset_kind */
	long best_step;
};

struct train_hooks {
	void (*event)(void *ctx, const struct train_event *e);  /* NULL: nothing reported */
	void *ctx;
	volatile sig_atomic_t *stop;    /* set (by a signal handler): save the state and return; may be NULL */
};

/* Magenta's defaults for kind (cat-mel_2bar / cat-drums_2bar schedules, smaller layers). */
void train_hp_init(struct train_hp *hp, int kind);
/* Allocates the model for hp and initialises it from hp->seed (Glorot kernels, zero biases, N(0, 0.001)
 * for mu, sigma and z_to_initial_state). Returns 0 or -1 with err. */
int train_model_init(struct train_model *m, const struct train_hp *hp, char *err, size_t errlen);
/* Frees the model. */
void train_model_fini(struct train_model *m);
/* Writes the model as a float32 magenta.js checkpoint directory (config.json included). */
int train_model_write(const struct train_model *m, const char *dir, char *err, size_t errlen);
/* Encoder input x [T, D_in] of one window's tokens, exactly codec_encode's tensor (drums: Python Magenta's
 * roll, drums_js_shift = 0; groove: GrooveConverter's rows [hits | velocity / 127 | offset], from g
 * [T, DATASET_GROOVE_COLS], which other kinds ignore). */
void train_window_input(int kind, const uint16_t *tok, const int16_t *g, int T, float *x);
/* Mean velocity (0..1) and GrooveConverter offset (-1..1) of the hits of d's train windows (groove). */
void train_groove_mean(const struct dataset *d, double mean[2]);
/* Trains on d (split 0 trains, split 1 validates) into dir; resume (TRAIN_RESUME, | TRAIN_WARM) continues from
 * dir's state file: step, weights, optimizer and schedules carry on. hooks
 * (may be NULL) hear of progress and may ask to stop. Returns 0 or -1 with err. */
int train_run(const struct train_hp *hp, const struct dataset *d, const char *dir, int resume,
    const struct train_hooks *hooks, char *err, size_t errlen);
/* The validation metrics ev of dir's saved state on d's validation windows (any dataset of its kind; all
 * of them unless hp->valid_max), and the state's step; hp->threads OpenBLAS threads. Writes nothing. */
int train_evaluate_saved(const struct train_hp *hp, const struct dataset *d, const char *dir, long *step,
    struct train_eval *ev, char *err, size_t errlen);
/* train_eval.c: the same metrics (not loss and KL) of the checkpoint directory dir (any flat MelodyConverter,
 * DrumsConverter or GrooveConverter model, ours or Magenta's) through the inference path: enc_run's mu, dec.c's argmax decode,
 * and dec.c teacher forced; on d's validation windows (the first valid_max; 0: all); threads OpenBLAS
 * threads. Returns 0 or -1 with err. */
int train_evaluate_checkpoint(const char *dir, const struct dataset *d, int valid_max, int threads,
    struct train_eval *ev, char *err, size_t errlen);

#endif
