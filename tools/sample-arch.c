/*
 * sample-arch - write K genotype files for one search round: sampled from a
 * policy (ppo, reinforce), uniformly (random) or by regularized evolution
 * over the evaluated history (lib/search/strategy.c). Child i of round R draws from
 * rng_stream(seed, R, i, RNG_SAMPLE), so any child can be re-made alone. The
 * tool sets up the strategy's state; lib/search/sample.c writes the round.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "atomic.h"
#include "cli.h"
#include "dataref.h"
#include "cost.h"
#include "dataset.h"
#include "evolution.h"
#include "genofile.h"
#include "history.h"
#include "policy.h"
#include "reward.h"
#include "rng.h"
#include "space.h"
#include "sample.h"
#include "strategy.h"

enum {
	OPT_COUNT = OPT_TOOL_BASE, OPT_OUT, OPT_ROUND, OPT_POLICY, OPT_SPACE, OPT_STRATEGY,
	OPT_HISTORY, OPT_SAVE_POLICY, OPT_POP, OPT_TOUR, OPT_PCFG, OPT_CHILD, OPT_CONFIG_FROM,
	OPT_LIST_SETTINGS, OPT_TRAIN_SEED, OPT_LIST_STRATEGIES, OPT_CHECK,
	OPT_MAX_PARAMS, OPT_MAX_MACS, OPT_BUDGET_CELLS, OPT_BUDGET_FILTERS,
};

/* the tool's own options; the child settings' flags are added from lib/arch/childcfg.c */
static const struct option tool_opts[] = {
	CLI_COMMON_LONGOPTS,
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "round", required_argument, NULL, OPT_ROUND },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "space", required_argument, NULL, OPT_SPACE },
	{ "strategy", required_argument, NULL, OPT_STRATEGY },
	{ "history", required_argument, NULL, OPT_HISTORY },
	{ "save-policy", required_argument, NULL, OPT_SAVE_POLICY },
	{ "population", required_argument, NULL, OPT_POP },
	{ "tournament", required_argument, NULL, OPT_TOUR },
	POLICY_FLAG_OPTS(OPT_PCFG),
	{ "config-from", required_argument, NULL, OPT_CONFIG_FROM },
	{ "train-seed", required_argument, NULL, OPT_TRAIN_SEED },
	{ "list-settings", no_argument, NULL, OPT_LIST_SETTINGS },
	{ "list-strategies", no_argument, NULL, OPT_LIST_STRATEGIES },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "max-params", required_argument, NULL, OPT_MAX_PARAMS },
	{ "max-macs", required_argument, NULL, OPT_MAX_MACS },
	{ "budget-cells", required_argument, NULL, OPT_BUDGET_CELLS },
	{ "budget-filters", required_argument, NULL, OPT_BUDGET_FILTERS },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sample-arch --count K --out DIR --round R [options]\n"
		"Write DIR/arch_0000.h5 ... DIR/arch_<K-1>.h5 (nasnet-c/genotype, index as 4+\n"
		"digits) for search round R, each with its child configuration and, for\n"
		"ppo/reinforce, its sampling record (actions, log-probs, policy hash). Prints\n"
		"one line per file: path, then the genotype text (or nb201 cell string).\n"
		"Child i of round R draws from the stream (seed, R, i): deterministic.\n"
		"A genotype file whose child has a reward (arch_NNNN.reward.h5, or a rung-0\n"
		"arch_NNNN.r0.reward.h5) is rewritten only with the genotype that reward\n"
		"scored; another is refused (exit 3).\n"
		"  --strategy S        ppo (default), or another of --list-strategies\n"
		"  --policy FILE       sample from this policy (ppo, reinforce); the seed is the\n"
		"                      policy's unless --seed is given. Without it a fresh policy\n"
		"                      is made from --seed and --space\n"
		"  --space S           nasnet (default), enas, nb201 (must match --policy)\n"
		"  --save-policy FILE  also write the policy used (the round-0 policy file)\n"
		"  --history PATH      evaluated children for evolution: a reward file, a folder\n"
		"                      (its *.reward.h5) or a list file; repeatable\n"
		"  --population P      evolution population (default 20)\n"
		"  --tournament S      evolution tournament size (default 5)\n"
		"  --check             check the options and the dataset, write nothing; prints\n"
		"                      data_fingerprint=HEX when the dataset is here\n"
		"Child configuration (defaults: lib/arch/childcfg.c), written into every file:\n"
		"  --config-from FILE  copy the configuration of a genotype file first\n");
	child_config_flags_help(f);
	fprintf(f,
		"  --rungs R --eta E is the successive-halving rung plan (default 1: plain;\n"
		"  rung k trains to ceil(budget / E^(R-1-k)) steps)\n"
		"  --train-seed N      train every child with seed N (default: a seed per child\n"
		"                      derived from --seed, round and index)\n"
		"  The input shape and number of classes come from the dataset file.\n"
		"  The child's training seed is drawn from the stream (seed, R, i, init).\n"
		"  --list-settings     print the child settings of a search run (make search\n"
		"                      NAME=...): name, flag, default; tab-separated; exit\n"
		"  --list-strategies   print the strategies (lib/search/strategy.c): name, needs a\n"
		"                      policy, needs the history (0/1); tab-separated; exit\n"
		"Budgets (cell spaces; counted on the network's plan, nothing is trained):\n"
		"  --max-params N      never emit a cell whose network has more than N parameters\n"
		"  --max-macs N        ... or more than N mult-adds per image (0: no limit)\n"
		"  --budget-cells N --budget-filters F\n"
		"                      count at this size (e.g. the transfer size), not the child's\n"
		"  A draw over budget is refused and child i draws again from its own stream,\n"
		"  at most %d times; the refused actions are kept in /sample/refused and\n"
		"  update-policy counts each with reward 0 (schemas/policy.md). A budget no\n"
		"  draw meets is exit status 2, naming the smallest drawn, and writes nothing.\n"
		POLICY_FLAGS_HELP CLI_COMMON_HELP_TEXT CLI_EXIT_CODES_TEXT, BUDGET_MAX_DRAWS);
}

static int num(const char *flag, const char *arg, long lo, long hi, long *v)
{
	if (parse_long(arg, lo, hi, v) < 0)
		return error("invalid --%s '%s' (expected %ld..%ld)", flag, arg, lo, hi);
	return 0;
}

/* One child: the draw that passed the budget, and the ones refused before it. */
int main(int argc, char **argv)
{
	struct cli cli;
	struct provenance prov;
	struct policy_config pc;
	struct evolution_config ec;
	struct child_config cfg;
	struct policy pol;
	struct policy_trace tr;
	struct space sp;
	struct budget bud;
	struct evaluated *hist = NULL;
	struct evo_member *members = NULL;
	const char *policy_path = NULL, *out = NULL, *space_name = NULL, *save_policy = NULL;
	char **history_args = NULL;
	long count = -1, round = -1, train_seed = -1, v;
	int opt, nhist_args = 0, nhist = 0, rl = 0, rc = EXIT_FAIL;
	const struct strategy *strategy = strategy_get("ppo");
	struct strategy_state sst;
	struct sample_round sr;
	char names[STRATEGY_NAMES_MAX];
	int check_only = 0;
	uint64_t seed;
	struct stat st;
	struct option long_opts[CHILD_CONFIG_MAX_OPTS];

	/* every exit after this goes through out: (no leak on an error path) */
	memset(&pol, 0, sizeof(pol));
	memset(&tr, 0, sizeof(tr));
	cli_init(&cli, argc, argv, "sample-arch");
	if (child_config_longopts(long_opts, CHILD_CONFIG_MAX_OPTS, tool_opts, OPT_CHILD) < 0)
		goto out;
	policy_config_default(&pc);
	evolution_config_default(&ec);
	child_config_default(&cfg);
	budget_init(&bud);
	history_args = xcalloc((size_t)argc, sizeof(char *));
	while ((opt = cli_next_option(&cli, argc, argv, "hq", long_opts, usage, &rc)) != -1) {
		int bad = 0;

		switch (opt) {
		case CLI_EXIT:
			goto out;
		case OPT_COUNT: bad = num("count", optarg, 0, 100000, &count); break;
		case OPT_ROUND: bad = num("round", optarg, 0, INT32_MAX, &round); break;
		case OPT_OUT: out = optarg; break;
		case OPT_CHECK: check_only = 1; break;
		case OPT_POLICY: policy_path = optarg; break;
		case OPT_SPACE: space_name = optarg; break;
		case OPT_SAVE_POLICY: save_policy = optarg; break;
		case OPT_HISTORY: history_args[nhist_args++] = optarg; break;
		case OPT_STRATEGY:
			strategy = strategy_get(optarg);
			if (!strategy)
				bad = error("unknown --strategy '%s' (%s)", optarg,
					    strategy_names(names, sizeof names));
			break;
		case OPT_POP:
			bad = num("population", optarg, 1, 1000000, &v);
			ec.population = (int)v;
			break;
		case OPT_TOUR:
			bad = num("tournament", optarg, 1, 1000000, &v);
			ec.tournament = (int)v;
			break;
		case OPT_PCFG: bad = policy_config_set(&pc, long_opts[cli.longindex].name, optarg); break;
		case OPT_TRAIN_SEED:
			bad = num("train-seed", optarg, 0, LONG_MAX, &v);
			train_seed = v;
			break;
		case OPT_CHILD:
			bad = child_config_set(&cfg, long_opts[cli.longindex].name, optarg);
			break;
		case OPT_LIST_SETTINGS:
			child_config_print_run_settings(stdout);
			rc = EXIT_OK;
			goto out;
		case OPT_LIST_STRATEGIES:
			strategy_print_list(stdout);
			rc = EXIT_OK;
			goto out;
		case OPT_MAX_PARAMS:
			bad = num("max-params", optarg, 0, LONG_MAX, &v);
			bud.max_params = v;
			break;
		case OPT_MAX_MACS:
			bad = num("max-macs", optarg, 0, LONG_MAX, &v);
			bud.max_macs = v;
			break;
		case OPT_BUDGET_CELLS:
			bad = num("budget-cells", optarg, 1, 64, &v);
			bud.cells = (int)v;
			break;
		case OPT_BUDGET_FILTERS:
			bad = num("budget-filters", optarg, 1, 4096, &v);
			bud.filters = (int)v;
			break;
		case OPT_CONFIG_FROM: {
			struct genofile g;

			if (genofile_read(optarg, &g) < 0) {
				rc = EXIT_BADINPUT;
				goto out;
			}
			cfg = g.cfg;
			break;
		}
		}
		if (bad) {
			rc = EXIT_USAGE;
			goto out;
		}
	}
	if (optind != argc) {
		error("unexpected argument '%s'", argv[optind]);
		rc = EXIT_USAGE;
		goto out;
	}
	/* the child's input shape and classes follow its dataset, when it exists here */
	if (access(cfg.train.data, R_OK) == 0 &&
	    dataset_peek(cfg.train.data, &cfg.macro.in_c, &cfg.macro.in_h, &cfg.macro.in_w,
			 &cfg.macro.classes) < 0) {
		rc = EXIT_BADINPUT;
		goto out;
	}
	/* absolute path and fingerprint: the files work from any folder (dataref.h) */
	if (dataref_bind(&cfg.train) < 0) {
		rc = EXIT_BADINPUT;
		goto out;
	}
	if (count < 0 || !out || round < 0) {
		error("--count, --out and --round are required");
		rc = EXIT_USAGE;
		goto out;
	}
	if (child_config_check(&cfg, "child configuration") < 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	rl = strategy->needs_policy;
	if (policy_path && !rl) {
		error("--policy is for a strategy with a policy, not %s", strategy->name);
		rc = EXIT_USAGE;
		goto out;
	}
	if (nhist_args && !strategy->needs_history) {
		error("--history is for a strategy that reads it, not %s", strategy->name);
		rc = EXIT_USAGE;
		goto out;
	}
	if (check_only) {
		/* a dry run: make search checks its settings with it before recording them */
		if (!policy_path && space_get(&sp, space_name ? space_name : "nasnet") < 0) {
			rc = EXIT_USAGE;
			goto out;
		}
		if (cfg.train.data_fingerprint[0])
			printf("data_fingerprint=%s\n", cfg.train.data_fingerprint);
		rc = EXIT_OK;
		goto out;
	}
	if (stat(out, &st) < 0 || !S_ISDIR(st.st_mode)) {
		error("%s: not a folder", out);
		rc = EXIT_USAGE;
		goto out;
	}
	seed = cli.seed;
	if (policy_path) {
		if (policy_read(&pol, policy_path) < 0) {
			rc = EXIT_BADINPUT;
			goto out;
		}
		if (space_name && strcmp(space_name, pol.space.name)) {
			error("%s: policy of space '%s', expected '%s'", policy_path, pol.space.name,
			      space_name);
			rc = EXIT_BADINPUT;
			goto out;
		}
		sp = pol.space;
		if (!cli.seed_given)
			seed = pol.seed;
	} else {
		if (space_get(&sp, space_name ? space_name : "nasnet") < 0) {
			rc = EXIT_USAGE;
			goto out;
		}
		if (rl && policy_init(&pol, &sp, &pc, seed) < 0) {
			rc = EXIT_USAGE;
			goto out;
		}
	}
	if (budget_active(&bud) && sp.kind != SPACE_CELLS) {
		error("--max-params/--max-macs need a cell space; '%s' children are looked up, not built",
		      sp.name);
		rc = EXIT_USAGE;
		goto out;
	}
	if (save_policy && !rl) {
		error("--save-policy is for a strategy with a policy, not %s", strategy->name);
		rc = EXIT_USAGE;
		goto out;
	}
	cli_provenance(&cli, &prov);
	if (strategy->needs_history) {
		if (history_load(&sp, history_args, nhist_args, &hist, &nhist) < 0) {
			rc = EXIT_BADINPUT;
			goto out;
		}
		members = sample_members(hist, nhist);
	}
	if (rl)
		policy_trace_init(&tr, &pol);
	sst = (struct strategy_state){ .space = &sp, .policy = rl ? &pol : NULL,
				       .trace = rl ? &tr : NULL, .evo = &ec, .hist = members,
				       .nhist = nhist };
	sr = (struct sample_round){ .strategy = strategy, .state = &sst, .cfg = &cfg, .seed = seed,
				    .train_seed = train_seed, .round = (int)round,
				    .count = (int)count, .dir = out, .budget = &bud };
	if ((rc = sample_round(&sr, &prov, stdout)) < 0) {
		rc = rc == SAMPLE_REFUSED ? EXIT_BADINPUT : rc == SAMPLE_OVER_BUDGET ? EXIT_USAGE : EXIT_FAIL;
		goto out;
	}
	/* after the children: a budget no draw meets leaves no file behind */
	if (save_policy && policy_write(&pol, save_policy, &prov) < 0) {
		rc = EXIT_FAIL;
		goto out;
	}
	rc = EXIT_OK;
out:
	policy_trace_free(&tr);
	policy_free(&pol);
	history_free(hist, nhist);
	free(members);
	free(history_args);
	if (cli_flush_stdout() < 0)
		return EXIT_FAIL;
	return rc;
}
