/*
 * transfer.c - choosing cells to transfer, sizing their networks, and the
 * results table of `transfer` (transfer.h, schemas/transfer.md). Training
 * itself is train_child_splits() (train.c); the tool glues the two.
 */
#include "transfer.h"

#include <glob.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genofile.h"
#include "h5io.h"
#include "net.h"
#include "reward.h"
#include "util.h"

/* ---- picks ---- */

struct ranked {
	double reward;
	int64_t round, index;
	char *path;
	double accuracy;   /* as history.tsv prints it (transfer_run_pareto) */
	int64_t params;
};

/* the tie-break of both orders: (round, index), then path */
static int ranked_tiebreak(const struct ranked *x, const struct ranked *y)
{
	if (x->round != y->round)
		return x->round < y->round ? -1 : 1;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return strcmp(x->path, y->path);
}

/* best reward first, then the tie-break: a total order */
static int ranked_cmp(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->reward != y->reward)
		return x->reward > y->reward ? -1 : 1;
	return ranked_tiebreak(x, y);
}

static void base_name(char *out, size_t n, const char *path)
{
	const char *b = strrchr(path, '/');
	size_t len;

	b = b ? b + 1 : path;
	len = strlen(b);
	if (len > 3 && !strcmp(b + len - 3, ".h5"))
		len -= 3;
	else if (len > 4 && !strcmp(b + len - 4, ".txt"))
		len -= 4;
	if (len >= n)
		len = n - 1;
	memcpy(out, b, len);
	out[len] = 0;
}

static int pick_from_reward(const struct reward *r, const char *reward_path,
			    struct transfer_pick *p)
{
	struct genofile gf;
	char path[2048];

	if (reward_genotype_path(r, reward_path, path, sizeof path) < 0)
		return -1;
	if (genofile_read(path, &gf) < 0 || reward_check_genotype(r, reward_path, &gf, path) < 0)
		return -1;
	if (!gf.has_cells)
		return error("%s: space '%s' has no cells to transfer (it is a table lookup)",
			     path, gf.space);
	memset(p, 0, sizeof *p);
	p->geno = gf.geno;
	p->reward = r->reward;
	snprintf(p->source, sizeof p->source, "%s", path);
	if (r->round >= 0 && r->index >= 0)
		snprintf(p->name, sizeof p->name, "r%03lld-a%04lld", (long long)r->round,
			 (long long)r->index);
	else
		base_name(p->name, sizeof p->name, path);
	return 0;
}

/* a search child's reward, arch_NNNN.reward.h5; not a test-split score
 * (arch_0000.test.reward.h5) or another stray file of a round folder */
static int is_child_reward(const char *path)
{
	const char *b = strrchr(path, '/'), *p;

	b = b ? b + 1 : path;
	if (strncmp(b, "arch_", 5))
		return 0;
	for (p = b + 5; *p >= '0' && *p <= '9'; p++)
		;
	return p > b + 5 && !strcmp(p, ".reward.h5");
}

int transfer_run_top(const char *run, int k, struct transfer_pick **picks, int *n)
{
	char pattern[4096], text[GENOTYPE_TEXT_MAX];
	char (*seen)[GENOTYPE_TEXT_MAX] = NULL;
	struct ranked *list = NULL;
	struct reward r;
	glob_t gl;
	int count = 0, got = 0, rc = -1, grc;

	*picks = NULL;
	*n = 0;
	if (k < 1)
		return error("%s: --top must be at least 1", run);
	if (snprintf(pattern, sizeof pattern, "%s/round-*/arch_*.reward.h5", run) >=
	    (int)sizeof pattern)
		return error("%s: path too long", run);
	grc = glob(pattern, 0, NULL, &gl);
	if (grc != 0 && grc != GLOB_NOMATCH)
		return error("%s: cannot list the reward files", run);
	if (grc == 0)
		list = xcalloc(gl.gl_pathc, sizeof *list);
	for (size_t i = 0; grc == 0 && i < gl.gl_pathc; i++) {
		if (!is_child_reward(gl.gl_pathv[i]))
			continue;
		if (reward_read(&r, gl.gl_pathv[i]) < 0)
			goto out;
		if (r.failed)
			continue;
		list[count].reward = r.reward;
		list[count].round = r.round;
		list[count].index = r.index;
		list[count].path = gl.gl_pathv[i];
		count++;
	}
	if (count == 0) {
		error("%s: no finished child (no reward file without a failure in %s/round-*/); "
		      "run the search first, or use --genotype", run, run);
		goto out;
	}
	qsort(list, (size_t)count, sizeof *list, ranked_cmp);
	*picks = xcalloc((size_t)k, sizeof **picks);
	seen = xcalloc((size_t)k, sizeof *seen);
	for (int i = 0; i < count && got < k; i++) {
		int dup = 0;

		if (reward_read(&r, list[i].path) < 0 ||
		    pick_from_reward(&r, list[i].path, &(*picks)[got]) < 0)
			goto out;
		if (genotype_format(&(*picks)[got].geno, text, sizeof text) < 0)
			goto out;
		for (int j = 0; j < got && !dup; j++)
			dup = !strcmp(seen[j], text);
		if (dup)
			continue;
		snprintf(seen[got], sizeof seen[got], "%s", text);
		got++;
	}
	*n = got;
	rc = 0;
out:
	if (rc < 0) {
		free(*picks);
		*picks = NULL;
	}
	free(seen);
	free(list);
	if (grc == 0)
		globfree(&gl);
	return rc;
}

/* accuracy down, params up, then (round, index): pareto.sh's order */
static int front_cmp(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->accuracy != y->accuracy)
		return x->accuracy > y->accuracy ? -1 : 1;
	if (x->params != y->params)
		return x->params < y->params ? -1 : 1;
	return ranked_tiebreak(x, y);
}

int transfer_run_pareto(const char *run, int k, struct transfer_pick **picks, int *n)
{
	char pattern[4096], num[64], text[GENOTYPE_TEXT_MAX];
	char (*seen)[GENOTYPE_TEXT_MAX] = NULL;
	struct ranked *list = NULL;
	struct transfer_pick *front = NULL;
	struct reward r;
	glob_t gl;
	int count = 0, nf = 0, rc = -1, grc;
	int64_t best = INT64_MAX, gmin = 0;

	*picks = NULL;
	*n = 0;
	if (k < 1)
		return error("%s: --pareto must be at least 1", run);
	if (snprintf(pattern, sizeof pattern, "%s/round-*/arch_*.reward.h5", run) >=
	    (int)sizeof pattern)
		return error("%s: path too long", run);
	grc = glob(pattern, 0, NULL, &gl);
	if (grc != 0 && grc != GLOB_NOMATCH)
		return error("%s: cannot list the reward files", run);
	if (grc == 0)
		list = xcalloc(gl.gl_pathc, sizeof *list);
	for (size_t i = 0; grc == 0 && i < gl.gl_pathc; i++) {
		if (reward_read(&r, gl.gl_pathv[i]) < 0)
			goto out;
		if (r.failed)
			continue;
		snprintf(num, sizeof num, "%.6f", r.accuracy);
		list[count].accuracy = strtod(num, NULL);
		list[count].params = r.params;
		list[count].reward = r.reward;
		list[count].round = r.round;
		list[count].index = r.index;
		list[count].path = gl.gl_pathv[i];
		count++;
	}
	if (count == 0) {
		error("%s: no finished child (no reward file without a failure in %s/round-*/); "
		      "run the search first, or use --genotype", run, run);
		goto out;
	}
	qsort(list, (size_t)count, sizeof *list, front_cmp);
	front = xcalloc((size_t)count, sizeof *front);
	seen = xcalloc((size_t)count, sizeof *seen);
	/* the scan of pipelines/pareto.sh: the cheapest of each accuracy, if cheaper
	 * than every more accurate child */
	for (int i = 0; i < count; i++) {
		int dup = 0;

		if (i == 0 || list[i].accuracy != list[i - 1].accuracy) {
			if (i > 0 && gmin < best)
				best = gmin;
			gmin = list[i].params;
		}
		if (list[i].params != gmin || list[i].params >= best)
			continue;
		if (reward_read(&r, list[i].path) < 0 ||
		    pick_from_reward(&r, list[i].path, &front[nf]) < 0 ||
		    genotype_format(&front[nf].geno, text, sizeof text) < 0)
			goto out;
		for (int j = 0; j < nf && !dup; j++)
			dup = !strcmp(seen[j], text);
		if (dup)
			continue;
		snprintf(seen[nf], sizeof seen[nf], "%s", text);
		nf++;
	}
	/* front[] runs from the most accurate (dearest) to the cheapest */
	if (k > nf)
		k = nf;
	*picks = xcalloc((size_t)k, sizeof **picks);
	for (int i = 0; i < k; i++)
		(*picks)[i] = front[k == 1 ? 0 : (int)((int64_t)i * (nf - 1) * 2 / (k - 1) + 1) / 2];
	*n = k;
	rc = 0;
out:
	free(front);
	free(seen);
	free(list);
	if (grc == 0)
		globfree(&gl);
	return rc;
}

/* FNV-1a, 32 bits: a short stable name for genotype text */
static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

int transfer_pick_named(const char *arg, struct transfer_pick *p)
{
	const char *const *names = genotype_builtin_names();
	char text[GENOTYPE_TEXT_MAX];
	FILE *f;

	memset(p, 0, sizeof *p);
	p->reward = NAN;
	if (genotype_resolve(&p->geno, arg) < 0)
		return -1;
	snprintf(p->source, sizeof p->source, "%s", arg);
	for (int i = 0; names[i]; i++)
		if (!strcmp(names[i], arg)) {
			snprintf(p->name, sizeof p->name, "%s", arg);
			return 0;
		}
	f = fopen(arg, "r");
	if (f) {
		fclose(f);
		base_name(p->name, sizeof p->name, arg);
		return 0;
	}
	if (genotype_format(&p->geno, text, sizeof text) < 0)
		return -1;
	snprintf(p->name, sizeof p->name, "g-%08x", fnv1a(text));
	snprintf(p->source, sizeof p->source, "text");
	return 0;
}

/* ---- sizes ---- */

int transfer_size(const struct genotype *g, const struct macro_config *m, int *penultimate,
		  int64_t *params, int64_t *macs)
{
	struct net *n = net_create(g, m, 0, NULL);
	int p = -1;

	if (!n)
		return -1;
	for (int i = 0; i < n->nsteps; i++)
		if (n->steps[i].kind == STEP_GAP && !n->steps[i].aux)
			p = n->tensors[n->steps[i].in[0]].C;
	if (penultimate)
		*penultimate = p;
	if (params)
		*params = n->n_params;
	if (macs)
		*macs = n->n_macs;
	net_free(n);
	if (p < 0)
		return error("network has no global average pool");
	return 0;
}

int transfer_filters_for(const struct genotype *g, const struct macro_config *m, int penultimate,
			 int *filters)
{
	struct macro_config mm = *m;
	int p2, per, f, p;

	/* F = 2 always builds (factorized reductions need even F) */
	mm.filters = 2;
	if (transfer_size(g, &mm, &p2, NULL, NULL) < 0)
		return -1;
	per = p2 / 2;
	f = per > 0 ? penultimate / per : 0;
	if (f >= 1) {
		mm.filters = f;
		if (transfer_size(g, &mm, &p, NULL, NULL) == 0 && p == penultimate) {
			*filters = f;
			return 0;
		}
	}
	return error("penultimate width %d is not reachable: this cell gives P = %d F "
		     "(e.g. %d or %d); use --filters", penultimate, per, per * (f > 1 ? f : 2),
		     per * (f > 1 ? f + 1 : 4));
}

/* ---- rows ---- */

void transfer_row_init(struct transfer_row *r)
{
	memset(r, 0, sizeof *r);
	snprintf(r->status, sizeof r->status, "ok");
	snprintf(r->train_split, sizeof r->train_split, "train+valid");
	snprintf(r->eval_split, sizeof r->eval_split, "test");
	r->epochs = r->train_seconds = r->images_per_second = NAN;
	r->test_accuracy = r->test_loss = r->search_reward = NAN;
}

/* one table drives writing and reading the columns (schemas/transfer.md) */
enum col_kind { C_STR, C_INT, C_I64, C_F64 };

struct column {
	const char *name;
	int kind;
	size_t off, size;   /* size: strings only */
};

#define RS(f) C_STR, offsetof(struct transfer_row, f), sizeof(((struct transfer_row *)0)->f)
#define RI(f) C_INT, offsetof(struct transfer_row, f), 0
#define RL(f) C_I64, offsetof(struct transfer_row, f), 0
#define RD(f) C_F64, offsetof(struct transfer_row, f), 0

static const struct column columns[] = {
	{ "name", RS(name) },
	{ "genotype", RS(genotype) },
	{ "status", RS(status) },
	{ "data", RS(data) },
	{ "train_split", RS(train_split) },
	{ "eval_split", RS(eval_split) },
	{ "cells", RI(cells) },
	{ "filters", RI(filters) },
	{ "penultimate", RI(penultimate) },
	{ "params", RL(params) },
	{ "mult_adds", RL(mult_adds) },
	{ "train_images", RL(train_images) },
	{ "test_images", RL(test_images) },
	{ "steps", RL(steps) },
	{ "epochs", RD(epochs) },
	{ "train_seconds", RD(train_seconds) },
	{ "images_per_second", RD(images_per_second) },
	{ "test_accuracy", RD(test_accuracy) },
	{ "test_loss", RD(test_loss) },
	{ "search_reward", RD(search_reward) },
};

#define NCOLUMNS (sizeof columns / sizeof columns[0])

static void *col_ptr(const struct transfer_row *r, const struct column *c)
{
	return (char *)r + c->off;
}

int transfer_rows_write(const char *path, const struct transfer_row *rows, int n,
			const struct provenance *prov)
{
	struct h5f f;
	hsize_t dims[1] = { (hsize_t)n };
	void *buf;
	int rc = 0;

	if (n < 1)
		return error("%s: no rows to write", path);
	if (h5_create(&f, path, TRANSFER_FORMAT, TRANSFER_VERSION, prov) < 0)
		return -1;
	buf = xmalloc((size_t)n * (sizeof(char *) > 8 ? sizeof(char *) : 8));
	for (size_t c = 0; c < NCOLUMNS && rc == 0; c++) {
		const struct column *col = &columns[c];
		char dset[64];

		snprintf(dset, sizeof dset, "/%s", col->name);
		for (int i = 0; i < n; i++) {
			void *v = col_ptr(&rows[i], col);

			switch (col->kind) {
			case C_STR:
				((const char **)buf)[i] = v;
				break;
			case C_INT:
				((int64_t *)buf)[i] = *(int *)v;
				break;
			case C_I64:
				((int64_t *)buf)[i] = *(int64_t *)v;
				break;
			case C_F64:
				((double *)buf)[i] = *(double *)v;
				break;
			}
		}
		if (col->kind == C_STR)
			rc = h5_write_strings(&f, dset, n, (const char *const *)buf);
		else
			rc = h5_write(&f, dset, col->kind == C_F64 ? H5IO_F64 : H5IO_I64, 1, dims,
				      buf);
	}
	free(buf);
	if (rc == 0)
		rc = h5_attr_write_int(&f, "/", "rows", n);
	if (rc < 0) {
		h5_abort(&f);
		return -1;
	}
	return h5_commit(&f);
}

int transfer_rows_read(const char *path, struct transfer_row **rows, int *n)
{
	struct h5f f;
	int64_t count;
	struct transfer_row *r = NULL;
	void *buf = NULL;
	hsize_t dims[1];
	int rc = -1;

	*rows = NULL;
	*n = 0;
	if (h5_open(&f, path, TRANSFER_FORMAT, TRANSFER_VERSION) < 0)
		return -1;
	if (h5_attr_read_int(&f, "/", "rows", &count) < 0)
		goto out;
	if (count < 1 || count > 1000000) {
		error("%s: 'rows' is %lld, expected 1..1000000", path, (long long)count);
		goto out;
	}
	dims[0] = (hsize_t)count;
	r = xcalloc((size_t)count, sizeof *r);
	buf = xmalloc((size_t)count * 8);
	for (size_t c = 0; c < NCOLUMNS; c++) {
		const struct column *col = &columns[c];
		char dset[64];

		snprintf(dset, sizeof dset, "/%s", col->name);
		if (col->kind == C_STR) {
			char **s = NULL;
			int got = 0;

			if (h5_read_strings(&f, dset, (int)count, &got, &s) < 0)
				goto out;
			if (got != count) {
				error("%s: %s has %d entries, expected %lld", path, dset, got,
				      (long long)count);
				h5_free_strings(s, got);
				goto out;
			}
			for (int i = 0; i < got; i++)
				snprintf(col_ptr(&r[i], col), col->size, "%s", s[i]);
			h5_free_strings(s, got);
			continue;
		}
		if (h5_read(&f, dset, col->kind == C_F64 ? H5IO_F64 : H5IO_I64, 1, dims, buf) < 0)
			goto out;
		for (int64_t i = 0; i < count; i++) {
			void *v = col_ptr(&r[i], col);

			if (col->kind == C_F64) {
				*(double *)v = ((double *)buf)[i];
			} else if (col->kind == C_I64) {
				*(int64_t *)v = ((int64_t *)buf)[i];
			} else {
				int64_t x = ((int64_t *)buf)[i];

				if (x < 0 || x > 1 << 30) {
					error("%s: %s[%lld] = %lld is out of range", path, dset,
					      (long long)i, (long long)x);
					goto out;
				}
				*(int *)v = (int)x;
			}
		}
	}
	*rows = r;
	*n = (int)count;
	r = NULL;
	rc = 0;
out:
	free(buf);
	free(r);
	h5_close(&f);
	return rc;
}

/* ---- text tables ---- */

struct sbuf {
	char *s;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3))) sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int need;

	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		need = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (need < 0)
			return;
		if ((size_t)need < room) {
			b->len += (size_t)need;
			return;
		}
		b->cap = (b->cap + (size_t)need + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
}

/* 3.35M, 363.2K, 950 */
static void human(char *out, size_t n, double v)
{
	if (v >= 1e9)
		snprintf(out, n, "%.2fG", v / 1e9);
	else if (v >= 1e6)
		snprintf(out, n, "%.2fM", v / 1e6);
	else if (v >= 1e3)
		snprintf(out, n, "%.1fK", v / 1e3);
	else
		snprintf(out, n, "%.0f", v);
}

static void duration(char *out, size_t n, double s)
{
	if (!isfinite(s))
		snprintf(out, n, "-");
	else if (s < 3600)
		snprintf(out, n, "%dm%02ds", (int)s / 60, (int)s % 60);
	else
		snprintf(out, n, "%dh%02dm", (int)s / 3600, ((int)s / 60) % 60);
}

static void num(char *out, size_t n, const char *fmt, double v)
{
	if (isfinite(v))
		snprintf(out, n, fmt, v);
	else
		snprintf(out, n, "-");
}

static void csv_field(struct sbuf *b, const char *s, int last)
{
	sb_printf(b, "\"");
	for (; *s; s++) {
		if (*s == '"')
			sb_printf(b, "\"\"");
		else
			sb_printf(b, "%c", *s);
	}
	sb_printf(b, last ? "\"\n" : "\",");
}

static void table_markdown(struct sbuf *b, const struct transfer_row *rows, int n)
{
	const char *data = rows[0].data;
	int one_data = 1;

	for (int i = 1; i < n; i++)
		one_data &= !strcmp(rows[i].data, data);
	sb_printf(b, "Trained on the %s split%s of %s; test accuracy and test loss from one "
		  "evaluation on the %s split after training (the search never saw it). "
		  "Search reward: validation accuracy of the small search-time child.\n\n",
		  rows[0].train_split, strchr(rows[0].train_split, '+') ? "s" : "",
		  one_data ? data : "each row's dataset", rows[0].eval_split);
	sb_printf(b, "| network | N@P | params | MACs | test acc (%%) | test loss | epochs | "
		  "train time | images/s | search reward (valid) | status |\n");
	sb_printf(b, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
	for (int i = 0; i < n; i++) {
		const struct transfer_row *r = &rows[i];
		char p[32], m[32], acc[32], loss[32], ep[32], t[32], ips[32], rew[32];

		human(p, sizeof p, (double)r->params);
		human(m, sizeof m, (double)r->mult_adds);
		num(acc, sizeof acc, "%.2f", r->test_accuracy * 100);
		num(loss, sizeof loss, "%.4f", r->test_loss);
		num(ep, sizeof ep, "%.2f", r->epochs);
		duration(t, sizeof t, r->train_seconds);
		num(ips, sizeof ips, "%.0f", r->images_per_second);
		num(rew, sizeof rew, "%.4f", r->search_reward);
		sb_printf(b, "| %s | %d@%d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r->name,
			  r->cells, r->penultimate, p, m, acc, loss, ep, t, ips, rew, r->status);
	}
	sb_printf(b, "\nGenotypes (compact text, TF indexing):\n\n");
	for (int i = 0; i < n; i++)
		sb_printf(b, "- %s: `%s`\n", rows[i].name, rows[i].genotype);
}

static void table_csv(struct sbuf *b, const struct transfer_row *rows, int n)
{
	for (size_t c = 0; c < NCOLUMNS; c++)
		sb_printf(b, "%s%s", columns[c].name, c + 1 < NCOLUMNS ? "," : "\n");
	for (int i = 0; i < n; i++)
		for (size_t c = 0; c < NCOLUMNS; c++) {
			const struct column *col = &columns[c];
			const void *v = col_ptr(&rows[i], col);
			int last = c + 1 == NCOLUMNS;

			switch (col->kind) {
			case C_STR:
				csv_field(b, v, last);
				continue;
			case C_INT:
				sb_printf(b, "%d", *(const int *)v);
				break;
			case C_I64:
				sb_printf(b, "%lld", (long long)*(const int64_t *)v);
				break;
			case C_F64:
				if (isfinite(*(const double *)v))
					sb_printf(b, "%.17g", *(const double *)v);
				break;
			}
			sb_printf(b, last ? "\n" : ",");
		}
}

void transfer_table_text(const struct transfer_row *rows, int n, int kind, char **text,
			 size_t *len)
{
	struct sbuf b = { NULL, 0, 0 };

	sb_printf(&b, "%s", "");
	if (n > 0) {
		if (kind == TRANSFER_CSV)
			table_csv(&b, rows, n);
		else
			table_markdown(&b, rows, n);
	}
	*text = b.s;
	*len = b.len;
}
