/*
 * cifar.c - CIFAR-10 and CIFAR-100 binary batches, and class-name lists.
 *
 * A batch is a headerless run of records: label byte(s) then 3072 pixel bytes,
 * already planar (3, 32, 32) R, G, B. CIFAR-10 has one label byte; CIFAR-100
 * has two, coarse (0..19) then fine (0..99). Since there is no header, a file
 * must hold a whole number of records and every label must be in range;
 * anything else is reported naming the file and the record. gzread reads
 * gzipped batches too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "dataset.h"
#include "util.h"

#define CIFAR_PIXELS 3072

int cifar_read_batch(const char *path, int label_bytes, int use, int max_label,
		     struct dataset_split *s)
{
	unsigned char rec[2 + CIFAR_PIXELS];
	size_t reclen = (size_t)label_bytes + CIFAR_PIXELS;
	struct dataset_split b = { 0 };
	int cap = 0, ret = -1;
	gzFile g = gzopen(path, "rb");

	if (!g)
		return error("%s:", path);
	b.c = 3;
	b.h = 32;
	b.w = 32;
	for (;;) {
		size_t have = 0;
		int got = 0;

		while (have < reclen && (got = gzread(g, rec + have, (unsigned)(reclen - have))) > 0)
			have += (size_t)got;
		if (got < 0) {
			int zerr;
			const char *msg = gzerror(g, &zerr);

			error("%s: %s", path, zerr == Z_ERRNO ? strerror(errno) : msg);
			goto out;
		}
		if (have == 0)
			break;
		if (have < reclen) {
			error("%s: truncated file: record %d has %zu of %zu bytes", path, b.n, have,
			      reclen);
			goto out;
		}
		if (rec[use] >= max_label) {
			error("%s: record %d has label %d, expected 0..%d (not a CIFAR-%s batch?)",
			      path, b.n, rec[use], max_label - 1, label_bytes == 1 ? "10" : "100");
			goto out;
		}
		if ((long)(b.n + 1) * CIFAR_PIXELS > DATASET_MAX_ELEMS) {
			error("%s: more than %ld pixels", path, DATASET_MAX_ELEMS);
			goto out;
		}
		if (b.n == cap) {
			cap = cap ? 2 * cap : 1024;
			b.images = xrealloc(b.images, (size_t)cap * CIFAR_PIXELS);
			b.labels = xrealloc(b.labels, (size_t)cap * sizeof(int32_t));
		}
		memcpy(b.images + (size_t)b.n * CIFAR_PIXELS, rec + label_bytes, CIFAR_PIXELS);
		b.labels[b.n++] = rec[use];
	}
	if (b.n == 0) {
		error("%s: empty file", path);
		goto out;
	}
	ret = split_append(s, &b, path);
out:
	gzclose(g);
	split_free(&b);
	return ret;
}

int read_lines(const char *path, char ***lines, int *n)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int count = 0;

	*lines = NULL;
	*n = 0;
	if (!fp)
		return error("%s:", path);
	while ((len = getline(&line, &cap, fp)) >= 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
				   line[len - 1] == ' ' || line[len - 1] == '\t'))
			line[--len] = 0;
		if (len == 0)
			continue;
		if (count == DATASET_MAX_CLASSES) {
			error("%s: more than %d lines", path, DATASET_MAX_CLASSES);
			goto fail;
		}
		*lines = xrealloc(*lines, (size_t)(count + 1) * sizeof(char *));
		(*lines)[count++] = xstrdup(line);
	}
	if (ferror(fp)) {
		error("%s:", path);
		goto fail;
	}
	free(line);
	fclose(fp);
	*n = count;
	return 0;
fail:
	for (int i = 0; i < count; i++)
		free((*lines)[i]);
	free(*lines);
	*lines = NULL;
	free(line);
	fclose(fp);
	return -1;
}
