/*
 * transfer.h - the pieces of `transfer` (tools/transfer.c): choosing the cells
 * to scale up, sizing the network, and the results table (format
 * nasnet-c/transfer, schema version 1, documented in schemas/transfer.md).
 *
 * A pick is one cell pair to transfer: the top K of a search run by reward
 * (transfer_run_top) or a named genotype (transfer_pick_named). Each gets a
 * name that is stable across invocations, so the same command line finds its
 * folders again and resumes them.
 *
 * A row is one trained network: what it is (genotype, N, F, P, params,
 * MACs), how it was trained (splits, images, steps, epochs, wall time,
 * images/s) and its one test-set evaluation. The same file kind holds one row
 * (OUT/<name>/result.h5, written once, right after the test evaluation) and
 * the whole table (OUT/results.h5).
 *
 *   struct transfer_pick *p; int n;
 *   transfer_run_top("runs/a", 3, &p, &n);      // or transfer_pick_named()
 *   ... train, evaluate, fill rows ...
 *   transfer_rows_write("OUT/results.h5", rows, nrows, &prov);   // atomic
 *   transfer_table_text(rows, nrows, TRANSFER_MARKDOWN, &buf, &len);
 */
#ifndef NASNET_TRANSFER_H
#define NASNET_TRANSFER_H

#include <stddef.h>
#include <stdint.h>

#include "childcfg.h"
#include "genotype.h"

struct provenance;

#define TRANSFER_FORMAT "nasnet-c/transfer"
#define TRANSFER_VERSION 1
#define TRANSFER_NAME_MAX 96

struct transfer_pick {
	char name[TRANSFER_NAME_MAX];  /* "nasnet-a", "r002-a0005", "darts-v2", "g-1a2b3c4d" */
	char source[2048];             /* where the genotype came from (file, name or "text") */
	struct genotype geno;
	double reward;                 /* search reward (validation accuracy), NaN if none */
};

/*
 * The top k distinct cell pairs of a search run: every
 * RUN/round-*\/arch_*.reward.h5 that did not fail, best reward first, ties
 * broken by (round, index); a genotype seen again with a lower reward is
 * skipped. Fewer than k is fine; none is an error ("no finished child").
 * *picks is malloc'd.
 */
int transfer_run_top(const char *run, int k, struct transfer_pick **picks, int *n);

/*
 * k children spread along the run's accuracy-params Pareto front (the front
 * of RUN/pareto.tsv, schemas/run.md: accuracy compared as history.tsv prints
 * it, 6 decimals), one genotype once: the front ordered by params, the
 * cheapest, the most accurate and evenly spaced ones between (k = 1: the
 * most accurate). Fewer than k when the front is smaller.
 */
int transfer_run_pareto(const char *run, int k, struct transfer_pick **picks, int *n);

/* A built-in name, a genotype file (HDF5 or text) or genotype text (see
 * genotype_resolve). Names: the built-in name, the file's base name without
 * .h5/.txt, or "g-" and 8 hex digits of a hash of the compact text. */
int transfer_pick_named(const char *arg, struct transfer_pick *p);

/*
 * Size of the network g builds with macro m (a plan: nothing allocated):
 * penultimate width P (channels of the last cell's output, N@P), trainable
 * parameters and MACs per image, the aux head excluded.
 */
int transfer_size(const struct genotype *g, const struct macro_config *m, int *penultimate,
		  int64_t *params, int64_t *macs);
/* Filters F whose network has penultimate width P (P is linear in F:
 * NASNet-A has P = 24F); error naming the nearest widths when none does. */
int transfer_filters_for(const struct genotype *g, const struct macro_config *m, int penultimate,
			 int *filters);

struct transfer_row {
	char name[TRANSFER_NAME_MAX + 32];  /* the folder: "<pick>-n<N>-f<F>" */
	char genotype[GENOTYPE_TEXT_MAX];   /* compact text */
	char status[256];                   /* "ok", or why there is no test number */
	char data[1024];                    /* dataset file */
	char train_split[16];               /* "train+valid" */
	char eval_split[16];                /* "test" */
	int cells, filters, penultimate;    /* N, F, P */
	int64_t params, mult_adds;          /* trainable (aux head excluded); MACs per image */
	int64_t train_images, test_images;
	int64_t steps;
	double epochs;
	double train_seconds, images_per_second;
	double test_accuracy, test_loss;    /* on eval_split, once; NaN when not evaluated */
	double search_reward;               /* the search's validation reward, NaN if none */
};

/* Defaults: NaN numbers, status "ok", splits "train+valid" / "test". */
void transfer_row_init(struct transfer_row *r);
int transfer_rows_write(const char *path, const struct transfer_row *rows, int n,
			const struct provenance *prov);
/* *rows is malloc'd (NULL when n = 0). */
int transfer_rows_read(const char *path, struct transfer_row **rows, int *n);

enum transfer_table { TRANSFER_MARKDOWN, TRANSFER_CSV };
/* The table as text (malloc'd, NUL-terminated); markdown has a header line
 * on the splits and a legend of the genotypes under the table. */
void transfer_table_text(const struct transfer_row *rows, int n, int kind, char **text,
			 size_t *len);

#endif
