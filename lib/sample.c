/*
 * sample.c - one search round's genotype files (sample.h).
 */
#include "sample.h"

#include <stdlib.h>
#include <string.h>

#include "genofile.h"
#include "util.h"

/* child i: actions from the strategy, the round's configuration, its seed */
static int sample_child(const struct sample_round *sr, int i, struct genofile *g, char *text,
			size_t n)
{
	const struct space *sp = sr->state->space;
	int a[SPACE_MAX_DECISIONS];
	double logp[SPACE_MAX_DECISIONS];
	struct rng r, ri;

	genofile_init(g);
	g->cfg = *sr->cfg;
	rng_stream(&ri, sr->seed, (uint64_t)sr->round, (uint64_t)i, RNG_INIT);
	g->cfg.train.seed = sr->train_seed >= 0 ? (uint64_t)sr->train_seed : rng_u64(&ri);
	rng_stream(&r, sr->seed, (uint64_t)sr->round, (uint64_t)i, RNG_SAMPLE);
	sr->strategy->propose(sr->state, &r, a, logp);
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

int sample_round(const struct sample_round *sr, const struct provenance *prov, FILE *list)
{
	char path[4096], text[4096];

	for (int i = 0; i < sr->count; i++) {
		struct genofile g;

		if (sample_child(sr, i, &g, text, sizeof text) < 0)
			return -1;
		if (snprintf(path, sizeof(path), "%s/arch_%04d.h5", sr->dir, i) >= (int)sizeof(path))
			return error("%s: path too long", sr->dir);
		if (genofile_write(path, &g, prov) < 0)
			return -1;
		if (list)
			fprintf(list, "%s\t%s\n", path, text);
	}
	return 0;
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
