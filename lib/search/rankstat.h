/*
 * rankstat.h - rank correlations for judging a cheap proxy reward against an
 * expensive one (make fidelity): Kendall's tau-b and Spearman's rho, both
 * with ties, and a percentile bootstrap interval over the paired items.
 */
#ifndef NASNET_RANKSTAT_H
#define NASNET_RANKSTAT_H

#include <stdint.h>

/* Kendall's tau-b of (x[i], y[i]), i < n: (concordant - discordant) /
 * sqrt((n0 - ties_x)(n0 - ties_y)), n0 = n(n-1)/2. NaN when n < 2 or a side
 * is constant. O(n^2): fidelity studies pair tens of cells. */
double kendall_tau_b(const double *x, const double *y, int n);

/* Spearman's rho: Pearson's correlation of the ranks (ties get their mean rank). */
double spearman_rho(const double *x, const double *y, int n);

/* Mid-ranks of x (1-based; ties share their mean rank) into r. */
void mid_ranks(const double *x, int n, double *r);

/*
 * 95 % percentile bootstrap interval of stat(x, y) over `reps` resamples of
 * the n pairs with replacement, seeded (the same seed gives the same
 * interval). Resamples where stat is NaN are skipped. *lo, *hi NaN when
 * nothing is left.
 */
void bootstrap_interval(double (*stat)(const double *, const double *, int), const double *x,
			const double *y, int n, int reps, uint64_t seed, double *lo, double *hi);

/* Mean and sample standard deviation (NaN for fewer than 2 values). */
double mean_of(const double *x, int n);
double sd_of(const double *x, int n);

#endif
