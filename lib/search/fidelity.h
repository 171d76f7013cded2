/*
 * fidelity.h - how far a cheap reward can be trusted (make fidelity): a
 * table of rewards of the same cells at several budgets and seeds, judged by
 * rank correlation against one expensive reward per cell.
 *
 * The table (RUN/fidelity.tsv, schemas/run.md) is tab-separated with a
 * header. Column `cell` names the row, `hi` holds the reference (expensive)
 * reward, and every column NAME:EPOCHS:sK is the reward of the budget NAME
 * (trained for EPOCHS epochs) with seed K; other columns are ignored. A
 * value `-` is missing (that cell is left out of that budget's figures).
 */
#ifndef NASNET_FIDELITY_H
#define NASNET_FIDELITY_H

#include <stdint.h>
#include <stdio.h>

#define FID_MAX_BUDGETS 32
#define FID_MAX_SEEDS 16

struct fid_budget {
	char name[32];
	double epochs;
	int nseeds;
	int col[FID_MAX_SEEDS];      /* table column of each seed */
};

struct fid_table {
	int ncells, ncols;
	char **cell;                 /* ncells names */
	double *v;                   /* ncells x ncols, NaN where missing */
	int hi_col;
	int nbudgets;
	struct fid_budget b[FID_MAX_BUDGETS];
};

/* One budget's figures (cells with a hi value and every seed present). */
struct fid_summary {
	int cells;
	double kendall, kendall_lo, kendall_hi;
	double spearman;
	double seed_sd;              /* sqrt of the mean over cells of the seed-to-seed variance */
	double cell_sd;              /* sd across cells of the per-cell mean reward */
};

int fid_table_read(const char *path, struct fid_table *t);
void fid_table_free(struct fid_table *t);
void fid_summarise(const struct fid_table *t, int budget, int reps, uint64_t seed,
		   struct fid_summary *s);
/* "fidelity: budget E cells M kendall X [lo, hi] spearman Y seed-sd Z cell-sd W (NAME)" */
void fid_print(FILE *f, const struct fid_budget *b, const struct fid_summary *s);

#endif
