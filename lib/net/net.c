/*
 * net.c - the tape of a child network: construction primitives, counting,
 * the memory arenas, initialisation, and the forward / backward runners.
 *
 * Forward runs the steps in order; backward zeroes every gradient (tensor
 * and parameter) in one place, seeds the loss gradient, and runs the steps
 * in reverse, each accumulating (+=) into its input and parameter
 * gradients, so a tensor read by several steps collects all its
 * contributions before its producer's backward runs. Aux-head steps (built
 * last) are skipped unless the aux loss is on. What the graph looks like is
 * lib/net/cell.c's business; this file knows only steps.
 *
 * Threads: training with T > 1 threads splits the batch into T slices, one
 * per thread, through the whole tape ("the data-parallel step" below);
 * fragments and a single thread run the whole batch with threaded kernels;
 * net_infer takes chunks of images per thread.
 */
#include "net.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "util.h"

/*
 * Every step kind, once (the table at the end of this file): its name, which
 * values its backward reads (memory planning), its mult-adds per image and
 * workspace (counting, arenas) and its forward and backward. A new kind is
 * an enum value in net.h, a row and its functions; nothing else dispatches
 * on the kind.
 */
struct frame;

/* what a step's forward or backward works on, set up by step_forward/_backward */
struct step_io {
	int B;                              /* examples of the frame */
	float *out;                         /* forward: the output value */
	const float *in;                    /* the first input's value */
	const float *dout;                  /* backward: the output's gradient */
	float *din;                         /* backward: the first input's gradient (or NULL) */
	const struct net_tensor *to, *ti;   /* output and first input tensors */
	float *save;                        /* the step's save area (B examples) */
	struct conv_shape c;                /* s->cs with N = B */
	int train;                          /* forward: training mode */
	float dp_keep, dp_final, progress;  /* forward: dropout / drop-path keep */
};

enum { READS_IN = 1, READS_OUT = 2 };

struct step_kind_ops {
	const char *name;
	int reads;   /* READS_*: the values the backward reads */
	int64_t (*macs)(const struct net *n, const struct net_step *s);
	size_t (*workspace)(const struct net *n, const struct net_step *s, int B, int T);
	void (*forward)(struct net *n, struct frame *f, const struct net_step *s,
			const struct step_io *io);
	void (*backward)(struct net *n, struct frame *f, const struct net_step *s,
			 const struct step_io *io);
};

static const struct step_kind_ops step_ops[STEP_KINDS];

#define GROW(arr, n, cap)                                                   \
	do {                                                                \
		if ((n) >= (cap)) {                                         \
			(cap) = (cap) ? 2 * (cap) : 64;                     \
			(arr) = xrealloc((arr), sizeof(*(arr)) * (size_t)(cap)); \
		}                                                           \
	} while (0)

int net_add_tensor(struct net *n, int C, int H, int W)
{
	struct net_tensor *t;
	int old = n->cap_tensors;

	GROW(n->tensors, n->ntensors, n->cap_tensors);
	if (n->cap_tensors != old) {
		n->relu_of = xrealloc(n->relu_of, sizeof(int) * (size_t)n->cap_tensors);
		for (int i = old; i < n->cap_tensors; i++)
			n->relu_of[i] = -1;
	}
	t = &n->tensors[n->ntensors];
	t->C = C;
	t->H = H;
	t->W = W;
	t->off = n->act_per_example;
	t->aux = n->cur_aux;
	n->act_per_example += (size_t)C * H * W;
	return n->ntensors++;
}

static int add_view(struct net_param **arr, int *cnt, int *cap, size_t *total, const char *name,
		    int kind, int rank, const int *dims, int module, int aux)
{
	struct net_param *p;
	size_t count = 1;

	GROW(*arr, *cnt, *cap);
	p = &(*arr)[*cnt];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->rank = rank;
	for (int i = 0; i < rank; i++) {
		p->dims[i] = dims[i];
		count *= (size_t)dims[i];
	}
	p->count = count;
	p->offset = *total;
	p->kind = kind;
	p->module = module;
	p->aux = aux;
	if (rank == 4)
		p->fan_out = dims[0] * dims[2] * dims[3];
	else
		p->fan_out = dims[0];
	*total += count;
	return (*cnt)++;
}

int net_add_param(struct net *n, const char *name, int kind, int rank, const int *dims)
{
	return add_view(&n->params, &n->nparams, &n->cap_params, &n->nparam_floats, name, kind,
			rank, dims, n->cur_module, n->cur_aux);
}

int net_add_buffer(struct net *n, const char *name, int kind, int C)
{
	return add_view(&n->buffers, &n->nbuffers, &n->cap_buffers, &n->nbuffer_floats, name, kind,
			1, &C, n->cur_module, n->cur_aux);
}

struct net_step *net_add_step(struct net *n, int kind, int out)
{
	struct net_step *s;

	GROW(n->steps, n->nsteps, n->cap_steps);
	s = &n->steps[n->nsteps++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->out = out;
	s->p[0] = s->p[1] = s->b[0] = s->b[1] = -1;
	s->module = n->cur_module;
	s->aux = n->cur_aux;
	return s;
}

int net_add_module(struct net *n, const char *name)
{
	struct net_module *m;

	GROW(n->modules, n->nmodules, n->cap_modules);
	m = &n->modules[n->nmodules];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->out = -1;
	return n->nmodules++;
}

void net_set_module(struct net *n, int module, int aux)
{
	n->cur_module = module;
	n->cur_aux = aux;
	n->modules[module].aux = aux;
}

/* multiply-accumulates per image of one step (conv, depthwise, FC) */
static int64_t macs_conv(const struct net *n, const struct net_step *s)
{
	const struct conv_shape *c = &s->cs;

	return (int64_t)c->OH * c->OW * c->K * c->C * c->kh * c->kw;
}

static int64_t macs_dwconv(const struct net *n, const struct net_step *s)
{
	const struct conv_shape *c = &s->cs;

	return (int64_t)c->OH * c->OW * c->C * c->kh * c->kw;
}

static int64_t macs_factred(const struct net *n, const struct net_step *s)
{
	const struct conv_shape *c = &s->cs;

	return (int64_t)c->OH * c->OW * n->tensors[s->out].C * c->C;
}

static int64_t macs_linear(const struct net *n, const struct net_step *s)
{
	return (int64_t)n->tensors[s->out].C * n->params[s->p[0]].dims[1];
}

static int64_t step_macs(const struct net *n, const struct net_step *s)
{
	return step_ops[s->kind].macs ? step_ops[s->kind].macs(n, s) : 0;
}

static void count(struct net *n)
{
	n->n_params = n->n_macs = 0;
	for (int i = 0; i < n->nparams; i++) {
		const struct net_param *p = &n->params[i];

		n->modules[p->module].params += (int64_t)p->count;
		if (!p->aux)
			n->n_params += (int64_t)p->count;
	}
	for (int i = 0; i < n->nsteps; i++) {
		const struct net_step *s = &n->steps[i];
		int64_t m = step_macs(n, s);

		n->modules[s->module].macs += m;
		if (!s->aux)
			n->n_macs += m;
	}
}

/* ---- memory planning ---- */

/* the backward of step s reads the value of tensor t (relu_backward is given
 * the output: out > 0 iff in > 0) */
static int backward_reads(const struct net_step *s, int t)
{
	int r = step_ops[s->kind].reads;

	return ((r & READS_IN) && s->in[0] == t) || ((r & READS_OUT) && s->out == t);
}

struct span {
	size_t off, size;
	int start, end;   /* live over steps [start, end] */
};

static int cmp_block_off(const void *a, const void *b)
{
	const struct span *x = *(const struct span *const *)a, *y = *(const struct span *const *)b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * First-fit offsets for blocks in order: each takes the lowest offset where
 * it overlaps no earlier block live at the same time. Returns the extent.
 */
static size_t place(struct span *b, int nb)
{
	struct span **live = xmalloc(sizeof(*live) * (size_t)(nb + 1));
	size_t extent = 0;

	for (int i = 0; i < nb; i++) {
		int nl = 0;
		size_t off = 0;

		for (int j = 0; j < i; j++)
			if (b[j].size && b[j].start <= b[i].end && b[i].start <= b[j].end)
				live[nl++] = &b[j];
		qsort(live, (size_t)nl, sizeof(*live), cmp_block_off);
		for (int j = 0; j < nl; j++) {
			if (live[j]->off >= off + b[i].size)
				break;
			if (live[j]->off + live[j]->size > off)
				off = live[j]->off + live[j]->size;
		}
		b[i].off = off;
		if (off + b[i].size > extent)
			extent = off + b[i].size;
	}
	free(live);
	return extent;
}

/* sizes in floats rounded to 16: every block stays 64-byte aligned */
static size_t round16(size_t floats)
{
	return (floats + 15) & ~(size_t)15;
}

/*
 * Value lifetime: from the producing step (-1: set from outside) to its last
 * forward reader, or to the end when a backward step reads it or it is an
 * input/output of the network. Gradient lifetime: from the producer to the
 * last reader (the backward runs the same interval in reverse); it is also
 * the lifetime of a value when only the forward runs, so net_infer lays its
 * arenas out like the gradients. Both arenas are laid out by first fit in
 * producer order; sizes are rounded to 16 floats so every tensor stays
 * 64-byte aligned.
 */
static void plan_memory(struct net *n)
{
	int T = n->ntensors, S = n->nsteps, END = S + 1;
	int *prod = xmalloc(sizeof(int) * (size_t)(T + 1));
	char *keep = xcalloc((size_t)T + 1, 1);
	struct span *v = xmalloc(sizeof(*v) * (size_t)(T + 1));
	struct span *g = xmalloc(sizeof(*g) * (size_t)(T + 1));

	for (int t = 0; t < T; t++) {
		prod[t] = -1;
		n->tensors[t].last_use = S;
	}
	for (int i = 0; i < S; i++) {
		const struct net_step *s = &n->steps[i];

		prod[s->out] = i;
		if (backward_reads(s, s->out))
			keep[s->out] = 1;
		for (int k = 0; k < s->nin; k++) {
			int t = s->in[k];

			if (n->tensors[t].last_use == S || n->tensors[t].last_use < i)
				n->tensors[t].last_use = i;
			if (backward_reads(s, t))
				keep[t] = 1;
		}
	}
	/* blocks in producer order (tensor ids are created in step order) */
	int *order = xmalloc(sizeof(int) * (size_t)(T + 1)), no = 0;

	for (int i = -1; i < S; i++) {
		if (i < 0) {
			for (int t = 0; t < T; t++)
				if (prod[t] < 0)
					order[no++] = t;
		} else {
			order[no++] = n->steps[i].out;
		}
	}
	for (int k = 0; k < T; k++) {
		int t = order[k], last = n->tensors[t].last_use;
		int pinned = t == n->input || t == n->input2 || t == n->output || t == n->logits ||
			     t == n->aux_logits || last == S;
		size_t sz = round16((size_t)n->tensors[t].C * n->tensors[t].H * n->tensors[t].W);

		v[k].size = g[k].size = sz;
		v[k].start = g[k].start = prod[t];
		v[k].end = pinned || keep[t] ? END : last;
		g[k].end = pinned ? END : last;
	}
	n->act_per_example = place(v, T);
	n->grad_per_example = place(g, T);
	for (int k = 0; k < T; k++) {
		n->tensors[order[k]].off = v[k].off;
		n->tensors[order[k]].goff = g[k].off;
	}
	free(order);
	free(prod);
	free(keep);
	free(v);
	free(g);
}

struct net *net_begin(void)
{
	struct net *n = xcalloc(1, sizeof(*n));

	n->logits = n->aux_logits = n->input2 = n->output = -1;
	return n;
}

struct net *net_finish(struct net *n, int rc, int batch, struct rng *init)
{
	if (rc < 0) {
		net_free(n);
		return NULL;
	}
	free(n->relu_of);
	n->relu_of = NULL;
	count(n);
	plan_memory(n);
	if (batch > 0 || init)
		net_alloc_params(n);
	if (init)
		net_init_params(n, init);
	if (batch > 0)
		net_set_batch(n, batch);
	return n;
}

struct net *net_create(const struct genotype *g, const struct macro_config *m, int batch,
		       struct rng *init)
{
	struct net *n;

	if (genotype_validate(g, "genotype") < 0 || child_config_check_macro(m, "child configuration") < 0)
		return NULL;
	n = net_begin();
	n->geno = *g;
	n->macro = *m;
	return net_finish(n, net_build(n), batch, init);
}

void net_free(struct net *n)
{
	if (!n)
		return;
	free(n->tensors);
	free(n->steps);
	free(n->params);
	free(n->buffers);
	free(n->modules);
	free(n->relu_of);
	free(n->param);
	free(n->grad);
	free(n->buffer);
	free(n->stat);
	free(n->act);
	free(n->dact);
	free(n->save);
	free(n->work);
	free(n->probs);
	free(n->aux_probs);
	free(n->infer_mem);
	free(n->split_mem);
	free(n->gather);
	free(n);
}

static void bn_defaults(struct net *n)
{
	for (int i = 0; i < n->nparams; i++) {
		const struct net_param *p = &n->params[i];

		if (p->kind == PARAM_BN_GAMMA)
			for (size_t j = 0; j < p->count; j++)
				n->param[p->offset + j] = 1;
	}
	for (int i = 0; i < n->nbuffers; i++) {
		const struct net_param *p = &n->buffers[i];

		for (size_t j = 0; j < p->count; j++)
			n->buffer[p->offset + j] = p->kind == PARAM_BN_VAR ? 1 : 0;
	}
}

void net_alloc_params(struct net *n)
{
	if (n->param)
		return;
	n->param = xalloc_aligned(sizeof(float) * (n->nparam_floats + 1));
	n->grad = xalloc_aligned(sizeof(float) * (n->nparam_floats + 1));
	n->buffer = xalloc_aligned(sizeof(float) * (n->nbuffer_floats + 1));
	n->stat = xalloc_aligned(sizeof(float) * (n->nstat_floats + 1));
	bn_defaults(n);
}

void net_init_params(struct net *n, struct rng *r)
{
	net_alloc_params(n);
	memset(n->param, 0, sizeof(float) * n->nparam_floats);
	for (int i = 0; i < n->nparams; i++) {
		const struct net_param *p = &n->params[i];

		if (p->kind == PARAM_WEIGHT) {
			double std = sqrt(2.0 / p->fan_out);

			for (size_t j = 0; j < p->count; j++)
				n->param[p->offset + j] = (float)(std * rng_normal(r));
		}
	}
	bn_defaults(n);
}

static size_t workspace_conv(const struct net *n, const struct net_step *s, int B, int T)
{
	struct conv_shape c = s->cs;

	c.N = B;
	return conv2d_workspace(&c, T);
}

static size_t workspace_factred(const struct net *n, const struct net_step *s, int B, int T)
{
	const struct conv_shape *c = &s->cs;

	return factorized_reduce_workspace(B, c->C, c->H, c->W, n->tensors[s->out].C, T);
}

static size_t step_workspace(const struct net *n, const struct net_step *s, int B, int T)
{
	return step_ops[s->kind].workspace ? step_ops[s->kind].workspace(n, s, B, T) : 0;
}

/* (re)allocate the workspace for `batch` examples and T threads */
static void alloc_work(struct net *n, int batch, int T)
{
	size_t work = 0;

	for (int i = 0; i < n->nsteps; i++) {
		size_t w = step_workspace(n, &n->steps[i], batch, T);

		if (w > work)
			work = w;
	}
	free(n->work);
	n->work = xalloc_aligned(sizeof(float) * (work + 1));
	n->work_floats = work;
	n->work_threads = T;
}

void net_set_batch(struct net *n, int batch)
{
	int K = n->macro.classes;
	/* workspace slots for the batch-split kernels: the threads OpenMP would use now */
	int T = omp_get_max_threads();

	net_alloc_params(n);
	if (batch <= n->cap_batch) {
		if (T > n->work_threads)
			alloc_work(n, n->cap_batch, T);
		n->batch = batch;
		return;
	}
	free(n->act);
	free(n->dact);
	free(n->save);
	free(n->probs);
	free(n->aux_probs);
	free(n->gather);
	n->act = xalloc_aligned(sizeof(float) * (n->act_per_example * (size_t)batch + 1));
	n->dact = xalloc_aligned(sizeof(float) * (n->grad_per_example * (size_t)batch + 1));
	n->save = xalloc_aligned(sizeof(float) * (n->save_per_example * (size_t)batch + 1));
	alloc_work(n, batch, T > n->work_threads ? T : n->work_threads);
	n->probs = xalloc_aligned(sizeof(float) * ((size_t)K * (size_t)batch + 1));
	n->aux_probs = xalloc_aligned(sizeof(float) * ((size_t)K * (size_t)batch + 1));
	n->gather = xalloc_aligned(sizeof(float) * (2 * (size_t)K * (size_t)batch + 1));
	n->cap_batch = n->batch = batch;
}

void net_set_loss(struct net *n, float aux_weight, float label_smoothing)
{
	n->aux_weight = aux_weight;
	n->label_smoothing = label_smoothing;
}

float *net_value(const struct net *n, int t)
{
	if (n->split > 1)   /* slices lie apart: only the gathered logits */
		return t == n->logits ? n->gather : NULL;
	return n->act + n->tensors[t].off * (size_t)n->batch;
}

float *net_dvalue(const struct net *n, int t)
{
	if (n->split > 1)
		return NULL;
	return n->dact + n->tensors[t].goff * (size_t)n->batch;
}

const float *net_logits(const struct net *n)
{
	return net_value(n, n->logits);
}

float net_drop_path_keep(const struct net *n, int depth, float keep_final, float progress)
{
	double t = progress < 0 ? 0 : progress > 1 ? 1 : progress;

	return (float)(1.0 - t * (depth + 1) / n->total_depth * (1.0 - keep_final));
}

static size_t tsize(const struct net *n, int t)
{
	const struct net_tensor *x = &n->tensors[t];

	return (size_t)x->C * x->H * x->W;
}

#define P(i) (n->param + n->params[i].offset)
#define DP(i) (f->grad + n->params[i].offset)
#define BUF(i) (n->buffer + n->buffers[i].offset)

/*
 * Where a forward or backward runs: the whole batch in the batch arena
 * (values at off * B, gradients at goff * B), one slice of a split batch
 * (the same layout for the slice's B examples, from the slice's first
 * example on: net_forward with T > 1 threads, see split_forward), or one
 * thread's inference arena for a chunk of images (net_infer: values at
 * goff * B, its own save area and workspace, kernels single-threaded).
 */
struct frame {
	float *act, *dact;
	int infer;        /* values at goff instead of off */
	int B;            /* examples of this frame */
	float *save;      /* save_per_example * B */
	float *work;
	int threads;      /* workspace slots of `work` */
	float *grad;      /* parameter gradients this frame accumulates into */
	/* slices of a split batch (T = 1: the whole batch) */
	int u, T, b0;     /* slice u of T, starting at example b0 */
	double *bn_part;  /* shared: two halves of T parts, bn_stride doubles each */
	size_t bn_stride;
	float *bn_coef;   /* private: 3 C of the BN being normalised */
	int bn_count;     /* BN steps passed: its parity picks bn_part's half */
};

static float *fvalue(const struct net *n, const struct frame *f, int t)
{
	return f->act + (f->infer ? n->tensors[t].goff : n->tensors[t].off) * (size_t)f->B;
}

static float *fdvalue(const struct net *n, const struct frame *f, int t)
{
	return f->dact + n->tensors[t].goff * (size_t)f->B;
}

/* the whole batch, kernels threaded inside */
static struct frame whole_frame(struct net *n)
{
	struct frame f = { n->act, n->dact, 0, n->batch, n->save, n->work, n->work_threads,
			   n->grad, 0, 1, 0, NULL, 0, NULL, 0 };

	return f;
}

/*
 * The data-parallel step. With T > 1 threads, training splits the batch
 * into T slices, slice u = examples [B u / T, B (u+1) / T), each laid out
 * like a batch of its own from its first example's place in the arenas, and
 * each thread takes its slice through the whole tape with single-threaded
 * kernels: one parallel region per forward and per backward instead of one
 * (or more) per op. Slices meet only where the batch is one: batch norm (a
 * barrier between the slices' partial sums and their merge, fixed order) and
 * the parameter gradients (slices 1.. accumulate privately; summed in slice
 * order at the end). Results depend on T, not on timing.
 *
 * split_mem: the BN parts (2 halves x T x bn_stride doubles), the private
 * gradients of slices 1..T-1, then per slice its workspace and BN
 * coefficients.
 */
static int slice_start(int B, int T, int u)
{
	return (int)((int64_t)B * u / T);
}

/* doubles of one BN part: the widest BN, 64-byte parts (no false sharing) */
static size_t split_bn_stride(const struct net *n)
{
	size_t c = 0;

	for (int i = 0; i < n->nsteps; i++)
		if (n->steps[i].kind == STEP_BN && (size_t)n->tensors[n->steps[i].out].C > c)
			c = (size_t)n->tensors[n->steps[i].out].C;
	return (BN_PART(c) + 7) & ~(size_t)7;
}

/* floats of split_mem's BN parts: two halves of T doubles parts */
static size_t split_parts(const struct net *n, int T)
{
	return round16(2 * 2 * (size_t)T * n->split_stride);
}

/* slice u's private gradients (u >= 1) */
static float *slice_grads(const struct net *n, int u, int T)
{
	return n->split_mem + split_parts(n, T) + round16(n->nparam_floats) * (size_t)(u - 1);
}

/* floats of split_mem before the slices' own parts: BN parts, private gradients */
static size_t split_shared(const struct net *n, int T)
{
	return split_parts(n, T) + round16(n->nparam_floats) * (size_t)(T - 1);
}

static void alloc_split(struct net *n, int T)
{
	int Bs = (n->batch + T - 1) / T;   /* the largest slice */
	size_t work = 0;

	if (T == n->split_threads && n->batch <= n->split_batch)
		return;
	n->split_stride = split_bn_stride(n);
	for (int i = 0; i < n->nsteps; i++) {
		size_t w = step_workspace(n, &n->steps[i], Bs, 1);

		if (w > work)
			work = w;
	}
	n->split_work = round16(work + 1);
	n->split_per = n->split_work + round16(3 * (n->split_stride / 2));
	free(n->split_mem);
	n->split_mem = xalloc_aligned(sizeof(float) *
				      (split_shared(n, T) + n->split_per * (size_t)T));
	n->split_threads = T;
	n->split_batch = n->batch;
}

static struct frame slice_frame(struct net *n, int u, int T)
{
	int b0 = slice_start(n->batch, T, u);
	float *mine = n->split_mem + split_shared(n, T) + n->split_per * (size_t)u;
	struct frame f = {
		.act = n->act + n->act_per_example * b0,
		.dact = n->dact + n->grad_per_example * b0,
		.B = slice_start(n->batch, T, u + 1) - b0,
		.save = n->save + n->save_per_example * b0,
		.work = mine,
		.threads = 1,
		.grad = u ? slice_grads(n, u, T) : n->grad,
		.u = u, .T = T, .b0 = b0,
		.bn_part = (double *)n->split_mem,
		.bn_stride = n->split_stride,
		.bn_coef = mine + n->split_work,
	};

	return f;
}

/* this slice's share of the merge of the private gradients into n->grad */
static void sum_slice_grads(struct net *n, int u, int T)
{
	size_t i0 = round16(n->nparam_floats * u / T), i1 = round16(n->nparam_floats * (u + 1) / T);

	if (i1 > n->nparam_floats)
		i1 = n->nparam_floats;
	for (int v = 1; v < T; v++)
		accumulate(n->grad + i0, slice_grads(n, v, T) + i0, i1 > i0 ? i1 - i0 : 0);
}

/* the next BN's half of the shared parts: a slow slice may still be merging
 * the previous BN's, which the parity keeps apart */
static double *bn_parts(struct frame *f)
{
	return f->bn_part + (size_t)(f->bn_count++ & 1) * (size_t)f->T * f->bn_stride;
}

static void bn_slice_forward(struct net *n, struct frame *f, const struct net_step *s,
			     float *out, const float *in)
{
	const struct net_tensor *to = &n->tensors[s->out];
	const int C = to->C, HW = to->H * to->W, one = f->u == 0;
	double *parts = bn_parts(f);

	batchnorm_slice_moments(parts + f->u * f->bn_stride, in, f->B, C, HW);
#pragma omp barrier
	batchnorm_slice_combine(f->bn_coef, one ? n->stat + s->stat : NULL,
				one ? n->stat + s->stat + C : NULL, one ? BUF(s->b[0]) : NULL,
				one ? BUF(s->b[1]) : NULL, parts, f->bn_stride, f->T, P(s->p[0]),
				P(s->p[1]), C, HW, n->macro.bn_momentum, n->macro.bn_eps);
	batchnorm_slice_normalize(out, in, f->bn_coef, f->B, C, HW);
}

static void fw_conv(struct net *n, struct frame *f, const struct net_step *s,
		    const struct step_io *io)
{
	conv2d_forward(io->out, io->in, P(s->p[0]), &io->c, f->work, f->threads);
}

static void fw_dwconv(struct net *n, struct frame *f, const struct net_step *s,
		      const struct step_io *io)
{
	depthwise_forward(io->out, io->in, P(s->p[0]), &io->c);
}

static void fw_bn(struct net *n, struct frame *f, const struct net_step *s,
		  const struct step_io *io)
{
	const struct net_tensor *to = io->to;

	if (io->train && f->T > 1)
		bn_slice_forward(n, f, s, io->out, io->in);
	else if (io->train)
		batchnorm_forward_train(io->out, n->stat + s->stat, n->stat + s->stat + to->C,
					BUF(s->b[0]), BUF(s->b[1]), io->in, P(s->p[0]), P(s->p[1]),
					io->B, to->C, to->H * to->W, n->macro.bn_momentum,
					n->macro.bn_eps);
	else
		batchnorm_forward_eval(io->out, io->in, P(s->p[0]), P(s->p[1]), BUF(s->b[0]),
				       BUF(s->b[1]), io->B, to->C, to->H * to->W, n->macro.bn_eps);
}

static void fw_relu(struct net *n, struct frame *f, const struct net_step *s,
		    const struct step_io *io)
{
	relu_forward(io->out, io->in, tsize(n, s->out) * (size_t)io->B);
}

static void fw_add(struct net *n, struct frame *f, const struct net_step *s,
		   const struct step_io *io)
{
	add_forward(io->out, io->in, fvalue(n, f, s->in[1]), tsize(n, s->out) * (size_t)io->B);
}

static void fw_concat(struct net *n, struct frame *f, const struct net_step *s,
		      const struct step_io *io)
{
	const float *ins[NET_MAX_IN];
	int C[NET_MAX_IN];

	for (int i = 0; i < s->nin; i++) {
		ins[i] = fvalue(n, f, s->in[i]);
		C[i] = n->tensors[s->in[i]].C;
	}
	concat_forward(io->out, ins, C, s->nin, io->B, io->to->H * io->to->W);
}

static void fw_avgpool(struct net *n, struct frame *f, const struct net_step *s,
		       const struct step_io *io)
{
	avgpool_forward(io->out, io->in, &io->c);
}

static void fw_maxpool(struct net *n, struct frame *f, const struct net_step *s,
		       const struct step_io *io)
{
	maxpool_forward(io->out, (int32_t *)io->save, io->in, &io->c);
}

static void fw_factred(struct net *n, struct frame *f, const struct net_step *s,
		       const struct step_io *io)
{
	const struct net_tensor *ti = io->ti;

	factorized_reduce_forward(io->out, io->in, P(s->p[0]), P(s->p[1]), io->B, ti->C, ti->H,
				  ti->W, io->to->C, f->work, f->threads);
}

static void fw_gap(struct net *n, struct frame *f, const struct net_step *s,
		   const struct step_io *io)
{
	gap_forward(io->out, io->in, io->B, io->ti->C, io->ti->H * io->ti->W);
}

static void fw_linear(struct net *n, struct frame *f, const struct net_step *s,
		      const struct step_io *io)
{
	linear_forward(io->out, io->in, P(s->p[0]), P(s->p[1]), io->B, (int)tsize(n, s->in[0]),
		       io->to->C);
}

/* dropout and drop path: the mask was drawn by draw_masks */
static void fw_drop(struct net *n, struct frame *f, const struct net_step *s,
		    const struct step_io *io)
{
	float keep = s->kind == STEP_DROPPATH ? net_drop_path_keep(n, s->depth, io->dp_final,
								    io->progress)
					      : io->dp_keep;

	if (io->train && keep < 1) {
		if (s->kind == STEP_DROPPATH)
			droppath_apply(io->out, io->save, io->in, io->B, tsize(n, s->out));
		else
			dropout_apply(io->out, io->save, io->in, tsize(n, s->out) * (size_t)io->B);
	} else {
		memcpy(io->out, io->in, sizeof(float) * tsize(n, s->out) * (size_t)io->B);
	}
}

static void step_forward(struct net *n, struct frame *f, const struct net_step *s, int train,
			 float dp_keep, float dp_final, float progress)
{
	struct step_io io = {
		.B = f->B,
		.out = fvalue(n, f, s->out),
		.in = fvalue(n, f, s->in[0]),
		.to = &n->tensors[s->out],
		.ti = &n->tensors[s->in[0]],
		.save = f->save + s->save * (size_t)f->B,
		.c = s->cs,
		.train = train,
		.dp_keep = dp_keep,
		.dp_final = dp_final,
		.progress = progress,
	};

	io.c.N = f->B;
	step_ops[s->kind].forward(n, f, s, &io);
}

/*
 * The dropout and drop-path masks of a forward, drawn before it in step and
 * example order -- the order of a serial forward, whatever the slices -- into
 * each slice's save area (all ones when the op is off).
 */
static void draw_masks(struct net *n, int T, int train, float dp_final, float progress,
		       struct rng *r)
{
	for (int i = 0; i < n->nsteps; i++) {
		const struct net_step *s = &n->steps[i];
		int path = s->kind == STEP_DROPPATH;
		float keep = path ? net_drop_path_keep(n, s->depth, dp_final, progress)
				  : n->macro.dropout_keep;
		size_t per = path ? 1 : tsize(n, s->out);

		if ((!path && s->kind != STEP_DROPOUT) || (s->aux && !n->aux_active))
			continue;
		for (int u = 0; u < T; u++) {
			int b0 = slice_start(n->batch, T, u), B = slice_start(n->batch, T, u + 1) - b0;

			dropout_mask(n->save + n->save_per_example * b0 + s->save * (size_t)B,
				     per * B, train ? keep : 1, r);
		}
	}
}

/* slices for a forward: the threads OpenMP would use, for a whole network
 * whose inner tensors nobody reads from outside */
static int split_wanted(const struct net *n)
{
	int T = omp_get_max_threads();

	if (T < 2 || n->logits < 0 || n->input2 >= 0 || n->need_input_grad)
		return 1;
	return T < n->batch ? T : n->batch;
}

/* copy a slice's rows (B, K) of tensor t to dst (batch, K) */
static void gather_rows(const struct net *n, const struct frame *f, int t, float *dst)
{
	size_t sz = tsize(n, t);

	memcpy(dst + sz * (size_t)f->b0, fvalue(n, f, t), sizeof(float) * sz * (size_t)f->B);
}

static void forward_frame(struct net *n, struct frame *f, const float *images, int train,
			  float drop_path_keep, float progress)
{
	size_t in_sz = tsize(n, n->input);

	memcpy(fvalue(n, f, n->input), images + in_sz * (size_t)f->b0,
	       sizeof(float) * in_sz * (size_t)f->B);
	for (int i = 0; i < n->nsteps; i++) {
		const struct net_step *s = &n->steps[i];

		if (s->aux && !n->aux_active)
			continue;
		step_forward(n, f, s, train, n->macro.dropout_keep, drop_path_keep, progress);
	}
	if (f->T > 1) {
		gather_rows(n, f, n->logits, n->gather);
		if (n->aux_active)
			gather_rows(n, f, n->aux_logits, n->gather + tsize(n, n->logits) * n->batch);
	}
}

int net_forward(struct net *n, const float *images, const int32_t *labels, int train,
		float drop_path_keep, float progress, struct rng *r, float *loss)
{
	int B = n->batch, K = n->macro.classes, T = split_wanted(n);

	n->aux_active = train && n->aux_logits >= 0 && n->aux_weight > 0 && labels;
	n->trained = train;
	n->labels = labels;
	if (T > 1) {
#pragma omp parallel num_threads(T)
		{
#pragma omp single
			{
				n->split = omp_get_num_threads();
				alloc_split(n, n->split);
				draw_masks(n, n->split, train, drop_path_keep, progress, r);
			}
			struct frame f = slice_frame(n, omp_get_thread_num(), n->split);

			forward_frame(n, &f, images, train, drop_path_keep, progress);
		}
	} else {
		struct frame f = whole_frame(n);

		n->split = 1;
		draw_masks(n, 1, train, drop_path_keep, progress, r);
		forward_frame(n, &f, images, train, drop_path_keep, progress);
	}
	n->loss_main = n->loss_aux = 0;
	if (labels && n->logits >= 0) {
		n->loss_main = softmax_xent_forward(n->probs, net_logits(n), labels, B, K,
						    n->label_smoothing);
		if (n->aux_active)
			n->loss_aux = softmax_xent_forward(n->aux_probs,
							   n->split > 1 ? n->gather + (size_t)B * K
									: net_value(n, n->aux_logits),
							   labels, B, K, n->label_smoothing);
	}
	if (loss)
		*loss = n->loss_main + (n->aux_active ? n->aux_weight * n->loss_aux : 0);
	return 0;
}

/* workspace of the inference steps for one chunk, single-threaded kernels */
static size_t infer_work(const struct net *n)
{
	size_t work = 0;

	for (int i = 0; i < n->nsteps; i++) {
		const struct net_step *s = &n->steps[i];
		size_t w = s->aux ? 0 : step_workspace(n, s, NET_INFER_CHUNK, 1);

		if (w > work)
			work = w;
	}
	return work;
}

int net_infer(struct net *n, const float *images, int count, float *logits)
{
	const int K = n->macro.classes;
	const size_t in_sz = tsize(n, n->input);
	/* one thread's memory: value arena | save area | workspace, each 64-byte aligned */
	const size_t act = round16(n->grad_per_example * NET_INFER_CHUNK);
	const size_t save = round16(n->save_per_example * NET_INFER_CHUNK + 1);
	const int chunks = (count + NET_INFER_CHUNK - 1) / NET_INFER_CHUNK;
	int T = omp_get_max_threads();

	if (n->logits < 0)
		return -1;
	if (T > chunks)
		T = chunks;
	if (T < 1)
		T = 1;
	net_alloc_params(n);
	if (T > n->infer_threads) {   /* (the tape is fixed: only T changes the size) */
		n->infer_per = act + save + round16(infer_work(n) + 1);
		free(n->infer_mem);
		n->infer_mem = xalloc_aligned(sizeof(float) * n->infer_per * (size_t)T);
		n->infer_threads = T;
	}
	/* dynamic: a thread slowed by a shared core takes fewer chunks; each
	 * chunk's numbers do not depend on which thread computes it */
#pragma omp parallel for schedule(dynamic) num_threads(T) if (T > 1)
	for (int c = 0; c < chunks; c++) {
		float *mem = n->infer_mem + n->infer_per * (size_t)omp_get_thread_num();
		const int b0 = c * NET_INFER_CHUNK;
		const int B = count - b0 < NET_INFER_CHUNK ? count - b0 : NET_INFER_CHUNK;
		struct frame f = { mem, NULL, 1, B, mem + act, mem + act + save, 1,
				   NULL, 0, 1, 0, NULL, 0, NULL, 0 };

		memcpy(fvalue(n, &f, n->input), images + (size_t)b0 * in_sz,
		       sizeof(float) * in_sz * (size_t)B);
		for (int i = 0; i < n->nsteps; i++)
			if (!n->steps[i].aux)
				step_forward(n, &f, &n->steps[i], 0, n->macro.dropout_keep, 1, 0);
		memcpy(logits + (size_t)b0 * K, fvalue(n, &f, n->logits),
		       sizeof(float) * (size_t)K * (size_t)B);
	}
	return 0;
}

static void bw_conv(struct net *n, struct frame *f, const struct net_step *s,
		    const struct step_io *io)
{
	conv2d_backward(io->din, DP(s->p[0]), io->dout, io->in, P(s->p[0]), &io->c, f->work,
			f->threads);
}

static void bw_dwconv(struct net *n, struct frame *f, const struct net_step *s,
		      const struct step_io *io)
{
	depthwise_backward(io->din, DP(s->p[0]), io->dout, io->in, P(s->p[0]), &io->c);
}

static void bw_bn(struct net *n, struct frame *f, const struct net_step *s,
		  const struct step_io *io)
{
	const struct net_tensor *to = io->to;
	const float *mean = n->stat + s->stat, *rstd = mean + to->C;
	const int B = io->B;

	if (f->T > 1) {
		double *parts = bn_parts(f);
		int one = f->u == 0;

		batchnorm_slice_grad_sums(parts + f->u * f->bn_stride, io->dout, io->in, mean, B,
					  to->C, to->H * to->W);
#pragma omp barrier
		batchnorm_slice_backward(io->din, one ? DP(s->p[0]) : NULL, one ? DP(s->p[1]) : NULL,
					 parts, f->bn_stride, f->T, io->dout, io->in, mean, rstd,
					 P(s->p[0]), B, to->C, to->H * to->W);
	} else {
		batchnorm_backward(io->din, DP(s->p[0]), DP(s->p[1]), io->dout, io->in, mean, rstd,
				   P(s->p[0]), B, to->C, to->H * to->W);
	}
}

static void bw_relu(struct net *n, struct frame *f, const struct net_step *s,
		    const struct step_io *io)
{
	relu_backward(io->din, io->dout, fvalue(n, f, s->out), tsize(n, s->out) * (size_t)io->B);
}

static void bw_add(struct net *n, struct frame *f, const struct net_step *s,
		   const struct step_io *io)
{
	accumulate(io->din, io->dout, tsize(n, s->out) * (size_t)io->B);
	accumulate(fdvalue(n, f, s->in[1]), io->dout, tsize(n, s->out) * (size_t)io->B);
}

static void bw_concat(struct net *n, struct frame *f, const struct net_step *s,
		      const struct step_io *io)
{
	float *dins[NET_MAX_IN];
	int C[NET_MAX_IN];

	for (int i = 0; i < s->nin; i++) {
		dins[i] = fdvalue(n, f, s->in[i]);
		C[i] = n->tensors[s->in[i]].C;
	}
	concat_backward(dins, io->dout, C, s->nin, io->B, io->to->H * io->to->W);
}

static void bw_avgpool(struct net *n, struct frame *f, const struct net_step *s,
		       const struct step_io *io)
{
	avgpool_backward(io->din, io->dout, &io->c);
}

static void bw_maxpool(struct net *n, struct frame *f, const struct net_step *s,
		       const struct step_io *io)
{
	maxpool_backward(io->din, io->dout, (const int32_t *)io->save, &io->c);
}

static void bw_factred(struct net *n, struct frame *f, const struct net_step *s,
		       const struct step_io *io)
{
	const struct net_tensor *ti = io->ti;

	factorized_reduce_backward(io->din, DP(s->p[0]), DP(s->p[1]), io->dout, io->in, P(s->p[0]),
				   P(s->p[1]), io->B, ti->C, ti->H, ti->W, io->to->C, f->work,
				   f->threads);
}

static void bw_gap(struct net *n, struct frame *f, const struct net_step *s,
		   const struct step_io *io)
{
	gap_backward(io->din, io->dout, io->B, io->ti->C, io->ti->H * io->ti->W);
}

static void bw_linear(struct net *n, struct frame *f, const struct net_step *s,
		      const struct step_io *io)
{
	linear_backward(io->din, DP(s->p[0]), DP(s->p[1]), io->dout, io->in, P(s->p[0]), io->B,
			(int)tsize(n, s->in[0]), io->to->C);
}

static void bw_droppath(struct net *n, struct frame *f, const struct net_step *s,
			const struct step_io *io)
{
	droppath_backward(io->din, io->dout, io->save, io->B, tsize(n, s->out));
}

static void bw_dropout(struct net *n, struct frame *f, const struct net_step *s,
		       const struct step_io *io)
{
	dropout_backward(io->din, io->dout, io->save, tsize(n, s->out) * (size_t)io->B);
}

static void step_backward(struct net *n, struct frame *f, const struct net_step *s)
{
	struct step_io io = {
		.B = f->B,
		.dout = fdvalue(n, f, s->out),
		.in = fvalue(n, f, s->in[0]),
		.din = fdvalue(n, f, s->in[0]),
		.to = &n->tensors[s->out],
		.ti = &n->tensors[s->in[0]],
		.save = f->save + s->save * (size_t)f->B,
		.c = s->cs,
	};

	io.c.N = f->B;
	/* the image gradient is not wanted: steps with parameters skip it (steps
	 * without parameters write the input's gradient buffer, which exists) */
	if (s->in[0] == n->input && !n->need_input_grad && s->p[0] >= 0)
		io.din = NULL;
	step_ops[s->kind].backward(n, f, s, &io);
}

/* the gradient buffers that start their life at step i (shared memory) */
static void zero_grads_at(struct net *n, const struct frame *f, int i, int seeded)
{
	for (int t = 0; t < n->ntensors; t++)
		if (n->tensors[t].last_use == i && t != seeded)
			zero_floats(fdvalue(n, f, t), tsize(n, t) * (size_t)f->B);
}

/*
 * One frame's backward: zero its gradients (tensors no step reads, such as
 * the logits, and the parameters' here; the others where their life
 * begins), seed the loss gradient (its share of the batch mean) or dout
 * (the frame's rows of it) into tensor `seeded`, run the tape in reverse.
 */
static void backward_frame(struct net *n, struct frame *f, int seeded, const float *dout)
{
	const int K = n->macro.classes;
	const double share = (double)f->B / n->batch;

	zero_grads_at(n, f, n->nsteps, -1);
	zero_floats(f->grad, n->nparam_floats);
	if (seeded >= 0) {
		size_t sz = tsize(n, seeded);

		memcpy(fdvalue(n, f, seeded), dout + sz * (size_t)f->b0,
		       sizeof(float) * sz * (size_t)f->B);
	} else if (!n->labels || n->logits < 0) {
		return;
	} else {
		const int32_t *labels = n->labels + f->b0;

		softmax_xent_backward(fdvalue(n, f, n->logits), n->probs + (size_t)f->b0 * K,
				      labels, f->B, K, n->label_smoothing, (float)share);
		if (n->aux_active)
			softmax_xent_backward(fdvalue(n, f, n->aux_logits),
					      n->aux_probs + (size_t)f->b0 * K, labels, f->B, K,
					      n->label_smoothing, (float)(n->aux_weight * share));
	}
	for (int i = n->nsteps - 1; i >= 0; i--) {
		const struct net_step *s = &n->steps[i];

		zero_grads_at(n, f, i, seeded);
		if (s->aux && !n->aux_active)
			continue;
		step_backward(n, f, s);
	}
}

/* the backward of the last forward, over the same slices */
static void backward(struct net *n, int seeded, const float *dout)
{
	const int T = n->split;

	if (T <= 1) {
		struct frame f = whole_frame(n);

		backward_frame(n, &f, seeded, dout);
		return;
	}
#pragma omp parallel num_threads(T)
	{
		if (omp_get_num_threads() != T) {   /* the forward's team had T threads */
			fprintf(stderr, "%s: net_backward: %d threads for %d slices\n", progname,
				omp_get_num_threads(), T);
			abort();
		}
		int u = omp_get_thread_num();
		struct frame f = slice_frame(n, u, T);

		backward_frame(n, &f, seeded, dout);
#pragma omp barrier
		sum_slice_grads(n, u, T);
	}
}

void net_backward(struct net *n)
{
	backward(n, -1, NULL);
}

void net_backward_from(struct net *n, int t, const float *dout)
{
	backward(n, t, dout);
}

static int find(const struct net_param *v, int cnt, const char *name)
{
	for (int i = 0; i < cnt; i++)
		if (!strcmp(v[i].name, name))
			return i;
	return -1;
}

int net_param_find(const struct net *n, const char *name)
{
	return find(n->params, n->nparams, name);
}

int net_buffer_find(const struct net *n, const char *name)
{
	return find(n->buffers, n->nbuffers, name);
}

static const struct step_kind_ops step_ops[STEP_KINDS] = {
	/* name, backward reads, macs, workspace, forward, backward */
	[STEP_CONV] = { "conv", READS_IN, macs_conv, workspace_conv, fw_conv, bw_conv },
	[STEP_DWCONV] = { "dwconv", READS_IN, macs_dwconv, NULL, fw_dwconv, bw_dwconv },
	[STEP_BN] = { "bn", READS_IN, NULL, NULL, fw_bn, bw_bn },
	[STEP_RELU] = { "relu", READS_OUT, NULL, NULL, fw_relu, bw_relu },
	[STEP_ADD] = { "add", 0, NULL, NULL, fw_add, bw_add },
	[STEP_CONCAT] = { "concat", 0, NULL, NULL, fw_concat, bw_concat },
	[STEP_AVGPOOL] = { "avgpool", 0, NULL, NULL, fw_avgpool, bw_avgpool },
	[STEP_MAXPOOL] = { "maxpool", 0, NULL, NULL, fw_maxpool, bw_maxpool },
	[STEP_FACTRED] = { "factred", READS_IN, macs_factred, workspace_factred, fw_factred,
			   bw_factred },
	[STEP_GAP] = { "gap", 0, NULL, NULL, fw_gap, bw_gap },
	[STEP_LINEAR] = { "linear", READS_IN, macs_linear, NULL, fw_linear, bw_linear },
	[STEP_DROPPATH] = { "droppath", 0, NULL, NULL, fw_drop, bw_droppath },
	[STEP_DROPOUT] = { "dropout", 0, NULL, NULL, fw_drop, bw_dropout },
};
