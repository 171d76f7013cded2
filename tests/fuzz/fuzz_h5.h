/*
 * fuzz_h5.h - the HDF5 file-kind harnesses: each defines FUZZ_H5_TAG and
 * fuzz_h5_read(path) (the reader of one file kind), then includes this,
 * which writes the input to a temporary .h5 file and calls the reader. The
 * reader's result does not matter; crashes, sanitizer reports and leaks do.
 */
#ifndef NASNET_FUZZ_H5_H
#define NASNET_FUZZ_H5_H

#include "fuzz.h"
#include "h5io.h"

static void fuzz_h5_read(const char *path);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[4096];

	progname = "fuzz_" FUZZ_H5_TAG;
	setenv("HDF5_USE_FILE_LOCKING", "FALSE", 0);
	h5_init();
	if (fuzz_temp_file(data, size, FUZZ_H5_TAG, ".h5", path, sizeof(path)))
		return 0;
	fuzz_h5_read(path);
	unlink(path);
	return 0;
}

#endif
