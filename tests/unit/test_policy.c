/*
 * test_policy.c - the LSTM controller: finite-difference gradients of both
 * losses (per weight group: start, embeddings, LSTM, heads), sampling
 * frequencies against the softmax (chi-square), learning a synthetic reward
 * with PPO and REINFORCE, and the policy file round trip byte for byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tap.h"
#include "h5io.h"
#include "policy.h"
#include "space.h"

#define NSEQ 3

struct group {
	const char *name;
	size_t lo, hi;
};

/* every weight of each group: analytic gradient against central differences */
static void check_grad(const char *what, struct policy *p, int algo, const int *acts,
		       const double *adv, const double *old)
{
	struct policy_trace tr;
	double *g = calloc(p->nparams, sizeof(double));
	struct group gr[] = {
		{ "start embedding", p->off_start, p->off_embed },
		{ "decision embeddings", p->off_embed, p->off_wx },
		{ "LSTM Wx, Wh, b", p->off_wx, p->off_head_w },
		{ "softmax heads W, b", p->off_head_w, p->nparams },
	};

	policy_trace_init(&tr, p);
	policy_loss(p, &tr, algo, NSEQ, acts, adv, old, g);
	for (size_t k = 0; k < sizeof(gr) / sizeof(gr[0]); k++) {
		double worst = 0, maxg = 0;

		for (size_t i = gr[k].lo; i < gr[k].hi; i++)
			if (fabs(g[i]) > maxg)
				maxg = fabs(g[i]);
		/* relative error, with a floor of 1e-3 of the group's largest gradient
		 * (below it the central difference is dominated by rounding) */
		for (size_t i = gr[k].lo; i < gr[k].hi; i++) {
			double w = p->w[i], h = 1e-5, lp, lm, num, err;

			p->w[i] = w + h;
			lp = policy_loss(p, &tr, algo, NSEQ, acts, adv, old, NULL);
			p->w[i] = w - h;
			lm = policy_loss(p, &tr, algo, NSEQ, acts, adv, old, NULL);
			p->w[i] = w;
			num = (lp - lm) / (2 * h);
			err = fabs(num - g[i]) / (fabs(num) + 1e-3 * maxg);
			if (err > worst)
				worst = err;
		}
		ok(worst < 1e-4 && maxg > 0, "%s: %s gradient matches finite differences "
		   "(worst rel err %.2g, max |g| %.2g)", what, gr[k].name, worst, maxg);
	}
	policy_trace_free(&tr);
	free(g);
}

static void test_gradients(void)
{
	struct space s;
	struct policy_config c;
	struct policy p;
	struct policy_trace tr;
	struct rng r;
	int acts[NSEQ * SPACE_MAX_DECISIONS];
	double adv[NSEQ] = { 0.7, -0.4, 0.3 }, old[NSEQ];

	space_get(&s, "nasnet");
	policy_config_default(&c);
	c.hidden = 5;
	c.entropy_weight = 0.05; /* large enough to test the entropy gradient */
	policy_init(&p, &s, &c, 11);
	/* larger weights than the init so every nonlinearity is exercised */
	for (size_t i = 0; i < p.nparams; i++)
		p.w[i] *= 8;
	policy_trace_init(&tr, &p);
	rng_seed(&r, 5);
	for (int k = 0; k < NSEQ; k++)
		policy_sample(&p, &tr, &r, acts + k * s.ndecisions, NULL);
	check_grad("REINFORCE", &p, POLICY_REINFORCE, acts, adv, NULL);
	/* PPO: ratio 1 (unclipped), 1.65 with A<0 (unclipped side), 1.65 with A>0 (clipped) */
	for (int k = 0; k < NSEQ; k++)
		old[k] = policy_forward(&p, &tr, acts + k * s.ndecisions, NULL) - (k ? 0.5 : 0);
	check_grad("PPO", &p, POLICY_PPO, acts, adv, old);
	policy_trace_free(&tr);
	policy_free(&p);

	/* temperature and tanh logit cap */
	c.temperature = 1.7;
	c.logit_cap = 2.5;
	policy_init(&p, &s, &c, 12);
	for (size_t i = 0; i < p.nparams; i++)
		p.w[i] *= 8;
	check_grad("REINFORCE, T=1.7, cap 2.5", &p, POLICY_REINFORCE, acts, adv, NULL);
	policy_free(&p);
}

/* chi-square of n draws against probabilities q over k categories */
static double chi2(const int *count, const double *q, int k, int n)
{
	double x = 0;

	for (int j = 0; j < k; j++)
		x += (count[j] - n * q[j]) * (count[j] - n * q[j]) / (n * q[j]);
	return x;
}

static void test_sampling(void)
{
	struct space s;
	struct policy_config c;
	struct policy p;
	struct policy_trace tr;
	struct rng r;
	int a[SPACE_MAX_DECISIONS] = { 0 }, c0[5] = { 0 }, c1[5] = { 0 }, n1 = 0, cond = 2;
	double q0[5], q1[5], lp_sum = 0, lp_fwd, logp[SPACE_MAX_DECISIONS];
	const int N = 20000;

	space_get(&s, "nb201");
	policy_config_default(&c);
	c.hidden = 16;
	policy_init(&p, &s, &c, 21);
	for (size_t i = p.off_head_w; i < p.nparams; i++)
		p.w[i] *= 30; /* clearly non-uniform softmaxes */
	policy_trace_init(&tr, &p);
	a[0] = cond;
	policy_step_probs(&p, &tr, a, 0, q0);
	policy_step_probs(&p, &tr, a, 1, q1); /* decision 1 given a0 = cond */
	rng_seed(&r, 99);
	for (int k = 0; k < N; k++) {
		double lp = policy_sample(&p, &tr, &r, a, logp);

		c0[a[0]]++;
		if (a[0] == cond) {
			c1[a[1]]++;
			n1++;
		}
		if (k == 0) {
			lp_sum = 0;
			for (int t = 0; t < s.ndecisions; t++)
				lp_sum += logp[t];
			lp_fwd = policy_forward(&p, &tr, a, NULL);
			ok(fabs(lp - lp_sum) < 1e-12 && fabs(lp - lp_fwd) < 1e-12,
			   "sampled log-prob = sum of step log-probs = forward log-prob");
		}
	}
	diag("q0 = %.3f %.3f %.3f %.3f %.3f", q0[0], q0[1], q0[2], q0[3], q0[4]);
	/* chi-square, 4 degrees of freedom: 18.47 is the 0.999 quantile */
	ok(chi2(c0, q0, 5, N) < 18.47, "decision 0 frequencies match softmax (chi2 %.2f, df 4)",
	   chi2(c0, q0, 5, N));
	ok(n1 > 500 && chi2(c1, q1, 5, n1) < 18.47,
	   "decision 1 given decision 0 matches softmax (chi2 %.2f, df 4, n %d)",
	   chi2(c1, q1, 5, n1), n1);
	{
		struct rng r1, r2;
		int b[SPACE_MAX_DECISIONS];

		rng_stream(&r1, 4, 3, 2, RNG_SAMPLE);
		rng_stream(&r2, 4, 3, 2, RNG_SAMPLE);
		policy_sample(&p, &tr, &r1, a, NULL);
		policy_sample(&p, &tr, &r2, b, NULL);
		ok(!memcmp(a, b, sizeof(int) * (size_t)s.ndecisions),
		   "sampling from the same (seed, round, index) stream is deterministic");
	}
	policy_trace_free(&tr);
	policy_free(&p);
}

/* fraction of the Normal cell's ops that are separable convs */
static double synthetic_reward(const struct space *s, const int *a)
{
	int sep = 0, n = 0;

	for (int i = 0; i < s->ndecisions; i++)
		if (s->d[i].cell == 0 && s->d[i].kind == DEC_OP) {
			int op = s->ops[a[i]];

			n++;
			sep += op == OP_SEP_CONV_3X3 || op == OP_SEP_CONV_5X5 || op == OP_SEP_CONV_7X7;
		}
	return (double)sep / n;
}

static void test_learning(int algo)
{
	struct space s;
	struct policy_config c;
	struct policy p;
	struct policy_trace tr;
	struct policy_stats st;
	enum { B = 20, U = 12 };
	int acts[B * SPACE_MAX_DECISIONS];
	double rew[B], first = 0, last = 0;

	space_get(&s, "nasnet");
	policy_config_default(&c);
	c.hidden = 16;
	c.lr = 0.03;
	policy_init(&p, &s, &c, 31);
	policy_trace_init(&tr, &p);
	for (int u = 0; u <= U; u++) {
		double mean = 0;

		for (int k = 0; k < B; k++) {
			struct rng r;

			rng_stream(&r, 31, (uint64_t)u, (uint64_t)k, RNG_SAMPLE);
			policy_sample(&p, &tr, &r, acts + k * s.ndecisions, NULL);
			rew[k] = synthetic_reward(&s, acts + k * s.ndecisions);
			mean += rew[k] / B;
		}
		if (u == 0)
			first = mean;
		last = mean;
		if (u < U)
			policy_update(&p, algo, B, acts, rew, &st);
	}
	/* random search: 3/13 = 0.23, sd of a batch mean ~0.03 */
	ok(last > 0.5 && first < 0.4,
	   "%s: synthetic reward rises from %.3f to %.3f in %d updates (random 0.231)",
	   policy_algo_name(algo), first, last, U);
	ok(p.updates == U && p.nhistory == U * B, "%s: update count and reward history kept",
	   policy_algo_name(algo));
	policy_trace_free(&tr);
	policy_free(&p);
}

static int same_bytes(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	int ca, cb, same = fa && fb;

	while (same) {
		ca = fgetc(fa);
		cb = fgetc(fb);
		if (ca != cb)
			same = 0;
		if (ca == EOF)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

static void test_file(void)
{
	char dir[] = "/tmp/test_policy.XXXXXX", a[256], b[256], c2[256];
	struct space s;
	struct policy_config c;
	struct policy p, q;
	struct policy_stats st;
	struct provenance prov = { "test_policy", 0, NULL, 1, 1 };
	struct rng r;
	struct policy_trace tr;
	int acts[4 * SPACE_MAX_DECISIONS];
	double rew[4] = { 0.5, 0.1, 0.9, 0 };

	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	h5_init();
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(a, sizeof(a), "%s/a.h5", dir);
	snprintf(b, sizeof(b), "%s/b.h5", dir);
	snprintf(c2, sizeof(c2), "%s/c.h5", dir);
	space_get(&s, "enas");
	policy_config_default(&c);
	c.hidden = 8;
	c.minibatch = 2;
	policy_init(&p, &s, &c, 41);
	ok(policy_write(&p, a, &prov) == 0 && policy_read(&q, a) == 0 &&
	   policy_write(&q, b, &prov) == 0 && same_bytes(a, b),
	   "fresh policy: write, read, write gives identical bytes");
	policy_free(&q);
	policy_trace_init(&tr, &p);
	rng_seed(&r, 1);
	for (int k = 0; k < 4; k++)
		policy_sample(&p, &tr, &r, acts + k * s.ndecisions, NULL);
	policy_update(&p, POLICY_PPO, 4, acts, rew, &st);
	ok(policy_write(&p, a, &prov) == 0 && policy_read(&q, a) == 0 &&
	   policy_write(&q, b, &prov) == 0 && same_bytes(a, b),
	   "updated policy (Adam state, baseline, history, RNG): round trip byte for byte");
	ok(policy_hash(&p) == policy_hash(&q) && q.updates == 1 && q.nhistory == 4 &&
	   q.baseline == p.baseline && !memcmp(q.rng.s, p.rng.s, sizeof(p.rng.s)) &&
	   !memcmp(q.m, p.m, p.nparams * sizeof(double)),
	   "read policy equals the written one");
	/* the same update on the read copy gives the same file */
	policy_update(&p, POLICY_PPO, 4, acts, rew, &st);
	policy_update(&q, POLICY_PPO, 4, acts, rew, &st);
	ok(policy_write(&p, a, &prov) == 0 && policy_write(&q, c2, &prov) == 0 && same_bytes(a, c2),
	   "an update after a round trip matches the update in memory");
	policy_free(&q);
	{
		FILE *f = fopen(b, "r+b");
		long size;
		struct policy z;

		/* a policy file cut in half is refused with one error */
		if (!f) {
			ok(0, "open %s", b);
			return;
		}
		fseek(f, 0, SEEK_END);
		size = ftell(f);
		fclose(f);
		ok(truncate(b, size / 2) == 0 && policy_read(&z, b) < 0, "a truncated policy is refused");
	}
	unlink(a);
	unlink(b);
	unlink(c2);
	rmdir(dir);
	policy_trace_free(&tr);
	policy_free(&p);
}

int main(void)
{
	test_gradients();
	test_sampling();
	test_learning(POLICY_PPO);
	test_learning(POLICY_REINFORCE);
	test_file();
	return tap_exit();
}
