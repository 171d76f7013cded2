/*
 * util.h - errors, allocation and number parsing shared by every file.
 *
 * Contract (git/sbase style): library functions never exit. They report a
 * problem with error(), which prints one line "progname: message" on stderr
 * and returns -1, so code reads `return error("%s: bad rank %d", path, r);`.
 * A format ending in ':' appends strerror(errno). Only tools call exit.
 * Allocation failure is the one abort (xmalloc family).
 *
 * The only global of the project is the program name, set once by main().
 */
#ifndef NASNET_UTIL_H
#define NASNET_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Exit codes of every tool (documented in every usage text). */
enum exit_code {
	EXIT_OK = 0,
	EXIT_FAIL = 1,      /* runtime failure (I/O error, NaN loss record written, ...) */
	EXIT_USAGE = 2,     /* bad flags or arguments */
	EXIT_BADINPUT = 3,  /* an input file is missing, foreign, truncated or invalid */
	EXIT_REQUEUE = 75,  /* stopped by SIGTERM/SIGUSR1 after a checkpoint: run again (EX_TEMPFAIL) */
};

extern const char *progname;

int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* 64-byte aligned, zeroed; free with free(). */
void *xalloc_aligned(size_t n);

/* strtol-style parsing with range checks; return 0 on success, -1 (no message) on failure. */
int parse_long(const char *s, long lo, long hi, long *out);
int parse_u64(const char *s, uint64_t *out);
int parse_double(const char *s, double lo, double hi, double *out);
/* "3x28x28" -> dims; returns number parsed or -1 */
int parse_dims(const char *s, int *dims, int maxdims);

/* Monotonic seconds. */
double now_seconds(void);

/* 1 when s holds no control character (newline, tab, ...): one TSV field. */
int one_line(const char *s);
/* 1 when none of the n values is NaN or infinite. */
int floats_finite(const float *v, size_t n);

/* FNV-1a 64-bit, for content hashes (policy hash, settings). */
uint64_t hash_bytes(uint64_t h, const void *p, size_t n);
#define HASH_INIT 0xcbf29ce484222325ULL

#endif
