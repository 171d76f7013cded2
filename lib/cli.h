/*
 * cli.h - what every tool shares: program name, common flags, provenance.
 *
 * Calling sequence in a tool's main():
 *
 *   struct cli c;
 *   cli_init(&c, argc, argv, "train-child");   // progname, HDF5 errors off, signals
 *   while ((opt = getopt_long(argc, argv, "ho:q", long_opts, NULL)) != -1) {
 *       switch (cli_common_option(&c, opt, optarg)) {  // --help/--quiet/--seed/--threads/--version
 *       case CLI_HANDLED: continue;
 *       case CLI_EXIT_OK: usage(stdout); return 0;     // --help
 *       case CLI_BAD: usage(stderr); return EXIT_USAGE;
 *       }
 *       ... tool-specific options ...
 *   }
 *
 * Common long options (use CLI_COMMON_LONGOPTS in the option table):
 *   -h --help, -q --quiet, --seed N, --threads N, --version.
 * Exit codes for every usage text: CLI_EXIT_CODES_TEXT.
 */
#ifndef NASNET_CLI_H
#define NASNET_CLI_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "h5io.h"
#include "util.h"

enum { OPT_SEED = 0x1000, OPT_THREADS, OPT_VERSION, OPT_TOOL_BASE = 0x1100 };

#define CLI_COMMON_LONGOPTS                                   \
	{ "help", no_argument, NULL, 'h' },                   \
	{ "quiet", no_argument, NULL, 'q' },                  \
	{ "seed", required_argument, NULL, OPT_SEED },        \
	{ "threads", required_argument, NULL, OPT_THREADS },  \
	{ "version", no_argument, NULL, OPT_VERSION }

#define CLI_COMMON_HELP_TEXT                                                     \
	"  -h, --help       show this help and exit 0\n"                             \
	"  -q, --quiet      no progress output on stderr\n"                          \
	"      --seed N     random seed (default 1)\n"                               \
	"      --threads N  compute threads (default 1; OpenBLAS and kernels)\n"     \
	"      --version    print version, git revision, HDF5 and BLAS core\n"

#define CLI_EXIT_CODES_TEXT                                                      \
	"Exit status: 0 success, 1 failure, 2 usage error, 3 bad input file,\n"      \
	"  75 stopped by a signal after a checkpoint (run again to resume).\n"

struct cli {
	const char *tool;
	int argc;
	char **argv;
	int quiet;
	int threads;
	uint64_t seed;
	int seed_given;
};

enum cli_result { CLI_NOT_COMMON = 0, CLI_HANDLED, CLI_EXIT_OK, CLI_BAD };

void cli_init(struct cli *c, int argc, char **argv, const char *tool);
/* Handles the common options; for others returns CLI_NOT_COMMON. */
enum cli_result cli_common_option(struct cli *c, int opt, const char *arg);
/* Fill provenance for files this tool writes. */
void cli_provenance(const struct cli *c, struct provenance *p);
/* Apply --threads to OpenBLAS and OpenMP. */
void cli_apply_threads(const struct cli *c);
/* One line describing the build and the BLAS core (used by --version and provenance). */
const char *cli_build_info(char *buf, size_t n);

/* Progress on stderr, silenced by --quiet. */
void progress(const struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
