/*
 * fuzz_cifar.c - the CIFAR batch reader (lib/io/cifar.c). The first input byte
 * picks the layout (bit 0: CIFAR-10 or CIFAR-100 records, bit 1: coarse or
 * fine label); the rest is the batch file. Each batch is appended twice to
 * the same split, as import-data appends data_batch_1..5.
 */
#include "dataset.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[4096];
	struct dataset_split s = { 0 };
	int label_bytes, use, max_label;

	progname = "fuzz_cifar";
	if (size < 1)
		return 0;
	label_bytes = data[0] & 1 ? 2 : 1;
	use = label_bytes == 2 && data[0] & 2 ? 1 : 0;
	max_label = label_bytes == 1 ? 10 : use ? 100 : 20;
	if (fuzz_temp_file(data + 1, size - 1, "cifar", ".bin", path, sizeof(path)))
		return 0;
	if (cifar_read_batch(path, label_bytes, use, max_label, &s) == 0)
		cifar_read_batch(path, label_bytes, use, max_label, &s);
	split_free(&s);
	unlink(path);
	return 0;
}
