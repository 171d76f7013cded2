/*
 * predict - classify PNG images with a trained network file (lib/train/predict.c).
 */
#include "cli.h"
#include "net.h"
#include "netfile.h"
#include "predict.h"

#include <stdlib.h>
#include <string.h>

enum { OPT_TOP = OPT_TOOL_BASE, OPT_LOGITS, OPT_CSV, OPT_BATCH, OPT_RAW };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: predict [options] NET.h5 IMAGE.png|DIR...\n"
		"Classify PNG images with a trained network file (a child's weights or a\n"
		"transfer result). Each image is prepared as the training data was: gray/RGB\n"
		"converted and resized to the network's input as import-data does, then\n"
		"normalised with the training set's mean and std (stored in the network file,\n"
		"or read from its dataset for older files). A folder is read recursively, in\n"
		"sorted order, for *.png. Prints one line per image:\n"
		"  path<TAB>class<TAB>probability\n"
		"An unreadable or unusable image is one line on stderr naming it; the others\n"
		"are still classified and the exit status is 1.\n"
		"\n"
		"      --top K      also the next K-1 classes: path, class_1, prob_1, ... class_K, prob_K\n"
		"      --logits     the raw logits instead (one column per class, %%.9g)\n"
		"      --csv        commas instead of tabs, and a header line\n"
		"      --batch N    images per forward pass (default 64)\n"
		"      --raw FILE   also write the network inputs before normalisation (float32,\n"
		"                   N x C x H x W, 0..255: an exported model's input) to FILE\n"
		CLI_COMMON_HELP_TEXT
		"\n"
		CLI_EXIT_CODES_TEXT
		"  A bad network file gives exit status 3; a bad image, 1 after the others.\n");
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		CLI_COMMON_LONGOPTS,
		{ "top", required_argument, NULL, OPT_TOP },
		{ "logits", no_argument, NULL, OPT_LOGITS },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "raw", required_argument, NULL, OPT_RAW },
		{ 0 }
	};
	struct cli c;
	struct genofile gf;
	struct netfile_meta meta = { 0 };
	struct predict_opts o = { PREDICT_CLASSES, 1, 0 };
	struct pathlist paths = { 0 };
	struct net *n = NULL;
	const char *netpath, *rawpath = NULL;
	float *x = NULL, *raw = NULL, *logits = NULL;
	char **batch_paths = NULL;
	FILE *rawf = NULL;
	long top = 1, batch = 64;
	int opt, rc = EXIT_FAIL, bad = 0;

	cli_init(&c, argc, argv, "predict");
	while ((opt = cli_next_option(&c, argc, argv, "hq", long_opts, usage, &rc)) != -1) {
		switch (opt) {
		case CLI_EXIT:
			return rc;
		case OPT_TOP:
			if (parse_long(optarg, 1, 100000, &top) < 0) {
				error("invalid --top '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_LOGITS:
			o.mode = PREDICT_LOGITS;
			break;
		case OPT_CSV:
			o.csv = 1;
			break;
		case OPT_BATCH:
			if (parse_long(optarg, 1, 65536, &batch) < 0) {
				error("invalid --batch '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_RAW:
			rawpath = optarg;
			break;
		}
	}
	if (argc - optind < 2) {
		error("expected a network file and at least one image or folder");
		usage(stderr);
		return EXIT_USAGE;
	}
	netpath = argv[optind];
	if (netfile_read_genofile(netpath, &gf) < 0 || netfile_read_meta(netpath, &meta) < 0)
		return EXIT_BADINPUT;
	rc = EXIT_BADINPUT;
	n = net_create(&gf.geno, &gf.cfg.macro, 0, NULL);
	if (!n || netfile_read_into(netpath, n) < 0)
		goto out;
	rc = EXIT_FAIL;
	o.top = (int)(top < meta.nclasses ? top : meta.nclasses);
	for (int i = optind + 1; i < argc; i++)
		if (predict_collect(argv[i], &paths) < 0)
			bad = 1;
	if (rawpath && !(rawf = fopen(rawpath, "wb"))) {
		error("%s:", rawpath);
		goto out;
	}
	cli_apply_threads(&c);
	{
		const struct macro_config *m = &gf.cfg.macro;
		const size_t per = (size_t)m->in_c * m->in_h * m->in_w;
		const int K = m->classes;

		x = xalloc_aligned(sizeof *x * per * (size_t)batch);
		raw = xmalloc(sizeof *raw * per);
		logits = xmalloc(sizeof *logits * (size_t)K * (size_t)batch);
		batch_paths = xmalloc(sizeof *batch_paths * (size_t)batch);
		predict_header(stdout, &meta, &o);
		for (int i = 0; i < paths.n;) {
			int B = 0;

			/* the next `batch` usable images; a bad one is reported and skipped */
			for (; i < paths.n && B < batch; i++) {
				if (predict_image(x + per * (size_t)B, rawf ? raw : NULL, paths.v[i], m,
						  &meta) < 0) {
					bad = 1;
					continue;
				}
				if (rawf && fwrite(raw, sizeof *raw, per, rawf) != per) {
					error("%s:", rawpath);
					goto out;
				}
				batch_paths[B++] = paths.v[i];
			}
			if (B == 0)
				continue;
			net_infer(n, x, B, logits);
			for (int b = 0; b < B; b++)
				predict_print(stdout, batch_paths[b], logits + (size_t)b * K, K, &meta, &o);
		}
	}
	if (rawf) {
		int err = fclose(rawf);

		rawf = NULL;
		if (err) {
			error("%s:", rawpath);
			goto out;
		}
	}
	if (cli_flush_stdout() < 0)
		goto out;
	rc = bad ? EXIT_FAIL : EXIT_OK;
out:
	if (rawf)
		fclose(rawf);
	free(x);
	free(raw);
	free(logits);
	free(batch_paths);
	pathlist_free(&paths);
	netfile_meta_free(&meta);
	net_free(n);
	return rc;
}
