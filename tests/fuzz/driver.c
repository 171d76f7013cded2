/*
 * driver.c - a main() that feeds files to LLVMFuzzerTestOneInput, so that a
 * harness built with gcc (no libFuzzer) replays saved inputs: the fuzz
 * regression cases and the seed corpora. Usage: driver FILE...; a crash or a
 * sanitizer report is the failure, the exit status is 0 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		FILE *fp = fopen(argv[i], "rb");
		uint8_t *buf = NULL;
		size_t len = 0, cap = 0, got;

		if (!fp) {
			perror(argv[i]);
			return 1;
		}
		do {
			if (len == cap) {
				cap = cap ? 2 * cap : 4096;
				buf = xrealloc(buf, cap);
			}
			got = fread(buf + len, 1, cap - len, fp);
			len += got;
		} while (got > 0);
		fclose(fp);
		LLVMFuzzerTestOneInput(buf, len);
		free(buf);
		printf("replayed %s (%zu bytes)\n", argv[i], len);
	}
	return 0;
}
