/*
 * test_rankstat.c - Kendall's tau-b and Spearman's rho against values worked
 * out independently (the textbook tie-group formula for tau-b; 1 - 6 sum d^2 /
 * (n (n^2 - 1)) for rho without ties), mid-ranks, and the bootstrap interval.
 */
#include <math.h>

#include "../tap.h"
#include "rankstat.h"

int main(void)
{
	const double x[] = { 1, 2, 2, 3, 5, 4 }, y[] = { 1, 2, 3, 3, 4, 6 };
	const double a[] = { 10, 20, 30, 40, 50 }, b[] = { 3, 1, 4, 5, 2 };
	const double c[] = { 1, 1, 1 };
	const double t[] = { 3, 1, 3, 2 };
	double r[4], lo, hi, lo2, hi2;

	ok(fabs(kendall_tau_b(x, y, 6) - 0.7857142857142857) < 1e-12,
	   "tau-b with ties in both: 0.785714 (got %.15g)", kendall_tau_b(x, y, 6));
	ok(fabs(kendall_tau_b(a, a, 5) - 1) < 1e-15 && fabs(kendall_tau_b(a, b, 5) - 0.2) < 1e-12,
	   "tau-b: identical order 1, a permutation 0.2");
	ok(isnan(kendall_tau_b(c, a, 3)) && isnan(kendall_tau_b(a, b, 1)),
	   "tau-b: NaN for a constant side or one item");
	ok(fabs(spearman_rho(a, b, 5) - 0.2) < 1e-12, "rho without ties: 1 - 6 sum d^2 / (n(n^2-1)) = 0.2");
	ok(fabs(spearman_rho(a, a, 5) - 1) < 1e-15, "rho of a variable with itself: 1");
	mid_ranks(t, 4, r);
	ok(r[0] == 3.5 && r[1] == 1 && r[2] == 3.5 && r[3] == 2, "mid-ranks share their mean rank");
	bootstrap_interval(kendall_tau_b, x, y, 6, 500, 7, &lo, &hi);
	bootstrap_interval(kendall_tau_b, x, y, 6, 500, 7, &lo2, &hi2);
	ok(lo <= kendall_tau_b(x, y, 6) && kendall_tau_b(x, y, 6) <= hi && hi <= 1 && lo >= -1,
	   "bootstrap interval [%.3f, %.3f] holds the estimate", lo, hi);
	ok(lo == lo2 && hi == hi2, "the same seed gives the same interval");
	ok(fabs(sd_of(b, 5) - sqrt(2.5)) < 1e-12 && isnan(sd_of(b, 1)), "sample sd");
	return tap_exit();
}
