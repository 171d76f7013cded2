/*
 * nb201-search - run many whole searches on the NAS-Bench-201 table in
 * memory and summarise them: the strategy benchmark of
 * `make benchmark-strategies`. Each search is nb201_search() (lib/search/nb201search.c),
 * which runs the same sampling, evolution, lookup and policy-update code as
 * the sample-arch / lookup-child / update-policy pipeline.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nb201.h"
#include "strategy.h"

enum {
	OPT_STRATEGY = OPT_TOOL_BASE, OPT_SEEDS, OPT_BUDGET, OPT_BATCH, OPT_TABLE, OPT_CURVE,
	OPT_PCFG, OPT_POP, OPT_TOUR, OPT_LIST_STRATEGIES,
};

static const struct option long_opts[] = {
	CLI_COMMON_LONGOPTS,
	{ "strategy", required_argument, NULL, OPT_STRATEGY },
	{ "seeds", required_argument, NULL, OPT_SEEDS },
	{ "budget", required_argument, NULL, OPT_BUDGET },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "table", required_argument, NULL, OPT_TABLE },
	{ "curve", required_argument, NULL, OPT_CURVE },
	POLICY_FLAG_OPTS(OPT_PCFG),
	{ "population", required_argument, NULL, OPT_POP },
	{ "tournament", required_argument, NULL, OPT_TOUR },
	{ "list-strategies", no_argument, NULL, OPT_LIST_STRATEGIES },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	char names[STRATEGY_NAMES_MAX];

	fprintf(f,
		"usage: nb201-search --strategy S [options]\n"
		"S is one of: %s (lib/search/strategy.c)\n"
		"Run --seeds whole searches on the NAS-Bench-201 CIFAR-10 12-epoch table and print\n"
		"one line: strategy, mean and sd of the test accuracy (%%) of the best cell by\n"
		"validation after --budget cells, the standard error, and the run time.\n"
		"Seeds are --seed, --seed+1, ...\n"
		"  --seeds N           searches to run (default 100)\n"
		"  --budget N          cells evaluated per search (default 100)\n"
		"  --batch N           cells per round / policy update (default 10)\n"
		"  --table FILE        the table (default $NASNET_NB201 or\n"
		"                      data/nb201-cifar10-12epoch.csv.gz)\n"
		"  --curve FILE        write a TSV: cells, mean best-so-far test and validation\n"
		"                      accuracy, sd of the test accuracy\n"
		"The benchmark changes two controller defaults for its 100-cell budget:\n"
		"--hidden 32 and --policy-lr 0.02 (the other defaults are the paper's).\n"
		POLICY_FLAGS_HELP
		"Evolution: --population P (default 20) --tournament S (default 5)\n"
		"  --list-strategies   print the strategies (name, needs a policy, needs the\n"
		"                      history; tab-separated) and exit\n"
		CLI_COMMON_HELP_TEXT CLI_EXIT_CODES_TEXT, strategy_names(names, sizeof names));
}

static int opt_int(const char *name, const char *arg, long lo, long hi, int *v)
{
	long x;

	if (parse_long(arg, lo, hi, &x) < 0)
		return error("invalid --%s '%s' (expected %ld..%ld)", name, arg, lo, hi);
	*v = (int)x;
	return 0;
}

int main(int argc, char **argv)
{
	struct cli cli;
	struct nb201_search_config sc;
	struct nb201_table *t;
	const char *table = NULL, *curve = NULL;
	char defpath[4096];
	double *cv, *ct, *sum_v, *sum_t, *sq_t, mean, sd, start;
	int opt, rc, seeds = 100, bad = 0;
	char names[STRATEGY_NAMES_MAX];

	cli_init(&cli, argc, argv, "nb201-search");
	memset(&sc, 0, sizeof(sc));
	sc.strategy = NULL;
	sc.budget = 100;
	sc.batch = 10;
	policy_config_default(&sc.policy);
	sc.policy.hidden = 32;
	sc.policy.lr = 0.02;
	evolution_config_default(&sc.evo);
	while ((opt = cli_next_option(&cli, argc, argv, "hq", long_opts, usage, &rc)) != -1) {
		switch (opt) {
		case CLI_EXIT:
			return rc;
		case OPT_STRATEGY:
			sc.strategy = strategy_get(optarg);
			if (!sc.strategy)
				bad = error("unknown --strategy '%s' (%s)", optarg,
					    strategy_names(names, sizeof names));
			break;
		case OPT_LIST_STRATEGIES:
			strategy_print_list(stdout);
			return cli_flush_stdout() < 0 ? EXIT_FAIL : EXIT_OK;
		case OPT_SEEDS: bad |= opt_int("seeds", optarg, 1, 1000000, &seeds); break;
		case OPT_BUDGET: bad |= opt_int("budget", optarg, 1, NB201_CELLS, &sc.budget); break;
		case OPT_BATCH: bad |= opt_int("batch", optarg, 1, 100000, &sc.batch); break;
		case OPT_TABLE: table = optarg; break;
		case OPT_CURVE: curve = optarg; break;
		case OPT_PCFG:
			bad |= policy_config_set(&sc.policy, long_opts[cli.longindex].name, optarg);
			break;
		case OPT_POP: bad |= opt_int("population", optarg, 1, 100000, &sc.evo.population); break;
		case OPT_TOUR: bad |= opt_int("tournament", optarg, 1, 100000, &sc.evo.tournament); break;
		}
		if (bad)
			return EXIT_USAGE;
	}
	if (optind != argc) {
		error("unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (!sc.strategy) {
		error("--strategy is required (%s)", strategy_names(names, sizeof names));
		return EXIT_USAGE;
	}
	if (policy_config_check(&sc.policy, "policy flags") < 0)
		return EXIT_USAGE;
	t = xmalloc(sizeof(*t));
	if (nb201_load(t, table ? table : nb201_default_path(defpath, sizeof defpath)) < 0)
		return EXIT_BADINPUT;
	cv = xcalloc((size_t)sc.budget, sizeof(double));
	ct = xcalloc((size_t)sc.budget, sizeof(double));
	sum_v = xcalloc((size_t)sc.budget, sizeof(double));
	sum_t = xcalloc((size_t)sc.budget, sizeof(double));
	sq_t = xcalloc((size_t)sc.budget, sizeof(double));
	start = now_seconds();
	for (int k = 0; k < seeds; k++) {
		sc.seed = cli.seed + (uint64_t)k;
		if (nb201_search(t, &sc, cv, ct) < 0)
			return EXIT_FAIL;
		for (int i = 0; i < sc.budget; i++) {
			sum_v[i] += cv[i];
			sum_t[i] += ct[i];
			sq_t[i] += ct[i] * ct[i];
		}
	}
	if (curve) {
		FILE *f = fopen(curve, "w");

		if (!f) {
			error("%s: cannot create:", curve);
			return EXIT_FAIL;
		}
		fprintf(f, "# %s: %d seeds, budget %d, batch %d\n# cells\tbest_test\tbest_valid\tsd_test\n",
			sc.strategy->name, seeds, sc.budget, sc.batch);
		for (int i = 0; i < sc.budget; i++) {
			double m = sum_t[i] / seeds, var = sq_t[i] / seeds - m * m;

			fprintf(f, "%d\t%.4f\t%.4f\t%.4f\n", i + 1, m, sum_v[i] / seeds,
				sqrt(var > 0 ? var * seeds / (seeds > 1 ? seeds - 1 : 1) : 0));
		}
		if (fclose(f) != 0) {
			error("%s: cannot write:", curve);
			return EXIT_FAIL;
		}
	}
	mean = sum_t[sc.budget - 1] / seeds;
	sd = sq_t[sc.budget - 1] / seeds - mean * mean;
	sd = sqrt(sd > 0 ? sd * seeds / (seeds > 1 ? seeds - 1 : 1) : 0);
	printf("%-10s test %.2f +- %.2f %% (se %.3f, %d seeds, %d cells, batch %d, %.1f s)\n",
	       sc.strategy->name, mean, sd, sd / sqrt(seeds), seeds, sc.budget, sc.batch,
	       now_seconds() - start);
	free(t);
	free(cv);
	free(ct);
	free(sum_v);
	free(sum_t);
	free(sq_t);
	return cli_flush_stdout() < 0 ? EXIT_FAIL : EXIT_OK;
}
