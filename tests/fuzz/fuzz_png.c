/*
 * fuzz_png.c - the PNG decoder wrapper png_read_u8 (lib/io/pngdir.c): the input
 * is a PNG file; a decoded image must have c 1 or 3 and a positive size.
 */
#include "dataset.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[4096];
	uint8_t *pix;
	int c, h, w;

	progname = "fuzz_png";
	if (fuzz_temp_file(data, size, "png", ".png", path, sizeof(path)))
		return 0;
	if (png_read_u8(path, &pix, &c, &h, &w) == 0) {
		if ((c != 1 && c != 3) || h <= 0 || w <= 0)
			abort();
		/* touch every pixel: a short buffer shows up under ASan */
		volatile unsigned sum = 0;
		for (size_t i = 0; i < (size_t)c * h * w; i++)
			sum += pix[i];
		free(pix);
	}
	unlink(path);
	return 0;
}
