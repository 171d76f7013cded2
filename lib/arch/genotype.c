/*
 * genotype.c - op names, genotype validation, the paper's output rule and
 * the built-in reference genotypes.
 *
 * Every built-in is written out here in TF indexing (0 = h_i, 1 = h_{i-1},
 * 2+b = block b), converted by hand from its source; the unit test parses
 * the DARTS-notation originals and checks they give the same cells, so a
 * slip in either the tables or the index swap shows up. Text formats live in
 * genotext.c, the HDF5 file in genofile.c.
 */
#include "genotype.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

/*
 * Every op, once: its file name, DARTS's name (operations.py OPS; NULL when
 * DARTS has none) and how cell.c builds it. `none` (DARTS's zero op) is
 * deliberately absent: it cannot be part of a built cell. DARTS's
 * dil_conv_3x3/5x5 is a dilated SEPARABLE conv (dil_sep_conv_* here); our
 * dil_conv_3x3 is the paper's plain dilated conv.
 */
static const struct op_kind op_kinds[OP_COUNT] = {
	[OP_IDENTITY] = { "identity", "skip_connect", OPB_IDENTITY, 1, 1, 1 },
	[OP_CONV_1X3_3X1] = { "conv_1x3_3x1", NULL, OPB_FACTORED, 3, 1, 1 },
	[OP_CONV_1X7_7X1] = { "conv_1x7_7x1", "conv_7x1_1x7", OPB_FACTORED, 7, 1, 1 },
	[OP_DIL_CONV_3X3] = { "dil_conv_3x3", NULL, OPB_CONV, 3, 2, 1 },
	[OP_AVG_POOL_3X3] = { "avg_pool_3x3", "avg_pool_3x3", OPB_AVG_POOL, 3, 1, 1 },
	[OP_MAX_POOL_3X3] = { "max_pool_3x3", "max_pool_3x3", OPB_MAX_POOL, 3, 1, 1 },
	[OP_MAX_POOL_5X5] = { "max_pool_5x5", NULL, OPB_MAX_POOL, 5, 1, 1 },
	[OP_MAX_POOL_7X7] = { "max_pool_7x7", NULL, OPB_MAX_POOL, 7, 1, 1 },
	[OP_CONV_1X1] = { "conv_1x1", NULL, OPB_CONV, 1, 1, 1 },
	[OP_CONV_3X3] = { "conv_3x3", NULL, OPB_CONV, 3, 1, 1 },
	[OP_SEP_CONV_3X3] = { "sep_conv_3x3", "sep_conv_3x3", OPB_SEP_CONV, 3, 1, 2 },
	[OP_SEP_CONV_5X5] = { "sep_conv_5x5", "sep_conv_5x5", OPB_SEP_CONV, 5, 1, 2 },
	[OP_SEP_CONV_7X7] = { "sep_conv_7x7", "sep_conv_7x7", OPB_SEP_CONV, 7, 1, 2 },
	[OP_DIL_SEP_CONV_3X3] = { "dil_sep_conv_3x3", "dil_conv_3x3", OPB_SEP_CONV, 3, 2, 1 },
	[OP_DIL_SEP_CONV_5X5] = { "dil_sep_conv_5x5", "dil_conv_5x5", OPB_SEP_CONV, 5, 2, 1 },
};

const struct op_kind *op_kind(int op)
{
	/* a row left out of the table is an unknown op, never a default */
	if (op < 0 || op >= OP_COUNT || !op_kinds[op].name || op_kinds[op].kernel < 1)
		return NULL;
	return &op_kinds[op];
}

const char *op_name(int op)
{
	const struct op_kind *k = op_kind(op);

	return k ? k->name : "?";
}

int op_lookup(const char *name)
{
	for (int i = 0; i < OP_COUNT; i++)
		if (op_kind(i) && !strcmp(name, op_kinds[i].name))
			return i;
	return -1;
}

int op_lookup_darts(const char *name)
{
	for (int i = 0; i < OP_COUNT; i++)
		if (op_kind(i) && op_kinds[i].darts && !strcmp(name, op_kinds[i].darts))
			return i;
	return -1;
}

const char *op_darts_name(int op)
{
	const struct op_kind *k = op_kind(op);

	return k ? k->darts : NULL;
}

const char *combine_name(int c)
{
	switch (c) {
	case COMBINE_ADD:
		return "add";
	case COMBINE_CONCAT:
		return "concat";
	}
	return "?";
}

int combine_lookup(const char *name)
{
	if (!strcmp(name, "add"))
		return COMBINE_ADD;
	if (!strcmp(name, "concat"))
		return COMBINE_CONCAT;
	return -1;
}

int cell_validate(const struct cell *c, const char *what, const char *cellname)
{
	int nstates = c->nblocks + 2;

	if (c->nblocks < 1 || c->nblocks > GENOTYPE_MAX_BLOCKS)
		return error("%s: %s cell has %d blocks, expected 1..%d", what, cellname, c->nblocks,
			     GENOTYPE_MAX_BLOCKS);
	for (int b = 0; b < c->nblocks; b++) {
		const struct block *k = &c->b[b];

		for (int s = 0; s < 2; s++) {
			/* inputs must be earlier states, so a cell cannot have a cycle */
			if (k->in[s] < 0 || k->in[s] >= b + 2)
				return error("%s: %s cell block %d: input %c is %d, expected 0..%d",
					     what, cellname, b, 'A' + s, k->in[s], b + 1);
			if (k->op[s] < 0 || k->op[s] >= OP_COUNT)
				return error("%s: %s cell block %d: op %c is %d, expected 0..%d",
					     what, cellname, b, 'A' + s, k->op[s], OP_COUNT - 1);
		}
		if (k->combine != COMBINE_ADD && k->combine != COMBINE_CONCAT)
			return error("%s: %s cell block %d: combine is %d, expected 0 (add) or 1 (concat)",
				     what, cellname, b, k->combine);
	}
	if (c->nconcat < 1 || c->nconcat > nstates)
		return error("%s: %s cell concatenates %d states, expected 1..%d", what, cellname,
			     c->nconcat, nstates);
	for (int i = 0; i < c->nconcat; i++) {
		if (c->concat[i] < 0 || c->concat[i] >= nstates)
			return error("%s: %s cell concat entry %d is state %d, expected 0..%d", what,
				     cellname, i, c->concat[i], nstates - 1);
		if (i > 0 && c->concat[i] <= c->concat[i - 1])
			return error("%s: %s cell concat list is not strictly increasing at entry %d (%d after %d)",
				     what, cellname, i, c->concat[i], c->concat[i - 1]);
	}
	return 0;
}

int genotype_validate(const struct genotype *g, const char *what)
{
	if (memchr(g->space, '\0', sizeof(g->space)) == NULL)
		return error("%s: space name is not terminated", what);
	if (cell_validate(&g->normal, what, "normal") < 0)
		return -1;
	return cell_validate(&g->reduce, what, "reduce");
}

void cell_concat_unused(struct cell *c)
{
	int used[GENOTYPE_MAX_STATES] = { 0 };

	for (int b = 0; b < c->nblocks; b++) {
		used[c->b[b].in[0]] = 1;
		used[c->b[b].in[1]] = 1;
	}
	c->nconcat = 0;
	for (int s = 2; s < c->nblocks + 2; s++)
		if (!used[s])
			c->concat[c->nconcat++] = s;
	if (c->nconcat == 0)
		c->concat[c->nconcat++] = c->nblocks + 1;
}

int cell_equal(const struct cell *a, const struct cell *b)
{
	if (a->nblocks != b->nblocks || a->nconcat != b->nconcat)
		return 0;
	for (int i = 0; i < a->nblocks; i++) {
		const struct block *x = &a->b[i], *y = &b->b[i];

		if (x->in[0] != y->in[0] || x->in[1] != y->in[1] || x->op[0] != y->op[0] ||
		    x->op[1] != y->op[1] || x->combine != y->combine)
			return 0;
	}
	for (int i = 0; i < a->nconcat; i++)
		if (a->concat[i] != b->concat[i])
			return 0;
	return 1;
}

int genotype_equal(const struct genotype *a, const struct genotype *b)
{
	return !strcmp(a->space, b->space) && cell_equal(&a->normal, &b->normal) &&
	       cell_equal(&a->reduce, &b->reduce);
}

/* ---- built-in reference genotypes ---- */

/* A block written as in the fact sheet: input A, op A, input B, op B (add). */
struct blockdef {
	int ia, oa, ib, ob;
};

struct celldef {
	int nblocks;
	struct blockdef b[GENOTYPE_MAX_BLOCKS];
	int nconcat;
	int concat[GENOTYPE_MAX_STATES];
};

struct builtin {
	const char *name;
	const char *space;
	struct celldef normal, reduce;
};

enum {
	ID = OP_IDENTITY,
	AVG3 = OP_AVG_POOL_3X3,
	MAX3 = OP_MAX_POOL_3X3,
	SEP3 = OP_SEP_CONV_3X3,
	SEP5 = OP_SEP_CONV_5X5,
	SEP7 = OP_SEP_CONV_7X7,
	DSEP3 = OP_DIL_SEP_CONV_3X3,
	C17 = OP_CONV_1X7_7X1,
};

/* NASNet-A: fact sheet §2.1, TF nasnet_utils.py hiddenstate_indices and ops */
#define NASNET_A_NORMAL_BLOCKS \
	5, { { 0, SEP5, 1, SEP3 }, { 1, SEP5, 1, SEP3 }, { 0, AVG3, 1, ID }, \
	     { 1, AVG3, 1, AVG3 }, { 0, SEP3, 0, ID } }
#define NASNET_A_REDUCE_BLOCKS \
	5, { { 0, SEP5, 1, SEP7 }, { 0, MAX3, 1, SEP7 }, { 0, AVG3, 1, SEP5 }, \
	     { 3, ID, 2, AVG3 }, { 2, SEP3, 0, MAX3 } }

static const struct builtin builtins[] = {
	/* TF's hand-written concat lists (used vectors [1,0,0,0,0,0,0] and [1,1,1,0,0,0,0]) */
	{ "nasnet-a", "nasnet",
	  { NASNET_A_NORMAL_BLOCKS, 6, { 1, 2, 3, 4, 5, 6 } },
	  { NASNET_A_REDUCE_BLOCKS, 4, { 3, 4, 5, 6 } } },
	/* DARTS genotypes.py NASNet: same cells, the paper rule's concat lists */
	{ "nasnet-a-darts", "nasnet",
	  { NASNET_A_NORMAL_BLOCKS, 5, { 2, 3, 4, 5, 6 } },
	  { NASNET_A_REDUCE_BLOCKS, 3, { 4, 5, 6 } } },
	/* DARTS genotypes.py AmoebaNet, 0 and 1 swapped; all ops are NASNet ops */
	{ "amoebanet-a", "nasnet",
	  { 5, { { 1, AVG3, 0, MAX3 }, { 1, SEP3, 2, SEP5 }, { 1, SEP3, 3, AVG3 },
		 { 0, SEP3, 0, ID }, { 1, ID, 0, AVG3 } },
	    3, { 4, 5, 6 } },
	  { 5, { { 1, AVG3, 0, SEP3 }, { 1, MAX3, 2, SEP7 }, { 1, SEP7, 0, AVG3 },
		 { 1, MAX3, 0, MAX3 }, { 1, C17, 5, SEP3 } },
	    3, { 3, 4, 6 } } },
	/* DARTS genotypes.py DARTS_V2 (second order), B=4 */
	{ "darts-v2", "darts",
	  { 4, { { 1, SEP3, 0, SEP3 }, { 1, SEP3, 0, SEP3 }, { 0, SEP3, 1, ID },
		 { 1, ID, 2, DSEP3 } },
	    4, { 2, 3, 4, 5 } },
	  { 4, { { 1, MAX3, 0, MAX3 }, { 2, ID, 0, MAX3 }, { 1, MAX3, 2, ID },
		 { 2, ID, 0, MAX3 } },
	    4, { 2, 3, 4, 5 } } },
	/* DARTS genotypes.py DARTS_V1 (first order), B=4 */
	{ "darts-v1", "darts",
	  { 4, { { 0, SEP3, 1, SEP3 }, { 1, ID, 0, SEP3 }, { 1, ID, 0, SEP3 },
		 { 1, SEP3, 2, ID } },
	    4, { 2, 3, 4, 5 } },
	  { 4, { { 1, MAX3, 0, MAX3 }, { 2, ID, 1, MAX3 }, { 1, MAX3, 2, ID },
		 { 2, ID, 1, AVG3 } },
	    4, { 2, 3, 4, 5 } } },
	/*
	 * ENAS micro final cell (scripts/cifar10_micro_final.sh fixed_arc, ENAS
	 * index 0 = h_{i-1}, so swapped). ENAS concatenates every unused state,
	 * inputs included; both inputs are used here.
	 */
	{ "enas", "enas",
	  { 5, { { 1, AVG3, 1, SEP3 }, { 1, ID, 1, SEP5 }, { 1, ID, 0, SEP5 },
		 { 0, SEP3, 1, SEP5 }, { 1, AVG3, 0, SEP5 } },
	    5, { 2, 3, 4, 5, 6 } },
	  { 5, { { 0, SEP3, 0, SEP3 }, { 1, MAX3, 1, AVG3 }, { 0, SEP5, 3, SEP5 },
		 { 0, SEP3, 1, ID }, { 1, MAX3, 0, SEP5 } },
	    4, { 2, 4, 5, 6 } } },
};

#define NBUILTINS (sizeof(builtins) / sizeof(builtins[0]))

static void cell_from_def(struct cell *c, const struct celldef *d)
{
	memset(c, 0, sizeof(*c));
	c->nblocks = d->nblocks;
	for (int b = 0; b < d->nblocks; b++) {
		c->b[b].in[0] = d->b[b].ia;
		c->b[b].op[0] = d->b[b].oa;
		c->b[b].in[1] = d->b[b].ib;
		c->b[b].op[1] = d->b[b].ob;
		c->b[b].combine = COMBINE_ADD;
	}
	c->nconcat = d->nconcat;
	memcpy(c->concat, d->concat, sizeof(c->concat));
}

int genotype_builtin(struct genotype *g, const char *name)
{
	for (size_t i = 0; i < NBUILTINS; i++) {
		if (strcmp(name, builtins[i].name))
			continue;
		memset(g, 0, sizeof(*g));
		snprintf(g->space, sizeof(g->space), "%s", builtins[i].space);
		cell_from_def(&g->normal, &builtins[i].normal);
		cell_from_def(&g->reduce, &builtins[i].reduce);
		return 0;
	}
	return -1;
}

const char *const *genotype_builtin_names(void)
{
	static const char *const names[NBUILTINS + 1] = {
		"nasnet-a", "nasnet-a-darts", "amoebanet-a", "darts-v2", "darts-v1", "enas", NULL,
	};
	return names;
}
