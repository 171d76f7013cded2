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
	int opt, bad = 0;

	cli_init(&c, argc, argv, "nas-check");
	while ((opt = getopt_long(argc, argv, "hq", long_opts, NULL)) != -1) {
		switch (cli_common_option(&c, opt, optarg)) {
		case CLI_HANDLED:
			continue;
		case CLI_EXIT_OK:
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
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
	return bad ? EXIT_BADINPUT : EXIT_OK;
}
