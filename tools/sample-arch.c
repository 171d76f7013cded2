/*
 * sample-arch - write K genotype files for one search round: sampled from a
 * policy (ppo, reinforce), uniformly (random) or by regularized evolution
 * over the evaluated history. Child i of round R draws from
 * rng_stream(seed, R, i, RNG_SAMPLE), so any child can be re-made alone.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cli.h"
#include "cost.h"
#include "dataset.h"
#include "evolution.h"
#include "genofile.h"
#include "history.h"
#include "policy.h"
#include "space.h"

enum {
	OPT_COUNT = OPT_TOOL_BASE, OPT_OUT, OPT_ROUND, OPT_POLICY, OPT_SPACE, OPT_STRATEGY,
	OPT_HISTORY, OPT_SAVE_POLICY, OPT_POP, OPT_TOUR, OPT_PCFG, OPT_CELLS, OPT_FILTERS,
	OPT_EPOCHS, OPT_STEPS, OPT_BATCH, OPT_LR, OPT_DATA, OPT_TRAIN_IMAGES, OPT_CONFIG_FROM,
	OPT_RUNGS, OPT_ETA, OPT_TRAIN_SEED,
	OPT_MAX_PARAMS, OPT_MAX_MACS, OPT_BUDGET_CELLS, OPT_BUDGET_FILTERS,
};

static const struct option long_opts[] = {
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
	{ "cells", required_argument, NULL, OPT_CELLS },
	{ "filters", required_argument, NULL, OPT_FILTERS },
	{ "epochs", required_argument, NULL, OPT_EPOCHS },
	{ "steps", required_argument, NULL, OPT_STEPS },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "lr", required_argument, NULL, OPT_LR },
	{ "data", required_argument, NULL, OPT_DATA },
	{ "train-images", required_argument, NULL, OPT_TRAIN_IMAGES },
	{ "config-from", required_argument, NULL, OPT_CONFIG_FROM },
	{ "rungs", required_argument, NULL, OPT_RUNGS },
	{ "eta", required_argument, NULL, OPT_ETA },
	{ "train-seed", required_argument, NULL, OPT_TRAIN_SEED },
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
		"  --strategy S        ppo (default), reinforce, random, evolution\n"
		"  --policy FILE       sample from this policy (ppo, reinforce); the seed is the\n"
		"                      policy's unless --seed is given. Without it a fresh policy\n"
		"                      is made from --seed and --space\n"
		"  --space S           nasnet (default), enas, nb201 (must match --policy)\n"
		"  --save-policy FILE  also write the policy used (the round-0 policy file)\n"
		"  --history PATH      evaluated children for evolution: a reward file, a folder\n"
		"                      (its *.reward.h5) or a list file; repeatable\n"
		"  --population P      evolution population (default 20)\n"
		"  --tournament S      evolution tournament size (default 5)\n"
		"Child configuration (defaults: lib/childcfg.c), written into every file:\n"
		"  --config-from FILE  copy the configuration of a genotype file first\n"
		"  --cells N --filters F --epochs E --steps S --batch B --lr X --data FILE\n"
		"  --train-images N\n"
		"  --rungs R --eta E      successive-halving rung plan of the children (default 1: plain;\n"
		"                         rung k trains to ceil(budget / E^(R-1-k)) steps)\n"
		"  --train-seed N         train every child with seed N (default: a seed per child\n"
		"                         derived from --seed, round and index)\n"
		"  The input shape and number of classes come from the dataset file.\n"
		"  The child's training seed is drawn from the stream (seed, R, i, init).\n"
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
struct draw {
	int a[SPACE_MAX_DECISIONS];
	float logp[SPACE_MAX_DECISIONS];
	int nrefused;
	int32_t *refused;   /* (nrefused, decisions) */
};

/*
 * One draw from child i's stream r into d->a: 1 if it is within the budget
 * (or there is none), 0 if refused (appended to d->refused; *minp, *minm
 * track the cheapest seen), -1 on error.
 */
static int draw(struct draw *d, int strategy, const struct policy *pol, struct policy_trace *tr,
		const struct space *sp, const struct evolution_config *ec,
		const struct evo_member *members, int nhist, struct rng *r,
		const struct budget *bud, const struct macro_config *m, int64_t *minp,
		int64_t *minm)
{
	double logp[SPACE_MAX_DECISIONS];
	struct genotype g;
	int64_t p, macs;
	int fit, D = sp->ndecisions;

	memset(logp, 0, sizeof(logp));
	if (strategy == STRATEGY_PPO || strategy == STRATEGY_REINFORCE)
		policy_sample(pol, tr, r, d->a, logp);
	else if (strategy == STRATEGY_EVOLUTION)
		evolution_propose(sp, ec, members, nhist, r, d->a);
	else
		space_sample_uniform(sp, r, d->a);
	for (int k = 0; k < D; k++)
		d->logp[k] = (float)logp[k];
	if (!budget_active(bud))
		return 1;
	if (space_to_genotype(sp, d->a, &g) < 0)
		return -1;
	fit = budget_fits(bud, &g, m, &p, &macs);
	if (fit != 0)
		return fit;
	if (p < *minp)
		*minp = p;
	if (macs < *minm)
		*minm = macs;
	d->refused = xrealloc(d->refused, (size_t)(d->nrefused + 1) * (size_t)D * sizeof(int32_t));
	for (int k = 0; k < D; k++)
		d->refused[(size_t)d->nrefused * D + k] = d->a[k];
	d->nrefused++;
	return 0;
}

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
	struct draw *dr = NULL;
	struct evaluated *hist = NULL;
	struct evo_member *members = NULL;
	const char *policy_path = NULL, *out = NULL, *space_name = NULL, *save_policy = NULL;
	char **history_args = NULL, path[4096], text[4096];
	long count = -1, round = -1, train_seed = -1, v;
	int opt, nhist_args = 0, nhist = 0, strategy = STRATEGY_PPO, rl = 0, rc = EXIT_FAIL;
	uint64_t seed;
	struct stat st;
	double dv;

	/* every exit after this goes through out: (no leak on an error path) */
	memset(&pol, 0, sizeof(pol));
	memset(&tr, 0, sizeof(tr));
	cli_init(&cli, argc, argv, "sample-arch");
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
		case OPT_POLICY: policy_path = optarg; break;
		case OPT_SPACE: space_name = optarg; break;
		case OPT_SAVE_POLICY: save_policy = optarg; break;
		case OPT_HISTORY: history_args[nhist_args++] = optarg; break;
		case OPT_STRATEGY:
			strategy = strategy_lookup(optarg);
			if (strategy < 0)
				bad = error("unknown --strategy '%s' (ppo, reinforce, random, evolution)",
					    optarg);
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
		case OPT_CELLS:
			bad = num("cells", optarg, 1, 64, &v);
			cfg.macro.cells = (int)v;
			break;
		case OPT_FILTERS:
			bad = num("filters", optarg, 1, 8192, &v);
			cfg.macro.filters = (int)v;
			break;
		case OPT_EPOCHS:
			bad = num("epochs", optarg, 0, 1000000, &v);
			cfg.train.epochs = (int)v;
			break;
		case OPT_STEPS:
			bad = num("steps", optarg, 0, LONG_MAX, &v);
			cfg.train.steps = v;
			break;
		case OPT_BATCH:
			bad = num("batch", optarg, 1, 1 << 20, &v);
			cfg.train.batch = (int)v;
			break;
		case OPT_RUNGS:
			bad = num("rungs", optarg, 1, 16, &v);
			cfg.train.rungs = (int)v;
			break;
		case OPT_ETA:
			bad = num("eta", optarg, 2, 1000, &v);
			cfg.train.eta = (int)v;
			break;
		case OPT_TRAIN_SEED:
			bad = num("train-seed", optarg, 0, LONG_MAX, &v);
			train_seed = v;
			break;
		case OPT_TRAIN_IMAGES:
			bad = num("train-images", optarg, 0, LONG_MAX, &v);
			cfg.train.train_images = v;
			break;
		case OPT_LR:
			if (parse_double(optarg, 0, 1e12, &dv) < 0)
				bad = error("invalid --lr '%s'", optarg);
			cfg.train.lr = dv;
			break;
		case OPT_DATA:
			if (strlen(optarg) >= sizeof(cfg.train.data))
				bad = error("--data path too long");
			else
				snprintf(cfg.train.data, sizeof(cfg.train.data), "%s", optarg);
			break;
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
			bad = num("budget-filters", optarg, 1, 8192, &v);
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
	if (count < 0 || !out || round < 0) {
		error("--count, --out and --round are required");
		rc = EXIT_USAGE;
		goto out;
	}
	if (child_config_check(&cfg, "child configuration") < 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	rl = strategy == STRATEGY_PPO || strategy == STRATEGY_REINFORCE;
	if (policy_path && !rl) {
		error("--policy is for --strategy ppo or reinforce");
		rc = EXIT_USAGE;
		goto out;
	}
	if (nhist_args && strategy != STRATEGY_EVOLUTION) {
		error("--history is for --strategy evolution");
		rc = EXIT_USAGE;
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
	if (strategy == STRATEGY_EVOLUTION) {
		if (history_load(&sp, history_args, nhist_args, &hist, &nhist) < 0) {
			rc = EXIT_BADINPUT;
			goto out;
		}
		members = xcalloc((size_t)(nhist ? nhist : 1), sizeof(*members));
		for (int i = 0; i < nhist; i++) {
			memcpy(members[i].a, hist[i].a, sizeof(members[i].a));
			members[i].reward = history_rank_key(&hist[i]);
		}
	}
	if (rl)
		policy_trace_init(&tr, &pol);
	/* every child is drawn before anything is written: a budget no draw
	 * meets leaves no file behind */
	dr = xcalloc((size_t)(count ? count : 1), sizeof(*dr));
	for (int i = 0; i < count; i++) {
		struct rng r;
		int64_t minp = INT64_MAX, minm = INT64_MAX;

		rng_stream(&r, seed, (uint64_t)round, (uint64_t)i, RNG_SAMPLE);
		for (int d = 0;; d++) {
			int fit = draw(&dr[i], strategy, &pol, &tr, &sp, &ec, members, nhist, &r, &bud,
				       &cfg.macro, &minp, &minm);

			if (fit < 0)
				goto out;
			if (fit)
				break;
			if (d + 1 == BUDGET_MAX_DRAWS) {
				char lim[96];

				error("no cell within %s in %d draws (round %ld, child %d): the smallest "
				      "drawn has %" PRId64 " params, the cheapest %" PRId64 " mult-adds",
				      budget_text(&bud, lim, sizeof(lim)), BUDGET_MAX_DRAWS, round, i, minp,
				      minm);
				rc = EXIT_USAGE;
				goto out;
			}
		}
	}
	cli_provenance(&cli, &prov);
	if (save_policy && (!rl || policy_write(&pol, save_policy, &prov) < 0)) {
		if (!rl)
			error("--save-policy is for --strategy ppo or reinforce");
		rc = rl ? EXIT_FAIL : EXIT_USAGE;
		goto out;
	}
	for (int i = 0; i < count; i++) {
		struct genofile g;
		struct rng ri;
		const int *a = dr[i].a;

		genofile_init(&g);
		g.cfg = cfg;
		rng_stream(&ri, seed, (uint64_t)round, (uint64_t)i, RNG_INIT);
		g.cfg.train.seed = train_seed >= 0 ? (uint64_t)train_seed : rng_u64(&ri);
		/* random and evolution children record their actions too (log-probs 0) */
		g.has_sample = 1;
		g.policy_hash = rl ? policy_hash(&pol) : 0;
		for (int k = 0; k < sp.ndecisions; k++)
			g.logp[k] = dr[i].logp[k];
		g.nrefused = dr[i].nrefused;
		g.refused = dr[i].refused;
		g.round = (int)round;
		g.index = i;
		g.nactions = sp.ndecisions;
		for (int k = 0; k < sp.ndecisions; k++)
			g.actions[k] = a[k];
		snprintf(g.space, sizeof(g.space), "%s", sp.name);
		if (sp.kind == SPACE_NB201) {
			g.has_cells = 0;
			if (space_to_nb201(&sp, a, g.cell_string, sizeof(g.cell_string)) < 0)
				goto out;
			snprintf(text, sizeof(text), "%s", g.cell_string);
		} else {
			if (space_to_genotype(&sp, a, &g.geno) < 0)
				goto out;
			genotype_format(&g.geno, text, sizeof(text));
		}
		if (snprintf(path, sizeof(path), "%s/arch_%04d.h5", out, i) >= (int)sizeof(path)) {
			error("%s: path too long", out);
			goto out;
		}
		if (genofile_write(path, &g, &prov) < 0)
			goto out;
		printf("%s\t%s\n", path, text);
	}
	rc = EXIT_OK;
out:
	for (int i = 0; dr && i < count; i++)
		free(dr[i].refused);
	free(dr);
	policy_trace_free(&tr);
	policy_free(&pol);
	history_free(hist, nhist);
	free(members);
	free(history_args);
	if (cli_flush_stdout() < 0)
		return EXIT_FAIL;
	return rc;
}
