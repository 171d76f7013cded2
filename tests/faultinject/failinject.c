/*
 * failinject.c - an LD_PRELOAD shim that makes one chosen I/O call fail, to
 * test that every tool survives a full disk or a failing device.
 *
 *   FAILINJECT=CALL:N:ERR   make the Nth CALL fail with ERR (ENOSPC or EIO)
 *   FAILINJECT=CALL:N+:ERR  ... and every CALL after it (a disk that stays full)
 *   FAILINJECT_LOG=FILE     append "CALL N ERR" to FILE for each injected failure
 *   FAILINJECT_COUNT=FILE   at exit, append "write W fsync F rename R close C":
 *                           how many calls of each kind the process made (with
 *                           or without FAILINJECT), to choose call numbers
 *
 * CALL is write (write, pwrite, pwrite64: the HDF5 sec2 driver writes with
 * pwrite), fsync (fsync, fdatasync), rename or close. Only calls on regular
 * files count for write, and only regular files open for writing for close,
 * so messages on stderr and pipes are never lost or counted. A failed write
 * or fsync does nothing; a failed close still closes the descriptor, as the
 * kernel does. Only calls through the dynamic symbols are seen: glibc's own
 * stdio (fwrite, fflush, fclose) calls its internal aliases, so stdout and
 * text outputs written with stdio are not counted. Build:
 *   cc -shared -fPIC -o failinject.so failinject.c -ldl
 * tests/t0900-faults.sh drives it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

enum call_kind { C_WRITE, C_FSYNC, C_RENAME, C_CLOSE, C_NONE };

struct plan {
	int parsed;
	int kind;        /* enum call_kind, C_NONE when FAILINJECT is unset or bad */
	long n;          /* 1-based call number */
	int sticky;      /* fail every call from n on */
	int err;
	long count[C_NONE];
};

static struct plan *plan(void)
{
	static struct plan p;
	static const char *const names[] = { "write", "fsync", "rename", "close" };
	const char *s;
	char call[16], err[16], n[24];

	if (p.parsed)
		return &p;
	p.parsed = 1;
	p.kind = C_NONE;
	s = getenv("FAILINJECT");
	if (!s || sscanf(s, "%15[a-z]:%23[0-9+]:%15[A-Z]", call, n, err) != 3)
		return &p;
	for (int k = 0; k < C_NONE; k++)
		if (!strcmp(call, names[k]))
			p.kind = k;
	p.n = strtol(n, NULL, 10);
	p.sticky = strchr(n, '+') != NULL;
	p.err = !strcmp(err, "EIO") ? EIO : !strcmp(err, "ENOSPC") ? ENOSPC : 0;
	if (p.n < 1 || !p.err)
		p.kind = C_NONE;
	return &p;
}

static int regular(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

/* A regular file open for writing (closing a file only read cannot lose data). */
static int written(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return regular(fd) && fl >= 0 && (fl & O_ACCMODE) != O_RDONLY;
}

/* 1 when this call (of kind k) must fail; counts it. */
static int inject(int k)
{
	struct plan *p = plan();
	long c = ++p->count[k];
	const char *log;

	if (p->kind != k)
		return 0;
	if (c != p->n && !(p->sticky && c > p->n))
		return 0;
	log = getenv("FAILINJECT_LOG");
	if (log && *log) {
		int saved = errno;
		FILE *fp = fopen(log, "a");

		if (fp) {
			fprintf(fp, "%s %ld %s\n", getenv("FAILINJECT"), c,
				p->err == EIO ? "EIO" : "ENOSPC");
			fclose(fp);
		}
		errno = saved;
	}
	return 1;
}

__attribute__((destructor)) static void report_counts(void)
{
	struct plan *p = plan();
	const char *path = getenv("FAILINJECT_COUNT");
	FILE *fp;

	if (!path || !*path || !(fp = fopen(path, "a")))
		return;
	fprintf(fp, "write %ld fsync %ld rename %ld close %ld\n", p->count[C_WRITE],
		p->count[C_FSYNC], p->count[C_RENAME], p->count[C_CLOSE]);
	fclose(fp);
}

#define REAL(ret, name, ...)                                              \
	static ret (*real)(__VA_ARGS__);                                  \
	if (!real)                                                        \
		*(void **)&real = dlsym(RTLD_NEXT, name)

ssize_t write(int fd, const void *buf, size_t n)
{
	REAL(ssize_t, "write", int, const void *, size_t);
	if (regular(fd) && inject(C_WRITE)) {
		errno = plan()->err;
		return -1;
	}
	return real(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	REAL(ssize_t, "pwrite", int, const void *, size_t, off_t);
	if (regular(fd) && inject(C_WRITE)) {
		errno = plan()->err;
		return -1;
	}
	return real(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	REAL(ssize_t, "pwrite64", int, const void *, size_t, off64_t);
	if (regular(fd) && inject(C_WRITE)) {
		errno = plan()->err;
		return -1;
	}
	return real(fd, buf, n, off);
}

int fsync(int fd)
{
	REAL(int, "fsync", int);
	if (inject(C_FSYNC)) {
		errno = plan()->err;
		return -1;
	}
	return real(fd);
}

int fdatasync(int fd)
{
	REAL(int, "fdatasync", int);
	if (inject(C_FSYNC)) {
		errno = plan()->err;
		return -1;
	}
	return real(fd);
}

int rename(const char *from, const char *to)
{
	REAL(int, "rename", const char *, const char *);
	if (inject(C_RENAME)) {
		errno = plan()->err;
		return -1;
	}
	return real(from, to);
}

int close(int fd)
{
	REAL(int, "close", int);
	if (written(fd) && inject(C_CLOSE)) {
		real(fd);
		errno = plan()->err;
		return -1;
	}
	return real(fd);
}
