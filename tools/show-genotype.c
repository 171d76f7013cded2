/*
 * show-genotype - print genotypes given as a built-in name, a file (genotype
 * HDF5 file or text in either notation) or text, in the compact notation
 * (default) or DARTS's; optionally write one as a genotype file with the
 * default child configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dataref.h"
#include "genofile.h"
#include "genotype.h"

enum { OPT_DARTS = OPT_TOOL_BASE, OPT_LIST, OPT_CHECK };

static const struct option long_opts[] = {
	CLI_COMMON_LONGOPTS,
	{ "darts", no_argument, NULL, OPT_DARTS },
	{ "list", no_argument, NULL, OPT_LIST },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "output", required_argument, NULL, 'o' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: show-genotype [options] GENOTYPE...\n"
		"Print each GENOTYPE on one line in the compact notation of schemas/genotype.md.\n"
		"GENOTYPE is a built-in name (see --list), a nasnet-c genotype file, a text file\n"
		"in either notation, or the text itself (compact or DARTS's Genotype(...)).\n"
		"  --darts          print DARTS's notation instead (inputs 0/1 swapped)\n"
		"  --list           print the built-in names, one per line, and exit\n"
		"  --check          print nothing; the exit status says whether all are valid\n"
		"  -o, --output F   write the (single) GENOTYPE as a genotype file F with the\n"
		"                   default child configuration\n"
		CLI_COMMON_HELP_TEXT CLI_EXIT_CODES_TEXT
		"  A GENOTYPE that cannot be read or is invalid gives exit status 3;\n"
		"  a genotype that DARTS's notation cannot express (--darts) gives 1.\n");
}

int main(int argc, char **argv)
{
	struct cli c;
	int opt, darts = 0, check = 0, status = EXIT_OK;
	const char *out = NULL;

	cli_init(&c, argc, argv, "show-genotype");
	while ((opt = cli_next_option(&c, argc, argv, "hqo:", long_opts, usage, &status)) != -1) {
		switch (opt) {
		case CLI_EXIT:
			return status;
		case OPT_DARTS:
			darts = 1;
			break;
		case OPT_CHECK:
			check = 1;
			break;
		case OPT_LIST:
			for (const char *const *n = genotype_builtin_names(); *n; n++)
				printf("%s\n", *n);
			return cli_flush_stdout() < 0 ? EXIT_FAIL : EXIT_OK;
		case 'o':
			out = optarg;
			break;
		}
	}
	if (optind >= argc) {
		error("no GENOTYPE given (try --help)");
		return EXIT_USAGE;
	}
	if (out && argc - optind != 1) {
		error("-o writes one genotype; %d given", argc - optind);
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		struct genotype g;
		char text[GENOTYPE_TEXT_MAX];
		int n;

		if (genotype_resolve(&g, argv[i]) < 0) {
			status = EXIT_BADINPUT;
			continue;
		}
		if (out) {
			struct genofile gf;
			struct provenance prov;

			genofile_init(&gf);
			gf.geno = g;
			if (dataref_bind(&gf.cfg.train) < 0)
				return EXIT_BADINPUT;
			cli_provenance(&c, &prov);
			if (genofile_write(out, &gf, &prov) < 0)
				return EXIT_FAIL;
		}
		if (check)
			continue;
		n = darts ? genotype_format_darts(&g, text, sizeof(text))
			  : genotype_format(&g, text, sizeof(text));
		if (n < 0) {
			if (status == EXIT_OK)
				status = EXIT_FAIL;
			continue;
		}
		printf("%s\n", text);
	}
	if (cli_flush_stdout() < 0)
		return EXIT_FAIL;
	return status;
}
