/*
 * blas.c - OpenBLAS core selection and the one-time sgemm check (blas.h).
 *
 * State lives in the environment, which an exec keeps: OPENBLAS_CORETYPE
 * (read by OpenBLAS's constructor), NASNET_BLAS ("<chosen>:<original>" after
 * a selection, "fallback:<chosen>:<original>" after a failed check) and
 * NASNET_BLAS_CHECK ("verified" or "failed") for blas_describe(). Child
 * processes inherit all three and check again themselves.
 */
#include "blas.h"
#include "util.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* cores with AVX2 or better kernels: OpenBLAS knew this CPU, leave it alone */
static int is_fast_core(const char *core)
{
	static const char *const fast[] = { "Haswell", "Zen", "SkylakeX", "Cooperlake",
					    "SapphireRapids" };

	for (size_t i = 0; i < sizeof fast / sizeof *fast; i++)
		if (!strcasecmp(core, fast[i]))
			return 1;
	return 0;
}

/* the best core this CPU can run, or NULL */
static const char *cpu_core(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
	    __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
		return "SkylakeX";
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return "Haswell";
#endif
	return NULL;
}

/* deterministic values in [-1, 1) */
static void fill(float *a, int n, unsigned s)
{
	for (int i = 0; i < n; i++) {
		s = s * 1664525u + 1013904223u;
		a[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
	}
}

/* C (M, N) = op(A) . op(B) with cblas and naively; 0 when they agree */
static int check_one(int ta, int tb, int M, int N, int K)
{
	float *a = xmalloc(sizeof *a * (size_t)M * K), *b = xmalloc(sizeof *b * (size_t)K * N);
	float *c = xmalloc(sizeof *c * (size_t)M * N);
	int lda = ta ? M : K, ldb = tb ? K : N, bad = 0;

	fill(a, M * K, (unsigned)(M * 131 + K));
	fill(b, K * N, (unsigned)(N * 71 + K));
	fill(c, M * N, 7u);
	cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
		    M, N, K, 1.0f, a, lda, b, ldb, 0.5f, c, N);
	float *c0 = xmalloc(sizeof *c0 * (size_t)M * N);

	fill(c0, M * N, 7u);
	for (int i = 0; i < M && !bad; i++)
		for (int j = 0; j < N; j++) {
			double s = 0.5 * c0[i * N + j], mag = fabs(s);

			for (int k = 0; k < K; k++) {
				double x = ta ? a[k * lda + i] : a[i * lda + k];
				double y = tb ? b[j * ldb + k] : b[k * ldb + j];

				s += x * y;
				mag += fabs(x * y);
			}
			if (!(fabs(s - c[i * N + j]) <= 1e-5 * mag + 1e-6)) {
				bad = 1;
				break;
			}
		}
	free(a);
	free(b);
	free(c);
	free(c0);
	return bad ? -1 : 0;
}

int blas_verify(void)
{
	/* the engine's shapes: skinny 1x1 convs, im2col products, their transposes */
	static const int shapes[][5] = {
		{ 0, 0, 16, 784, 8 }, { 0, 0, 33, 197, 75 }, { 1, 0, 27, 196, 16 },
		{ 0, 1, 16, 72, 784 }, { 0, 0, 1, 1, 1 }, { 0, 1, 64, 10, 129 },
		{ 1, 0, 5, 3, 300 }, { 0, 0, 96, 96, 96 },
	};

	for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
		if (check_one(shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3], shapes[i][4]) < 0)
			return -1;
	return 0;
}

static void reexec(char **argv)
{
	fflush(NULL);
	execv("/proc/self/exe", argv);
	/* exec failed (binary replaced, no /proc): stay on the current core */
}

int blas_select(int argc, char **argv)
{
	const char *sel = getenv("NASNET_BLAS");
	const char *core = openblas_get_corename();
	const char *want;
	char buf[128];

	(void)argc;
	/* NASNET_BLAS_FORCE_SELECT=1 treats the core as generic: it lets the tests
	 * exercise the re-exec path on machines OpenBLAS already knows */
	int generic = !is_fast_core(core) || getenv("NASNET_BLAS_FORCE_SELECT");

	if (!sel && !getenv("OPENBLAS_CORETYPE") && generic && (want = cpu_core())) {
		snprintf(buf, sizeof buf, "%s:%s", want, core);
		setenv("OPENBLAS_CORETYPE", want, 1);
		setenv("NASNET_BLAS", buf, 1);
		reexec(argv);
		unsetenv("OPENBLAS_CORETYPE");
		unsetenv("NASNET_BLAS");
		sel = NULL;
	}
	if (blas_verify() == 0) {
		setenv("NASNET_BLAS_CHECK", "verified", 1);
		return 0;
	}
	setenv("NASNET_BLAS_CHECK", "failed", 1);
	if (sel && strncmp(sel, "fallback:", 9) && strchr(sel, ':')) {
		/* a core we chose gives wrong numbers: go back to OpenBLAS's own choice */
		snprintf(buf, sizeof buf, "fallback:%s", sel);
		setenv("OPENBLAS_CORETYPE", strchr(sel, ':') + 1, 1);
		setenv("NASNET_BLAS", buf, 1);
		unsetenv("NASNET_BLAS_CHECK");
		reexec(argv);
		setenv("NASNET_BLAS_CHECK", "failed", 1);
	}
	return error("OpenBLAS core %s: cblas_sgemm disagrees with the naive product", core);
}

const char *blas_describe(char *buf, size_t n)
{
	const char *sel = getenv("NASNET_BLAS"), *env = getenv("OPENBLAS_CORETYPE");
	const char *chk = getenv("NASNET_BLAS_CHECK");
	const char *core = openblas_get_corename();
	char how[96];

	if (sel && !strncmp(sel, "fallback:", 9))
		snprintf(how, sizeof how, "fallback after %.*s failed the check",
			 (int)strcspn(sel + 9, ":"), sel + 9);
	else if (sel && strchr(sel, ':'))
		snprintf(how, sizeof how, "selected over %s", strchr(sel, ':') + 1);
	else if (env)
		snprintf(how, sizeof how, "OPENBLAS_CORETYPE=%s", env);
	else
		snprintf(how, sizeof how, "OpenBLAS's choice");
	snprintf(buf, n, "%s (%s, %s)", core, how, chk ? chk : "unchecked");
	return buf;
}
