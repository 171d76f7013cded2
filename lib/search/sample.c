/*
 * sample.c - one search round's genotype files (sample.h).
 */
#include "sample.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "genofile.h"
#include "reward.h"
#include "util.h"

/* one draw of child i into a/logp: 1 within the budget (or none), 0 refused
 * (appended to *refused, the cheapest seen kept in *minp, *minm), -1 error */
static int draw(const struct sample_round *sr, struct rng *r, int *a, double *logp,
		int32_t **refused, int *nrefused, int64_t *minp, int64_t *minm)
{
	const struct space *sp = sr->state->space;
	struct genotype geno;
	int64_t p, macs;
	int fit, D = sp->ndecisions;

	memset(logp, 0, sizeof(double) * SPACE_MAX_DECISIONS);
	sr->strategy->propose(sr->state, r, a, logp);
	if (!sr->budget || !budget_active(sr->budget) || sp->kind != SPACE_CELLS)
		return 1;
	if (space_to_genotype(sp, a, &geno) < 0)
		return -1;
	fit = budget_fits(sr->budget, &geno, &sr->cfg->macro, &p, &macs);
	if (fit != 0)
		return fit;
	if (p < *minp)
		*minp = p;
	if (macs < *minm)
		*minm = macs;
	*refused = xrealloc(*refused, (size_t)(*nrefused + 1) * (size_t)D * sizeof(int32_t));
	for (int k = 0; k < D; k++)
		(*refused)[(size_t)*nrefused * D + k] = a[k];
	(*nrefused)++;
	return 0;
}

/* child i: actions from the strategy (drawn again while over the budget),
 * the round's configuration, its seed; g->refused is malloc'd (free it) */
static int sample_child(const struct sample_round *sr, int i, struct genofile *g, char *text,
			size_t n)
{
	const struct space *sp = sr->state->space;
	int a[SPACE_MAX_DECISIONS];
	double logp[SPACE_MAX_DECISIONS];
	int32_t *refused = NULL;
	int nrefused = 0, fit;
	int64_t minp = INT64_MAX, minm = INT64_MAX;
	struct rng r, ri;

	genofile_init(g);
	g->cfg = *sr->cfg;
	rng_stream(&ri, sr->seed, (uint64_t)sr->round, (uint64_t)i, RNG_INIT);
	g->cfg.train.seed = sr->train_seed >= 0 ? (uint64_t)sr->train_seed : rng_u64(&ri);
	rng_stream(&r, sr->seed, (uint64_t)sr->round, (uint64_t)i, RNG_SAMPLE);
	for (int d = 0; (fit = draw(sr, &r, a, logp, &refused, &nrefused, &minp, &minm)) != 1;
	     d++) {
		if (fit < 0 || d + 1 == BUDGET_MAX_DRAWS) {
			char lim[96];

			free(refused);
			if (fit < 0)
				return -1;
			error("no cell within %s in %d draws (round %d, child %d): the smallest "
			      "drawn has %" PRId64 " params, the cheapest %" PRId64 " mult-adds",
			      budget_text(sr->budget, lim, sizeof(lim)), BUDGET_MAX_DRAWS, sr->round,
			      i, minp, minm);
			return SAMPLE_OVER_BUDGET;
		}
	}
	g->nrefused = nrefused;
	g->refused = refused;
	/* every child records its actions; log-probs are 0 without a policy */
	g->has_sample = 1;
	g->policy_hash = sr->strategy->needs_policy ? policy_hash(sr->state->policy) : 0;
	g->round = sr->round;
	g->index = i;
	g->nactions = sp->ndecisions;
	for (int k = 0; k < sp->ndecisions; k++) {
		g->logp[k] = (float)logp[k];
		g->actions[k] = a[k];
	}
	snprintf(g->space, sizeof(g->space), "%s", sp->name);
	if (sp->kind == SPACE_NB201) {
		g->has_cells = 0;
		if (space_to_nb201(sp, a, g->cell_string, sizeof(g->cell_string)) < 0)
			return -1;
		snprintf(text, n, "%s", g->cell_string);
		return 0;
	}
	if (space_to_genotype(sp, a, &g->geno) < 0)
		return -1;
	return genotype_format(&g->geno, text, (int)n) < 0 ? -1 : 0;
}

/* DIR/arch_NNNN<suffix> */
static int child_path(char *buf, size_t n, const char *dir, int i, const char *suffix)
{
	if (snprintf(buf, n, "%s/arch_%04d%s", dir, i, suffix) >= (int)n)
		return error("%s: path too long", dir);
	return 0;
}

/* the child at reward_path's genotype file may be rewritten only with the
 * genotype its reward scored */
static int keep_scored(const char *reward_path, const struct genofile *g)
{
	struct reward r;

	if (reward_read(&r, reward_path) < 0)
		return -1;
	if (reward_matches(&r, g))
		return 0;
	return error("%s: already has a reward for genotype '%.80s'; refusing to replace its genotype "
		     "file with another (were the settings changed? use another RUN, or delete the "
		     "round folder to sample it again)", reward_path, r.genotype_text);
}

int sample_round(const struct sample_round *sr, const struct provenance *prov, FILE *list)
{
	char path[4096], text[4096];
	struct atomic_batch batch;
	struct genofile g;
	int rc;

	/* a genotype that has a reward is never replaced by another (settings
	 * rewritten under a run): all checked before any file is written */
	for (int i = 0; i < sr->count; i++) {
		/* its reward, or (successive halving, mid-round) its rung-0 reward */
		if (child_path(path, sizeof path, sr->dir, i, ".reward.h5") < 0)
			return -1;
		if (access(path, F_OK) < 0 &&
		    (child_path(path, sizeof path, sr->dir, i, ".r0.reward.h5") < 0 ||
		     access(path, F_OK) < 0))
			continue;
		if ((rc = sample_child(sr, i, &g, text, sizeof text)) < 0) {
			free((void *)g.refused);
			return rc;
		}
		free((void *)g.refused);
		if (keep_scored(path, &g) < 0)
			return SAMPLE_REFUSED;
	}
	/* one sync per batch of files, not two per file (rounds of 1000s of children) */
	atomic_batch_init(&batch);
	for (int i = 0; i < sr->count; i++) {
		if ((rc = sample_child(sr, i, &g, text, sizeof text)) < 0 ||
		    (rc = child_path(path, sizeof path, sr->dir, i, ".h5")) < 0 ||
		    (rc = genofile_write_batch(path, &g, prov, &batch)) < 0) {
			free((void *)g.refused);
			atomic_batch_abort(&batch);
			return rc == SAMPLE_OVER_BUDGET ? rc : -1;
		}
		free((void *)g.refused);
		if (list)
			fprintf(list, "%s\t%s\n", path, text);
	}
	return atomic_batch_commit(&batch);
}

struct evo_member *sample_members(const struct evaluated *e, int n)
{
	struct evo_member *m = xcalloc((size_t)(n ? n : 1), sizeof(*m));

	for (int i = 0; i < n; i++) {
		memcpy(m[i].a, e[i].a, sizeof(m[i].a));
		m[i].reward = history_rank_key(&e[i]);   /* (rung, reward): see history.h */
	}
	return m;
}
