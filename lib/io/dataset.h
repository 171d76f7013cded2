/*
 * dataset.h - image datasets: the in-memory form, the nasnet-c/dataset file
 * (schemas/dataset.md) and the importers that fill it.
 *
 * In memory a split is N images of C x H x W uint8 pixels, planar (NCHW,
 * like PyTorch), plus N int32 labels in 0..K-1. A dataset is three splits
 * (train, valid, test) sharing C, H, W, the K class names and the per-channel
 * mean/std of the final train split (pixels scaled to [0, 1]).
 *
 * Training calls only dataset_load() and dataset_free():
 *
 *   struct dataset d;
 *   if (dataset_load("data/fashion-mnist.h5", &d, DS_TRAIN | DS_VALID))
 *           return 1;                    // one line already printed
 *   ... d.train.images (n, c, h, w), d.train.labels (n) ...
 *   dataset_free(&d);
 *
 * dataset_load() checks type, rank and every dimension of each dataset, that
 * C/H/W agree with the root attributes, that labels lie in 0..K-1 and that no
 * dataset claims more than DATASET_MAX_ELEMS elements, before allocating.
 * Splits not asked for are left empty (n = 0, NULL pointers).
 *
 * import-data builds a dataset with the importers (idx.c, cifar.c, pngdir.c),
 * the transforms below (channels, crop, resize, hold-out, subset) and
 * dataset_stats() + dataset_write(). All of them are deterministic; the random
 * ones take an explicit seed. Library functions print one line with error()
 * and return -1; they never exit.
 */
#ifndef NASNET_DATASET_H
#define NASNET_DATASET_H

#include <stdint.h>

#include "h5io.h"

#define DATASET_FORMAT "nasnet-c/dataset"
#define DATASET_VERSION 1
#define DATASET_MAX_ELEMS 1000000000L /* refuse larger image arrays before allocating */
#define DATASET_MAX_CHANNELS 4
#define DATASET_MAX_CLASSES 100000
#define DATASET_MAX_SIDE 65536

enum dataset_splits { DS_TRAIN = 1u, DS_VALID = 2u, DS_TEST = 4u, DS_ALL = 7u };

struct dataset_split {
	int n, c, h, w;
	uint8_t *images;  /* (n, c, h, w) */
	int32_t *labels;  /* (n) */
};

struct dataset {
	int num_classes;
	int c, h, w;
	float mean[DATASET_MAX_CHANNELS], std[DATASET_MAX_CHANNELS]; /* per channel, pixels in [0,1] */
	char **classes;   /* (num_classes), names */
	struct dataset_split train, valid, test;
};

/* ---- the file ---- */

/* Read the splits in `splits` (DS_* bitmask) of a nasnet-c/dataset file. */
int dataset_load(const char *path, struct dataset *d, unsigned splits);
void dataset_free(struct dataset *d);
/* Only the shape: channels, height, width and number of classes (root attributes). */
int dataset_peek(const char *path, int *c, int *h, int *w, int *classes);

/*
 * The dataset's fingerprint: 16 hex digits of a content hash of its classes,
 * images and labels. import-data records it as the root attribute
 * `fingerprint`; dataset_fingerprint() reads it, or computes it for a file
 * from before fingerprints. Genotype files and runs record it so that a
 * changed file at the same path is refused.
 */
#define DATASET_FP_LEN 17
void dataset_fingerprint_of(const struct dataset *d, char out[DATASET_FP_LEN]);
int dataset_fingerprint(const char *path, char out[DATASET_FP_LEN]);

/* Everything written besides the images: where they came from. */
struct dataset_meta {
	const char *source;   /* e.g. "idx:/usr/share/.../train-images-idx3-ubyte.gz" */
	uint64_t seed;        /* seed of the valid/subset draws */
	int valid_count;      /* images held out of train into valid */
};

/* Write `d` (stats must be set, see dataset_stats) atomically to path. */
int dataset_write(const char *path, const struct dataset *d, const struct dataset_meta *m,
		  const struct provenance *prov);

/* ---- splits and transforms ---- */

/* Allocate a zero-filled split of n images (n may be 0). */
void split_alloc(struct dataset_split *s, int n, int c, int h, int w);
void split_free(struct dataset_split *s);
/* Image i of a split: c*h*w bytes. */
static inline uint8_t *split_image(const struct dataset_split *s, long i)
{
	return s->images + i * (long)s->c * s->h * s->w;
}
/* Append src's images to dst (dst may be empty; shapes must match). */
int split_append(struct dataset_split *dst, const struct dataset_split *src, const char *what);

/*
 * Move a seeded random choice of `count` images of *train into *out; the rest
 * stays in *train. Both keep their source order. count must be < train->n
 * (a split of 0 is allowed: out gets 0 images). stream_index separates the
 * draws (0 for the valid hold-out, 1 for the train subset).
 */
int split_holdout(struct dataset_split *train, struct dataset_split *out, int count,
		  uint64_t seed, uint64_t stream_index);
/* Keep a seeded random subset of `count` images (<= s->n), in source order. */
int split_subset(struct dataset_split *s, int count, uint64_t seed, uint64_t stream_index);

/* Channel conversion 1 <-> 3: gray is replicated; RGB -> gray uses integer
 * Rec. 601 luma (299 R + 587 G + 114 B + 500) / 1000. */
void image_convert_channels(uint8_t *out, int cout, const uint8_t *in, int cin, int hw);
int split_convert_channels(struct dataset_split *s, int c);

/* Center crop to (h, w); the image must be at least that large. */
void image_crop_center(uint8_t *out, const uint8_t *in, int c, int h, int w, int oh, int ow);
int split_crop(struct dataset_split *s, int h, int w);

/*
 * Resample (c, h, w) -> (c, oh, ow), separably per axis: area averaging
 * where an axis shrinks (an exact box filter for integer factors), bilinear
 * (half-pixel centers, as PyTorch align_corners=False) where it grows.
 * Double arithmetic in a fixed order, rounded half up: deterministic.
 */
void image_resize(uint8_t *out, int oh, int ow, const uint8_t *in, int c, int h, int w);
int split_resize(struct dataset_split *s, int h, int w);

/* Per-channel mean and population std of d->train, pixels / 255 (exact sums). */
void dataset_stats(struct dataset *d);

/* ---- importers (each fills train/test splits; labels unchecked vs classes) ---- */

/* IDX (MNIST / Fashion-MNIST), gzipped or not: 0x00000803 images (N, H, W)
 * -> split with c = 1 and no labels yet; 0x00000801 labels (N). */
int idx_read_images(const char *path, struct dataset_split *s);
int idx_read_labels(const char *path, int32_t **labels, int *n);
/* Both files of one split; counts must agree. */
int idx_read_split(const char *images, const char *labels, struct dataset_split *s);

/* CIFAR binary batches: records of label_bytes (1: CIFAR-10; 2: CIFAR-100,
 * coarse then fine) + 3072 pixel bytes (3, 32, 32). Appends to *s. `use`
 * picks the label byte (0: first/coarse, 1: fine); labels must be < max_label. */
int cifar_read_batch(const char *path, int label_bytes, int use, int max_label,
		     struct dataset_split *s);
/* Non-empty lines of a text file (batches.meta.txt), trailing blanks removed. */
int read_lines(const char *path, char ***lines, int *n);

/* PNG folder DIR/<class>/<file>.png, classes and files in byte order. */
struct pngdir_opts {
	int channels;          /* 1, 3, or 0: 3 unless every image is gray */
	int crop_h, crop_w;    /* center crop first, 0 = none */
	int resize_h, resize_w;/* then resample, 0 = none */
};
/* Decode one PNG to 8-bit gray (c = 1) or RGB (c = 3), alpha dropped; planar. */
int png_read_u8(const char *path, uint8_t **pix, int *c, int *h, int *w);
/* Write 8-bit gray or RGB planar pixels (used by tests and tools). */
int png_write_u8(const char *path, const uint8_t *pix, int c, int h, int w);
/*
 * Read train_dir (classes = its sorted subfolders) and, if test_dir is not
 * NULL, test_dir (its subfolders must be train classes). Fills *train,
 * *test (empty when no test_dir), *classes and *nclasses.
 */
int pngdir_read(const char *train_dir, const char *test_dir, const struct pngdir_opts *o,
		struct dataset_split *train, struct dataset_split *test, char ***classes,
		int *nclasses);

#endif
