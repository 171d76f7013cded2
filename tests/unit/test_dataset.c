/*
 * test_dataset.c - datasets: IDX parsing, PNG decoding of every color type,
 * folder import, transforms, statistics, seeded splits, and the file's
 * writer and checked reader. Every input is generated here in a temporary
 * folder (removed at the end); nothing is downloaded.
 */
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "dataset.h"
#include "h5io.h"
#include "../tap.h"
#include "util.h"

static char tmpdir[256];

static char *tpath(const char *name)
{
	static char buf[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmpdir, name);
	return buf[k];
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* Write raw bytes, gzipped or plain. */
static void write_file(const char *path, const void *data, size_t n, int gz)
{
	if (gz) {
		gzFile g = gzopen(path, "wb");

		gzwrite(g, data, (unsigned)n);
		gzclose(g);
	} else {
		FILE *fp = fopen(path, "wb");

		fwrite(data, 1, n, fp);
		fclose(fp);
	}
}

/* An IDX image file of n images h x w, pixel = (i*7 + k) & 255. */
static void make_idx_images(const char *path, uint32_t magic, uint32_t n, int h, int w,
			    int gz, int drop_bytes, int extra_bytes)
{
	size_t bytes = 16 + (size_t)n * h * w;
	unsigned char *b = calloc(bytes + (size_t)extra_bytes, 1);

	put_be32(b, magic);
	put_be32(b + 4, n);
	put_be32(b + 8, (uint32_t)h);
	put_be32(b + 12, (uint32_t)w);
	for (size_t k = 0; k < (size_t)n * h * w; k++)
		b[16 + k] = (unsigned char)((k / ((size_t)h * w)) * 7 + k);
	write_file(path, b, bytes - (size_t)drop_bytes + (size_t)extra_bytes, gz);
	free(b);
}

static void make_idx_labels(const char *path, uint32_t n, int gz)
{
	unsigned char *b = calloc(8 + n, 1);

	put_be32(b, 0x801);
	put_be32(b + 4, n);
	for (uint32_t i = 0; i < n; i++)
		b[8 + i] = (unsigned char)(i % 3);
	write_file(path, b, 8 + n, gz);
	free(b);
}

static void test_idx(void)
{
	struct dataset_split s;
	int32_t *lab;
	int n, good = 1;

	for (int gz = 0; gz < 2; gz++) {
		make_idx_images(tpath("i"), 0x803, 5, 3, 4, gz, 0, 0);
		make_idx_labels(tpath("l"), 5, gz);
		ok(idx_read_split(tpath("i"), tpath("l"), &s) == 0, "idx: read %s files",
		   gz ? "gzipped" : "plain");
		ok(s.n == 5 && s.c == 1 && s.h == 3 && s.w == 4, "idx: shape (5, 1, 3, 4)");
		good = 1;
		for (int i = 0; i < 5 && s.images; i++) {
			good &= s.labels[i] == i % 3;
			for (int k = 0; k < 12; k++)
				good &= split_image(&s, i)[k] == (uint8_t)(i * 7 + i * 12 + k);
		}
		ok(good, "idx: pixels and labels as written");
		split_free(&s);
	}
	make_idx_images(tpath("i"), 0x801, 5, 3, 4, 0, 0, 0);
	ok(idx_read_images(tpath("i"), &s) < 0 && !s.images, "idx: wrong magic refused");
	make_idx_images(tpath("i"), 0x803, 5, 3, 4, 0, 0, 0);
	ok(idx_read_labels(tpath("i"), &lab, &n) < 0 && !lab, "idx: image file as labels refused");
	make_idx_labels(tpath("l"), 5, 0);
	make_idx_images(tpath("i"), 0x803, 6, 3, 4, 1, 0, 0);
	ok(idx_read_split(tpath("i"), tpath("l"), &s) < 0 && !s.images,
	   "idx: count mismatch refused");
	make_idx_images(tpath("i"), 0x803, 5, 3, 4, 0, 5, 0);
	ok(idx_read_images(tpath("i"), &s) < 0, "idx: truncated plain file refused");
	make_idx_images(tpath("i"), 0x803, 5, 3, 4, 1, 5, 0);
	ok(idx_read_images(tpath("i"), &s) < 0, "idx: truncated gzipped file refused");
	make_idx_images(tpath("i"), 0x803, 5, 3, 4, 0, 0, 3);
	ok(idx_read_images(tpath("i"), &s) < 0, "idx: trailing bytes refused");
	make_idx_images(tpath("i"), 0x803, 0, 3, 4, 0, 0, 0);
	{
		unsigned char b[16];

		put_be32(b, 0x803);
		put_be32(b + 4, 0x7fffffff);
		put_be32(b + 8, 28);
		put_be32(b + 12, 28);
		write_file(tpath("i"), b, 16, 0);
	}
	ok(idx_read_images(tpath("i"), &s) < 0, "idx: huge claimed count refused before allocating");
	write_file(tpath("i"), "\0\0\x08", 3, 0);
	ok(idx_read_images(tpath("i"), &s) < 0, "idx: file shorter than its header refused");
	ok(idx_read_images(tpath("missing"), &s) < 0, "idx: missing file refused");
}

/*
 * Write a PNG of color type ct and bit depth bd with libpng's writer from
 * 8-bit values v(y, x, ch) (ch counts the color channels and alpha); 16-bit
 * samples have v as high byte and junk as low byte: stripping must give v.
 */
static void write_png_raw(const char *path, int ct, int bd, int h, int w, const uint8_t *v,
			  int interlace)
{
	FILE *fp = fopen(path, "wb");
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	int ch = ct == PNG_COLOR_TYPE_GRAY ? 1 : ct == PNG_COLOR_TYPE_GA ? 2 :
		 ct == PNG_COLOR_TYPE_RGB ? 3 : ct == PNG_COLOR_TYPE_RGBA ? 4 : 1;
	size_t rowbytes = ((size_t)w * ch * bd + 7) / 8;
	png_bytep *rows = calloc((size_t)h, sizeof(png_bytep));
	png_color pal[256];
	png_byte trans[256];

	png_init_io(png, fp);
	png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, bd, ct,
		     interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (ct == PNG_COLOR_TYPE_PALETTE) {
		for (int i = 0; i < 256; i++) {
			pal[i].red = (png_byte)i;
			pal[i].green = (png_byte)(255 - i);
			pal[i].blue = (png_byte)(i * 3);
			trans[i] = (png_byte)(i / 2);
		}
		png_set_PLTE(png, info, pal, 256);
		png_set_tRNS(png, info, trans, 256, NULL);
	}
	png_write_info(png, info);
	for (int y = 0; y < h; y++) {
		rows[y] = calloc(rowbytes, 1);
		for (int x = 0; x < w; x++)
			for (int c = 0; c < ch; c++) {
				uint8_t s = v[((size_t)y * w + x) * ch + c];

				if (bd == 16) {
					unsigned s16 = s * 256u + (s ^ 0x5au);

					rows[y][(x * ch + c) * 2] = (png_byte)(s16 >> 8);
					rows[y][(x * ch + c) * 2 + 1] = (png_byte)s16;
				} else if (bd == 8) {
					rows[y][x * ch + c] = s;
				} else { /* 1-bit gray: s is 0 or 1 */
					if (s)
						rows[y][x / 8] |= (png_byte)(0x80 >> (x % 8));
				}
			}
	}
	png_write_image(png, rows);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	fclose(fp);
	for (int y = 0; y < h; y++)
		free(rows[y]);
	free(rows);
}

static void test_png_types(void)
{
	enum { H = 5, W = 9 };
	static const struct { int ct, bd, interlace, cout; const char *name; } t[] = {
		{ PNG_COLOR_TYPE_GRAY, 8, 0, 1, "gray 8-bit" },
		{ PNG_COLOR_TYPE_GRAY, 16, 0, 1, "gray 16-bit" },
		{ PNG_COLOR_TYPE_GRAY, 1, 0, 1, "gray 1-bit" },
		{ PNG_COLOR_TYPE_GA, 8, 0, 1, "gray+alpha 8-bit" },
		{ PNG_COLOR_TYPE_GA, 16, 0, 1, "gray+alpha 16-bit" },
		{ PNG_COLOR_TYPE_RGB, 8, 0, 3, "RGB 8-bit" },
		{ PNG_COLOR_TYPE_RGB, 16, 0, 3, "RGB 16-bit" },
		{ PNG_COLOR_TYPE_RGB, 8, 1, 3, "RGB 8-bit interlaced" },
		{ PNG_COLOR_TYPE_RGBA, 8, 0, 3, "RGBA 8-bit" },
		{ PNG_COLOR_TYPE_RGBA, 16, 0, 3, "RGBA 16-bit" },
		{ PNG_COLOR_TYPE_PALETTE, 8, 0, 3, "palette with tRNS" },
	};
	uint8_t v[H * W * 4], want[H * W * 3];

	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		int ch = t[k].ct == PNG_COLOR_TYPE_GRAY ? 1 : t[k].ct == PNG_COLOR_TYPE_GA ? 2 :
			 t[k].ct == PNG_COLOR_TYPE_RGB ? 3 : t[k].ct == PNG_COLOR_TYPE_RGBA ? 4 : 1;
		uint8_t *pix;
		int c, h, w, good;

		for (int y = 0; y < H; y++)
			for (int x = 0; x < W; x++)
				for (int q = 0; q < ch; q++) {
					uint8_t s = (uint8_t)(y * 40 + x * 11 + q * 60 + 1);

					if (t[k].bd == 1)
						s = (uint8_t)((x + y) & 1);
					v[(y * W + x) * ch + q] = s;
					/* expected planar output: color channels only */
					if (t[k].ct == PNG_COLOR_TYPE_PALETTE) {
						want[y * W + x] = s;
						want[H * W + y * W + x] = (uint8_t)(255 - s);
						want[2 * H * W + y * W + x] = (uint8_t)(s * 3);
					} else if (q < t[k].cout) {
						want[q * H * W + y * W + x] =
							t[k].bd == 1 ? (uint8_t)(s * 255) : s;
					}
				}
		write_png_raw(tpath("t.png"), t[k].ct, t[k].bd, H, W, v, t[k].interlace);
		if (png_read_u8(tpath("t.png"), &pix, &c, &h, &w)) {
			ok(0, "png: read %s", t[k].name);
			continue;
		}
		good = c == t[k].cout && h == H && w == W &&
		       !memcmp(pix, want, (size_t)c * H * W);
		ok(good, "png: %s -> %d channel(s), pixels exact", t[k].name, t[k].cout);
		free(pix);
	}
}

static void test_png_io(void)
{
	uint8_t rgb[3 * 4 * 6], *pix;
	int c, h, w;
	FILE *fp;
	long size;
	unsigned char *buf;

	for (int i = 0; i < 3 * 4 * 6; i++)
		rgb[i] = (uint8_t)(i * 5);
	ok(png_write_u8(tpath("rgb.png"), rgb, 3, 4, 6) == 0, "png: write RGB");
	ok(png_read_u8(tpath("rgb.png"), &pix, &c, &h, &w) == 0 && c == 3 && h == 4 && w == 6 &&
	   !memcmp(pix, rgb, sizeof(rgb)), "png: RGB round trip exact");
	free(pix);
	ok(png_write_u8(tpath("g.png"), rgb, 1, 4, 6) == 0 &&
	   png_read_u8(tpath("g.png"), &pix, &c, &h, &w) == 0 && c == 1 &&
	   !memcmp(pix, rgb, 24), "png: gray round trip exact");
	free(pix);

	/* corrupt: flip bytes in the middle (IDAT / CRC), then truncate */
	fp = fopen(tpath("rgb.png"), "rb");
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)size);
	ok(fread(buf, 1, (size_t)size, fp) == (size_t)size, "png: reread");
	fclose(fp);
	for (long i = size / 2; i < size / 2 + 8; i++)
		buf[i] ^= 0x5a;
	write_file(tpath("bad.png"), buf, (size_t)size, 0);
	ok(png_read_u8(tpath("bad.png"), &pix, &c, &h, &w) < 0 && !pix,
	   "png: corrupt data refused");
	write_file(tpath("short.png"), buf, 40, 0);
	ok(png_read_u8(tpath("short.png"), &pix, &c, &h, &w) < 0, "png: truncated file refused");
	write_file(tpath("text.png"), "hello, not a png at all", 23, 0);
	ok(png_read_u8(tpath("text.png"), &pix, &c, &h, &w) < 0, "png: non-PNG refused");
	ok(png_read_u8(tpath("nope.png"), &pix, &c, &h, &w) < 0, "png: missing file refused");
	free(buf);
}

/* A gray or RGB image of h x w with a fill value. */
static void put_png(const char *rel, int c, int h, int w, int val)
{
	uint8_t *p = malloc((size_t)c * h * w);

	for (int i = 0; i < c * h * w; i++)
		p[i] = (uint8_t)(val + i);
	png_write_u8(tpath(rel), p, c, h, w);
	free(p);
}

static void test_pngdir(void)
{
	struct pngdir_opts o = { 0 };
	struct dataset_split tr, te;
	char **cls;
	int k;

	mkdir(tpath("pd"), 0755);
	mkdir(tpath("pd/zebra"), 0755);
	mkdir(tpath("pd/ant"), 0755);
	mkdir(tpath("pt"), 0755);
	mkdir(tpath("pt/zebra"), 0755);
	put_png("pd/zebra/b.png", 1, 4, 6, 100);
	put_png("pd/zebra/a.png", 1, 4, 6, 50);
	put_png("pd/ant/x.png", 1, 4, 6, 10);
	put_png("pt/zebra/q.png", 1, 4, 6, 70);
	write_file(tpath("pd/README"), "x", 1, 0);
	ok(pngdir_read(tpath("pd"), tpath("pt"), &o, &tr, &te, &cls, &k) == 0,
	   "pngdir: read a gray tree");
	ok(k == 2 && !strcmp(cls[0], "ant") && !strcmp(cls[1], "zebra"),
	   "pngdir: classes are the sorted folder names");
	ok(tr.n == 3 && tr.c == 1 && tr.h == 4 && tr.w == 6 && tr.labels[0] == 0 &&
	   tr.labels[1] == 1 && tr.labels[2] == 1 && split_image(&tr, 1)[0] == 50 &&
	   split_image(&tr, 2)[0] == 100, "pngdir: files sorted, labels by class");
	ok(te.n == 1 && te.labels[0] == 1 && split_image(&te, 0)[0] == 70,
	   "pngdir: test folder labelled with the training classes");
	split_free(&tr);
	split_free(&te);
	for (int i = 0; i < k; i++)
		free(cls[i]);
	free(cls);

	put_png("pd/ant/y.png", 3, 4, 6, 0);
	ok(pngdir_read(tpath("pd"), NULL, &o, &tr, &te, &cls, &k) == 0 && tr.c == 3 &&
	   te.n == 0 && te.c == 3 && te.h == 4, "pngdir: one RGB image makes it 3 channels");
	ok(tr.n == 4 && split_image(&tr, 0)[0] == 10 && split_image(&tr, 0)[24] == 10,
	   "pngdir: gray replicated to RGB");
	split_free(&tr);
	split_free(&te);
	for (int i = 0; i < k; i++)
		free(cls[i]);
	free(cls);
	o.channels = 1;
	ok(pngdir_read(tpath("pd"), NULL, &o, &tr, &te, &cls, &k) == 0 && tr.c == 1,
	   "pngdir: --channels 1 converts RGB to gray");
	split_free(&tr);
	split_free(&te);
	for (int i = 0; i < k; i++)
		free(cls[i]);
	free(cls);
	o.channels = 0;

	put_png("pd/zebra/c.png", 1, 5, 6, 0);
	ok(pngdir_read(tpath("pd"), NULL, &o, &tr, &te, &cls, &k) < 0 && !cls && !tr.images,
	   "pngdir: image of another size refused");
	o.resize_h = 8;
	o.resize_w = 8;
	ok(pngdir_read(tpath("pd"), NULL, &o, &tr, &te, &cls, &k) == 0 && tr.n == 5 &&
	   tr.h == 8 && tr.w == 8, "pngdir: --resize makes sizes agree");
	split_free(&tr);
	split_free(&te);
	for (int i = 0; i < k; i++)
		free(cls[i]);
	free(cls);
	o.resize_h = o.resize_w = 0;
	o.crop_h = 4;
	o.crop_w = 4;
	ok(pngdir_read(tpath("pd"), NULL, &o, &tr, &te, &cls, &k) == 0 && tr.n == 5 &&
	   tr.h == 4 && tr.w == 4, "pngdir: --crop makes sizes agree");
	split_free(&tr);
	split_free(&te);
	for (int i = 0; i < k; i++)
		free(cls[i]);
	free(cls);
	o.crop_h = o.crop_w = 5;
	ok(pngdir_read(tpath("pd"), NULL, &o, &tr, &te, &cls, &k) < 0,
	   "pngdir: crop larger than an image refused");
	o.crop_h = o.crop_w = 0;
	unlink(tpath("pd/zebra/c.png"));

	mkdir(tpath("pd/empty"), 0755);
	ok(pngdir_read(tpath("pd"), NULL, &o, &tr, &te, &cls, &k) < 0,
	   "pngdir: empty class folder refused");
	rmdir(tpath("pd/empty"));
	mkdir(tpath("pt/lion"), 0755);
	put_png("pt/lion/a.png", 1, 4, 6, 0);
	ok(pngdir_read(tpath("pd"), tpath("pt"), &o, &tr, &te, &cls, &k) < 0,
	   "pngdir: test class unknown to train refused");
	write_file(tpath("pd/ant/notes.txt"), "x", 1, 0);
	ok(pngdir_read(tpath("pd"), NULL, &o, &tr, &te, &cls, &k) < 0,
	   "pngdir: non-PNG file in a class folder refused");
	ok(pngdir_read(tpath("nowhere"), NULL, &o, &tr, &te, &cls, &k) < 0,
	   "pngdir: missing folder refused");
}

static void test_transforms(void)
{
	uint8_t in[16], out[64], want[4];
	uint8_t rgb[3] = { 255, 0, 0 }, g[3];
	int good = 1;

	for (int i = 0; i < 16; i++)
		in[i] = (uint8_t)(i * 10);
	image_resize(out, 2, 2, in, 1, 4, 4);
	for (int y = 0; y < 2; y++)
		for (int x = 0; x < 2; x++) {
			int s = in[(2 * y) * 4 + 2 * x] + in[(2 * y) * 4 + 2 * x + 1] +
				in[(2 * y + 1) * 4 + 2 * x] + in[(2 * y + 1) * 4 + 2 * x + 1];

			want[y * 2 + x] = (uint8_t)((s + 2) / 4);
		}
	ok(!memcmp(out, want, 4), "resize: 4x4 -> 2x2 is the 2x2 box mean");
	image_resize(out, 4, 4, in, 1, 4, 4);
	ok(!memcmp(out, in, 16), "resize: same size is the identity");
	memset(in, 77, sizeof(in));
	image_resize(out, 8, 7, in, 1, 4, 4);
	for (int i = 0; i < 56; i++)
		good &= out[i] == 77;
	ok(good, "resize: bilinear upsampling keeps a constant image constant");
	for (int i = 0; i < 16; i++)
		in[i] = (uint8_t)i;
	image_crop_center(out, in, 1, 4, 4, 2, 2);
	ok(out[0] == 5 && out[1] == 6 && out[2] == 9 && out[3] == 10, "crop: center 2x2 of 4x4");
	image_convert_channels(g, 1, rgb, 3, 1);
	ok(g[0] == 76, "channels: pure red -> luma 76");
	image_convert_channels(out, 3, in, 1, 16);
	ok(out[0] == 0 && out[16] == 0 && out[47] == 15, "channels: gray replicated to RGB");
}

static void fill_split(struct dataset_split *s, int n, int c, int h, int w)
{
	split_alloc(s, n, c, h, w);
	for (int i = 0; i < n; i++) {
		s->labels[i] = i % 3;
		for (int k = 0; k < c * h * w; k++)
			split_image(s, i)[k] = (uint8_t)(i * 31 + k * 7);
		split_image(s, i)[0] = (uint8_t)i; /* image i is identified by its first pixel */
	}
}

static void test_splits(void)
{
	struct dataset_split a, b, va, vb;
	unsigned char seen[100] = { 0 };
	int good = 1, sorted = 1, differ = 0;

	fill_split(&a, 100, 1, 2, 2);
	fill_split(&b, 100, 1, 2, 2);
	ok(split_holdout(&a, &va, 30, 7, 0) == 0 && split_holdout(&b, &vb, 30, 7, 0) == 0,
	   "holdout: 30 of 100");
	ok(a.n == 70 && va.n == 30 && !memcmp(a.images, b.images, 70 * 4) &&
	   !memcmp(va.images, vb.images, 30 * 4) && !memcmp(va.labels, vb.labels, 30 * 4),
	   "holdout: same seed, same split");
	for (int i = 0; i < a.n; i++)
		seen[split_image(&a, i)[0]]++;
	for (int i = 0; i < va.n; i++)
		seen[split_image(&va, i)[0]]++;
	for (int i = 0; i < 100; i++)
		good &= seen[i] == 1;
	for (int i = 1; i < va.n; i++)
		sorted &= split_image(&va, i)[0] > split_image(&va, i - 1)[0];
	for (int i = 0; i < va.n; i++)
		good &= va.labels[i] == split_image(&va, i)[0] % 3;
	ok(good, "holdout: train and valid are disjoint, cover everything, labels follow");
	ok(sorted, "holdout: source order kept");
	split_free(&b);
	split_free(&vb);
	fill_split(&b, 100, 1, 2, 2);
	split_holdout(&b, &vb, 30, 8, 0);
	for (int i = 0; i < 30; i++)
		differ |= split_image(&va, i)[0] != split_image(&vb, i)[0];
	ok(differ, "holdout: another seed, another split");
	split_free(&vb);
	ok(split_holdout(&b, &vb, 70, 1, 0) < 0, "holdout: count >= n refused");
	ok(split_subset(&a, 20, 7, 1) == 0 && a.n == 20, "subset: keep 20 of 70");
	ok(split_subset(&a, 21, 7, 1) < 0, "subset: more than n refused");
	split_free(&a);
	split_free(&b);
	split_free(&va);
	ok(split_holdout(&a, &va, 0, 1, 0) < 0, "holdout: empty train refused");
	fill_split(&a, 5, 1, 2, 2);
	ok(split_holdout(&a, &va, 0, 1, 0) == 0 && va.n == 0 && a.n == 5, "holdout: 0 is allowed");
	split_free(&a);
	split_free(&va);
}

static void test_stats(void)
{
	struct dataset d = { 0 };
	double s1[3] = { 0 }, s2[3] = { 0 };
	int n = 7, hw = 6;
	float m[3], sd[3];

	d.c = 3;
	fill_split(&d.train, n, 3, 2, 3);
	for (int i = 0; i < n; i++)
		for (int c = 0; c < 3; c++)
			for (int k = 0; k < hw; k++) {
				double x = split_image(&d.train, i)[c * hw + k] / 255.0;

				s1[c] += x;
				s2[c] += x * x;
			}
	for (int c = 0; c < 3; c++) {
		m[c] = (float)(s1[c] / (n * hw));
		sd[c] = (float)sqrt(s2[c] / (n * hw) - (s1[c] / (n * hw)) * (s1[c] / (n * hw)));
	}
	dataset_stats(&d);
	close_arrays("stats: mean per channel", d.mean, m, 3, 1e-6, 1e-7);
	close_arrays("stats: std per channel", d.std, sd, 3, 1e-5, 1e-7);
	ok(d.mean[3] == 0 && d.std[3] == 0, "stats: unused channel slots are zero");
	split_free(&d.train);
}

static void make_dataset(struct dataset *d)
{
	static char *names[3] = { "cat", "dog", "T-shirt/top" };

	memset(d, 0, sizeof(*d));
	d->num_classes = 3;
	d->classes = names;
	d->c = 1;
	d->h = 2;
	d->w = 3;
	fill_split(&d->train, 10, 1, 2, 3);
	fill_split(&d->valid, 4, 1, 2, 3);
	fill_split(&d->test, 5, 1, 2, 3);
	dataset_stats(d);
}

static void free_made(struct dataset *d)
{
	split_free(&d->train);
	split_free(&d->valid);
	split_free(&d->test);
}

/* A dataset file with one thing wrong, written through h5io directly. */
enum breakage { BAD_LABEL, BAD_RANK, BAD_DIMS, BAD_TYPE, BAD_COUNT, BAD_NCLASSES };

static void write_broken(const char *path, enum breakage b)
{
	struct h5f f;
	struct provenance p = { "test_dataset", 0, NULL, 1, 1 };
	const char *names[2] = { "a", "b" };
	uint8_t img[2 * 2 * 2] = { 0 };
	int32_t lab[3] = { 0, 1, b == BAD_LABEL ? 2 : 1 };
	float mean[1] = { 0.5f }, fl[2] = { 0 };
	hsize_t d4[4] = { 2, 1, 2, 2 }, d3[3] = { 2, 2, 2 }, d1[1] = { 2 }, dm[1] = { 1 };

	h5_create(&f, path, DATASET_FORMAT, DATASET_VERSION, &p);
	h5_attr_write_int(&f, "/", "num_classes", b == BAD_NCLASSES ? 0 : 2);
	h5_attr_write_int(&f, "/", "channels", 1);
	h5_attr_write_int(&f, "/", "height", 2);
	h5_attr_write_int(&f, "/", "width", b == BAD_DIMS ? 3 : 2);
	h5_write_strings(&f, "/classes", 2, names);
	h5_write(&f, "/mean", H5IO_F32, 1, dm, mean);
	h5_write(&f, "/std", H5IO_F32, 1, dm, mean);
	if (b == BAD_RANK)
		h5_write(&f, "/train/images", H5IO_U8, 3, d3, img);
	else
		h5_write(&f, "/train/images", H5IO_U8, 4, d4, img);
	if (b == BAD_TYPE) {
		h5_write(&f, "/train/labels", H5IO_F32, 1, d1, fl);
	} else if (b == BAD_COUNT) {
		d1[0] = 3;
		h5_write(&f, "/train/labels", H5IO_I32, 1, d1, lab);
	} else {
		h5_write(&f, "/train/labels", H5IO_I32, 1, d1, lab + 1);
	}
	h5_commit(&f);
}

static void test_file(void)
{
	struct dataset d, r;
	struct dataset_meta m = { "test", 5, 4 };
	struct provenance p = { "test_dataset", 0, NULL, 5, 1 };
	static const char *what[] = { "label out of range", "images of rank 3",
				      "images wider than the attributes", "float labels",
				      "label count mismatch", "num_classes 0" };

	make_dataset(&d);
	ok(dataset_write(tpath("d.h5"), &d, &m, &p) == 0, "file: write");
	ok(dataset_load(tpath("d.h5"), &r, DS_ALL) == 0, "file: load all splits");
	ok(r.num_classes == 3 && r.c == 1 && r.h == 2 && r.w == 3 &&
	   !strcmp(r.classes[2], "T-shirt/top") && r.mean[0] == d.mean[0] &&
	   r.std[0] == d.std[0], "file: attributes, classes, mean and std");
	ok(r.train.n == 10 && r.valid.n == 4 && r.test.n == 5 &&
	   !memcmp(r.train.images, d.train.images, 60) &&
	   !memcmp(r.test.labels, d.test.labels, 20) &&
	   !memcmp(r.valid.images, d.valid.images, 24), "file: every split round trips");
	dataset_free(&r);
	ok(dataset_load(tpath("d.h5"), &r, DS_TEST) == 0 && r.train.n == 0 && !r.train.images &&
	   r.test.n == 5, "file: load only the test split");
	dataset_free(&r);
	split_free(&d.valid);
	split_alloc(&d.valid, 0, 1, 2, 3);
	ok(dataset_write(tpath("e.h5"), &d, &m, &p) == 0 &&
	   dataset_load(tpath("e.h5"), &r, DS_ALL) == 0 && r.valid.n == 0,
	   "file: an empty valid split round trips");
	dataset_free(&r);
	free_made(&d);

	write_broken(tpath("ok.h5"), BAD_COUNT + 100);
	ok(dataset_load(tpath("ok.h5"), &r, DS_TRAIN) == 0, "file: hand-made file loads");
	dataset_free(&r);
	for (int b = 0; b <= BAD_NCLASSES; b++) {
		write_broken(tpath("bad.h5"), (enum breakage)b);
		ok(dataset_load(tpath("bad.h5"), &r, DS_TRAIN) < 0 && !r.train.images &&
		   !r.classes, "file: %s refused", what[b]);
	}
	write_file(tpath("junk.h5"), "not hdf5", 8, 0);
	ok(dataset_load(tpath("junk.h5"), &r, DS_ALL) < 0, "file: non-HDF5 refused");
	ok(dataset_load(tpath("none.h5"), &r, DS_ALL) < 0, "file: missing file refused");
}

int main(void)
{
	char cmd[300];

	progname = "test_dataset";
	h5_init();
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_dataset.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_idx();
	test_png_types();
	test_png_io();
	test_pngdir();
	test_transforms();
	test_splits();
	test_stats();
	test_file();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd))
		diag("could not remove %s", tmpdir);
	return tap_exit();
}
