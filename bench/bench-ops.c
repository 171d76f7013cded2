/*
 * bench-ops - forward + backward time of each primitive of lib/ops/ops.h at
 * batch 64 (the C half of `make bench-ops`; bench/torch_ops.py times the
 * same ops in PyTorch), and the sgemm GFLOP/s of OpenBLAS's current core.
 *
 *   bench-ops [--threads T] [--sgemm-only] [--dataset FILE]
 *
 * Prints `fma-peak G` (this core's float FMA peak, one thread: a loop of
 * independent vector FMAs, the physical limit every GFLOP/s figure of make
 * bench is a fraction of), `sgemm-peak G` (512^3), `sgemm-1x1 G` (a
 * pointwise conv's shape: (16 x 16) . (16 x 784)), then one line per op:
 * `op <name> <fwd+bwd ms>`, the median of 5 runs after one warm-up, on
 * seeded normal data. --dataset FILE only times what a child spends reading
 * its data: `dataset-load train S valid S` (seconds of dataset_load of
 * /train, as train-child does before taking its subset, and of /valid, as
 * score does; the best of 3, the file in the page cache).
 */
#include "blas.h"
#include "cli.h"
#include "dataset.h"
#include "ops.h"
#include "rng.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

enum { OPT_SGEMM = OPT_TOOL_BASE, OPT_DATASET };

/* best of 3 dataset_load times of one split; -1 on error (printed) */
static double load_seconds(const char *path, unsigned split)
{
	double best = 1e30;

	for (int k = 0; k < 3; k++) {
		struct dataset d;
		double t0 = now_seconds();

		if (dataset_load(path, &d, split) < 0)
			return -1;
		t0 = now_seconds() - t0;
		dataset_free(&d);
		if (t0 < best)
			best = t0;
	}
	return best;
}

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

/*
 * FMA throughput: ACC independent chains a = a * m + c (latency 4-5 cycles,
 * two FMA ports: 10 chains keep both busy), the best of 5 timed runs of
 * `iters` iterations; returns GFLOP/s (2 per lane per FMA). m and c keep
 * every value near 1 (a fixed point of a * m + c), no denormals, no overflow.
 */
#define FMA_ACC 10
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f"))) static double fma_run_512(long iters)
{
	__m512 a[FMA_ACC], m = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(0.001f);
	double t0, sum = 0;

	for (int k = 0; k < FMA_ACC; k++)
		a[k] = _mm512_set1_ps(1.0f + 0.01f * k);
	t0 = now_seconds();
	for (long i = 0; i < iters; i++) {
#pragma GCC unroll 10   /* a[] in registers, not memory */
		for (int k = 0; k < FMA_ACC; k++)
			a[k] = _mm512_fmadd_ps(a[k], m, c);
	}
	t0 = now_seconds() - t0;
	for (int k = 0; k < FMA_ACC; k++)
		sum += _mm512_reduce_add_ps(a[k]);
	if (sum == 42)   /* keep the chains live */
		printf("#\n");
	return 2.0 * 16 * FMA_ACC * iters / t0 / 1e9;
}

__attribute__((target("avx2,fma"))) static double fma_run_256(long iters)
{
	__m256 a[FMA_ACC], m = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(0.001f);
	float lanes[8];
	double t0, sum = 0;

	for (int k = 0; k < FMA_ACC; k++)
		a[k] = _mm256_set1_ps(1.0f + 0.01f * k);
	t0 = now_seconds();
	for (long i = 0; i < iters; i++) {
#pragma GCC unroll 10
		for (int k = 0; k < FMA_ACC; k++)
			a[k] = _mm256_fmadd_ps(a[k], m, c);
	}
	t0 = now_seconds() - t0;
	for (int k = 0; k < FMA_ACC; k++) {
		_mm256_storeu_ps(lanes, a[k]);
		for (int l = 0; l < 8; l++)
			sum += lanes[l];
	}
	if (sum == 42)
		printf("#\n");
	return 2.0 * 8 * FMA_ACC * iters / t0 / 1e9;
}
#endif

/* best of 5 runs of ~0.2 s on the widest FMA this CPU has (0: none) */
static double fma_peak(void)
{
	double best = 0;
#if defined(__x86_64__) && defined(__GNUC__)
	int w512 = __builtin_cpu_supports("avx512f");

	if (!w512 && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")))
		return 0;
	for (int k = 0; k < 5; k++) {
		double g = w512 ? fma_run_512(10000000) : fma_run_256(20000000);

		if (g > best)
			best = g;
	}
#endif
	return best;
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
		{ "dataset", required_argument, NULL, OPT_DATASET },
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
		{ "maxpool5x5s2-16-28", 5, 16, 28, 0, 5, 2 }, { "maxpool7x7-32-14", 5, 32, 14, 0, 7, 1 },
		{ "maxpool3x3-32-14", 5, 32, 14, 0, 3, 1 },
	};
	struct cli c;
	struct rng r;
	int sgemm_only = 0, opt;
	const char *dataset = NULL;
	char buf[128];

	if (blas_select(argc, argv) < 0)
		return EXIT_FAIL;
	cli_init(&c, argc, argv, "bench-ops");
	while ((opt = getopt_long(argc, argv, "hq", long_opts, NULL)) != -1) {
		switch (cli_common_option(&c, opt, optarg)) {
		case CLI_HANDLED:
			continue;
		case CLI_EXIT_OK:
			printf("usage: bench-ops [--threads T] [--sgemm-only] [--dataset FILE]\n");
			return EXIT_OK;
		case CLI_BAD:
			return EXIT_USAGE;
		case CLI_NOT_COMMON:
			break;
		}
		if (opt == OPT_SGEMM)
			sgemm_only = 1;
		else if (opt == OPT_DATASET)
			dataset = optarg;
		else
			return EXIT_USAGE;
	}
	cli_apply_threads(&c);
	if (dataset) {
		double tr = load_seconds(dataset, DS_TRAIN), va = load_seconds(dataset, DS_VALID);

		if (tr < 0 || va < 0)
			return EXIT_BADINPUT;
		printf("dataset-load train %.3f valid %.3f\n", tr, va);
		return EXIT_OK;
	}
	rng_seed(&r, c.seed);
	printf("blas %s\n", blas_describe(buf, sizeof buf));
	printf("fma-peak %.1f\n", fma_peak());
	printf("sgemm-peak %.1f\n", sgemm_gflops(512, 512, 512, &r));
	printf("sgemm-1x1 %.1f\n", sgemm_gflops(16, 784, 16, &r));
	if (sgemm_only)
		return EXIT_OK;
	for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
		run_op(&ops[i], &r);
	return EXIT_OK;
}
