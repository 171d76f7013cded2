/*
 * fuzz_h5genotype.c - genofile_read (lib/io/genofile.c, lib/arch/childcfg.c) on a
 * nasnet-c/genotype file; a file that reads must also validate.
 */
#include "genofile.h"

#define FUZZ_H5_TAG "h5genotype"
#include "fuzz_h5.h"

static void fuzz_h5_read(const char *path)
{
	struct genofile g;

	if (genofile_read(path, &g) == 0 && g.has_cells && genotype_validate(&g.geno, path) < 0)
		abort();
}
