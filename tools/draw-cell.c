/*
 * draw-cell - print a Graphviz DOT picture of a genotype's Normal and/or
 * Reduction cell, in the style of DARTS's visualize.py: the cell inputs
 * h_i = c_{k-1} and h_{i-1} = c_{k-2}, one node per block (its combine, add
 * or concat, numbered by state index as in the compact notation, so block 0
 * is state 2), edges labelled with the op applied on the way in, and the
 * output node c_{k} with an edge from every concatenated state.
 *
 * Per cell: 3 + nblocks nodes and 2 * nblocks + nconcat edges. Rendering is
 * left to `dot -Tpng`; this tool only writes text (stdout, or -o atomically).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "cli.h"
#include "genofile.h"
#include "genotype.h"

enum { OPT_CELL = OPT_TOOL_BASE, OPT_TITLE };
enum cell_sel { SEL_NORMAL = 1, SEL_REDUCE = 2, SEL_BOTH = 3 };

static const struct option long_opts[] = {
	CLI_COMMON_LONGOPTS,
	{ "cell", required_argument, NULL, OPT_CELL },
	{ "title", required_argument, NULL, OPT_TITLE },
	{ "output", required_argument, NULL, 'o' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: draw-cell [options] GENOTYPE\n"
		"Print a Graphviz DOT description of GENOTYPE's cells (render it with\n"
		"`dot -Tpng`). GENOTYPE is a built-in name, a genotype file, a text file or\n"
		"the text itself, as for show-genotype. Nodes: the inputs c_{k-1} (state 0)\n"
		"and c_{k-2} (state 1), one node per block named by its state index and\n"
		"combine (\"2: add\"), and the output c_{k}; edges carry the op names.\n"
		"  --cell WHICH     normal, reduce or both (default both)\n"
		"      --title T    a caption for the whole picture\n"
		"  -o, --output F   write the DOT text to F (atomically) instead of stdout\n"
		CLI_COMMON_HELP_TEXT CLI_EXIT_CODES_TEXT);
}

/* DOT double-quoted string body: escape '"' and '\\', drop control characters. */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s >= 0x20)
			fputc(*s, f);
	}
}

static void state_node(char *buf, size_t n, const char *prefix, int s)
{
	if (s < 2)
		snprintf(buf, n, "%s_in%d", prefix, s);
	else
		snprintf(buf, n, "%s_s%d", prefix, s);
}

/* One cluster: 3 + nblocks nodes, 2 * nblocks + nconcat edges. */
static void draw_cell(FILE *f, const struct cell *c, const char *prefix, const char *caption)
{
	char from[32], to[32];

	fprintf(f, "\tsubgraph cluster_%s {\n", prefix);
	fprintf(f, "\t\tlabel=\"%s\";\n", caption);
	fprintf(f, "\t\t%s_in0 [label=\"c_{k-1}\", fillcolor=darkseagreen2];\n", prefix);
	fprintf(f, "\t\t%s_in1 [label=\"c_{k-2}\", fillcolor=darkseagreen2];\n", prefix);
	fprintf(f, "\t\t{ rank=same; %s_in0; %s_in1; }\n", prefix, prefix);
	for (int b = 0; b < c->nblocks; b++)
		fprintf(f, "\t\t%s_s%d [label=\"%d: %s\", fillcolor=lightblue];\n", prefix, b + 2, b + 2,
			combine_name(c->b[b].combine));
	fprintf(f, "\t\t%s_out [label=\"c_{k}\", fillcolor=palegoldenrod];\n", prefix);
	for (int b = 0; b < c->nblocks; b++) {
		state_node(to, sizeof(to), prefix, b + 2);
		for (int j = 0; j < 2; j++) {
			state_node(from, sizeof(from), prefix, c->b[b].in[j]);
			fprintf(f, "\t\t%s -> %s [label=\"%s\"];\n", from, to, op_name(c->b[b].op[j]));
		}
	}
	for (int i = 0; i < c->nconcat; i++) {
		state_node(from, sizeof(from), prefix, c->concat[i]);
		fprintf(f, "\t\t%s -> %s_out [color=gray40];\n", from, prefix);
	}
	fprintf(f, "\t}\n");
}

/* The whole DOT text in a malloc'd buffer; returns its length. */
static size_t draw(char **out, const struct genotype *g, int sel, const char *title)
{
	size_t len = 0;
	FILE *f = open_memstream(out, &len);

	if (!f) {
		perror("open_memstream");
		abort();
	}
	fprintf(f, "digraph cells {\n");
	fprintf(f, "\trankdir=LR;\n");
	fprintf(f, "\tgraph [fontname=\"Helvetica\", fontsize=14, labelloc=t];\n");
	fprintf(f, "\tnode [shape=box, style=\"filled,rounded\", fontname=\"Helvetica\", "
		   "fontsize=12, height=0.4];\n");
	fprintf(f, "\tedge [fontname=\"Helvetica\", fontsize=10];\n");
	if (title) {
		fprintf(f, "\tlabel=\"");
		put_escaped(f, title);
		fprintf(f, "\";\n");
	}
	/*
	 * rankdir=LR lays out a top-to-bottom drawing and turns it, which puts
	 * the first cluster at the bottom: the reduction cell goes first so the
	 * picture reads normal cell on top.
	 */
	if (sel & SEL_REDUCE)
		draw_cell(f, &g->reduce, "reduce", "reduction cell");
	if (sel & SEL_NORMAL)
		draw_cell(f, &g->normal, "normal", "normal cell");
	fprintf(f, "}\n");
	fclose(f);
	return len;
}

int main(int argc, char **argv)
{
	struct cli c;
	struct genotype g;
	int opt, status, sel = SEL_BOTH;
	const char *out = NULL, *title = NULL;
	char *dot = NULL;
	size_t len;

	cli_init(&c, argc, argv, "draw-cell");
	while ((opt = cli_next_option(&c, argc, argv, "hqo:", long_opts, usage, &status)) != -1) {
		switch (opt) {
		case CLI_EXIT:
			return status;
		case OPT_CELL:
			if (!strcmp(optarg, "normal")) {
				sel = SEL_NORMAL;
			} else if (!strcmp(optarg, "reduce")) {
				sel = SEL_REDUCE;
			} else if (!strcmp(optarg, "both")) {
				sel = SEL_BOTH;
			} else {
				error("--cell: '%s' is not normal, reduce or both", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_TITLE:
			title = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		}
	}
	if (optind >= argc) {
		error("no GENOTYPE given (try --help)");
		return EXIT_USAGE;
	}
	if (argc - optind > 1) {
		error("one GENOTYPE expected, %d given", argc - optind);
		return EXIT_USAGE;
	}
	if (genotype_resolve(&g, argv[optind]) < 0)
		return EXIT_BADINPUT;
	len = draw(&dot, &g, sel, title);
	if (out) {
		int rc = atomic_write_file(out, dot, len);

		free(dot);
		return rc < 0 ? EXIT_FAIL : EXIT_OK;
	}
	fwrite(dot, 1, len, stdout);
	free(dot);
	if (cli_flush_stdout() < 0)
		return EXIT_FAIL;
	return EXIT_OK;
}
