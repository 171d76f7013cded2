/*
 * childcfg.h - the configuration of one child network: its macro layout and
 * its training recipe. It travels inside every genotype file (group /config),
 * so `train-child arch.h5` needs nothing else.
 */
#ifndef NASNET_CHILDCFG_H
#define NASNET_CHILDCFG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct h5f;
struct option;

enum stem_kind { STEM_CIFAR, STEM_IMAGENET };
enum lr_schedule { LR_COSINE, LR_CONSTANT };

struct macro_config {
	int stem;            /* enum stem_kind */
	int cells;           /* N: Normal cells per stack */
	int filters;         /* F: filters of the first stack (doubled at each reduction) */
	int in_c, in_h, in_w;
	int classes;
	int aux;             /* build the auxiliary head (training only) */
	float bn_momentum;   /* running stats: r = (1-m) r + m batch; TF decay 0.9 -> 0.1 */
	float bn_eps;
	float dropout_keep;  /* before the FC layer; 1 = off */
};

struct train_config {
	char data[1024];         /* dataset file (nasnet-c/dataset) */
	char data_fingerprint[17]; /* its fingerprint (dataset.h); "" = not recorded */
	int epochs;              /* used when steps == 0 */
	int64_t steps;           /* step budget; 0 = epochs * ceil(train_images / batch) */
	int batch;
	int64_t train_images;    /* seeded subset of /train; 0 = all */
	double lr;               /* initial learning rate */
	double lr_min;           /* cosine floor */
	int schedule;            /* enum lr_schedule */
	double momentum;
	int nesterov;
	double weight_decay;     /* L2 on conv/FC weights (not BN, not biases) */
	double clip;             /* global gradient norm clip; 0 = off */
	int cutout;              /* cutout square side in pixels; 0 = off */
	int crop_pad;            /* random crop after zero padding by this many pixels; 0 = off */
	int flip;                /* random horizontal flips */
	double label_smoothing;
	double aux_weight;
	double drop_path_keep;   /* final keep probability of ScheduledDropPath; 1 = off */
	uint64_t seed;
	/* successive halving: the budget above is the top rung's; rung k of `rungs`
	 * ends at ceil(total / eta^(rungs-1-k)) steps (train.h: rung_end_step) */
	int rungs;               /* 1 = one plain run */
	int eta;
};

struct child_config {
	struct macro_config macro;
	struct train_config train;
};

/* Defaults: a small Fashion-MNIST child (CIFAR stem, N=1, F=8, 1x28x28, 10 classes). */
void child_config_default(struct child_config *c);
/* Write/read as attributes of `group` (e.g. "/config"); reading checks ranges. */
int child_config_write(struct h5f *f, const char *group, const struct child_config *c);
int child_config_read(struct h5f *f, const char *group, struct child_config *c);
/* Range-check every field (the same ranges as reading); error() names `what`. */
int child_config_check(const struct child_config *c, const char *what);

/* The network's part of the ranges (stem, cells, filters, input, classes,
 * aux, BN, dropout): what net_create accepts. */
int child_config_check_macro(const struct macro_config *m, const char *what);

/*
 * Command-line flags of the child settings, all from the table in childcfg.c
 * (one range per setting, the one files are checked with). A tool appends
 * them to its own options and routes their code to child_config_set:
 *
 *   struct option opts[CHILD_CONFIG_MAX_OPTS];
 *   child_config_longopts(opts, CHILD_CONFIG_MAX_OPTS, tool_opts, OPT_CHILD);
 *   ... case OPT_CHILD: child_config_set(&cfg, opts[cli.longindex].name, optarg)
 *
 * A tool's own option of the same name wins (transfer's --data is not the
 * child's). Flags: --stem, --schedule, --data, and one per numeric setting;
 * a 0..1 setting is a switch, --X and --no-X. Returns the option count (the
 * array ends with a zero entry), or -1 when `max` is too small.
 */
#define CHILD_CONFIG_MAX_OPTS 128
int child_config_longopts(struct option *out, int max, const struct option *tool, int code);
/* Set the setting of `flag` (a name from child_config_longopts, no "--");
 * an out-of-range value is an error naming the flag and its range. */
int child_config_set(struct child_config *c, const char *flag, const char *arg);
/* The flags and their ranges, for usage texts. */
void child_config_flags_help(FILE *f);
/* The child settings a search run records, one line each: run setting name
 * (make search NAME=...), flag, default in a search; tab-separated. */
void child_config_print_run_settings(FILE *f);

/* The first setting that defines the network itself (stem, cells, filters,
 * aux, batch norm, dropout) and differs between a and b, or NULL. The input
 * shape, classes and training recipe are not compared: train-child may
 * override them. */
const char *child_config_net_diff(const struct child_config *a, const struct child_config *b);

/* 0 when a and b are the same configuration; else 1 and `out` names the
 * first difference ("lr 0.2, this run 0.05"; a is the recorded one). */
int child_config_diff(const struct child_config *a, const struct child_config *b, char *out,
		      size_t n);
/* "cifar"/"imagenet", "cosine"/"constant"; lookups return -1 when unknown. */
const char *stem_name(int stem);
int stem_lookup(const char *name);
const char *lr_schedule_name(int s);
int lr_schedule_lookup(const char *name);

#endif
