/*
 * train.h - training a child network from its genotype file, with
 * checkpoints that make a killed run resume to byte-identical weights.
 *
 * Files, for an input DIR/NAME.h5 (the genotype file, schemas/genotype.md):
 *   DIR/NAME.weights.h5  trained network (nasnet-c/network), the result
 *   DIR/NAME.ckpt.h5     latest checkpoint (nasnet-c/checkpoint); removed
 *                        when the weights are written
 *   DIR/NAME.stats.h5    wall time, images/s, steps, epochs, training
 *                        images and splits of the training
 *                        (nasnet-c/trainstats; kept out of the weights so
 *                        that they are byte-identical across resumes)
 *   DIR/NAME.failed.h5   failure record (nasnet-c/failure) when the loss
 *                        became NaN/Inf: reason, step, loss
 *
 * Training images: /train, or /train and /valid appended in that order when
 * train_child_splits() is given DS_TRAIN | DS_VALID (the final recipe:
 * transfer); the checkpoint
 * records which (`train_splits`), so a resume cannot mix them. The seeded
 * subset train_images, if any, is drawn from those images.
 *
 * Determinism: every random draw of step s comes from streams derived from
 * (seed, s) or (seed, epoch): data order rng_stream(seed, epoch, 0,
 * RNG_DATA), augmentation rng_stream(seed, s, 1, RNG_DATA), drop path
 * rng_stream(seed, s, 0, RNG_DROP). A checkpoint therefore needs only the
 * parameters, BN buffers, momentum and the step, and resuming from any
 * checkpoint replays exactly the same computation.
 */
#ifndef NASNET_TRAIN_H
#define NASNET_TRAIN_H

#include <stdint.h>

#include "genofile.h"
#include "h5io.h"

#define CHECKPOINT_FORMAT "nasnet-c/checkpoint"
#define CHECKPOINT_VERSION 1
#define FAILURE_FORMAT "nasnet-c/failure"
#define FAILURE_VERSION 1
#define TRAINSTATS_FORMAT "nasnet-c/trainstats"
#define TRAINSTATS_VERSION 1

enum train_status {
	TRAIN_OK = 0,
	TRAIN_ERROR = -1,      /* error() printed */
	TRAIN_BADINPUT = -2,   /* error() printed: the dataset or the genotype cannot be
				* trained (unreadable, no network, shape or classes differ) */
	TRAIN_USAGE = -3,      /* error() printed: a request the input cannot satisfy
				* (a rung beyond the genotype's rung plan) */
	TRAIN_DIVERGED = 1,    /* NaN/Inf loss: failure record written */
	TRAIN_STOPPED = 2,     /* SIGTERM/SIGUSR1: checkpoint written, run again */
};

struct train_opts {
	double checkpoint_seconds;  /* checkpoint at least this often (and at epoch ends) */
	int64_t checkpoint_steps;   /* also every this many steps; 0 = off */
	int64_t stop_after;         /* stop (as if signalled) after this many steps of this run; 0 = off */
	const char *out;            /* weights path override (NULL: NAME.weights.h5) */
	int rung;                   /* successive halving: train to the end of this rung */
};

/*
 * What training and evaluation need from their caller instead of the
 * command line: the provenance recorded in every file they write, and where
 * progress lines go (NULL progress: silent). A tool fills it from its cli:
 *   struct train_env env = { &prov, cli_progress_line, &cli };
 */
struct train_env {
	const struct provenance *prov;
	void (*progress)(const void *ctx, const char *line);
	const void *ctx;
};
/* One progress line through env (printf-style). */
void train_progress(const struct train_env *env, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "DIR/NAME.h5" -> "DIR/NAME<suffix>" (suffix like ".weights.h5") */
void derived_path(char *out, size_t n, const char *arch_path, const char *suffix);
/* The reverse: 1 and "DIR/NAME.h5" in arch when path is one of its derived files
 * and DIR/NAME.h5 exists, else 0. `parallel score ::: arch_*.h5` in a round folder
 * also matches the weights and stats files: the tools pass over them. */
int derived_arch(const char *path, char *arch, size_t n);

/* Whole job of train-child: returns enum train_status. Trains on /train. */
int train_child(const char *arch_path, const struct genofile *gf, const struct train_opts *o,
		const struct train_env *env);
/* The same on the splits `splits`: DS_TRAIN, or DS_TRAIN | DS_VALID (the
 * final recipe, used by transfer); anything else is an error. */
int train_child_splits(const char *arch_path, const struct genofile *gf,
		       const struct train_opts *o, unsigned splits, const struct train_env *env);

/*
 * The step budget for `nimg` training images: *batch receives the batch
 * actually used (at most nimg), *steps_per_epoch nimg / batch (a partial
 * last batch is dropped), and the total is t->steps, else epochs * that.
 */
int64_t train_total_steps(const struct train_config *t, int nimg, int *batch,
			  int64_t *steps_per_epoch);

/* Cosine (or constant) learning rate at step s of total; with a rung plan
 * (t->rungs > 1) too, one cosine over the top rung's total. */
double lr_at(const struct train_config *t, int64_t s, int64_t total);

/*
 * Successive halving (schemas/genotype.md, "Rungs"): rung k of t->rungs ends
 * after ceil(total / eta^(rungs-1-k)) steps (at least 1); the top rung at
 * total. Rung k's files are NAME.rK.weights.h5, .stats.h5, .ckpt.h5,
 * .failed.h5, .reward.h5, and for every rung but the top NAME.rK.state.h5,
 * the checkpoint the next rung continues from. A plain plan (rungs 1) keeps
 * the plain names.
 */
int64_t rung_end_step(const struct train_config *t, int64_t total, int rung);
void rung_path(char *out, size_t n, const char *arch_path, const struct train_config *t,
	       int rung, const char *suffix);

/* Evaluate on a split (BN eval mode): accuracy in [0,1] and mean loss.
 * -1 (one error line) when the split's images or the dataset's classes do
 * not fit the network; *loss is NaN when the outputs are non-finite. */
struct net;
struct dataset;
struct dataset_split;
struct macro_config;
/* 0 when dataset d (file `data`) has the child's input shape and classes,
 * else -1 with one line "who: dataset DATA is CxHxW with K classes, ...". */
int dataset_fits_child(const char *who, const char *data, const struct dataset *d,
		       const struct macro_config *m);
int evaluate(struct net *n, const struct dataset *d, const struct dataset_split *s, int batch,
	     const struct train_env *env, double *accuracy, double *loss);

/* Read the training statistics (for score). */
int stats_read(const char *path, double *seconds, double *images_per_second);

/* All of a stats file (for transfer's table). */
struct train_stats {
	double seconds;            /* training wall time, summed over resumes */
	double images_per_second;  /* images / seconds */
	int64_t steps, images;     /* steps of the budget, images processed */
	int64_t train_images;      /* training images an epoch walks through (0: unknown) */
	double epochs;             /* steps / steps per epoch (NaN: unknown) */
	char splits[16];           /* "train" or "train+valid" */
	int64_t rung;              /* successive-halving rung (0 for a plain run) */
	int64_t rung_images;       /* images this rung trained itself (promoted: beyond the */
	double rung_seconds;       /* previous rung's state), and its wall time */
};
int train_stats_read(const char *path, struct train_stats *s);

/* Read a failure record (for score): reason and step. */
int failure_read(const char *path, char *reason, size_t n, int64_t *step);

#endif
