/*
 * pngdir.c - PNG images with libpng, and folders of them (DIR/<class>/<name>.png).
 *
 * png_read_u8() decodes any PNG (gray 1..16 bit, gray+alpha, RGB, RGBA,
 * palette, interlaced) to 8-bit gray or RGB through libpng's transforms:
 * 16-bit is stripped to 8, palettes expanded to RGB, low-depth gray expanded,
 * alpha (and tRNS transparency) dropped. libpng's errors are caught with
 * setjmp and turned into one error() line naming the file; its warnings are
 * dropped. All state that must survive a longjmp lives in a heap struct.
 *
 * pngdir_read() takes class names from the sorted subfolder names (byte
 * order, hidden entries skipped, plain files at the top ignored) and files
 * in byte order; every other entry inside a class folder is an error, as is
 * an empty class folder. Images are optionally center-cropped, then
 * resampled; without resampling they must all have the size of the first.
 */
#include <dirent.h>
#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "dataset.h"
#include "util.h"

#define PNG_MAX_PIXELS (1L << 28) /* one image, width x height */

struct png_job {
	const char *path;
	FILE *fp;
	png_structp png;
	png_infop info;
	uint8_t *inter;   /* (h, w, c) interleaved rows */
	png_bytep *rows;  /* (h) */
	char msg[200];
};

static void job_error(png_structp png, png_const_charp msg)
{
	struct png_job *j = png_get_error_ptr(png);

	snprintf(j->msg, sizeof(j->msg), "%s", msg);
	png_longjmp(png, 1);
}

static void job_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

static void job_free(struct png_job *j, int writing)
{
	if (j->png) {
		if (writing)
			png_destroy_write_struct(&j->png, &j->info);
		else
			png_destroy_read_struct(&j->png, &j->info, NULL);
	}
	if (j->fp)
		fclose(j->fp);
	free(j->inter);
	free(j->rows);
	free(j);
}

/* Interleaved (h, w, c) <-> planar (c, h, w). */
static void to_planar(uint8_t *out, const uint8_t *in, int c, long hw)
{
	for (int ch = 0; ch < c; ch++)
		for (long i = 0; i < hw; i++)
			out[ch * hw + i] = in[i * c + ch];
}

static void to_interleaved(uint8_t *out, const uint8_t *in, int c, long hw)
{
	for (int ch = 0; ch < c; ch++)
		for (long i = 0; i < hw; i++)
			out[i * c + ch] = in[ch * hw + i];
}

int png_read_u8(const char *path, uint8_t **pix, int *c, int *h, int *w)
{
	struct png_job *j = xcalloc(1, sizeof(*j));
	unsigned char sig[8];
	png_uint_32 pw, ph;
	int ct, bd, ch;

	*pix = NULL;
	j->path = path;
	j->fp = fopen(path, "rb");
	if (!j->fp) {
		error("%s:", path);
		goto fail;
	}
	if (fread(sig, 1, 8, j->fp) != 8 || png_sig_cmp(sig, 0, 8)) {
		error("%s: not a PNG file", path);
		goto fail;
	}
	j->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, j, job_error, job_warning);
	if (!j->png || !(j->info = png_create_info_struct(j->png))) {
		error("%s: cannot initialise libpng", path);
		goto fail;
	}
	if (setjmp(png_jmpbuf(j->png))) {
		error("%s: corrupt PNG: %s", path, feof(j->fp) ? "truncated file" : j->msg);
		goto fail;
	}
	png_init_io(j->png, j->fp);
	png_set_sig_bytes(j->png, 8);
	png_read_info(j->png, j->info);
	pw = png_get_image_width(j->png, j->info);
	ph = png_get_image_height(j->png, j->info);
	ct = png_get_color_type(j->png, j->info);
	bd = png_get_bit_depth(j->png, j->info);
	if (pw > DATASET_MAX_SIDE || ph > DATASET_MAX_SIDE || (long)pw * ph > PNG_MAX_PIXELS) {
		error("%s: image of %ux%u pixels is too large", path, (unsigned)ph, (unsigned)pw);
		goto fail;
	}
	if (bd == 16)
		png_set_strip_16(j->png);
	if (ct == PNG_COLOR_TYPE_PALETTE)
		png_set_palette_to_rgb(j->png);
	if (ct == PNG_COLOR_TYPE_GRAY && bd < 8)
		png_set_expand_gray_1_2_4_to_8(j->png);
	/* palette expansion turns tRNS into an alpha channel: drop it too */
	if ((ct & PNG_COLOR_MASK_ALPHA) || png_get_valid(j->png, j->info, PNG_INFO_tRNS))
		png_set_strip_alpha(j->png);
	png_set_interlace_handling(j->png);
	png_read_update_info(j->png, j->info);
	ch = png_get_channels(j->png, j->info);
	if ((ch != 1 && ch != 3) || png_get_bit_depth(j->png, j->info) != 8 ||
	    png_get_rowbytes(j->png, j->info) != (size_t)pw * ch) {
		error("%s: unsupported PNG layout (color type %d, depth %d)", path, ct, bd);
		goto fail;
	}
	j->inter = xmalloc((size_t)pw * ph * ch);
	j->rows = xmalloc((size_t)ph * sizeof(png_bytep));
	for (png_uint_32 y = 0; y < ph; y++)
		j->rows[y] = j->inter + (size_t)y * pw * ch;
	png_read_image(j->png, j->rows);
	png_read_end(j->png, NULL);
	*pix = xmalloc((size_t)pw * ph * ch);
	to_planar(*pix, j->inter, ch, (long)pw * ph);
	*c = ch;
	*h = (int)ph;
	*w = (int)pw;
	job_free(j, 0);
	return 0;
fail:
	job_free(j, 0);
	return -1;
}

int png_write_u8(const char *path, const uint8_t *pix, int c, int h, int w)
{
	struct png_job *j = xcalloc(1, sizeof(*j));

	if (c != 1 && c != 3) {
		error("%s: cannot write %d channels as PNG", path, c);
		goto fail;
	}
	j->fp = fopen(path, "wb");
	if (!j->fp) {
		error("%s:", path);
		goto fail;
	}
	j->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, j, job_error, job_warning);
	if (!j->png || !(j->info = png_create_info_struct(j->png))) {
		error("%s: cannot initialise libpng", path);
		goto fail;
	}
	j->inter = xmalloc((size_t)c * h * w + 1);
	j->rows = xmalloc((size_t)h * sizeof(png_bytep) + 1);
	to_interleaved(j->inter, pix, c, (long)h * w);
	for (int y = 0; y < h; y++)
		j->rows[y] = j->inter + (size_t)y * w * c;
	if (setjmp(png_jmpbuf(j->png))) {
		error("%s: %s", path, j->msg);
		goto fail;
	}
	png_init_io(j->png, j->fp);
	png_set_IHDR(j->png, j->info, (png_uint_32)w, (png_uint_32)h, 8,
		     c == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(j->png, j->info);
	png_write_image(j->png, j->rows);
	png_write_end(j->png, NULL);
	if (fflush(j->fp) || ferror(j->fp)) {
		error("%s:", path);
		goto fail;
	}
	job_free(j, 1);
	return 0;
fail:
	job_free(j, 1);
	return -1;
}

/* ---- folders ---- */

struct names {
	char **v;
	int n;
};

static void names_free(struct names *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = xmalloc(a + b + 2);

	memcpy(p, dir, a);
	p[a] = '/';
	memcpy(p + a + 1, name, b + 1);
	return p;
}

/*
 * Sorted non-hidden entries of dir. want_dirs: subfolders only (other
 * entries skipped); else regular *.png files only (anything else an error).
 */
static int list_dir(const char *dir, int want_dirs, struct names *out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int ret = 0;

	out->v = NULL;
	out->n = 0;
	if (!d)
		return error("%s:", dir);
	while ((errno = 0, e = readdir(d))) {
		char *p;
		struct stat st;
		size_t len = strlen(e->d_name);

		if (e->d_name[0] == '.')
			continue;
		p = join(dir, e->d_name);
		if (stat(p, &st)) {
			ret = error("%s:", p);
			free(p);
			break;
		}
		if (want_dirs && !S_ISDIR(st.st_mode)) {
			free(p);
			continue;
		}
		if (!want_dirs && (!S_ISREG(st.st_mode) || len < 5 ||
				   strcasecmp(e->d_name + len - 4, ".png"))) {
			ret = error("%s: not a .png file", p);
			free(p);
			break;
		}
		free(p);
		out->v = xrealloc(out->v, (size_t)(out->n + 1) * sizeof(char *));
		out->v[out->n++] = xstrdup(e->d_name);
	}
	if (!ret && errno)
		ret = error("%s:", dir);
	closedir(d);
	if (ret) {
		names_free(out);
		return -1;
	}
	if (out->n)
		qsort(out->v, (size_t)out->n, sizeof(char *), cmp_str);
	return 0;
}

/* Decoded images of one split before packing. */
struct imglist {
	uint8_t **pix;  /* each (c[i], h, w) */
	int *c;
	int32_t *label;
	int n;
	int h, w;       /* size of every image (that of the first) */
	char *first;    /* path of the first image, for messages */
};

static void imglist_free(struct imglist *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->pix[i]);
	free(l->pix);
	free(l->c);
	free(l->label);
	free(l->first);
	memset(l, 0, sizeof(*l));
}

/* Decode, crop, resample one file and add it to l. */
static int add_image(struct imglist *l, const char *path, int label, const struct pngdir_opts *o)
{
	uint8_t *pix, *t;
	int c, h, w;

	if (png_read_u8(path, &pix, &c, &h, &w))
		return -1;
	if (o->crop_h) {
		if (h < o->crop_h || w < o->crop_w) {
			free(pix);
			return error("%s: image is %dx%d, smaller than the crop %dx%d", path, h, w,
				     o->crop_h, o->crop_w);
		}
		t = xmalloc((size_t)c * o->crop_h * o->crop_w);
		image_crop_center(t, pix, c, h, w, o->crop_h, o->crop_w);
		free(pix);
		pix = t;
		h = o->crop_h;
		w = o->crop_w;
	}
	if (o->resize_h && (h != o->resize_h || w != o->resize_w)) {
		t = xmalloc((size_t)c * o->resize_h * o->resize_w);
		image_resize(t, o->resize_h, o->resize_w, pix, c, h, w);
		free(pix);
		pix = t;
		h = o->resize_h;
		w = o->resize_w;
	}
	if (l->first && (h != l->h || w != l->w)) {
		free(pix);
		return error("%s: image is %dx%d, but %s is %dx%d (use --resize or --crop)", path,
			     h, w, l->first, l->h, l->w);
	}
	if (!l->first) {
		l->first = xstrdup(path);
		l->h = h;
		l->w = w;
	}
	if ((long)(l->n + 1) * 3 * h * w > DATASET_MAX_ELEMS) {
		free(pix);
		return error("%s: more than %ld pixels in one split", path, DATASET_MAX_ELEMS);
	}
	l->pix = xrealloc(l->pix, (size_t)(l->n + 1) * sizeof(*l->pix));
	l->c = xrealloc(l->c, (size_t)(l->n + 1) * sizeof(*l->c));
	l->label = xrealloc(l->label, (size_t)(l->n + 1) * sizeof(*l->label));
	l->pix[l->n] = pix;
	l->c[l->n] = c;
	l->label[l->n++] = label;
	return 0;
}

static int find_class(const struct names *classes, const char *name)
{
	char **hit = bsearch(&name, classes->v, (size_t)classes->n, sizeof(char *), cmp_str);

	return hit ? (int)(hit - classes->v) : -1;
}

/* Read every DIR/<class>/<name>.png; `classes` is NULL for train (use dir's own). */
static int read_tree(const char *dir, const struct names *classes, const struct pngdir_opts *o,
		     struct imglist *l)
{
	struct names sub, files;

	if (list_dir(dir, 1, &sub))
		return -1;
	if (sub.n == 0) {
		names_free(&sub);
		return error("%s: no class folders", dir);
	}
	for (int k = 0; k < sub.n; k++) {
		char *cdir = join(dir, sub.v[k]);
		int label = classes ? find_class(classes, sub.v[k]) : k;

		if (label < 0) {
			error("%s: class '%s' is not a class of the training folder", cdir,
			      sub.v[k]);
			goto fail_cdir;
		}
		if (list_dir(cdir, 0, &files))
			goto fail_cdir;
		if (files.n == 0) {
			error("%s: empty class folder (no .png files)", cdir);
			goto fail_cdir;
		}
		for (int i = 0; i < files.n; i++) {
			char *p = join(cdir, files.v[i]);
			int r = add_image(l, p, label, o);

			free(p);
			if (r) {
				names_free(&files);
				goto fail_cdir;
			}
		}
		names_free(&files);
		free(cdir);
		continue;
fail_cdir:
		free(cdir);
		names_free(&sub);
		return -1;
	}
	names_free(&sub);
	return 0;
}

static void pack(struct dataset_split *s, const struct imglist *l, int c)
{
	long hw = (long)l->h * l->w;

	split_alloc(s, l->n, c, l->h, l->w);
	for (int i = 0; i < l->n; i++) {
		image_convert_channels(split_image(s, i), c, l->pix[i], l->c[i], (int)hw);
		s->labels[i] = l->label[i];
	}
}

int pngdir_read(const char *train_dir, const char *test_dir, const struct pngdir_opts *o,
		struct dataset_split *train, struct dataset_split *test, char ***classes,
		int *nclasses)
{
	struct imglist tr = { 0 }, te = { 0 };
	struct names cls;
	int c = o->channels;

	memset(train, 0, sizeof(*train));
	memset(test, 0, sizeof(*test));
	*classes = NULL;
	*nclasses = 0;
	if (list_dir(train_dir, 1, &cls))
		return -1;
	if (read_tree(train_dir, NULL, o, &tr))
		goto fail;
	if (test_dir) {
		if (read_tree(test_dir, &cls, o, &te))
			goto fail;
		if (te.h != tr.h || te.w != tr.w) {
			error("%s: test images are %dx%d, training images %dx%d", te.first, te.h,
			      te.w, tr.h, tr.w);
			goto fail;
		}
	}
	if (!c) {
		c = 1;
		for (int i = 0; i < tr.n; i++)
			c = tr.c[i] == 3 ? 3 : c;
		for (int i = 0; i < te.n; i++)
			c = te.c[i] == 3 ? 3 : c;
	}
	pack(train, &tr, c);
	pack(test, &te, c);
	if (!test_dir) {
		test->c = c;
		test->h = tr.h;
		test->w = tr.w;
	}
	imglist_free(&tr);
	imglist_free(&te);
	*classes = cls.v;
	*nclasses = cls.n;
	return 0;
fail:
	imglist_free(&tr);
	imglist_free(&te);
	names_free(&cls);
	return -1;
}
