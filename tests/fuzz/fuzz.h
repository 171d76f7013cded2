/*
 * fuzz.h - what the fuzz harnesses share: the libFuzzer entry point's
 * prototype and a helper that puts the input bytes in a temporary file for
 * the readers that take a path. Each harness tests/fuzz/fuzz_<name>.c is
 * linked either with libFuzzer (clang, `make fuzz`) or with driver.c (gcc,
 * the regression cases of tests/t0920-fuzz-regressions.sh).
 */
#ifndef NASNET_FUZZ_H
#define NASNET_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Write data to "$TMPDIR/fuzz-<tag>-<pid><suffix>" (the same path for every
 * input of a process, so nothing piles up); the path goes to buf. Returns 0,
 * or -1 when the file cannot be written (the input is then skipped).
 */
static inline int fuzz_temp_file(const uint8_t *data, size_t size, const char *tag,
				 const char *suffix, char *buf, size_t n)
{
	const char *dir = getenv("TMPDIR");
	FILE *fp;
	int ok;

	snprintf(buf, n, "%s/fuzz-%s-%ld%s", dir && *dir ? dir : "/tmp", tag, (long)getpid(),
		 suffix);
	fp = fopen(buf, "wb");
	if (!fp)
		return -1;
	ok = fwrite(data, 1, size, fp) == size;
	return fclose(fp) == 0 && ok ? 0 : -1;
}

/* The input as a NUL-terminated string (free()). */
static inline char *fuzz_strdup(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
