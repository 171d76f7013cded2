/*
 * tap.h - a tiny TAP producer for the C unit tests (header only).
 *
 *   plan(n) or done_testing() at the end;  ok(cond, fmt, ...);
 *   close_arrays(name, got, want, n, rtol, atol) passes when every element
 *   satisfies |got-want| <= atol + rtol*|want|, and on failure prints the
 *   worst element. Returns the process exit status from tap_exit().
 */
#ifndef NASNET_TAP_H
#define NASNET_TAP_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_count, tap_failed;

static inline int ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

static inline void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static inline int close_arrays(const char *name, const float *got, const float *want, size_t n,
			       double rtol, double atol)
{
	size_t worst = 0;
	double worst_excess = -1, worst_diff = 0;

	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)got[i] - want[i]);
		double lim = atol + rtol * fabs((double)want[i]);
		double excess = isnan(d) ? INFINITY : d - lim;

		if (excess > worst_excess) {
			worst_excess = excess;
			worst = i;
			worst_diff = d;
		}
	}
	if (n && worst_excess > 0)
		diag("%s: worst element %zu of %zu: got %.9g want %.9g (|diff| %.3g)", name, worst, n,
		     got[worst], want[worst], worst_diff);
	return ok(n == 0 || worst_excess <= 0, "%s (%zu values, max |diff| %.3g)", name, n,
		  worst_diff);
}

static inline int tap_exit(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
