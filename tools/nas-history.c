/*
 * nas-history - the table of evaluated children of a search, from reward files.
 *
 * history.tsv must be byte-identical between a resumed and an uninterrupted
 * search, so it holds only deterministic columns; wall times go to the
 * --timing table (timing.tsv).
 */
#include "cli.h"
#include "genofile.h"
#include "reward.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { OPT_TIMING = OPT_TOOL_BASE, OPT_FAILED_ONLY, OPT_NO_HEADER, OPT_FIELDS };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nas-history [options] REWARD.h5...\n"
		"Print one tab-separated line per reward file (nasnet-c/reward), ordered by\n"
		"(round, index, file name), after a header line naming the columns.\n"
		"Each reward's genotype file must exist and still hold the genotype scored\n"
		"(text and policy hash). Columns:\n"
		"  round index reward accuracy params mult_adds status genotype rung epochs\n"
		"rung is the successive-halving rung the reward was measured at (0 for a plain\n"
		"search), epochs the training behind it (nan when unknown).\n"
		"status is 'ok' or 'failed: REASON'. With --timing the columns are\n"
		"  round index train_seconds images_per_second file\n"
		"Scripts should pick columns by name (--fields, or the header), not position.\n"
		"\n"
		"      --fields LIST  print these columns (comma-separated names of either\n"
		"                     set above), e.g. --fields reward,status\n"
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

static void put_round(const struct row *w) { printf("%lld", (long long)w->r.round); }
static void put_index(const struct row *w) { printf("%lld", (long long)w->r.index); }
static void put_reward(const struct row *w) { printf("%.6f", w->r.reward); }
static void put_accuracy(const struct row *w) { printf("%.6f", w->r.accuracy); }
static void put_params(const struct row *w) { printf("%lld", (long long)w->r.params); }
static void put_macs(const struct row *w) { printf("%lld", (long long)w->r.mult_adds); }
static void put_genotype(const struct row *w) { fputs(w->r.genotype_text, stdout); }
static void put_seconds(const struct row *w) { printf("%.1f", w->r.train_seconds); }
static void put_ips(const struct row *w) { printf("%.1f", w->r.images_per_second); }
static void put_file(const struct row *w) { fputs(w->path, stdout); }
static void put_rung(const struct row *w) { printf("%lld", (long long)w->r.rung); }
static void put_epochs(const struct row *w) { printf("%.4g", w->r.epochs); }

static void put_status(const struct row *w)
{
	printf("%s%s", w->r.failed ? "failed: " : "ok", w->r.failed ? w->r.reason : "");
}

/* every column, once: the default and --timing sets below name them */
static const struct column {
	const char *name;
	void (*put)(const struct row *);
} columns[] = {
	{ "round", put_round },
	{ "index", put_index },
	{ "reward", put_reward },
	{ "accuracy", put_accuracy },
	{ "params", put_params },
	{ "mult_adds", put_macs },
	{ "status", put_status },
	{ "genotype", put_genotype },
	{ "rung", put_rung },
	{ "epochs", put_epochs },
	{ "train_seconds", put_seconds },
	{ "images_per_second", put_ips },
	{ "file", put_file },
};

#define NCOLUMNS (int)(sizeof(columns) / sizeof(columns[0]))
#define DEFAULT_FIELDS "round,index,reward,accuracy,params,mult_adds,status,genotype,rung,epochs"
#define TIMING_FIELDS "round,index,train_seconds,images_per_second,file"

/* "a,b,c" -> column indices; -1 (error()) on an unknown or empty name */
static int parse_fields(const char *list, int *sel, int max)
{
	char buf[512], *save = NULL, *tok;
	int n = 0;

	if (snprintf(buf, sizeof buf, "%s", list) >= (int)sizeof buf)
		return error("--fields: list too long");
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int k = 0;

		while (k < NCOLUMNS && strcmp(columns[k].name, tok))
			k++;
		if (k == NCOLUMNS)
			return error("--fields: unknown column '%s' (see --help)", tok);
		if (n == max)
			return error("--fields: more than %d columns", max);
		sel[n++] = k;
	}
	if (!n)
		return error("--fields: no column named");
	return n;
}

/* a reward stands only for the genotype file it names, unchanged */
static int read_row(struct row *row)
{
	struct genofile g;
	char gpath[4096];

	if (reward_read(&row->r, row->path) < 0 || reward_check_genotype_file(&row->r, row->path) < 0 ||
	    reward_genotype_path(&row->r, row->path, gpath, sizeof gpath) < 0)
		return -1;
	if (genofile_read(gpath, &g) < 0)
		return -1;
	return reward_check_genotype(&row->r, row->path, &g, gpath);
}

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
		{ "fields", required_argument, NULL, OPT_FIELDS },
		{ 0 }
	};
	struct cli c;
	int opt, rc, timing = 0, failed_only = 0, header = 1, n, nsel;
	int sel[2 * NCOLUMNS];
	const char *fields = NULL;
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
		case OPT_FIELDS:
			fields = optarg;
			break;
		}
	}
	nsel = parse_fields(fields ? fields : timing ? TIMING_FIELDS : DEFAULT_FIELDS, sel,
			    2 * NCOLUMNS);
	if (nsel < 0)
		return EXIT_USAGE;
	n = argc - optind;
	rows = xcalloc((size_t)(n ? n : 1), sizeof *rows);
	for (int i = 0; i < n; i++) {
		rows[i].path = argv[optind + i];
		if (read_row(&rows[i]) < 0) {
			free(rows);
			return EXIT_BADINPUT;
		}
	}
	qsort(rows, (size_t)n, sizeof *rows, by_position);
	if (header)
		for (int k = 0; k < nsel; k++)
			printf("%s%c", columns[sel[k]].name, k + 1 < nsel ? '\t' : '\n');
	for (int i = 0; i < n; i++) {
		if (failed_only && !rows[i].r.failed)
			continue;
		for (int k = 0; k < nsel; k++) {
			columns[sel[k]].put(&rows[i]);
			putchar(k + 1 < nsel ? '\t' : '\n');
		}
	}
	free(rows);
	if (cli_flush_stdout() < 0)
		return EXIT_FAIL;
	return EXIT_OK;
}
