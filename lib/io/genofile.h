/*
 * genofile.h - the genotype file (format nasnet-c/genotype, schema version
 * 1, documented in schemas/genotype.md): one architecture, the child
 * configuration that trains it, and, when a controller sampled it, the
 * sampling record. `train-child arch.h5` needs nothing else.
 *
 * Two shapes of architecture:
 *   has_cells = 1  a Normal/Reduction cell pair in `geno` (spaces nasnet,
 *                  enas, darts, custom, ...): groups /normal and /reduce;
 *   has_cells = 0  a cell string in `cell_string` (space nb201, e.g.
 *                  "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|...|"): root
 *                  attribute `cell`, no /normal or /reduce.
 *
 * Calling sequence:
 *   struct genofile g;
 *   genofile_init(&g);                 // defaults: config, has_cells = 1
 *   genotype_builtin(&g.geno, "nasnet-a");  // or fill cell_string, has_cells = 0
 *   genofile_write("arch.h5", &g, &prov);   // atomic
 *   genofile_read("arch.h5", &g);           // validates everything
 */
#ifndef NASNET_GENOFILE_H
#define NASNET_GENOFILE_H

#include <stdint.h>

#include "childcfg.h"
#include "genotype.h"
#include "h5io.h"

#define GENOFILE_FORMAT "nasnet-c/genotype"
#define GENOFILE_VERSION 1
#define GENOFILE_MAX_ACTIONS 64
#define GENOFILE_CELL_MAX 128

struct genofile {
	char space[16];               /* root attribute `space`; "" = geno.space */
	struct genotype geno;         /* valid when has_cells */
	int has_cells;                /* 1: geno; 0: cell_string (nb201) */
	char cell_string[GENOFILE_CELL_MAX];
	struct child_config cfg;
	int has_sample;               /* /sample present */
	int round, index;             /* search round, sample index in the round */
	int nactions;
	int32_t actions[GENOFILE_MAX_ACTIONS];
	float logp[GENOFILE_MAX_ACTIONS];   /* log-probability of each action */
	uint64_t policy_hash;
	/* draws a budget refused before this one (/sample/refused, (nrefused, nactions));
	 * written from `refused` (borrowed), read back only by genofile_read_refused */
	int nrefused;
	const int32_t *refused;
};

/* Zero everything, default child config, has_cells = 1, no sample. */
void genofile_init(struct genofile *g);
/* Validate, then write atomically (h5_create/h5_commit). */
int genofile_write(const char *path, const struct genofile *g, const struct provenance *prov);
/* The same into batch b (atomic.h): in place after atomic_batch_commit. */
int genofile_write_batch(const char *path, const struct genofile *g,
			 const struct provenance *prov, struct atomic_batch *b);
/* Open, check format/version, read and validate every field. */
int genofile_read(const char *path, struct genofile *g);
/* The refused draws of a sampled genotype file: *out (n, nactions) malloc'd
 * (NULL when n is 0), every row checked against the file's space. */
int genofile_read_refused(const char *path, int32_t **out, int *n);

/*
 * A built-in name, else an existing file (a nasnet-c/genotype HDF5 file or a
 * text file in either notation), else genotype text -> genotype. What every
 * tool taking a genotype argument calls; the text parsers are genotype.h's.
 */
int genotype_resolve(struct genotype *g, const char *arg);

#endif
