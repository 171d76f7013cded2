/*
 * genotext.c - the two text forms of a genotype: nasnet-c's compact one-line
 * notation and DARTS's Python notation, each read and written.
 *
 * Both parsers are strict hand-written recursive descent over the text: any
 * unknown word, out-of-range index or stray character is an error that
 * names the input and the line/column, never a default. '#' starts a
 * comment that runs to the end of the line, so the files in data/genotypes/
 * can say where a cell comes from. The grammar of the compact form is in
 * schemas/genotype.md.
 */
#include "genotype.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define WORD_MAX 32

struct parser {
	const char *s;
	size_t pos;
	size_t errpos;
	int failed;
	char msg[256];
};

static int fail(struct parser *p, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct parser *p, size_t at, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return -1;
	p->failed = 1;
	p->errpos = at;
	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* "what: line L, column C: msg" (the line only for multi-line text) */
static int report(const struct parser *p, const char *what)
{
	size_t len = strlen(p->s);
	int line = 1, col = 1, multiline;

	while (len && isspace((unsigned char)p->s[len - 1]))
		len--;
	multiline = memchr(p->s, '\n', len) != NULL;
	for (size_t i = 0; i < p->errpos && p->s[i]; i++) {
		if (p->s[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	if (multiline)
		return error("%s: line %d, column %d: %s", what, line, col, p->msg);
	return error("%s: column %d: %s", what, col, p->msg);
}

static void skip_ws(struct parser *p)
{
	for (;;) {
		char c = p->s[p->pos];

		if (c == '#') {
			while (p->s[p->pos] && p->s[p->pos] != '\n')
				p->pos++;
		} else if (c && isspace((unsigned char)c)) {
			p->pos++;
		} else {
			return;
		}
	}
}

static int is_word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* Describe what stands at the cursor, for "expected X, found Y". */
static const char *found(const struct parser *p, char *buf, size_t n)
{
	const char *at = p->s + p->pos;
	size_t k = 0;

	if (!*at)
		return "end of text";
	if (!is_word_char(*at)) {
		snprintf(buf, n, "'%c'", *at);
		return buf;
	}
	while (is_word_char(at[k]) && k < 20)
		k++;
	snprintf(buf, n, "'%.*s'", (int)k, at);
	return buf;
}

static int expect_char(struct parser *p, char c, const char *context)
{
	char buf[32];

	skip_ws(p);
	if (p->s[p->pos] != c)
		return fail(p, p->pos, "expected '%c' %s, found %s", c, context, found(p, buf, sizeof(buf)));
	p->pos++;
	return 0;
}

/* A word of [A-Za-z0-9_-]; *start receives its position. */
static int read_word(struct parser *p, char *w, size_t *start, const char *expected)
{
	size_t k = 0;
	char buf[32];

	skip_ws(p);
	*start = p->pos;
	if (!is_word_char(p->s[p->pos]))
		return fail(p, p->pos, "expected %s, found %s", expected, found(p, buf, sizeof(buf)));
	while (is_word_char(p->s[p->pos])) {
		if (k + 1 >= WORD_MAX)
			return fail(p, *start, "name longer than %d characters", WORD_MAX - 1);
		w[k++] = p->s[p->pos++];
	}
	w[k] = '\0';
	return 0;
}

static int expect_word(struct parser *p, const char *word, const char *context)
{
	char w[WORD_MAX];
	size_t at;

	if (read_word(p, w, &at, word) < 0)
		return -1;
	if (strcmp(w, word))
		return fail(p, at, "expected '%s' %s, found '%s'", word, context, w);
	return 0;
}

/* A decimal number 0..999. */
static int read_index(struct parser *p, int *v, size_t *start, const char *expected)
{
	int x = 0, digits = 0;
	char buf[32];

	skip_ws(p);
	*start = p->pos;
	if (!isdigit((unsigned char)p->s[p->pos]))
		return fail(p, p->pos, "expected %s, found %s", expected, found(p, buf, sizeof(buf)));
	while (isdigit((unsigned char)p->s[p->pos])) {
		if (++digits > 3)
			return fail(p, *start, "number too large");
		x = x * 10 + (p->s[p->pos++] - '0');
	}
	if (is_word_char(p->s[p->pos]))
		return fail(p, *start, "expected %s, found %s", expected, found(p, buf, sizeof(buf)));
	*v = x;
	return 0;
}

static int peek(struct parser *p)
{
	skip_ws(p);
	return (unsigned char)p->s[p->pos];
}

/* ---- small bounded string builder ---- */

struct sbuf {
	char *buf;
	int n, len, overflow;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (b->overflow)
		return;
	va_start(ap, fmt);
	k = vsnprintf(b->buf + b->len, (size_t)(b->n - b->len), fmt, ap);
	va_end(ap);
	if (k < 0 || k >= b->n - b->len) {
		b->overflow = 1;
		return;
	}
	b->len += k;
}

static int sb_finish(struct sbuf *b, const char *form)
{
	if (b->overflow)
		return error("genotype: %s text needs more than %d bytes", form, b->n);
	return b->len;
}

/* ---- compact notation ---- */

static void format_cell(struct sbuf *b, const struct cell *c, const char *label)
{
	sb_printf(b, "%s:", label);
	for (int i = 0; i < c->nblocks; i++) {
		const struct block *k = &c->b[i];

		sb_printf(b, "%s %s@%d %s %s@%d", i ? " ;" : "", op_name(k->op[0]), k->in[0],
			  k->combine == COMBINE_CONCAT ? "cat" : "+", op_name(k->op[1]), k->in[1]);
	}
	sb_printf(b, " | concat ");
	for (int i = 0; i < c->nconcat; i++)
		sb_printf(b, "%s%d", i ? "," : "", c->concat[i]);
}

int genotype_format(const struct genotype *g, char *buf, int n)
{
	struct sbuf b = { buf, n, 0, 0 };

	if (n < 1)
		return error("genotype: no room for the text");
	buf[0] = '\0';
	if (genotype_validate(g, "genotype") < 0)
		return -1;
	if (g->space[0])
		sb_printf(&b, "[%s] ", g->space);
	format_cell(&b, &g->normal, "normal");
	sb_printf(&b, " || ");
	format_cell(&b, &g->reduce, "reduce");
	return sb_finish(&b, "compact");
}

static int all_nasnet_ops(const struct cell *c)
{
	for (int b = 0; b < c->nblocks; b++)
		if (c->b[b].op[0] >= OP_NASNET_COUNT || c->b[b].op[1] >= OP_NASNET_COUNT)
			return 0;
	return 1;
}

/* op@index, where block b may read states 0..b+1 */
static int parse_operand(struct parser *p, int b, int *in, int *op)
{
	char w[WORD_MAX];
	size_t at;
	int d;

	if (read_word(p, w, &at, "an op name") < 0)
		return -1;
	*op = op_lookup(w);
	if (*op < 0) {
		d = op_lookup_darts(w);
		if (d >= 0)
			return fail(p, at, "unknown op '%s' (DARTS name; here it is '%s')", w,
				    op_name(d));
		return fail(p, at, "unknown op '%s'", w);
	}
	if (expect_char(p, '@', "after the op name") < 0)
		return -1;
	if (read_index(p, in, &at, "an input state index") < 0)
		return -1;
	if (*in > b + 1)
		return fail(p, at, "block %d reads state %d, but only states 0..%d exist before it",
			    b, *in, b + 1);
	return 0;
}

static int parse_cell(struct parser *p, struct cell *c, const char *label)
{
	char w[WORD_MAX], buf[32];
	size_t at;

	memset(c, 0, sizeof(*c));
	if (expect_word(p, label, "cell label") < 0 || expect_char(p, ':', "after the cell label") < 0)
		return -1;
	for (;;) {
		struct block *k = &c->b[c->nblocks];

		if (c->nblocks == GENOTYPE_MAX_BLOCKS)
			return fail(p, p->pos, "%s cell has more than %d blocks", label,
				    GENOTYPE_MAX_BLOCKS);
		if (parse_operand(p, c->nblocks, &k->in[0], &k->op[0]) < 0)
			return -1;
		if (peek(p) == '+') {
			p->pos++;
			k->combine = COMBINE_ADD;
		} else {
			if (read_word(p, w, &at, "'+' or 'cat'") < 0)
				return -1;
			if (strcmp(w, "cat"))
				return fail(p, at, "expected '+' or 'cat', found '%s'", w);
			k->combine = COMBINE_CONCAT;
		}
		if (parse_operand(p, c->nblocks, &k->in[1], &k->op[1]) < 0)
			return -1;
		c->nblocks++;
		if (peek(p) == ';') {
			p->pos++;
			continue;
		}
		if (p->s[p->pos] == '|' && p->s[p->pos + 1] != '|') {
			p->pos++;
			break;
		}
		return fail(p, p->pos, "expected ';' or '| concat' after block %d, found %s",
			    c->nblocks - 1, found(p, buf, sizeof(buf)));
	}
	if (expect_word(p, "concat", "after '|'") < 0)
		return -1;
	for (;;) {
		int v;

		if (read_index(p, &v, &at, "a state index") < 0)
			return -1;
		if (v > c->nblocks + 1)
			return fail(p, at, "concat state %d out of range 0..%d", v, c->nblocks + 1);
		if (c->nconcat && v <= c->concat[c->nconcat - 1])
			return fail(p, at, "concat list must be strictly increasing (%d after %d)", v,
				    c->concat[c->nconcat - 1]);
		c->concat[c->nconcat++] = v;
		if (peek(p) != ',')
			break;
		p->pos++;
	}
	return 0;
}

int genotype_parse(struct genotype *g, const char *text, const char *what)
{
	struct parser p = { .s = text };
	struct genotype t;
	char buf[32];

	memset(&t, 0, sizeof(t));
	if (peek(&p) == '[') {
		char w[WORD_MAX];
		size_t at;

		p.pos++;
		if (read_word(&p, w, &at, "a space name") < 0)
			return report(&p, what);
		if (strlen(w) >= sizeof(t.space)) {
			fail(&p, at, "space name longer than %zu characters", sizeof(t.space) - 1);
			return report(&p, what);
		}
		memcpy(t.space, w, strlen(w) + 1);
		if (expect_char(&p, ']', "after the space name") < 0)
			return report(&p, what);
	}
	if (parse_cell(&p, &t.normal, "normal") < 0)
		return report(&p, what);
	skip_ws(&p);
	if (strncmp(p.s + p.pos, "||", 2)) {
		fail(&p, p.pos, "expected '||' between the normal and the reduce cell, found %s",
		     found(&p, buf, sizeof(buf)));
		return report(&p, what);
	}
	p.pos += 2;
	if (parse_cell(&p, &t.reduce, "reduce") < 0)
		return report(&p, what);
	if (peek(&p) != '\0') {
		fail(&p, p.pos, "unexpected %s after the reduce cell", found(&p, buf, sizeof(buf)));
		return report(&p, what);
	}
	if (!t.space[0])
		strcpy(t.space,
		       all_nasnet_ops(&t.normal) && all_nasnet_ops(&t.reduce) ? "nasnet" : "custom");
	if (genotype_validate(&t, what) < 0)
		return -1;
	*g = t;
	return 0;
}

/* ---- DARTS notation ---- */

static int swap01(int i)
{
	return i == 0 ? 1 : i == 1 ? 0 : i;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* TF concat list -> DARTS concat list (swapped, increasing) */
static int darts_concat(const struct cell *c, int *out)
{
	for (int i = 0; i < c->nconcat; i++)
		out[i] = swap01(c->concat[i]);
	qsort(out, (size_t)c->nconcat, sizeof(int), cmp_int);
	return c->nconcat;
}

static int format_darts_cell(struct sbuf *b, const struct cell *c, const char *label)
{
	int concat[GENOTYPE_MAX_STATES], n;

	sb_printf(b, "%s=[", label);
	for (int i = 0; i < c->nblocks; i++) {
		const struct block *k = &c->b[i];

		if (k->combine != COMBINE_ADD)
			return error("genotype: %s cell block %d combines by concat, which DARTS notation cannot express",
				     label, i);
		for (int s = 0; s < 2; s++) {
			const char *name = op_darts_name(k->op[s]);

			if (!name)
				return error("genotype: %s cell block %d: op %s has no DARTS equivalent",
					     label, i, op_name(k->op[s]));
			sb_printf(b, "%s('%s', %d)", i || s ? ", " : "", name, swap01(k->in[s]));
		}
	}
	sb_printf(b, "], %s_concat=[", label);
	n = darts_concat(c, concat);
	for (int i = 0; i < n; i++)
		sb_printf(b, "%s%d", i ? ", " : "", concat[i]);
	sb_printf(b, "]");
	return 0;
}

int genotype_format_darts(const struct genotype *g, char *buf, int n)
{
	struct sbuf b = { buf, n, 0, 0 };

	if (n < 1)
		return error("genotype: no room for the text");
	buf[0] = '\0';
	if (genotype_validate(g, "genotype") < 0)
		return -1;
	sb_printf(&b, "Genotype(");
	if (format_darts_cell(&b, &g->normal, "normal") < 0)
		return -1;
	sb_printf(&b, ", ");
	if (format_darts_cell(&b, &g->reduce, "reduce") < 0)
		return -1;
	sb_printf(&b, ")");
	return sb_finish(&b, "DARTS");
}

enum { F_NORMAL, F_NORMAL_CONCAT, F_REDUCE, F_REDUCE_CONCAT, F_COUNT };
static const char *const darts_fields[F_COUNT] = { "normal", "normal_concat", "reduce",
						   "reduce_concat" };

/* A concat list as written, checked once the cell's block count is known. */
struct rawlist {
	int n;
	int v[GENOTYPE_MAX_STATES];
	size_t at[GENOTYPE_MAX_STATES];
	size_t start;
};

static int parse_darts_string(struct parser *p, char *w, size_t *start)
{
	char q, buf[32];
	size_t k = 0;

	skip_ws(p);
	*start = p->pos;
	q = p->s[p->pos];
	if (q != '\'' && q != '"')
		return fail(p, p->pos, "expected a quoted op name, found %s", found(p, buf, sizeof(buf)));
	p->pos++;
	while (p->s[p->pos] != q) {
		if (!p->s[p->pos] || p->s[p->pos] == '\n')
			return fail(p, *start, "unterminated string");
		if (k + 1 >= WORD_MAX)
			return fail(p, *start, "op name longer than %d characters", WORD_MAX - 1);
		w[k++] = p->s[p->pos++];
	}
	p->pos++;
	w[k] = '\0';
	return 0;
}

/* [('op', i), ...] -> blocks (inputs still in DARTS indexing) */
static int parse_darts_ops(struct parser *p, struct cell *c, const char *field)
{
	int npairs = 0;
	size_t at, close_at;
	char w[WORD_MAX];

	memset(c, 0, sizeof(*c));
	if (expect_char(p, '[', "to open the op list") < 0)
		return -1;
	while (peek(p) != ']') {
		int b = npairs / 2, s = npairs % 2, op, in;

		if (npairs == 2 * GENOTYPE_MAX_BLOCKS)
			return fail(p, p->pos, "%s has more than %d blocks", field, GENOTYPE_MAX_BLOCKS);
		if (expect_char(p, '(', "to open an (op, input) pair") < 0 ||
		    parse_darts_string(p, w, &at) < 0)
			return -1;
		op = op_lookup_darts(w);
		if (op < 0) {
			if (!strcmp(w, "none"))
				return fail(p, at, "op 'none' (DARTS's zero op) cannot be built");
			return fail(p, at, "unknown DARTS op '%s'", w);
		}
		if (expect_char(p, ',', "after the op name") < 0 ||
		    read_index(p, &in, &at, "an input index") < 0)
			return -1;
		if (in > b + 1)
			return fail(p, at, "block %d reads state %d, but only states 0..%d exist before it",
				    b, in, b + 1);
		if (expect_char(p, ')', "to close the pair") < 0)
			return -1;
		c->b[b].op[s] = op;
		c->b[b].in[s] = in;
		c->b[b].combine = COMBINE_ADD;
		npairs++;
		if (peek(p) == ',')
			p->pos++;
		else if (peek(p) != ']')
			return expect_char(p, ']', "or ',' after a pair");
	}
	close_at = p->pos;
	p->pos++;
	if (npairs == 0)
		return fail(p, close_at, "%s is empty", field);
	if (npairs % 2)
		return fail(p, close_at, "%s has %d (op, input) pairs; a block takes two", field, npairs);
	c->nblocks = npairs / 2;
	return 0;
}

static int parse_darts_concat(struct parser *p, struct rawlist *r, const char *field)
{
	memset(r, 0, sizeof(*r));
	skip_ws(p);
	r->start = p->pos;
	if (peek(p) == '[') {
		p->pos++;
		while (peek(p) != ']') {
			if (r->n == GENOTYPE_MAX_STATES)
				return fail(p, p->pos, "%s has more than %d entries", field,
					    GENOTYPE_MAX_STATES);
			if (read_index(p, &r->v[r->n], &r->at[r->n], "a state index") < 0)
				return -1;
			r->n++;
			if (peek(p) == ',')
				p->pos++;
			else if (peek(p) != ']')
				return expect_char(p, ']', "or ',' in the concat list");
		}
		p->pos++;
	} else {
		int lo = 0, hi;
		size_t hi_at;

		if (expect_word(p, "range", "or '[' for a concat list") < 0 ||
		    expect_char(p, '(', "after range") < 0 ||
		    read_index(p, &hi, &hi_at, "a number") < 0)
			return -1;
		if (peek(p) == ',') {
			p->pos++;
			lo = hi;
			if (read_index(p, &hi, &hi_at, "a number") < 0)
				return -1;
		}
		if (expect_char(p, ')', "to close range(") < 0)
			return -1;
		if (hi - lo > GENOTYPE_MAX_STATES)
			return fail(p, hi_at, "%s has more than %d entries", field, GENOTYPE_MAX_STATES);
		for (int v = lo; v < hi; v++) {
			r->v[r->n] = v;
			r->at[r->n++] = hi_at;
		}
	}
	if (r->n == 0)
		return fail(p, r->start, "%s is empty", field);
	return 0;
}

static int finish_darts_cell(struct parser *p, struct cell *c, const struct rawlist *r,
			     const char *field)
{
	for (int i = 0; i < r->n; i++) {
		if (r->v[i] > c->nblocks + 1)
			return fail(p, r->at[i], "%s state %d out of range 0..%d", field, r->v[i],
				    c->nblocks + 1);
		if (i && r->v[i] <= r->v[i - 1])
			return fail(p, r->at[i], "%s must be strictly increasing (%d after %d)", field,
				    r->v[i], r->v[i - 1]);
	}
	for (int b = 0; b < c->nblocks; b++) {
		c->b[b].in[0] = swap01(c->b[b].in[0]);
		c->b[b].in[1] = swap01(c->b[b].in[1]);
	}
	c->nconcat = r->n;
	for (int i = 0; i < r->n; i++)
		c->concat[i] = swap01(r->v[i]);
	qsort(c->concat, (size_t)c->nconcat, sizeof(int), cmp_int);
	return 0;
}

static int parse_darts_body(struct parser *p, struct genotype *t)
{
	struct rawlist lists[2];
	int seen[F_COUNT] = { 0 }, npos = 0, keywords = 0;
	char w[WORD_MAX], buf[32];
	size_t at;

	if (read_word(p, w, &at, "'Genotype('") < 0)
		return -1;
	if (strcmp(w, "Genotype")) {
		/* "NAME = Genotype(...)" as written in genotypes.py */
		if (expect_char(p, '=', "after the variable name") < 0 ||
		    expect_word(p, "Genotype", "after '='") < 0)
			return -1;
	}
	if (expect_char(p, '(', "after Genotype") < 0)
		return -1;
	while (peek(p) != ')') {
		int f = -1;
		size_t save = p->pos;

		if (is_word_char(p->s[p->pos]) && !isdigit((unsigned char)p->s[p->pos]) &&
		    strncmp(p->s + p->pos, "range", 5)) {
			if (read_word(p, w, &at, "a field name") < 0)
				return -1;
			for (int i = 0; i < F_COUNT; i++)
				if (!strcmp(w, darts_fields[i]))
					f = i;
			if (f < 0)
				return fail(p, at, "unknown Genotype field '%s'", w);
			if (expect_char(p, '=', "after the field name") < 0)
				return -1;
			keywords = 1;
		} else {
			p->pos = save;
			if (keywords)
				return fail(p, p->pos, "positional argument after keyword arguments");
			if (npos == F_COUNT)
				return fail(p, p->pos, "Genotype takes %d fields", F_COUNT);
			f = npos++;
			at = p->pos;
		}
		if (seen[f])
			return fail(p, at, "field '%s' given twice", darts_fields[f]);
		seen[f] = 1;
		switch (f) {
		case F_NORMAL:
			if (parse_darts_ops(p, &t->normal, "normal") < 0)
				return -1;
			break;
		case F_REDUCE:
			if (parse_darts_ops(p, &t->reduce, "reduce") < 0)
				return -1;
			break;
		default:
			if (parse_darts_concat(p, &lists[f == F_REDUCE_CONCAT], darts_fields[f]) < 0)
				return -1;
		}
		if (peek(p) == ',')
			p->pos++;
		else if (peek(p) != ')')
			return fail(p, p->pos, "expected ',' or ')' after field '%s', found %s",
				    darts_fields[f], found(p, buf, sizeof(buf)));
	}
	for (int f = 0; f < F_COUNT; f++)
		if (!seen[f])
			return fail(p, p->pos, "missing field '%s'", darts_fields[f]);
	p->pos++;
	if (peek(p) != '\0')
		return fail(p, p->pos, "unexpected %s after Genotype(...)", found(p, buf, sizeof(buf)));
	if (finish_darts_cell(p, &t->normal, &lists[0], "normal_concat") < 0 ||
	    finish_darts_cell(p, &t->reduce, &lists[1], "reduce_concat") < 0)
		return -1;
	return 0;
}

int genotype_parse_darts(struct genotype *g, const char *text, const char *what)
{
	struct parser p = { .s = text };
	struct genotype t;

	memset(&t, 0, sizeof(t));
	if (parse_darts_body(&p, &t) < 0)
		return report(&p, what);
	strcpy(t.space, "darts");
	if (genotype_validate(&t, what) < 0)
		return -1;
	*g = t;
	return 0;
}

int genotype_parse_any(struct genotype *g, const char *text, const char *what)
{
	if (strstr(text, "Genotype"))
		return genotype_parse_darts(g, text, what);
	return genotype_parse(g, text, what);
}
