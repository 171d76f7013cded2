/*
 * fidelity.c - the proxy-fidelity table and its figures (fidelity.h).
 */
#include "fidelity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rankstat.h"
#include "util.h"

/* split a line at tabs in place; returns the number of fields */
static int split_tabs(char *line, char **f, int max)
{
	int n = 0;

	line[strcspn(line, "\r\n")] = 0;
	for (char *p = line; n < max;) {
		f[n++] = p;
		p = strchr(p, '\t');
		if (!p)
			break;
		*p++ = 0;
	}
	return n;
}

/* "NAME:EPOCHS:sK" -> budget index (added when new), seed slot */
static int add_column(struct fid_table *t, const char *path, const char *head, int col)
{
	char name[32];
	double epochs;
	int seed, used, k;

	if (sscanf(head, "%31[^:]:%lf:s%d%n", name, &epochs, &seed, &used) != 3 ||
	    head[used] || !(epochs > 0) || seed < 0)
		return 0;   /* not a budget column */
	for (k = 0; k < t->nbudgets; k++)
		if (!strcmp(t->b[k].name, name))
			break;
	if (k == t->nbudgets) {
		if (k == FID_MAX_BUDGETS)
			return error("%s: more than %d budgets", path, FID_MAX_BUDGETS);
		snprintf(t->b[k].name, sizeof t->b[k].name, "%s", name);
		t->b[k].epochs = epochs;
		t->nbudgets++;
	}
	if (t->b[k].epochs != epochs)
		return error("%s: budget %s has columns of %g and %g epochs", path, name,
			     t->b[k].epochs, epochs);
	if (t->b[k].nseeds == FID_MAX_SEEDS)
		return error("%s: budget %s has more than %d seeds", path, name, FID_MAX_SEEDS);
	t->b[k].col[t->b[k].nseeds++] = col;
	return 0;
}

int fid_table_read(const char *path, struct fid_table *t)
{
	FILE *f = fopen(path, "r");
	char line[65536], *fld[512];
	unsigned char numeric[512] = { 0 };   /* hi and budget columns */
	int n, cell_col = -1, cap = 0, lineno = 1;

	memset(t, 0, sizeof *t);
	t->hi_col = -1;
	if (!f)
		return error("%s: cannot open:", path);
	if (!fgets(line, sizeof line, f)) {
		fclose(f);
		return error("%s: empty (expected a header line)", path);
	}
	n = split_tabs(line, fld, 512);
	t->ncols = n;
	for (int i = 0; i < n; i++) {
		if (!strcmp(fld[i], "cell"))
			cell_col = i;
		else if (!strcmp(fld[i], "hi"))
			t->hi_col = i;
		else if (add_column(t, path, fld[i], i) < 0)
			goto fail;
	}
	for (int b = 0; b < t->nbudgets; b++)
		for (int k = 0; k < t->b[b].nseeds; k++)
			numeric[t->b[b].col[k]] = 1;
	if (t->hi_col >= 0)
		numeric[t->hi_col] = 1;
	if (cell_col < 0 || t->hi_col < 0 || t->nbudgets == 0) {
		error("%s: header needs columns cell, hi and NAME:EPOCHS:sK", path);
		goto fail;
	}
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (split_tabs(line, fld, 512) != t->ncols) {
			error("%s:%d: %d columns expected", path, lineno, t->ncols);
			goto fail;
		}
		if (t->ncells == cap) {
			cap = cap ? 2 * cap : 64;
			t->cell = xrealloc(t->cell, sizeof *t->cell * (size_t)cap);
			t->v = xrealloc(t->v, sizeof *t->v * (size_t)cap * (size_t)t->ncols);
		}
		t->cell[t->ncells] = xstrdup(fld[cell_col]);
		for (int i = 0; i < t->ncols; i++) {
			double *v = &t->v[(size_t)t->ncells * t->ncols + i];
			char *end;

			*v = NAN;
			if (!numeric[i] || !strcmp(fld[i], "-"))
				continue;
			*v = strtod(fld[i], &end);
			if (end == fld[i] || *end || !isfinite(*v)) {
				error("%s:%d: column %d: '%s' is not a number", path, lineno, i + 1,
				      fld[i]);
				t->ncells++;
				goto fail;
			}
		}
		t->ncells++;
	}
	fclose(f);
	return 0;
fail:
	fclose(f);
	fid_table_free(t);
	return -1;
}

void fid_table_free(struct fid_table *t)
{
	for (int i = 0; i < t->ncells; i++)
		free(t->cell[i]);
	free(t->cell);
	free(t->v);
	memset(t, 0, sizeof *t);
}

void fid_summarise(const struct fid_table *t, int budget, int reps, uint64_t seed,
		   struct fid_summary *s)
{
	const struct fid_budget *b = &t->b[budget];
	double *lo = xmalloc(sizeof *lo * (size_t)(t->ncells + 1));
	double *hi = xmalloc(sizeof *hi * (size_t)(t->ncells + 1));
	double var_sum = 0;
	int m = 0, nvar = 0;

	for (int c = 0; c < t->ncells; c++) {
		const double *row = &t->v[(size_t)c * t->ncols];
		double x[FID_MAX_SEEDS];
		int ok = !isnan(row[t->hi_col]);

		for (int k = 0; k < b->nseeds && ok; k++)
			ok = !isnan(x[k] = row[b->col[k]]);
		if (!ok)
			continue;
		lo[m] = mean_of(x, b->nseeds);
		hi[m] = row[t->hi_col];
		m++;
		if (b->nseeds > 1) {
			double sd = sd_of(x, b->nseeds);

			var_sum += sd * sd;
			nvar++;
		}
	}
	s->cells = m;
	s->kendall = kendall_tau_b(lo, hi, m);
	s->spearman = spearman_rho(lo, hi, m);
	bootstrap_interval(kendall_tau_b, lo, hi, m, reps, seed, &s->kendall_lo, &s->kendall_hi);
	s->seed_sd = nvar ? sqrt(var_sum / nvar) : NAN;
	s->cell_sd = sd_of(lo, m);
	free(lo);
	free(hi);
}

void fid_print(FILE *f, const struct fid_budget *b, const struct fid_summary *s)
{
	fprintf(f,
		"fidelity: budget %.4g cells %d kendall %.3f [%.3f, %.3f] spearman %.3f "
		"seed-sd %.4f cell-sd %.4f (%s)\n",
		b->epochs, s->cells, s->kendall, s->kendall_lo, s->kendall_hi, s->spearman,
		s->seed_sd, s->cell_sd, b->name);
}
