/*
 * fuzz_h5network.c - the network file reader (lib/io/netfile.c): the genotype
 * and child configuration, then, when the network they describe is small
 * (at most 200,000 parameters, so inputs stay fast), every weight; and the
 * normalisation and class names predict and export-onnx read.
 */
#include "net.h"
#include "netfile.h"

#define FUZZ_H5_TAG "h5network"
#include "fuzz_h5.h"

static void fuzz_h5_read(const char *path)
{
	struct genofile gf;
	struct net *n;
	struct macro_config *m = &gf.cfg.macro;
	struct netfile_meta meta;

	if (netfile_read_genofile(path, &gf) < 0)
		return;
	if (netfile_read_meta(path, &meta) == 0)
		netfile_meta_free(&meta);
	if ((long)m->filters * m->filters * m->cells > 20000L || (long)m->in_h * m->in_w > 4096 ||
	    m->classes > 1000)
		return;
	n = net_create(&gf.geno, m, 0, NULL);
	if (!n)
		return;
	if (n->n_params <= 200000)
		netfile_read_into(path, n);
	net_free(n);
}
