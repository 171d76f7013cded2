/*
 * cli.h - what every tool shares: program name, common flags, provenance.
 *
 * Calling sequence in a tool's main():
 *
 *   struct cli c;
 *   int opt, rc;
 *   cli_init(&c, argc, argv, "train-child");   // progname, HDF5 errors off, signals
 *   while ((opt = cli_next_option(&c, argc, argv, "hqo:", long_opts, usage, &rc)) != -1) {
 *       switch (opt) {
 *       case CLI_EXIT: return rc;              // --help (0) or a bad option (2)
 *       ... tool-specific options ...
 *       }
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
	int longindex;	/* index in the long option table of the last long option */
};

enum cli_result { CLI_NOT_COMMON = 0, CLI_HANDLED, CLI_EXIT_OK, CLI_BAD };

/* cli_next_option's "return *exit_code from main() now" (getopt_long never returns it) */
enum { CLI_EXIT = -2 };

void cli_init(struct cli *c, int argc, char **argv, const char *tool);
/* Handles the common options; for others returns CLI_NOT_COMMON. */
enum cli_result cli_common_option(struct cli *c, int opt, const char *arg);
/*
 * getopt_long over argv that handles the common options itself and returns the next
 * tool-specific option (its argument in optarg, its long table index in c->longindex),
 * -1 after the last option (operands start at optind), or CLI_EXIT with *exit_code set:
 * --help prints usage(stdout) -> EXIT_OK (EXIT_FAIL if stdout cannot be written); an
 * unknown flag, a missing argument or a bad --seed/--threads -> EXIT_USAGE after the one
 * line getopt or cli printed on stderr. --version prints one line and exits 0 (or 1).
 */
int cli_next_option(struct cli *c, int argc, char **argv, const char *shortopts,
		    const struct option *longopts, void (*usage)(FILE *), int *exit_code);
/*
 * Flush stdout and check it for a write error (a full disk, a closed pipe): call once
 * before exiting in every tool that prints on stdout. On an error prints one line
 * "tool: stdout: <strerror>" and returns -1 (exit EXIT_FAIL).
 */
int cli_flush_stdout(void);
/* Fill provenance for files this tool writes. */
void cli_provenance(const struct cli *c, struct provenance *p);
/* Apply --threads to OpenBLAS and OpenMP. */
void cli_apply_threads(const struct cli *c);
/* One line describing the build and the BLAS core (used by --version and provenance). */
const char *cli_build_info(char *buf, size_t n);

/* Progress on stderr, silenced by --quiet. */
void progress(const struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same as a callback for the library (struct train_env): ctx is the struct cli. */
void cli_progress_line(const void *ctx, const char *line);

#endif
