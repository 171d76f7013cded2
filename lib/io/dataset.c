/*
 * dataset.c - the in-memory dataset, its transforms, and the
 * nasnet-c/dataset file (schemas/dataset.md): writer and checked reader.
 *
 * Transforms work on whole splits and replace the split's buffers. The
 * random ones (hold-out, subset) draw a permutation from the RNG_SPLIT stream
 * of the seed and keep the chosen images in source order. Statistics are
 * exact integer sums, so they do not depend on summation order.
 * Importers live in idx.c, cifar.c and pngdir.c.
 */
#include "dataset.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "util.h"

/* ---- splits ---- */

void split_alloc(struct dataset_split *s, int n, int c, int h, int w)
{
	s->n = n;
	s->c = c;
	s->h = h;
	s->w = w;
	s->images = xcalloc((size_t)n * c * h * w, 1);
	s->labels = xcalloc((size_t)n, sizeof(int32_t));
}

void split_free(struct dataset_split *s)
{
	free(s->images);
	free(s->labels);
	memset(s, 0, sizeof(*s));
}

int split_append(struct dataset_split *dst, const struct dataset_split *src, const char *what)
{
	size_t img = (size_t)src->c * src->h * src->w;
	long total = (long)dst->n + src->n;

	if (!dst->images) {
		dst->n = 0;
		dst->c = src->c;
		dst->h = src->h;
		dst->w = src->w;
	} else if (dst->c != src->c || dst->h != src->h || dst->w != src->w) {
		return error("%s: images are %dx%dx%d, expected %dx%dx%d", what, src->c, src->h,
			     src->w, dst->c, dst->h, dst->w);
	}
	if (total * (long)img > DATASET_MAX_ELEMS || total > INT_MAX)
		return error("%s: more than %ld pixels in one split", what, DATASET_MAX_ELEMS);
	dst->images = xrealloc(dst->images, total * img + 1);
	dst->labels = xrealloc(dst->labels, total * sizeof(int32_t) + 1);
	memcpy(dst->images + dst->n * img, src->images, src->n * img);
	memcpy(dst->labels + dst->n, src->labels, src->n * sizeof(int32_t));
	dst->n = (int)total;
	return 0;
}

/* Copy the images with keep[i] != 0 (in order) into a new split. */
static void split_select(struct dataset_split *out, const struct dataset_split *s,
			 const unsigned char *keep, int count)
{
	size_t img = (size_t)s->c * s->h * s->w;
	int j = 0;

	split_alloc(out, count, s->c, s->h, s->w);
	for (int i = 0; i < s->n; i++) {
		if (!keep[i])
			continue;
		memcpy(out->images + j * img, s->images + i * img, img);
		out->labels[j++] = s->labels[i];
	}
}

/* keep[i] = 1 for `count` indices drawn without replacement. */
static unsigned char *draw(int n, int count, uint64_t seed, uint64_t stream_index)
{
	struct rng r;
	int *perm = xmalloc((size_t)n * sizeof(int) + 1);
	unsigned char *keep = xcalloc((size_t)n + 1, 1);

	rng_stream(&r, seed, stream_index, 0, RNG_SPLIT);
	for (int i = 0; i < n; i++)
		perm[i] = i;
	rng_shuffle(&r, perm, n);
	for (int i = 0; i < count; i++)
		keep[perm[i]] = 1;
	free(perm);
	return keep;
}

int split_holdout(struct dataset_split *train, struct dataset_split *out, int count,
		  uint64_t seed, uint64_t stream_index)
{
	struct dataset_split rest;
	unsigned char *keep;

	if (count < 0 || count >= train->n)
		return error("cannot hold out %d of %d training images (need fewer than %d)",
			     count, train->n, train->n);
	keep = draw(train->n, count, seed, stream_index);
	split_select(out, train, keep, count);
	for (int i = 0; i < train->n; i++)
		keep[i] = !keep[i];
	split_select(&rest, train, keep, train->n - count);
	free(keep);
	split_free(train);
	*train = rest;
	return 0;
}

int split_subset(struct dataset_split *s, int count, uint64_t seed, uint64_t stream_index)
{
	struct dataset_split sub;
	unsigned char *keep;

	if (count < 1 || count > s->n)
		return error("cannot keep a subset of %d of %d training images", count, s->n);
	keep = draw(s->n, count, seed, stream_index);
	split_select(&sub, s, keep, count);
	free(keep);
	split_free(s);
	*s = sub;
	return 0;
}

/* ---- per-image transforms ---- */

void image_convert_channels(uint8_t *out, int cout, const uint8_t *in, int cin, int hw)
{
	if (cin == cout) {
		memcpy(out, in, (size_t)cin * hw);
	} else if (cin == 1) {
		for (int ch = 0; ch < cout; ch++)
			memcpy(out + (size_t)ch * hw, in, hw);
	} else {
		const uint8_t *r = in, *g = in + hw, *b = in + 2 * (size_t)hw;

		for (int i = 0; i < hw; i++)
			out[i] = (uint8_t)((299u * r[i] + 587u * g[i] + 114u * b[i] + 500u) / 1000u);
	}
}

void image_crop_center(uint8_t *out, const uint8_t *in, int c, int h, int w, int oh, int ow)
{
	int y0 = (h - oh) / 2, x0 = (w - ow) / 2;

	for (int ch = 0; ch < c; ch++)
		for (int y = 0; y < oh; y++)
			memcpy(out + ((size_t)ch * oh + y) * ow,
			       in + ((size_t)ch * h + y0 + y) * w + x0, ow);
}

/*
 * Weights of a 1-D resampling n -> m as a dense (m, n) matrix row by row
 * (sizes here are at most a few thousand, and images are small).
 */
static double *resample_weights(int n, int m)
{
	double *wt = xcalloc((size_t)m * n, sizeof(double));

	if (m <= n) {
		/* area: output j covers source interval [j*n/m, (j+1)*n/m) */
		for (int j = 0; j < m; j++) {
			double a = (double)j * n / m, b = (double)(j + 1) * n / m;

			for (int i = (int)a; i < n && i < b; i++) {
				double lo = i > a ? i : a, hi = i + 1 < b ? i + 1 : b;

				if (hi > lo)
					wt[(size_t)j * n + i] = (hi - lo) * m / n;
			}
		}
	} else {
		/* bilinear, half-pixel centers, edges clamped */
		for (int j = 0; j < m; j++) {
			double x = ((double)j + 0.5) * n / m - 0.5;
			int i0;
			double f;

			if (x < 0)
				x = 0;
			i0 = (int)x;
			if (i0 > n - 1)
				i0 = n - 1;
			f = x - i0;
			if (i0 + 1 < n) {
				wt[(size_t)j * n + i0] += 1 - f;
				wt[(size_t)j * n + i0 + 1] += f;
			} else {
				wt[(size_t)j * n + i0] = 1;
			}
		}
	}
	return wt;
}

void image_resize(uint8_t *out, int oh, int ow, const uint8_t *in, int c, int h, int w)
{
	double *wy = resample_weights(h, oh), *wx = resample_weights(w, ow);
	double *tmp = xmalloc((size_t)h * ow * sizeof(double)); /* (h, ow) */

	for (int ch = 0; ch < c; ch++) {
		const uint8_t *src = in + (size_t)ch * h * w;

		for (int y = 0; y < h; y++)
			for (int j = 0; j < ow; j++) {
				double acc = 0;

				for (int i = 0; i < w; i++)
					acc += wx[(size_t)j * w + i] * src[(size_t)y * w + i];
				tmp[(size_t)y * ow + j] = acc;
			}
		for (int k = 0; k < oh; k++)
			for (int j = 0; j < ow; j++) {
				double acc = 0;

				for (int y = 0; y < h; y++)
					acc += wy[(size_t)k * h + y] * tmp[(size_t)y * ow + j];
				acc = floor(acc + 0.5);
				out[((size_t)ch * oh + k) * ow + j] =
					(uint8_t)(acc < 0 ? 0 : acc > 255 ? 255 : acc);
			}
	}
	free(tmp);
	free(wy);
	free(wx);
}

/* Apply a per-image transform to every image of s, giving (c, h, w). */
enum xform { XF_CHANNELS, XF_CROP, XF_RESIZE };

static void split_map(struct dataset_split *s, enum xform t, int c, int h, int w)
{
	struct dataset_split o;
	int hw = s->h * s->w;

	split_alloc(&o, s->n, c, h, w);
	memcpy(o.labels, s->labels, (size_t)s->n * sizeof(int32_t));
	for (int i = 0; i < s->n; i++) {
		const uint8_t *in = split_image(s, i);
		uint8_t *out = split_image(&o, i);

		if (t == XF_CHANNELS)
			image_convert_channels(out, c, in, s->c, hw);
		else if (t == XF_CROP)
			image_crop_center(out, in, s->c, s->h, s->w, h, w);
		else
			image_resize(out, h, w, in, s->c, s->h, s->w);
	}
	split_free(s);
	*s = o;
}

int split_convert_channels(struct dataset_split *s, int c)
{
	if ((c != 1 && c != 3) || (s->c != 1 && s->c != 3))
		return error("cannot convert %d channels to %d", s->c, c);
	if (c != s->c)
		split_map(s, XF_CHANNELS, c, s->h, s->w);
	return 0;
}

int split_crop(struct dataset_split *s, int h, int w)
{
	if (h > s->h || w > s->w)
		return error("cannot crop %dx%d images to %dx%d", s->h, s->w, h, w);
	if (h != s->h || w != s->w)
		split_map(s, XF_CROP, s->c, h, w);
	return 0;
}

int split_resize(struct dataset_split *s, int h, int w)
{
	if (h < 1 || w < 1 || h > DATASET_MAX_SIDE || w > DATASET_MAX_SIDE)
		return error("bad image size %dx%d", h, w);
	if ((long)s->n * s->c * h * w > DATASET_MAX_ELEMS)
		return error("resizing to %dx%d gives more than %ld pixels", h, w,
			     DATASET_MAX_ELEMS);
	if (h != s->h || w != s->w)
		split_map(s, XF_RESIZE, s->c, h, w);
	return 0;
}

/* ---- statistics ---- */

void dataset_stats(struct dataset *d)
{
	const struct dataset_split *s = &d->train;
	long hw = (long)s->h * s->w;

	for (int ch = 0; ch < DATASET_MAX_CHANNELS; ch++) {
		uint64_t s1 = 0;
		unsigned __int128 s2 = 0, cnt = (unsigned __int128)s->n * hw, var_num;

		d->mean[ch] = 0;
		d->std[ch] = ch < d->c ? 1 : 0;
		if (ch >= d->c || cnt == 0)
			continue;
		for (long i = 0; i < s->n; i++) {
			const uint8_t *p = split_image(s, i) + ch * hw;
			uint64_t a = 0, b = 0;

			for (long k = 0; k < hw; k++) {
				a += p[k];
				b += (uint64_t)p[k] * p[k];
			}
			s1 += a;
			s2 += b;
		}
		/* var = (cnt * s2 - s1^2) / cnt^2, numerator exact in 128 bits */
		var_num = cnt * s2 - (unsigned __int128)s1 * s1;
		d->mean[ch] = (float)((double)s1 / (double)cnt / 255.0);
		d->std[ch] = (float)(sqrt((double)var_num) / (double)cnt / 255.0);
	}
}

/* ---- the file ---- */

static const char *const split_names[3] = { "train", "valid", "test" };

static struct dataset_split *split_of(struct dataset *d, int i)
{
	return i == 0 ? &d->train : i == 1 ? &d->valid : &d->test;
}

/*
 * FNV-1a over everything a child's result depends on, in a fixed order: shape,
 * class names, then each split's images and labels. mean/std follow from the
 * train split, and provenance (time, command line) is left out on purpose, so
 * the same import made twice has the same fingerprint.
 */
void dataset_fingerprint_of(const struct dataset *d, char out[DATASET_FP_LEN])
{
	uint64_t h = 0xcbf29ce484222325ULL;
	int32_t dims[4] = { d->num_classes, d->c, d->h, d->w };

	h = hash_bytes(h, dims, sizeof dims);
	for (int k = 0; k < d->num_classes; k++)
		h = hash_bytes(h, d->classes[k], strlen(d->classes[k]) + 1);
	for (int i = 0; i < 3; i++) {
		const struct dataset_split *s = split_of((struct dataset *)d, i);
		int64_t n = s->n;

		h = hash_bytes(h, &n, sizeof n);
		if (n) {
			h = hash_bytes(h, s->images, (size_t)n * (size_t)s->c * (size_t)s->h * (size_t)s->w);
			h = hash_bytes(h, s->labels, (size_t)n * sizeof *s->labels);
		}
	}
	snprintf(out, DATASET_FP_LEN, "%016" PRIx64, h);
}

int dataset_fingerprint(const char *path, char out[DATASET_FP_LEN])
{
	struct h5f f;
	struct dataset d;
	char *s = NULL;
	int have;

	if (h5_open(&f, path, DATASET_FORMAT, DATASET_VERSION))
		return -1;
	have = h5_attr_exists(&f, "/", "fingerprint");
	if (have > 0 && h5_attr_read_string(&f, "/", "fingerprint", &s) == 0) {
		int ok = strlen(s) == DATASET_FP_LEN - 1 && strspn(s, "0123456789abcdef") == strlen(s);

		if (ok)
			memcpy(out, s, DATASET_FP_LEN);
		else
			error("%s: attribute 'fingerprint' is '%.40s', expected 16 hex digits", path, s);
		free(s);
		h5_close(&f);
		return ok ? 0 : -1;
	}
	h5_close(&f);
	if (have > 0)
		return -1;
	/* a dataset from before fingerprints: computed from its content */
	if (dataset_load(path, &d, DS_ALL) < 0)
		return -1;
	dataset_fingerprint_of(&d, out);
	dataset_free(&d);
	return 0;
}

int dataset_write(const char *path, const struct dataset *d, const struct dataset_meta *m,
		  const struct provenance *prov)
{
	struct h5f f;
	hsize_t dims[4];
	char name[64], fp[DATASET_FP_LEN];

	if (h5_create(&f, path, DATASET_FORMAT, DATASET_VERSION, prov))
		return -1;
	for (int i = 0; i < 3; i++) {
		const struct dataset_split *s = split_of((struct dataset *)d, i);

		dims[0] = (hsize_t)s->n;
		dims[1] = (hsize_t)d->c;
		dims[2] = (hsize_t)d->h;
		dims[3] = (hsize_t)d->w;
		snprintf(name, sizeof(name), "/%s/images", split_names[i]);
		if (h5_write(&f, name, H5IO_U8, 4, dims, s->images))
			goto fail;
		snprintf(name, sizeof(name), "/%s/labels", split_names[i]);
		if (h5_write(&f, name, H5IO_I32, 1, dims, s->labels))
			goto fail;
	}
	dims[0] = (hsize_t)d->c;
	if (h5_write_strings(&f, "/classes", d->num_classes, (const char *const *)d->classes) ||
	    h5_write(&f, "/mean", H5IO_F32, 1, dims, d->mean) ||
	    h5_write(&f, "/std", H5IO_F32, 1, dims, d->std) ||
	    h5_attr_write_int(&f, "/", "num_classes", d->num_classes) ||
	    h5_attr_write_int(&f, "/", "channels", d->c) ||
	    h5_attr_write_int(&f, "/", "height", d->h) ||
	    h5_attr_write_int(&f, "/", "width", d->w) ||
	    h5_attr_write_string(&f, "/", "source", m->source) ||
	    h5_attr_write_int(&f, "/", "seed", (int64_t)m->seed) ||
	    h5_attr_write_int(&f, "/", "valid_count", m->valid_count))
		goto fail;
	dataset_fingerprint_of(d, fp);
	if (h5_attr_write_string(&f, "/", "fingerprint", fp))
		goto fail;
	return h5_commit(&f);
fail:
	h5_abort(&f);
	return -1;
}

static int read_attr_range(struct h5f *f, const char *name, long lo, long hi, int *out)
{
	int64_t v;

	if (h5_attr_read_int(f, "/", name, &v))
		return -1;
	if (v < lo || v > hi)
		return error("%s: attribute %s = %lld, expected %ld..%ld", f->path, name,
			     (long long)v, lo, hi);
	*out = (int)v;
	return 0;
}

static int load_split(struct h5f *f, struct dataset *d, int which)
{
	struct dataset_split *s = split_of(d, which);
	const char *sn = split_names[which];
	char iname[64], lname[64];
	hsize_t dims[H5IO_MAXRANK], ldims[H5IO_MAXRANK];
	int rank;
	long n;

	snprintf(iname, sizeof(iname), "/%s/images", sn);
	snprintf(lname, sizeof(lname), "/%s/labels", sn);
	if (h5_shape(f, iname, H5IO_U8, &rank, dims))
		return -1;
	if (rank != 4)
		return error("%s: %s has rank %d, expected 4 (N, C, H, W)", f->path, iname, rank);
	if (dims[1] != (hsize_t)d->c || dims[2] != (hsize_t)d->h || dims[3] != (hsize_t)d->w)
		return error("%s: %s is %llux%llux%llu per image, attributes say %dx%dx%d",
			     f->path, iname, (unsigned long long)dims[1],
			     (unsigned long long)dims[2], (unsigned long long)dims[3], d->c, d->h,
			     d->w);
	if (dims[0] > (hsize_t)DATASET_MAX_ELEMS / ((hsize_t)d->c * d->h * d->w))
		return error("%s: %s claims %llu images, more than %ld pixels", f->path, iname,
			     (unsigned long long)dims[0], DATASET_MAX_ELEMS);
	n = (long)dims[0];
	if (h5_shape(f, lname, H5IO_I32, &rank, ldims))
		return -1;
	if (rank != 1 || ldims[0] != dims[0])
		return error("%s: %s must have shape (%ld) like %s", f->path, lname, n, iname);
	split_alloc(s, (int)n, d->c, d->h, d->w);
	if (h5_read(f, iname, H5IO_U8, 4, dims, s->images) ||
	    h5_read(f, lname, H5IO_I32, 1, ldims, s->labels))
		return -1;
	for (long i = 0; i < n; i++)
		if (s->labels[i] < 0 || s->labels[i] >= d->num_classes)
			return error("%s: %s[%ld] = %d, outside 0..%d", f->path, lname, i,
				     s->labels[i], d->num_classes - 1);
	return 0;
}

int dataset_peek(const char *path, int *c, int *h, int *w, int *classes)
{
	struct h5f f;
	int rc;

	if (h5_open(&f, path, DATASET_FORMAT, DATASET_VERSION))
		return -1;
	rc = read_attr_range(&f, "num_classes", 2, DATASET_MAX_CLASSES, classes) ||
	     read_attr_range(&f, "channels", 1, DATASET_MAX_CHANNELS, c) ||
	     read_attr_range(&f, "height", 1, DATASET_MAX_SIDE, h) ||
	     read_attr_range(&f, "width", 1, DATASET_MAX_SIDE, w) ? -1 : 0;
	h5_close(&f);
	return rc;
}

int dataset_load(const char *path, struct dataset *d, unsigned splits)
{
	struct h5f f;
	hsize_t dims[1];
	char **names = NULL;
	int n = 0;

	memset(d, 0, sizeof(*d));
	if (h5_open(&f, path, DATASET_FORMAT, DATASET_VERSION))
		return -1;
	if (read_attr_range(&f, "num_classes", 2, DATASET_MAX_CLASSES, &d->num_classes) ||
	    read_attr_range(&f, "channels", 1, DATASET_MAX_CHANNELS, &d->c) ||
	    read_attr_range(&f, "height", 1, DATASET_MAX_SIDE, &d->h) ||
	    read_attr_range(&f, "width", 1, DATASET_MAX_SIDE, &d->w))
		goto fail;
	if (h5_read_strings(&f, "/classes", d->num_classes, &n, &names))
		goto fail;
	if (n != d->num_classes) {
		error("%s: /classes has %d names, num_classes is %d", path, n, d->num_classes);
		h5_free_strings(names, n);
		goto fail;
	}
	d->classes = xcalloc((size_t)n, sizeof(char *));
	for (int i = 0; i < n; i++)
		d->classes[i] = xstrdup(names[i]);
	h5_free_strings(names, n);
	dims[0] = (hsize_t)d->c;
	if (h5_read(&f, "/mean", H5IO_F32, 1, dims, d->mean) ||
	    h5_read(&f, "/std", H5IO_F32, 1, dims, d->std))
		goto fail;
	for (int ch = 0; ch < d->c; ch++)
		if (!isfinite(d->mean[ch]) || !isfinite(d->std[ch]) || !(d->std[ch] > 0)) {
			/* images are divided by std */
			error("%s: channel %d has mean %g, std %g (expected a finite mean and a "
			      "positive std)", path, ch, d->mean[ch], d->std[ch]);
			goto fail;
		}
	for (int i = 0; i < 3; i++)
		if ((splits & (1u << i)) && load_split(&f, d, i))
			goto fail;
	h5_close(&f);
	return 0;
fail:
	h5_close(&f);
	dataset_free(d);
	return -1;
}

void dataset_free(struct dataset *d)
{
	for (int i = 0; d->classes && i < d->num_classes; i++)
		free(d->classes[i]);
	free(d->classes);
	split_free(&d->train);
	split_free(&d->valid);
	split_free(&d->test);
	memset(d, 0, sizeof(*d));
}
