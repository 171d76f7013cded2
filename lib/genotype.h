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

/* Op names as stored in files and printed ("sep_conv_3x3", ...). */
const char *op_name(int op);
/* -1 if unknown. Accepts the file names and DARTS's names. */
int op_lookup(const char *name);
const char *combine_name(int c);

/* Check indices, ops, concat list; error() names `what` (e.g. a file path). */
int genotype_validate(const struct genotype *g, const char *what);
/* The paper's rule: concat every state no block consumes (h_i, h_{i-1} excluded). */
void cell_concat_unused(struct cell *c);

/* Built-in reference genotypes: "nasnet-a", "amoebanet-a", "darts-v2", ... ;
 * returns 0 and fills g, or -1 (no message) when the name is unknown. */
int genotype_builtin(struct genotype *g, const char *name);
/* NULL-terminated list of built-in names */
const char *const *genotype_builtin_names(void);

/* Compact text (printed by every tool), e.g.
 *   "N: sep_conv_5x5(0)+sep_conv_3x3(1) ... | cat 1,2,3 ; R: ..." ;
 * the exact grammar is in schemas/genotype.md. Returns chars written. */
int genotype_format(const struct genotype *g, char *buf, int n);
int genotype_parse(struct genotype *g, const char *text, const char *what);
/* DARTS notation "Genotype(normal=[('sep_conv_3x3', 1), ...], normal_concat=[...], ...)" */
int genotype_format_darts(const struct genotype *g, char *buf, int n);
int genotype_parse_darts(struct genotype *g, const char *text, const char *what);

/* A name, a genotype file, or genotype text (compact or DARTS) -> genotype. */
int genotype_resolve(struct genotype *g, const char *arg);

#endif
