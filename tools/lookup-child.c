/*
 * lookup-child - score nb201 genotype files by NAS-Bench-201 table lookup
 * instead of training: the benchmark mode's stand-in for train-child + score.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "genofile.h"
#include "nb201.h"
#include "reward.h"

enum { OPT_TABLE = OPT_TOOL_BASE };

static const struct option long_opts[] = {
	CLI_COMMON_LONGOPTS,
	{ "table", required_argument, NULL, OPT_TABLE },
	{ "out", required_argument, NULL, 'o' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lookup-child [options] ARCH.h5...\n"
		"Score nb201 genotype files by table lookup: write ARCH.reward.h5 (nasnet-c/reward)\n"
		"next to each ARCH.h5 (arch_0003.h5 -> arch_0003.reward.h5) with reward = accuracy\n"
		"= CIFAR-10 validation accuracy / 100 after 12 epochs, and test_accuracy = test\n"
		"accuracy / 100. Prints one line per file: reward file, reward, test accuracy.\n"
		"  --table FILE   the table (default $NASNET_NB201 or\n"
		"                 data/nb201-cifar10-12epoch.csv.gz)\n"
		"  -o, --out FILE reward file (only with a single ARCH.h5)\n"
		CLI_COMMON_HELP_TEXT CLI_EXIT_CODES_TEXT);
}

/* ARCH.h5 -> ARCH.reward.h5 */
static int reward_name(char *out, size_t n, const char *arch)
{
	size_t len = strlen(arch);

	if (len > 3 && !strcmp(arch + len - 3, ".h5"))
		len -= 3;
	if ((size_t)snprintf(out, n, "%.*s.reward.h5", (int)len, arch) >= n)
		return error("%s: path too long", arch);
	return 0;
}

static int lookup_one(const struct nb201_table *t, const struct space *s, const char *arch,
		      const char *out_arg, const struct provenance *prov)
{
	struct genofile g;
	struct reward r;
	char out[4096];
	const char *gspace, *slash_a, *slash_o;
	int a[SPACE_MAX_DECISIONS], code;

	if (genofile_read(arch, &g) < 0)
		return EXIT_BADINPUT;
	gspace = g.space[0] ? g.space : g.geno.space;
	if (strcmp(gspace, "nb201") || g.has_cells) {
		error("%s: genotype of space '%s', expected 'nb201'", arch, gspace);
		return EXIT_BADINPUT;
	}
	if (space_from_nb201(s, g.cell_string, a, arch) < 0)
		return EXIT_BADINPUT;
	if (out_arg)
		snprintf(out, sizeof(out), "%s", out_arg);
	else if (reward_name(out, sizeof(out), arch) < 0)
		return EXIT_USAGE;
	code = nb201_code(a);
	reward_init(&r);
	r.accuracy = t->valid[code] / 100;
	r.reward = r.accuracy;
	r.test_accuracy = t->test[code] / 100;
	r.train_seconds = 0;
	snprintf(r.space, sizeof(r.space), "nb201");
	snprintf(r.genotype_text, sizeof(r.genotype_text), "%s", g.cell_string);
	/* relative to the reward file's folder when both share one */
	slash_a = strrchr(arch, '/');
	slash_o = strrchr(out, '/');
	if ((!slash_a && !slash_o) ||
	    (slash_a && slash_o && slash_a - arch == slash_o - out && !strncmp(arch, out, (size_t)(slash_a - arch))))
		snprintf(r.genotype, sizeof(r.genotype), "%s", slash_a ? slash_a + 1 : arch);
	else
		snprintf(r.genotype, sizeof(r.genotype), "%s", arch);
	if (g.has_sample) {
		r.round = g.round;
		r.index = g.index;
		snprintf(r.policy_hash, sizeof(r.policy_hash), "%016llx",
			 (unsigned long long)g.policy_hash);
	}
	if (reward_write(&r, out, prov) < 0)
		return EXIT_FAIL;
	printf("%s\treward %.5f\ttest %.4f\t%s\n", out, r.reward, r.test_accuracy, g.cell_string);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct cli cli;
	struct provenance prov;
	struct nb201_table *t;
	struct space s;
	const char *table = NULL, *out = NULL;
	char defpath[4096];
	int opt, rc = EXIT_OK;

	cli_init(&cli, argc, argv, "lookup-child");
	while ((opt = cli_next_option(&cli, argc, argv, "hqo:", long_opts, usage, &rc)) != -1) {
		switch (opt) {
		case CLI_EXIT:
			return rc;
		case OPT_TABLE: table = optarg; break;
		case 'o': out = optarg; break;
		}
	}
	if (optind == argc) {
		error("expected at least one genotype file");
		return EXIT_USAGE;
	}
	if (out && argc - optind != 1) {
		error("--out needs exactly one genotype file");
		return EXIT_USAGE;
	}
	t = xmalloc(sizeof(*t));
	if (nb201_load(t, table ? table : nb201_default_path(defpath, sizeof defpath)) < 0 || space_get(&s, "nb201") < 0) {
		free(t);
		return EXIT_BADINPUT;
	}
	cli_provenance(&cli, &prov);
	for (int i = optind; i < argc && rc == EXIT_OK; i++)
		rc = lookup_one(t, &s, argv[i], out, &prov);
	free(t);
	if (cli_flush_stdout() < 0)
		return EXIT_FAIL;
	return rc;
}
