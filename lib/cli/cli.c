/*
 * cli.c - program name, common flags, provenance and progress for tools.
 */
#include "cli.h"
#include "atomic.h"
#include "blas.h"
#include "gitrev.h"

#include <cblas.h>
#include <errno.h>
#include <omp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* on_exit handler: the argv copy lives until exit, then is freed (no leak report) */
static void free_at_exit(int status, void *p)
{
	free(p);
}

void cli_init(struct cli *c, int argc, char **argv, const char *tool)
{
	/* first: may re-exec the program with a faster, verified OpenBLAS core */
	progname = tool;
	if (blas_select(argc, argv) < 0)
		exit(EXIT_FAIL);
	memset(c, 0, sizeof *c);
	c->tool = tool;
	/* getopt_long permutes argv: keep the original order for provenance */
	c->argc = argc;
	c->argv = xmalloc(sizeof *c->argv * (size_t)(argc + 1));
	memcpy(c->argv, argv, sizeof *c->argv * (size_t)(argc + 1));
	on_exit(free_at_exit, c->argv);
	c->threads = 1;
	c->seed = 1;
	progname = tool;
	h5_init();
	atomic_install_handlers();
}

const char *cli_build_info(char *buf, size_t n)
{
	unsigned maj, min, rel;
	char core[128];

	H5get_libversion(&maj, &min, &rel);
	snprintf(buf, n, "nasnet-c %s (git %s), HDF5 %u.%u.%u, OpenBLAS core %s", NASNET_VERSION,
		 NASNET_GIT_REV, maj, min, rel, blas_describe(core, sizeof core));
	return buf;
}

void cli_progress_line(const void *ctx, const char *line)
{
	progress(ctx, "%s", line);
}

enum cli_result cli_common_option(struct cli *c, int opt, const char *arg)
{
	long v;
	char buf[256];

	switch (opt) {
	case 'h':
		return CLI_EXIT_OK;
	case 'q':
		c->quiet = 1;
		return CLI_HANDLED;
	case OPT_SEED:
		if (parse_u64(arg, &c->seed) < 0) {
			error("invalid --seed '%s' (expected a non-negative integer)", arg);
			return CLI_BAD;
		}
		c->seed_given = 1;
		return CLI_HANDLED;
	case OPT_THREADS:
		if (parse_long(arg, 1, 256, &v) < 0) {
			error("invalid --threads '%s' (expected 1..256)", arg);
			return CLI_BAD;
		}
		c->threads = (int)v;
		return CLI_HANDLED;
	case OPT_VERSION:
		printf("%s: %s\n", c->tool, cli_build_info(buf, sizeof buf));
		exit(cli_flush_stdout() < 0 ? EXIT_FAIL : EXIT_OK);
	case '?':
	case ':':
		return CLI_BAD;
	default:
		return CLI_NOT_COMMON;
	}
}

int cli_next_option(struct cli *c, int argc, char **argv, const char *shortopts,
		    const struct option *longopts, void (*usage)(FILE *), int *exit_code)
{
	int opt;

	for (;;) {
		c->longindex = -1;
		opt = getopt_long(argc, argv, shortopts, longopts, &c->longindex);
		if (opt == -1)
			return -1;
		switch (cli_common_option(c, opt, optarg)) {
		case CLI_HANDLED:
			continue;
		case CLI_EXIT_OK:
			usage(stdout);
			*exit_code = cli_flush_stdout() < 0 ? EXIT_FAIL : EXIT_OK;
			return CLI_EXIT;
		case CLI_BAD:
			/* the one line naming the flag is already on stderr */
			*exit_code = EXIT_USAGE;
			return CLI_EXIT;
		case CLI_NOT_COMMON:
			return opt;
		}
	}
}

int cli_flush_stdout(void)
{
	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	/* an earlier write failed and its errno is gone */
	if (!errno)
		errno = EIO;
	return error("stdout:");
}

void cli_provenance(const struct cli *c, struct provenance *p)
{
	p->tool = c->tool;
	p->argc = c->argc;
	p->argv = c->argv;
	p->seed = c->seed;
	p->threads = c->threads;
}

/*
 * The kernels split the batch over OpenMP threads and call OpenBLAS from each
 * of them, so OpenBLAS itself stays single-threaded: its own pool spinning
 * next to OpenMP's on the same cores costs more than its threading gains on
 * the small gemms of one image.
 */
void cli_apply_threads(const struct cli *c)
{
	openblas_set_num_threads(1);
	omp_set_num_threads(c->threads);
}

void progress(const struct cli *c, const char *fmt, ...)
{
	va_list ap;

	if (c->quiet)
		return;
	fprintf(stderr, "%s: ", c->tool);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
