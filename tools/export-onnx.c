/*
 * export-onnx - a network file as a standard ONNX model (lib/io/onnx.c).
 */
#include "cli.h"
#include "net.h"
#include "netfile.h"
#include "onnx.h"
#include "predict.h"

#include <stdlib.h>
#include <string.h>

enum { OPT_BEST = OPT_TOOL_BASE };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: export-onnx [options] NET.h5 -o MODEL.onnx\n"
		"       export-onnx [options] --best OUT -o MODEL.onnx\n"
		"Write the trained network of a network file (a child's weights or a transfer\n"
		"result) as an ONNX model (opset 13) in inference mode: input `image`, float32\n"
		"N x C x H x W raw pixels 0-255 after resizing to the network's input (the\n"
		"training normalisation is part of the graph); output `logits`, N x classes.\n"
		"Batch norm uses the running statistics; drop path, dropout and the aux head\n"
		"are left out. Metadata props: classes (one a line), genotype, mean, std,\n"
		"input, stem, nasnet_c_version, git_revision, source.\n"
		"Class names and normalisation come from the network file, or, for a file\n"
		"written without them, from the dataset its configuration names.\n"
		"\n"
		"  -o, --out FILE   the model (written whole or not at all)\n"
		"      --best OUT   export the network of a transfer folder (OUT/results.h5)\n"
		"                   with the highest test accuracy (make export RUN=...)\n"
		CLI_COMMON_HELP_TEXT
		"\n"
		CLI_EXIT_CODES_TEXT);
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		CLI_COMMON_LONGOPTS,
		{ "out", required_argument, NULL, 'o' },
		{ "best", required_argument, NULL, OPT_BEST },
		{ 0 }
	};
	struct cli c;
	struct genofile gf;
	struct netfile_meta m;
	struct net *n = NULL;
	const char *out = NULL, *in, *best = NULL;
	char best_path[4096];
	double acc;
	int opt, rc = EXIT_FAIL;

	cli_init(&c, argc, argv, "export-onnx");
	while ((opt = cli_next_option(&c, argc, argv, "hqo:", long_opts, usage, &rc)) != -1) {
		switch (opt) {
		case CLI_EXIT:
			return rc;
		case 'o':
			out = optarg;
			break;
		case OPT_BEST:
			best = optarg;
			break;
		}
	}
	if (optind != argc - !best || !out) {
		error(!out ? "missing -o MODEL.onnx" : "expected exactly one network file or --best OUT");
		usage(stderr);
		return EXIT_USAGE;
	}
	in = best ? best_path : argv[optind];
	if (best) {
		if (predict_best_transferred(best, best_path, sizeof best_path, &acc) < 0)
			return EXIT_BADINPUT;
		progress(&c, "%s: the best transferred network (test accuracy %.4f)", in, acc);
	}
	if (netfile_read_genofile(in, &gf) < 0 || netfile_read_meta(in, &m) < 0)
		return EXIT_BADINPUT;
	n = net_create(&gf.geno, &gf.cfg.macro, 0, NULL);
	if (!n) {
		error("%s: cannot build its network", in);
		rc = EXIT_BADINPUT;
		goto out;
	}
	if (netfile_read_into(in, n) < 0) {
		rc = EXIT_BADINPUT;
		goto out;
	}
	if (onnx_export(out, n, &m, in) < 0)
		goto out;
	progress(&c, "%s: %lld parameters, %d classes -> %s", in, (long long)n->n_params,
		 m.nclasses, out);
	rc = EXIT_OK;
out:
	net_free(n);
	netfile_meta_free(&m);
	return rc;
}
