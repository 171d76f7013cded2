/*
 * fuzz_h5dataset.c - dataset_load (lib/io/dataset.c) on a nasnet-c/dataset
 * file, all three splits.
 */
#include "dataset.h"

#define FUZZ_H5_TAG "h5dataset"
#include "fuzz_h5.h"

static void fuzz_h5_read(const char *path)
{
	struct dataset d;

	if (dataset_load(path, &d, DS_ALL) == 0)
		dataset_free(&d);
}
