/*
 * test_genotype.c - op names, validation, the paper's output rule, the
 * built-in genotypes against their published sources (DARTS genotypes.py
 * text, ENAS fixed_arc), both text notations, the child configuration and
 * the genotype file, and the one-line errors of bad input.
 */
#include "../tap.h"
#include "childcfg.h"
#include "genofile.h"
#include "genotype.h"
#include "h5io.h"
#include "util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

/* ---- stderr capture: bad input must give exactly one line naming the problem ---- */

static int saved_fd = -1;
static char capfile[300];

static void capture_begin(void)
{
	int fd;

	fflush(stderr);
	saved_fd = dup(2);
	fd = open(capfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 2);
	close(fd);
}

static const char *capture_end(void)
{
	static char buf[2048];
	FILE *f;
	size_t n;

	fflush(stderr);
	dup2(saved_fd, 2);
	close(saved_fd);
	f = fopen(capfile, "r");
	n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
	return buf;
}

static int one_line_with(const char *msg, const char *want)
{
	size_t n = strlen(msg);

	return n > 0 && msg[n - 1] == '\n' && memchr(msg, '\n', n - 1) == NULL &&
	       strstr(msg, want) != NULL;
}

static void bad_compact(const char *text, const char *want, const char *name)
{
	struct genotype g;
	const char *msg;
	int rc;

	capture_begin();
	rc = genotype_parse(&g, text, "input");
	msg = capture_end();
	if (!ok(rc < 0 && one_line_with(msg, want), "compact: %s", name))
		diag("rc %d, message: %s", rc, msg);
}

static void bad_darts(const char *text, const char *want, const char *name)
{
	struct genotype g;
	const char *msg;
	int rc;

	capture_begin();
	rc = genotype_parse_darts(&g, text, "input");
	msg = capture_end();
	if (!ok(rc < 0 && one_line_with(msg, want), "darts: %s", name))
		diag("rc %d, message: %s", rc, msg);
}

static void bad_validate(const struct genotype *g, const char *want, const char *name)
{
	const char *msg;
	int rc;

	capture_begin();
	rc = genotype_validate(g, "geno.h5");
	msg = capture_end();
	if (!ok(rc < 0 && one_line_with(msg, want), "validate rejects %s", name))
		diag("rc %d, message: %s", rc, msg);
}

/* ---- published sources, verbatim ---- */

/* quark0/darts cnn/genotypes.py */
static const char *const darts_nasnet =
	"NASNet = Genotype(\n"
	"  normal = [\n"
	"    ('sep_conv_5x5', 1),\n    ('sep_conv_3x3', 0),\n"
	"    ('sep_conv_5x5', 0),\n    ('sep_conv_3x3', 0),\n"
	"    ('avg_pool_3x3', 1),\n    ('skip_connect', 0),\n"
	"    ('avg_pool_3x3', 0),\n    ('avg_pool_3x3', 0),\n"
	"    ('sep_conv_3x3', 1),\n    ('skip_connect', 1),\n"
	"  ],\n"
	"  normal_concat = [2, 3, 4, 5, 6],\n"
	"  reduce = [\n"
	"    ('sep_conv_5x5', 1),\n    ('sep_conv_7x7', 0),\n"
	"    ('max_pool_3x3', 1),\n    ('sep_conv_7x7', 0),\n"
	"    ('avg_pool_3x3', 1),\n    ('sep_conv_5x5', 0),\n"
	"    ('skip_connect', 3),\n    ('avg_pool_3x3', 2),\n"
	"    ('sep_conv_3x3', 2),\n    ('max_pool_3x3', 1),\n"
	"  ],\n"
	"  reduce_concat = [4, 5, 6],\n"
	")\n";

static const char *const darts_amoebanet =
	"AmoebaNet = Genotype(\n"
	"  normal = [\n"
	"    ('avg_pool_3x3', 0), ('max_pool_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_5x5', 2),\n"
	"    ('sep_conv_3x3', 0), ('avg_pool_3x3', 3), ('sep_conv_3x3', 1), ('skip_connect', 1),\n"
	"    ('skip_connect', 0), ('avg_pool_3x3', 1),\n"
	"    ],\n"
	"  normal_concat = [4, 5, 6],\n"
	"  reduce = [\n"
	"    ('avg_pool_3x3', 0), ('sep_conv_3x3', 1), ('max_pool_3x3', 0), ('sep_conv_7x7', 2),\n"
	"    ('sep_conv_7x7', 0), ('avg_pool_3x3', 1), ('max_pool_3x3', 0), ('max_pool_3x3', 1),\n"
	"    ('conv_7x1_1x7', 0), ('sep_conv_3x3', 5),\n"
	"  ],\n"
	"  reduce_concat = [3, 4, 6]\n"
	")";

static const char *const darts_v1 =
	"DARTS_V1 = Genotype(normal=[('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 0), "
	"('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
	"('skip_connect', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
	"('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 0), ('max_pool_3x3', 0), "
	"('skip_connect', 2), ('skip_connect', 2), ('avg_pool_3x3', 0)], reduce_concat=[2, 3, 4, 5])";

static const char *const darts_v2 =
	"DARTS_V2 = Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
	"('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
	"('dil_conv_3x3', 2)], normal_concat=range(2, 6), reduce=[('max_pool_3x3', 0), "
	"('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
	"('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=range(2, 6))";

/* melodyguan/enas scripts/cifar10_micro_final.sh */
static const char *const enas_arc =
	"0 2 0 0 0 4 0 1 0 4 1 1 1 0 0 1 0 2 1 1 "
	"1 0 1 0 0 3 0 2 1 1 3 1 1 0 0 4 0 3 1 1";

/* ENAS micro semantics: (x_id, x_op, y_id, y_op) per block, 0 = h_{i-1},
 * ops sep3 sep5 avg3 max3 identity, output = every unused state. */
static void enas_decode(struct genotype *g, const char *arc)
{
	static const int ops[5] = { OP_SEP_CONV_3X3, OP_SEP_CONV_5X5, OP_AVG_POOL_3X3,
				    OP_MAX_POOL_3X3, OP_IDENTITY };
	int v[40], n = 0, off = 0, k;

	while (n < 40 && sscanf(arc + off, "%d%n", &v[n], &k) == 1) {
		off += k;
		n++;
	}
	memset(g, 0, sizeof(*g));
	strcpy(g->space, "enas");
	for (int c = 0; c < 2; c++) {
		struct cell *cl = c ? &g->reduce : &g->normal;
		int used[7] = { 0 };

		cl->nblocks = 5;
		for (int b = 0; b < 5; b++) {
			const int *a = v + 20 * c + 4 * b;

			used[a[0]] = used[a[2]] = 1;
			cl->b[b].in[0] = a[0] < 2 ? 1 - a[0] : a[0];
			cl->b[b].op[0] = ops[a[1]];
			cl->b[b].in[1] = a[2] < 2 ? 1 - a[2] : a[2];
			cl->b[b].op[1] = ops[a[3]];
		}
		/* used[] is in ENAS indexing; list the unused states in TF indexing */
		for (int s = 0; s < 7; s++) {
			int tf = s < 2 ? 1 - s : s;

			if (!used[s])
				cl->concat[cl->nconcat++] = tf;
		}
	}
}

static int cells_equal(const struct genotype *a, const struct genotype *b)
{
	return cell_equal(&a->normal, &b->normal) && cell_equal(&a->reduce, &b->reduce);
}

static void test_ops(void)
{
	int all = 1;

	for (int i = 0; i < OP_COUNT; i++)
		all &= op_lookup(op_name(i)) == i;
	ok(all, "op_lookup(op_name(i)) == i for all %d ops", OP_COUNT);
	ok(op_lookup("skip_connect") < 0 && op_lookup("none") < 0 && op_lookup("") < 0,
	   "op_lookup takes file names only");
	ok(op_lookup_darts("skip_connect") == OP_IDENTITY &&
	   op_lookup_darts("conv_7x1_1x7") == OP_CONV_1X7_7X1 &&
	   op_lookup_darts("dil_conv_3x3") == OP_DIL_SEP_CONV_3X3 &&
	   op_lookup_darts("dil_conv_5x5") == OP_DIL_SEP_CONV_5X5 && op_lookup_darts("none") < 0,
	   "DARTS names: skip_connect, conv_7x1_1x7, dil_conv_* (separable); none rejected");
	ok(op_lookup("dil_conv_3x3") == OP_DIL_CONV_3X3 && op_darts_name(OP_DIL_CONV_3X3) == NULL,
	   "file name dil_conv_3x3 is the paper's plain dilated conv, which DARTS lacks");
	ok(!strcmp(op_name(OP_SEP_CONV_7X7), "sep_conv_7x7") && !strcmp(op_name(-1), "?") &&
	   !strcmp(op_name(OP_COUNT), "?"), "op_name");
	ok(combine_lookup("add") == COMBINE_ADD && combine_lookup("concat") == COMBINE_CONCAT &&
	   combine_lookup("cat") < 0, "combine names");
	all = 1;
	for (int i = 0; i < OP_COUNT; i++) {
		const struct op_kind *k = op_kind(i);

		all &= k && k->builder >= 0 && k->builder < OPB_COUNT && k->kernel >= 1 &&
		       k->dilation >= 1 && k->reps >= 1;
	}
	ok(all && !op_kind(-1) && !op_kind(OP_COUNT),
	   "every op has a table row with a builder and its kernel size; no row past the end");
	ok(op_kind(OP_SEP_CONV_7X7)->kernel == 7 && op_kind(OP_MAX_POOL_5X5)->kernel == 5 &&
	   op_kind(OP_DIL_SEP_CONV_3X3)->dilation == 2 && op_kind(OP_DIL_SEP_CONV_3X3)->reps == 1,
	   "kernel, dilation and repeats come from the row");
}

static void test_builtins(void)
{
	const char *const *names = genotype_builtin_names();
	struct genotype g, d;
	int n = 0;

	for (; names[n]; n++) {
		ok(genotype_builtin(&g, names[n]) == 0 && genotype_validate(&g, names[n]) == 0,
		   "built-in %s exists and validates", names[n]);
	}
	ok(n == 6, "six built-ins listed");
	ok(genotype_builtin(&g, "nasnet-b") < 0, "unknown built-in name returns -1");

	/* NASNet-A, fact sheet §2.1 */
	genotype_builtin(&g, "nasnet-a");
	ok(g.normal.nblocks == 5 && g.normal.nconcat == 6 && g.normal.concat[0] == 1 &&
	   g.normal.concat[5] == 6, "nasnet-a normal concat is TF's [1,2,3,4,5,6]");
	ok(g.reduce.nconcat == 4 && g.reduce.concat[0] == 3 && g.reduce.concat[3] == 6,
	   "nasnet-a reduce concat is TF's [3,4,5,6]");
	ok(g.normal.b[0].in[0] == 0 && g.normal.b[0].op[0] == OP_SEP_CONV_5X5 &&
	   g.normal.b[0].in[1] == 1 && g.normal.b[0].op[1] == OP_SEP_CONV_3X3 &&
	   g.reduce.b[3].in[0] == 3 && g.reduce.b[3].op[0] == OP_IDENTITY &&
	   g.reduce.b[3].in[1] == 2 && g.reduce.b[3].op[1] == OP_AVG_POOL_3X3,
	   "nasnet-a blocks in TF indexing (normal b0, reduce b3)");

	/* DARTS genotypes.py originals parse to the hand-swapped tables */
	genotype_builtin(&g, "nasnet-a-darts");
	ok(genotype_parse_darts(&d, darts_nasnet, "NASNet") == 0 && cells_equal(&d, &g),
	   "DARTS NASNet entry == nasnet-a-darts");
	genotype_builtin(&g, "nasnet-a");
	ok(d.normal.nblocks == 5 && d.reduce.nblocks == 5 &&
	   !memcmp(d.normal.b, g.normal.b, sizeof(d.normal.b)) &&
	   !memcmp(d.reduce.b, g.reduce.b, sizeof(d.reduce.b)),
	   "DARTS NASNet blocks == nasnet-a blocks (only the concat lists differ)");
	genotype_builtin(&g, "amoebanet-a");
	ok(genotype_parse_darts(&d, darts_amoebanet, "AmoebaNet") == 0 && cells_equal(&d, &g),
	   "DARTS AmoebaNet entry == amoebanet-a");
	genotype_builtin(&g, "darts-v1");
	ok(genotype_parse_darts(&d, darts_v1, "DARTS_V1") == 0 && cells_equal(&d, &g),
	   "DARTS_V1 == darts-v1");
	genotype_builtin(&g, "darts-v2");
	ok(genotype_parse_darts(&d, darts_v2, "DARTS_V2") == 0 && cells_equal(&d, &g) &&
	   !strcmp(d.space, "darts") && g.normal.nblocks == 4,
	   "DARTS_V2 (range(2, 6) concat) == darts-v2, B=4");
	ok(g.normal.b[3].op[1] == OP_DIL_SEP_CONV_3X3, "darts-v2 dil_conv_3x3 is a dilated separable conv");
	genotype_builtin(&g, "enas");
	enas_decode(&d, enas_arc);
	ok(genotype_equal(&d, &g), "ENAS fixed_arc decoded with ENAS semantics == enas");
}

static void test_concat_unused(void)
{
	struct genotype g, d;
	struct cell c;

	genotype_builtin(&g, "nasnet-a");
	genotype_builtin(&d, "nasnet-a-darts");
	cell_concat_unused(&g.normal);
	cell_concat_unused(&g.reduce);
	ok(cells_equal(&g, &d), "paper rule on NASNet-A gives DARTS's lists [2..6], [4,5,6]");
	genotype_builtin(&g, "amoebanet-a");
	d = g;
	cell_concat_unused(&d.normal);
	cell_concat_unused(&d.reduce);
	ok(cells_equal(&g, &d), "paper rule reproduces amoebanet-a's lists");
	genotype_builtin(&g, "enas");
	d = g;
	cell_concat_unused(&d.normal);
	cell_concat_unused(&d.reduce);
	ok(cells_equal(&g, &d), "paper rule reproduces enas's lists (inputs all used)");
	memset(&c, 0, sizeof(c));
	c.nblocks = 3;
	c.b[0] = (struct block){ { 0, 1 }, { 0, 0 }, 0 };
	c.b[1] = (struct block){ { 2, 0 }, { 0, 0 }, 0 };
	c.b[2] = (struct block){ { 3, 2 }, { 0, 0 }, 0 };
	cell_concat_unused(&c);
	ok(c.nconcat == 1 && c.concat[0] == 4, "paper rule: a chain gives its last block");
	c.b[2] = (struct block){ { 0, 1 }, { 0, 0 }, 0 };
	cell_concat_unused(&c);
	ok(c.nconcat == 2 && c.concat[0] == 3 && c.concat[1] == 4,
	   "paper rule: b0 consumed, b1 and b2 unused -> [3,4]");
}

static void test_text_round_trips(void)
{
	const char *const *names = genotype_builtin_names();
	char buf[GENOTYPE_TEXT_MAX], small[40];
	struct genotype g, h;
	int all = 1, alld = 1;

	for (int i = 0; names[i]; i++) {
		genotype_builtin(&g, names[i]);
		all &= genotype_format(&g, buf, sizeof(buf)) > 0 &&
		       genotype_parse(&h, buf, names[i]) == 0 && genotype_equal(&g, &h) &&
		       !strchr(buf, '\n');
		alld &= genotype_format_darts(&g, buf, sizeof(buf)) > 0 &&
			genotype_parse_darts(&h, buf, names[i]) == 0 && cells_equal(&g, &h);
	}
	ok(all, "compact text round-trips every built-in exactly (one line)");
	ok(alld, "DARTS text round-trips every built-in's cells");

	genotype_builtin(&g, "nasnet-a");
	genotype_format_darts(&g, buf, sizeof(buf));
	ok(strstr(buf, "normal_concat=[0, 2, 3, 4, 5, 6]") != NULL,
	   "TF concat state 1 (h_{i-1}) is DARTS state 0");

	/* a concat-combine cell with ops DARTS lacks */
	memset(&g, 0, sizeof(g));
	strcpy(g.space, "nasnet");
	g.normal.nblocks = 2;
	g.normal.b[0] = (struct block){ { 1, 0 }, { OP_CONV_3X3, OP_DIL_CONV_3X3 }, COMBINE_CONCAT };
	g.normal.b[1] = (struct block){ { 2, 2 }, { OP_MAX_POOL_7X7, OP_CONV_1X3_3X1 }, COMBINE_ADD };
	g.normal.nconcat = 3;
	g.normal.concat[0] = 0;
	g.normal.concat[1] = 2;
	g.normal.concat[2] = 3;
	g.reduce = g.normal;
	ok(genotype_format(&g, buf, sizeof(buf)) > 0 && strstr(buf, "conv_3x3@1 cat dil_conv_3x3@0") &&
	   genotype_parse(&h, buf, "t") == 0 && genotype_equal(&g, &h),
	   "concat-combine genotype round-trips: %s", buf);
	capture_begin();
	ok(genotype_format_darts(&g, buf, sizeof(buf)) < 0, "DARTS notation refuses concat combine");
	capture_end();
	g.normal.b[0].combine = COMBINE_ADD;
	g.reduce = g.normal;
	capture_begin();
	ok(genotype_format_darts(&g, buf, sizeof(buf)) < 0 &&
	   strstr(capture_end(), "has no DARTS equivalent"), "DARTS notation refuses conv_3x3");
	capture_begin();
	ok(genotype_format(&g, small, sizeof(small)) < 0 && strstr(capture_end(), "needs more than"),
	   "too small a buffer is an error, not a truncation");

	/* free-form spacing, comments, lines; default space */
	ok(genotype_parse(&h, "# a comment\n normal :identity @ 0+ identity@1|concat 2\n||\n"
			      "reduce: max_pool_3x3@0 cat avg_pool_3x3@1 ; identity@2 + conv_1x1@0 |"
			      " concat 3  # end\n", "t") == 0 &&
	   h.normal.nblocks == 1 && h.reduce.nblocks == 2 && !strcmp(h.space, "nasnet") &&
	   h.reduce.b[0].combine == COMBINE_CONCAT,
	   "compact parser: spacing, comments, several lines; space defaults to nasnet");
	ok(genotype_parse(&h, "normal: dil_sep_conv_5x5@0 + identity@1 | concat 2 || reduce: "
			      "identity@0 + identity@1 | concat 2", "t") == 0 &&
	   !strcmp(h.space, "custom"), "ops beyond the paper's 13 without a space: 'custom'");
	ok(genotype_parse_any(&h, darts_v2, "t") == 0 && !strcmp(h.space, "darts") &&
	   genotype_parse_any(&h, "[enas] normal: identity@0 + identity@1 | concat 2 || reduce: "
				  "identity@0 + identity@1 | concat 2", "t") == 0 &&
	   !strcmp(h.space, "enas"), "genotype_parse_any picks the notation");
	ok(genotype_parse_darts(&h, "Genotype([('skip_connect', 0), ('skip_connect', 1)], [2], "
				    "[('max_pool_3x3', 0), ('max_pool_3x3', 1),], range(3))", "t") == 0 &&
	   h.reduce.nconcat == 3 && h.reduce.concat[0] == 0 && h.normal.b[0].in[0] == 1,
	   "DARTS positional fields, trailing comma, range(n)");
	ok(genotype_parse_darts(&h, "Genotype(reduce_concat=[2], reduce=[(\"sep_conv_7x7\", 1), "
				    "('conv_7x1_1x7', 0)], normal_concat=[0, 1], normal=[('dil_conv_5x5', 1), "
				    "('avg_pool_3x3', 0)])", "t") == 0 &&
	   h.normal.b[0].op[0] == OP_DIL_SEP_CONV_5X5 && h.normal.b[0].in[0] == 0 &&
	   h.normal.nconcat == 2 && h.normal.concat[0] == 0 && h.normal.concat[1] == 1,
	   "DARTS keywords in any order, double quotes, concat [0, 1] swapped and sorted");
}

static void test_bad_text(void)
{
	const char *tail = " || reduce: identity@0 + identity@1 | concat 2";
	char t[512];

	snprintf(t, sizeof(t), "normal: foo@0 + identity@1 | concat 2%s", tail);
	bad_compact(t, "input: column 9: unknown op 'foo'", "unknown op, with column");
	snprintf(t, sizeof(t), "normal: skip_connect@0 + identity@1 | concat 2%s", tail);
	bad_compact(t, "DARTS name; here it is 'identity'", "DARTS op name hints the file name");
	snprintf(t, sizeof(t), "normal: identity@0 + identity@2 | concat 2%s", tail);
	bad_compact(t, "column 31: block 0 reads state 2, but only states 0..1", "input index out of range");
	snprintf(t, sizeof(t), "normal: identity@0 + identity@1 | concat 3%s", tail);
	bad_compact(t, "concat state 3 out of range 0..2", "concat out of range");
	snprintf(t, sizeof(t), "normal: identity@0 + identity@1 | concat 2,1%s", tail);
	bad_compact(t, "strictly increasing (1 after 2)", "concat not increasing");
	snprintf(t, sizeof(t), "normal: identity@0 * identity@1 | concat 2%s", tail);
	bad_compact(t, "expected '+' or 'cat'", "bad combine");
	bad_compact("hello world", "column 1: expected 'normal' cell label, found 'hello'", "garbage text");
	bad_compact("", "expected normal", "empty text");
	bad_compact("normal: identity@0 + identity@1 | concat 2 | reduce: identity@0 + identity@1 | concat 2",
		    "expected '||'", "missing ||");
	snprintf(t, sizeof(t), "normal: identity@0 + identity@1 | concat 2%s extra", tail);
	bad_compact(t, "unexpected 'extra' after the reduce cell", "trailing text");
	bad_compact("normal: identity@0 + identity@1 | concat 2\n|| reduce: identity@0 + bar@1 | concat 2",
		    "line 2, column 25: unknown op 'bar'", "multi-line text reports the line");
	bad_compact("normal: identity@0 + identity@1 ; identity@0 + identity@1 ; identity@0 + identity@1 ; "
		    "identity@0 + identity@1 ; identity@0 + identity@1 ; identity@0 + identity@1 ; "
		    "identity@0 + identity@1 ; identity@0 + identity@1 ; identity@0 + identity@1 | concat 2"
		    " || reduce: identity@0 + identity@1 | concat 2", "more than 8 blocks", "too many blocks");
	bad_compact("[averyveryverylongspace] normal: identity@0 + identity@1 | concat 2 || reduce: "
		    "identity@0 + identity@1 | concat 2", "space name longer", "long space name");
	bad_compact("normal: identity@0 + identity@1 | concat 2 || reduce: identity@0 + identity@1 | concat 1234",
		    "number too large", "huge number");

	bad_darts("Genotype(normal=[('none', 0), ('skip_connect', 1)], normal_concat=[2], "
		  "reduce=[('skip_connect', 0), ('skip_connect', 1)], reduce_concat=[2])",
		  "op 'none' (DARTS's zero op) cannot be built", "none op");
	bad_darts("Genotype(normal=[('identity', 0), ('skip_connect', 1)], normal_concat=[2], "
		  "reduce=[('skip_connect', 0), ('skip_connect', 1)], reduce_concat=[2])",
		  "column 19: unknown DARTS op 'identity'", "unknown DARTS op");
	bad_darts("Genotype(normal=[('skip_connect', 0), ('skip_connect', 2)], normal_concat=[2], "
		  "reduce=[('skip_connect', 0), ('skip_connect', 1)], reduce_concat=[2])",
		  "block 0 reads state 2", "DARTS index out of range");
	bad_darts("Genotype(normal=[('skip_connect', 0)], normal_concat=[2], "
		  "reduce=[('skip_connect', 0), ('skip_connect', 1)], reduce_concat=[2])",
		  "normal has 1 (op, input) pairs; a block takes two", "odd number of pairs");
	bad_darts("Genotype(normal=[('skip_connect', 0), ('skip_connect', 1)], normal_concat=[2], "
		  "reduce=[('skip_connect', 0), ('skip_connect', 1)])",
		  "missing field 'reduce_concat'", "missing field");
	bad_darts("Genotype(normal=[('skip_connect', 0), ('skip_connect', 1)], normal_concat=[2], "
		  "reduce=[('skip_connect', 0), ('skip_connect', 1)], reduce_concat=[2], extra=[1])",
		  "unknown Genotype field 'extra'", "unknown field");
	bad_darts("Genotype(normal=[('skip_connect', 0), ('skip_connect', 1)], normal_concat=range(2, 6), "
		  "reduce=[('skip_connect', 0), ('skip_connect', 1)], reduce_concat=[2])",
		  "normal_concat state 3 out of range 0..2", "range() concat out of range");
	bad_darts("Genotype(normal=[('skip_connect', 0), ('skip_connect', 1)], normal_concat=[2], "
		  "normal=[('skip_connect', 0)], reduce_concat=[2])", "field 'normal' given twice",
		  "duplicate field");
	bad_darts("Genotype(normal=[('skip_connect, 0)])", "unterminated string", "unterminated string");
	bad_darts("print('hi')", "expected '=' after the variable name", "not a Genotype");
	bad_darts("Genotype(normal=[('skip_connect', 0), ('skip_connect', 1)], normal_concat=[], "
		  "reduce=[('skip_connect', 0), ('skip_connect', 1)], reduce_concat=[2])",
		  "normal_concat is empty", "empty concat");
}

static void test_validate(void)
{
	struct genotype g, b;

	genotype_builtin(&g, "nasnet-a");
	b = g;
	b.normal.nblocks = 0;
	bad_validate(&b, "geno.h5: normal cell has 0 blocks, expected 1..8", "0 blocks");
	b = g;
	b.reduce.nblocks = 9;
	bad_validate(&b, "reduce cell has 9 blocks", "9 blocks");
	b = g;
	b.normal.b[2].in[1] = 4;
	bad_validate(&b, "geno.h5: normal cell block 2: input B is 4, expected 0..3", "a later state (a cycle)");
	b = g;
	b.reduce.b[0].in[0] = -1;
	bad_validate(&b, "reduce cell block 0: input A is -1", "negative input");
	b = g;
	b.normal.b[1].op[0] = OP_COUNT;
	{
		/* the first id past the op table, whatever its length */
		char want[64];

		snprintf(want, sizeof want, "normal cell block 1: op A is %d", OP_COUNT);
		bad_validate(&b, want, "op out of range");
	}
	b = g;
	b.normal.b[1].combine = 2;
	bad_validate(&b, "combine is 2", "bad combine");
	b = g;
	b.normal.nconcat = 0;
	bad_validate(&b, "normal cell concatenates 0 states", "empty concat");
	b = g;
	b.reduce.concat[3] = 7;
	bad_validate(&b, "reduce cell concat entry 3 is state 7, expected 0..6", "concat out of range");
	b = g;
	b.reduce.concat[1] = 3;
	bad_validate(&b, "not strictly increasing", "repeated concat entry");
}

static void test_config(void)
{
	char path[512];
	struct child_config c, d;
	struct provenance prov = { "test", 0, NULL, 1, 1 };
	struct h5f f;
	const char *msg;
	int rc;

	child_config_default(&c);
	ok(c.macro.stem == STEM_CIFAR && c.macro.cells == 1 && c.macro.filters == 8 &&
	   c.macro.in_c == 1 && c.macro.in_h == 28 && c.macro.in_w == 28 &&
	   c.macro.classes == 10 && c.macro.aux == 0 && c.macro.bn_momentum == 0.1f &&
	   c.macro.bn_eps == 1e-5f && c.macro.dropout_keep == 1.0f,
	   "default macro: CIFAR stem, N=1, F=8, 1x28x28, 10 classes");
	ok(!strcmp(c.train.data, "data/fashion-mnist.h5") && c.train.epochs == 1 &&
	   c.train.steps == 0 && c.train.batch == 64 && c.train.lr == 0.05 &&
	   c.train.lr_min == 0 && c.train.schedule == LR_COSINE && c.train.momentum == 0.9 &&
	   c.train.nesterov == 1 && c.train.weight_decay == 5e-4 && c.train.clip == 5 &&
	   c.train.cutout == 0 && c.train.crop_pad == 0 && c.train.flip == 0 &&
	   c.train.label_smoothing == 0 && c.train.aux_weight == 0.4 &&
	   c.train.drop_path_keep == 1 && c.train.seed == 1,
	   "default training recipe");
	ok(child_config_check(&c, "default") == 0, "defaults pass the range checks");

	c.macro.stem = STEM_IMAGENET;
	c.macro.bn_momentum = 0.0003f;
	c.train.schedule = LR_CONSTANT;
	c.train.steps = 12345678901LL;
	c.train.seed = 0xfedcba9876543210ULL;
	c.train.label_smoothing = 0.1;
	snprintf(c.train.data, sizeof(c.train.data), "/some/where/cifar10.h5");
	snprintf(path, sizeof(path), "%s/cfg.h5", dir);
	rc = h5_create(&f, path, "nasnet-c/test", 1, &prov);
	rc |= child_config_write(&f, "/config", &c);
	rc |= h5_commit(&f);
	rc |= h5_open(&f, path, "nasnet-c/test", 1);
	rc |= child_config_read(&f, "/config", &d);
	h5_close(&f);
	ok(rc == 0 && !memcmp(&c, &d, sizeof(c)), "config write/read round trip (uint64 seed, float bn momentum)");

	/* every attribute write fails on a file opened for reading: one line, the first */
	rc = h5_open(&f, path, "nasnet-c/test", 1);
	capture_begin();
	rc |= child_config_write(&f, "/config", &c) < 0 ? 0 : -1;
	msg = capture_end();
	h5_close(&f);
	ok(rc == 0 && one_line_with(msg, "cfg.h5: ") && strstr(msg, "stem"),
	   "a failing config write stops at the first attribute (one line)");

	c.macro.cells = 0;
	capture_begin();
	rc = child_config_check(&c, "x");
	msg = capture_end();
	ok(rc < 0 && one_line_with(msg, "x: cells is 0, expected 1..64"), "range check names the field");
	child_config_default(&c);
	c.train.lr = NAN;
	capture_begin();
	ok(child_config_check(&c, "x") < 0 && strstr(capture_end(), "x: lr is nan"), "NaN lr rejected");

	/* a file with an out-of-range attribute */
	child_config_default(&c);
	rc = h5_create(&f, path, "nasnet-c/test", 1, &prov);
	rc |= child_config_write(&f, "/config", &c);
	rc |= h5_attr_write_int(&f, "/config", "batch", 0);
	rc |= h5_commit(&f);
	rc |= h5_open(&f, path, "nasnet-c/test", 1);
	capture_begin();
	rc = child_config_read(&f, "/config", &d);
	msg = capture_end();
	h5_close(&f);
	ok(rc < 0 && one_line_with(msg, "cfg.h5: attribute 'batch' on '/config' is 0, expected 1..1048576"),
	   "reading names the file and the attribute: %s", msg);
}

static void test_genofile(void)
{
	char a[512], b[512], cmd[1200];
	struct genofile g, r;
	struct provenance prov = { "test", 0, NULL, 1, 1 };
	struct genotype x;
	const char *msg;
	int rc;

	snprintf(a, sizeof(a), "%s/arch.h5", dir);
	snprintf(b, sizeof(b), "%s/arch2.h5", dir);
	genofile_init(&g);
	genotype_builtin(&g.geno, "darts-v2");
	g.cfg.train.epochs = 7;
	ok(genofile_write(a, &g, &prov) == 0 && genofile_read(a, &r) == 0 && r.has_cells &&
	   genotype_equal(&r.geno, &g.geno) && !strcmp(r.space, "darts") && !r.has_sample &&
	   !memcmp(&r.cfg, &g.cfg, sizeof(g.cfg)), "genotype file round trip (darts-v2, no sample)");

	/* a sampled nasnet-space architecture: actions must give the cells */
	genofile_init(&g);
	genotype_builtin(&g.geno, "nasnet-a");
	g.has_sample = 1;
	g.round = 3;
	g.index = 17;
	g.nactions = 50;
	for (int c = 0, i = 0; c < 2; c++) {
		const struct cell *cl = c ? &g.geno.reduce : &g.geno.normal;

		for (int k = 0; k < 5; k++) {
			g.actions[i++] = cl->b[k].in[0];
			g.actions[i++] = cl->b[k].in[1];
			g.actions[i++] = cl->b[k].op[0];
			g.actions[i++] = cl->b[k].op[1];
			g.actions[i++] = cl->b[k].combine;
		}
	}
	for (int i = 0; i < 50; i++)
		g.logp[i] = -0.01f * (float)i;
	g.policy_hash = 0x0123456789abcdefULL;
	rc = genofile_write(a, &g, &prov);
	ok(rc == 0 && genofile_read(a, &r) == 0 && r.has_sample && r.round == 3 && r.index == 17 &&
	   r.nactions == 50 && !memcmp(r.actions, g.actions, sizeof(g.actions)) &&
	   !memcmp(r.logp, g.logp, sizeof(g.logp)) && r.policy_hash == g.policy_hash &&
	   genotype_equal(&r.geno, &g.geno), "genotype file with a sampling record round-trips");
	ok(genofile_write(b, &g, &prov) == 0, "second write");
	snprintf(cmd, sizeof(cmd), "cmp -s %s %s", a, b);
	ok(system(cmd) == 0, "same content gives byte-identical files");
	ok(genotype_resolve(&x, a) == 0 && genotype_equal(&x, &g.geno),
	   "genotype_resolve reads a genotype file");

	g.actions[2] = 4; /* normal b0 op A: identity -> max_pool_3x3 */
	capture_begin();
	rc = genofile_write(b, &g, &prov);
	msg = capture_end();
	ok(rc < 0 && one_line_with(msg, "/sample/actions do not give the stored cells"),
	   "actions inconsistent with the cells are refused");

	/* nb201: a cell string, no cell groups */
	genofile_init(&g);
	snprintf(g.space, sizeof(g.space), "nb201");
	g.has_cells = 0;
	snprintf(g.cell_string, sizeof(g.cell_string),
		 "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|");
	g.has_sample = 1;
	g.nactions = 6;
	{
		int acts[6] = { 3, 0, 1, 4, 2, 3 };

		for (int i = 0; i < 6; i++) {
			g.actions[i] = acts[i];
			g.logp[i] = -1.6f;
		}
	}
	ok(genofile_write(a, &g, &prov) == 0 && genofile_read(a, &r) == 0 && !r.has_cells &&
	   !strcmp(r.cell_string, g.cell_string) && !strcmp(r.space, "nb201") && r.nactions == 6,
	   "nb201 genotype file (cell string) round-trips");
	capture_begin();
	rc = genotype_resolve(&x, a);
	msg = capture_end();
	ok(rc < 0 && one_line_with(msg, "holds a cell string"), "resolve refuses an nb201 file");
	snprintf(g.cell_string, sizeof(g.cell_string), "|bogus~0|");
	capture_begin();
	ok(genofile_write(b, &g, &prov) < 0 && strstr(capture_end(), "nb201"), "bad nb201 cell string refused");

	/* text files */
	snprintf(a, sizeof(a), "%s/g.txt", dir);
	{
		FILE *f = fopen(a, "w");

		fprintf(f, "# DARTS_V2 from genotypes.py\n%s\n", darts_v2);
		fclose(f);
	}
	genotype_builtin(&g.geno, "darts-v2");
	ok(genotype_resolve(&x, a) == 0 && genotype_equal(&x, &g.geno), "resolve: DARTS text file with a comment");
	{
		FILE *f = fopen(a, "w");

		fprintf(f, "# one\nnormal: identity@0 + identity@1 | concat 2\n"
			   "|| reduce: identity@0 + nope@1 | concat 2\n");
		fclose(f);
	}
	capture_begin();
	rc = genotype_resolve(&x, a);
	msg = capture_end();
	ok(rc < 0 && one_line_with(msg, "g.txt: line 3, column 25: unknown op 'nope'"),
	   "resolve: error in a text file names file, line and column: %s", msg);
	capture_begin();
	rc = genotype_resolve(&x, "nasnet-z");
	msg = capture_end();
	ok(rc < 0 && one_line_with(msg, "nasnet-z: no such file, and not a built-in genotype (nasnet-a,"),
	   "resolve: unknown name lists the built-ins");
	capture_begin();
	rc = genotype_resolve(&x, "normal: identity@0 + x@1 | concat 2 || reduce: identity@0 + identity@1 | concat 2");
	msg = capture_end();
	ok(rc < 0 && one_line_with(msg, "genotype 'normal: identity@0 + x@1 | concat 2 || r...': column 22"),
	   "resolve: bad text names the text and the column");
	ok(genotype_resolve(&x, "amoebanet-a") == 0 && !strcmp(x.space, "nasnet"), "resolve: a built-in name");
}

int main(void)
{
	char cmd[400];

	progname = "test_genotype";
	setenv("SOURCE_DATE_EPOCH", "1", 1);   /* provenance time: byte-identical rewrites */
	h5_init();
	snprintf(dir, sizeof(dir), "/tmp/nasnet-test-genotype.%d", (int)getpid());
	mkdir(dir, 0755);
	snprintf(capfile, sizeof(capfile), "%s/stderr", dir);

	test_ops();
	test_builtins();
	test_concat_unused();
	test_text_round_trips();
	test_bad_text();
	test_validate();
	test_config();
	test_genofile();

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	return tap_exit();
}
