/*
 * policy.c - the LSTM controller (see policy.h for the model and losses):
 * initialisation, sampling, exact backprop through time, PPO and REINFORCE
 * losses, the baseline and Adam. File I/O is in policyfile.c.
 *
 * Loops are plain: the controller has ~100k weights and 6..50 steps, so a
 * whole NB201 search (100 samples, 10 updates) runs in milliseconds.
 */
#include "policy.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define MAXC SPACE_MAX_CHOICES

void policy_config_default(struct policy_config *c)
{
	memset(c, 0, sizeof(*c));
	c->hidden = 100;
	c->temperature = 1.0;
	c->logit_cap = 0.0;
	c->lr = 0.00035;
	c->beta1 = 0.9;
	c->beta2 = 0.999;
	c->adam_eps = 1e-8;
	c->entropy_weight = 1e-5;
	c->baseline_decay = 0.95;
	c->clip = 0.2;
	c->epochs = 4;
	c->minibatch = 0;
}

int policy_config_check(const struct policy_config *c, const char *what)
{
	/* one line naming the file (or flag set) and the value */
	if (c->hidden < 1 || c->hidden > 4096)
		return error("%s: hidden size %d out of range 1..4096", what, c->hidden);
	if (!(c->temperature > 0) || !isfinite(c->temperature))
		return error("%s: temperature %g, expected > 0", what, c->temperature);
	if (!(c->logit_cap >= 0) || !isfinite(c->logit_cap))
		return error("%s: logit cap %g, expected >= 0", what, c->logit_cap);
	if (!(c->lr >= 0) || !isfinite(c->lr))
		return error("%s: learning rate %g, expected >= 0", what, c->lr);
	if (!(c->beta1 >= 0 && c->beta1 < 1))
		return error("%s: Adam beta1 %g, expected 0 <= beta1 < 1", what, c->beta1);
	if (!(c->beta2 >= 0 && c->beta2 < 1))
		return error("%s: Adam beta2 %g, expected 0 <= beta2 < 1", what, c->beta2);
	if (!(c->adam_eps > 0))
		return error("%s: Adam epsilon %g, expected > 0", what, c->adam_eps);
	if (!(c->entropy_weight >= 0) || !isfinite(c->entropy_weight))
		return error("%s: entropy weight %g, expected >= 0", what, c->entropy_weight);
	if (!(c->baseline_decay >= 0 && c->baseline_decay <= 1))
		return error("%s: baseline decay %g, expected 0..1", what, c->baseline_decay);
	if (!(c->clip > 0 && c->clip < 1))
		return error("%s: PPO clip %g, expected 0 < clip < 1", what, c->clip);
	if (c->epochs < 1 || c->epochs > 1000)
		return error("%s: PPO epochs %d out of range 1..1000", what, c->epochs);
	if (c->minibatch < 0)
		return error("%s: minibatch %d, expected >= 0", what, c->minibatch);
	return 0;
}

int policy_config_set(struct policy_config *c, const char *name, const char *arg)
{
	static const struct {
		const char *name;
		size_t off;
		int is_int;
		double lo, hi;
	} flags[] = {
		{ "hidden", offsetof(struct policy_config, hidden), 1, 1, 4096 },
		{ "policy-lr", offsetof(struct policy_config, lr), 0, 0, 10 },
		{ "ppo-epochs", offsetof(struct policy_config, epochs), 1, 1, 1000 },
		{ "ppo-clip", offsetof(struct policy_config, clip), 0, 1e-6, 0.999 },
		{ "minibatch", offsetof(struct policy_config, minibatch), 1, 0, 1 << 20 },
		{ "entropy-weight", offsetof(struct policy_config, entropy_weight), 0, 0, 1e6 },
		{ "baseline-decay", offsetof(struct policy_config, baseline_decay), 0, 0, 1 },
		{ "temperature", offsetof(struct policy_config, temperature), 0, 1e-6, 1e6 },
		{ "logit-cap", offsetof(struct policy_config, logit_cap), 0, 0, 1e6 },
	};

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		char *field = (char *)c + flags[i].off;

		if (strcmp(name, flags[i].name))
			continue;
		if (flags[i].is_int) {
			long v;

			if (parse_long(arg, (long)flags[i].lo, (long)flags[i].hi, &v) < 0)
				return error("invalid --%s '%s' (expected %g..%g)", name, arg,
					     flags[i].lo, flags[i].hi);
			*(int *)(void *)field = (int)v;
		} else {
			double v;

			if (parse_double(arg, flags[i].lo, flags[i].hi, &v) < 0)
				return error("invalid --%s '%s' (expected %g..%g)", name, arg,
					     flags[i].lo, flags[i].hi);
			*(double *)(void *)field = v;
		}
		return 0;
	}
	return error("unknown controller flag --%s", name);
}

const char *policy_algo_name(int algo)
{
	return algo == POLICY_REINFORCE ? "reinforce" : "ppo";
}

void policy_alloc(struct policy *p, const struct space *s, const struct policy_config *c)
{
	int D = s->ndecisions, H = c->hidden;
	size_t off = 0;

	memset(p, 0, sizeof(*p));
	p->space = *s;
	p->cfg = *c;
	for (int d = 0; d < D; d++) {
		p->emb_row[d] = p->embed_rows;
		if (d < D - 1)
			p->embed_rows += s->d[d].nchoices;
		p->head_row[d] = p->head_rows;
		p->head_rows += s->d[d].nchoices;
	}
	p->off_start = off;
	off += (size_t)H;
	p->off_embed = off;
	off += (size_t)p->embed_rows * H;
	p->off_wx = off;
	off += (size_t)4 * H * H;
	p->off_wh = off;
	off += (size_t)4 * H * H;
	p->off_b = off;
	off += (size_t)4 * H;
	p->off_head_w = off;
	off += (size_t)p->head_rows * H;
	p->off_head_b = off;
	off += (size_t)p->head_rows;
	p->nparams = off;
	p->w = xcalloc(off, sizeof(double));
	p->m = xcalloc(off, sizeof(double));
	p->v = xcalloc(off, sizeof(double));
}

int policy_init(struct policy *p, const struct space *s, const struct policy_config *c,
		uint64_t seed)
{
	if (policy_config_check(c, "policy") < 0)
		return -1;
	policy_alloc(p, s, c);
	p->seed = seed;
	rng_stream(&p->rng, seed, 0, 0, RNG_POLICY);
	for (size_t i = 0; i < p->nparams; i++)
		p->w[i] = (2 * rng_double(&p->rng) - 1) * 0.1;
	return 0;
}

void policy_free(struct policy *p)
{
	free(p->w);
	free(p->m);
	free(p->v);
	free(p->history);
	memset(p, 0, sizeof(*p));
}

void policy_copy(struct policy *dst, const struct policy *src)
{
	*dst = *src;
	dst->w = xmalloc(src->nparams * sizeof(double));
	dst->m = xmalloc(src->nparams * sizeof(double));
	dst->v = xmalloc(src->nparams * sizeof(double));
	memcpy(dst->w, src->w, src->nparams * sizeof(double));
	memcpy(dst->m, src->m, src->nparams * sizeof(double));
	memcpy(dst->v, src->v, src->nparams * sizeof(double));
	dst->history = NULL;
	if (src->nhistory) {
		dst->history = xmalloc((size_t)src->nhistory * sizeof(double));
		memcpy(dst->history, src->history, (size_t)src->nhistory * sizeof(double));
	}
}

uint64_t policy_hash(const struct policy *p)
{
	return hash_bytes(HASH_INIT, p->w, p->nparams * sizeof(double));
}

void policy_trace_init(struct policy_trace *tr, const struct policy *p)
{
	int T = p->space.ndecisions, H = p->cfg.hidden;

	tr->T = T;
	tr->H = H;
	tr->a = xcalloc((size_t)T, sizeof(int));
	tr->x = xcalloc((size_t)T * H, sizeof(double));
	tr->hp = xcalloc((size_t)T * H, sizeof(double));
	tr->cp = xcalloc((size_t)T * H, sizeof(double));
	tr->gate = xcalloc((size_t)T * 4 * H, sizeof(double));
	tr->c = xcalloc((size_t)T * H, sizeof(double));
	tr->tc = xcalloc((size_t)T * H, sizeof(double));
	tr->h = xcalloc((size_t)T * H, sizeof(double));
	tr->th = xcalloc((size_t)T * MAXC, sizeof(double));
	tr->prob = xcalloc((size_t)T * MAXC, sizeof(double));
	tr->logp = xcalloc((size_t)T, sizeof(double));
	tr->ent = xcalloc((size_t)T, sizeof(double));
	tr->dh = xcalloc((size_t)H, sizeof(double));
	tr->dc = xcalloc((size_t)H, sizeof(double));
	tr->dz = xcalloc((size_t)4 * H, sizeof(double));
}

void policy_trace_free(struct policy_trace *tr)
{
	free(tr->a);
	free(tr->x);
	free(tr->hp);
	free(tr->cp);
	free(tr->gate);
	free(tr->c);
	free(tr->tc);
	free(tr->h);
	free(tr->th);
	free(tr->prob);
	free(tr->logp);
	free(tr->ent);
	free(tr->dh);
	free(tr->dc);
	free(tr->dz);
	memset(tr, 0, sizeof(*tr));
}

static double sigm(double x)
{
	return 1.0 / (1.0 + exp(-x));
}

/* One LSTM step and the classifier of decision t; fills tr row t. */
static void step_forward(const struct policy *p, struct policy_trace *tr, int t)
{
	int H = tr->H, n = p->space.d[t].nchoices;
	const double *wx = p->w + p->off_wx, *wh = p->w + p->off_wh, *b = p->w + p->off_b;
	const double *hw = p->w + p->off_head_w + (size_t)p->head_row[t] * H;
	const double *hb = p->w + p->off_head_b + p->head_row[t];
	double *x = tr->x + (size_t)t * H, *hp = tr->hp + (size_t)t * H, *cp = tr->cp + (size_t)t * H;
	double *gate = tr->gate + (size_t)t * 4 * H;
	double *c = tr->c + (size_t)t * H, *tc = tr->tc + (size_t)t * H, *h = tr->h + (size_t)t * H;
	double *th = tr->th + (size_t)t * MAXC, *pr = tr->prob + (size_t)t * MAXC;
	double l[MAXC], mx, sum, ent;

	if (t == 0) {
		memcpy(x, p->w + p->off_start, (size_t)H * sizeof(double));
		memset(hp, 0, (size_t)H * sizeof(double));
		memset(cp, 0, (size_t)H * sizeof(double));
	} else {
		const double *e = p->w + p->off_embed +
				  (size_t)(p->emb_row[t - 1] + tr->a[t - 1]) * H;

		memcpy(x, e, (size_t)H * sizeof(double));
		memcpy(hp, tr->h + (size_t)(t - 1) * H, (size_t)H * sizeof(double));
		memcpy(cp, tr->c + (size_t)(t - 1) * H, (size_t)H * sizeof(double));
	}
	for (int r = 0; r < 4 * H; r++) {
		const double *wxr = wx + (size_t)r * H, *whr = wh + (size_t)r * H;
		double z = b[r];

		for (int k = 0; k < H; k++)
			z += wxr[k] * x[k] + whr[k] * hp[k];
		gate[r] = (r >= 2 * H && r < 3 * H) ? tanh(z) : sigm(z);
	}
	for (int k = 0; k < H; k++) {
		double ig = gate[k], fg = gate[H + k], gg = gate[2 * H + k], og = gate[3 * H + k];

		c[k] = fg * cp[k] + ig * gg;
		tc[k] = tanh(c[k]);
		h[k] = og * tc[k];
	}
	mx = -INFINITY;
	for (int j = 0; j < n; j++) {
		double z = hb[j];

		for (int k = 0; k < H; k++)
			z += hw[(size_t)j * H + k] * h[k];
		z /= p->cfg.temperature;
		if (p->cfg.logit_cap > 0) {
			th[j] = tanh(z);
			z = p->cfg.logit_cap * th[j];
		}
		l[j] = z;
		if (z > mx)
			mx = z;
	}
	sum = 0;
	for (int j = 0; j < n; j++) {
		pr[j] = exp(l[j] - mx);
		sum += pr[j];
	}
	ent = 0;
	for (int j = 0; j < n; j++) {
		double lp = l[j] - mx - log(sum);

		pr[j] = exp(lp);
		ent -= pr[j] * lp;
	}
	tr->ent[t] = ent;
}

static double finish_logp(struct policy_trace *tr, int t)
{
	double pa = tr->prob[(size_t)t * MAXC + tr->a[t]];

	tr->logp[t] = log(pa > 0 ? pa : 1e-300);
	return tr->logp[t];
}

double policy_sample(const struct policy *p, struct policy_trace *tr, struct rng *r, int *actions,
		     double *logp)
{
	double total = 0;

	for (int t = 0; t < tr->T; t++) {
		int n = p->space.d[t].nchoices, j;
		const double *pr = tr->prob + (size_t)t * MAXC;
		double u, acc = 0;

		step_forward(p, tr, t);
		u = rng_double(r);
		for (j = 0; j < n - 1; j++) {
			acc += pr[j];
			if (u < acc)
				break;
		}
		tr->a[t] = j;
		actions[t] = j;
		total += finish_logp(tr, t);
		if (logp)
			logp[t] = tr->logp[t];
	}
	return total;
}

double policy_forward(const struct policy *p, struct policy_trace *tr, const int *actions,
		      double *entropy)
{
	double total = 0, ent = 0;

	for (int t = 0; t < tr->T; t++) {
		tr->a[t] = actions[t];
		step_forward(p, tr, t);
		total += finish_logp(tr, t);
		ent += tr->ent[t];
	}
	if (entropy)
		*entropy = ent;
	return total;
}

void policy_step_probs(const struct policy *p, struct policy_trace *tr, const int *actions, int t,
		       double *probs)
{
	policy_forward(p, tr, actions, NULL);
	memcpy(probs, tr->prob + (size_t)t * MAXC, (size_t)p->space.d[t].nchoices * sizeof(double));
}

void policy_backward(const struct policy *p, struct policy_trace *tr, double alpha, double eta,
		     double *grad)
{
	int H = tr->H;
	const double *wx = p->w + p->off_wx, *wh = p->w + p->off_wh;
	double *gwx = grad + p->off_wx, *gwh = grad + p->off_wh, *gb = grad + p->off_b;
	double *dh = tr->dh, *dc = tr->dc, *dz = tr->dz;

	memset(dh, 0, (size_t)H * sizeof(double));
	memset(dc, 0, (size_t)H * sizeof(double));
	for (int t = tr->T - 1; t >= 0; t--) {
		int n = p->space.d[t].nchoices;
		const double *pr = tr->prob + (size_t)t * MAXC, *th = tr->th + (size_t)t * MAXC;
		const double *hw = p->w + p->off_head_w + (size_t)p->head_row[t] * H;
		double *ghw = grad + p->off_head_w + (size_t)p->head_row[t] * H;
		double *ghb = grad + p->off_head_b + p->head_row[t];
		const double *x = tr->x + (size_t)t * H, *hp = tr->hp + (size_t)t * H;
		const double *cp = tr->cp + (size_t)t * H, *gate = tr->gate + (size_t)t * 4 * H;
		const double *tc = tr->tc + (size_t)t * H, *h = tr->h + (size_t)t * H;
		double *gx;

		/* softmax head: d/dl of alpha log pi(a_t) + eta H_t */
		for (int j = 0; j < n; j++) {
			double lpj = log(pr[j] > 0 ? pr[j] : 1e-300);
			double dl = alpha * ((j == tr->a[t]) - pr[j]) - eta * pr[j] * (lpj + tr->ent[t]);
			double dzj = dl / p->cfg.temperature;

			if (p->cfg.logit_cap > 0)
				dzj *= p->cfg.logit_cap * (1 - th[j] * th[j]);
			ghb[j] += dzj;
			for (int k = 0; k < H; k++) {
				ghw[(size_t)j * H + k] += dzj * h[k];
				dh[k] += dzj * hw[(size_t)j * H + k];
			}
		}
		/* LSTM cell; dh holds dL/dh_t, dc holds dL/dc_t from step t+1 */
		for (int k = 0; k < H; k++) {
			double ig = gate[k], fg = gate[H + k], gg = gate[2 * H + k], og = gate[3 * H + k];
			double dck = dc[k] + dh[k] * og * (1 - tc[k] * tc[k]);

			dz[k] = dck * gg * ig * (1 - ig);
			dz[H + k] = dck * cp[k] * fg * (1 - fg);
			dz[2 * H + k] = dck * ig * (1 - gg * gg);
			dz[3 * H + k] = dh[k] * tc[k] * og * (1 - og);
			dc[k] = dck * fg;
		}
		gx = t == 0 ? grad + p->off_start
			    : grad + p->off_embed + (size_t)(p->emb_row[t - 1] + tr->a[t - 1]) * H;
		memset(dh, 0, (size_t)H * sizeof(double));
		for (int r = 0; r < 4 * H; r++) {
			double d = dz[r];
			const double *wxr = wx + (size_t)r * H, *whr = wh + (size_t)r * H;
			double *gwxr = gwx + (size_t)r * H, *gwhr = gwh + (size_t)r * H;

			if (d == 0)
				continue;
			gb[r] += d;
			for (int k = 0; k < H; k++) {
				gwxr[k] += d * x[k];
				gwhr[k] += d * hp[k];
				gx[k] += d * wxr[k];
				dh[k] += d * whr[k];
			}
		}
	}
}

double policy_loss(const struct policy *p, struct policy_trace *tr, int algo, int n,
		   const int *actions, const double *adv, const double *old_logp, double *grad)
{
	int D = p->space.ndecisions;
	double beta = p->cfg.entropy_weight, eps = p->cfg.clip, loss = 0;

	for (int k = 0; k < n; k++) {
		double ent, lp = policy_forward(p, tr, actions + (size_t)k * D, &ent);
		double A = adv[k], alpha;

		if (algo == POLICY_PPO) {
			double r = exp(lp - old_logp[k]);
			double rc = r < 1 - eps ? 1 - eps : r > 1 + eps ? 1 + eps : r;
			double un = r * A, cl = rc * A;

			if (un <= cl) {
				loss -= un;
				alpha = -A * r / n;
			} else {
				loss -= cl;
				alpha = 0;
			}
		} else {
			loss -= A * lp;
			alpha = -A / n;
		}
		loss -= beta * ent;
		if (grad)
			policy_backward(p, tr, alpha, -beta / n, grad);
	}
	return loss / n;
}

void policy_adam_step(struct policy *p, const double *grad)
{
	const struct policy_config *c = &p->cfg;
	double bc1, bc2;

	p->adam_t++;
	bc1 = 1 - pow(c->beta1, (double)p->adam_t);
	bc2 = 1 - pow(c->beta2, (double)p->adam_t);
	for (size_t i = 0; i < p->nparams; i++) {
		p->m[i] = c->beta1 * p->m[i] + (1 - c->beta1) * grad[i];
		p->v[i] = c->beta2 * p->v[i] + (1 - c->beta2) * grad[i] * grad[i];
		p->w[i] -= c->lr * (p->m[i] / bc1) / (sqrt(p->v[i] / bc2) + c->adam_eps);
	}
}

/* sum over steps of KL(old_t || new_t) along the sequence `a` */
static double sequence_kl(const struct policy *oldp, const struct policy *newp,
			  struct policy_trace *to, struct policy_trace *tn, const int *a)
{
	double kl = 0;

	policy_forward(oldp, to, a, NULL);
	policy_forward(newp, tn, a, NULL);
	for (int t = 0; t < to->T; t++) {
		const double *po = to->prob + (size_t)t * MAXC, *pn = tn->prob + (size_t)t * MAXC;

		for (int j = 0; j < oldp->space.d[t].nchoices; j++)
			if (po[j] > 0)
				kl += po[j] * (log(po[j]) - log(pn[j] > 0 ? pn[j] : 1e-300));
	}
	return kl;
}

int policy_update(struct policy *p, int algo, int n, const int *actions, const double *reward,
		  struct policy_stats *st)
{
	int D = p->space.ndecisions;
	int mb = algo == POLICY_PPO && p->cfg.minibatch > 0 && p->cfg.minibatch < n ? p->cfg.minibatch : n;
	int epochs = algo == POLICY_PPO ? p->cfg.epochs : 1;
	double *adv, *old_logp, *grad, *adv_mb, *old_mb, sum = 0, best = -INFINITY;
	int *order, *act_mb;
	struct policy old;
	struct policy_trace tr, tr2;

	if (n < 1)
		return error("policy update: empty batch");
	for (int k = 0; k < n; k++) {
		if (!isfinite(reward[k]))
			return error("policy update: reward %d is not finite", k);
		if (space_check_actions(&p->space, actions + (size_t)k * D, "policy update") < 0)
			return -1;
		sum += reward[k];
		if (reward[k] > best)
			best = reward[k];
	}
	if (!p->baseline_set) {
		p->baseline = sum / n;
		p->baseline_set = 1;
	}
	adv = xmalloc((size_t)n * sizeof(double));
	old_logp = xmalloc((size_t)n * sizeof(double));
	adv_mb = xmalloc((size_t)n * sizeof(double));
	old_mb = xmalloc((size_t)n * sizeof(double));
	order = xmalloc((size_t)n * sizeof(int));
	act_mb = xmalloc((size_t)n * D * sizeof(int));
	grad = xmalloc(p->nparams * sizeof(double));
	policy_trace_init(&tr, p);
	policy_trace_init(&tr2, p);
	policy_copy(&old, p);
	for (int k = 0; k < n; k++) {
		adv[k] = reward[k] - p->baseline;
		old_logp[k] = policy_forward(p, &tr, actions + (size_t)k * D, NULL);
		order[k] = k;
	}
	memset(st, 0, sizeof(*st));
	st->loss = policy_loss(p, &tr, algo, n, actions, adv, old_logp, NULL);
	for (int e = 0; e < epochs; e++) {
		if (mb < n)
			rng_shuffle(&p->rng, order, n);
		for (int s = 0; s < n; s += mb) {
			int m = s + mb <= n ? mb : n - s;

			for (int j = 0; j < m; j++) {
				int k = order[s + j];

				adv_mb[j] = adv[k];
				old_mb[j] = old_logp[k];
				memcpy(act_mb + (size_t)j * D, actions + (size_t)k * D,
				       (size_t)D * sizeof(int));
			}
			memset(grad, 0, p->nparams * sizeof(double));
			policy_loss(p, &tr, algo, m, act_mb, adv_mb, old_mb, grad);
			policy_adam_step(p, grad);
		}
	}
	for (int k = 0; k < n; k++)
		p->baseline = p->cfg.baseline_decay * p->baseline +
			      (1 - p->cfg.baseline_decay) * reward[k];
	p->history = xrealloc(p->history, (size_t)(p->nhistory + n) * sizeof(double));
	memcpy(p->history + p->nhistory, reward, (size_t)n * sizeof(double));
	p->nhistory += n;
	p->updates++;
	st->n = n;
	st->mean_reward = sum / n;
	st->best_reward = best;
	st->baseline = p->baseline;
	for (int k = 0; k < n; k++) {
		double ent;

		policy_forward(p, &tr, actions + (size_t)k * D, &ent);
		st->entropy += ent / n;
		st->kl += sequence_kl(&old, p, &tr, &tr2, actions + (size_t)k * D) / n;
	}
	policy_free(&old);
	policy_trace_free(&tr);
	policy_trace_free(&tr2);
	free(adv);
	free(old_logp);
	free(adv_mb);
	free(old_mb);
	free(order);
	free(act_mb);
	free(grad);
	return 0;
}
