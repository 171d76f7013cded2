/*
 * predict.c - image files to network inputs, and the lines of `predict`
 * (predict.h). The preprocessing is import-data's (channel conversion,
 * image_resize) followed by batch_fill's normalisation, so an image goes
 * through what the network was trained on.
 */
#include "predict.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset.h"
#include "transfer.h"
#include "util.h"

void pathlist_free(struct pathlist *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

static void pathlist_add(struct pathlist *l, char *p)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = xrealloc(l->v, sizeof *l->v * (size_t)l->cap);
	}
	l->v[l->n++] = p;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_png_name(const char *name)
{
	size_t len = strlen(name);

	return len > 4 && !strcasecmp(name + len - 4, ".png");
}

/* the PNGs under dir, depth first, each folder's entries in byte order */
static int walk(const char *dir, struct pathlist *l, int depth)
{
	DIR *d;
	struct dirent *e;
	struct pathlist names = { 0 };
	int rc = 0;

	if (depth > 64)
		return error("%s: folders nested too deep", dir);
	d = opendir(dir);
	if (!d)
		return error("%s:", dir);
	while ((errno = 0, e = readdir(d)))
		if (e->d_name[0] != '.')
			pathlist_add(&names, xstrdup(e->d_name));
	if (errno)
		rc = error("%s:", dir);
	closedir(d);
	if (names.n)
		qsort(names.v, (size_t)names.n, sizeof *names.v, cmp_str);
	for (int i = 0; i < names.n && rc == 0; i++) {
		struct stat st;
		char *p;

		if (asprintf(&p, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
			     names.v[i]) < 0)
			return error("out of memory");
		if (stat(p, &st) < 0) {
			rc = error("%s:", p);
			free(p);
		} else if (S_ISDIR(st.st_mode)) {
			rc = walk(p, l, depth + 1);
			free(p);
		} else if (S_ISREG(st.st_mode) && is_png_name(names.v[i])) {
			pathlist_add(l, p);
		} else {
			free(p);
		}
	}
	pathlist_free(&names);
	return rc;
}

int predict_collect(const char *path, struct pathlist *l)
{
	struct stat st;
	int before = l->n;

	if (stat(path, &st) < 0)
		return error("%s:", path);
	if (!S_ISDIR(st.st_mode)) {
		pathlist_add(l, xstrdup(path));
		return 0;
	}
	if (walk(path, l, 0) < 0)
		return -1;
	if (l->n == before)
		return error("%s: no PNG images in this folder", path);
	return 0;
}

int predict_image(float *out, float *raw, const char *path, const struct macro_config *m,
		  const struct netfile_meta *meta)
{
	uint8_t *pix = NULL, *conv = NULL, *sized = NULL;
	const uint8_t *p;
	int c, h, w, C = m->in_c, H = m->in_h, W = m->in_w;

	if (png_read_u8(path, &pix, &c, &h, &w) < 0)
		return -1;
	p = pix;
	if (c != C) {
		if (!((c == 1 && C == 3) || (c == 3 && C == 1))) {
			free(pix);
			return error("%s: image has %d channels, the network takes %d", path, c, C);
		}
		conv = xmalloc((size_t)C * h * w);
		image_convert_channels(conv, C, pix, c, h * w);
		p = conv;
	}
	if (h != H || w != W) {
		sized = xmalloc((size_t)C * H * W);
		image_resize(sized, H, W, p, C, h, w);
		p = sized;
	}
	/* batch_fill's arithmetic, so the numbers are the ones the network saw */
	for (int ch = 0; ch < C; ch++) {
		float scale = 1.0f / (255.0f * meta->std[ch]), shift = meta->mean[ch] / meta->std[ch];

		for (long i = 0; i < (long)H * W; i++) {
			float v = p[(long)ch * H * W + i];

			out[(long)ch * H * W + i] = v * scale - shift;
			if (raw)
				raw[(long)ch * H * W + i] = v;
		}
	}
	free(pix);
	free(conv);
	free(sized);
	return 0;
}

/* a CSV field: quoted when it holds a comma, a quote or a line break */
static void put_field(FILE *f, const char *s, int csv)
{
	if (!csv || !strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void predict_header(FILE *f, const struct netfile_meta *meta, const struct predict_opts *o)
{
	if (!o->csv)
		return;
	fputs("path", f);
	if (o->mode == PREDICT_LOGITS) {
		for (int k = 0; k < meta->nclasses; k++) {
			fputc(',', f);
			put_field(f, meta->classes[k], 1);
		}
	} else if (o->top == 1) {
		fputs(",class,probability", f);
	} else {
		for (int i = 1; i <= o->top; i++)
			fprintf(f, ",class_%d,probability_%d", i, i);
	}
	fputc('\n', f);
}

void predict_print(FILE *f, const char *path, const float *logits, int K,
		   const struct netfile_meta *meta, const struct predict_opts *o)
{
	const char sep = o->csv ? ',' : '\t';

	put_field(f, path, o->csv);
	if (o->mode == PREDICT_LOGITS) {
		for (int k = 0; k < K; k++)
			fprintf(f, "%c%.9g", sep, (double)logits[k]);
	} else {
		double mx = logits[0], sum = 0;
		int *used = xcalloc((size_t)K, sizeof *used);

		for (int k = 1; k < K; k++)
			if (logits[k] > mx)
				mx = logits[k];
		for (int k = 0; k < K; k++)
			sum += exp((double)logits[k] - mx);
		for (int i = 0; i < o->top && i < K; i++) {
			int best = -1;

			/* the first of equal logits wins, as in evaluate() */
			for (int k = 0; k < K; k++)
				if (!used[k] && (best < 0 || logits[k] > logits[best]))
					best = k;
			used[best] = 1;
			fputc(sep, f);
			put_field(f, meta->classes[best], o->csv);
			fprintf(f, "%c%.6f", sep, exp((double)logits[best] - mx) / sum);
		}
		free(used);
	}
	fputc('\n', f);
}

int predict_best_transferred(const char *out, char *path, size_t n, double *test_accuracy)
{
	struct transfer_row *rows = NULL;
	char results[4096];
	int count = 0, best = -1;

	if (snprintf(results, sizeof results, "%s/results.h5", out) >= (int)sizeof results)
		return error("%s: path too long", out);
	if (access(results, F_OK) < 0)
		return error("%s: no transfer results (run make transfer first)", results);
	if (transfer_rows_read(results, &rows, &count) < 0)
		return -1;
	for (int i = 0; i < count; i++)
		if (!strcmp(rows[i].status, "ok") && isfinite(rows[i].test_accuracy) &&
		    (best < 0 || rows[i].test_accuracy > rows[best].test_accuracy))
			best = i;
	if (best < 0) {
		free(rows);
		return error("%s: no network finished training", results);
	}
	*test_accuracy = rows[best].test_accuracy;
	if (snprintf(path, n, "%s/%s/genotype.weights.h5", out, rows[best].name) >= (int)n) {
		free(rows);
		return error("%s: path too long", out);
	}
	free(rows);
	return 0;
}
