/*
 * child.c - evaluate and score a trained child (child.h).
 */
#include "child.h"

#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cost.h"
#include "dataref.h"
#include "net.h"
#include "netfile.h"
#include "util.h"

int child_evaluate(const char *weights, const char *arch, const struct genofile *gf,
		   const char *data, unsigned split, int batch, int latency,
		   const struct train_env *env, struct child_eval *out)
{
	const struct dataset_split *s;
	struct child_config *cfg = &out->trained.cfg;
	struct dataset d;
	struct net *net;
	int rc = TRAIN_BADINPUT;

	out->latency_ms = NAN;

	/* the network file records the configuration the child was really trained
	 * with (train-child --data may have changed the dataset) */
	if (netfile_read_genofile(weights, &out->trained) < 0 ||
	    (gf && netfile_check_matches(weights, &out->trained, arch, gf) < 0))
		return TRAIN_BADINPUT;
	if (data)
		snprintf(cfg->train.data, sizeof cfg->train.data, "%s", data);
	else if (dataref_resolve(&cfg->train, arch ? arch : weights) < 0)
		return TRAIN_BADINPUT;
	if (dataset_load(cfg->train.data, &d, split) < 0)
		return TRAIN_BADINPUT;
	s = split == DS_TEST ? &d.test : &d.valid;
	if (s->n == 0) {
		error("%s: dataset %s has no %s images", arch ? arch : weights, cfg->train.data,
		      split == DS_TEST ? "test" : "valid");
		goto out;
	}
	/* evaluate() runs net_infer: no batch arena */
	rc = TRAIN_ERROR;
	net = net_create(&out->trained.geno, &cfg->macro, 0, NULL);
	if (!net)
		goto out;
	net_alloc_params(net);
	/* images of another shape would be read past their end (D8) */
	if (netfile_read_into(weights, net) < 0 ||
	    dataset_fits_child(arch ? arch : weights, cfg->train.data, &d, &cfg->macro) < 0 ||
	    evaluate(net, &d, s, batch, env, &out->accuracy, &out->loss) < 0)
		rc = TRAIN_BADINPUT;
	else if (latency && cost_latency_ms(net, 1, &out->latency_ms) < 0)
		rc = TRAIN_ERROR;
	else
		rc = TRAIN_OK;
	out->params = net->n_params;
	out->mult_adds = net->n_macs;
	out->images = s->n;
	net_free(net);
out:
	dataset_free(&d);
	return rc;
}

void child_score_opts_default(struct child_score_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->split = DS_VALID;
	o->batch = 250;
	reward_rule_default(&o->rule);
}

/* what identifies the child in its reward file */
static void fill_identity(struct reward *r, const char *arch, const struct genofile *gf,
			  const char *out)
{
	char *a = xstrdup(arch), *o = xstrdup(out);

	/* the genotype path is stored relative to the reward file's folder when they share one */
	if (!strcmp(dirname(a), dirname(o)))
		snprintf(r->genotype, sizeof r->genotype, "%s", strrchr(arch, '/') ? strrchr(arch, '/') + 1 : arch);
	else
		snprintf(r->genotype, sizeof r->genotype, "%s", arch);
	free(a);
	free(o);
	snprintf(r->space, sizeof r->space, "%s", gf->space[0] ? gf->space : gf->geno.space);
	reward_genotype_text(gf, r->genotype_text, sizeof r->genotype_text);
	if (gf->has_sample) {
		r->round = gf->round;
		r->index = gf->index;
		snprintf(r->policy_hash, sizeof r->policy_hash, "%016llx",
			 (unsigned long long)gf->policy_hash);
	}
}

/* reward 0 with the reason; the plan-only network still gives the size */
static int score_failed(struct reward *r, const struct genofile *gf, const char *reason,
			const char *out, const struct train_env *env)
{
	if (reason != r->reason)
		snprintf(r->reason, sizeof r->reason, "%s", reason);
	r->failed = 1;
	r->reward = 0;
	r->accuracy = 0;
	if (gf->has_cells) {
		struct net *plan = net_create(&gf->geno, &gf->cfg.macro, 0, NULL);

		if (plan) {
			r->params = plan->n_params;
			r->mult_adds = plan->n_macs;
			net_free(plan);
		}
	}
	return reward_write(r, out, env->prov) < 0 ? TRAIN_ERROR : TRAIN_OK;
}

int child_score(const char *arch, const struct child_score_opts *o, const struct train_env *env,
		struct reward *r, char *out, size_t n)
{
	char weights[4096], failed[4096], stats[4096];
	const struct train_config *t;
	struct child_eval ev;
	struct genofile gf;
	struct stat st;
	int64_t step;
	int rc;

	if (genofile_read(arch, &gf) < 0)
		return TRAIN_BADINPUT;
	t = &gf.cfg.train;
	if (o->rung >= t->rungs) {
		error("%s: --rung %d: the rung plan has %d rungs (0..%d)", arch, o->rung, t->rungs,
		      t->rungs - 1);
		return TRAIN_USAGE;
	}
	if (o->out)
		snprintf(out, n, "%s", o->out);
	else
		rung_path(out, n, arch, t, o->rung, ".reward.h5");
	if (o->weights)
		snprintf(weights, sizeof weights, "%s", o->weights);
	else
		rung_path(weights, sizeof weights, arch, t, o->rung, ".weights.h5");
	rung_path(failed, sizeof failed, arch, t, o->rung, ".failed.h5");
	rung_path(stats, sizeof stats, arch, t, o->rung, ".stats.h5");
	reward_init(r);
	fill_identity(r, arch, &gf, out);
	snprintf(r->reward_kind, sizeof r->reward_kind, "%s", reward_kind_name(o->rule.kind));
	snprintf(r->cost_kind, sizeof r->cost_kind, "%s", cost_kind_name(o->rule.cost));
	if (o->rule.cost != COST_NONE) {
		r->target = o->rule.target;
		r->reward_w = o->rule.w;
	}
	if (o->failed)
		return score_failed(r, &gf, o->failed, out, env);
	if (stat(failed, &st) == 0) {
		if (failure_read(failed, r->reason, sizeof r->reason, &step) < 0)
			return TRAIN_BADINPUT;
		return score_failed(r, &gf, r->reason, out, env);
	}
	if (!gf.has_cells) {
		error("%s: space '%s' is scored by table lookup (lookup-child), not by score", arch,
		      gf.space);
		return TRAIN_BADINPUT;
	}
	rc = child_evaluate(weights, arch, &gf, o->data, o->split, o->batch,
			    o->rule.cost == COST_LATENCY_MS, env, &ev);
	if (rc != TRAIN_OK)
		return rc;
	/* finite weights can still overflow (D22): the child failed, not scored */
	if (!isfinite(ev.loss)) {
		r->failed = 1;
		snprintf(r->reason, sizeof r->reason, "non-finite outputs on the %s split",
			 o->split == DS_TEST ? "test" : "valid");
		ev.accuracy = 0;
	}
	r->accuracy = ev.accuracy;
	r->loss = ev.loss;
	if (o->split == DS_TEST)
		r->test_accuracy = ev.accuracy;
	r->params = ev.params;
	r->mult_adds = ev.mult_adds;
	r->latency_ms = ev.latency_ms;
	if (o->rule.cost != COST_NONE)
		r->cost = o->rule.cost == COST_MACS ? (double)r->mult_adds : r->latency_ms;
	r->reward = reward_rule_apply(&o->rule, ev.accuracy, r->cost);
	r->rung = o->rung;
	if (stat(stats, &st) == 0) {
		struct train_stats ts;

		if (train_stats_read(stats, &ts) < 0)
			return TRAIN_BADINPUT;
		r->train_seconds = ts.seconds;
		r->images_per_second = ts.images_per_second;
		r->epochs = ts.epochs;
	}
	return reward_write(r, out, env->prov) < 0 ? TRAIN_ERROR : TRAIN_OK;
}
