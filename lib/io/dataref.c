/*
 * dataref.c - record where a child's dataset is, and find it again (dataref.h).
 */
#include "dataref.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "dataset.h"
#include "util.h"

static int is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int dataref_share(const char *name, char *out, size_t n)
{
	static const char *const under[] = { "share/nasnet-c", "data" };
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	char *slash;

	if (len <= 0)
		return -1;
	exe[len] = '\0';
	/* BINDIR/tool -> BINDIR/.. */
	for (int k = 0; k < 2 && (slash = strrchr(exe, '/')); k++)
		*slash = '\0';
	for (size_t i = 0; i < sizeof under / sizeof under[0]; i++) {
		if (snprintf(out, n, "%s/%s/%s", exe, under[i], name) < (int)n && is_file(out))
			return 0;
	}
	return -1;
}

const char *dataref_default(const char *path, char *buf, size_t n)
{
	static const char def[] = "data/fashion-mnist.h5";

	if (strcmp(path, def) || access(path, R_OK) == 0 || dataref_share(def + 5, buf, n) < 0)
		return path;
	return buf;
}

int dataref_bind(struct train_config *t)
{
	char abs[PATH_MAX];

	if (dataref_default(t->data, abs, sizeof abs) != t->data && strlen(abs) < sizeof t->data)
		memcpy(t->data, abs, strlen(abs) + 1);
	if (access(t->data, R_OK) != 0)
		return 0;
	if (!realpath(t->data, abs))
		return error("%s:", t->data);
	if (strlen(abs) >= sizeof t->data)
		return error("%s: absolute path longer than %zu characters", abs, sizeof t->data - 1);
	memcpy(t->data, abs, strlen(abs) + 1);
	return dataset_fingerprint(t->data, t->data_fingerprint);
}

/* 1: `path` is there and has the recorded fingerprint (or none is recorded),
 * 0: not there, -1: error; *mismatch receives a differing fingerprint */
static int candidate(const struct train_config *t, const char *path, char *mismatch)
{
	char fp[DATASET_FP_LEN];

	if (!is_file(path))
		return 0;
	if (!t->data_fingerprint[0])
		return 1;
	if (dataset_fingerprint(path, fp) < 0)
		return -1;
	if (strcmp(fp, t->data_fingerprint)) {
		if (!mismatch[0])
			memcpy(mismatch, fp, DATASET_FP_LEN);
		return 0;
	}
	return 1;
}

int dataref_resolve(struct train_config *t, const char *genofile_path)
{
	char dir[PATH_MAX], try[2 * PATH_MAX], mismatch[DATASET_FP_LEN] = "";
	char first[sizeof t->data] = "";
	const char *base = strrchr(t->data, '/');
	int rc;

	base = base ? base + 1 : t->data;
	rc = candidate(t, t->data, mismatch);
	if (rc)
		goto found_or_error;
	if (mismatch[0])
		return error("%s: dataset %s has fingerprint %s, the genotype file records %s "
			     "(another dataset at that path)", genofile_path, t->data, mismatch,
			     t->data_fingerprint);
	/* the recorded path is gone: look beside the genotype file and above it */
	if (!realpath(genofile_path, dir))
		return error("%s:", genofile_path);
	for (;;) {
		char *slash = strrchr(dir, '/');

		if (!slash)
			break;
		*slash = '\0';
		for (int k = 0; k < 2; k++) {
			const char *rel = k == 0 ? t->data : base;

			if (k == 0 && t->data[0] == '/')
				continue;
			int had = mismatch[0] != '\0';

			snprintf(try, sizeof try, "%s/%s", dir, rel);
			rc = candidate(t, try, mismatch);
			if (rc < 0)
				return -1;
			if (rc > 0 && strlen(try) < sizeof t->data) {
				memcpy(t->data, try, strlen(try) + 1);
				return 0;
			}
			if (!had && mismatch[0] && strlen(try) < sizeof first)
				memcpy(first, try, strlen(try) + 1);
		}
		if (!dir[0])
			break;
	}
	if (first[0])
		return error("%s: dataset %s has fingerprint %s, the genotype file records %s "
			     "(and %s is gone)", genofile_path, first, mismatch, t->data_fingerprint,
			     t->data);
	return error("%s: dataset %s not found (nor %s beside the genotype file or above it)",
		     genofile_path, t->data, base);
found_or_error:
	return rc < 0 ? -1 : 0;
}
