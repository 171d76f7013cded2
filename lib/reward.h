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

struct reward {
	double reward;            /* what the controller maximises (validation accuracy, 0..1) */
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
