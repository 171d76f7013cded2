/*
 * batch.h - turn uint8 images of a dataset split into a normalised float
 * batch, with the training augmentations of the recipes (nasnet-facts §6):
 * random crop after zero padding, horizontal flip, cutout.
 *
 * Order per image: pad-and-crop, flip (on uint8), normalise with the
 * dataset's per-channel mean/std, then cutout (a square set to 0 in the
 * normalised image, as DeVries & Taylor and DARTS do). All randomness comes
 * from the rng passed in, so a batch is a pure function of (indices, stream).
 */
#ifndef NASNET_BATCH_H
#define NASNET_BATCH_H

#include <stdint.h>

#include "dataset.h"
#include "rng.h"

struct augment {
	int crop_pad;  /* pixels of zero padding before a random crop; 0 = off */
	int flip;      /* random horizontal flip */
	int cutout;    /* side of the cutout square; 0 = off */
};

/* out (B, C, H, W), labels (B) from images idx[0..B) of split s. a may be NULL (eval). */
void batch_fill(float *out, int32_t *labels, const struct dataset_split *s,
		const float *mean, const float *std, const int *idx, int B,
		const struct augment *a, struct rng *r);

#endif
