/*
 * cell.c - the 13 ops, the cell plumbing and the macro layout, compiled to
 * tape steps (lib/net/net.c runs them). TF semantics, nasnet-facts.md 1.2-1.3, 3:
 *
 *  - op on input x (C_in channels) to F channels with stride s:
 *      identity       x if s == 1 and C_in == F, else ReLU-1x1(s)-BN; never drop path
 *      1x3+3x1, 1x7+7x1  ReLU - conv 1xk stride (1,s) - conv kx1 stride (s,1) - BN
 *      dil_conv_3x3   ReLU - 3x3 dilation 2 - BN
 *      avg/max pools  pool(s), then 1x1-BN (no ReLU) only if C_in != F
 *      conv 1x1, 3x3  ReLU - conv(s) - BN
 *      sep k          (ReLU - dw k(s) - pw - BN) then (ReLU - dw k - pw - BN)
 *      dil_sep k      (DARTS dil_conv) ReLU - dw k dilation 2 (s) - pw - BN, once
 *    and every op but identity ends with drop path. All windows are TF SAME.
 *  - cell: h_i -> ReLU-1x1-BN; h_{i-1} -> raw h_i when there is no previous
 *    cell, ReLU + factorized reduction + BN when its spatial size differs,
 *    ReLU-1x1-BN when its channels differ from F, else as is. In reduction
 *    cells only ops whose input is state 0 or 1 get stride 2.
 *  - combine: add (F channels) or concat (the sum, 2F). A concat block is
 *    consumed like any state whose channel count differs from F: the ops
 *    that map C_in -> F (convs, separable convs) take it as is; identity and
 *    the pools insert their 1x1 conv + BN (TF's "input_filters !=
 *    filter_size" rule). Nothing else is inserted.
 *  - cell output: concat of the concat list; a state whose H, W or channels
 *    differ from the last block's output is first factorized-reduced to the
 *    last block's channels (stride 2 if H differs, else 1x1 + BN; no ReLU).
 *  - macro: CIFAR stem (3x3 s1 conv to 3F, BN) or ImageNet stem (3x3 s2
 *    VALID conv to 32, BN, then two reduction cells at F/4 and F/2); N Normal
 *    cells, Reduction, N, Reduction, N; F doubles at each reduction; a cell's
 *    inputs are (outputs[-1], outputs[-2]) (skip_reduction_layer_input = 0);
 *    head ReLU-GAP-dropout-FC; aux head (avg 5x5/3 VALID - 1x1 128 - BN - ReLU
 *    - full-map conv 768 - BN - ReLU - FC) on ReLU(Normal cell 2N-1).
 *
 * ReLUs of one tensor are shared: every consumer of ReLU(x) reads one tensor.
 */
#include "net.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

/* "<prefix>/<suffix>" into buf (NET_NAME_MAX + 16 bytes); names never get that long */
static const char *nm(char *buf, const char *prefix, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static const char *nm(char *buf, const char *prefix, const char *fmt, ...)
{
	va_list ap;
	int k = snprintf(buf, NET_NAME_MAX + 16, "%s/", prefix);

	if (k < 0 || k >= NET_NAME_MAX + 16)
		k = 0;
	va_start(ap, fmt);
	if (vsnprintf(buf + k, (size_t)(NET_NAME_MAX + 16 - k), fmt, ap) < 0)
		buf[k] = 0;
	va_end(ap);
	return buf;
}

static const struct net_tensor *T(const struct net *n, int t)
{
	return &n->tensors[t];
}

static int relu(struct net *n, int x)
{
	int y;
	struct net_step *s;

	if (n->relu_of[x] >= 0)
		return n->relu_of[x];
	y = net_add_tensor(n, T(n, x)->C, T(n, x)->H, T(n, x)->W);
	s = net_add_step(n, STEP_RELU, y);
	s->nin = 1;
	s->in[0] = x;
	n->relu_of[x] = y;
	return y;
}

static int conv_geom(struct net *n, int x, const struct conv_shape *cs, const char *name)
{
	int dims[4] = { cs->K, cs->C, cs->kh, cs->kw };
	int y = net_add_tensor(n, cs->K, cs->OH, cs->OW);
	struct net_step *s = net_add_step(n, STEP_CONV, y);

	s->nin = 1;
	s->in[0] = x;
	s->cs = *cs;
	s->p[0] = net_add_param(n, name, PARAM_WEIGHT, 4, dims);
	return y;
}

/* SAME convolution of x to K channels */
static int conv(struct net *n, int x, int K, int kh, int kw, int sh, int sw, int dil,
		const char *name)
{
	struct conv_shape cs;

	conv_shape_same(&cs, 1, T(n, x)->C, T(n, x)->H, T(n, x)->W, K, kh, kw, sh, sw, dil);
	return conv_geom(n, x, &cs, name);
}

static int conv_valid(struct net *n, int x, int K, int kh, int kw, int st, const char *name)
{
	struct conv_shape cs;

	conv_shape_valid(&cs, 1, T(n, x)->C, T(n, x)->H, T(n, x)->W, K, kh, kw, st, st);
	return conv_geom(n, x, &cs, name);
}

static int dwconv(struct net *n, int x, int k, int st, int dil, const char *name)
{
	int C = T(n, x)->C;
	int dims[4] = { C, 1, k, k };
	struct net_step *s;
	struct conv_shape cs;
	int y;

	conv_shape_same(&cs, 1, C, T(n, x)->H, T(n, x)->W, C, k, k, st, st, dil);
	y = net_add_tensor(n, C, cs.OH, cs.OW);
	s = net_add_step(n, STEP_DWCONV, y);
	s->nin = 1;
	s->in[0] = x;
	s->cs = cs;
	s->p[0] = net_add_param(n, name, PARAM_WEIGHT, 4, dims);
	n->params[s->p[0]].fan_out = k * k;   /* depth multiplier 1 */
	return y;
}

/* BN with gamma/beta "<prefix>/gamma", "<prefix>/beta", running "<prefix>/mean", "/var" */
static int bn(struct net *n, int x, const char *prefix)
{
	char name[NET_NAME_MAX + 16];
	int C = T(n, x)->C;
	int y = net_add_tensor(n, C, T(n, x)->H, T(n, x)->W);
	struct net_step *s = net_add_step(n, STEP_BN, y);

	s->nin = 1;
	s->in[0] = x;
	nm(name, prefix, "gamma");
	s->p[0] = net_add_param(n, name, PARAM_BN_GAMMA, 1, &C);
	nm(name, prefix, "beta");
	s->p[1] = net_add_param(n, name, PARAM_BN_BETA, 1, &C);
	nm(name, prefix, "mean");
	s->b[0] = net_add_buffer(n, name, PARAM_BN_MEAN, C);
	nm(name, prefix, "var");
	s->b[1] = net_add_buffer(n, name, PARAM_BN_VAR, C);
	s->stat = n->nstat_floats;
	n->nstat_floats += 2 * (size_t)C;
	return y;
}

static int pool(struct net *n, int x, int kind, int k, int st, int valid)
{
	struct net_tensor t = *T(n, x);
	struct conv_shape cs;
	struct net_step *s;
	int y;

	if (valid)
		conv_shape_valid(&cs, 1, t.C, t.H, t.W, t.C, k, k, st, st);
	else
		conv_shape_same(&cs, 1, t.C, t.H, t.W, t.C, k, k, st, st, 1);
	y = net_add_tensor(n, t.C, cs.OH, cs.OW);
	s = net_add_step(n, kind, y);
	s->nin = 1;
	s->in[0] = x;
	s->cs = cs;
	if (kind == STEP_MAXPOOL) {
		s->save = n->save_per_example;
		n->save_per_example += (size_t)t.C * cs.OH * cs.OW;
	}
	return y;
}

/* the two-path stride-2 1x1 convolution (no ReLU, no BN); F must be even */
static int factred(struct net *n, int x, int F, const char *prefix)
{
	char name[NET_NAME_MAX + 16];
	const struct net_tensor *t = T(n, x);
	int dims[2] = { F / 2, t->C };
	int C = t->C, H = t->H, W = t->W;
	struct net_step *s;
	int y;

	if (F % 2)
		return error("%s: factorized reduction to %d channels: the count must be even",
			     prefix, F);
	y = net_add_tensor(n, F, (H + 1) / 2, (W + 1) / 2);
	s = net_add_step(n, STEP_FACTRED, y);
	s->nin = 1;
	s->in[0] = x;
	conv_shape_same(&s->cs, 1, C, H, W, F, 1, 1, 2, 2, 1);
	nm(name, prefix, "w1");
	s->p[0] = net_add_param(n, name, PARAM_WEIGHT, 2, dims);
	nm(name, prefix, "w2");
	s->p[1] = net_add_param(n, name, PARAM_WEIGHT, 2, dims);
	return y;
}

static int relu_conv_bn(struct net *n, int x, int F, int k, int st, int dil, const char *prefix)
{
	char name[NET_NAME_MAX + 16];
	int y;

	nm(name, prefix, "conv");
	y = conv(n, relu(n, x), F, k, k, st, st, dil, name);
	nm(name, prefix, "bn");
	return bn(n, y, name);
}

static int conv_bn(struct net *n, int x, int F, const char *prefix)
{
	char name[NET_NAME_MAX + 16];
	int y;

	nm(name, prefix, "conv");
	y = conv(n, x, F, 1, 1, 1, 1, 1, name);
	nm(name, prefix, "bn");
	return bn(n, y, name);
}

/* factorized reduction to F then BN ("<prefix>/fr/w1", "<prefix>/bn/...") */
static int factred_bn(struct net *n, int x, int F, const char *prefix)
{
	char name[NET_NAME_MAX + 16];
	int y;

	nm(name, prefix, "fr");
	y = factred(n, x, F, name);
	if (y < 0)
		return -1;
	nm(name, prefix, "bn");
	return bn(n, y, name);
}

static int binary(struct net *n, int kind, int a, int b)
{
	const struct net_tensor *ta = T(n, a), *tb = T(n, b);
	struct net_step *s;
	int y;

	if (ta->H != tb->H || ta->W != tb->W || (kind == STEP_ADD && ta->C != tb->C))
		return error("internal: combine of %dx%dx%d and %dx%dx%d", ta->C, ta->H, ta->W,
			     tb->C, tb->H, tb->W);
	y = net_add_tensor(n, kind == STEP_ADD ? ta->C : ta->C + tb->C, ta->H, ta->W);
	s = net_add_step(n, kind, y);
	s->nin = 2;
	s->in[0] = a;
	s->in[1] = b;
	return y;
}

static int droppath(struct net *n, int x, int depth)
{
	int y = net_add_tensor(n, T(n, x)->C, T(n, x)->H, T(n, x)->W);
	struct net_step *s = net_add_step(n, STEP_DROPPATH, y);

	s->nin = 1;
	s->in[0] = x;
	s->depth = depth;
	s->save = n->save_per_example;
	n->save_per_example += 1;
	return y;
}

/* The op builders of enum op_builder: op `o` on x to F channels, stride st. */
static int build_conv(struct net *n, const struct op_kind *o, int x, int F, int st,
		      const char *prefix)
{
	return relu_conv_bn(n, x, F, o->kernel, st, o->dilation, prefix);
}

static int build_factored(struct net *n, const struct op_kind *o, int x, int F, int st,
			  const char *prefix)
{
	char name[NET_NAME_MAX + 16];
	int k = o->kernel, y;

	nm(name, prefix, "conv_1x%d", k);
	y = conv(n, relu(n, x), F, 1, k, 1, st, 1, name);
	nm(name, prefix, "conv_%dx1", k);
	y = conv(n, y, F, k, 1, st, 1, 1, name);
	nm(name, prefix, "bn");
	return bn(n, y, name);
}

static int build_pool(struct net *n, const struct op_kind *o, int x, int F, int st,
		      const char *prefix)
{
	int y = pool(n, x, o->builder == OPB_AVG_POOL ? STEP_AVGPOOL : STEP_MAXPOOL, o->kernel, st, 0);

	return T(n, x)->C != F ? conv_bn(n, y, F, prefix) : y;
}

static int build_sep_conv(struct net *n, const struct op_kind *o, int x, int F, int st,
			  const char *prefix)
{
	char name[NET_NAME_MAX + 16];
	int y = x;

	for (int i = 1; i <= o->reps; i++) {
		nm(name, prefix, "sep_%d/dw", i);
		y = dwconv(n, relu(n, y), o->kernel, i == 1 ? st : 1, o->dilation, name);
		nm(name, prefix, "sep_%d/pw", i);
		y = conv(n, y, F, 1, 1, 1, 1, 1, name);
		nm(name, prefix, "sep_%d/bn", i);
		y = bn(n, y, name);
	}
	return y;
}

static int (*const builders[OPB_COUNT])(struct net *, const struct op_kind *, int, int, int,
					const char *) = {
	[OPB_CONV] = build_conv,
	[OPB_FACTORED] = build_factored,
	[OPB_AVG_POOL] = build_pool,
	[OPB_MAX_POOL] = build_pool,
	[OPB_SEP_CONV] = build_sep_conv,
};

/* One op of the search space on x to F channels with stride st. */
static int build_op(struct net *n, int op, int x, int F, int st, int depth, const char *prefix)
{
	const struct op_kind *o = op_kind(op);
	int y;

	if (!o)
		return error("%s: unknown op %d", prefix, op);
	/* identity is no op at all when nothing changes, and never dropped */
	if (o->builder == OPB_IDENTITY)
		return st == 1 && T(n, x)->C == F ? x : relu_conv_bn(n, x, F, 1, st, 1, prefix);
	if (o->builder < 0 || o->builder >= OPB_COUNT || !builders[o->builder])
		return error("%s: op %s has no builder", prefix, o->name);
	y = builders[o->builder](n, o, x, F, st, prefix);
	return y < 0 ? y : droppath(n, y, depth);
}

/*
 * One cell at F filters on inputs cur (h_i) and prev (h_{i-1}, -1 = none).
 * Returns the output tensor id or -1.
 */
static int build_cell(struct net *n, const struct cell *c, int reduce, int F, int cur, int prev,
		      int depth, const char *cname)
{
	char prefix[NET_NAME_MAX];
	int st[GENOTYPE_MAX_STATES], ins[NET_MAX_IN], last, y;

	snprintf(prefix, sizeof(prefix), "%s/cur", cname);
	st[0] = relu_conv_bn(n, cur, F, 1, 1, 1, prefix);
	snprintf(prefix, sizeof(prefix), "%s/prev", cname);
	if (prev < 0)
		st[1] = cur;
	else if (T(n, prev)->H != T(n, cur)->H || T(n, prev)->W != T(n, cur)->W)
		st[1] = factred_bn(n, relu(n, prev), F, prefix);
	else if (T(n, prev)->C != F)
		st[1] = relu_conv_bn(n, prev, F, 1, 1, 1, prefix);
	else
		st[1] = prev;
	if (st[1] < 0)
		return -1;
	if (prev >= 0 && (T(n, st[1])->H != T(n, st[0])->H || T(n, st[1])->W != T(n, st[0])->W))
		return error("%s: inputs of %dx%d and %dx%d cannot be matched by one reduction",
			     cname, T(n, prev)->H, T(n, prev)->W, T(n, cur)->H, T(n, cur)->W);
	for (int b = 0; b < c->nblocks; b++) {
		const struct block *bl = &c->b[b];
		int o[2];

		for (int j = 0; j < 2; j++) {
			int stride = reduce && bl->in[j] < 2 ? 2 : 1;

			snprintf(prefix, sizeof(prefix), "%s/block_%d/op_%c", cname, b, "ab"[j]);
			o[j] = build_op(n, bl->op[j], st[bl->in[j]], F, stride, depth, prefix);
			if (o[j] < 0)
				return -1;
		}
		y = binary(n, bl->combine == COMBINE_CONCAT ? STEP_CONCAT : STEP_ADD, o[0], o[1]);
		if (y < 0)
			return -1;
		st[2 + b] = y;
	}
	last = st[1 + c->nblocks];
	for (int i = 0; i < c->nconcat; i++) {
		int t = st[c->concat[i]];
		struct net_tensor tl = *T(n, last);

		snprintf(prefix, sizeof(prefix), "%s/out_%d", cname, c->concat[i]);
		if (T(n, t)->H != tl.H || T(n, t)->W != tl.W)
			t = factred_bn(n, t, tl.C, prefix);
		else if (T(n, t)->C != tl.C)
			t = conv_bn(n, t, tl.C, prefix);
		if (t < 0)
			return -1;
		if (T(n, t)->H != tl.H || T(n, t)->W != tl.W)
			return error("%s: state %d cannot be reduced to %dx%d", cname,
				     c->concat[i], tl.H, tl.W);
		ins[i] = t;
	}
	if (c->nconcat == 1)
		return ins[0];
	{
		int C = 0;
		struct net_step *s;

		for (int i = 0; i < c->nconcat; i++)
			C += T(n, ins[i])->C;
		y = net_add_tensor(n, C, T(n, last)->H, T(n, last)->W);
		s = net_add_step(n, STEP_CONCAT, y);
		s->nin = c->nconcat;
		memcpy(s->in, ins, sizeof(int) * (size_t)c->nconcat);
	}
	return y;
}

static int linear(struct net *n, int x, int O, const char *prefix)
{
	char name[NET_NAME_MAX + 16];
	const struct net_tensor *t = T(n, x);
	int I = t->C * t->H * t->W;
	int dw[2] = { O, I };
	int y = net_add_tensor(n, O, 1, 1);
	struct net_step *s = net_add_step(n, STEP_LINEAR, y);

	s->nin = 1;
	s->in[0] = x;
	nm(name, prefix, "w");
	s->p[0] = net_add_param(n, name, PARAM_WEIGHT, 2, dw);
	nm(name, prefix, "b");
	s->p[1] = net_add_param(n, name, PARAM_BIAS, 1, &O);
	return y;
}

static int build_aux(struct net *n, int src)
{
	int x = relu(n, src), y;

	if (T(n, x)->H < 5 || T(n, x)->W < 5)
		return error("aux head: its input is %dx%d, smaller than the 5x5 pool",
			     T(n, x)->H, T(n, x)->W);
	y = pool(n, x, STEP_AVGPOOL, 5, 3, 1);
	y = conv(n, y, 128, 1, 1, 1, 1, 1, "aux/proj");
	y = relu(n, bn(n, y, "aux/bn0"));
	y = conv_valid(n, y, 768, T(n, y)->H, T(n, y)->W, 1, "aux/conv");
	y = relu(n, bn(n, y, "aux/bn1"));
	return linear(n, y, n->macro.classes, "aux/fc");
}

int net_build(struct net *n)
{
	const struct macro_config *m = &n->macro;
	int N = m->cells, F = m->filters, cur, prev = -1, depth = 0, aux_src = -1, y;
	char name[32];

	n->input = net_add_tensor(n, m->in_c, m->in_h, m->in_w);
	net_set_module(n, net_add_module(n, "stem"), 0);
	if (m->stem == STEM_CIFAR) {
		cur = conv(n, n->input, 3 * F, 3, 3, 1, 1, 1, "stem/conv");
		n->total_depth = 3 * N + 2;
	} else {
		if (m->in_h < 3 || m->in_w < 3)
			return error("input %dx%d is smaller than the 3x3 stem", m->in_h, m->in_w);
		cur = conv_valid(n, n->input, 32, 3, 3, 2, "stem/conv");
		n->total_depth = 3 * N + 4;
	}
	cur = bn(n, cur, "stem/bn");
	n->modules[n->nmodules - 1].out = cur;
	if (m->stem == STEM_IMAGENET) {
		for (int i = 0; i < 2; i++) {
			snprintf(name, sizeof(name), "cell_stem_%d", i);
			net_set_module(n, net_add_module(n, name), 0);
			y = build_cell(n, &n->geno.reduce, 1, i ? F / 2 : F / 4, cur, prev, depth++,
				       name);
			if (y < 0)
				return -1;
			n->modules[n->nmodules - 1].out = y;
			prev = cur;
			cur = y;
		}
	}
	for (int c = 0, f = F; c < 3 * N; c++) {
		if (c == N || c == 2 * N) {
			f *= 2;
			snprintf(name, sizeof(name), "reduction_cell_%d", c == N ? 0 : 1);
			net_set_module(n, net_add_module(n, name), 0);
			y = build_cell(n, &n->geno.reduce, 1, f, cur, prev, depth++, name);
			if (y < 0)
				return -1;
			n->modules[n->nmodules - 1].out = y;
			prev = cur;
			cur = y;
		}
		snprintf(name, sizeof(name), "cell_%d", c);
		net_set_module(n, net_add_module(n, name), 0);
		y = build_cell(n, &n->geno.normal, 0, f, cur, prev, depth++, name);
		if (y < 0)
			return -1;
		n->modules[n->nmodules - 1].out = y;
		prev = cur;
		cur = y;
		if (c == 2 * N - 1)
			aux_src = cur;
	}
	net_set_module(n, net_add_module(n, "fc"), 0);
	{
		int r = relu(n, cur);
		struct net_step *s;

		y = net_add_tensor(n, T(n, cur)->C, 1, 1);
		s = net_add_step(n, STEP_GAP, y);
		s->nin = 1;
		s->in[0] = r;
	}
	if (m->dropout_keep < 1) {
		int d = net_add_tensor(n, T(n, y)->C, 1, 1);
		struct net_step *s = net_add_step(n, STEP_DROPOUT, d);

		s->nin = 1;
		s->in[0] = y;
		s->save = n->save_per_example;
		n->save_per_example += (size_t)T(n, y)->C;
		y = d;
	}
	n->logits = n->output = linear(n, y, m->classes, "fc");
	n->modules[n->nmodules - 1].out = n->logits;
	n->aux_logits = -1;
	if (m->aux) {
		net_set_module(n, net_add_module(n, "aux"), 1);
		n->aux_logits = build_aux(n, aux_src);
		if (n->aux_logits < 0)
			return -1;
		n->modules[n->nmodules - 1].out = n->aux_logits;
	}
	return 0;
}

static void fragment_macro(struct net *n)
{
	n->macro.bn_momentum = 0.1f;
	n->macro.bn_eps = 1e-3f;
	n->macro.dropout_keep = 1;
	n->total_depth = 1;
}

struct net *net_create_op(int op, int c_in, int h, int w, int filters, int stride, int batch,
			  struct rng *init)
{
	struct net *n = net_begin();
	int rc;

	fragment_macro(n);
	n->input = net_add_tensor(n, c_in, h, w);
	net_set_module(n, net_add_module(n, "op"), 0);
	rc = n->output = build_op(n, op, n->input, filters, stride, 0, "op");
	if (rc >= 0)
		n->modules[0].out = n->output;
	return net_finish(n, rc, batch, init);
}

struct net *net_create_cell(const struct cell *c, int reduce, int filters, int cur_c, int cur_h,
			    int cur_w, int prev_c, int prev_h, int prev_w, int batch,
			    struct rng *init)
{
	struct net *n = net_begin();
	int rc;

	fragment_macro(n);
	n->input = net_add_tensor(n, cur_c, cur_h, cur_w);
	if (prev_c > 0)
		n->input2 = net_add_tensor(n, prev_c, prev_h, prev_w);
	net_set_module(n, net_add_module(n, "cell"), 0);
	rc = n->output = build_cell(n, c, reduce, filters, n->input, n->input2, 0, "cell");
	if (rc >= 0)
		n->modules[0].out = n->output;
	return net_finish(n, rc, batch, init);
}
