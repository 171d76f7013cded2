/*
 * score - evaluate a trained child on held-out data and write its reward:
 * a thin main over child_score() (lib/train/child.c).
 */
#include "child.h"
#include "cli.h"
#include "cost.h"

#include <string.h>

enum {
	OPT_SPLIT = OPT_TOOL_BASE, OPT_REWARD, OPT_FAILED, OPT_BATCH, OPT_WEIGHTS, OPT_DATA, OPT_RUNG,
	OPT_TARGET_MACS, OPT_TARGET_LAT, OPT_REWARD_W,
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: score [options] ARCH.h5\n"
		"Evaluate the trained child of a genotype file (weights ARCH.weights.h5) with\n"
		"batch norm in eval mode and write ARCH.reward.h5 (nasnet-c/reward): accuracy,\n"
		"loss, reward, params, mult_adds, training seconds and images/s. A child that\n"
		"failed (ARCH.failed.h5, or --failed) gets reward 0 and its reason.\n"
		"\n"
		"  -o, --out FILE        reward file (default ARCH.reward.h5)\n"
		"      --weights FILE    weights file (default ARCH.weights.h5); its genotype\n"
		"                        and network settings must be ARCH.h5's\n"
		"      --split S         valid (default) or test\n"
		"      --reward R        accuracy (default), cube (accuracy^3, Zoph & Le 2017),\n"
		"                        mnasnet or mnasnet-hard: accuracy * (cost/target)^w with\n"
		"                        w on both sides of the target (soft) or only above it\n"
		"                        (hard), as MnasNet (Tan et al. 2019)\n"
		"      --target-macs N   the cost is the child's mult-adds per image, target N\n"
		"      --target-latency-ms X  the cost is its batch-1 latency measured here\n"
		"                        (one thread, median; not reproducible byte for byte)\n"
		"      --reward-w W      the exponent w (default -0.07; the paper's hard form: -1)\n"
		"      --failed REASON   record a failed child without evaluating it\n"
		"      --batch N         evaluation batch (default 250)\n"
		"      --data FILE       evaluate on this dataset (default: the one trained on,\n"
		"                        as recorded in the weights file)\n"
		"      --rung K          successive halving: score rung K (ARCH.rK.weights.h5 ->\n"
		"                        ARCH.rK.reward.h5; default 0, the only rung of a plain plan)\n"
		CLI_COMMON_HELP_TEXT
		"\n"
		CLI_EXIT_CODES_TEXT);
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		CLI_COMMON_LONGOPTS,
		{ "out", required_argument, NULL, 'o' },
		{ "weights", required_argument, NULL, OPT_WEIGHTS },
		{ "split", required_argument, NULL, OPT_SPLIT },
		{ "reward", required_argument, NULL, OPT_REWARD },
		{ "failed", required_argument, NULL, OPT_FAILED },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "data", required_argument, NULL, OPT_DATA },
		{ "rung", required_argument, NULL, OPT_RUNG },
		{ "target-macs", required_argument, NULL, OPT_TARGET_MACS },
		{ "target-latency-ms", required_argument, NULL, OPT_TARGET_LAT },
		{ "reward-w", required_argument, NULL, OPT_REWARD_W },
		{ 0 }
	};
	struct cli c;
	struct provenance prov;
	struct train_env env = { &prov, cli_progress_line, &c };
	struct child_score_opts o;
	struct reward r;
	char out[4096];
	int opt, rc;
	long v;
	double dv;

	cli_init(&c, argc, argv, "score");
	child_score_opts_default(&o);
	while ((opt = cli_next_option(&c, argc, argv, "hqo:", long_opts, usage, &rc)) != -1) {
		switch (opt) {
		case CLI_EXIT:
			return rc;
		case 'o':
			o.out = optarg;
			break;
		case OPT_WEIGHTS:
			o.weights = optarg;
			break;
		case OPT_SPLIT:
			if (strcmp(optarg, "valid") && strcmp(optarg, "test")) {
				error("invalid --split '%s' (valid or test)", optarg);
				return EXIT_USAGE;
			}
			o.split = strcmp(optarg, "test") ? DS_VALID : DS_TEST;
			break;
		case OPT_REWARD:
			o.rule.kind = reward_kind_lookup(optarg);
			if (o.rule.kind < 0) {
				error("invalid --reward '%s' (accuracy, cube, mnasnet or mnasnet-hard)",
				      optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_TARGET_MACS:
			if (parse_long(optarg, 1, LONG_MAX, &v) < 0) {
				error("invalid --target-macs '%s' (a positive integer)", optarg);
				return EXIT_USAGE;
			}
			o.rule.cost = COST_MACS;
			o.rule.target = (double)v;
			break;
		case OPT_TARGET_LAT:
			if (parse_double(optarg, 1e-9, 1e9, &dv) < 0) {
				error("invalid --target-latency-ms '%s' (a positive number)", optarg);
				return EXIT_USAGE;
			}
			o.rule.cost = COST_LATENCY_MS;
			o.rule.target = dv;
			break;
		case OPT_REWARD_W:
			if (parse_double(optarg, -10, 10, &dv) < 0) {
				error("invalid --reward-w '%s' (a number in -10..10)", optarg);
				return EXIT_USAGE;
			}
			o.rule.w = dv;
			break;
		case OPT_DATA:
			o.data = optarg;
			break;
		case OPT_FAILED:
			/* it becomes a history.tsv field (D21) */
			if (!*optarg || !one_line(optarg)) {
				error("invalid --failed reason: one line without tabs expected");
				return EXIT_USAGE;
			}
			o.failed = optarg;
			break;
		case OPT_RUNG:
			if (parse_long(optarg, 0, 15, &v) < 0) {
				error("invalid --rung '%s' (0..15)", optarg);
				return EXIT_USAGE;
			}
			o.rung = (int)v;
			break;
		case OPT_BATCH:
			if (parse_long(optarg, 1, 65536, &v) < 0) {
				error("invalid --batch '%s'", optarg);
				return EXIT_USAGE;
			}
			o.batch = (int)v;
			break;
		}
	}
	if (optind != argc - 1) {
		error("expected exactly one genotype file");
		usage(stderr);
		return EXIT_USAGE;
	}
	{
		char owner[4096];

		if (derived_arch(argv[optind], owner, sizeof owner)) {
			progress(&c, "%s: skipped, a file of %s (not a genotype file)", argv[optind],
				 owner);
			return EXIT_OK;
		}
	}
	if (reward_rule_check(&o.rule) < 0)
		return EXIT_USAGE;
	cli_provenance(&c, &prov);
	cli_apply_threads(&c);
	switch (child_score(argv[optind], &o, &env, &r, out, sizeof out)) {
	case TRAIN_OK:
		break;
	case TRAIN_BADINPUT:
		return EXIT_BADINPUT;
	case TRAIN_USAGE:
		return EXIT_USAGE;
	default:
		return EXIT_FAIL;
	}
	if (r.failed)
		printf("%s\treward 0\tfailed: %s\n", out, r.reason);
	else {
		printf("%s\treward %.4f\taccuracy %.4f\tloss %.4f\tsplit %s", out, r.reward,
		       r.accuracy, r.loss, o.split == DS_TEST ? "test" : "valid");
		if (o.rule.cost != COST_NONE)
			printf("\t%s %.6g\ttarget %.6g", r.cost_kind, r.cost, r.target);
		printf("\n");
	}
	return cli_flush_stdout() < 0 ? EXIT_FAIL : EXIT_OK;
}
