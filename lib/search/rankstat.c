/*
 * rankstat.c - Kendall's tau-b, Spearman's rho, bootstrap intervals
 * (rankstat.h).
 */
#include "rankstat.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "util.h"

double kendall_tau_b(const double *x, const double *y, int n)
{
	double conc = 0, disc = 0, tx = 0, ty = 0, n0 = 0.5 * n * (n - 1.0);

	if (n < 2)
		return NAN;
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++) {
			double dx = x[i] - x[j], dy = y[i] - y[j];

			if (dx == 0)
				tx++;
			if (dy == 0)
				ty++;
			if (dx * dy > 0)
				conc++;
			else if (dx * dy < 0)
				disc++;
		}
	if (n0 - tx <= 0 || n0 - ty <= 0)
		return NAN;
	return (conc - disc) / sqrt((n0 - tx) * (n0 - ty));
}

struct ranked {
	double v;
	int i;
};

static int by_value(const void *a, const void *b)
{
	const struct ranked *p = a, *q = b;

	if (p->v != q->v)
		return p->v < q->v ? -1 : 1;
	return p->i - q->i;
}

void mid_ranks(const double *x, int n, double *r)
{
	struct ranked *s = xmalloc(sizeof *s * (size_t)(n > 0 ? n : 1));

	for (int i = 0; i < n; i++)
		s[i].v = x[i], s[i].i = i;
	qsort(s, (size_t)n, sizeof *s, by_value);
	for (int i = 0; i < n;) {
		int j = i;

		while (j + 1 < n && s[j + 1].v == s[i].v)
			j++;
		for (int k = i; k <= j; k++)
			r[s[k].i] = 0.5 * (i + j) + 1;
		i = j + 1;
	}
	free(s);
}

static double pearson(const double *x, const double *y, int n)
{
	double mx = mean_of(x, n), my = mean_of(y, n), sxy = 0, sxx = 0, syy = 0;

	for (int i = 0; i < n; i++) {
		sxy += (x[i] - mx) * (y[i] - my);
		sxx += (x[i] - mx) * (x[i] - mx);
		syy += (y[i] - my) * (y[i] - my);
	}
	return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

double spearman_rho(const double *x, const double *y, int n)
{
	double *rx, *ry, rho;

	if (n < 2)
		return NAN;
	rx = xmalloc(sizeof *rx * (size_t)n);
	ry = xmalloc(sizeof *ry * (size_t)n);
	mid_ranks(x, n, rx);
	mid_ranks(y, n, ry);
	rho = pearson(rx, ry, n);
	free(rx);
	free(ry);
	return rho;
}

static int cmp_double(const void *a, const void *b)
{
	double p = *(const double *)a, q = *(const double *)b;

	return (p > q) - (p < q);
}

void bootstrap_interval(double (*stat)(const double *, const double *, int), const double *x,
			const double *y, int n, int reps, uint64_t seed, double *lo, double *hi)
{
	double *bx = xmalloc(sizeof *bx * (size_t)(n > 0 ? n : 1));
	double *by = xmalloc(sizeof *by * (size_t)(n > 0 ? n : 1));
	double *v = xmalloc(sizeof *v * (size_t)(reps > 0 ? reps : 1));
	int m = 0;

	for (int b = 0; b < reps && n > 0; b++) {
		struct rng r;
		double s;

		rng_stream(&r, seed, (uint64_t)b, 0, RNG_SAMPLE);
		for (int i = 0; i < n; i++) {
			int k = (int)rng_below(&r, (uint64_t)n);

			bx[i] = x[k];
			by[i] = y[k];
		}
		s = stat(bx, by, n);
		if (!isnan(s))
			v[m++] = s;
	}
	*lo = *hi = NAN;
	if (m > 0) {
		qsort(v, (size_t)m, sizeof *v, cmp_double);
		*lo = v[(int)floor(0.025 * (m - 1) + 0.5)];
		*hi = v[(int)floor(0.975 * (m - 1) + 0.5)];
	}
	free(bx);
	free(by);
	free(v);
}

double mean_of(const double *x, int n)
{
	double s = 0;

	if (n < 1)
		return NAN;
	for (int i = 0; i < n; i++)
		s += x[i];
	return s / n;
}

double sd_of(const double *x, int n)
{
	double m = mean_of(x, n), s = 0;

	if (n < 2)
		return NAN;
	for (int i = 0; i < n; i++)
		s += (x[i] - m) * (x[i] - m);
	return sqrt(s / (n - 1));
}
