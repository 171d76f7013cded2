/*
 * space.h - search spaces as data: an ordered list of decisions, each with
 * its number of choices, so one controller and one set of tools drive every
 * space. An architecture is a vector of actions, one choice index per
 * decision.
 *
 * Built-in spaces:
 *   nasnet  Normal then Reduction cell, B=5 blocks, per block in the paper's
 *           order: input A (2+b choices), input B (2+b), op A (13), op B
 *           (13), combine (add, concat): 50 decisions. Op choice k is
 *           enum op_id k (the paper's 13 ops).
 *   enas    Normal then Reduction, B=5, per block input A, input B, op A,
 *           op B (ops: sep_conv_3x3, sep_conv_5x5, avg_pool_3x3,
 *           max_pool_3x3, identity), combine always add: 40 decisions.
 *   nb201   NAS-Bench-201: 6 edges x 5 ops (none, skip_connect,
 *           nor_conv_1x1, nor_conv_3x3, avg_pool_3x3). Edge order is the
 *           cell string's: 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2.
 *
 * nasnet and enas actions map to a struct genotype whose cell outputs follow
 * the paper rule (cell_concat_unused of genotype.h); nb201 actions map
 * to the NAS-Bench-201 cell string "|op~0|+|op~0|op~1|+|op~0|op~1|op~2|".
 */
#ifndef NASNET_SPACE_H
#define NASNET_SPACE_H

#include "genotype.h"

#define SPACE_MAX_DECISIONS 64
#define SPACE_MAX_CHOICES 16
#define NB201_EDGES 6
#define NB201_OPS 5
#define NB201_CELLS 15625 /* 5^6 */
#define NB201_CELL_MAX 128 /* longest cell string plus NUL */

enum decision_kind { DEC_INPUT, DEC_OP, DEC_COMBINE };
enum space_kind { SPACE_CELLS, SPACE_NB201 };

struct decision {
	char name[24];  /* "normal.b0.in_a", "reduce.b4.combine", "edge.3<-2" */
	int nchoices;
	int kind;       /* enum decision_kind */
	int cell;       /* 0 = normal, 1 = reduction (nb201: 0) */
	int block;      /* block index (nb201: edge index) */
	int slot;       /* 0 = A, 1 = B */
};

struct space {
	char name[16];
	int kind;                          /* enum space_kind */
	int ndecisions;
	struct decision d[SPACE_MAX_DECISIONS];
	int nblocks;                       /* per cell (cell spaces) */
	int nops;
	int ops[SPACE_MAX_CHOICES];        /* op choice -> enum op_id (cell spaces) */
	int ncombine;                      /* 2 (add, concat) or 1 (add only) */
};

/* Fill s with the built-in space `name`; error() and -1 when unknown. */
int space_get(struct space *s, const char *name);
/* "nasnet, enas, nb201" */
const char *space_names(void);

/* Every action in range; error() names `what`. */
int space_check_actions(const struct space *s, const int *a, const char *what);

/* Cell spaces: actions -> genotype (space name set, concat by the paper rule). */
int space_to_genotype(const struct space *s, const int *a, struct genotype *g);
/* Cell spaces: genotype -> actions. Fails (error naming `what`) when the
 * genotype's space differs, an op is outside the space or the block count
 * differs. The concat lists are not decisions and are ignored. */
int space_from_genotype(const struct space *s, const struct genotype *g, int *a, const char *what);

/* nb201: actions <-> cell string. */
int space_to_nb201(const struct space *s, const int *a, char *buf, int n);
int space_from_nb201(const struct space *s, const char *cell, int *a, const char *what);
/* nb201 op name of choice k (0..4). */
const char *nb201_op_name(int k);
/* nb201 actions as one base-5 number in [0, 15625): edge 0 most significant. */
int nb201_code(const int *a);

#endif
