/*
 * test_net_torch.c - PyTorch parity of the network engine: every op of the
 * space as a one-op fragment, NASNet-A Normal and Reduction cells, and one
 * training step of a whole small NASNet-A network.
 *
 * Reads tests/fixtures/cells.h5 (written by tests/gen_fixtures_cells.py, an
 * independent PyTorch implementation of nasnet-facts.md 1.2-1.3 and 3; the
 * path can be given as argv[1]). Each case holds the weights by the engine's
 * parameter names: the test builds the same fragment or network
 * (net_create_op, net_create_cell, net_create), checks that the two sides
 * have exactly the same parameters and BN buffers (names, shapes, which are
 * L2-decayed), loads them by name, runs the forward pass with BN in training
 * mode and the backward pass, and compares with PyTorch's float64 results:
 * the output (logits and loss for the network), the input gradients, every
 * parameter gradient and the updated BN running statistics. For the network
 * it also applies one SGD step the way lib/train/train.c's sgd_step does and
 * compares a subset of the new weights with torch.optim.SGD's.
 * Elements pass when |got - want| <= ATOL + RTOL*|want|; a failure names the
 * worst element (for parameters: which parameter).
 */
#include <hdf5.h>
#include <math.h>
#include <string.h>

#include "../fixture.h"
#include "../tap.h"
#include "genotype.h"
#include "net.h"
#include "util.h"

#define RTOL 1e-4
#define ATOL 1e-5
#define ATOL_STEP 3e-7   /* on w1 - w0: float32 rounding of w1 (|w| < 2) */

/* n fixed-length strings -> n names of NET_NAME_MAX bytes (empty on failure) */
static char (*load_names(struct fx *x, const char *name, int n))[NET_NAME_MAX]
{
	char (*out)[NET_NAME_MAX] = xcalloc((size_t)(n ? n : 1), NET_NAME_MAX);
	hid_t d = H5Dopen2(x->g, name, H5P_DEFAULT);
	hid_t t = d >= 0 ? H5Dget_type(d) : -1, mt = H5Tcopy(H5T_C_S1);
	hid_t sp = d >= 0 ? H5Dget_space(d) : -1;
	size_t sz = t >= 0 && H5Tget_class(t) == H5T_STRING ? H5Tget_size(t) : 0;
	char *raw = xcalloc((size_t)(n ? n : 1), sz + 1);

	if (!sz || sz >= NET_NAME_MAX || H5Sget_simple_extent_npoints(sp) != n ||
	    H5Tset_size(mt, sz) < 0 || H5Tset_strpad(mt, H5T_STR_NULLPAD) < 0 ||
	    H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) < 0) {
		diag("%s/%s: missing, or not %d strings shorter than %d bytes", x->name, name, n,
		     NET_NAME_MAX);
		x->bad = 1;
	} else {
		for (int i = 0; i < n; i++)
			memcpy(out[i], raw + (size_t)i * sz, sz);   /* NUL-padded, out is zeroed */
	}
	free(raw);
	H5Tclose(mt);
	if (sp >= 0)
		H5Sclose(sp);
	if (t >= 0)
		H5Tclose(t);
	if (d >= 0)
		H5Dclose(d);
	return out;
}

static size_t tensor_size(const struct net *n, int t)
{
	const struct net_tensor *v = &n->tensors[t];

	return (size_t)n->batch * v->C * v->H * v->W;
}

/* compare got with the fixture dataset `name` (n elements) */
static void check(struct fx *x, const char *what, const float *got, const char *name, size_t n)
{
	check_tol(x, what, got, name, n, RTOL, ATOL);
}

/* The fixture's parameters and buffers mapped onto the net's. */
struct model {
	int np, nb;                   /* fixture counts */
	char (*pnames)[NET_NAME_MAX];
	int *pinfo;                   /* (np, 6): dims[4], decayed, in param1 */
	int *pid;                     /* fixture parameter -> net parameter (-1 none) */
	size_t *poff;                 /* its offset in the fixture's flat arrays */
	size_t pfloats, bfloats;
	float *param;                 /* fixture parameters (loaded into the net) */
	float *want_grad, *want_buf;  /* fixture gradients, buffers after the forward */
	int *bid;                     /* fixture buffer -> net buffer */
	size_t *boff;
};

static void model_free(struct model *m)
{
	free(m->pnames);
	free(m->pinfo);
	free(m->pid);
	free(m->poff);
	free(m->param);
	free(m->want_grad);
	free(m->want_buf);
	free(m->bid);
	free(m->boff);
}

/*
 * Map the fixture's parameters and buffers onto the net by name, check that
 * both sides have the same set (shapes, decay flags), and load the values.
 * One test point.
 */
static int load_model(struct fx *x, struct net *n, struct model *m)
{
	char (*bnames)[NET_NAME_MAX] = NULL;
	float *buf = NULL;
	int *used = xcalloc((size_t)n->nparams + 1, sizeof(int));
	int *bused = xcalloc((size_t)n->nbuffers + 1, sizeof(int));
	int bad = 0;

	memset(m, 0, sizeof(*m));
	m->np = ival(x, "nparams");
	m->nb = ival(x, "nbuffers");
	m->pid = xcalloc((size_t)m->np + 1, sizeof(int));
	m->poff = xcalloc((size_t)m->np + 1, sizeof(size_t));
	m->bid = xcalloc((size_t)m->nb + 1, sizeof(int));
	m->boff = xcalloc((size_t)m->nb + 1, sizeof(size_t));
	if (m->np) {
		m->pnames = load_names(x, "pnames", m->np);
		m->pinfo = load_int(x, "pinfo", (size_t)m->np * 6);
	}
	for (int i = 0; i < m->np; i++) {
		const int *info = m->pinfo + 6 * i;
		int j = net_param_find(n, m->pnames[i]);
		size_t count = 1;
		int rank = 0;

		for (int k = 0; k < 4 && info[k]; k++, rank++)
			count *= (size_t)info[k];
		m->poff[i] = m->pfloats;
		m->pfloats += count;
		m->pid[i] = j;
		if (j < 0) {
			if (bad++ < 5)
				diag("%s: PyTorch parameter %s is not in the net", x->name,
				     m->pnames[i]);
			continue;
		}
		used[j]++;
		if (n->params[j].rank != rank || n->params[j].count != count ||
		    memcmp(n->params[j].dims, info, sizeof(int) * (size_t)rank) ||
		    (n->params[j].kind == PARAM_WEIGHT) != info[4]) {
			if (bad++ < 5)
				diag("%s: %s: net shape %dx%dx%dx%d (rank %d, decayed %d), PyTorch "
				     "%dx%dx%dx%d (decayed %d)", x->name, m->pnames[i],
				     n->params[j].dims[0], n->params[j].dims[1],
				     n->params[j].dims[2], n->params[j].dims[3], n->params[j].rank,
				     n->params[j].kind == PARAM_WEIGHT, info[0], info[1], info[2],
				     info[3], info[4]);
			m->pid[i] = -1;
		}
	}
	for (int j = 0; j < n->nparams; j++)
		if (used[j] != 1 && bad++ < 10)
			diag("%s: net parameter %s appears %d times in the fixture", x->name,
			     n->params[j].name, used[j]);
	if (m->np) {
		m->param = load(x, "param", m->pfloats);
		m->want_grad = load(x, "grad", m->pfloats);
	}
	for (int i = 0; i < m->np; i++)
		if (m->pid[i] >= 0)
			memcpy(n->param + n->params[m->pid[i]].offset, m->param + m->poff[i],
			       sizeof(float) * n->params[m->pid[i]].count);

	if (m->nb)
		bnames = load_names(x, "bnames", m->nb);
	for (int i = 0; i < m->nb; i++) {
		int j = net_buffer_find(n, bnames[i]);

		m->bid[i] = j;
		m->boff[i] = m->bfloats;
		if (j < 0) {
			if (bad++ < 10)
				diag("%s: PyTorch buffer %s is not in the net", x->name, bnames[i]);
			continue;
		}
		bused[j]++;
		m->bfloats += n->buffers[j].count;
	}
	for (int j = 0; j < n->nbuffers; j++)
		if (bused[j] != 1 && bad++ < 10)
			diag("%s: net buffer %s appears %d times in the fixture", x->name,
			     n->buffers[j].name, bused[j]);
	if (m->nb && !bad) {
		buf = load(x, "buf", 2 * m->bfloats);   /* before, after */
		m->want_buf = xmalloc(sizeof(float) * (m->bfloats + 1));
		memcpy(m->want_buf, buf + m->bfloats, sizeof(float) * m->bfloats);
		for (int i = 0; i < m->nb; i++)
			memcpy(n->buffer + n->buffers[m->bid[i]].offset, buf + m->boff[i],
			       sizeof(float) * n->buffers[m->bid[i]].count);
	}
	free(bnames);
	free(buf);
	free(used);
	free(bused);
	return ok(!bad && !x->bad && m->np == n->nparams && m->nb == n->nbuffers,
		  "%s: the same %d parameters and %d BN buffers (names, shapes, decay) in PyTorch "
		  "and the net (%d, %d)", x->name, m->np, m->nb, n->nparams, n->nbuffers);
}

/* Compare views of the net (param grads or buffers) with the fixture's flat array. */
static void check_views(struct fx *x, const char *what, const struct net *n, int buffers,
			const struct model *m, const float *want)
{
	int cnt = buffers ? m->nb : m->np;
	const int *id = buffers ? m->bid : m->pid;
	const size_t *off = buffers ? m->boff : m->poff;
	const struct net_param *views = buffers ? n->buffers : n->params;
	const float *base = buffers ? n->buffer : n->grad;
	double worst_excess = -INFINITY, worst_diff = 0, got_w = 0, want_w = 0, max_diff = 0;
	const char *worst_name = "";
	size_t worst_k = 0, total = 0;

	for (int i = 0; i < cnt; i++) {
		const struct net_param *v = &views[id[i]];

		for (size_t k = 0; k < v->count; k++) {
			double g = base[v->offset + k], w = want[off[i] + k];
			double d = fabs(g - w), ex = isnan(d) ? INFINITY : d - (ATOL + RTOL * fabs(w));

			if (d > max_diff || isnan(d))
				max_diff = d;
			if (ex > worst_excess) {
				worst_excess = ex;
				worst_diff = d;
				worst_name = v->name;
				worst_k = k;
				got_w = g;
				want_w = w;
			}
		}
		total += v->count;
	}
	if (worst_excess > 0)
		diag("%s: %s: worst element %s[%zu]: got %.9g want %.9g (|diff| %.3g)", x->name,
		     what, worst_name, worst_k, got_w, want_w, worst_diff);
	ok(total == 0 || worst_excess <= 0, "%s: %s (%d arrays, %zu values, max |diff| %.3g)",
	   x->name, what, cnt, total, max_diff);
}

/* BN settings of the case (fragments fix them; set anyway, the fixture is the reference) */
static void set_bn(struct fx *x, struct net *n)
{
	n->macro.bn_eps = (float)dval(x, "eps");
	n->macro.bn_momentum = (float)dval(x, "momentum");
}

/* forward + backward of a fragment on the fixture's x (and x2), then all comparisons */
static void run_fragment(struct fx *x, struct net *n)
{
	struct model m;
	size_t nx = tensor_size(n, n->input), no = tensor_size(n, n->output), nx2 = 0;
	float *in, *dout;

	set_bn(x, n);
	if (!load_model(x, n, &m)) {
		model_free(&m);
		return;
	}
	in = load(x, "x", nx);
	dout = load(x, "dout", no);
	if (n->input2 >= 0) {
		float *in2;

		nx2 = tensor_size(n, n->input2);
		in2 = load(x, "x2", nx2);
		memcpy(net_value(n, n->input2), in2, sizeof(float) * nx2);
		free(in2);
	}
	n->need_input_grad = 1;
	net_forward(n, in, NULL, 1, 1.0f, 0.0f, NULL, NULL);
	check(x, "output", net_value(n, n->output), "out", no);
	net_backward_from(n, n->output, dout);
	check(x, "input gradient", net_dvalue(n, n->input), "dx", nx);
	if (n->input2 >= 0)
		check(x, "h_{i-1} gradient", net_dvalue(n, n->input2), "dx2", nx2);
	if (m.np)
		check_views(x, "parameter gradients", n, 0, &m, m.want_grad);
	if (m.nb && m.want_buf)
		check_views(x, "BN running statistics", n, 1, &m, m.want_buf);
	free(in);
	free(dout);
	model_free(&m);
}

static void case_op(struct fx *x)
{
	char opname[64];
	int op, cin = ival(x, "cin"), h = ival(x, "h"), w = ival(x, "w"), F = ival(x, "F");
	int st = ival(x, "stride"), B = ival(x, "batch");
	struct net *n;

	sval(x->g, "op", opname, sizeof(opname));
	op = op_lookup(opname);
	if (!ok(op >= 0, "%s: op '%s' is known", x->name, opname))
		return;
	n = net_create_op(op, cin, h, w, F, st, B, NULL);
	if (!ok(n != NULL, "%s: builds", x->name))
		return;
	run_fragment(x, n);
	net_free(n);
}

static void case_cell(struct fx *x)
{
	struct genotype g;
	int reduce = ival(x, "reduce");
	struct net *n;

	genotype_builtin(&g, "nasnet-a");
	n = net_create_cell(reduce ? &g.reduce : &g.normal, reduce, ival(x, "F"), ival(x, "cur_c"),
			    ival(x, "cur_h"), ival(x, "cur_w"), ival(x, "prev_c"),
			    ival(x, "prev_h"), ival(x, "prev_w"), ival(x, "batch"), NULL);
	if (!ok(n != NULL, "%s: builds", x->name))
		return;
	run_fragment(x, n);
	net_free(n);
}

/*
 * One SGD step over all parameters, exactly as lib/train/train.c's sgd_step (static
 * there): scale the raw gradients to global norm `clip`, then add
 * weight_decay * w for PARAM_WEIGHT views, then (Nesterov) momentum from a
 * zero buffer. Keep the two in step.
 */
static void sgd_step_mirror(struct net *n, float *mom, double lr, double momentum, int nesterov,
			    double weight_decay, double clip)
{
	float *w = n->param, *g = n->grad;
	float mu = (float)momentum, wd = (float)weight_decay, flr = (float)lr;
	float scale = 1.0f;

	if (clip > 0) {
		double sq = 0;

		for (size_t i = 0; i < n->nparam_floats; i++)
			sq += (double)g[i] * g[i];
		if (sqrt(sq) > clip)
			scale = (float)(clip / (sqrt(sq) + 1e-6));
	}
	for (int p = 0; p < n->nparams; p++) {
		const struct net_param *v = &n->params[p];
		float decay = v->kind == PARAM_WEIGHT ? wd : 0.0f;
		float *wp = w + v->offset, *gp = g + v->offset, *mp = mom + v->offset;

		for (size_t i = 0; i < v->count; i++) {
			float gi = gp[i] * scale + decay * wp[i];

			mp[i] = mu * mp[i] + gi;
			wp[i] -= flr * (nesterov ? gi + mu * mp[i] : mp[i]);
		}
	}
}

static void case_net(struct fx *x)
{
	struct genotype g;
	struct macro_config mc;
	struct model m;
	struct net *n;
	int B = ival(x, "batch"), K = ival(x, "classes");
	float loss = 0, *in, *mom, *got1, *want1;
	double gnorm = 0;
	int32_t *labels;
	size_t nx, n1 = 0;

	genotype_builtin(&g, "nasnet-a");
	memset(&mc, 0, sizeof(mc));
	mc.stem = STEM_CIFAR;
	mc.cells = ival(x, "cells");
	mc.filters = ival(x, "filters");
	mc.in_c = ival(x, "in_c");
	mc.in_h = ival(x, "in_h");
	mc.in_w = ival(x, "in_w");
	mc.classes = K;
	mc.aux = 0;
	mc.bn_momentum = (float)dval(x, "momentum");
	mc.bn_eps = (float)dval(x, "eps");
	mc.dropout_keep = 1;
	n = net_create(&g, &mc, B, NULL);
	if (!ok(n != NULL, "%s: builds", x->name))
		return;
	if (!load_model(x, n, &m))
		goto out_model;
	nx = tensor_size(n, n->input);
	in = load(x, "x", nx);
	labels = load_as(x, "labels", (size_t)B, H5T_NATIVE_INT32, sizeof(int32_t));
	net_set_loss(n, 0.0f, (float)dval(x, "smoothing"));
	net_forward(n, in, labels, 1, 1.0f, 0.0f, NULL, &loss);
	check(x, "loss (label smoothing)", &loss, "loss", 1);
	check(x, "logits", net_logits(n), "out", (size_t)B * K);
	check_views(x, "BN running statistics after the forward", n, 1, &m, m.want_buf);
	net_backward(n);
	check_views(x, "every parameter gradient", n, 0, &m, m.want_grad);

	/* one SGD step from the net's own gradients; compare the stored subset */
	for (size_t i = 0; i < n->nparam_floats; i++)
		gnorm += (double)n->grad[i] * n->grad[i];
	gnorm = sqrt(gnorm);
	ok(gnorm > dval(x, "clip"), "%s: gradient norm %.4f > clip %g: the step is clipped",
	   x->name, gnorm, dval(x, "clip"));
	mom = xcalloc(n->nparam_floats + 1, sizeof(float));
	sgd_step_mirror(n, mom, dval(x, "lr"), dval(x, "sgd_momentum"), ival(x, "nesterov"),
			dval(x, "weight_decay"), dval(x, "clip"));
	for (int i = 0; i < m.np; i++)
		n1 += m.pinfo[6 * i + 5] ? n->params[m.pid[i]].count : 0;
	got1 = xmalloc(sizeof(float) * (n1 + 1));
	want1 = load(x, "param1", n1);
	n1 = 0;
	for (int i = 0; i < m.np; i++) {
		const struct net_param *v = &n->params[m.pid[i]];
		const float *w0 = m.param + m.poff[i];

		if (!m.pinfo[6 * i + 5])
			continue;
		/* compare the updates w1 - w0, so that small terms (weight decay) count */
		for (size_t k = 0; k < v->count; k++, n1++) {
			got1[n1] = n->param[v->offset + k] - w0[k];
			want1[n1] -= w0[k];
		}
	}
	close_arrays("net: updates of one SGD step (clip, then decay, Nesterov; stem, fc, "
		     "cell_0/cur, one separable op)", got1, want1, n1, RTOL, ATOL_STEP);
	free(want1);
	free(got1);
	free(mom);
	free(in);
	free(labels);
out_model:
	model_free(&m);
	net_free(n);
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "tests/fixtures/cells.h5";
	int seen_op[OP_COUNT] = { 0 }, ncell[2] = { 0 }, nnet = 0;
	H5G_info_t info;
	hid_t f;

	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (!ok(f >= 0, "open %s", path))
		return tap_exit();
	if (H5Gget_info(f, &info) < 0)
		info.nlinks = 0;
	ok(info.nlinks > 0, "%s holds %llu cases", path, (unsigned long long)info.nlinks);
	for (hsize_t i = 0; i < info.nlinks; i++) {
		char name[128], kind[32], opname[64];
		struct fx x = { .name = name };

		if (H5Lget_name_by_idx(f, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof(name),
				       H5P_DEFAULT) < 0) {
			ok(0, "case %llu: cannot read its name", (unsigned long long)i);
			continue;
		}
		x.g = H5Gopen2(f, name, H5P_DEFAULT);
		if (x.g < 0) {
			ok(0, "%s: not a group", name);
			continue;
		}
		sval(x.g, "kind", kind, sizeof(kind));
		if (!strcmp(kind, "op")) {
			int op;

			sval(x.g, "op", opname, sizeof(opname));
			op = op_lookup(opname);
			if (op >= 0)
				seen_op[op] |= 1 << (ival(&x, "stride") - 1);
			case_op(&x);
		} else if (!strcmp(kind, "cell")) {
			ncell[ival(&x, "reduce") != 0]++;
			case_cell(&x);
		} else if (!strcmp(kind, "net")) {
			nnet++;
			case_net(&x);
		} else {
			ok(0, "%s: unknown kind '%s'", name, kind);
		}
		if (x.bad)
			ok(0, "%s: fixture incomplete", name);
		H5Gclose(x.g);
	}
	for (int op = 0; op < OP_COUNT; op++)
		ok(seen_op[op] == 3, "fixture covers %s at stride 1 and 2", op_name(op));
	ok(ncell[0] && ncell[1], "fixture covers Normal (%d) and Reduction (%d) cells", ncell[0],
	   ncell[1]);
	ok(nnet > 0, "fixture covers a whole network");
	H5Fclose(f);
	return tap_exit();
}
