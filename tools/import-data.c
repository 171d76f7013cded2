/*
 * import-data - write a nasnet-c/dataset file from IDX, CIFAR or PNG folders.
 *
 * Reads the source's train and test images (lib/io/idx.c, cifar.c, pngdir.c),
 * converts channels, crops and resamples, holds a seeded random `--valid`
 * subset of the training images out as /valid, optionally keeps a seeded
 * `--train-subset` of the rest, computes per-channel mean/std on the final
 * train split and writes everything atomically (schemas/dataset.md).
 * Nothing is created until every input has been read and checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dataset.h"
#include "util.h"

enum {
	OPT_TRAIN_IMAGES = OPT_TOOL_BASE, OPT_TRAIN_LABELS, OPT_TEST_IMAGES, OPT_TEST_LABELS,
	OPT_TRAIN, OPT_TEST, OPT_COARSE, OPT_CLASSES, OPT_CLASSES_FILE, OPT_TEST_DIR,
	OPT_CHANNELS, OPT_RESIZE, OPT_CROP, OPT_DOWNSAMPLE, OPT_VALID, OPT_TRAIN_SUBSET, OPT_KEEP_CLASSES,
};

static const struct option long_opts[] = {
	CLI_COMMON_LONGOPTS,
	{ "train-images", required_argument, NULL, OPT_TRAIN_IMAGES },
	{ "train-labels", required_argument, NULL, OPT_TRAIN_LABELS },
	{ "test-images", required_argument, NULL, OPT_TEST_IMAGES },
	{ "test-labels", required_argument, NULL, OPT_TEST_LABELS },
	{ "train", required_argument, NULL, OPT_TRAIN },
	{ "test", required_argument, NULL, OPT_TEST },
	{ "coarse", no_argument, NULL, OPT_COARSE },
	{ "classes", required_argument, NULL, OPT_CLASSES },
	{ "classes-file", required_argument, NULL, OPT_CLASSES_FILE },
	{ "test-dir", required_argument, NULL, OPT_TEST_DIR },
	{ "channels", required_argument, NULL, OPT_CHANNELS },
	{ "resize", required_argument, NULL, OPT_RESIZE },
	{ "size", required_argument, NULL, OPT_RESIZE },
	{ "crop", required_argument, NULL, OPT_CROP },
	{ "downsample", required_argument, NULL, OPT_DOWNSAMPLE },
	{ "valid", required_argument, NULL, OPT_VALID },
	{ "train-subset", required_argument, NULL, OPT_TRAIN_SUBSET },
	{ "keep-classes", required_argument, NULL, OPT_KEEP_CLASSES },
	{ "output", required_argument, NULL, 'o' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: import-data idx --train-images F --train-labels F --test-images F\n"
		"                       --test-labels F [--classes A,B,...] [options] -o OUT\n"
		"       import-data cifar10 --train F [F...] --test F [--classes-file F] [options] -o OUT\n"
		"       import-data cifar100 --train F --test F [--coarse] [--classes-file F] ... -o OUT\n"
		"       import-data png DIR [--test-dir DIR] [--channels 1|3] [options] -o OUT\n"
		"\n"
		"Write a nasnet-c/dataset file (schemas/dataset.md): /train, /valid, /test with\n"
		"uint8 (N,C,H,W) images and int32 labels, class names, per-channel mean/std.\n"
		"IDX files may be gzipped. CIFAR batches are the binary versions (data_batch_1.bin\n"
		"...); extra arguments after the source are more --train batches. PNG folders hold\n"
		"one sub-folder per class (sorted names are the classes) of *.png files.\n"
		"\n"
		"Sources:\n"
		"      --train-images F, --train-labels F, --test-images F, --test-labels F  (idx)\n"
		"      --train F        a training batch (cifar; repeat, or list several)\n"
		"      --test F         the test batch (cifar; may be repeated)\n"
		"      --coarse         cifar100: use the 20 coarse labels, not the 100 fine ones\n"
		"      --classes A,B,.. class names, in label order (idx, cifar; default \"0\",\"1\",...)\n"
		"      --classes-file F one class name per line (e.g. batches.meta.txt)\n"
		"      --test-dir DIR   png: test images, DIR/<class>/<name>.png\n"
		"Transforms (in this order):\n"
		"      --channels 1|3   convert (RGB->gray: Rec.601 luma); default: keep (png: 3\n"
		"                       unless every image is gray)\n"
		"      --crop HxW       center crop (error if an image is smaller)\n"
		"      --resize HxW     resample (area when shrinking, bilinear when growing);\n"
		"                       alias --size; with png, images may differ in size\n"
		"      --downsample K   box filter by an integer factor K (H, W divisible by K)\n"
		"Splits:\n"
		"      --valid N        hold out N random training images as /valid (default 5000;\n"
		"                       0 for none; fewer than the training images)\n"
		"      --train-subset N keep N random images of the remaining train (search proxy)\n"
		"      --keep-classes L keep only these labels (comma-separated, e.g. 1,8), relabelled\n"
		"                       0.. in the order given (small tasks, tests)\n"
		"  -o, --output FILE    the dataset file (written atomically)\n"
		CLI_COMMON_HELP_TEXT
		"\n"
		"--seed draws the valid split and the subset. Prints one summary line on stdout\n"
		"(unless --quiet): output, counts, C x H x W, classes. Progress goes to stderr.\n"
		"A missing, truncated or invalid input file exits 3; counts or sizes that do not\n"
		"fit the data (--valid, --train-subset, --crop, --downsample) exit 2; a failed\n"
		"write exits 1. No output or temporary file is left behind on failure.\n"
		CLI_EXIT_CODES_TEXT);
}

struct args {
	const char *kind;
	const char *train_images, *train_labels, *test_images, *test_labels;
	const char **train, **test;
	int ntrain, ntest;
	int coarse;
	const char *classes, *classes_file, *test_dir, *png_dir, *out;
	int channels, crop_h, crop_w, resize_h, resize_w, downsample;
	long valid, subset;
	const char *keep;
};

/* Keep the images whose label is in `list` (e.g. "1,8"); label list[j] becomes j. */
static int keep_classes(struct dataset *d, const char *list)
{
	int map[DATASET_MAX_CLASSES > 4096 ? 4096 : DATASET_MAX_CLASSES], k = 0;
	char **names;
	const char *p = list;
	struct dataset_split *splits[2] = { &d->train, &d->test };

	for (int i = 0; i < (int)(sizeof map / sizeof *map); i++)
		map[i] = -1;
	while (*p) {
		char *end;
		long v = strtol(p, &end, 10);

		if (end == p || v < 0 || v >= d->num_classes || v >= (long)(sizeof map / sizeof *map) ||
		    map[v] >= 0 || (*end && *end != ','))
			return error("invalid --keep-classes '%s' (distinct labels 0..%d, comma-separated)",
				     list, d->num_classes - 1);
		map[v] = k++;
		p = *end ? end + 1 : end;
	}
	if (k < 2)
		return error("invalid --keep-classes '%s' (at least two classes)", list);
	names = xcalloc((size_t)k + 1, sizeof *names);
	for (int i = 0; i < d->num_classes; i++) {
		if (i < (int)(sizeof map / sizeof *map) && map[i] >= 0)
			names[map[i]] = d->classes[i];
		else
			free(d->classes[i]);
	}
	free(d->classes);
	d->classes = names;
	d->num_classes = k;
	for (int s = 0; s < 2; s++) {
		struct dataset_split *src = splits[s], dst;
		long per = (long)src->c * src->h * src->w;
		int n = 0;

		for (int i = 0; i < src->n; i++)
			n += map[src->labels[i]] >= 0;
		split_alloc(&dst, n, src->c, src->h, src->w);
		n = 0;
		for (int i = 0; i < src->n; i++) {
			if (map[src->labels[i]] < 0)
				continue;
			memcpy(split_image(&dst, n), split_image(src, i), (size_t)per);
			dst.labels[n++] = map[src->labels[i]];
		}
		split_free(src);
		*src = dst;
	}
	return 0;
}

static int parse_hw(const char *flag, const char *s, int *h, int *w)
{
	int d[2];

	if (parse_dims(s, d, 2) != 2 || d[0] > DATASET_MAX_SIDE || d[1] > DATASET_MAX_SIDE)
		return error("invalid %s '%s' (expected HxW, e.g. 32x32)", flag, s);
	*h = d[0];
	*w = d[1];
	return 0;
}

static void push(const char ***v, int *n, const char *s)
{
	*v = xrealloc(*v, (size_t)(*n + 1) * sizeof(**v));
	(*v)[(*n)++] = s;
}

/* Comma-separated names; returns count or -1. */
static int split_names(const char *list, char ***out)
{
	char *copy = xstrdup(list), *p = copy, *comma;
	int n = 0;

	*out = NULL;
	do {
		comma = strchr(p, ',');
		if (comma)
			*comma = 0;
		if (!*p || n == DATASET_MAX_CLASSES) {
			for (int i = 0; i < n; i++)
				free((*out)[i]);
			free(*out);
			free(copy);
			*out = NULL;
			return error("invalid --classes '%s' (empty name or too many)", list);
		}
		*out = xrealloc(*out, (size_t)(n + 1) * sizeof(char *));
		(*out)[n++] = xstrdup(p);
		p = comma + 1;
	} while (comma);
	free(copy);
	return n;
}

/* Largest label + 1 over train and test. */
static int label_span(const struct dataset *d)
{
	int k = 0;

	for (int i = 0; i < d->train.n; i++)
		k = d->train.labels[i] >= k ? d->train.labels[i] + 1 : k;
	for (int i = 0; i < d->test.n; i++)
		k = d->test.labels[i] >= k ? d->test.labels[i] + 1 : k;
	return k;
}

/* Set d->classes / num_classes for idx and cifar (fixed_k 0: from labels). Exit code or 0. */
static int set_classes(const struct args *a, struct dataset *d, int fixed_k)
{
	int k = fixed_k ? fixed_k : label_span(d);
	int n;

	if (a->classes) {
		n = split_names(a->classes, &d->classes);
		if (n < 0)
			return EXIT_USAGE;
		d->num_classes = n;
		if (fixed_k && n != fixed_k) {
			error("--classes gives %d names, the source has %d classes", n, fixed_k);
			return EXIT_USAGE;
		}
		if (n < k) {
			error("%s: label %d needs at least %d class names, --classes gives %d",
			      a->train_labels ? a->train_labels : "labels", k - 1, k, n);
			return EXIT_BADINPUT;
		}
	} else if (a->classes_file) {
		if (read_lines(a->classes_file, &d->classes, &n))
			return EXIT_BADINPUT;
		d->num_classes = n;
		if (n < k || (fixed_k && n != fixed_k)) {
			error("%s: %d class names, the data has %d classes", a->classes_file, n, k);
			return EXIT_BADINPUT;
		}
	} else {
		if (k < 1) {
			error("no labels");
			return EXIT_BADINPUT;
		}
		d->classes = xcalloc((size_t)k, sizeof(char *));
		d->num_classes = k;
		for (int i = 0; i < k; i++) {
			char buf[16];

			snprintf(buf, sizeof(buf), "%d", i);
			d->classes[i] = xstrdup(buf);
		}
	}
	return 0;
}

/* Append ", name" (or " name" after the "kind:" prefix) to the source text. */
static void add_source(char *buf, size_t n, const char *name)
{
	size_t used = strlen(buf);

	if (used + 1 < n)
		snprintf(buf + used, n - used, "%s%s", buf[used - 1] == ':' ? " " : ", ", name);
}

/* Read the source into d->train, d->test and the classes; exit code or 0. */
static int read_source(const struct args *a, struct dataset *d, char *src, size_t srcn)
{
	struct dataset_split *tr = &d->train, *te = &d->test;

	snprintf(src, srcn, "%s:", a->kind);
	if (!strcmp(a->kind, "idx")) {
		if (idx_read_split(a->train_images, a->train_labels, tr) ||
		    idx_read_split(a->test_images, a->test_labels, te))
			return EXIT_BADINPUT;
		if (tr->h != te->h || tr->w != te->w) {
			error("%s: images are %dx%d, training images %dx%d", a->test_images,
			      te->h, te->w, tr->h, tr->w);
			return EXIT_BADINPUT;
		}
		add_source(src, srcn, a->train_images);
		add_source(src, srcn, a->train_labels);
		add_source(src, srcn, a->test_images);
		add_source(src, srcn, a->test_labels);
		return set_classes(a, d, 0);
	}
	if (!strcmp(a->kind, "cifar10") || !strcmp(a->kind, "cifar100")) {
		int c100 = !strcmp(a->kind, "cifar100");
		int lb = c100 ? 2 : 1, use = c100 && !a->coarse ? 1 : 0;
		int k = c100 ? (a->coarse ? 20 : 100) : 10;

		for (int i = 0; i < a->ntrain; i++) {
			if (cifar_read_batch(a->train[i], lb, use, k, tr))
				return EXIT_BADINPUT;
			add_source(src, srcn, a->train[i]);
		}
		for (int i = 0; i < a->ntest; i++) {
			if (cifar_read_batch(a->test[i], lb, use, k, te))
				return EXIT_BADINPUT;
			add_source(src, srcn, a->test[i]);
		}
		return set_classes(a, d, k);
	}
	{
		struct pngdir_opts o = { a->channels, a->crop_h, a->crop_w, a->resize_h,
					 a->resize_w };

		if (pngdir_read(a->png_dir, a->test_dir, &o, tr, te, &d->classes,
				&d->num_classes))
			return EXIT_BADINPUT;
		add_source(src, srcn, a->png_dir);
		if (a->test_dir)
			add_source(src, srcn, a->test_dir);
	}
	return 0;
}

/* Channels, crop, resize (non-png: png did them per image), downsample. */
static int transform(const struct args *a, struct dataset_split *s)
{
	int png = !strcmp(a->kind, "png");

	if (!png && a->channels && split_convert_channels(s, a->channels))
		return EXIT_USAGE;
	if (!png && a->crop_h && split_crop(s, a->crop_h, a->crop_w))
		return EXIT_USAGE;
	if (!png && a->resize_h && split_resize(s, a->resize_h, a->resize_w))
		return EXIT_USAGE;
	if (a->downsample > 1) {
		if (s->h % a->downsample || s->w % a->downsample) {
			error("--downsample %d: %dx%d images are not divisible by %d (use --resize)",
			      a->downsample, s->h, s->w, a->downsample);
			return EXIT_USAGE;
		}
		if (split_resize(s, s->h / a->downsample, s->w / a->downsample))
			return EXIT_USAGE;
	}
	return 0;
}

/* Check the combination of flags for the source kind. */
static int check_args(struct args *a, int argc, char **argv, int first)
{
	int idx, cifar, png;

	if (first >= argc)
		return error("missing source (idx, cifar10, cifar100 or png)");
	a->kind = argv[first];
	idx = !strcmp(a->kind, "idx");
	cifar = !strcmp(a->kind, "cifar10") || !strcmp(a->kind, "cifar100");
	png = !strcmp(a->kind, "png");
	if (!idx && !cifar && !png)
		return error("unknown source '%s' (expected idx, cifar10, cifar100 or png)",
			     a->kind);
	if (!a->out)
		return error("missing -o OUT");
	if (idx) {
		if (first + 1 < argc)
			return error("unexpected argument '%s'", argv[first + 1]);
		if (!a->train_images || !a->train_labels || !a->test_images || !a->test_labels)
			return error("idx needs --train-images, --train-labels, --test-images "
				     "and --test-labels");
	} else if (a->train_images || a->train_labels || a->test_images || a->test_labels) {
		return error("--train-images etc. are for the idx source");
	}
	if (cifar) {
		for (int i = first + 1; i < argc; i++)
			push(&a->train, &a->ntrain, argv[i]);
		if (!a->ntrain || !a->ntest)
			return error("%s needs --train F... and --test F", a->kind);
	} else if (a->ntrain || a->ntest) {
		return error("--train/--test are for the cifar sources (idx: --train-images...)");
	}
	if (a->coarse && strcmp(a->kind, "cifar100"))
		return error("--coarse is for cifar100");
	if (png) {
		if (first + 2 != argc)
			return error("png needs exactly one folder");
		a->png_dir = argv[first + 1];
		if (a->classes || a->classes_file)
			return error("png takes the class names from the folder names");
	} else if (a->test_dir) {
		return error("--test-dir is for the png source");
	}
	if (a->classes && a->classes_file)
		return error("give --classes or --classes-file, not both");
	return 0;
}

int main(int argc, char **argv)
{
	struct cli c;
	struct args a = { .valid = 5000, .subset = -1 };
	struct dataset d = { 0 };
	struct dataset_meta m;
	struct provenance prov;
	char src[4096];
	int opt, rc = 0;
	long v;

	cli_init(&c, argc, argv, "import-data");
	while ((opt = cli_next_option(&c, argc, argv, "hqo:", long_opts, usage, &rc)) != -1) {
		switch (opt) {
		case CLI_EXIT:
			goto out;
		case OPT_TRAIN_IMAGES: a.train_images = optarg; break;
		case OPT_TRAIN_LABELS: a.train_labels = optarg; break;
		case OPT_TEST_IMAGES: a.test_images = optarg; break;
		case OPT_TEST_LABELS: a.test_labels = optarg; break;
		case OPT_TRAIN: push(&a.train, &a.ntrain, optarg); break;
		case OPT_TEST: push(&a.test, &a.ntest, optarg); break;
		case OPT_COARSE: a.coarse = 1; break;
		case OPT_CLASSES: a.classes = optarg; break;
		case OPT_CLASSES_FILE: a.classes_file = optarg; break;
		case OPT_TEST_DIR: a.test_dir = optarg; break;
		case 'o': a.out = optarg; break;
		case OPT_CHANNELS:
			if (parse_long(optarg, 1, 3, &v) || v == 2) {
				error("invalid --channels '%s' (expected 1 or 3)", optarg);
				goto bad_usage;
			}
			a.channels = (int)v;
			break;
		case OPT_RESIZE:
			if (parse_hw("--resize", optarg, &a.resize_h, &a.resize_w))
				goto bad_usage;
			break;
		case OPT_CROP:
			if (parse_hw("--crop", optarg, &a.crop_h, &a.crop_w))
				goto bad_usage;
			break;
		case OPT_DOWNSAMPLE:
			if (parse_long(optarg, 1, 1024, &v)) {
				error("invalid --downsample '%s' (expected 1..1024)", optarg);
				goto bad_usage;
			}
			a.downsample = (int)v;
			break;
		case OPT_VALID:
			if (parse_long(optarg, 0, DATASET_MAX_ELEMS, &a.valid)) {
				error("invalid --valid '%s' (expected a count >= 0)", optarg);
				goto bad_usage;
			}
			break;
		case OPT_KEEP_CLASSES:
			a.keep = optarg;
			break;
		case OPT_TRAIN_SUBSET:
			if (parse_long(optarg, 1, DATASET_MAX_ELEMS, &a.subset)) {
				error("invalid --train-subset '%s' (expected a count >= 1)", optarg);
				goto bad_usage;
			}
			break;
		}
	}
	if (check_args(&a, argc, argv, optind)) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (a.downsample > 1 && a.resize_h) {
		error("give --downsample or --resize/--size, not both");
		rc = EXIT_USAGE;
		goto out;
	}

	progress(&c, "reading %s source", a.kind);
	rc = read_source(&a, &d, src, sizeof(src));
	if (!rc)
		rc = transform(&a, &d.train);
	if (!rc)
		rc = transform(&a, &d.test);
	if (!rc && a.keep && keep_classes(&d, a.keep))
		rc = EXIT_USAGE;
	if (rc)
		goto out;
	/* no child can learn one class (D4, D22) */
	if (d.num_classes < 2) {
		error("%s: only one class; a classifier needs at least 2", src);
		rc = EXIT_BADINPUT;
		goto out;
	}
	d.c = d.train.c;
	d.h = d.train.h;
	d.w = d.train.w;
	if (split_holdout(&d.train, &d.valid, (int)a.valid, c.seed, 0) ||
	    (a.subset > 0 && split_subset(&d.train, (int)a.subset, c.seed, 1))) {
		rc = EXIT_USAGE;
		goto out;
	}
	dataset_stats(&d);
	for (int ch = 0; ch < d.c; ch++)
		if (!(d.std[ch] > 0)) {
			error("%s: channel %d is constant in every training image (std 0)", src, ch);
			rc = EXIT_BADINPUT;
			goto out;
		}
	m.source = src;
	m.seed = c.seed;
	m.valid_count = d.valid.n;
	cli_provenance(&c, &prov);
	progress(&c, "writing %s", a.out);
	if (dataset_write(a.out, &d, &m, &prov)) {
		rc = EXIT_FAIL;
		goto out;
	}
	if (!c.quiet)
		printf("%s: %d train, %d valid, %d test, %dx%dx%d, %d classes\n", a.out, d.train.n,
		       d.valid.n, d.test.n, d.c, d.h, d.w, d.num_classes);
	if (cli_flush_stdout() < 0)
		rc = EXIT_FAIL;
out:
	dataset_free(&d);
	free(a.train);
	free(a.test);
	return rc;
bad_usage:
	rc = EXIT_USAGE;
	goto out;
}
