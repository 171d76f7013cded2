/*
 * nas-check - validate nasnet-c files against their schemas (redis-check-rdb style).
 */
#include "cli.h"
#include "nascheck.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nas-check [options] FILE...\n"
		"Validate each nasnet-c file (dataset, genotype, network, policy, reward,\n"
		"checkpoint, failure, trainstats) against its schema in schemas/: the kind's\n"
		"reader checks every group, dataset and attribute, and /provenance must be\n"
		"complete. Prints 'FILE: ok (KIND vN)' per valid file unless --quiet.\n"
		"\n"
		CLI_COMMON_HELP_TEXT
		"\n"
		CLI_EXIT_CODES_TEXT
		"  (3 when any FILE is invalid; every FILE is checked)\n");
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = { CLI_COMMON_LONGOPTS, { 0 } };
	struct cli c;
	int opt, rc, bad = 0;

	cli_init(&c, argc, argv, "nas-check");
	/* nas-check has no options of its own */
	while ((opt = cli_next_option(&c, argc, argv, "hq", long_opts, usage, &rc)) != -1)
		if (opt == CLI_EXIT)
			return rc;
	if (optind == argc) {
		error("no file given");
		usage(stderr);
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		char format[64];
		int version;

		if (nasfile_check(argv[i], format, sizeof format, &version) < 0)
			bad = 1;
		else if (!c.quiet)
			printf("%s: ok (%s v%d)\n", argv[i], format, version);
	}
	if (cli_flush_stdout() < 0)
		return EXIT_FAIL;
	return bad ? EXIT_BADINPUT : EXIT_OK;
}
