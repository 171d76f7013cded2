/*
 * nascheck.c - one validator per file kind, dispatched on the format attribute.
 */
#include "nascheck.h"
#include "dataset.h"
#include "genofile.h"
#include "h5io.h"
#include "net.h"
#include "netfile.h"
#include "policy.h"
#include "reward.h"
#include "train.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_provenance(struct h5f *f)
{
	static const char *const str[] = { "tool", "version", "git_revision", "command_line",
					   "hdf5_version", "time" };
	static const char *const num[] = { "seed", "threads" };
	int64_t v;
	char *s;

	if (!h5_exists(f, "/provenance"))
		return error("%s: missing group '/provenance'", f->path);
	for (size_t i = 0; i < sizeof str / sizeof *str; i++) {
		if (h5_attr_read_string(f, "/provenance", str[i], &s) < 0)
			return -1;
		free(s);
	}
	for (size_t i = 0; i < sizeof num / sizeof *num; i++)
		if (h5_attr_read_int(f, "/provenance", num[i], &v) < 0)
			return -1;
	return 0;
}

static int check_dataset(const char *path)
{
	struct dataset d;

	if (dataset_load(path, &d, DS_ALL) < 0)
		return -1;
	dataset_free(&d);
	return 0;
}

static int check_genotype(const char *path)
{
	struct genofile g;

	return genofile_read(path, &g);
}

static int check_network(const char *path)
{
	struct genofile g;
	struct net *n;
	int rc;

	if (netfile_read_genofile(path, &g) < 0)
		return -1;
	n = net_create(&g.geno, &g.cfg.macro, 0, NULL);
	if (!n)
		return error("%s: the stored genotype and configuration do not build", path);
	net_alloc_params(n);
	rc = netfile_read_into(path, n);
	for (size_t i = 0; rc == 0 && i < n->nparam_floats; i++)
		if (!isfinite(n->param[i]))
			rc = error("%s: parameter value %zu is not finite", path, i);
	net_free(n);
	return rc;
}

static int check_policy(const char *path)
{
	struct policy p;

	memset(&p, 0, sizeof p);
	if (policy_read(&p, path) < 0)
		return -1;
	policy_free(&p);
	return 0;
}

static int check_reward(const char *path)
{
	struct reward r;

	return reward_read(&r, path) < 0 ? -1 : reward_check_genotype_file(&r, path);
}

static int check_checkpoint(const char *path)
{
	struct h5f f;
	hsize_t dp[H5IO_MAXRANK], dm[H5IO_MAXRANK], db[H5IO_MAXRANK];
	int rp, rm, rb, rc = -1;
	int64_t step, total;
	char *geno = NULL;

	if (h5_open(&f, path, CHECKPOINT_FORMAT, CHECKPOINT_VERSION) < 0)
		return -1;
	if (h5_shape(&f, "/params", H5IO_F32, &rp, dp) < 0 ||
	    h5_shape(&f, "/momentum", H5IO_F32, &rm, dm) < 0 ||
	    h5_shape(&f, "/buffers", H5IO_F32, &rb, db) < 0 ||
	    h5_attr_read_int(&f, "/", "step", &step) < 0 ||
	    h5_attr_read_int(&f, "/", "total_steps", &total) < 0 ||
	    h5_attr_read_string(&f, "/", "genotype", &geno) < 0)
		goto out;
	if (rp != 1 || rm != 1 || rb != 1 || dp[0] != dm[0]) {
		error("%s: params and momentum must be 1-D of equal length", path);
		goto out;
	}
	if (step < 0 || step > total) {
		error("%s: step %lld outside 0..%lld", path, (long long)step, (long long)total);
		goto out;
	}
	rc = 0;
out:
	free(geno);
	h5_close(&f);
	return rc;
}

static int check_failure(const char *path)
{
	char reason[256];
	int64_t step;

	return failure_read(path, reason, sizeof reason, &step);
}

static int check_trainstats(const char *path)
{
	double s, r;

	return stats_read(path, &s, &r);
}

static const struct {
	const char *format;
	int (*check)(const char *path);
} kinds[] = {
	{ "nasnet-c/dataset", check_dataset },
	{ "nasnet-c/genotype", check_genotype },
	{ "nasnet-c/network", check_network },
	{ "nasnet-c/policy", check_policy },
	{ "nasnet-c/reward", check_reward },
	{ "nasnet-c/checkpoint", check_checkpoint },
	{ "nasnet-c/failure", check_failure },
	{ "nasnet-c/trainstats", check_trainstats },
};

int nasfile_check(const char *path, char *format, size_t n, int *version)
{
	struct h5f f;
	char *fmt = NULL;
	int rc;

	if (h5_open_any(&f, path, &fmt) < 0)
		return -1;
	*version = f.version;
	snprintf(format, n, "%s", fmt);
	rc = check_provenance(&f);
	h5_close(&f);
	for (size_t i = 0; rc == 0 && i < sizeof kinds / sizeof *kinds; i++) {
		if (!strcmp(kinds[i].format, fmt)) {
			free(fmt);
			return kinds[i].check(path);
		}
	}
	if (rc == 0)
		rc = error("%s: unknown nasnet-c file kind '%s'", path, fmt);
	free(fmt);
	return rc;
}
