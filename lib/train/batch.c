/*
 * batch.c - batch assembly and augmentation (see batch.h).
 */
#include "batch.h"

#include <string.h>

static void fill_one(float *out, const uint8_t *img, int C, int H, int W, const float *mean,
		     const float *std, const struct augment *a, struct rng *r)
{
	int dy = 0, dx = 0, flip = 0;

	if (a && a->crop_pad > 0) {
		dy = (int)rng_below(r, (uint64_t)(2 * a->crop_pad + 1)) - a->crop_pad;
		dx = (int)rng_below(r, (uint64_t)(2 * a->crop_pad + 1)) - a->crop_pad;
	}
	if (a && a->flip)
		flip = (int)rng_below(r, 2);
	for (int c = 0; c < C; c++) {
		float scale = 1.0f / (255.0f * std[c]), shift = mean[c] / std[c];
		const uint8_t *plane = img + (long)c * H * W;
		float *o = out + (long)c * H * W;

		for (int y = 0; y < H; y++) {
			int sy = y + dy;

			for (int x = 0; x < W; x++) {
				int sx = (flip ? W - 1 - x : x) + dx;
				float v = 0.0f;

				/* padded pixels are 0 before normalisation, as torchvision's pad */
				if (sy >= 0 && sy < H && sx >= 0 && sx < W)
					v = plane[sy * W + sx];
				o[y * W + x] = v * scale - shift;
			}
		}
	}
	if (a && a->cutout > 0) {
		int cy = (int)rng_below(r, (uint64_t)H), cx = (int)rng_below(r, (uint64_t)W);
		int y0 = cy - a->cutout / 2, x0 = cx - a->cutout / 2;

		for (int c = 0; c < C; c++)
			for (int y = y0 < 0 ? 0 : y0; y < y0 + a->cutout && y < H; y++)
				for (int x = x0 < 0 ? 0 : x0; x < x0 + a->cutout && x < W; x++)
					out[((long)c * H + y) * W + x] = 0.0f;
	}
}

void batch_fill(float *out, int32_t *labels, const struct dataset_split *s,
		const float *mean, const float *std, const int *idx, int B,
		const struct augment *a, struct rng *r)
{
	long per = (long)s->c * s->h * s->w;

	for (int i = 0; i < B; i++) {
		fill_one(out + i * per, split_image(s, idx[i]), s->c, s->h, s->w, mean, std, a, r);
		labels[i] = s->labels[idx[i]];
	}
}
