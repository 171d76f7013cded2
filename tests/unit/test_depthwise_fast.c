/*
 * test_depthwise_fast.c - the register-blocked depthwise kernels against the
 * naive *_ref oracle over a sweep of every geometry the networks use and
 * the edges around it: kernels 3/5/7, strides 1/2, dilations 1/2, planes
 * 1x1 .. 33x33 and non-square, 1..17 channels, batch 1 and 3; forward,
 * both backward outputs and every din/dw NULL combination; and results
 * bit-identical with 1 and 2 threads. A few other geometries (stride 3,
 * unequal strides, VALID padding) check the general path.
 *
 * Tolerance: |fast - ref| <= RTOL * (|initial| + sum of |terms|), with the
 * sum of |terms| from the ref run on absolute values, so that outputs which
 * cancel to near zero are judged against the size of what was summed.
 */
#include "ops.h"
#include "rng.h"
#include "util.h"
#include "../tap.h"
#include "arrays.h"

#include <omp.h>
#include <string.h>

#define RTOL 1e-5

static struct rng R;

/* n values uniform in [-1, 1) */
static float *urand(size_t n)
{
	return rand_floats(&R, n, -1, 1);
}

static float *absolute(const float *a, size_t n)
{
	float *b = copy_floats(a, n);

	for (size_t i = 0; i < n; i++)
		b[i] = fabsf(b[i]);
	return b;
}

/* 1 when every |got - want| <= RTOL * (|init| + mag); else print the worst element */
static int close_mag(const char *what, const char *shape, const float *got, const float *want,
		     const float *init, const float *mag, size_t n)
{
	size_t worst = 0;
	double excess = -1;

	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)got[i] - want[i]);
		double lim = RTOL * ((init ? fabs((double)init[i]) : 0) + mag[i]) + 1e-30;
		double e = isnan(d) ? INFINITY : d / lim;

		if (e > excess) {
			excess = e;
			worst = i;
		}
	}
	if (n && excess > 1) {
		diag("%s %s: element %zu of %zu: fast %.9g ref %.9g (sum of |terms| %.3g)", what,
		     shape, worst, n, got[worst], want[worst], mag[worst]);
		return 0;
	}
	return 1;
}

static int same_bits(const char *what, const char *shape, const float *a, const float *b,
		     size_t n)
{
	if (!memcmp(a, b, sizeof(*a) * n))
		return 1;
	diag("%s %s: results differ", what, shape);
	return 0;
}

/*
 * One geometry: fast vs ref for out, din, dw; din-only and dw-only backward
 * give the same bits as both together; 2 threads give the bits of 1.
 */
static int check_shape(const struct conv_shape *s)
{
	char d[160];
	const size_t ni = (size_t)s->N * s->C * s->H * s->W, nw = (size_t)s->C * s->kh * s->kw;
	const size_t no = (size_t)s->N * s->C * s->OH * s->OW;
	float *in = urand(ni), *w = urand(nw), *dout = urand(no), *di0 = urand(ni), *dw0 = urand(nw);
	float *ain = absolute(in, ni), *aw = absolute(w, nw), *adout = absolute(dout, no);
	float *oref = urand(no), *omag = urand(no);
	float *diref = copy_floats(di0, ni), *dwref = copy_floats(dw0, nw);
	float *dimag = xcalloc(ni ? ni : 1, sizeof(float)), *dwmag = xcalloc(nw, sizeof(float));
	float *o[2], *di[2], *dw[2], *dionly = copy_floats(di0, ni), *dwonly = copy_floats(dw0, nw);
	int good = 1, saved = omp_get_max_threads();

	snprintf(d, sizeof(d), "N%d C%d %dx%d k%dx%d s%d,%d d%d pad %d,%d", s->N, s->C, s->H, s->W,
		 s->kh, s->kw, s->sh, s->sw, s->dil, s->pt, s->pl);
	depthwise_forward_ref(oref, in, w, s);
	depthwise_forward_ref(omag, ain, aw, s);
	depthwise_backward_ref(diref, dwref, dout, in, w, s);
	depthwise_backward_ref(dimag, dwmag, adout, ain, aw, s);
	for (int t = 0; t < 2; t++) {
		omp_set_num_threads(t + 1);
		o[t] = urand(no);
		di[t] = copy_floats(di0, ni);
		dw[t] = copy_floats(dw0, nw);
		depthwise_forward(o[t], in, w, s);
		depthwise_backward(di[t], dw[t], dout, in, w, s);
	}
	omp_set_num_threads(saved);
	depthwise_backward(dionly, NULL, dout, in, w, s);
	depthwise_backward(NULL, dwonly, dout, in, w, s);

	good &= close_mag("out", d, o[0], oref, NULL, omag, no);
	good &= close_mag("din", d, di[0], diref, di0, dimag, ni);
	good &= close_mag("dw", d, dw[0], dwref, dw0, dwmag, nw);
	good &= same_bits("out with 2 threads", d, o[1], o[0], no);
	good &= same_bits("din with 2 threads", d, di[1], di[0], ni);
	good &= same_bits("dw with 2 threads", d, dw[1], dw[0], nw);
	good &= same_bits("din with dw NULL", d, dionly, di[0], ni);
	good &= same_bits("dw with din NULL", d, dwonly, dw[0], nw);
	for (int t = 0; t < 2; t++) {
		free(o[t]); free(di[t]); free(dw[t]);
	}
	free(in); free(w); free(dout); free(di0); free(dw0); free(ain); free(aw); free(adout);
	free(oref); free(omag); free(diref); free(dwref); free(dimag); free(dwmag);
	free(dionly); free(dwonly);
	return good;
}

/* the sweep, one line per (kernel, stride, dilation) */
static void test_sweep(void)
{
	static const int sizes[][2] = { { 1, 1 }, { 2, 2 }, { 5, 5 }, { 7, 7 }, { 14, 14 },
					{ 28, 28 }, { 33, 33 }, { 9, 23 } };
	static const int chans[] = { 1, 3, 17 }, batch[] = { 1, 3 };

	for (int k = 3; k <= 7; k += 2)
		for (int st = 1; st <= 2; st++)
			for (int dil = 1; dil <= 2; dil++) {
				int fails = 0, n = 0;

				for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++)
					for (size_t c = 0; c < sizeof(chans) / sizeof(*chans); c++)
						for (size_t b = 0; b < sizeof(batch) / sizeof(*batch); b++) {
							struct conv_shape s;

							conv_shape_same(&s, batch[b], chans[c], sizes[i][0],
									sizes[i][1], chans[c], k, k, st, st,
									dil);
							fails += !check_shape(&s);
							n++;
						}
				ok(!fails, "k%d s%d d%d: fast == ref, NULL grads, 1 == 2 threads (%d shapes)",
				   k, st, dil, n);
			}
}

/* geometries outside the search space: the general (scalar-interleave) path */
static void test_other(void)
{
	struct conv_shape s;
	int good = 1;

	conv_shape_same(&s, 2, 5, 17, 19, 5, 3, 3, 3, 3, 1);
	good &= check_shape(&s);
	conv_shape_same(&s, 2, 5, 16, 21, 5, 5, 5, 3, 3, 2);
	good &= check_shape(&s);
	conv_shape_same(&s, 2, 5, 15, 20, 5, 3, 5, 1, 2, 1);
	good &= check_shape(&s);
	conv_shape_same(&s, 2, 5, 15, 20, 5, 5, 3, 2, 1, 2);
	good &= check_shape(&s);
	conv_shape_same(&s, 3, 4, 40, 37, 4, 7, 7, 2, 2, 2);
	good &= check_shape(&s);
	conv_shape_same(&s, 2, 3, 64, 64, 3, 7, 7, 1, 1, 2);   /* scratch beyond the stack buffer */
	good &= check_shape(&s);
	conv_shape_valid(&s, 2, 5, 12, 13, 5, 3, 3, 1, 1);
	good &= check_shape(&s);
	conv_shape_valid(&s, 2, 5, 12, 13, 5, 5, 5, 2, 2);
	good &= check_shape(&s);
	conv_shape_same(&s, 2, 5, 12, 13, 5, 1, 1, 2, 2, 1);
	good &= check_shape(&s);
	ok(good, "stride 3, unequal strides and kernels, VALID, 1x1, a 64x64 plane");
}

int main(void)
{
	rng_seed(&R, 4242);
	test_sweep();
	test_other();
	return tap_exit();
}
