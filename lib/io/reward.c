/*
 * reward.c - read and write reward files (nasnet-c/reward): root
 * attributes only, every one required on read, numbers range-checked.
 */
#include "reward.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "genofile.h"
#include "h5io.h"
#include "util.h"

void reward_init(struct reward *r)
{
	memset(r, 0, sizeof(*r));
	r->loss = NAN;
	r->test_accuracy = NAN;
	r->params = -1;
	r->mult_adds = -1;
	r->round = -1;
	r->index = -1;
	r->rung = 0;
	r->epochs = NAN;
	snprintf(r->reward_kind, sizeof(r->reward_kind), "%s", reward_kind_name(REWARD_ACCURACY));
	r->cost = r->target = r->reward_w = r->latency_ms = NAN;
}

/* one row per reward kind: its name and whether it has a cost term */
static const struct { const char *name; int costed; } reward_kinds[REWARD_KINDS] = {
	[REWARD_ACCURACY] = { "accuracy", 0 },
	[REWARD_CUBE] = { "cube", 0 },
	[REWARD_MNASNET] = { "mnasnet", 1 },
	[REWARD_MNASNET_HARD] = { "mnasnet-hard", 1 },
};
static const char *const cost_kinds[COST_KINDS] = { "", "mult_adds", "latency_ms" };

void reward_rule_default(struct reward_rule *r)
{
	r->kind = REWARD_ACCURACY;
	r->cost = COST_NONE;
	r->target = NAN;
	r->w = -0.07;
}

const char *reward_kind_name(int kind)
{
	return kind >= 0 && kind < REWARD_KINDS ? reward_kinds[kind].name : "?";
}

int reward_kind_lookup(const char *name)
{
	for (int i = 0; i < REWARD_KINDS; i++)
		if (!strcmp(name, reward_kinds[i].name))
			return i;
	return -1;
}

const char *cost_kind_name(int cost)
{
	return cost >= 0 && cost < COST_KINDS ? cost_kinds[cost] : "?";
}

int reward_rule_check(const struct reward_rule *r)
{
	if (r->kind < 0 || r->kind >= REWARD_KINDS)
		return error("unknown reward kind %d", r->kind);
	if (!reward_kinds[r->kind].costed) {
		if (r->cost != COST_NONE)
			return error("a target is for --reward mnasnet or mnasnet-hard, not %s",
				     reward_kinds[r->kind].name);
		return 0;
	}
	if (r->cost == COST_NONE)
		return error("--reward %s needs --target-macs or --target-latency-ms",
			     reward_kinds[r->kind].name);
	if (!(r->target > 0) || !isfinite(r->target))
		return error("the reward's target is %g, expected a positive number", r->target);
	if (!isfinite(r->w) || r->w < -10 || r->w > 10)
		return error("the reward's exponent w is %g, expected -10..10", r->w);
	return 0;
}

double reward_rule_apply(const struct reward_rule *r, double accuracy, double cost)
{
	double w = r->w;

	switch (r->kind) {
	case REWARD_CUBE:
		return accuracy * accuracy * accuracy;
	case REWARD_MNASNET_HARD:
		if (cost <= r->target)
			w = 0;
		/* fall through */
	case REWARD_MNASNET:
		return accuracy * pow(cost / r->target, w);
	}
	return accuracy;
}

/*
 * The numbers the controller learns from: reward and accuracy finite and in
 * [0, 1] (a failed child: reward 0), test accuracy in [0, 1] or NaN (not
 * measured). NaN compares false, so !(x >= 0 && x <= 1) catches it too.
 */
static int check_numbers(const struct reward *r, const char *path)
{
	/* one-line fields and counts (D21): they become history.tsv fields */
	const struct { const char *name; const char *v; } text[] = {
		{ "reason", r->reason }, { "space", r->space }, { "genotype", r->genotype },
		{ "genotype_text", r->genotype_text }, { "policy_hash", r->policy_hash },
	};
	const struct { const char *name; int64_t v, hi; } count[] = {
		{ "params", r->params, INT64_MAX }, { "mult_adds", r->mult_adds, INT64_MAX },
		{ "round", r->round, 999999999 }, { "index", r->index, 999999999 },
	};

	for (size_t i = 0; i < sizeof text / sizeof *text; i++)
		if (!one_line(text[i].v))
			return error("%s: %s holds a newline or tab, expected one line", path,
				     text[i].name);
	for (size_t i = 0; i < sizeof count / sizeof *count; i++)
		if (count[i].v < -1 || count[i].v > count[i].hi)
			return error("%s: %s is %lld, expected -1 (unknown) or 0..%lld", path,
				     count[i].name, (long long)count[i].v, (long long)count[i].hi);
	if (r->policy_hash[0] && (strlen(r->policy_hash) != 16 ||
				  strspn(r->policy_hash, "0123456789abcdef") != 16))
		return error("%s: policy_hash is '%s', expected 16 hex digits or empty", path,
			     r->policy_hash);
	if (r->failed) {
		if (r->reward != 0)
			return error("%s: reward is %g for a failed child, expected 0", path,
				     r->reward);
		return 0;
	}
	/* a MnasNet reward exceeds the accuracy below its target */
	if (!(r->reward >= 0 && isfinite(r->reward)) ||
	    (strncmp(r->reward_kind, "mnasnet", 7) && r->reward > 1))
		return error("%s: reward is %g, expected a finite number in [0, 1] (>= 0 for %s)",
			     path, r->reward, "mnasnet");
	if (!(r->accuracy >= 0 && r->accuracy <= 1))
		return error("%s: accuracy is %g, expected a finite number in [0, 1]", path,
			     r->accuracy);
	if (!isnan(r->test_accuracy) && !(r->test_accuracy >= 0 && r->test_accuracy <= 1))
		return error("%s: test_accuracy is %g, expected [0, 1] or NaN", path,
			     r->test_accuracy);
	return 0;
}

int reward_write(const struct reward *r, const char *path, const struct provenance *prov)
{
	struct h5f f;

	if (check_numbers(r, path) < 0)
		return -1;
	if (h5_create(&f, path, REWARD_FORMAT, REWARD_VERSION, prov) < 0)
		return -1;
	/* stop at the first failure: one error line */
	if (h5_attr_write_double(&f, "/", "reward", r->reward) < 0 ||
	    h5_attr_write_double(&f, "/", "accuracy", r->accuracy) < 0 ||
	    h5_attr_write_double(&f, "/", "loss", r->loss) < 0 ||
	    h5_attr_write_double(&f, "/", "test_accuracy", r->test_accuracy) < 0 ||
	    h5_attr_write_int(&f, "/", "params", r->params) < 0 ||
	    h5_attr_write_int(&f, "/", "mult_adds", r->mult_adds) < 0 ||
	    h5_attr_write_double(&f, "/", "train_seconds", r->train_seconds) < 0 ||
	    h5_attr_write_double(&f, "/", "images_per_second", r->images_per_second) < 0 ||
	    h5_attr_write_int(&f, "/", "failed", r->failed) < 0 ||
	    h5_attr_write_string(&f, "/", "reason", r->reason) < 0 ||
	    h5_attr_write_string(&f, "/", "space", r->space) < 0 ||
	    h5_attr_write_string(&f, "/", "genotype", r->genotype) < 0 ||
	    h5_attr_write_string(&f, "/", "genotype_text", r->genotype_text) < 0 ||
	    h5_attr_write_string(&f, "/", "policy_hash", r->policy_hash) < 0 ||
	    h5_attr_write_int(&f, "/", "round", r->round) < 0 ||
	    h5_attr_write_int(&f, "/", "index", r->index) < 0 ||
	    h5_attr_write_int(&f, "/", "rung", r->rung) < 0 ||
	    h5_attr_write_double(&f, "/", "epochs", r->epochs) < 0 ||
	    h5_attr_write_string(&f, "/", "reward_kind", r->reward_kind) < 0 ||
	    h5_attr_write_string(&f, "/", "cost_kind", r->cost_kind) < 0 ||
	    h5_attr_write_double(&f, "/", "cost", r->cost) < 0 ||
	    h5_attr_write_double(&f, "/", "target", r->target) < 0 ||
	    h5_attr_write_double(&f, "/", "reward_w", r->reward_w) < 0 ||
	    h5_attr_write_double(&f, "/", "latency_ms", r->latency_ms) < 0) {
		h5_abort(&f);
		return -1;
	}
	return h5_commit(&f);
}

static int read_str(struct h5f *f, const char *name, char *out, size_t n)
{
	char *s;

	if (h5_attr_read_string(f, "/", name, &s) < 0)
		return -1;
	if (strlen(s) >= n) {
		free(s);
		return error("%s: attribute '%s' is longer than %zu bytes", f->path, name, n - 1);
	}
	snprintf(out, n, "%s", s);
	free(s);
	return 0;
}

int reward_read(struct reward *r, const char *path)
{
	struct h5f f;
	int64_t failed;

	reward_init(r);
	if (h5_open(&f, path, REWARD_FORMAT, REWARD_VERSION) < 0)
		return -1;
	if (h5_attr_read_double(&f, "/", "reward", &r->reward) < 0 ||
	    h5_attr_read_double(&f, "/", "accuracy", &r->accuracy) < 0 ||
	    h5_attr_read_double(&f, "/", "loss", &r->loss) < 0 ||
	    h5_attr_read_double(&f, "/", "test_accuracy", &r->test_accuracy) < 0 ||
	    h5_attr_read_int(&f, "/", "params", &r->params) < 0 ||
	    h5_attr_read_int(&f, "/", "mult_adds", &r->mult_adds) < 0 ||
	    h5_attr_read_double(&f, "/", "train_seconds", &r->train_seconds) < 0 ||
	    h5_attr_read_double(&f, "/", "images_per_second", &r->images_per_second) < 0 ||
	    h5_attr_read_int(&f, "/", "failed", &failed) < 0 ||
	    read_str(&f, "reason", r->reason, sizeof(r->reason)) < 0 ||
	    read_str(&f, "space", r->space, sizeof(r->space)) < 0 ||
	    read_str(&f, "genotype", r->genotype, sizeof(r->genotype)) < 0 ||
	    read_str(&f, "genotype_text", r->genotype_text, sizeof(r->genotype_text)) < 0 ||
	    read_str(&f, "policy_hash", r->policy_hash, sizeof(r->policy_hash)) < 0 ||
	    h5_attr_read_int(&f, "/", "round", &r->round) < 0 ||
	    h5_attr_read_int(&f, "/", "index", &r->index) < 0)
		goto fail;
	/* written since successive halving; older files: rung 0, epochs unknown */
	if (h5_attr_exists(&f, "/", "rung") &&
	    (h5_attr_read_int(&f, "/", "rung", &r->rung) < 0 ||
	     h5_attr_read_double(&f, "/", "epochs", &r->epochs) < 0))
		goto fail;
	if (r->rung < 0 || r->rung > 15 || !(isnan(r->epochs) || r->epochs >= 0)) {
		error("%s: rung %lld or epochs %g out of range", path, (long long)r->rung, r->epochs);
		goto fail;
	}
	/* the cost terms came later: absent in older files (reward_kind "") */
	r->reward_kind[0] = 0;
	if (h5_attr_exists(&f, "/", "reward_kind") > 0 &&
	    (read_str(&f, "reward_kind", r->reward_kind, sizeof(r->reward_kind)) < 0 ||
	     read_str(&f, "cost_kind", r->cost_kind, sizeof(r->cost_kind)) < 0 ||
	     h5_attr_read_double(&f, "/", "cost", &r->cost) < 0 ||
	     h5_attr_read_double(&f, "/", "target", &r->target) < 0 ||
	     h5_attr_read_double(&f, "/", "reward_w", &r->reward_w) < 0 ||
	     h5_attr_read_double(&f, "/", "latency_ms", &r->latency_ms) < 0))
		goto fail;
	if (r->reward_kind[0] && reward_kind_lookup(r->reward_kind) < 0) {
		error("%s: attribute 'reward_kind' is '%s', expected accuracy, cube, mnasnet or "
		      "mnasnet-hard", path, r->reward_kind);
		goto fail;
	}
	if (failed != 0 && failed != 1) {
		error("%s: attribute 'failed' is %lld, expected 0 or 1", path, (long long)failed);
		goto fail;
	}
	r->failed = (int)failed;
	if (check_numbers(r, path) < 0)
		goto fail;
	h5_close(&f);
	return 0;
fail:
	h5_close(&f);
	return -1;
}

int reward_genotype_path(const struct reward *r, const char *reward_path, char *out, int n)
{
	const char *slash = strrchr(reward_path, '/');
	int len;

	if (!r->genotype[0])
		return error("%s: reward file names no genotype file", reward_path);
	if (r->genotype[0] == '/' || !slash)
		len = snprintf(out, (size_t)n, "%s", r->genotype);
	else
		len = snprintf(out, (size_t)n, "%.*s/%s", (int)(slash - reward_path), reward_path,
			       r->genotype);
	if (len >= n)
		return error("%s: genotype path too long", reward_path);
	return 0;
}

void reward_genotype_text(const struct genofile *g, char *out, size_t n)
{
	if (g->has_cells)
		genotype_format(&g->geno, out, (int)n);
	else
		snprintf(out, n, "%s", g->cell_string);
}

/* the policy hash a reward records: "" for a genotype without a sampling record */
static void sample_hash(const struct genofile *g, char *out, size_t n)
{
	if (g->has_sample)
		snprintf(out, n, "%016llx", (unsigned long long)g->policy_hash);
	else
		out[0] = 0;
}

int reward_matches(const struct reward *r, const struct genofile *g)
{
	char text[sizeof r->genotype_text], hash[sizeof r->policy_hash];

	reward_genotype_text(g, text, sizeof text);
	sample_hash(g, hash, sizeof hash);
	return !strcmp(text, r->genotype_text) && !strcmp(hash, r->policy_hash);
}

int reward_check_genotype(const struct reward *r, const char *reward_path,
			  const struct genofile *g, const char *gpath)
{
	char text[sizeof r->genotype_text];

	if (reward_matches(r, g))
		return 0;
	reward_genotype_text(g, text, sizeof text);
	if (strcmp(text, r->genotype_text))
		return error("%s: scored genotype '%.80s', but %s holds '%.80s' (replaced after "
			     "scoring: delete the reward to score it again)",
			     reward_path, r->genotype_text, gpath, text);
	return error("%s: scored %s as sampled by policy %s, but the file records policy %016llx "
		     "(replaced after scoring: delete the reward to score it again)",
		     reward_path, gpath, r->policy_hash[0] ? r->policy_hash : "(none)",
		     (unsigned long long)g->policy_hash);
}

int reward_check_genotype_file(const struct reward *r, const char *reward_path)
{
	char path[4096];
	struct stat st;

	if (reward_genotype_path(r, reward_path, path, sizeof path) < 0)
		return -1;
	if (stat(path, &st) < 0)
		return error("%s: its genotype file %s is missing", reward_path, path);
	if (!S_ISREG(st.st_mode))
		return error("%s: its genotype file %s is not a regular file", reward_path, path);
	return 0;
}
