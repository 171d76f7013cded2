/*
 * train-child - train the child network a genotype file describes.
 *
 * The genotype file carries everything (genotype, macro layout, recipe,
 * dataset path, seed), so `parallel train-child ::: arch_*.h5` needs no
 * other argument. See lib/train/train.h for the files it writes and why resuming
 * is byte-identical.
 */
#include "cli.h"
#include "dataref.h"
#include "dataset.h"
#include "genofile.h"
#include "train.h"

#include <stdlib.h>
#include <string.h>

enum {
	OPT_CKPT_SECONDS = OPT_TOOL_BASE, OPT_CKPT_STEPS, OPT_STOP_AFTER, OPT_STEPS, OPT_EPOCHS,
	OPT_LR, OPT_DATA, OPT_BATCH, OPT_RUNG,
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: train-child [options] ARCH.h5\n"
		"Train the child network of a genotype file (nasnet-c/genotype) with the recipe\n"
		"stored in it. Writes ARCH.weights.h5 (network), ARCH.stats.h5 (time, images/s);\n"
		"keeps ARCH.ckpt.h5 while training; on a NaN/Inf loss writes ARCH.failed.h5.\n"
		"Run again after a crash or kill: it resumes from the checkpoint and ends with\n"
		"weights byte-identical to an uninterrupted run (same --threads).\n"
		"SIGTERM, SIGUSR1 or SIGINT: checkpoint, then exit 75.\n"
		"\n"
		"  -o, --out FILE           weights file (default ARCH.weights.h5)\n"
		"      --checkpoint-every S checkpoint at least every S seconds (default 120)\n"
		"      --checkpoint-steps N also checkpoint every N steps\n"
		"      --stop-after N       stop after N steps of this run, as SIGTERM would\n"
		"      --steps N            override the step budget\n"
		"      --epochs N           override the number of epochs\n"
		"      --batch N            override the batch size\n"
		"      --lr X               override the initial learning rate\n"
		"      (--seed N overrides the training seed stored in ARCH.h5)\n"
		"      --data FILE          train on another dataset (input shape and classes follow it)\n"
		"      --rung K             successive halving: train to the end of rung K of the\n"
		"                           genotype's rung plan (default 0), continuing from\n"
		"                           ARCH.r<K-1>.state.h5 when it exists; files ARCH.rK.*\n"
		CLI_COMMON_HELP_TEXT
		"\n"
		CLI_EXIT_CODES_TEXT
		"  4 the loss diverged (NaN/Inf): failure record ARCH.failed.h5 written.\n");
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		CLI_COMMON_LONGOPTS,
		{ "out", required_argument, NULL, 'o' },
		{ "checkpoint-every", required_argument, NULL, OPT_CKPT_SECONDS },
		{ "checkpoint-steps", required_argument, NULL, OPT_CKPT_STEPS },
		{ "stop-after", required_argument, NULL, OPT_STOP_AFTER },
		{ "steps", required_argument, NULL, OPT_STEPS },
		{ "epochs", required_argument, NULL, OPT_EPOCHS },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "lr", required_argument, NULL, OPT_LR },
		{ "data", required_argument, NULL, OPT_DATA },
		{ "rung", required_argument, NULL, OPT_RUNG },
		{ 0 }
	};
	struct cli c;
	struct provenance prov;
	struct train_env env = { &prov, cli_progress_line, &c };
	struct train_opts o = { .checkpoint_seconds = 120.0 };
	struct genofile gf;
	long steps = -1, epochs = -1, batch = -1;
	double lr = -1;
	const char *data = NULL, *want = "";
	char arch[4096];
	int opt, rc;
	long v;

	cli_init(&c, argc, argv, "train-child");
	while ((opt = cli_next_option(&c, argc, argv, "hqo:", long_opts, usage, &rc)) != -1) {
		switch (opt) {
		case CLI_EXIT:
			return rc;
		case 'o':
			o.out = optarg;
			break;
		case OPT_CKPT_SECONDS:
			want = "0..1e9 seconds";
			if (parse_double(optarg, 0, 1e9, &o.checkpoint_seconds) < 0)
				goto bad;
			break;
		case OPT_CKPT_STEPS:
			want = "an integer >= 1";
			if (parse_long(optarg, 1, 1L << 40, &v) < 0)
				goto bad;
			o.checkpoint_steps = v;
			break;
		case OPT_STOP_AFTER:
			want = "an integer >= 1";
			if (parse_long(optarg, 1, 1L << 40, &v) < 0)
				goto bad;
			o.stop_after = v;
			break;
		case OPT_STEPS:
			want = "an integer >= 1";
			if (parse_long(optarg, 1, 1L << 40, &steps) < 0)
				goto bad;
			break;
		case OPT_EPOCHS:
			want = "1..100000";
			if (parse_long(optarg, 1, 100000, &epochs) < 0)
				goto bad;
			break;
		case OPT_BATCH:
			want = "1..65536";
			if (parse_long(optarg, 1, 65536, &batch) < 0)
				goto bad;
			break;
		case OPT_LR:
			want = "a finite number >= 0";
			if (parse_double(optarg, 0, 1e30, &lr) < 0)
				goto bad;
			break;
		case OPT_DATA:
			data = optarg;
			break;
		case OPT_RUNG:
			if (parse_long(optarg, 0, 15, &v) < 0)
				goto bad;
			o.rung = (int)v;
			break;
		}
		continue;
bad:
		/* one line naming the option; --help has the rest */
		error("--%s: invalid value '%s' (expected %s)", long_opts[c.longindex].name, optarg,
		      want);
		return EXIT_USAGE;
	}
	if (optind != argc - 1) {
		error("expected exactly one genotype file");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (derived_arch(argv[optind], arch, sizeof arch)) {
		progress(&c, "%s: skipped, a file of %s (not a genotype file)", argv[optind], arch);
		return EXIT_OK;
	}
	if (genofile_read(argv[optind], &gf) < 0 ||
	    (!data && dataref_resolve(&gf.cfg.train, argv[optind]) < 0))
		return EXIT_BADINPUT;
	if (c.seed_given)
		gf.cfg.train.seed = c.seed;
	if (steps > 0)
		gf.cfg.train.steps = steps;
	if (epochs > 0)
		gf.cfg.train.epochs = (int)epochs, gf.cfg.train.steps = steps > 0 ? steps : 0;
	if (batch > 0)
		gf.cfg.train.batch = (int)batch;
	if (lr >= 0)
		gf.cfg.train.lr = lr;
	if (data) {
		struct macro_config *m = &gf.cfg.macro;

		snprintf(gf.cfg.train.data, sizeof gf.cfg.train.data, "%s", data);
		/* the weights then record this dataset, its absolute path and fingerprint */
		gf.cfg.train.data_fingerprint[0] = '\0';
		if (dataset_peek(data, &m->in_c, &m->in_h, &m->in_w, &m->classes) < 0 ||
		    dataref_bind(&gf.cfg.train) < 0)
			return EXIT_BADINPUT;
	}
	cli_apply_threads(&c);
	cli_provenance(&c, &prov);
	rc = train_child(argv[optind], &gf, &o, &env);
	switch (rc) {
	case TRAIN_OK:
		return EXIT_OK;
	case TRAIN_DIVERGED:
		return 4;
	case TRAIN_STOPPED:
		return EXIT_REQUEUE;
	case TRAIN_BADINPUT:
		return EXIT_BADINPUT;
	default:
		return EXIT_FAIL;
	}
}
