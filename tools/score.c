/*
 * score - evaluate a trained child on held-out data and write its reward.
 */
#include "cli.h"
#include "cost.h"
#include "dataset.h"
#include "genofile.h"
#include "net.h"
#include "netfile.h"
#include "reward.h"
#include "train.h"

#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
		"      --weights FILE    weights file (default ARCH.weights.h5)\n"
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

static int fill_identity(struct reward *r, const char *arch, const struct genofile *gf,
			 const char *out)
{
	char *a = xstrdup(arch), *o = xstrdup(out);

	/* the genotype path is stored relative to the reward file's folder when they share one */
	if (!strcmp(dirname(a), dirname(o)))
		snprintf(r->genotype, sizeof r->genotype, "%s", strrchr(arch, '/') ? strrchr(arch, '/') + 1 : arch);
	else
		snprintf(r->genotype, sizeof r->genotype, "%s", arch);
	free(a);
	free(o);
	snprintf(r->space, sizeof r->space, "%s", gf->space[0] ? gf->space : gf->geno.space);
	if (gf->has_cells)
		genotype_format(&gf->geno, r->genotype_text, sizeof r->genotype_text);
	else
		snprintf(r->genotype_text, sizeof r->genotype_text, "%s", gf->cell_string);
	if (gf->has_sample) {
		r->round = gf->round;
		r->index = gf->index;
		snprintf(r->policy_hash, sizeof r->policy_hash, "%016llx",
			 (unsigned long long)gf->policy_hash);
	}
	return 0;
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
	struct genofile gf;
	struct reward r;
	struct dataset d;
	struct net *net = NULL;
	char out[4096] = "", weights[4096] = "", failed[4096], stats[4096];
	const char *split = "valid", *failed_reason = NULL, *data = NULL;
	struct reward_rule rule;
	int opt, rc = EXIT_FAIL;
	long lv;
	long batch = 250, rung = 0;
	struct stat st;
	int64_t step;

	cli_init(&c, argc, argv, "score");
	reward_rule_default(&rule);
	while ((opt = cli_next_option(&c, argc, argv, "hqo:", long_opts, usage, &rc)) != -1) {
		switch (opt) {
		case CLI_EXIT:
			return rc;
		case 'o':
			snprintf(out, sizeof out, "%s", optarg);
			break;
		case OPT_WEIGHTS:
			snprintf(weights, sizeof weights, "%s", optarg);
			break;
		case OPT_SPLIT:
			if (strcmp(optarg, "valid") && strcmp(optarg, "test")) {
				error("invalid --split '%s' (valid or test)", optarg);
				return EXIT_USAGE;
			}
			split = optarg;
			break;
		case OPT_REWARD:
			rule.kind = reward_kind_lookup(optarg);
			if (rule.kind < 0) {
				error("invalid --reward '%s' (accuracy, cube, mnasnet or mnasnet-hard)",
				      optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_TARGET_MACS:
			if (parse_long(optarg, 1, LONG_MAX, &lv) < 0) {
				error("invalid --target-macs '%s' (a positive integer)", optarg);
				return EXIT_USAGE;
			}
			rule.cost = COST_MACS;
			rule.target = (double)lv;
			break;
		case OPT_TARGET_LAT:
			if (parse_double(optarg, 1e-9, 1e9, &rule.target) < 0) {
				error("invalid --target-latency-ms '%s' (a positive number)", optarg);
				return EXIT_USAGE;
			}
			rule.cost = COST_LATENCY_MS;
			break;
		case OPT_REWARD_W:
			if (parse_double(optarg, -10, 10, &rule.w) < 0) {
				error("invalid --reward-w '%s' (a number in -10..10)", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_DATA:
			data = optarg;
			break;
		case OPT_FAILED:
			failed_reason = optarg;
			break;
		case OPT_RUNG:
			if (parse_long(optarg, 0, 15, &rung) < 0) {
				error("invalid --rung '%s' (0..15)", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_BATCH:
			if (parse_long(optarg, 1, 65536, &batch) < 0) {
				error("invalid --batch '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		}
	}
	if (optind != argc - 1) {
		error("expected exactly one genotype file");
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *arch = argv[optind];

	if (reward_rule_check(&rule) < 0)
		return EXIT_USAGE;

	if (genofile_read(arch, &gf) < 0)
		return EXIT_BADINPUT;
	if (rung >= gf.cfg.train.rungs) {
		error("%s: --rung %ld: the rung plan has %d rungs (0..%d)", arch, rung,
		      gf.cfg.train.rungs, gf.cfg.train.rungs - 1);
		return EXIT_USAGE;
	}
	if (!out[0])
		rung_path(out, sizeof out, arch, &gf.cfg.train, (int)rung, ".reward.h5");
	if (!weights[0])
		rung_path(weights, sizeof weights, arch, &gf.cfg.train, (int)rung, ".weights.h5");
	rung_path(failed, sizeof failed, arch, &gf.cfg.train, (int)rung, ".failed.h5");
	rung_path(stats, sizeof stats, arch, &gf.cfg.train, (int)rung, ".stats.h5");
	cli_provenance(&c, &prov);
	reward_init(&r);
	fill_identity(&r, arch, &gf, out);
	snprintf(r.reward_kind, sizeof r.reward_kind, "%s", reward_kind_name(rule.kind));
	snprintf(r.cost_kind, sizeof r.cost_kind, "%s", cost_kind_name(rule.cost));
	if (rule.cost != COST_NONE) {
		r.target = rule.target;
		r.reward_w = rule.w;
	}
	if (!failed_reason && stat(failed, &st) == 0) {
		if (failure_read(failed, r.reason, sizeof r.reason, &step) < 0)
			return EXIT_BADINPUT;
		failed_reason = r.reason;
	}
	if (failed_reason) {
		if (failed_reason != r.reason)
			snprintf(r.reason, sizeof r.reason, "%s", failed_reason);
		r.failed = 1;
		r.reward = 0;
		r.accuracy = 0;
		if (gf.has_cells) {
			struct net *plan = net_create(&gf.geno, &gf.cfg.macro, 0, NULL);

			if (plan) {
				r.params = plan->n_params;
				r.mult_adds = plan->n_macs;
				net_free(plan);
			}
		}
		if (reward_write(&r, out, &prov) < 0)
			return EXIT_FAIL;
		printf("%s\treward 0\tfailed: %s\n", out, r.reason);
		return cli_flush_stdout() < 0 ? EXIT_FAIL : EXIT_OK;
	}
	if (!gf.has_cells) {
		error("%s: space '%s' is scored by table lookup (lookup-child), not by score", arch,
		      gf.space);
		return EXIT_BADINPUT;
	}
	/* the weights file records the configuration the child was really trained with
	 * (train-child --data may have changed the dataset) */
	{
		struct genofile trained;

		if (netfile_read_genofile(weights, &trained) < 0)
			return EXIT_BADINPUT;
		gf.cfg = trained.cfg;
	}
	if (data)
		snprintf(gf.cfg.train.data, sizeof gf.cfg.train.data, "%s", data);
	cli_apply_threads(&c);
	if (dataset_load(gf.cfg.train.data, &d, !strcmp(split, "test") ? DS_TEST : DS_VALID) < 0)
		return EXIT_BADINPUT;
	/* evaluate() runs net_infer: no batch arena */
	net = net_create(&gf.geno, &gf.cfg.macro, 0, NULL);
	if (!net)
		goto out;
	net_alloc_params(net);
	if (netfile_read_into(weights, net) < 0) {
		rc = EXIT_BADINPUT;
		goto out;
	}
	{
		const struct dataset_split *s = !strcmp(split, "test") ? &d.test : &d.valid;
		double acc, loss;

		if (s->n == 0) {
			error("%s: dataset %s has no %s images", arch, gf.cfg.train.data, split);
			rc = EXIT_BADINPUT;
			goto out;
		}
		evaluate(net, &d, s, (int)batch, &c, &acc, &loss);
		r.accuracy = acc;
		r.loss = loss;
		if (!strcmp(split, "test"))
			r.test_accuracy = acc;
		r.params = net->n_params;
		r.mult_adds = net->n_macs;
		if (rule.cost == COST_LATENCY_MS && cost_latency_ms(net, 1, &r.latency_ms) < 0)
			goto out;
		if (rule.cost != COST_NONE)
			r.cost = rule.cost == COST_MACS ? (double)r.mult_adds : r.latency_ms;
		r.reward = reward_rule_apply(&rule, acc, r.cost);
		r.rung = rung;
		if (stat(stats, &st) == 0) {
			struct train_stats ts;

			if (train_stats_read(stats, &ts) < 0) {
				rc = EXIT_BADINPUT;
				goto out;
			}
			r.train_seconds = ts.seconds;
			r.images_per_second = ts.images_per_second;
			r.epochs = ts.epochs;
		}
		if (reward_write(&r, out, &prov) < 0)
			goto out;
		printf("%s\treward %.4f\taccuracy %.4f\tloss %.4f\tsplit %s", out, r.reward, acc,
		       loss, split);
		if (rule.cost != COST_NONE)
			printf("\t%s %.6g\ttarget %.6g", r.cost_kind, r.cost, r.target);
		printf("\n");
		rc = cli_flush_stdout() < 0 ? EXIT_FAIL : EXIT_OK;
	}
out:
	net_free(net);
	dataset_free(&d);
	return rc;
}
