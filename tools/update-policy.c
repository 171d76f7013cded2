/*
 * update-policy - one controller update: read a policy file and a batch of
 * evaluated children (reward files naming their genotype files), take a
 * PPO or REINFORCE step and write a new policy file. The input policy is
 * never modified.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "history.h"
#include "policy.h"
#include "strategy.h"

enum { OPT_POLICY = OPT_TOOL_BASE, OPT_OUT, OPT_ALGO, OPT_PCFG };

static const struct option long_opts[] = {
	CLI_COMMON_LONGOPTS,
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "out", required_argument, NULL, 'o' },
	{ "algo", required_argument, NULL, OPT_ALGO },
	POLICY_FLAG_OPTS(OPT_PCFG),
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: update-policy --policy IN -o OUT [--algo S] REWARDS...\n"
		"Update the controller on a batch of evaluated children and write the new policy\n"
		"to OUT (IN is never modified). REWARDS are reward files (*.h5, each naming its\n"
		"genotype file), folders (every *.reward.h5 in them) or list files (one reward\n"
		"file a line). The batch is ordered by (round, index). Failed children count\n"
		"with reward 0, and so does each draw a budget refused before a child\n"
		"(its genotype file's /sample/refused). Genotypes must be of the policy's\n"
		"space; a genotype sampled by another policy (hash) gets a warning. Prints\n"
		"the batch size, mean and best reward, the baseline, the policy entropy and\n"
		"the KL to IN.\n"
		"  --policy IN        the current policy (nasnet-c/policy)\n"
		"  -o, --out OUT      the new policy\n"
		"  --algo S           ppo (default, the paper's) or another strategy that learns\n"
		"                     a policy (reinforce; see sample-arch --list-strategies)\n"
		"Controller flags below override the hyperparameters stored in IN (not --hidden).\n"
		POLICY_FLAGS_HELP CLI_COMMON_HELP_TEXT CLI_EXIT_CODES_TEXT);
}

int main(int argc, char **argv)
{
	struct cli cli;
	struct provenance prov;
	struct policy pol;
	struct policy_stats st;
	struct evaluated *ev = NULL;
	struct policy_config over;
	const char *in = NULL, *out = NULL, *set_name[32], *set_arg[32];
	int opt, rc = EXIT_FAIL, n = 0, nb = 0, nset = 0, foreign = 0, *acts = NULL;
	const struct strategy *algo = strategy_get("ppo");
	struct strategy_state sst = { 0 };
	double *rew = NULL, *util;
	uint64_t hash;
	struct stat sa, sb;

	/* every exit after this goes through out: (no leak on an error path) */
	memset(&pol, 0, sizeof(pol));
	cli_init(&cli, argc, argv, "update-policy");
	policy_config_default(&over);
	while ((opt = cli_next_option(&cli, argc, argv, "hqo:", long_opts, usage, &rc)) != -1) {
		switch (opt) {
		case CLI_EXIT:
			goto out;
		case OPT_POLICY: in = optarg; break;
		case 'o': out = optarg; break;
		case OPT_ALGO:
			algo = strategy_get(optarg);
			if (!algo || !algo->update || !algo->needs_policy) {
				error("unknown --algo '%s' (a strategy that learns a policy; see "
				      "sample-arch --list-strategies)", optarg);
				rc = EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_PCFG:
			if (!strcmp(long_opts[cli.longindex].name, "hidden")) {
				error("--hidden cannot change on update (it sets the weight shapes)");
				rc = EXIT_USAGE;
				goto out;
			}
			if (policy_config_set(&over, long_opts[cli.longindex].name, optarg) < 0 || nset == 32) {
				rc = EXIT_USAGE;
				goto out;
			}
			set_name[nset] = long_opts[cli.longindex].name;
			set_arg[nset++] = optarg;
			break;
		}
	}
	if (!in || !out) {
		error("--policy and --out are required");
		rc = EXIT_USAGE;
		goto out;
	}
	if (optind == argc) {
		error("no reward files given");
		rc = EXIT_USAGE;
		goto out;
	}
	if (!strcmp(in, out) || (stat(in, &sa) == 0 && stat(out, &sb) == 0 &&
				 sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino)) {
		error("--out must differ from --policy (the input policy is never modified)");
		rc = EXIT_USAGE;
		goto out;
	}
	if (policy_read(&pol, in) < 0) {
		rc = EXIT_BADINPUT;
		goto out;
	}
	for (int i = 0; i < nset; i++)
		policy_config_set(&pol.cfg, set_name[i], set_arg[i]);
	if (policy_config_check(&pol.cfg, "policy flags") < 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (history_load(&pol.space, argv + optind, argc - optind, &ev, &n) < 0) {
		rc = EXIT_BADINPUT;
		goto out;
	}
	if (n == 0) {
		error("no reward files found in the arguments");
		rc = EXIT_BADINPUT;
		goto out;
	}
	hash = policy_hash(&pol);
	/* the children's utilities (successive halving: ranks), then the refused draws' 0s */
	util = xmalloc((size_t)n * sizeof(double));
	history_utilities(ev, n, util);
	history_batch(&pol.space, ev, n, util, &acts, &rew, &nb);
	free(util);
	for (int k = 0; k < n; k++)
		if (!ev[k].sampled || ev[k].policy_hash != hash)
			foreign++;
	if (foreign)
		warning("%d of %d genotypes were not sampled by %s (hash %016" PRIx64
			"); their PPO ratios use its probabilities", foreign, n, in, hash);
	sst.space = &pol.space;
	sst.policy = &pol;
	if (algo->update(&sst, nb, acts, rew, &st) < 0) {
		rc = EXIT_FAIL;
		goto out;
	}
	cli_provenance(&cli, &prov);
	if (policy_write(&pol, out, &prov) < 0) {
		rc = EXIT_FAIL;
		goto out;
	}
	printf("%s\tupdate %" PRId64 "\t%s\tbatch %d\tmean %.5f\tbest %.5f\tbaseline %.5f\t"
	       "entropy %.4f\tkl %.6f\thash %016" PRIx64 "\n",
	       out, pol.updates, algo->name, st.n, st.mean_reward, st.best_reward,
	       st.baseline, st.entropy, st.kl, policy_hash(&pol));
	rc = EXIT_OK;
out:
	free(acts);
	free(rew);
	history_free(ev, n);
	policy_free(&pol);
	if (cli_flush_stdout() < 0)
		return EXIT_FAIL;
	return rc;
}
