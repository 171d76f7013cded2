/*
 * policy.h - the controller: a one-layer LSTM that emits one decision of a
 * search space (space.h) per step, trained by PPO or REINFORCE with Adam.
 *
 * Model (all double precision; the controller is tiny and doubles make the
 * finite-difference checks exact to ~1e-8):
 *   x_0     = start                        learned start embedding   (E)
 *   x_t     = emb_{t-1}[a_{t-1}]           one embedding table per decision
 *                                          (not shared: input index 3 of block
 *                                          2 and op 3 mean different things)
 *   i,f,g,o = sigm, sigm, tanh, sigm of Wx x_t + Wh h_{t-1} + b   (4H)
 *   c_t = f c_{t-1} + i g,  h_t = o tanh(c_t),  h_{-1} = c_{-1} = 0
 *   z_t     = W_t h_t + b_t                one classifier per decision (n_t)
 *   l_t     = C tanh(z_t / T) if logit_cap C > 0, else z_t / T
 *   pi_t    = softmax(l_t)
 * E = H (the embedding size equals the hidden size). Every weight starts
 * uniform in [-0.1, 0.1] from rng_stream(seed, 0, 0, RNG_POLICY).
 *
 * Losses over a batch of n action sequences with advantages A_k (entropy
 * H_k = sum over steps of the entropy of pi_t along the sequence):
 *   REINFORCE  L = -1/n sum_k (A_k log pi(a_k) + beta H_k)
 *   PPO        L = -1/n sum_k (min(r_k A_k, clip(r_k, 1-eps, 1+eps) A_k) + beta H_k),
 *              r_k = pi(a_k) / pi_old(a_k)
 *
 * policy_update: the baseline b starts at the mean reward of the first batch;
 * A_k = R_k - b with b as it was before the batch; after the optimisation b
 * is moved once per sample, in batch order: b <- d b + (1-d) R_k (d = 0.95).
 * PPO takes `epochs` passes over the batch, each split into minibatches of
 * `minibatch` samples (0 = the whole batch) in an order shuffled by the
 * policy's own RNG; REINFORCE takes one Adam step on the whole batch.
 *
 * Weight layout (one arena, Adam m and v use the same offsets):
 *   start (E) | embed (R, E) | lstm_wx (4H, E) | lstm_wh (4H, H) | lstm_b (4H)
 *   | head_w (S, H) | head_b (S)
 * R = sum of choices of decisions 0..D-2 (the last choice feeds nothing),
 * S = sum of choices of all D decisions; decision d's rows start at
 * emb_row[d] and head_row[d].
 */
#ifndef NASNET_POLICY_H
#define NASNET_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"
#include "space.h"

enum policy_algo { POLICY_PPO, POLICY_REINFORCE };

struct policy_config {
	int hidden;             /* LSTM units (and embedding size), default 100 */
	double temperature;     /* logits divided by T; 1 = off */
	double logit_cap;       /* C in C tanh(z/T); 0 = off */
	double lr;              /* Adam learning rate, default 0.00035 (the paper's) */
	double beta1, beta2, adam_eps;
	double entropy_weight;  /* beta, default 1e-5 */
	double baseline_decay;  /* d, default 0.95 */
	double clip;            /* PPO epsilon, default 0.2 */
	int epochs;             /* PPO passes over each batch, default 4 */
	int minibatch;          /* PPO samples per Adam step; 0 = whole batch */
};

struct policy {
	struct space space;
	struct policy_config cfg;
	uint64_t seed;
	size_t nparams;
	double *w, *m, *v;      /* (nparams) weights, Adam moments */
	size_t off_start, off_embed, off_wx, off_wh, off_b, off_head_w, off_head_b;
	int emb_row[SPACE_MAX_DECISIONS];
	int head_row[SPACE_MAX_DECISIONS];
	int embed_rows, head_rows;
	int64_t adam_t;         /* Adam steps taken */
	int64_t updates;        /* policy_update calls */
	double baseline;
	int baseline_set;
	struct rng rng;         /* minibatch shuffling; saved in the policy file */
	double *history;        /* (nhistory) every reward seen, in order */
	int64_t nhistory;
};

/* Per-sequence working memory for forward/backward. */
struct policy_trace {
	int T, H;
	int *a;                          /* (T) actions */
	double *x, *hp, *cp;             /* (T, H) input, previous h and c */
	double *gate;                    /* (T, 4H) i f g o after their nonlinearity */
	double *c, *tc, *h;              /* (T, H) cell, tanh(cell), hidden */
	double *th;                      /* (T, SPACE_MAX_CHOICES) tanh(z/T) when capped */
	double *prob;                    /* (T, SPACE_MAX_CHOICES) softmax */
	double *logp;                    /* (T) log pi_t(a_t) */
	double *ent;                     /* (T) entropy of pi_t */
	double *dh, *dc, *dz;            /* backward scratch (H), (H), (4H) */
};

void policy_config_default(struct policy_config *c);
/* Check ranges; error() and -1 if a value is out of range. */
int policy_config_check(const struct policy_config *c, const char *what);

/* Allocate and initialise from the seed (weights uniform [-0.1, 0.1]). */
int policy_init(struct policy *p, const struct space *s, const struct policy_config *c,
		uint64_t seed);
/* Allocate with zero weights (the file reader fills them). */
void policy_alloc(struct policy *p, const struct space *s, const struct policy_config *c);
void policy_free(struct policy *p);
/* FNV-1a of the weights: recorded in every genotype the policy samples. */
uint64_t policy_hash(const struct policy *p);
/* A deep copy (dst is allocated). */
void policy_copy(struct policy *dst, const struct policy *src);

void policy_trace_init(struct policy_trace *tr, const struct policy *p);
void policy_trace_free(struct policy_trace *tr);

/* Sample one architecture: actions (D) and per-decision log-probs (D).
 * Returns the sequence log-prob. */
double policy_sample(const struct policy *p, struct policy_trace *tr, struct rng *r, int *actions,
		     double *logp);
/* Forward over given actions; returns log pi(a), *entropy = sum of step entropies. */
double policy_forward(const struct policy *p, struct policy_trace *tr, const int *actions,
		      double *entropy);
/* Accumulate into grad (nparams) the gradient of
 * alpha * log pi(a) + eta * sum_t H_t for the sequence of the last forward. */
void policy_backward(const struct policy *p, struct policy_trace *tr, double alpha, double eta,
		     double *grad);

/* The batch loss (see the top of this file) of n sequences (n, D); adv (n);
 * old_logp (n, PPO only). grad (nparams) is accumulated when not NULL. */
double policy_loss(const struct policy *p, struct policy_trace *tr, int algo, int n,
		   const int *actions, const double *adv, const double *old_logp, double *grad);

/* Exact per-step probabilities of decision t along a given action prefix:
 * runs forward and copies pi_t (nchoices of t) into probs. */
void policy_step_probs(const struct policy *p, struct policy_trace *tr, const int *actions, int t,
		       double *probs);

struct policy_stats {
	int n;
	double mean_reward, best_reward;
	double baseline;        /* after the update */
	double entropy;         /* mean over the batch of sum_t H_t, new policy */
	double kl;              /* mean over the batch of sum_t KL(old_t || new_t) */
	double loss;            /* batch loss before the first step */
};

/* One controller update on n evaluated samples (actions (n, D), reward (n)). */
int policy_update(struct policy *p, int algo, int n, const int *actions, const double *reward,
		  struct policy_stats *st);

/* One Adam step with gradient grad (nparams). */
void policy_adam_step(struct policy *p, const double *grad);

/* Controller flags shared by the tools: name is the long option without
 * "--" (see POLICY_FLAGS_HELP); returns -1 with a message on a bad value or
 * an unknown name. */
int policy_config_set(struct policy_config *c, const char *name, const char *arg);
#define POLICY_FLAGS_HELP                                                                  \
	"Controller (set when a policy is created; update-policy may change them):\n"      \
	"      --hidden N           LSTM units (default 100)\n"                            \
	"      --policy-lr X        Adam learning rate (default 0.00035)\n"                \
	"      --ppo-epochs N       PPO passes over each batch (default 4)\n"              \
	"      --ppo-clip X         PPO clip epsilon (default 0.2)\n"                      \
	"      --minibatch N        PPO samples per Adam step (default 0 = whole batch)\n" \
	"      --entropy-weight X   entropy bonus (default 1e-5)\n"                        \
	"      --baseline-decay X   EMA baseline decay (default 0.95)\n"                   \
	"      --temperature X      logits divided by X (default 1)\n"                     \
	"      --logit-cap X        logits = X tanh(logits / T) (default 0 = off)\n"
#define POLICY_FLAG_OPTS(code)                                  \
	{ "hidden", required_argument, NULL, (code) },          \
	{ "policy-lr", required_argument, NULL, (code) },       \
	{ "ppo-epochs", required_argument, NULL, (code) },      \
	{ "ppo-clip", required_argument, NULL, (code) },        \
	{ "minibatch", required_argument, NULL, (code) },       \
	{ "entropy-weight", required_argument, NULL, (code) },  \
	{ "baseline-decay", required_argument, NULL, (code) },  \
	{ "temperature", required_argument, NULL, (code) },     \
	{ "logit-cap", required_argument, NULL, (code) }

const char *policy_algo_name(int algo);

/* Policy file (schema nasnet-c/policy, policyfile.c). */
struct provenance;
int policy_write(const struct policy *p, const char *path, const struct provenance *prov);
int policy_read(struct policy *p, const char *path);

#endif
