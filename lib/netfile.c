/*
 * netfile.c - write and read network files (nasnet-c/network, version 1;
 * schemas/network.md). The genotype is stored as its compact text (root
 * attribute `genotype`, parsed back with genotype_parse) and the child
 * configuration as attributes of /config (child_config_write), so a network
 * file rebuilds its own network. Each parameter view is one float32 dataset
 * /params/<name> with the view's shape; each BN running statistic is
 * /buffers/<name>. Reading checks every shape against the network built
 * from the genotype and the total parameter count against the root
 * attribute `params`, so a file of another network is refused, not misread;
 * a NaN or infinite value in any dataset is refused too.
 */
#include "netfile.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int write_views(struct h5f *f, const char *group, const struct net_param *v, int cnt,
		       const float *base)
{
	char path[NET_NAME_MAX + 16];
	hsize_t dims[4];

	for (int i = 0; i < cnt; i++) {
		for (int d = 0; d < v[i].rank; d++)
			dims[d] = (hsize_t)v[i].dims[d];
		if (snprintf(path, sizeof(path), "/%s/%s", group, v[i].name) >= (int)sizeof(path))
			return error("%s: name too long: %s", f->path, v[i].name);
		if (h5_write_f32(f, path, v[i].rank, dims, base + v[i].offset) < 0)
			return -1;
	}
	return 0;
}

int netfile_write(const char *path, const struct net *n, const struct genofile *gf,
		  const struct provenance *prov)
{
	struct h5f f;
	char text[4096];

	if (!n->param)
		return error("%s: the network has no parameters to write", path);
	if (genotype_format(&n->geno, text, sizeof(text)) >= (int)sizeof(text))
		return error("%s: genotype text longer than %zu bytes", path, sizeof(text));
	if (h5_create(&f, path, NETFILE_FORMAT, NETFILE_VERSION, prov) < 0)
		return -1;
	if (h5_attr_write_string(&f, "/", "genotype", text) < 0 ||
	    h5_attr_write_string(&f, "/", "space", gf->space[0] ? gf->space : n->geno.space) < 0 ||
	    h5_attr_write_int(&f, "/", "params", n->n_params) < 0 ||
	    h5_attr_write_int(&f, "/", "mult_adds", n->n_macs) < 0 ||
	    h5_mkgroup(&f, "/config") < 0 || child_config_write(&f, "/config", &gf->cfg) < 0 ||
	    write_views(&f, "params", n->params, n->nparams, n->param) < 0 ||
	    write_views(&f, "buffers", n->buffers, n->nbuffers, n->buffer) < 0) {
		h5_abort(&f);
		return -1;
	}
	return h5_commit(&f);
}

int netfile_read_genofile(const char *path, struct genofile *gf)
{
	struct h5f f;
	char *text = NULL, *space = NULL;
	int rc = -1;

	genofile_init(gf);
	if (h5_open(&f, path, NETFILE_FORMAT, NETFILE_VERSION) < 0)
		return -1;
	if (h5_attr_read_string(&f, "/", "genotype", &text) < 0 ||
	    genotype_parse(&gf->geno, text, path) < 0 ||
	    child_config_read(&f, "/config", &gf->cfg) < 0)
		goto out;
	if (h5_attr_exists(&f, "/", "space") > 0 && h5_attr_read_string(&f, "/", "space", &space) == 0)
		snprintf(gf->space, sizeof(gf->space), "%s", space);
	gf->has_cells = 1;
	rc = 0;
out:
	free(text);
	free(space);
	h5_close(&f);
	return rc;
}

static int read_views(struct h5f *f, const char *group, const struct net_param *v, int cnt,
		      float *base)
{
	char path[NET_NAME_MAX + 16];
	hsize_t dims[4];

	for (int i = 0; i < cnt; i++) {
		for (int d = 0; d < v[i].rank; d++)
			dims[d] = (hsize_t)v[i].dims[d];
		if (snprintf(path, sizeof(path), "/%s/%s", group, v[i].name) >= (int)sizeof(path))
			return error("%s: name too long: %s", f->path, v[i].name);
		if (h5_exists(f, path) <= 0)
			return error("%s: dataset '%s' is missing: the file holds another network",
				     f->path, path);
		if (h5_read(f, path, H5IO_F32, v[i].rank, dims, base + v[i].offset) < 0)
			return -1;
		/* a NaN or Inf would poison every output: refuse it here, by name */
		for (size_t k = 0; k < v[i].count; k++)
			if (!isfinite(base[v[i].offset + k]))
				return error("%s: dataset '%s' holds a non-finite value (%g at %zu)",
					     f->path, path, (double)base[v[i].offset + k], k);
	}
	return 0;
}

int netfile_read_into(const char *path, struct net *n)
{
	struct h5f f;
	int64_t params = -1;
	int rc = -1;

	net_alloc_params(n);
	if (h5_open(&f, path, NETFILE_FORMAT, NETFILE_VERSION) < 0)
		return -1;
	if (h5_attr_read_int(&f, "/", "params", &params) < 0)
		goto out;
	if (params != n->n_params) {
		error("%s: holds %lld parameters, the network has %lld", path, (long long)params,
		      (long long)n->n_params);
		goto out;
	}
	if (read_views(&f, "params", n->params, n->nparams, n->param) < 0 ||
	    read_views(&f, "buffers", n->buffers, n->nbuffers, n->buffer) < 0)
		goto out;
	rc = 0;
out:
	h5_close(&f);
	return rc;
}
