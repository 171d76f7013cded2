/*
 * h5io.c - the HDF5 wrapper: checked opens, typed and shape-checked reads,
 * atomic deterministic writes, one-line errors.
 *
 * Determinism: object time tracking is off on every creation property list,
 * and provenance time comes from SOURCE_DATE_EPOCH when set (the search
 * pipeline sets it to the run's start), so equal content gives equal bytes.
 */
#include "h5io.h"
#include "atomic.h"
#include "blas.h"
#include "gitrev.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void h5_init(void)
{
	/* no H5close at exit: after a failed H5Fclose (EIO, ENOSPC) HDF5 1.10.8
	 * crashes closing the file again there; every file we write is closed
	 * (or its temporary removed) explicitly before exit */
	H5dont_atexit();
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

struct err_walk {
	char *buf;
	size_t n;
	int found;
};

static herr_t innermost_cb(unsigned n, const H5E_error2_t *e, void *data)
{
	struct err_walk *w = data;

	(void)n;
	if (!w->found && e->desc && *e->desc) {
		/* I/O failures read "file write failed: time = ...\n, filename = ...,
		 * errno = 28, error message = 'No space left on device', ...":
		 * keep the first line and the system's message */
		const char *sys = strstr(e->desc, "error message = '");
		size_t len = strcspn(e->desc, "\n");

		if (sys) {
			sys += strlen("error message = '");
			len = strcspn(e->desc, ":\n");
			if (strstr(e->desc, ", errno") && strstr(e->desc, ", errno") < e->desc + len)
				len = (size_t)(strstr(e->desc, ", errno") - e->desc);
			snprintf(w->buf, w->n, "%.*s: %.*s", (int)len, e->desc,
				 (int)strcspn(sys, "'"), sys);
		} else {
			snprintf(w->buf, w->n, "%.*s", (int)len, e->desc);
		}
		w->found = 1;
	}
	return 0;
}

const char *h5_last_error(char *buf, size_t n)
{
	struct err_walk w = { buf, n, 0 };

	buf[0] = 0;
	H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost_cb, &w);
	if (!w.found)
		snprintf(buf, n, "HDF5 error");
	H5Eclear2(H5E_DEFAULT);
	return buf;
}

/* error("path: what: innermost HDF5 message") */
static int h5err(const struct h5f *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int h5err(const struct h5f *f, const char *fmt, ...)
{
	char msg[512], inner[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	h5_last_error(inner, sizeof inner);
	return error("%s: %s: %s", f->path, msg, inner);
}

/* integrity, defined at the end */
#define CHECKSUM "checksum"
#define FNV_BASIS 0xcbf29ce484222325ULL
static uint64_t hash_le(uint64_t h, const void *p, size_t n, size_t size);
static size_t elem_count(int rank, const hsize_t *dims);
static uint64_t strings_sum(int n, const char *const *s);
static int write_dataset_sum(struct h5f *f, const char *dset, uint64_t h);
static int verify_dataset_sum(struct h5f *f, const char *dset, uint64_t h);
static int write_root_sum(struct h5f *f);
static int verify_root_sum(struct h5f *f);

static hid_t track_off(hid_t cls)
{
	hid_t p = H5Pcreate(cls);

	if (p >= 0)
		H5Pset_obj_track_times(p, 0);
	return p;
}

static hid_t lcpl_intermediate(void)
{
	hid_t p = H5Pcreate(H5P_LINK_CREATE);

	if (p >= 0)
		H5Pset_create_intermediate_group(p, 1);
	return p;
}

static hid_t native_type(enum h5type t)
{
	switch (t) {
	case H5IO_F32: return H5T_NATIVE_FLOAT;
	case H5IO_F64: return H5T_NATIVE_DOUBLE;
	case H5IO_I32: return H5T_NATIVE_INT32;
	case H5IO_I64: return H5T_NATIVE_INT64;
	case H5IO_U8: return H5T_NATIVE_UINT8;
	case H5IO_U64: return H5T_NATIVE_UINT64;
	}
	return -1;
}

/* little-endian file types, so files are the same on every host */
static hid_t file_type(enum h5type t)
{
	switch (t) {
	case H5IO_F32: return H5T_IEEE_F32LE;
	case H5IO_F64: return H5T_IEEE_F64LE;
	case H5IO_I32: return H5T_STD_I32LE;
	case H5IO_I64: return H5T_STD_I64LE;
	case H5IO_U8: return H5T_STD_U8LE;
	case H5IO_U64: return H5T_STD_U64LE;
	}
	return -1;
}

static const char *type_desc(enum h5type t)
{
	static const char *names[] = { "float32", "float64", "int32", "int64", "uint8", "uint64" };

	return names[t];
}

static int type_matches(hid_t dtype, enum h5type t)
{
	H5T_class_t cls = H5Tget_class(dtype);
	size_t size = H5Tget_size(dtype);

	switch (t) {
	case H5IO_F32: return cls == H5T_FLOAT && size == 4;
	case H5IO_F64: return cls == H5T_FLOAT && size == 8;
	case H5IO_I32: return cls == H5T_INTEGER && size == 4 && H5Tget_sign(dtype) == H5T_SGN_2;
	case H5IO_I64: return cls == H5T_INTEGER && size == 8 && H5Tget_sign(dtype) == H5T_SGN_2;
	case H5IO_U8: return cls == H5T_INTEGER && size == 1 && H5Tget_sign(dtype) == H5T_SGN_NONE;
	case H5IO_U64: return cls == H5T_INTEGER && size == 8 && H5Tget_sign(dtype) == H5T_SGN_NONE;
	}
	return 0;
}

static void describe_type(hid_t dtype, char *buf, size_t n)
{
	H5T_class_t cls = H5Tget_class(dtype);
	size_t size = H5Tget_size(dtype);

	if (cls == H5T_FLOAT)
		snprintf(buf, n, "float%zu", size * 8);
	else if (cls == H5T_INTEGER)
		snprintf(buf, n, "%sint%zu", H5Tget_sign(dtype) == H5T_SGN_NONE ? "u" : "", size * 8);
	else if (cls == H5T_STRING)
		snprintf(buf, n, "string");
	else
		snprintf(buf, n, "HDF5 class %d", (int)cls);
}

static hid_t string_type(void)
{
	hid_t t = H5Tcopy(H5T_C_S1);

	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	return t;
}

/* ---- provenance ---- */

static void iso_time(char *buf, size_t n)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	time_t t = time(NULL);
	long v;
	struct tm tm;

	if (sde && !parse_long(sde, 0, 1L << 40, &v))
		t = (time_t)v;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int write_provenance(struct h5f *f, const struct provenance *p)
{
	char cmd[4096] = "", when[64], h5ver[32], blas[160];
	unsigned maj, min, rel;
	size_t used = 0;

	for (int i = 0; p && i < p->argc && used < sizeof cmd - 1; i++)
		used += (size_t)snprintf(cmd + used, sizeof cmd - used, "%s%s", i ? " " : "",
					 p->argv[i]);
	iso_time(when, sizeof when);
	H5get_libversion(&maj, &min, &rel);
	snprintf(h5ver, sizeof h5ver, "%u.%u.%u", maj, min, rel);
	/* stop at the first failure: one error line */
	if (h5_mkgroup(f, "/provenance") < 0 ||
	    h5_attr_write_string(f, "/provenance", "tool", p && p->tool ? p->tool : progname) < 0 ||
	    h5_attr_write_string(f, "/provenance", "version", NASNET_VERSION) < 0 ||
	    h5_attr_write_string(f, "/provenance", "git_revision", NASNET_GIT_REV) < 0 ||
	    h5_attr_write_string(f, "/provenance", "command_line", cmd) < 0 ||
	    h5_attr_write_int(f, "/provenance", "seed", p ? (int64_t)p->seed : 0) < 0 ||
	    h5_attr_write_int(f, "/provenance", "threads", p ? p->threads : 1) < 0 ||
	    h5_attr_write_string(f, "/provenance", "hdf5_version", h5ver) < 0 ||
	    h5_attr_write_string(f, "/provenance", "blas", blas_describe(blas, sizeof blas)) < 0 ||
	    h5_attr_write_string(f, "/provenance", "time", when) < 0)
		return -1;
	return 0;
}

/* ---- files ---- */

int h5_create(struct h5f *f, const char *path, const char *format, int version,
	      const struct provenance *prov)
{
	hid_t fcpl;

	memset(f, 0, sizeof *f);
	f->id = -1;
	f->path = xstrdup(path);
	f->tmp = atomic_tmp_name(path);
	f->version = version;
	f->checked = 1;
	atomic_register(f->tmp);
	fcpl = track_off(H5P_FILE_CREATE);
	f->id = H5Fcreate(f->tmp, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
	if (f->id < 0)
		h5err(f, "cannot create");
	H5Pclose(fcpl);
	if (f->id < 0) {
		h5_abort(f);
		return -1;
	}
	if (h5_attr_write_string(f, "/", "format", format) < 0 ||
	    h5_attr_write_int(f, "/", "schema_version", version) < 0 ||
	    write_provenance(f, prov) < 0) {
		h5_abort(f);
		return -1;
	}
	return 0;
}

int h5_commit(struct h5f *f)
{
	int rc = 0;

	if (write_root_sum(f) < 0) {
		h5_abort(f);
		return -1;
	}
	if (H5Fflush(f->id, H5F_SCOPE_GLOBAL) < 0 || H5Fclose(f->id) < 0) {
		h5err(f, "cannot write");
		rc = -1;
	}
	f->id = -1;
	if (rc == 0)
		rc = atomic_commit(f->tmp, f->path);
	if (rc < 0) {
		unlink(f->tmp);
		atomic_unregister(f->tmp);
	}
	free(f->tmp);
	free(f->path);
	f->tmp = f->path = NULL;
	return rc;
}

int h5_commit_batch(struct h5f *f, struct atomic_batch *b)
{
	int rc;

	/* a batch member is sealed like any other file (D11) */
	if (write_root_sum(f) < 0) {
		h5_abort(f);
		return -1;
	}
	if (H5Fflush(f->id, H5F_SCOPE_GLOBAL) < 0 || H5Fclose(f->id) < 0) {
		h5err(f, "cannot write");
		f->id = -1;
		h5_abort(f);
		return -1;
	}
	f->id = -1;
	rc = atomic_batch_add(b, f->tmp, f->path);
	f->tmp = f->path = NULL;
	return rc;
}

void h5_abort(struct h5f *f)
{
	if (f->id >= 0)
		H5Fclose(f->id);
	f->id = -1;
	if (f->tmp) {
		unlink(f->tmp);
		atomic_unregister(f->tmp);
	}
	free(f->tmp);
	free(f->path);
	f->tmp = f->path = NULL;
}

static int open_checked(struct h5f *f, const char *path)
{
	struct stat st;
	htri_t is;

	memset(f, 0, sizeof *f);
	f->id = -1;
	f->path = xstrdup(path);
	if (stat(path, &st) < 0) {
		error("%s: cannot open:", path);
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		error("%s: is a directory, expected an HDF5 file", path);
		goto fail;
	}
	/* a FIFO or a device would block or never end: refuse before opening */
	if (!S_ISREG(st.st_mode)) {
		error("%s: is not a regular file, expected an HDF5 file", path);
		goto fail;
	}
	is = H5Fis_hdf5(path);
	if (is <= 0) {
		char inner[256];

		h5_last_error(inner, sizeof inner);
		if (is == 0 || strstr(inner, "signature"))
			error("%s: not an HDF5 file", path);
		else
			error("%s: unreadable HDF5 file: %s", path, inner);
		goto fail;
	}
	f->id = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (f->id < 0) {
		h5err(f, "cannot open HDF5 file");
		goto fail;
	}
	/* external links and storage refused, the checksum verified: before any read */
	if (verify_root_sum(f) < 0)
		goto fail;
	return 0;
fail:
	h5_close(f);
	return -1;
}

static int read_format(struct h5f *f, char **format, int64_t *version)
{
	if (h5_attr_exists(f, "/", "format") <= 0 || h5_attr_exists(f, "/", "schema_version") <= 0)
		return error("%s: not a nasnet-c file (no format/schema_version attributes)", f->path);
	if (h5_attr_read_string(f, "/", "format", format) < 0)
		return -1;
	if (strncmp(*format, "nasnet-c/", 9)) {
		error("%s: not a nasnet-c file (format '%s')", f->path, *format);
		free(*format);
		*format = NULL;
		return -1;
	}
	if (h5_attr_read_int(f, "/", "schema_version", version) < 0) {
		free(*format);
		*format = NULL;
		return -1;
	}
	return 0;
}

int h5_open(struct h5f *f, const char *path, const char *format, int max_version)
{
	char *have = NULL;
	int64_t version;

	if (open_checked(f, path) < 0)
		return -1;
	if (read_format(f, &have, &version) < 0)
		goto fail;
	if (strcmp(have, format)) {
		error("%s: is a %s file, expected %s", path, have, format);
		goto fail;
	}
	if (version < 1 || version > max_version) {
		error("%s: %s schema version %lld is %s (this tool reads up to %d)", path, format,
		      (long long)version, version < 1 ? "invalid" : "newer than supported",
		      max_version);
		goto fail;
	}
	f->version = (int)version;
	free(have);
	return 0;
fail:
	free(have);
	h5_close(f);
	return -1;
}

int h5_is_hdf5(const char *path)
{
	struct stat st;
	htri_t is;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	is = H5Fis_hdf5(path);
	H5Eclear2(H5E_DEFAULT);
	return is > 0;
}

int h5_open_any(struct h5f *f, const char *path, char **format)
{
	int64_t version;

	*format = NULL;
	if (open_checked(f, path) < 0)
		return -1;
	if (read_format(f, format, &version) < 0) {
		h5_close(f);
		return -1;
	}
	f->version = (int)version;
	return 0;
}

void h5_close(struct h5f *f)
{
	if (f->id >= 0)
		H5Fclose(f->id);
	f->id = -1;
	free(f->path);
	f->path = NULL;
}

int h5_exists(struct h5f *f, const char *obj)
{
	char buf[1024];
	const char *p;

	if (!strcmp(obj, "/"))
		return 1;
	/* H5Lexists needs every parent to exist: check each prefix */
	for (p = strchr(obj + 1, '/');; p = strchr(p + 1, '/')) {
		size_t n = p ? (size_t)(p - obj) : strlen(obj);
		htri_t e;

		if (n >= sizeof buf)
			return 0;
		memcpy(buf, obj, n);
		buf[n] = 0;
		e = H5Lexists(f->id, buf, H5P_DEFAULT);
		if (e <= 0) {
			H5Eclear2(H5E_DEFAULT);
			return 0;
		}
		if (!p)
			return 1;
	}
}

int h5_mkgroup(struct h5f *f, const char *group)
{
	hid_t lcpl, gcpl, g;
	int rc = 0;

	if (h5_exists(f, group))
		return 0;
	lcpl = lcpl_intermediate();
	gcpl = track_off(H5P_GROUP_CREATE);
	g = H5Gcreate2(f->id, group, lcpl, gcpl, H5P_DEFAULT);
	if (g < 0 || H5Gclose(g) < 0)
		rc = h5err(f, "cannot create group '%s'", group);
	H5Pclose(lcpl);
	H5Pclose(gcpl);
	return rc;
}

/* make sure every parent group of `obj` exists, created with time tracking off */
static int make_parents(struct h5f *f, const char *obj)
{
	const char *slash = strrchr(obj, '/');
	char buf[1024];
	size_t n;

	if (!slash || slash == obj)
		return 0;
	n = (size_t)(slash - obj);
	if (n >= sizeof buf)
		return error("%s: object path too long: %s", f->path, obj);
	memcpy(buf, obj, n);
	buf[n] = 0;
	for (char *p = strchr(buf + 1, '/');; p = strchr(p + 1, '/')) {
		if (p)
			*p = 0;
		if (h5_mkgroup(f, buf) < 0)
			return -1;
		if (!p)
			break;
		*p = '/';
	}
	return 0;
}

int h5_write(struct h5f *f, const char *dset, enum h5type t, int rank, const hsize_t *dims,
	     const void *data)
{
	hid_t space, dcpl, d;

	if (make_parents(f, dset) < 0)
		return -1;
	space = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
	dcpl = track_off(H5P_DATASET_CREATE);
	d = H5Dcreate2(f->id, dset, file_type(t), space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	/* every HDF5 call clears the error stack: report before cleaning up */
	if (d < 0)
		h5err(f, "cannot create dataset '%s'", dset);
	H5Pclose(dcpl);
	H5Sclose(space);
	if (d < 0)
		return -1;
	/* closing flushes the sieve buffer: a failed write may show up only there */
	if (H5Dwrite(d, native_type(t), H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
		h5err(f, "cannot write dataset '%s'", dset);
		H5Dclose(d);
		return -1;
	}
	if (H5Dclose(d) < 0)
		return h5err(f, "cannot write dataset '%s'", dset);
	return write_dataset_sum(f, dset, hash_le(FNV_BASIS, data, elem_count(rank, dims),
						  H5Tget_size(native_type(t))));
}

/* open dataset, check type class and rank; dims out */
static hid_t open_typed(struct h5f *f, const char *dset, enum h5type t, int *rank, hsize_t *dims)
{
	hid_t d, dtype, space;
	int r;

	if (!h5_exists(f, dset)) {
		error("%s: missing dataset '%s'", f->path, dset);
		return -1;
	}
	d = H5Dopen2(f->id, dset, H5P_DEFAULT);
	if (d < 0) {
		h5err(f, "cannot open dataset '%s'", dset);
		return -1;
	}
	dtype = H5Dget_type(d);
	if (!type_matches(dtype, t)) {
		char have[32];

		describe_type(dtype, have, sizeof have);
		H5Tclose(dtype);
		H5Dclose(d);
		error("%s: dataset '%s' has type %s, expected %s", f->path, dset, have,
		      type_desc(t));
		return -1;
	}
	H5Tclose(dtype);
	space = H5Dget_space(d);
	r = H5Sget_simple_extent_ndims(space);
	if (r < 0 || r > H5IO_MAXRANK) {
		H5Sclose(space);
		H5Dclose(d);
		error("%s: dataset '%s' has unsupported rank %d", f->path, dset, r);
		return -1;
	}
	H5Sget_simple_extent_dims(space, dims, NULL);
	H5Sclose(space);
	*rank = r;
	return d;
}

static void format_dims(char *buf, size_t n, int rank, const hsize_t *dims)
{
	size_t used = (size_t)snprintf(buf, n, "(");

	for (int i = 0; i < rank && used < n; i++)
		used += (size_t)snprintf(buf + used, n - used, "%s%llu", i ? "," : "",
					 (unsigned long long)dims[i]);
	if (used < n)
		snprintf(buf + used, n - used, ")");
}

int h5_shape(struct h5f *f, const char *dset, enum h5type t, int *rank, hsize_t *dims)
{
	hid_t d = open_typed(f, dset, t, rank, dims);

	if (d < 0)
		return -1;
	H5Dclose(d);
	return 0;
}

int h5_read(struct h5f *f, const char *dset, enum h5type t, int rank, const hsize_t *dims,
	    void *data)
{
	hsize_t have[H5IO_MAXRANK];
	int r;
	hid_t d = open_typed(f, dset, t, &r, have);

	if (d < 0)
		return -1;
	if (r != rank || (rank && memcmp(have, dims, (size_t)rank * sizeof *dims))) {
		char a[128], b[128];

		format_dims(a, sizeof a, r, have);
		format_dims(b, sizeof b, rank, dims);
		H5Dclose(d);
		return error("%s: dataset '%s' has shape %s, expected %s", f->path, dset, a, b);
	}
	if (H5Dread(d, native_type(t), H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
		h5err(f, "cannot read dataset '%s'", dset);
		H5Dclose(d);
		return -1;
	}
	H5Dclose(d);
	return verify_dataset_sum(f, dset, hash_le(FNV_BASIS, data, elem_count(rank, dims),
						   H5Tget_size(native_type(t))));
}

int h5_read_alloc(struct h5f *f, const char *dset, enum h5type t, int rank, hsize_t *dims,
		  size_t max_elems, void **data)
{
	static const size_t size[] = { 4, 8, 4, 8, 1, 8 };
	int r;
	size_t count = 1;
	hid_t d = open_typed(f, dset, t, &r, dims);

	*data = NULL;
	if (d < 0)
		return -1;
	if (r != rank) {
		H5Dclose(d);
		return error("%s: dataset '%s' has rank %d, expected %d", f->path, dset, r, rank);
	}
	for (int i = 0; i < r; i++) {
		if (dims[i] && count > max_elems / dims[i]) {
			H5Dclose(d);
			return error("%s: dataset '%s' is too large (limit %zu elements)", f->path,
				     dset, max_elems);
		}
		count *= dims[i];
	}
	if (count > max_elems) {
		H5Dclose(d);
		return error("%s: dataset '%s' is too large (limit %zu elements)", f->path, dset,
			     max_elems);
	}
	*data = xmalloc(count * size[t]);
	if (H5Dread(d, native_type(t), H5S_ALL, H5S_ALL, H5P_DEFAULT, *data) < 0) {
		h5err(f, "cannot read dataset '%s'", dset);
		H5Dclose(d);
		free(*data);
		*data = NULL;
		return -1;
	}
	H5Dclose(d);
	if (verify_dataset_sum(f, dset, hash_le(FNV_BASIS, *data, count, size[t])) < 0) {
		free(*data);
		*data = NULL;
		return -1;
	}
	return 0;
}

int h5_write_strings(struct h5f *f, const char *dset, int n, const char *const *s)
{
	hsize_t dims[1] = { (hsize_t)n };
	hid_t space, dcpl, d, st;
	int rc = 0;

	if (make_parents(f, dset) < 0)
		return -1;
	st = string_type();
	space = H5Screate_simple(1, dims, NULL);
	dcpl = track_off(H5P_DATASET_CREATE);
	d = H5Dcreate2(f->id, dset, st, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	if (d < 0)
		h5err(f, "cannot create dataset '%s'", dset);
	H5Pclose(dcpl);
	H5Sclose(space);
	if (d < 0) {
		H5Tclose(st);
		return -1;
	}
	/* the raw data (heap references) is written from the sieve buffer when
	 * the dataset closes: a failed write may show up only there */
	if (n && H5Dwrite(d, st, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) < 0) {
		rc = h5err(f, "cannot write dataset '%s'", dset);
		H5Dclose(d);
	} else if (H5Dclose(d) < 0) {
		rc = h5err(f, "cannot write dataset '%s'", dset);
	}
	H5Tclose(st);
	if (rc == 0)
		rc = write_dataset_sum(f, dset, strings_sum(n, s));
	return rc;
}

int h5_read_strings(struct h5f *f, const char *dset, int max_n, int *n, char ***out)
{
	hid_t d, dtype, space, st;
	hsize_t dims[H5IO_MAXRANK];
	char **raw;
	int r;

	*out = NULL;
	*n = 0;
	if (!h5_exists(f, dset))
		return error("%s: missing dataset '%s'", f->path, dset);
	d = H5Dopen2(f->id, dset, H5P_DEFAULT);
	if (d < 0)
		return h5err(f, "cannot open dataset '%s'", dset);
	dtype = H5Dget_type(d);
	if (H5Tget_class(dtype) != H5T_STRING || !H5Tis_variable_str(dtype)) {
		H5Tclose(dtype);
		H5Dclose(d);
		return error("%s: dataset '%s' is not a variable-length string array", f->path,
			     dset);
	}
	H5Tclose(dtype);
	space = H5Dget_space(d);
	r = H5Sget_simple_extent_ndims(space);
	if (r != 1) {
		H5Sclose(space);
		H5Dclose(d);
		return error("%s: dataset '%s' has rank %d, expected 1", f->path, dset, r);
	}
	H5Sget_simple_extent_dims(space, dims, NULL);
	if (dims[0] > (hsize_t)max_n) {
		H5Sclose(space);
		H5Dclose(d);
		return error("%s: dataset '%s' has %llu strings (limit %d)", f->path, dset,
			     (unsigned long long)dims[0], max_n);
	}
	raw = xcalloc(dims[0] + 1, sizeof *raw);
	st = string_type();
	if (dims[0] && H5Dread(d, st, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) < 0) {
		h5err(f, "cannot read dataset '%s'", dset);
		H5Tclose(st);
		H5Sclose(space);
		H5Dclose(d);
		free(raw);
		return -1;
	}
	*n = (int)dims[0];
	*out = xcalloc(dims[0] + 1, sizeof **out);
	for (int i = 0; i < *n; i++)
		(*out)[i] = xstrdup(raw[i] ? raw[i] : "");
	if (dims[0])
		H5Dvlen_reclaim(st, space, H5P_DEFAULT, raw);
	free(raw);
	H5Tclose(st);
	H5Sclose(space);
	H5Dclose(d);
	if (verify_dataset_sum(f, dset, strings_sum(*n, (const char *const *)*out)) < 0) {
		h5_free_strings(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

void h5_free_strings(char **s, int n)
{
	if (!s)
		return;
	for (int i = 0; i < n; i++)
		free(s[i]);
	free(s);
}

/* ---- attributes ---- */

int h5_attr_exists(struct h5f *f, const char *obj, const char *name)
{
	htri_t e;

	if (!h5_exists(f, obj))
		return 0;
	e = H5Aexists_by_name(f->id, obj, name, H5P_DEFAULT);
	if (e < 0) {
		H5Eclear2(H5E_DEFAULT);
		return 0;
	}
	return e > 0;
}

static int attr_write(struct h5f *f, const char *obj, const char *name, hid_t ftype, hid_t mtype,
		      int n, const void *data)
{
	hsize_t dims[1] = { (hsize_t)n };
	hid_t space, a;
	int rc = 0;

	if (strcmp(obj, "/") && h5_mkgroup(f, obj) < 0 && !h5_exists(f, obj))
		return -1;
	if (h5_attr_exists(f, obj, name))
		H5Adelete_by_name(f->id, obj, name, H5P_DEFAULT);
	space = n < 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, NULL);
	a = H5Acreate_by_name(f->id, obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	if (a < 0)
		rc = h5err(f, "cannot create attribute '%s' on '%s'", name, obj);
	H5Sclose(space);
	if (a < 0)
		return rc;
	if (H5Awrite(a, mtype, data) < 0) {
		rc = h5err(f, "cannot write attribute '%s' on '%s'", name, obj);
		H5Aclose(a);
	} else if (H5Aclose(a) < 0) {
		rc = h5err(f, "cannot write attribute '%s' on '%s'", name, obj);
	}
	return rc;
}

int h5_attr_write_int(struct h5f *f, const char *obj, const char *name, int64_t v)
{
	return attr_write(f, obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, -1, &v);
}

int h5_attr_write_double(struct h5f *f, const char *obj, const char *name, double v)
{
	return attr_write(f, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, -1, &v);
}

int h5_attr_write_doubles(struct h5f *f, const char *obj, const char *name, int n, const double *v)
{
	return attr_write(f, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, n, v);
}

int h5_attr_write_string(struct h5f *f, const char *obj, const char *name, const char *v)
{
	hid_t st = string_type();
	int rc = attr_write(f, obj, name, st, st, -1, &v);

	H5Tclose(st);
	return rc;
}

/* open attribute and check its class and element count */
static hid_t attr_open(struct h5f *f, const char *obj, const char *name, H5T_class_t cls, int n)
{
	hid_t a, t, s;
	hssize_t count;

	if (!h5_attr_exists(f, obj, name)) {
		error("%s: missing attribute '%s' on '%s'", f->path, name, obj);
		return -1;
	}
	a = H5Aopen_by_name(f->id, obj, name, H5P_DEFAULT, H5P_DEFAULT);
	if (a < 0) {
		h5err(f, "cannot open attribute '%s' on '%s'", name, obj);
		return -1;
	}
	t = H5Aget_type(a);
	s = H5Aget_space(a);
	count = H5Sget_simple_extent_npoints(s);
	if (H5Tget_class(t) != cls || (n >= 0 && count != n) || (n < 0 && count != 1)) {
		H5Tclose(t);
		H5Sclose(s);
		H5Aclose(a);
		error("%s: attribute '%s' on '%s' has the wrong type or size", f->path, name, obj);
		return -1;
	}
	H5Tclose(t);
	H5Sclose(s);
	return a;
}

/* one scalar attribute of class cls, read as memory type mem into v */
static int attr_read_scalar(struct h5f *f, const char *obj, const char *name, H5T_class_t cls,
			    hid_t mem, void *v)
{
	hid_t a = attr_open(f, obj, name, cls, -1);
	herr_t rc;

	if (a < 0)
		return -1;
	rc = H5Aread(a, mem, v);
	if (rc < 0)
		h5err(f, "cannot read attribute '%s'", name);
	H5Aclose(a);
	return rc < 0 ? -1 : 0;
}

int h5_attr_read_int(struct h5f *f, const char *obj, const char *name, int64_t *v)
{
	return attr_read_scalar(f, obj, name, H5T_INTEGER, H5T_NATIVE_INT64, v);
}

int h5_attr_read_double(struct h5f *f, const char *obj, const char *name, double *v)
{
	return attr_read_scalar(f, obj, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, v);
}

int h5_attr_read_doubles(struct h5f *f, const char *obj, const char *name, int n, double *v)
{
	hid_t a = attr_open(f, obj, name, H5T_FLOAT, n);
	herr_t rc;

	if (a < 0)
		return -1;
	rc = H5Aread(a, H5T_NATIVE_DOUBLE, v);
	if (rc < 0)
		h5err(f, "cannot read attribute '%s'", name);
	H5Aclose(a);
	return rc < 0 ? -1 : 0;
}

/* a scalar string attribute (variable or fixed length) as a malloc'd string */
static herr_t attr_string(hid_t a, char **v)
{
	hid_t t = H5Aget_type(a);
	char *raw = NULL;
	herr_t rc;

	*v = NULL;
	if (H5Tis_variable_str(t)) {
		hid_t st = string_type();

		rc = H5Aread(a, st, &raw);
		H5Tclose(st);
		if (rc >= 0) {
			*v = xstrdup(raw ? raw : "");
			H5free_memory(raw);
		}
	} else {
		size_t size = H5Tget_size(t);
		hid_t st = H5Tcopy(H5T_C_S1);

		H5Tset_size(st, size + 1);
		*v = xcalloc(size + 2, 1);
		rc = H5Aread(a, st, *v);
		H5Tclose(st);
	}
	H5Tclose(t);
	if (rc < 0) {
		free(*v);
		*v = NULL;
	}
	return rc;
}

int h5_attr_read_string(struct h5f *f, const char *obj, const char *name, char **v)
{
	hid_t a = attr_open(f, obj, name, H5T_STRING, -1);
	herr_t rc;

	*v = NULL;
	if (a < 0)
		return -1;
	rc = attr_string(a, v);
	if (rc < 0)
		h5err(f, "cannot read attribute '%s'", name);
	H5Aclose(a);
	return rc < 0 ? -1 : 0;
}

/* ---- integrity (schemas/integrity.md) ----
 *
 * Every dataset carries a string attribute `checksum`: FNV-1a 64 of its
 * elements' little-endian bytes (strings: each with its NUL), checked after
 * every read. The root attribute `checksum` is FNV-1a 64 of the manifest:
 * every attribute of every object (name, class, count, value) and every link
 * (path, kind, soft target; datasets: type and shape), in name order; the
 * dataset checksums are attributes, so it covers the data too. Checked at
 * every open. A file without a root checksum was written before they existed
 * and is read unverified.
 */

/* n elements of `size` bytes, hashed as their little-endian bytes */
static uint64_t hash_le(uint64_t h, const void *p, size_t n, size_t size)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return hash_bytes(h, p, n * size);
#else
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		for (size_t k = size; k--;)
			h = hash_bytes(h, b + i * size + k, 1);
	return h;
#endif
}

static void format_sum(char *buf, size_t n, uint64_t h)
{
	snprintf(buf, n, "%016llx", (unsigned long long)h);
}

static size_t elem_count(int rank, const hsize_t *dims)
{
	size_t count = 1;

	for (int i = 0; i < rank; i++)
		count *= dims[i];
	return count;
}

static uint64_t strings_sum(int n, const char *const *s)
{
	uint64_t h = FNV_BASIS;

	for (int i = 0; i < n; i++)
		h = hash_bytes(h, s[i] ? s[i] : "", strlen(s[i] ? s[i] : "") + 1);
	return h;
}

static int write_dataset_sum(struct h5f *f, const char *dset, uint64_t h)
{
	char hex[20];

	format_sum(hex, sizeof hex, h);
	return h5_attr_write_string(f, dset, CHECKSUM, hex);
}

static int verify_dataset_sum(struct h5f *f, const char *dset, uint64_t h)
{
	char have[20], *want = NULL;
	int rc = 0;

	if (!f->checked)
		return 0;
	if (h5_attr_read_string(f, dset, CHECKSUM, &want) < 0)
		return -1;
	format_sum(have, sizeof have, h);
	if (strcmp(want, have))
		rc = error("%s: dataset '%s' does not match its checksum (damaged file)", f->path,
			   dset);
	free(want);
	return rc;
}

struct manifest {
	struct h5f *f;
	uint64_t h;
	int root;        /* attributes of "/": skip the root checksum itself */
	int reported;    /* a callback printed the error line */
	char obj[1024];  /* the object whose attributes are hashed, for messages */
};

static void hash_str(struct manifest *m, const char *s)
{
	m->h = hash_bytes(m->h, s, strlen(s) + 1);
}

static void hash_int(struct manifest *m, int64_t v)
{
	m->h = hash_le(m->h, &v, 1, sizeof v);
}

static herr_t attr_cb(hid_t loc, const char *name, const H5A_info_t *info, void *data)
{
	struct manifest *m = data;
	hid_t a, t, s;
	H5T_class_t cls;
	hssize_t n;
	herr_t rc = 0;

	(void)info;
	if (m->root && !strcmp(name, CHECKSUM))
		return 0;
	a = H5Aopen(loc, name, H5P_DEFAULT);
	if (a < 0) {
		h5err(m->f, "cannot open attribute '%s' on '%s'", name, m->obj);
		m->reported = 1;
		return -1;
	}
	t = H5Aget_type(a);
	s = H5Aget_space(a);
	cls = H5Tget_class(t);
	n = H5Sget_simple_extent_npoints(s);
	hash_str(m, name);
	hash_int(m, cls);
	hash_int(m, n);
	if (n < 0 || n > 1 << 20) {
		rc = -1;
	} else if (cls == H5T_INTEGER || cls == H5T_FLOAT) {
		void *buf = xcalloc((size_t)n + 1, 8);

		rc = H5Aread(a, cls == H5T_INTEGER ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE, buf);
		m->h = hash_le(m->h, buf, (size_t)n, 8);
		free(buf);
	} else if (cls == H5T_STRING && n == 1) {
		char *v;

		rc = attr_string(a, &v);
		if (rc >= 0)
			hash_str(m, v);
		free(v);
	}
	H5Tclose(t);
	H5Sclose(s);
	H5Aclose(a);
	if (rc < 0) {
		h5err(m->f, "cannot read attribute '%s' on '%s'", name, m->obj);
		m->reported = 1;
	}
	return rc < 0 ? -1 : 0;
}

/* a dataset's raw data must live in this file (D12 of the hostile-use report) */
static int dataset_self_contained(struct manifest *m, hid_t d)
{
	hid_t dcpl = H5Dget_create_plist(d);
	H5D_layout_t layout = H5Pget_layout(dcpl);
	int external = H5Pget_external_count(dcpl);

	H5Pclose(dcpl);
	m->reported = layout == H5D_VIRTUAL || external != 0;
	if (layout == H5D_VIRTUAL)
		return error("%s: dataset '%s' is a virtual dataset (refused: a nasnet-c file "
			     "holds its own data)", m->f->path, m->obj);
	if (external != 0)
		return error("%s: dataset '%s' has external raw storage (refused: a nasnet-c "
			     "file holds its own data)", m->f->path, m->obj);
	return 0;
}

static int hash_object(struct manifest *m, hid_t o, H5O_type_t type)
{
	hsize_t idx = 0;

	hash_int(m, type);
	if (type == H5O_TYPE_DATASET) {
		hid_t t = H5Dget_type(o), s = H5Dget_space(o);
		hsize_t dims[H5IO_MAXRANK];
		int rank = H5Sget_simple_extent_ndims(s);

		hash_int(m, H5Tget_class(t));
		hash_int(m, (int64_t)H5Tget_size(t));
		hash_int(m, H5Tget_class(t) == H5T_INTEGER ? H5Tget_sign(t) : 0);
		hash_int(m, H5Tget_class(t) == H5T_STRING ? H5Tis_variable_str(t) : 0);
		hash_int(m, rank);
		if (rank > 0 && rank <= H5IO_MAXRANK) {
			H5Sget_simple_extent_dims(s, dims, NULL);
			m->h = hash_le(m->h, dims, (size_t)rank, sizeof *dims);
		}
		H5Tclose(t);
		H5Sclose(s);
		if (dataset_self_contained(m, o) < 0)
			return -1;
	}
	if (H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, &idx, attr_cb, m) < 0) {
		if (!m->reported)
			h5err(m->f, "cannot list the attributes of '%s'", m->obj);
		m->reported = 1;
		return -1;
	}
	return 0;
}

static herr_t link_cb(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
	struct manifest *m = data;
	H5O_info_t oi;
	hid_t o;
	int rc;

	snprintf(m->obj, sizeof m->obj, "/%s", name);
	m->root = 0;
	hash_str(m, name);
	hash_int(m, info->type);
	if (info->type == H5L_TYPE_SOFT) {
		char target[1024] = "";

		if (info->u.val_size < sizeof target)
			H5Lget_val(group, name, target, sizeof target, H5P_DEFAULT);
		hash_str(m, target);
		return 0;
	}
	if (info->type != H5L_TYPE_HARD) {
		error("%s: '%s' is an external link (refused: a nasnet-c file holds its own data)",
		      m->f->path, m->obj);
		m->reported = 1;
		return -1;
	}
	if (H5Oget_info_by_name2(group, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0 ||
	    (o = H5Oopen(group, name, H5P_DEFAULT)) < 0) {
		h5err(m->f, "cannot open object '%s'", m->obj);
		m->reported = 1;
		return -1;
	}
	rc = hash_object(m, o, oi.type);
	H5Oclose(o);
	return rc < 0 ? -1 : 0;
}

/* The manifest hash; -1 (one error line) on a link, storage or read refused. */
static int manifest_sum(struct h5f *f, uint64_t *sum)
{
	struct manifest m = { f, FNV_BASIS, 1, 0, "/" };
	hid_t root = H5Oopen(f->id, "/", H5P_DEFAULT);
	int rc;

	if (root < 0)
		return h5err(f, "cannot open the root group");
	rc = hash_object(&m, root, H5O_TYPE_GROUP);
	H5Oclose(root);
	if (rc == 0 && H5Lvisit(f->id, H5_INDEX_NAME, H5_ITER_INC, link_cb, &m) < 0) {
		if (!m.reported)
			return h5err(f, "cannot list the objects");
		rc = -1;
	}
	H5Eclear2(H5E_DEFAULT);
	if (rc < 0)
		return -1;
	*sum = m.h;
	return 0;
}

static int write_root_sum(struct h5f *f)
{
	uint64_t h;
	char hex[20];

	if (manifest_sum(f, &h) < 0)
		return -1;
	format_sum(hex, sizeof hex, h);
	return h5_attr_write_string(f, "/", CHECKSUM, hex);
}

static int verify_root_sum(struct h5f *f)
{
	uint64_t h;
	char have[20], *want = NULL;
	int rc = 0;

	if (manifest_sum(f, &h) < 0)
		return -1;
	f->checked = h5_attr_exists(f, "/", CHECKSUM);
	if (!f->checked)
		return 0;
	if (h5_attr_read_string(f, "/", CHECKSUM, &want) < 0)
		return -1;
	format_sum(have, sizeof have, h);
	if (strcmp(want, have))
		rc = error("%s: attributes or structure do not match the file's checksum (damaged "
			   "file)", f->path);
	free(want);
	return rc;
}
