/*
 * reward.h - the reward file (schema nasnet-c/reward, version 1; see
 * schemas/reward.md): what one evaluated child earned, written by `score`
 * (trained children) or `lookup-child` (NB201 table lookup) and read by
 * `update-policy`, `sample-arch --strategy evolution` and the reports.
 *
 * Every field is a root attribute. A reward file names the genotype file it
 * scores (`genotype`); a relative name is relative to the reward file's
 * folder (reward_genotype_path resolves it). A failed child has failed = 1,
 * reward 0 and a one-line reason.
 */
#ifndef NASNET_REWARD_H
#define NASNET_REWARD_H

#include <stddef.h>
#include <stdint.h>

struct provenance;
struct genofile;

#define REWARD_FORMAT "nasnet-c/reward"
#define REWARD_VERSION 1

/*
 * What the controller maximises, from the accuracy and the child's cost
 * (MnasNet, Tan et al. 2019, eq. 2: reward = accuracy * (cost / target)^w):
 *   accuracy      accuracy
 *   cube          accuracy^3 (Zoph & Le 2017)
 *   mnasnet       soft constraint: w on both sides of the target (the paper's -0.07)
 *   mnasnet-hard  hard constraint: exponent 0 up to the target, w above it (the paper's -1)
 * The cost is the child's mult-adds (target_macs) or its measured batch-1
 * latency in milliseconds (target_latency_ms).
 */
enum reward_kind { REWARD_ACCURACY, REWARD_CUBE, REWARD_MNASNET, REWARD_MNASNET_HARD, REWARD_KINDS };
enum cost_kind { COST_NONE, COST_MACS, COST_LATENCY_MS, COST_KINDS };

struct reward_rule {
	int kind;       /* enum reward_kind */
	int cost;       /* enum cost_kind: what target measures (COST_NONE without a target) */
	double target;  /* > 0 */
	double w;       /* the exponent, default -0.07 */
};

void reward_rule_default(struct reward_rule *r);
/* Names (files and flags); lookups return -1 when unknown. */
const char *reward_kind_name(int kind);
int reward_kind_lookup(const char *name);
const char *cost_kind_name(int cost);
/* A MnasNet kind needs a cost and a target, the others none: -1 with a message. */
int reward_rule_check(const struct reward_rule *r);
double reward_rule_apply(const struct reward_rule *r, double accuracy, double cost);

struct reward {
	double reward;            /* what the controller maximises (reward_kind of accuracy and cost) */
	double accuracy;          /* validation accuracy, 0..1 */
	double loss;              /* validation loss (NaN when not measured) */
	double test_accuracy;     /* 0..1, NaN when not measured */
	int64_t params, mult_adds;
	double train_seconds, images_per_second;
	int failed;               /* 1: the child failed; reward is 0 */
	char reason[256];         /* why it failed ("" when it did not) */
	char space[16];           /* search space of the genotype */
	char genotype[1024];      /* the genotype file scored (relative: to this file's folder) */
	char genotype_text[2048]; /* compact genotype text or nb201 cell string */
	char policy_hash[20];     /* hash of the policy that sampled it ("" if none) */
	int64_t round, index;     /* position in the search (-1 when unknown) */
	int64_t rung;             /* successive-halving rung the reward was measured at (0: plain) */
	double epochs;            /* training epochs behind it (NaN when unknown) */
	char reward_kind[16];     /* reward_kind_name(); "" in files older than the attribute */
	char cost_kind[16];       /* cost_kind_name(): "" when the reward has no cost term */
	double cost, target, reward_w;   /* the MnasNet terms; NaN when unused */
	double latency_ms;        /* measured batch-1 latency, one thread; NaN when not measured */
};

/* All numbers NaN/-1 or 0, strings empty. */
void reward_init(struct reward *r);
int reward_write(const struct reward *r, const char *path, const struct provenance *prov);
int reward_read(struct reward *r, const char *path);
/* The genotype file the reward names exists and is a regular file (D21). */
int reward_check_genotype_file(const struct reward *r, const char *reward_path);
/* The genotype file path as seen from the current directory. */
int reward_genotype_path(const struct reward *r, const char *reward_path, char *out, int n);
/* The genotype text a reward records for genotype file g (as `score` writes it). */
void reward_genotype_text(const struct genofile *g, char *out, size_t n);
/* 1 when r scored exactly g: same genotype text and sampling policy hash. */
int reward_matches(const struct reward *r, const struct genofile *g);
/* One error line unless r (read from reward_path) scored g (read from gpath):
 * a reward never stands for a genotype file replaced after scoring. */
int reward_check_genotype(const struct reward *r, const char *reward_path,
			  const struct genofile *g, const char *gpath);

#endif
