/*
 * netfile.h - the network file (format nasnet-c/network, schema version 1,
 * documented in schemas/network.md): the genotype and child configuration
 * that define the network, then every parameter and BN running statistic as
 * its own dataset with its shape (/params/<name>, /buffers/<name>), and root
 * attributes `params` and `mult_adds`.
 *
 * Calling sequence:
 *   netfile_write("w.h5", net, &genofile, &prov);       // atomic
 *   netfile_read_genofile("w.h5", &gf);                 // what to build
 *   net = net_create(&gf.geno, &gf.cfg.macro, B, NULL);
 *   netfile_read_into("w.h5", net);                     // checks every shape
 */
#ifndef NASNET_NETFILE_H
#define NASNET_NETFILE_H

#include "genofile.h"
#include "h5io.h"
#include "net.h"

#define NETFILE_FORMAT "nasnet-c/network"
#define NETFILE_VERSION 1

/* net must have its parameters allocated (net_alloc_params or init). */
int netfile_write(const char *path, const struct net *n, const struct genofile *gf,
		  const struct provenance *prov);
/* The genotype (has_cells = 1) and child configuration stored in the file. */
int netfile_read_genofile(const char *path, struct genofile *gf);
/* Load every parameter and buffer into a network built from the same
 * genotype and macro configuration; a missing dataset or a shape mismatch is
 * an error naming the file and the dataset. */
int netfile_read_into(const char *path, struct net *n);

#endif
