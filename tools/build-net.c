/*
 * build-net - genotype + macro configuration -> network: prints its
 * trainable parameter count, its mult-adds per image (TF SAME semantics, aux
 * head excluded) and a per-module table, and with -o writes the network
 * file (nasnet-c/network) initialised from the seed. Counting builds a
 * plan-only network (no activations), so even 331x331 models count at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cost.h"
#include "genofile.h"
#include "genotype.h"
#include "net.h"
#include "netfile.h"
#include "rng.h"

enum { OPT_GENOTYPE = OPT_TOOL_BASE, OPT_PENULT, OPT_INPUT, OPT_CHILD, OPT_LATENCY };

/* the tool's own options; the child settings' flags (--stem, --cells,
 * --filters, --classes, --aux, ...) are added from lib/arch/childcfg.c */
static const struct option tool_opts[] = {
	CLI_COMMON_LONGOPTS,
	{ "genotype", required_argument, NULL, OPT_GENOTYPE },
	{ "penultimate", required_argument, NULL, OPT_PENULT },
	{ "input", required_argument, NULL, OPT_INPUT },
	{ "latency", no_argument, NULL, OPT_LATENCY },
	{ "output", required_argument, NULL, 'o' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: build-net [options]\n"
		"Build a child network from a genotype and a macro configuration; print\n"
		"`params: N`, `mult_adds: N` and a per-module table (output shape CxHxW,\n"
		"params, mult-adds per image); with -o write the initialised network file.\n"
		"  --genotype G      built-in name, genotype file or genotype text\n"
		"                    (default nasnet-a; a genotype file also supplies the\n"
		"                    defaults of the options below)\n"
		"  --stem S          cifar (3x3 conv to 3F) or imagenet (3x3/2 conv + 2 reduction\n"
		"                    stem cells); default cifar\n"
		"  --cells N         Normal cells per stack (default 1)\n"
		"  --filters F       filters of the first stack, doubled at each reduction (default 8)\n"
		"  --penultimate P   the paper's N@P notation: F such that the last cell has P\n"
		"                    channels (P must be a multiple of the last cell's channels per F)\n"
		"  --input CxHxW     input shape (default 1x28x28)\n"
		"  --classes K       number of classes (default 10)\n"
		"  --aux             add the auxiliary head (not counted in params/mult_adds)\n"
		"  -o, --output F    write the network file F (weights from --seed)\n"
		"  --latency         time inference on this machine with the nasnet-c engine,\n"
		"                    one thread, batch 1 and 64 (median of 21 and 7 runs after\n"
		"                    warm-up); print `latency_ms_batch1: X`, `latency_ms_batch64: Y`\n"
		"                    and record both in the network file (-o)\n"
		"Every child setting (recorded in the network file), with its range:\n");
	child_config_flags_help(f);
	fprintf(f, CLI_COMMON_HELP_TEXT CLI_EXIT_CODES_TEXT
		"  An unreadable or invalid genotype gives exit status 3.\n");
}

/* channels of the last cell per filter (the network's channels are linear in F) */
static int channels_per_filter(const struct genotype *g, const struct macro_config *m)
{
	struct macro_config t = *m;
	struct net *a, *b;
	int c2, c4;

	t.filters = 4;
	t.in_h = t.in_w = 64;
	a = net_create(g, &t, 0, NULL);
	t.filters = 8;
	b = net_create(g, &t, 0, NULL);
	if (!a || !b) {
		net_free(a);
		net_free(b);
		return -1;
	}
	c2 = a->tensors[a->steps[a->nsteps - 1].in[0]].C;
	c4 = b->tensors[b->steps[b->nsteps - 1].in[0]].C;
	net_free(a);
	net_free(b);
	return (c4 - c2) / 4;
}

static void print_table(const struct net *n)
{
	printf("%-20s %-16s %12s %14s\n", "module", "output", "params", "mult_adds");
	for (int i = 0; i < n->nmodules; i++) {
		const struct net_module *m = &n->modules[i];
		const struct net_tensor *t = &n->tensors[m->out];
		char shape[48];

		snprintf(shape, sizeof(shape), "%dx%dx%d", t->C, t->H, t->W);
		printf("%-20s %-16s %12lld %14lld%s\n", m->name, shape, (long long)m->params,
		       (long long)m->macs, m->aux ? "  (not counted)" : "");
	}
}

int main(int argc, char **argv)
{
	struct cli c;
	struct genofile gf;
	struct macro_config *m = &gf.cfg.macro;
	const char *geno_arg = "nasnet-a", *out = NULL, *input = NULL, *penult = NULL;
	int opt, rc, dims[3], nset = 0, filters = 0, latency = 0;
	char text[GENOTYPE_TEXT_MAX];
	struct net *n;
	struct rng init;
	struct option long_opts[CHILD_CONFIG_MAX_OPTS];
	/* child flags are applied over the genotype file's configuration, in order */
	const char *set_name[256], *set_arg[256];

	cli_init(&c, argc, argv, "build-net");
	if (child_config_longopts(long_opts, CHILD_CONFIG_MAX_OPTS, tool_opts, OPT_CHILD) < 0)
		return EXIT_FAIL;
	while ((opt = cli_next_option(&c, argc, argv, "hqo:", long_opts, usage, &rc)) != -1) {
		switch (opt) {
		case CLI_EXIT:
			return rc;
		case OPT_GENOTYPE: geno_arg = optarg; break;
		case OPT_PENULT: penult = optarg; break;
		case OPT_INPUT: input = optarg; break;
		case OPT_LATENCY: latency = 1; break;
		case 'o': out = optarg; break;
		case OPT_CHILD:
			if (nset == 256) {
				error("more than 256 child settings given");
				return EXIT_USAGE;
			}
			set_name[nset] = long_opts[c.longindex].name;
			filters |= !strcmp(set_name[nset], "filters");
			set_arg[nset++] = optarg ? optarg : "";
			break;
		}
	}
	if (optind < argc) {
		error("unexpected argument '%s' (try --help)", argv[optind]);
		return EXIT_USAGE;
	}
	if (filters && penult) {
		error("--filters and --penultimate are exclusive");
		return EXIT_USAGE;
	}

	genofile_init(&gf);
	if (h5_is_hdf5(geno_arg)) {
		if (genofile_read(geno_arg, &gf) < 0)
			return EXIT_BADINPUT;
		if (!gf.has_cells) {
			error("%s: space %s has no cells: build-net builds cell networks", geno_arg,
			      gf.space);
			return EXIT_BADINPUT;
		}
	} else if (genotype_resolve(&gf.geno, geno_arg) < 0) {
		return EXIT_BADINPUT;
	}
	if (genotype_validate(&gf.geno, geno_arg) < 0)
		return EXIT_BADINPUT;
	for (int i = 0; i < nset; i++)
		if (child_config_set(&gf.cfg, set_name[i], set_arg[i]) < 0)
			return EXIT_USAGE;
	if (input) {
		if (parse_dims(input, dims, 3) != 3 || dims[0] < 1 || dims[1] < 1 || dims[2] < 1) {
			error("--input: '%s' is not CxHxW", input);
			return EXIT_USAGE;
		}
		m->in_c = dims[0];
		m->in_h = dims[1];
		m->in_w = dims[2];
	}
	if (penult) {
		int P, per;

		long v;

		if (parse_long(penult, 1, 1 << 20, &v) < 0) {
			error("--penultimate: '%s' is not an integer in [1, %d]", penult, 1 << 20);
			return EXIT_USAGE;
		}
		P = (int)v;
		per = channels_per_filter(&gf.geno, m);
		if (per <= 0)
			return EXIT_FAIL;
		if (P % per) {
			error("--penultimate %d: not a multiple of %d (the last cell has %d channels per filter)",
			      P, per, per);
			return EXIT_USAGE;
		}
		m->filters = P / per;
	}

	n = net_create(&gf.geno, m, 0, NULL);
	if (!n)
		return EXIT_FAIL;
	genotype_format(&gf.geno, text, sizeof(text));
	printf("genotype: %s\n", text);
	printf("macro: stem %s, cells %d, filters %d, input %dx%dx%d, classes %d%s\n",
	       m->stem == STEM_CIFAR ? "cifar" : "imagenet", m->cells, m->filters, m->in_c, m->in_h,
	       m->in_w, m->classes, m->aux ? ", aux head" : "");
	printf("params: %lld\n", (long long)n->n_params);
	printf("mult_adds: %lld\n", (long long)n->n_macs);
	print_table(n);
	if (out || latency) {
		cli_apply_threads(&c);   /* also OpenBLAS to one thread: its spinning pool costs */
		rng_stream(&init, c.seed, 0, 0, RNG_INIT);
		net_init_params(n, &init);
	}
	for (int i = 0; latency && i < COST_LATENCY_BATCHES; i++) {
		if (cost_latency_ms(n, cost_latency_batch[i], &n->latency_ms[i]) < 0) {
			net_free(n);
			return EXIT_FAIL;
		}
		printf("latency_ms_batch%d: %.4f\n", cost_latency_batch[i], n->latency_ms[i]);
	}
	if (out) {
		struct provenance prov;

		cli_provenance(&c, &prov);
		if (netfile_write(out, n, &gf, NULL, &prov) < 0) {
			net_free(n);
			return EXIT_FAIL;
		}
	}
	net_free(n);
	if (cli_flush_stdout() < 0)
		return EXIT_FAIL;
	return EXIT_OK;
}
