/*
 * transfer - scale the best cells of a search up and train them for real
 * (Zoph et al. 2018 §4: the same cells, stacked deeper and wider, trained
 * from scratch with the final recipe; no weights are copied).
 *
 * For each pick (the top K of a search run, or named genotypes) it writes
 * OUT/<name>/genotype.h5 (the scaled child configuration; `train-child`
 * could train it too, on /train only), trains it on train + valid with
 * train_child_splits() (checkpoints, resume to byte-identical weights, exit
 * 75 when stopped by a signal), evaluates it once on the test split and
 * records that in OUT/<name>/result.h5. Then it writes the table of every
 * pick: OUT/results.h5 (nasnet-c/transfer), results.md, results.csv, and
 * prints it. A re-run skips what is done, so the test split is evaluated once
 * per trained network.
 */
#include "cli.h"
#include "atomic.h"
#include "child.h"
#include "dataref.h"
#include "dataset.h"
#include "genofile.h"
#include "net.h"
#include "netfile.h"
#include "train.h"
#include "transfer.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum {
	OPT_RUN = OPT_TOOL_BASE, OPT_TOP, OPT_GENOTYPE, OPT_DATA, OPT_PENULTIMATE, OPT_CHILD,
	OPT_CKPT_SECONDS, OPT_CKPT_STEPS, OPT_STOP_AFTER, OPT_LIST, OPT_ONLY, OPT_EVAL_BATCH, OPT_PARETO,
};

#define MAX_PICKS 256

static void usage(FILE *f)
{
	fprintf(f,
		"usage: transfer [options] (--run RUN [--top K] | --genotype G ...)\n"
		"Scale cells up and train them with the final recipe on train + valid, then\n"
		"evaluate each once on the test split. Per network: OUT/<name>/genotype.h5,\n"
		"genotype.weights.h5, genotype.stats.h5, result.h5 (genotype.ckpt.h5 while\n"
		"training). Then OUT/results.h5 (nasnet-c/transfer), results.md, results.csv\n"
		"and the table on stdout. Run the same command again to resume: finished\n"
		"networks are skipped; SIGTERM/SIGINT checkpoint and exit 75.\n"
		"\n"
		"What to transfer:\n"
		"  --run RUN            a search run folder: its top K distinct cells by reward\n"
		"  --top K              how many (default 3); ties broken by (round, index)\n"
		"  --pareto K           instead, K cells spread along the run's accuracy-params\n"
		"                       Pareto front (RUN/pareto.tsv): the cheapest, the most\n"
		"                       accurate and evenly spaced ones between\n"
		"  --genotype G         built-in name (nasnet-a, darts-v2, ...), a genotype\n"
		"                       file (HDF5 or text) or genotype text; repeatable\n"
		"  --data FILE          dataset (default data/fashion-mnist.h5)\n"
		"  -o, --out DIR        output folder (default RUN/transfer, else transfer)\n"
		"  --list               print the network names (folders) and exit\n"
		"  --only NAME          train and report only this network; repeatable\n"
		"                       (no results.* files: for parallel jobs)\n"
		"Size (N@P: N cells per stack, P channels before the classifier):\n"
		"  --cells N            Normal cells per stack (default 2)\n"
		"  --filters F          filters of the first stack (default 16; NASNet-A: P=24F)\n"
		"  --penultimate P      choose F from P instead\n"
		"  --stem S             cifar (default) or imagenet\n"
		"  --aux, --no-aux      auxiliary head at 2/3 depth (default on)\n"
		"  --dropout-keep X     keep probability before the classifier (default 1)\n"
		"Recipe (defaults: the final CIFAR recipe shortened to fit Fashion-MNIST into\n"
		"about an hour on 2 cores; see schemas/transfer.md):\n"
		"  --steps N            step budget (default 8200: 8.75 epochs of 60,000)\n"
		"  --epochs N           whole epochs instead of the step budget\n"
		"  --batch N            default 64\n"
		"  --lr X               initial learning rate (default 0.05), cosine decay\n"
		"  --lr-min X           cosine floor (default 0)\n"
		"  --schedule S         cosine (default) or constant\n"
		"  --momentum X         default 0.9, Nesterov\n"
		"  --no-nesterov        plain momentum\n"
		"  --weight-decay X     L2 on conv/FC weights (default 5e-4)\n"
		"  --clip X             global gradient norm clip (default 5; 0 = off)\n"
		"  --cutout N           cutout square side (default 0 = off; 8 for long runs)\n"
		"  --crop-pad N         random crop after zero padding (default 2)\n"
		"  --flip, --no-flip    random horizontal flips (default on: label-preserving\n"
		"                       for centred clothing)\n"
		"  --label-smoothing X  default 0.1\n"
		"  --aux-weight X       auxiliary loss weight (default 0.4)\n"
		"  --drop-path-keep X   ScheduledDropPath final keep (default 0.9; 1 = off)\n"
		"  --train-images N     seeded subset of train + valid (default all)\n"
		"  --eval-batch N       test evaluation batch (default 250)\n"
		"Checkpoints:\n"
		"  --checkpoint-every S checkpoint at least every S seconds (default 120)\n"
		"  --checkpoint-steps N also every N steps\n"
		"  --stop-after N       stop after N steps of this run, as SIGTERM would\n"
		CLI_COMMON_HELP_TEXT
		"\n"
		CLI_EXIT_CODES_TEXT
		"  4 a network's loss diverged (NaN/Inf): its row says so.\n");
}

struct job {
	struct transfer_pick pick;
	struct child_config cfg;
	char dir[4096];
	struct transfer_row row;
};

static int mkdir_p(const char *path)
{
	char buf[4096];

	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return error("%s: path too long", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0777) < 0 && errno != EEXIST)
			return error("%s: cannot create folder:", buf);
		*p = '/';
	}
	if (mkdir(buf, 0777) < 0 && errno != EEXIST)
		return error("%s: cannot create folder:", buf);
	return 0;
}

static int file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* The first configuration field that differs, or NULL. */
static const char *config_differs(const struct child_config *a, const struct child_config *b)
{
	const struct macro_config *m = &a->macro, *n = &b->macro;
	const struct train_config *s = &a->train, *t = &b->train;

#define DIFF(x, y, name) if ((x) != (y)) return name
	DIFF(m->stem, n->stem, "stem");
	DIFF(m->cells, n->cells, "cells");
	DIFF(m->filters, n->filters, "filters");
	DIFF(m->in_c, n->in_c, "input_channels");
	DIFF(m->in_h, n->in_h, "input_height");
	DIFF(m->in_w, n->in_w, "input_width");
	DIFF(m->classes, n->classes, "classes");
	DIFF(m->aux, n->aux, "aux");
	DIFF(m->bn_momentum, n->bn_momentum, "bn_momentum");
	DIFF(m->bn_eps, n->bn_eps, "bn_eps");
	DIFF(m->dropout_keep, n->dropout_keep, "dropout_keep");
	DIFF(s->epochs, t->epochs, "epochs");
	DIFF(s->steps, t->steps, "steps");
	DIFF(s->batch, t->batch, "batch");
	DIFF(s->train_images, t->train_images, "train_images");
	DIFF(s->lr, t->lr, "lr");
	DIFF(s->lr_min, t->lr_min, "lr_min");
	DIFF(s->schedule, t->schedule, "schedule");
	DIFF(s->momentum, t->momentum, "momentum");
	DIFF(s->nesterov, t->nesterov, "nesterov");
	DIFF(s->weight_decay, t->weight_decay, "weight_decay");
	DIFF(s->clip, t->clip, "clip");
	DIFF(s->cutout, t->cutout, "cutout");
	DIFF(s->crop_pad, t->crop_pad, "crop_pad");
	DIFF(s->flip, t->flip, "flip");
	DIFF(s->label_smoothing, t->label_smoothing, "label_smoothing");
	DIFF(s->aux_weight, t->aux_weight, "aux_weight");
	DIFF(s->drop_path_keep, t->drop_path_keep, "drop_path_keep");
	DIFF(s->seed, t->seed, "seed");
#undef DIFF
	if (strcmp(s->data, t->data))
		return "data";
	return NULL;
}

/* Write OUT/<name>/genotype.h5, or check that the one there is this job's. */
static int prepare(struct job *j, const char *arch, const struct cli *c)
{
	struct genofile want, have;
	struct provenance prov;
	const char *field;

	genofile_init(&want);
	want.geno = j->pick.geno;
	snprintf(want.space, sizeof want.space, "%s", j->pick.geno.space);
	want.cfg = j->cfg;
	if (!file_exists(arch)) {
		if (mkdir_p(j->dir) < 0)
			return -1;
		cli_provenance(c, &prov);
		return genofile_write(arch, &want, &prov);
	}
	if (genofile_read(arch, &have) < 0)
		return -1;
	if (!have.has_cells || !genotype_equal(&have.geno, &want.geno))
		return error("%s: holds another genotype; use another --out", arch);
	field = config_differs(&have.cfg, &want.cfg);
	if (field)
		return error("%s: was started with another '%s'; use another --out, or remove %s "
			     "to start over", arch, field, j->dir);
	return 0;
}

/* Evaluate the trained network once on the test split and fill the row: 0,
 * TRAIN_ERROR, or TRAIN_BADINPUT when the dataset has no usable test split. */
static int evaluate_test(struct job *j, const char *arch, int eval_batch,
			 const struct train_env *env)
{
	char weights[4096], stats[4096];
	struct train_stats ts;
	struct child_eval ev;
	int rc;

	derived_path(weights, sizeof weights, arch, ".weights.h5");
	derived_path(stats, sizeof stats, arch, ".stats.h5");
	if (train_stats_read(stats, &ts) < 0)
		return TRAIN_ERROR;
	train_progress(env, "%s: evaluating once on the test split", j->row.name);
	rc = child_evaluate(weights, NULL, NULL, NULL, DS_TEST, eval_batch, 0, env, &ev);
	if (rc != TRAIN_OK)
		return rc;
	j->row.test_accuracy = ev.accuracy;
	j->row.test_loss = ev.loss;
	j->row.test_images = ev.images;
	j->row.steps = ts.steps;
	j->row.epochs = ts.epochs;
	j->row.train_images = ts.train_images;
	j->row.train_seconds = ts.seconds;
	j->row.images_per_second = ts.images_per_second;
	snprintf(j->row.train_split, sizeof j->row.train_split, "%s", ts.splits);
	return 0;
}

/* Train (or resume) one network and evaluate it: a train_status. */
static int run_job(struct job *j, const struct train_opts *o, int eval_batch,
		   const struct cli *c)
{
	char arch[4200], result[4200], failed[4200];
	struct provenance prov;
	struct train_env env = { &prov, cli_progress_line, c };
	struct transfer_row *rows;
	struct genofile gf;
	int64_t step;
	int nrows, rc;

	snprintf(arch, sizeof arch, "%s/genotype.h5", j->dir);
	snprintf(result, sizeof result, "%s/result.h5", j->dir);
	if (prepare(j, arch, c) < 0)
		return TRAIN_ERROR;
	if (file_exists(result)) {
		if (transfer_rows_read(result, &rows, &nrows) < 0)
			return TRAIN_ERROR;
		j->row = rows[0];
		free(rows);
		return strcmp(j->row.status, "ok") ? TRAIN_DIVERGED : TRAIN_OK;
	}
	if (genofile_read(arch, &gf) < 0)
		return TRAIN_ERROR;
	cli_provenance(c, &prov);
	progress(c, "%s: training %d@%d on %s (train+valid)", j->row.name, j->row.cells,
		 j->row.penultimate, j->cfg.train.data);
	rc = train_child_splits(arch, &gf, o, DS_TRAIN | DS_VALID, &env);
	if (rc == TRAIN_STOPPED || rc == TRAIN_ERROR || rc == TRAIN_BADINPUT)
		return rc;
	if (rc == TRAIN_DIVERGED) {
		derived_path(failed, sizeof failed, arch, ".failed.h5");
		if (failure_read(failed, j->row.status, sizeof j->row.status, &step) < 0)
			return TRAIN_ERROR;
	} else {
		int erc = evaluate_test(j, arch, eval_batch, &env);

		if (erc < 0)
			return erc;
	}
	if (transfer_rows_write(result, &j->row, 1, &prov) < 0)
		return TRAIN_ERROR;
	return rc;
}

static int write_text(const char *path, const struct transfer_row *rows, int n, int kind)
{
	char *text;
	size_t len;
	int rc;

	transfer_table_text(rows, n, kind, &text, &len);
	rc = atomic_write_file(path, text, len);
	free(text);
	return rc;
}

/* results.h5, results.md, results.csv in out; the markdown on stdout */
static int write_results(const char *out, const struct transfer_row *rows, int n, int files,
			 const struct cli *c)
{
	char path[4200], *text;
	struct provenance prov;
	size_t len;

	if (files) {
		cli_provenance(c, &prov);
		snprintf(path, sizeof path, "%s/results.h5", out);
		if (transfer_rows_write(path, rows, n, &prov) < 0)
			return -1;
		snprintf(path, sizeof path, "%s/results.md", out);
		if (write_text(path, rows, n, TRANSFER_MARKDOWN) < 0)
			return -1;
		snprintf(path, sizeof path, "%s/results.csv", out);
		if (write_text(path, rows, n, TRANSFER_CSV) < 0)
			return -1;
	}
	transfer_table_text(rows, n, TRANSFER_MARKDOWN, &text, &len);
	fwrite(text, 1, len, stdout);
	free(text);
	return cli_flush_stdout();
}

struct args {
	const char *run, *out, *data;
	long top;
	long pareto;   /* > 0: --pareto K instead of --top */
	const char *genotypes[MAX_PICKS];
	int ngenotypes;
	const char *only[MAX_PICKS];
	int nonly;
	int list;
	long penultimate, eval_batch;
};

static int parse_args(int argc, char **argv, struct cli *c, struct args *a,
		      struct child_config *cfg, struct train_opts *o)
{
	/* the tool's own options; the child settings' flags (--cells, --filters,
	 * --aux/--no-aux, --lr, ...) come from lib/arch/childcfg.c, with its ranges */
	static const struct option tool_opts[] = {
		CLI_COMMON_LONGOPTS,
		{ "out", required_argument, NULL, 'o' },
		{ "run", required_argument, NULL, OPT_RUN },
		{ "top", required_argument, NULL, OPT_TOP },
		{ "pareto", required_argument, NULL, OPT_PARETO },
		{ "genotype", required_argument, NULL, OPT_GENOTYPE },
		{ "data", required_argument, NULL, OPT_DATA },
		{ "penultimate", required_argument, NULL, OPT_PENULTIMATE },
		{ "checkpoint-every", required_argument, NULL, OPT_CKPT_SECONDS },
		{ "checkpoint-steps", required_argument, NULL, OPT_CKPT_STEPS },
		{ "stop-after", required_argument, NULL, OPT_STOP_AFTER },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "only", required_argument, NULL, OPT_ONLY },
		{ "eval-batch", required_argument, NULL, OPT_EVAL_BATCH },
		{ 0 }
	};
	struct option long_opts[CHILD_CONFIG_MAX_OPTS];
	int opt, rc;
	long v;

	if (child_config_longopts(long_opts, CHILD_CONFIG_MAX_OPTS, tool_opts, OPT_CHILD) < 0)
		return -1;

	while ((opt = cli_next_option(c, argc, argv, "hqo:", long_opts, usage, &rc)) != -1) {
		switch (opt) {
		case CLI_EXIT:
			return rc == EXIT_OK ? 1 : -1;
		case 'o':
			a->out = optarg;
			break;
		case OPT_RUN:
			a->run = optarg;
			break;
		case OPT_TOP:
			if (parse_long(optarg, 1, MAX_PICKS, &a->top) < 0)
				goto bad;
			break;
		case OPT_PARETO:
			if (parse_long(optarg, 1, MAX_PICKS, &a->pareto) < 0)
				goto bad;
			break;
		case OPT_GENOTYPE:
			if (a->ngenotypes == MAX_PICKS)
				goto bad;
			a->genotypes[a->ngenotypes++] = optarg;
			break;
		case OPT_ONLY:
			if (a->nonly == MAX_PICKS)
				goto bad;
			a->only[a->nonly++] = optarg;
			break;
		case OPT_LIST:
			a->list = 1;
			break;
		case OPT_DATA:
			a->data = optarg;
			break;
		case OPT_PENULTIMATE:
			if (parse_long(optarg, 1, 1 << 20, &a->penultimate) < 0)
				goto bad;
			break;
		case OPT_CHILD: {
			const char *name = long_opts[c->longindex].name;

			if (child_config_set(cfg, name, optarg) < 0) {
				usage(stderr);
				return -1;
			}
			/* the last of --filters/--penultimate and --epochs/--steps wins */
			if (!strcmp(name, "filters"))
				a->penultimate = 0;
			if (!strcmp(name, "epochs"))
				cfg->train.steps = 0;
			break;
		}
		case OPT_CKPT_SECONDS:
			if (parse_double(optarg, 0, 1e9, &o->checkpoint_seconds) < 0)
				goto bad;
			break;
		case OPT_CKPT_STEPS:
			if (parse_long(optarg, 1, 1L << 40, &v) < 0)
				goto bad;
			o->checkpoint_steps = v;
			break;
		case OPT_STOP_AFTER:
			if (parse_long(optarg, 1, 1L << 40, &v) < 0)
				goto bad;
			o->stop_after = v;
			break;
		case OPT_EVAL_BATCH:
			if (parse_long(optarg, 1, 65536, &a->eval_batch) < 0)
				goto bad;
			break;
		}
		continue;
bad:
		error("invalid value '%s' for an option", optarg ? optarg : "");
		usage(stderr);
		return -1;
	}
	if (optind != argc) {
		error("unexpected argument '%s'", argv[optind]);
		usage(stderr);
		return -1;
	}
	if (!a->run && a->ngenotypes == 0) {
		error("nothing to transfer: give --run RUN or --genotype G");
		usage(stderr);
		return -1;
	}
	return 0;
}

/* The recipe defaults of transfer (usage text; schemas/transfer.md). */
static void transfer_defaults(struct child_config *cfg)
{
	struct train_config *t = &cfg->train;

	child_config_default(cfg);
	cfg->macro.cells = 2;
	cfg->macro.filters = 16;
	cfg->macro.aux = 1;
	t->epochs = 0;
	t->steps = 8200;   /* 8.75 epochs of 60,000: 93.2 % in 52 min (schemas/transfer.md) */
	t->batch = 64;
	t->lr = 0.05;
	t->lr_min = 0;
	t->schedule = LR_COSINE;
	t->momentum = 0.9;
	t->nesterov = 1;
	t->weight_decay = 5e-4;
	t->clip = 5;
	t->cutout = 0;
	t->crop_pad = 2;
	t->flip = 1;
	t->label_smoothing = 0.1;
	t->aux_weight = 0.4;
	t->drop_path_keep = 0.9;
}

/* Size each job, name its folder and drop repeated folders. */
static int plan_jobs(struct job *jobs, int *njobs, const struct args *a, const char *out)
{
	int kept = 0;

	for (int i = 0; i < *njobs; i++) {
		struct job *j = &jobs[i];
		int dup = 0;

		if (a->penultimate > 0 &&
		    transfer_filters_for(&j->pick.geno, &j->cfg.macro, (int)a->penultimate,
					 &j->cfg.macro.filters) < 0)
			return error("%s: cannot size the network", j->pick.name);
		transfer_row_init(&j->row);
		if (transfer_size(&j->pick.geno, &j->cfg.macro, &j->row.penultimate, &j->row.params,
				  &j->row.mult_adds) < 0)
			return error("%s: cannot build N=%d F=%d", j->pick.name,
				     j->cfg.macro.cells, j->cfg.macro.filters);
		snprintf(j->row.name, sizeof j->row.name, "%s-n%d-f%d", j->pick.name,
			 j->cfg.macro.cells, j->cfg.macro.filters);
		if (genotype_format(&j->pick.geno, j->row.genotype, sizeof j->row.genotype) < 0)
			return -1;
		snprintf(j->row.data, sizeof j->row.data, "%s", j->cfg.train.data);
		j->row.cells = j->cfg.macro.cells;
		j->row.filters = j->cfg.macro.filters;
		j->row.search_reward = j->pick.reward;
		if (snprintf(j->dir, sizeof j->dir, "%s/%s", out, j->row.name) >= (int)sizeof j->dir)
			return error("%s: path too long", out);
		for (int k = 0; k < kept && !dup; k++)
			dup = !strcmp(jobs[k].row.name, j->row.name);
		if (!dup && kept != i)
			jobs[kept] = *j;
		kept += !dup;
	}
	*njobs = kept;
	return 0;
}

static int selected(const struct args *a, const char *name)
{
	if (a->nonly == 0)
		return 1;
	for (int i = 0; i < a->nonly; i++)
		if (!strcmp(a->only[i], name))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct cli c;
	struct args a = { .top = 3, .data = "data/fashion-mnist.h5", .eval_batch = 250 };
	char defdata[4096];
	struct train_opts o = { .checkpoint_seconds = 120.0 };
	struct child_config cfg;
	struct transfer_pick *picks = NULL;
	struct transfer_row *rows = NULL;
	struct job *jobs = NULL;
	struct dataset shape;
	char out[4096];
	int npicks = 0, njobs = 0, nrows = 0, diverged = 0, rc, status = EXIT_FAIL;

	cli_init(&c, argc, argv, "transfer");
	transfer_defaults(&cfg);
	rc = parse_args(argc, argv, &c, &a, &cfg, &o);
	if (rc)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	cfg.train.seed = c.seed;
	a.data = dataref_default(a.data, defdata, sizeof defdata);
	snprintf(cfg.train.data, sizeof cfg.train.data, "%s", a.data);
	if (a.out)
		snprintf(out, sizeof out, "%s", a.out);
	else if (a.run)
		snprintf(out, sizeof out, "%s/transfer", a.run);
	else
		snprintf(out, sizeof out, "transfer");

	/* the input shape and classes follow the dataset */
	if (dataset_load(a.data, &shape, 0) < 0)
		return EXIT_BADINPUT;
	cfg.macro.in_c = shape.c;
	cfg.macro.in_h = shape.h;
	cfg.macro.in_w = shape.w;
	cfg.macro.classes = shape.num_classes;
	dataset_free(&shape);
	if (dataref_bind(&cfg.train) < 0)
		return EXIT_BADINPUT;
	if (child_config_check(&cfg, "transfer") < 0)
		return EXIT_USAGE;

	jobs = xcalloc(MAX_PICKS * 2, sizeof *jobs);
	if (a.run) {
		if ((a.pareto ? transfer_run_pareto(a.run, (int)a.pareto, &picks, &npicks)
			      : transfer_run_top(a.run, (int)a.top, &picks, &npicks)) < 0)
			goto out;
		for (int i = 0; i < npicks; i++)
			jobs[njobs++].pick = picks[i];
	}
	for (int i = 0; i < a.ngenotypes; i++)
		if (transfer_pick_named(a.genotypes[i], &jobs[njobs++].pick) < 0) {
			status = EXIT_BADINPUT;
			goto out;
		}
	for (int i = 0; i < njobs; i++)
		jobs[i].cfg = cfg;
	if (plan_jobs(jobs, &njobs, &a, out) < 0)
		goto out;
	for (int i = 0; i < a.nonly; i++) {
		int found = 0;

		for (int k = 0; k < njobs && !found; k++)
			found = !strcmp(jobs[k].row.name, a.only[i]);
		if (!found) {
			error("--only %s: no such network (see --list)", a.only[i]);
			status = EXIT_USAGE;
			goto out;
		}
	}
	if (a.list) {
		for (int i = 0; i < njobs; i++)
			if (selected(&a, jobs[i].row.name))
				printf("%s\n", jobs[i].row.name);
		status = cli_flush_stdout() < 0 ? EXIT_FAIL : EXIT_OK;
		goto out;
	}

	cli_apply_threads(&c);
	rows = xcalloc((size_t)njobs, sizeof *rows);
	for (int i = 0; i < njobs; i++) {
		if (!selected(&a, jobs[i].row.name))
			continue;
		rc = run_job(&jobs[i], &o, (int)a.eval_batch, &c);
		if (rc == TRAIN_STOPPED) {
			status = EXIT_REQUEUE;
			goto out;
		}
		if (rc == TRAIN_BADINPUT) {
			status = EXIT_BADINPUT;
			goto out;
		}
		if (rc == TRAIN_ERROR)
			goto out;
		diverged += rc == TRAIN_DIVERGED;
		rows[nrows++] = jobs[i].row;
	}
	if (write_results(out, rows, nrows, a.nonly == 0, &c) < 0)
		goto out;
	status = diverged ? 4 : EXIT_OK;
out:
	free(rows);
	free(jobs);
	free(picks);
	return status;
}
