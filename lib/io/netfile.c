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
#include <unistd.h>

#include "dataset.h"
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
		/* a reader would refuse it: never write it (D9) */
		if (!floats_finite(base + v[i].offset, v[i].count))
			return error("%s: %s holds a non-finite value; not written", f->path, path);
		if (h5_write_f32(f, path, v[i].rank, dims, base + v[i].offset) < 0)
			return -1;
	}
	return 0;
}

/* /mean, /std and /classes: the same datasets as in a dataset file */
static int write_meta(struct h5f *f, const struct dataset *d)
{
	hsize_t dims[1] = { (hsize_t)d->c };

	if (h5_write_f32(f, "/mean", 1, dims, d->mean) < 0 ||
	    h5_write_f32(f, "/std", 1, dims, d->std) < 0)
		return -1;
	return h5_write_strings(f, "/classes", d->num_classes, (const char *const *)d->classes);
}

int netfile_write(const char *path, const struct net *n, const struct genofile *gf,
		  const struct dataset *d, const struct provenance *prov)
{
	struct h5f f;
	char text[4096];

	if (d && (d->c != n->macro.in_c || d->num_classes != n->macro.classes))
		return error("%s: the dataset has %d channels and %d classes, the network %d and %d",
			     path, d->c, d->num_classes, n->macro.in_c, n->macro.classes);

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
	    write_views(&f, "buffers", n->buffers, n->nbuffers, n->buffer) < 0 ||
	    (d && write_meta(&f, d) < 0) ||
	    (n->latency_ms[0] > 0 &&
	     (h5_attr_write_double(&f, "/", "latency_ms_batch1", n->latency_ms[0]) < 0 ||
	      h5_attr_write_double(&f, "/", "latency_ms_batch64", n->latency_ms[1]) < 0))) {
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

/* a BN running variance: /buffers/<prefix>/var (lib/net/cell.c names them) */
static int is_variance(const char *group, const char *name)
{
	size_t len = strlen(name);

	return !strcmp(group, "buffers") && len >= 3 && !strcmp(name + len - 3, "var") &&
	       (len == 3 || name[len - 4] == '/');
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
		/* BN running variances are variances (D22) */
		if (is_variance(group, v[i].name))
			for (size_t k = 0; k < v[i].count; k++)
				if (base[v[i].offset + k] < 0)
					return error("%s: dataset '%s' holds a negative variance (%g "
						     "at %zu)", f->path, path,
						     (double)base[v[i].offset + k], k);
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

void netfile_meta_free(struct netfile_meta *m)
{
	for (int i = 0; m->classes && i < m->nclasses; i++)
		free(m->classes[i]);
	free(m->classes);
	memset(m, 0, sizeof *m);
}

/* the stored /mean, /std, /classes (1), none of them (0), or an error (-1) */
static int read_stored_meta(struct h5f *f, const struct macro_config *mc, struct netfile_meta *m)
{
	hsize_t dims[1] = { (hsize_t)mc->in_c };
	char **names = NULL;
	int n = 0;

	if (h5_exists(f, "/mean") <= 0 && h5_exists(f, "/std") <= 0 && h5_exists(f, "/classes") <= 0)
		return 0;
	if (h5_read(f, "/mean", H5IO_F32, 1, dims, m->mean) < 0 ||
	    h5_read(f, "/std", H5IO_F32, 1, dims, m->std) < 0 ||
	    h5_read_strings(f, "/classes", mc->classes, &n, &names) < 0)
		return -1;
	if (n != mc->classes) {
		h5_free_strings(names, n);
		return error("%s: /classes has %d names, the network %d classes", f->path, n,
			     mc->classes);
	}
	m->nclasses = n;
	m->classes = xcalloc((size_t)n, sizeof *m->classes);
	for (int i = 0; i < n; i++)
		m->classes[i] = xstrdup(names[i]);
	h5_free_strings(names, n);
	snprintf(m->source, sizeof m->source, "%s", f->path);
	return 1;
}

int netfile_read_meta(const char *path, struct netfile_meta *m)
{
	struct genofile gf;
	struct dataset d;
	struct h5f f;
	int rc;

	memset(m, 0, sizeof *m);
	if (netfile_read_genofile(path, &gf) < 0 || h5_open(&f, path, NETFILE_FORMAT, NETFILE_VERSION) < 0)
		return -1;
	m->channels = gf.cfg.macro.in_c;
	rc = read_stored_meta(&f, &gf.cfg.macro, m);
	h5_close(&f);
	if (rc == 0) {
		/* an older file: the dataset it was trained on knows */
		if (access(gf.cfg.train.data, R_OK) < 0 || dataset_load(gf.cfg.train.data, &d, 0) < 0)
			return error("%s: holds no normalisation or class names, and its dataset "
				     "'%s' cannot be read", path, gf.cfg.train.data);
		if (d.c != m->channels || d.num_classes != gf.cfg.macro.classes) {
			error("%s: its dataset %s has %d channels and %d classes, the network %d and %d",
			      path, gf.cfg.train.data, d.c, d.num_classes, m->channels,
			      gf.cfg.macro.classes);
			dataset_free(&d);
			return -1;
		}
		memcpy(m->mean, d.mean, sizeof m->mean);
		memcpy(m->std, d.std, sizeof m->std);
		m->nclasses = d.num_classes;
		m->classes = d.classes;
		d.classes = NULL;
		d.num_classes = 0;
		dataset_free(&d);
		snprintf(m->source, sizeof m->source, "%s", gf.cfg.train.data);
		rc = 1;
	}
	if (rc < 0) {
		netfile_meta_free(m);
		return -1;
	}
	for (int ch = 0; ch < m->channels; ch++)
		if (!isfinite(m->mean[ch]) || !isfinite(m->std[ch]) || !(m->std[ch] > 0)) {
			error("%s: channel %d has mean %g, std %g: cannot normalise", m->source, ch,
			      (double)m->mean[ch], (double)m->std[ch]);
			netfile_meta_free(m);
			return -1;
		}
	return 0;
}

int netfile_check_matches(const char *path, const struct genofile *trained, const char *arch,
			  const struct genofile *gf)
{
	const char *name;

	if (!cell_equal(&trained->geno.normal, &gf->geno.normal) ||
	    !cell_equal(&trained->geno.reduce, &gf->geno.reduce))
		return error("%s: the genotype differs from that of %s: not its weights", path, arch);
	if ((name = child_config_net_diff(&trained->cfg, &gf->cfg)))
		return error("%s: configuration '%s' differs from that of %s: not its weights", path,
			     name, arch);
	return 0;
}
