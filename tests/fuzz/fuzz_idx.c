/*
 * fuzz_idx.c - the IDX reader (lib/io/idx.c): the input is an IDX file, plain
 * or gzipped, read both as images and as labels.
 */
#include "dataset.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[4096];
	struct dataset_split s;
	int32_t *labels;
	int n;

	progname = "fuzz_idx";
	if (fuzz_temp_file(data, size, "idx", ".idx", path, sizeof(path)))
		return 0;
	if (idx_read_images(path, &s) == 0)
		split_free(&s);
	if (idx_read_labels(path, &labels, &n) == 0)
		free(labels);
	unlink(path);
	return 0;
}
