/*
 * fuzz_h5reward.c - reward_read (lib/io/reward.c) on a nasnet-c/reward file,
 * then the genotype path it names, resolved against the file's folder.
 */
#include "reward.h"

#define FUZZ_H5_TAG "h5reward"
#include "fuzz_h5.h"

static void fuzz_h5_read(const char *path)
{
	struct reward r;
	char geno[4096];

	if (reward_read(&r, path) == 0)
		reward_genotype_path(&r, path, geno, sizeof(geno));
}
