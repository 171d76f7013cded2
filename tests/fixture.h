/*
 * fixture.h - reading the PyTorch fixture files of the parity tests (header only).
 *
 * A fixture file (tests/fixtures/ops.h5, cells.h5) holds one group per case;
 * its attributes are the case's settings and its datasets the tensors. A test
 * opens the group into a struct fx and reads through these helpers, which
 * never fail hard: a missing or misshapen item prints a TAP diagnostic, gives
 * zeros and sets x->bad, so the test reports "fixture incomplete" once.
 *
 *   ival/dval(x, attr)            int or double attribute of the case
 *   sval(g, attr, buf, n)         string attribute (-1 and "" on failure)
 *   load/load_int(x, name, n)     a dataset of exactly n elements, new buffer
 *   check_tol(x, what, got, name, n, rtol, atol)
 *                                 got against the dataset `name` (close_arrays)
 */
#ifndef NASNET_FIXTURE_H
#define NASNET_FIXTURE_H

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>

#include "tap.h"
#include "util.h"

struct fx {
	hid_t g;            /* the case group */
	const char *name;   /* its name */
	int bad;            /* a read failed */
};

static inline int ival(struct fx *x, const char *attr)
{
	int v = 0;
	hid_t a = H5Aopen(x->g, attr, H5P_DEFAULT);

	if (a < 0 || H5Aread(a, H5T_NATIVE_INT, &v) < 0) {
		diag("%s: cannot read attribute %s", x->name, attr);
		x->bad = 1;
	}
	if (a >= 0)
		H5Aclose(a);
	return v;
}

static inline double dval(struct fx *x, const char *attr)
{
	double v = 0;
	hid_t a = H5Aopen(x->g, attr, H5P_DEFAULT);

	if (a < 0 || H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0) {
		diag("%s: cannot read attribute %s", x->name, attr);
		x->bad = 1;
	}
	if (a >= 0)
		H5Aclose(a);
	return v;
}

/* string attribute of g into buf (n bytes); -1 and "" on failure */
static inline int sval(hid_t g, const char *attr, char *buf, size_t n)
{
	hid_t a = H5Aopen(g, attr, H5P_DEFAULT), t = a >= 0 ? H5Aget_type(a) : -1;
	hid_t mt = H5Tcopy(H5T_C_S1);
	size_t sz = t >= 0 ? H5Tget_size(t) : 0;
	int rc = -1;

	buf[0] = 0;
	if (sz && sz < n && H5Tset_size(mt, sz + 1) >= 0 && H5Aread(a, mt, buf) >= 0) {
		buf[sz] = 0;
		rc = 0;
	}
	H5Tclose(mt);
	if (t >= 0)
		H5Tclose(t);
	if (a >= 0)
		H5Aclose(a);
	return rc;
}

/* Read dataset `name` of exactly n elements as `type` into a new buffer (zeros on failure). */
static inline void *load_as(struct fx *x, const char *name, size_t n, hid_t type, size_t elsz)
{
	void *buf = xcalloc(n ? n : 1, elsz);
	hid_t d = H5Dopen2(x->g, name, H5P_DEFAULT);
	hid_t sp = d >= 0 ? H5Dget_space(d) : -1;
	hssize_t np = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;

	if (d < 0 || np != (hssize_t)n ||
	    (n && H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)) {
		diag("%s/%s: missing, or %lld elements instead of %zu", x->name, name,
		     (long long)np, n);
		x->bad = 1;
	}
	if (sp >= 0)
		H5Sclose(sp);
	if (d >= 0)
		H5Dclose(d);
	return buf;
}

static inline float *load(struct fx *x, const char *name, size_t n)
{
	return load_as(x, name, n, H5T_NATIVE_FLOAT, sizeof(float));
}

static inline int *load_int(struct fx *x, const char *name, size_t n)
{
	return load_as(x, name, n, H5T_NATIVE_INT, sizeof(int));
}

/* one test point: got (n elements) against the fixture dataset `name` */
static inline void check_tol(struct fx *x, const char *what, const float *got, const char *name,
			     size_t n, double rtol, double atol)
{
	char label[200];
	float *want = load(x, name, n);

	snprintf(label, sizeof(label), "%s: %s", x->name, what);
	close_arrays(label, got, want, n, rtol, atol);
	free(want);
}

#endif
