/*
 * policyfile.c - the policy file (schema nasnet-c/policy, version 1; see
 * schemas/policy.md): the controller weights, one dataset per tensor, the
 * Adam moments in the same layout, the hyperparameters, baseline, counters,
 * RNG state and reward history. Reading checks every shape against the
 * space and hidden size and the weights against the recorded hash, so a
 * file read and written again is byte-identical.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5io.h"
#include "policy.h"
#include "util.h"

#define POLICY_FORMAT "nasnet-c/policy"
#define POLICY_VERSION 1
#define POLICY_MAX_HISTORY (1 << 26)

struct tensor {
	const char *name;
	size_t off;
	int rank;
	hsize_t dims[2];
};

static int tensors(const struct policy *p, struct tensor *t)
{
	hsize_t H = (hsize_t)p->cfg.hidden;

	t[0] = (struct tensor){ "start", p->off_start, 1, { H, 0 } };
	t[1] = (struct tensor){ "embed", p->off_embed, 2, { (hsize_t)p->embed_rows, H } };
	t[2] = (struct tensor){ "lstm_wx", p->off_wx, 2, { 4 * H, H } };
	t[3] = (struct tensor){ "lstm_wh", p->off_wh, 2, { 4 * H, H } };
	t[4] = (struct tensor){ "lstm_b", p->off_b, 1, { 4 * H, 0 } };
	t[5] = (struct tensor){ "head_w", p->off_head_w, 2, { (hsize_t)p->head_rows, H } };
	t[6] = (struct tensor){ "head_b", p->off_head_b, 1, { (hsize_t)p->head_rows, 0 } };
	return 7;
}

static size_t tensor_count(const struct tensor *t)
{
	return t->rank == 1 ? t->dims[0] : t->dims[0] * t->dims[1];
}

/* Weights and Adam moments finite, second moments >= 0 (D10): one NaN makes
 * every later update NaN. */
static int check_values(struct h5f *f, const char *path, const double *v, size_t n, int nonneg)
{
	for (size_t k = 0; k < n; k++) {
		if (!isfinite(v[k]))
			return error("%s: dataset '%s' holds a non-finite value (%g at %zu)", f->path,
				     path, v[k], k);
		if (nonneg && v[k] < 0)
			return error("%s: dataset '%s' holds a negative value (%g at %zu)", f->path,
				     path, v[k], k);
	}
	return 0;
}

static int write_group(struct h5f *f, const struct policy *p, const char *group, const double *base)
{
	struct tensor t[8];
	int n = tensors(p, t);
	char path[64];

	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", group, t[i].name);
		if (check_values(f, path, base + t[i].off, tensor_count(&t[i]),
				 !strcmp(group, "/adam_v")) < 0)
			return -1;
		if (h5_write(f, path, H5IO_F64, t[i].rank, t[i].dims, base + t[i].off) < 0)
			return -1;
	}
	return 0;
}

static int read_group(struct h5f *f, struct policy *p, const char *group, double *base)
{
	struct tensor t[8];
	int n = tensors(p, t);
	char path[64];

	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", group, t[i].name);
		if (h5_read(f, path, H5IO_F64, t[i].rank, t[i].dims, base + t[i].off) < 0 ||
		    check_values(f, path, base + t[i].off, tensor_count(&t[i]),
				 !strcmp(group, "/adam_v")) < 0)
			return -1;
	}
	return 0;
}

int policy_write(const struct policy *p, const char *path, const struct provenance *prov)
{
	const struct policy_config *c = &p->cfg;
	struct h5f f;
	char hash[20];
	hsize_t four = 4, nh = (hsize_t)p->nhistory;

	if (h5_create(&f, path, POLICY_FORMAT, POLICY_VERSION, prov) < 0)
		return -1;
	snprintf(hash, sizeof(hash), "%016" PRIx64, policy_hash(p));
	/* stop at the first failure: one error line */
	if (h5_attr_write_string(&f, "/", "space", p->space.name) < 0 ||
	    h5_attr_write_int(&f, "/", "decisions", p->space.ndecisions) < 0 ||
	    h5_attr_write_string(&f, "/", "hash", hash) < 0 ||
	    h5_attr_write_int(&f, "/", "seed", (int64_t)p->seed) < 0 ||
	    h5_attr_write_int(&f, "/", "updates", p->updates) < 0 ||
	    h5_attr_write_int(&f, "/", "adam_t", p->adam_t) < 0 ||
	    h5_attr_write_double(&f, "/", "baseline", p->baseline) < 0 ||
	    h5_attr_write_int(&f, "/", "baseline_set", p->baseline_set) < 0 ||
	    h5_attr_write_int(&f, "/", "hidden", c->hidden) < 0 ||
	    h5_attr_write_double(&f, "/", "temperature", c->temperature) < 0 ||
	    h5_attr_write_double(&f, "/", "logit_cap", c->logit_cap) < 0 ||
	    h5_attr_write_double(&f, "/", "lr", c->lr) < 0 ||
	    h5_attr_write_double(&f, "/", "beta1", c->beta1) < 0 ||
	    h5_attr_write_double(&f, "/", "beta2", c->beta2) < 0 ||
	    h5_attr_write_double(&f, "/", "adam_eps", c->adam_eps) < 0 ||
	    h5_attr_write_double(&f, "/", "entropy_weight", c->entropy_weight) < 0 ||
	    h5_attr_write_double(&f, "/", "baseline_decay", c->baseline_decay) < 0 ||
	    h5_attr_write_double(&f, "/", "clip", c->clip) < 0 ||
	    h5_attr_write_int(&f, "/", "epochs", c->epochs) < 0 ||
	    h5_attr_write_int(&f, "/", "minibatch", c->minibatch) < 0)
		goto fail;
	if (write_group(&f, p, "/weights", p->w) < 0 || write_group(&f, p, "/adam_m", p->m) < 0 ||
	    write_group(&f, p, "/adam_v", p->v) < 0)
		goto fail;
	if (h5_write(&f, "/rng_state", H5IO_U64, 1, &four, p->rng.s) < 0)
		goto fail;
	if (h5_write(&f, "/reward_history", H5IO_F64, 1, &nh, p->history) < 0)
		goto fail;
	return h5_commit(&f);
fail:
	h5_abort(&f);
	return -1;
}

static int read_int(struct h5f *f, const char *name, int64_t lo, int64_t hi, int64_t *v)
{
	if (h5_attr_read_int(f, "/", name, v) < 0)
		return -1;
	if (*v < lo || *v > hi)
		return error("%s: attribute '%s' is %" PRId64 ", expected %" PRId64 "..%" PRId64,
			     f->path, name, *v, lo, hi);
	return 0;
}

int policy_read(struct policy *p, const char *path)
{
	struct policy_config c;
	struct space s;
	struct h5f f;
	char *space = NULL, *hash = NULL, want[20];
	int64_t hidden, epochs, minibatch, decisions, seed, updates, adam_t, bset;
	double baseline;
	hsize_t four = 4, hd[1];
	void *hist = NULL;

	memset(p, 0, sizeof(*p));
	if (h5_open(&f, path, POLICY_FORMAT, POLICY_VERSION) < 0)
		return -1;
	if (h5_attr_read_string(&f, "/", "space", &space) < 0)
		goto fail;
	if (space_get(&s, space) < 0) {
		error("%s: policy of unknown space '%s'", path, space);
		goto fail;
	}
	policy_config_default(&c);
	if (read_int(&f, "hidden", 1, 4096, &hidden) < 0 || read_int(&f, "epochs", 1, 1000, &epochs) < 0 ||
	    read_int(&f, "minibatch", 0, INT32_MAX, &minibatch) < 0 ||
	    read_int(&f, "decisions", 1, SPACE_MAX_DECISIONS, &decisions) < 0 ||
	    read_int(&f, "seed", INT64_MIN, INT64_MAX, &seed) < 0 ||
	    read_int(&f, "updates", 0, INT64_MAX, &updates) < 0 ||
	    read_int(&f, "adam_t", 0, INT64_MAX, &adam_t) < 0 ||
	    read_int(&f, "baseline_set", 0, 1, &bset) < 0)
		goto fail;
	if (decisions != s.ndecisions) {
		error("%s: %" PRId64 " decisions, space '%s' has %d", path, decisions, s.name,
		      s.ndecisions);
		goto fail;
	}
	c.hidden = (int)hidden;
	c.epochs = (int)epochs;
	c.minibatch = (int)minibatch;
	if (h5_attr_read_double(&f, "/", "temperature", &c.temperature) < 0 ||
	    h5_attr_read_double(&f, "/", "logit_cap", &c.logit_cap) < 0 ||
	    h5_attr_read_double(&f, "/", "lr", &c.lr) < 0 ||
	    h5_attr_read_double(&f, "/", "beta1", &c.beta1) < 0 ||
	    h5_attr_read_double(&f, "/", "beta2", &c.beta2) < 0 ||
	    h5_attr_read_double(&f, "/", "adam_eps", &c.adam_eps) < 0 ||
	    h5_attr_read_double(&f, "/", "entropy_weight", &c.entropy_weight) < 0 ||
	    h5_attr_read_double(&f, "/", "baseline_decay", &c.baseline_decay) < 0 ||
	    h5_attr_read_double(&f, "/", "clip", &c.clip) < 0 ||
	    h5_attr_read_double(&f, "/", "baseline", &baseline) < 0 ||
	    h5_attr_read_string(&f, "/", "hash", &hash) < 0)
		goto fail;
	if (policy_config_check(&c, path) < 0)
		goto fail;
	policy_alloc(p, &s, &c);
	p->seed = (uint64_t)seed;
	p->updates = updates;
	p->adam_t = adam_t;
	p->baseline = baseline;
	p->baseline_set = (int)bset;
	if (read_group(&f, p, "/weights", p->w) < 0 || read_group(&f, p, "/adam_m", p->m) < 0 ||
	    read_group(&f, p, "/adam_v", p->v) < 0)
		goto fail;
	if (h5_read(&f, "/rng_state", H5IO_U64, 1, &four, p->rng.s) < 0)
		goto fail;
	if (h5_read_alloc(&f, "/reward_history", H5IO_F64, 1, hd, POLICY_MAX_HISTORY, &hist) < 0)
		goto fail;
	p->history = hist;
	p->nhistory = (int64_t)hd[0];
	if (check_values(&f, "/reward_history", hist, hd[0], 0) < 0)
		goto fail;
	if (!isfinite(baseline)) {
		error("%s: baseline is %g, expected a finite number", path, baseline);
		goto fail;
	}
	snprintf(want, sizeof(want), "%016" PRIx64, policy_hash(p));
	if (strcmp(want, hash)) {
		error("%s: weights do not match the recorded hash %s (computed %s)", path, hash, want);
		goto fail;
	}
	free(space);
	free(hash);
	h5_close(&f);
	return 0;
fail:
	free(space);
	free(hash);
	h5_close(&f);
	if (p->w)
		policy_free(p);
	return -1;
}
