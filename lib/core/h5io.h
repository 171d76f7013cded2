/*
 * h5io.h - the one HDF5 layer of nasnet-c.
 *
 * Every file nasnet-c writes has root attributes `format` ("nasnet-c/<kind>")
 * and `schema_version` (int), plus a /provenance group. Objects are addressed
 * by absolute paths ("/train/images"); missing parent groups are created.
 *
 * Writing:  h5_create() opens "<dir>/.<name>.tmp.<pid>" in the target folder;
 *           h5_commit() closes, fsyncs, renames into place and fsyncs the
 *           folder; h5_abort() (or a fatal signal, via atomic.h) removes the
 *           temporary file. Object time tracking is off, so equal content
 *           gives byte-identical files.
 * Reading:  h5_open() checks the format and version: a foreign HDF5 file, a
 *           nasnet-c file of another kind and a too-new version are three
 *           distinct errors. h5_read() checks type class, rank and every
 *           dimension before reading.
 * Errors:   HDF5's automatic error printing is off (h5_init). Every failure
 *           prints one line "progname: path: problem" (innermost HDF5
 *           message when HDF5 failed) and returns -1.
 */
#ifndef NASNET_H5IO_H
#define NASNET_H5IO_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#define H5IO_MAXRANK 8

enum h5type { H5IO_F32, H5IO_F64, H5IO_I32, H5IO_I64, H5IO_U8, H5IO_U64 };

struct provenance {
	const char *tool;
	int argc;
	char **argv;
	uint64_t seed;
	int threads;
};

struct h5f {
	hid_t id;
	char *path;   /* the name the user sees (final path) */
	char *tmp;    /* temporary path while writing, else NULL */
	int version;  /* schema_version read from or written to the file */
	int checked;  /* has a root checksum: every dataset read is verified */
};

/* Call once at start (tools do it in cli_init). */
void h5_init(void);

/* Create `path` atomically: content goes to a temporary file until h5_commit. */
int h5_create(struct h5f *f, const char *path, const char *format, int version,
	      const struct provenance *prov);
int h5_commit(struct h5f *f);
struct atomic_batch;
/* As h5_commit, but the complete temporary file joins batch b (atomic.h):
 * in place after atomic_batch_commit. */
int h5_commit_batch(struct h5f *f, struct atomic_batch *b);
void h5_abort(struct h5f *f);

/* Open for reading; format must match, schema_version <= max_version. */
int h5_open(struct h5f *f, const char *path, const char *format, int max_version);
/* 1 when `path` is a regular file with the HDF5 signature (a FIFO or a
 * device is never opened), else 0. */
int h5_is_hdf5(const char *path);
/* Open any nasnet-c file; *format receives its format (caller frees). */
int h5_open_any(struct h5f *f, const char *path, char **format);
void h5_close(struct h5f *f);

int h5_exists(struct h5f *f, const char *obj);
int h5_mkgroup(struct h5f *f, const char *group);

/* Datasets. dims has `rank` entries; rank 0 is a scalar. */
int h5_write(struct h5f *f, const char *dset, enum h5type t, int rank, const hsize_t *dims,
	     const void *data);
/* Read exactly this type class/size, rank and dims (else an error naming them). */
int h5_read(struct h5f *f, const char *dset, enum h5type t, int rank, const hsize_t *dims,
	    void *data);
/* Query a dataset's rank and dims, checking its type; max_elems guards allocations. */
int h5_shape(struct h5f *f, const char *dset, enum h5type t, int *rank, hsize_t *dims);
/* Read a dataset of the given type and rank, allocating (free()); dims out. */
int h5_read_alloc(struct h5f *f, const char *dset, enum h5type t, int rank, hsize_t *dims,
		  size_t max_elems, void **data);

/* Variable-length string arrays (1-D). */
int h5_write_strings(struct h5f *f, const char *dset, int n, const char *const *s);
/* *out is an array of n strings, each and the array freed with h5_free_strings. */
int h5_read_strings(struct h5f *f, const char *dset, int max_n, int *n, char ***out);
void h5_free_strings(char **s, int n);

/* Attributes on an object ("/" for root, "/train", "/train/images"). */
int h5_attr_write_int(struct h5f *f, const char *obj, const char *name, int64_t v);
int h5_attr_write_double(struct h5f *f, const char *obj, const char *name, double v);
int h5_attr_write_string(struct h5f *f, const char *obj, const char *name, const char *v);
int h5_attr_write_doubles(struct h5f *f, const char *obj, const char *name, int n, const double *v);
int h5_attr_read_int(struct h5f *f, const char *obj, const char *name, int64_t *v);
int h5_attr_read_double(struct h5f *f, const char *obj, const char *name, double *v);
/* returns a malloc'd string */
int h5_attr_read_string(struct h5f *f, const char *obj, const char *name, char **v);
int h5_attr_read_doubles(struct h5f *f, const char *obj, const char *name, int n, double *v);
int h5_attr_exists(struct h5f *f, const char *obj, const char *name);

/* Convenience: float32 tensors (the weights and activations layout). */
static inline int h5_write_f32(struct h5f *f, const char *dset, int rank, const hsize_t *dims,
			       const float *data)
{
	return h5_write(f, dset, H5IO_F32, rank, dims, data);
}

/* The innermost HDF5 error message of the current stack (static buffer). */
const char *h5_last_error(char *buf, size_t n);

#endif
