/*
 * genotype.h - a NASNet-style pair of cells (Normal, Reduction) and the
 * child configuration that travels with it in a genotype file.
 *
 * Input indices use TF's convention: 0 = h_i (previous cell's output),
 * 1 = h_{i-1}, 2.. = outputs of blocks 0.. of the same cell. DARTS swaps 0
 * and 1; genotype_parse_darts/genotype_format_darts convert.
 *
 * Ops 0..12 are the paper's 13-op space in the paper's order; the ops after
 * them exist so that published cells of other spaces (DARTS, AmoebaNet) can
 * be built exactly.
 */
#ifndef NASNET_GENOTYPE_H
#define NASNET_GENOTYPE_H

#include <stdint.h>

enum op_id {
	OP_IDENTITY,         /* identity; strided or channel-changing: ReLU-1x1(s)-BN */
	OP_CONV_1X3_3X1,     /* ReLU - 1x3 (stride 1,s) - 3x1 (stride s,1) - BN */
	OP_CONV_1X7_7X1,     /* ReLU - 1x7 - 7x1 - BN */
	OP_DIL_CONV_3X3,     /* ReLU - 3x3 dilation 2 - BN */
	OP_AVG_POOL_3X3,     /* SAME, counts real pixels; 1x1-BN if channels differ */
	OP_MAX_POOL_3X3,
	OP_MAX_POOL_5X5,
	OP_MAX_POOL_7X7,
	OP_CONV_1X1,         /* ReLU - 1x1 - BN */
	OP_CONV_3X3,         /* ReLU - 3x3 - BN */
	OP_SEP_CONV_3X3,     /* (ReLU - dw kxk - pw - BN) x2, only the first strided */
	OP_SEP_CONV_5X5,
	OP_SEP_CONV_7X7,
	OP_NASNET_COUNT,     /* the paper's 13 ops end here */
	OP_DIL_SEP_CONV_3X3 = OP_NASNET_COUNT, /* DARTS dil_conv_3x3: ReLU - dw 3x3 dil 2 - pw - BN */
	OP_DIL_SEP_CONV_5X5,                   /* DARTS dil_conv_5x5 */
	OP_COUNT
};

enum combine_id { COMBINE_ADD, COMBINE_CONCAT };

#define GENOTYPE_MAX_BLOCKS 8
#define GENOTYPE_MAX_STATES (GENOTYPE_MAX_BLOCKS + 2)

struct block {
	int in[2];      /* input state indices, 0 = h_i, 1 = h_{i-1}, 2+b = block b */
	int op[2];      /* enum op_id applied to in[0], in[1] */
	int combine;    /* enum combine_id */
};

struct cell {
	int nblocks;
	struct block b[GENOTYPE_MAX_BLOCKS];
	int nconcat;                      /* states concatenated as the cell output */
	int concat[GENOTYPE_MAX_STATES];  /* increasing state indices */
};

struct genotype {
	char space[16];      /* "nasnet", "enas", "darts", ... */
	struct cell normal, reduce;
};

/* How cell.c builds an op (each builder takes the row's kernel, dilation, reps). */
enum op_builder {
	OPB_IDENTITY,    /* x; strided or channel-changing: ReLU-1x1(s)-BN */
	OPB_CONV,        /* ReLU - kxk (dilation d) - BN */
	OPB_FACTORED,    /* ReLU - 1xk (stride 1,s) - kx1 (stride s,1) - BN */
	OPB_AVG_POOL,    /* kxk SAME, counts real pixels; 1x1-BN if channels differ */
	OPB_MAX_POOL,
	OPB_SEP_CONV,    /* (ReLU - dw kxk dil d - pw - BN) x reps, only the first strided */
	OPB_COUNT
};

/* One row of the op table (genotype.c): adding an op is an enum value above
 * and a row there, plus its kernels if no builder fits. */
struct op_kind {
	const char *name;    /* as stored in files and printed */
	const char *darts;   /* DARTS's name, or NULL */
	int builder;         /* enum op_builder */
	int kernel, dilation, reps;
};

/* The op's row, or NULL when op is out of range or has no row. */
const struct op_kind *op_kind(int op);
/* Op names as stored in files and printed ("sep_conv_3x3", ...); "?" if out of range. */
const char *op_name(int op);
/* File/compact names only (the list above); -1 if unknown. */
int op_lookup(const char *name);
/*
 * DARTS's names (operations.py): skip_connect = identity, conv_7x1_1x7 =
 * conv_1x7_7x1, and dil_conv_3x3/5x5 = dil_sep_conv_3x3/5x5 (DARTS's
 * dil_conv is a dilated SEPARABLE conv; our dil_conv_3x3 is the paper's
 * plain dilated conv). -1 if unknown, including DARTS's "none".
 */
int op_lookup_darts(const char *name);
/* DARTS name of an op, or NULL when DARTS has no such op. */
const char *op_darts_name(int op);
const char *combine_name(int c);   /* "add", "concat" */
int combine_lookup(const char *name);

/*
 * Check block count (1..GENOTYPE_MAX_BLOCKS), inputs (block b reads states
 * 0..b+1 only, so cycles cannot exist), ops, combine and the concat list
 * (non-empty, strictly increasing, states 0..nblocks+1); error() names
 * `what` (e.g. a file path), the cell and the block.
 */
int genotype_validate(const struct genotype *g, const char *what);
int cell_validate(const struct cell *c, const char *what, const char *cellname);
/* The paper's rule: concat every block output no block consumes (h_i,
 * h_{i-1} excluded); if every block output is consumed, the last block. */
void cell_concat_unused(struct cell *c);
/* 1 when equal (cells: blocks and concat; genotypes: also the space name). */
int cell_equal(const struct cell *a, const struct cell *b);
int genotype_equal(const struct genotype *a, const struct genotype *b);

/* Built-in reference genotypes: "nasnet-a", "amoebanet-a", "darts-v2", ... ;
 * returns 0 and fills g, or -1 (no message) when the name is unknown. */
int genotype_builtin(struct genotype *g, const char *name);
/* NULL-terminated list of built-in names */
const char *const *genotype_builtin_names(void);

/* Buffer size that always holds either text form of a valid genotype. */
#define GENOTYPE_TEXT_MAX 2048

/*
 * Compact text (printed by every tool), one line, TF indexing, e.g.
 *   "[nasnet] normal: sep_conv_5x5@0 + sep_conv_3x3@1 ; ... | concat 1,2,3,4,5,6
 *    || reduce: ... | concat 3,4,5,6"
 * "op@i" is op applied to state i; blocks combine with "+" (add) or "cat"
 * (concat). The exact grammar is in schemas/genotype.md.
 * genotype_format returns the length written, or -1 (error()) when the
 * genotype is invalid or n is too small. Parsers validate the result and
 * report errors as "what: [line L, ]column C: problem".
 */
int genotype_format(const struct genotype *g, char *buf, int n);
int genotype_parse(struct genotype *g, const char *text, const char *what);
/*
 * DARTS notation "Genotype(normal=[('sep_conv_3x3', 1), ...], normal_concat=[...], ...)":
 * DARTS indexing (0 = h_{i-1}), DARTS op names, add only; concat lists as
 * lists or range(a, b). Formatting fails for concat-combine blocks and ops
 * DARTS lacks. The parser sets space "darts".
 */
int genotype_format_darts(const struct genotype *g, char *buf, int n);
int genotype_parse_darts(struct genotype *g, const char *text, const char *what);
/* Either notation (DARTS when it contains "Genotype("); '#' starts a comment line. */
int genotype_parse_any(struct genotype *g, const char *text, const char *what);

/* genotype_resolve (a name, a file or text -> genotype) is in genofile.h:
 * it reads genotype files, and this layer knows no HDF5. */

#endif
