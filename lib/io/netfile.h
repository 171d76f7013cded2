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

struct dataset;

#define NETFILE_FORMAT "nasnet-c/network"
#define NETFILE_VERSION 1

/*
 * What classifying an image needs besides the weights (predict, export-onnx):
 * the per-channel normalisation the network was trained with (pixels / 255,
 * then (x - mean) / std) and the class names. The input shape is the macro
 * configuration's.
 */
struct netfile_meta {
	int channels;                  /* entries of mean and std */
	float mean[4], std[4];         /* DATASET_MAX_CHANNELS */
	int nclasses;
	char **classes;                /* nclasses malloc'd names */
	char source[1100];             /* where they came from: the network file or a dataset */
};

/* net must have its parameters allocated (net_alloc_params or init). d (may
 * be NULL) is the dataset trained on: its normalisation and class names are
 * stored as /mean, /std and /classes. */
int netfile_write(const char *path, const struct net *n, const struct genofile *gf,
		  const struct dataset *d, const struct provenance *prov);
/*
 * The normalisation and class names of a network file; a file written
 * without them (build-net, or before they were stored) falls back to the
 * dataset its /config names. Checked against the configuration (channels,
 * classes). Free with netfile_meta_free.
 */
int netfile_read_meta(const char *path, struct netfile_meta *m);
void netfile_meta_free(struct netfile_meta *m);
/* The genotype (has_cells = 1) and child configuration stored in the file. */
int netfile_read_genofile(const char *path, struct genofile *gf);
/* The network file `path` (read into `trained`) holds the network of the
 * genotype file `arch` (read into `gf`): the same cells and the same network
 * settings (child_config_net_diff); else an error naming both files. Shapes
 * alone cannot tell: an avg pool swapped for a max pool has the same ones. */
int netfile_check_matches(const char *path, const struct genofile *trained, const char *arch,
			  const struct genofile *gf);
/* Load every parameter and buffer into a network built from the same
 * genotype and macro configuration; a missing dataset or a shape mismatch is
 * an error naming the file and the dataset. */
int netfile_read_into(const char *path, struct net *n);

#endif
