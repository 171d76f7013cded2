/*
 * space.c - the built-in search spaces (nasnet, enas, nb201) as decision
 * tables, and the maps between action vectors, genotypes and NB201 cell
 * strings. Nothing here allocates; a struct space is plain data.
 */
#include "space.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

static const char *const nb201_ops[NB201_OPS] = {
	"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3",
};

/* nb201 edge e: (to node, from node), in cell string order */
static const int nb201_edge[NB201_EDGES][2] = {
	{ 1, 0 }, { 2, 0 }, { 2, 1 }, { 3, 0 }, { 3, 1 }, { 3, 2 },
};

static const int enas_ops[] = {
	OP_SEP_CONV_3X3, OP_SEP_CONV_5X5, OP_AVG_POOL_3X3, OP_MAX_POOL_3X3, OP_IDENTITY,
};

const char *nb201_op_name(int k)
{
	return k >= 0 && k < NB201_OPS ? nb201_ops[k] : "?";
}

const char *space_names(void)
{
	return "nasnet, enas, nb201";
}

static void add_decision(struct space *s, const char *name, int nchoices, int kind, int cell,
			 int block, int slot)
{
	struct decision *d = &s->d[s->ndecisions++];

	snprintf(d->name, sizeof(d->name), "%s", name);
	d->nchoices = nchoices;
	d->kind = kind;
	d->cell = cell;
	d->block = block;
	d->slot = slot;
}

static void build_cells(struct space *s, int nblocks, int nops, const int *ops, int ncombine)
{
	static const char *const cellname[2] = { "normal", "reduce" };
	char nm[24];

	s->kind = SPACE_CELLS;
	s->nblocks = nblocks;
	s->nops = nops;
	for (int k = 0; k < nops; k++)
		s->ops[k] = ops ? ops[k] : k;
	s->ncombine = ncombine;
	for (int c = 0; c < 2; c++) {
		for (int b = 0; b < nblocks; b++) {
			snprintf(nm, sizeof(nm), "%s.b%d.in_a", cellname[c], b);
			add_decision(s, nm, 2 + b, DEC_INPUT, c, b, 0);
			snprintf(nm, sizeof(nm), "%s.b%d.in_b", cellname[c], b);
			add_decision(s, nm, 2 + b, DEC_INPUT, c, b, 1);
			snprintf(nm, sizeof(nm), "%s.b%d.op_a", cellname[c], b);
			add_decision(s, nm, nops, DEC_OP, c, b, 0);
			snprintf(nm, sizeof(nm), "%s.b%d.op_b", cellname[c], b);
			add_decision(s, nm, nops, DEC_OP, c, b, 1);
			if (ncombine > 1) {
				snprintf(nm, sizeof(nm), "%s.b%d.combine", cellname[c], b);
				add_decision(s, nm, ncombine, DEC_COMBINE, c, b, 0);
			}
		}
	}
}

int space_get(struct space *s, const char *name)
{
	memset(s, 0, sizeof(*s));
	if (!strcmp(name, "nasnet")) {
		build_cells(s, 5, OP_NASNET_COUNT, NULL, 2);
	} else if (!strcmp(name, "enas")) {
		build_cells(s, 5, 5, enas_ops, 1);
	} else if (!strcmp(name, "nb201")) {
		char nm[24];

		s->kind = SPACE_NB201;
		s->nops = NB201_OPS;
		for (int e = 0; e < NB201_EDGES; e++) {
			snprintf(nm, sizeof(nm), "edge.%d<-%d", nb201_edge[e][0], nb201_edge[e][1]);
			add_decision(s, nm, NB201_OPS, DEC_OP, 0, e, 0);
		}
	} else {
		return error("unknown search space '%s' (known: %s)", name, space_names());
	}
	snprintf(s->name, sizeof(s->name), "%s", name);
	return 0;
}

int space_check_actions(const struct space *s, const int *a, const char *what)
{
	for (int i = 0; i < s->ndecisions; i++)
		if (a[i] < 0 || a[i] >= s->d[i].nchoices)
			return error("%s: action %d (%s) is %d, expected 0..%d", what, i, s->d[i].name,
				     a[i], s->d[i].nchoices - 1);
	return 0;
}

int space_to_genotype(const struct space *s, const int *a, struct genotype *g)
{
	if (s->kind != SPACE_CELLS)
		return error("space '%s' has no genotype form (it uses cell strings)", s->name);
	if (space_check_actions(s, a, s->name) < 0)
		return -1;
	memset(g, 0, sizeof(*g));
	snprintf(g->space, sizeof(g->space), "%s", s->name);
	for (int i = 0; i < s->ndecisions; i++) {
		const struct decision *d = &s->d[i];
		struct cell *c = d->cell ? &g->reduce : &g->normal;
		struct block *bl = &c->b[d->block];

		c->nblocks = s->nblocks;
		switch (d->kind) {
		case DEC_INPUT:
			bl->in[d->slot] = a[i];
			break;
		case DEC_OP:
			bl->op[d->slot] = s->ops[a[i]];
			break;
		case DEC_COMBINE:
			bl->combine = a[i];
			break;
		}
	}
	cell_concat_unused(&g->normal);
	cell_concat_unused(&g->reduce);
	return 0;
}

int space_from_genotype(const struct space *s, const struct genotype *g, int *a, const char *what)
{
	if (s->kind != SPACE_CELLS)
		return error("%s: space '%s' has no genotype form (it uses cell strings)", what,
			     s->name);
	if (strcmp(g->space, s->name))
		return error("%s: genotype of space '%s', expected '%s'", what, g->space, s->name);
	for (int c = 0; c < 2; c++) {
		const struct cell *cl = c ? &g->reduce : &g->normal;

		if (cl->nblocks != s->nblocks)
			return error("%s: %s cell has %d blocks, space '%s' has %d", what,
				     c ? "reduction" : "normal", cl->nblocks, s->name, s->nblocks);
	}
	for (int i = 0; i < s->ndecisions; i++) {
		const struct decision *d = &s->d[i];
		const struct block *bl = &(d->cell ? &g->reduce : &g->normal)->b[d->block];
		int k;

		switch (d->kind) {
		case DEC_INPUT:
			a[i] = bl->in[d->slot];
			break;
		case DEC_OP:
			for (k = 0; k < s->nops && s->ops[k] != bl->op[d->slot]; k++)
				;
			if (k == s->nops)
				return error("%s: %s: op %d is not in space '%s'", what, d->name,
					     bl->op[d->slot], s->name);
			a[i] = k;
			break;
		case DEC_COMBINE:
			a[i] = bl->combine;
			break;
		}
	}
	if (s->ncombine == 1)
		for (int c = 0; c < 2; c++)
			for (int b = 0; b < s->nblocks; b++)
				if ((c ? &g->reduce : &g->normal)->b[b].combine != COMBINE_ADD)
					return error("%s: space '%s' allows add only", what,
						     s->name);
	return space_check_actions(s, a, what);
}

int space_to_nb201(const struct space *s, const int *a, char *buf, int n)
{
	int len = 0;

	if (s->kind != SPACE_NB201)
		return error("space '%s' has no cell string form", s->name);
	if (space_check_actions(s, a, s->name) < 0)
		return -1;
	for (int e = 0; e < NB201_EDGES; e++) {
		int w;

		if (e == 1 || e == 3)
			w = snprintf(buf + len, (size_t)(n - len), "+");
		else
			w = 0;
		len += w;
		if (len >= n)
			return error("nb201 cell string does not fit in %d bytes", n);
		w = snprintf(buf + len, (size_t)(n - len), "%s%s~%d|", e == 0 || e == 1 || e == 3 ? "|" : "",
			     nb201_ops[a[e]], nb201_edge[e][1]);
		len += w;
		if (len >= n)
			return error("nb201 cell string does not fit in %d bytes", n);
	}
	return len;
}

int space_from_nb201(const struct space *s, const char *cell, int *a, const char *what)
{
	const char *p = cell;

	if (s->kind != SPACE_NB201)
		return error("%s: space '%s' does not use nb201 cell strings", what, s->name);
	for (int e = 0; e < NB201_EDGES; e++) {
		const char *tilde, *bar;
		int k;

		if (e == 1 || e == 3) {
			if (*p != '+')
				goto bad;
			p++;
		}
		if (e == 0 || e == 1 || e == 3) {
			if (*p != '|')
				goto bad;
			p++;
		}
		tilde = strchr(p, '~');
		bar = tilde ? strchr(tilde, '|') : NULL;
		if (!bar)
			goto bad;
		for (k = 0; k < NB201_OPS; k++)
			if ((size_t)(tilde - p) == strlen(nb201_ops[k]) &&
			    !strncmp(p, nb201_ops[k], (size_t)(tilde - p)))
				break;
		if (k == NB201_OPS)
			return error("%s: unknown nb201 op '%.*s' in cell '%s'", what, (int)(tilde - p),
				     p, cell);
		if (bar - tilde != 2 || tilde[1] - '0' != nb201_edge[e][1])
			goto bad;
		a[e] = k;
		p = bar + 1;
	}
	if (*p)
		goto bad;
	return 0;
bad:
	return error("%s: bad nb201 cell string '%s' (expected |op~0|+|op~0|op~1|+|op~0|op~1|op~2|)",
		     what, cell);
}

int nb201_code(const int *a)
{
	int code = 0;

	for (int e = 0; e < NB201_EDGES; e++)
		code = code * NB201_OPS + a[e];
	return code;
}
