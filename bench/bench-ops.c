/*
 * bench-ops - forward + backward time of each primitive of lib/ops.h at
 * batch 64 (the C half of `make bench-ops`; bench/torch_ops.py times the
 * same ops in PyTorch), and the sgemm GFLOP/s of OpenBLAS's current core.
 *
 *   bench-ops [--threads T] [--sgemm-only]
 *
 * Prints `sgemm-peak G` (512^3), `sgemm-1x1 G` (a pointwise conv's shape:
 * (16 x 16) . (16 x 784)), then one line per op: `op <name> <fwd+bwd ms>`,
 * the median of 5 runs after one warm-up, on seeded normal data.
 */
#include "blas.h"
#include "cli.h"
#include "ops.h"
#include "rng.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_SGEMM = OPT_TOOL_BASE };

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static float *randn(size_t n, struct rng *r)
{
	float *p = xalloc_aligned(sizeof(*p) * (n + 1));

	for (size_t i = 0; i < n; i++)
		p[i] = (float)rng_normal(r);
	return p;
}

static double sgemm_gflops(int M, int N, int K, struct rng *r)
{
	float *a = randn((size_t)M * K, r), *b = randn((size_t)K * N, r), *c = randn((size_t)M * N, r);
	double best = 1e30;
	int reps = (int)(2e9 / (2.0 * M * N * K)) + 1;

	for (int k = 0; k < 5; k++) {
		double t0 = now_seconds();

		for (int i = 0; i < reps; i++)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b, N,
				    0.0f, c, N);
		double t = (now_seconds() - t0) / reps;

		if (t < best)
			best = t;
	}
	free(a);
	free(b);
	free(c);
	return 2.0 * M * N * K / best / 1e9;
}

struct opcase {
	const char *name;
	int kind;   /* 0 conv, 1 dw, 2 bn, 3 relu, 4 avgpool, 5 maxpool */
	int C, H, K, k, s;
};

static void run_op(const struct opcase *o, struct rng *r)
{
	const int N = 64;
	struct conv_shape cs;

	conv_shape_same(&cs, N, o->C, o->H, o->H, o->kind == 0 ? o->K : o->C, o->k, o->k, o->s,
			o->s, 1);
	size_t ni = (size_t)N * o->C * o->H * o->H, no = (size_t)N * cs.K * cs.OH * cs.OW;
	float *x = randn(ni, r), *y = randn(no, r), *dy = randn(no, r), *dx = randn(ni, r);
	float *w = randn((size_t)cs.K * o->C * o->k * o->k + 1, r);
	float *dw = randn((size_t)cs.K * o->C * o->k * o->k + 1, r);
	float *g = randn((size_t)o->C, r), *b = randn((size_t)o->C, r);
	float *st = randn(4 * (size_t)o->C, r);
	const int T = omp_get_max_threads();   /* --threads: the convolutions split the batch too */
	float *work = randn(conv2d_workspace(&cs, T) + 1, r);
	int32_t *am = xmalloc(sizeof(*am) * no);
	double t[6];

	for (int rep = 0; rep < 6; rep++) {
		double t0 = now_seconds();

		switch (o->kind) {
		case 0:
			conv2d_forward(y, x, w, &cs, work, T);
			conv2d_backward(dx, dw, dy, x, w, &cs, work, T);
			break;
		case 1:
			depthwise_forward(y, x, w, &cs);
			depthwise_backward(dx, dw, dy, x, w, &cs);
			break;
		case 2:
			batchnorm_forward_train(y, st, st + o->C, NULL, NULL, x, g, b, N, o->C,
						o->H * o->H, 0.1f, 1e-3f);
			batchnorm_backward(dx, dw, dw + o->C, dy, x, st, st + o->C, g, N, o->C,
					   o->H * o->H);
			break;
		case 3:
			relu_forward(y, x, ni);
			relu_backward(dx, dy, y, ni);
			break;
		case 4:
			avgpool_forward(y, x, &cs);
			avgpool_backward(dx, dy, &cs);
			break;
		case 5:
			maxpool_forward(y, am, x, &cs);
			maxpool_backward(dx, dy, am, &cs);
			break;
		}
		t[rep] = now_seconds() - t0;
	}
	qsort(t + 1, 5, sizeof(*t), cmp_double);
	printf("op %s %.3f\n", o->name, t[3] * 1e3);
	free(x); free(y); free(dy); free(dx); free(w); free(dw); free(g); free(b); free(st);
	free(work); free(am);
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		CLI_COMMON_LONGOPTS,
		{ "sgemm-only", no_argument, NULL, OPT_SGEMM },
		{ 0 }
	};
	static const struct opcase ops[] = {
		{ "conv1x1-16-28", 0, 16, 28, 16, 1, 1 }, { "conv1x1-32-14", 0, 32, 14, 32, 1, 1 },
		{ "conv3x3-8-28", 0, 8, 28, 8, 3, 1 }, { "conv3x3-32-14", 0, 32, 14, 32, 3, 1 },
		{ "dw3x3-16-28", 1, 16, 28, 0, 3, 1 }, { "dw5x5-16-28", 1, 16, 28, 0, 5, 1 },
		{ "dw7x7-16-28", 1, 16, 28, 0, 7, 1 }, { "dw5x5s2-16-28", 1, 16, 28, 0, 5, 2 },
		{ "dw3x3-32-14", 1, 32, 14, 0, 3, 1 }, { "dw7x7s2-32-14", 1, 32, 14, 0, 7, 2 },
		{ "bn-16-28", 2, 16, 28, 0, 1, 1 }, { "bn-32-14", 2, 32, 14, 0, 1, 1 },
		{ "relu-16-28", 3, 16, 28, 0, 1, 1 }, { "avgpool3x3-16-28", 4, 16, 28, 0, 3, 1 },
		{ "maxpool3x3s2-16-28", 5, 16, 28, 0, 3, 2 }, { "avgpool3x3-32-14", 4, 32, 14, 0, 3, 1 },
	};
	struct cli c;
	struct rng r;
	int sgemm_only = 0, opt;
	char buf[128];

	if (blas_select(argc, argv) < 0)
		return EXIT_FAIL;
	cli_init(&c, argc, argv, "bench-ops");
	while ((opt = getopt_long(argc, argv, "hq", long_opts, NULL)) != -1) {
		switch (cli_common_option(&c, opt, optarg)) {
		case CLI_HANDLED:
			continue;
		case CLI_EXIT_OK:
			printf("usage: bench-ops [--threads T] [--sgemm-only]\n");
			return EXIT_OK;
		case CLI_BAD:
			return EXIT_USAGE;
		case CLI_NOT_COMMON:
			break;
		}
		if (opt == OPT_SGEMM)
			sgemm_only = 1;
		else
			return EXIT_USAGE;
	}
	cli_apply_threads(&c);
	rng_seed(&r, c.seed);
	printf("blas %s\n", blas_describe(buf, sizeof buf));
	printf("sgemm-peak %.1f\n", sgemm_gflops(512, 512, 512, &r));
	printf("sgemm-1x1 %.1f\n", sgemm_gflops(16, 784, 16, &r));
	if (sgemm_only)
		return EXIT_OK;
	for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
		run_op(&ops[i], &r);
	return EXIT_OK;
}
