/*
 * idx.c - IDX files (MNIST, Fashion-MNIST), gzipped or plain.
 *
 * An IDX file is a big-endian header (magic 0x00000803 for uint8 (N, H, W)
 * images, 0x00000801 for uint8 (N) labels; the low byte is the rank) and the
 * raw bytes. zlib's gzread reads gzip and plain files alike. The header is
 * checked before anything is allocated, memory grows only with the data
 * actually read (a lying count fails as "truncated" before any large
 * allocation), and bytes after the data are an error too (a file of another
 * kind, most likely).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "dataset.h"
#include "util.h"

#define IDX_IMAGES 0x00000803u
#define IDX_LABELS 0x00000801u

/* Read exactly n bytes; 0 ok, -1 with a message naming path. */
static int gz_read_all(gzFile g, const char *path, void *buf, size_t n, const char *what)
{
	unsigned char *p = buf;

	while (n) {
		unsigned chunk = n > (1u << 30) ? 1u << 30 : (unsigned)n;
		int got = gzread(g, p, chunk);

		if (got < 0) {
			int zerr;
			const char *msg = gzerror(g, &zerr);

			return error("%s: %s", path, zerr == Z_ERRNO ? strerror(errno) : msg);
		}
		if (got == 0)
			return error("%s: truncated file (%s)", path, what);
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

/*
 * Read exactly n bytes into a new buffer (free()) that grows with the data
 * actually read, from IDX_FIRST_CHUNK bytes, doubling: a header claiming
 * more than the file holds fails as truncated before any large allocation.
 */
#define IDX_FIRST_CHUNK (16u << 20)
static int gz_read_alloc(gzFile g, const char *path, size_t n, const char *what,
			 unsigned char **out)
{
	size_t cap = n < IDX_FIRST_CHUNK ? n : IDX_FIRST_CHUNK, have = 0;
	unsigned char *buf = xmalloc(cap + 1);

	for (;;) {
		if (gz_read_all(g, path, buf + have, cap - have, what)) {
			free(buf);
			return -1;
		}
		have = cap;
		if (have == n)
			break;
		cap = cap > n / 2 ? n : 2 * cap;
		buf = xrealloc(buf, cap + 1);
	}
	*out = buf;
	return 0;
}

/* Open, check the magic and read the `rank` dimensions. */
static gzFile idx_open(const char *path, uint32_t magic, const char *kind, int rank,
		       uint32_t *dims)
{
	unsigned char hdr[16];
	uint32_t m;
	gzFile g = gzopen(path, "rb");

	if (!g) {
		error("%s:", path);
		return NULL;
	}
	if (gz_read_all(g, path, hdr, 4 + 4 * (size_t)rank, "header"))
		goto fail;
	m = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (m != magic) {
		error("%s: bad magic number 0x%08x, expected 0x%08x (IDX %s)", path, m, magic, kind);
		goto fail;
	}
	for (int i = 0; i < rank; i++) {
		const unsigned char *b = hdr + 4 + 4 * i;

		dims[i] = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	}
	return g;
fail:
	gzclose(g);
	return NULL;
}

static int idx_expect_eof(gzFile g, const char *path)
{
	unsigned char extra;
	int got = gzread(g, &extra, 1);

	if (got != 0)
		return error("%s: %s", path, got > 0 ? "unexpected data after the last item" :
						      "read error at end of file");
	return 0;
}

int idx_read_images(const char *path, struct dataset_split *s)
{
	uint32_t d[3];
	gzFile g = idx_open(path, IDX_IMAGES, "images", 3, d);
	size_t bytes;

	memset(s, 0, sizeof(*s));
	if (!g)
		return -1;
	if (d[1] == 0 || d[2] == 0 || d[1] > DATASET_MAX_SIDE || d[2] > DATASET_MAX_SIDE) {
		gzclose(g);
		return error("%s: bad image size %ux%u", path, d[1], d[2]);
	}
	if ((uint64_t)d[0] * d[1] * d[2] > (uint64_t)DATASET_MAX_ELEMS) {
		gzclose(g);
		return error("%s: claims %u images of %ux%u, more than %ld pixels", path, d[0],
			     d[1], d[2], DATASET_MAX_ELEMS);
	}
	bytes = (size_t)d[0] * d[1] * d[2];
	if (gz_read_alloc(g, path, bytes, "fewer images than the header claims", &s->images))
		goto fail;
	if (idx_expect_eof(g, path)) {
		free(s->images);
		goto fail;
	}
	gzclose(g);
	s->n = (int)d[0];
	s->c = 1;
	s->h = (int)d[1];
	s->w = (int)d[2];
	s->labels = xcalloc((size_t)d[0] + 1, sizeof(int32_t));
	return 0;
fail:
	gzclose(g);
	memset(s, 0, sizeof(*s));
	return -1;
}

int idx_read_labels(const char *path, int32_t **labels, int *n)
{
	uint32_t d[1];
	gzFile g = idx_open(path, IDX_LABELS, "labels", 1, d);
	unsigned char *raw;

	*labels = NULL;
	*n = 0;
	if (!g)
		return -1;
	if (d[0] > (uint32_t)DATASET_MAX_ELEMS) {
		gzclose(g);
		return error("%s: claims %u labels, more than %ld", path, d[0], DATASET_MAX_ELEMS);
	}
	if (gz_read_alloc(g, path, d[0], "fewer labels than the header claims", &raw)) {
		gzclose(g);
		return -1;
	}
	if (idx_expect_eof(g, path)) {
		gzclose(g);
		free(raw);
		return -1;
	}
	gzclose(g);
	*labels = xmalloc((size_t)d[0] * sizeof(int32_t) + 1);
	for (uint32_t i = 0; i < d[0]; i++)
		(*labels)[i] = raw[i];
	free(raw);
	*n = (int)d[0];
	return 0;
}

int idx_read_split(const char *images, const char *labels, struct dataset_split *s)
{
	int32_t *lab;
	int n;

	if (idx_read_images(images, s))
		return -1;
	if (idx_read_labels(labels, &lab, &n)) {
		split_free(s);
		return -1;
	}
	if (n != s->n) {
		error("%s: %d labels, but %s has %d images", labels, n, images, s->n);
		free(lab);
		split_free(s);
		return -1;
	}
	free(s->labels);
	s->labels = lab;
	return 0;
}
