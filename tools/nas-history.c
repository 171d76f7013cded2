/*
 * nas-history - the table of evaluated children of a search, from reward files.
 *
 * history.tsv must be byte-identical between a resumed and an uninterrupted
 * search, so it holds only deterministic columns; wall times go to the
 * --timing table (timing.tsv).
 */
#include "cli.h"
#include "reward.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_TIMING = OPT_TOOL_BASE, OPT_FAILED_ONLY, OPT_NO_HEADER };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nas-history [options] REWARD.h5...\n"
		"Print one tab-separated line per reward file (nasnet-c/reward), ordered by\n"
		"(round, index, file name), after a header line:\n"
		"  round index reward accuracy params mult_adds status genotype rung epochs\n"
		"rung is the successive-halving rung the reward was measured at (0 for a plain\n"
		"search), epochs the training behind it (nan when unknown).\n"
		"status is 'ok' or 'failed: REASON'. With --timing the columns are\n"
		"  round index train_seconds images_per_second file\n"
		"\n"
		"      --timing       wall time and throughput instead (not deterministic)\n"
		"      --failed-only  print only failed children, no header\n"
		"      --no-header    omit the header line\n"
		CLI_COMMON_HELP_TEXT
		"\n"
		CLI_EXIT_CODES_TEXT);
}

struct row {
	struct reward r;
	const char *path;
};

static int by_position(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->r.round != y->r.round)
		return x->r.round < y->r.round ? -1 : 1;
	if (x->r.index != y->r.index)
		return x->r.index < y->r.index ? -1 : 1;
	return strcmp(x->path, y->path);
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		CLI_COMMON_LONGOPTS,
		{ "timing", no_argument, NULL, OPT_TIMING },
		{ "failed-only", no_argument, NULL, OPT_FAILED_ONLY },
		{ "no-header", no_argument, NULL, OPT_NO_HEADER },
		{ 0 }
	};
	struct cli c;
	int opt, rc, timing = 0, failed_only = 0, header = 1, n;
	struct row *rows;

	cli_init(&c, argc, argv, "nas-history");
	while ((opt = cli_next_option(&c, argc, argv, "hq", long_opts, usage, &rc)) != -1) {
		switch (opt) {
		case CLI_EXIT:
			return rc;
		case OPT_TIMING:
			timing = 1;
			break;
		case OPT_FAILED_ONLY:
			failed_only = 1;
			header = 0;
			break;
		case OPT_NO_HEADER:
			header = 0;
			break;
		}
	}
	n = argc - optind;
	rows = xcalloc((size_t)(n ? n : 1), sizeof *rows);
	for (int i = 0; i < n; i++) {
		rows[i].path = argv[optind + i];
		if (reward_read(&rows[i].r, rows[i].path) < 0 ||
		    reward_check_genotype(&rows[i].r, rows[i].path) < 0) {
			free(rows);
			return EXIT_BADINPUT;
		}
	}
	qsort(rows, (size_t)n, sizeof *rows, by_position);
	if (header)
		puts(timing ? "round\tindex\ttrain_seconds\timages_per_second\tfile"
			    : "round\tindex\treward\taccuracy\tparams\tmult_adds\tstatus\tgenotype\t"
			      "rung\tepochs");
	for (int i = 0; i < n; i++) {
		const struct reward *r = &rows[i].r;

		if (failed_only && !r->failed)
			continue;
		if (timing)
			printf("%lld\t%lld\t%.1f\t%.1f\t%s\n", (long long)r->round, (long long)r->index,
			       r->train_seconds, r->images_per_second, rows[i].path);
		else
			printf("%lld\t%lld\t%.6f\t%.6f\t%lld\t%lld\t%s%s\t%s\t%lld\t%.4g\n",
			       (long long)r->round, (long long)r->index, r->reward, r->accuracy,
			       (long long)r->params, (long long)r->mult_adds,
			       r->failed ? "failed: " : "ok", r->failed ? r->reason : "",
			       r->genotype_text, (long long)r->rung, r->epochs);
	}
	free(rows);
	if (cli_flush_stdout() < 0)
		return EXIT_FAIL;
	return EXIT_OK;
}
