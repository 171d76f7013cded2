/*
 * nas-fidelity - rank fidelity of cheap rewards against an expensive one,
 * from a fidelity table (lib/search/fidelity.h; written by `make fidelity`).
 */
#include "cli.h"
#include "fidelity.h"

#include <stdlib.h>

enum { OPT_BOOTSTRAP = OPT_TOOL_BASE };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nas-fidelity [options] FIDELITY.tsv\n"
		"For every budget of the table (columns NAME:EPOCHS:sK, the reward of each cell\n"
		"trained for EPOCHS epochs with seed K) against the reference column `hi`, print\n"
		"  fidelity: budget E cells M kendall X [lo, hi] spearman Y seed-sd Z cell-sd W (NAME)\n"
		"Kendall's tau-b and Spearman's rho of the per-cell mean over seeds against hi,\n"
		"the 95 %% bootstrap interval of tau (cells resampled, seeded by --seed), the\n"
		"seed-to-seed sd of a cell's reward (root mean variance) and the sd across cells.\n"
		"A cell with a missing value (-) is left out of that budget.\n"
		"\n"
		"      --bootstrap N  bootstrap resamples (default 2000)\n"
		CLI_COMMON_HELP_TEXT
		"\n"
		CLI_EXIT_CODES_TEXT);
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		CLI_COMMON_LONGOPTS,
		{ "bootstrap", required_argument, NULL, OPT_BOOTSTRAP },
		{ 0 }
	};
	struct cli c;
	struct fid_table t;
	long reps = 2000;
	int opt, rc;

	cli_init(&c, argc, argv, "nas-fidelity");
	while ((opt = cli_next_option(&c, argc, argv, "hq", long_opts, usage, &rc)) != -1) {
		switch (opt) {
		case CLI_EXIT:
			return rc;
		case OPT_BOOTSTRAP:
			if (parse_long(optarg, 1, 1000000, &reps) < 0) {
				error("--bootstrap: invalid value '%s' (expected 1..1000000)", optarg);
				return EXIT_USAGE;
			}
			break;
		}
	}
	if (optind != argc - 1) {
		error("expected exactly one fidelity table");
		return EXIT_USAGE;
	}
	if (fid_table_read(argv[optind], &t) < 0)
		return EXIT_BADINPUT;
	if (t.ncells < 3) {
		error("%s: %d cells; rank fidelity needs at least 3", argv[optind], t.ncells);
		fid_table_free(&t);
		return EXIT_BADINPUT;
	}
	for (int b = 0; b < t.nbudgets; b++) {
		struct fid_summary s;

		fid_summarise(&t, b, (int)reps, c.seed, &s);
		fid_print(stdout, &t.b[b], &s);
	}
	fid_table_free(&t);
	return cli_flush_stdout() < 0 ? EXIT_FAIL : EXIT_OK;
}
