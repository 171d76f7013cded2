/*
 * test_ops_torch.c - PyTorch parity of every primitive of lib/ops/ops.h.
 *
 * Reads tests/fixtures/ops.h5 (written by tests/gen_fixtures_ops.py; the
 * path can be given as argv[1]) with the plain HDF5 C API. Every group is a
 * case whose attribute "kind" selects the op; its other attributes are the
 * op's settings. For each case the fast kernel (and, where one exists, its
 * naive *_ref twin) runs on the fixture's inputs, and the output, every
 * gradient (for upstream gradient dout) and any updated state are compared
 * with PyTorch's float64 results: |got - want| <= ATOL + RTOL*|want|, the
 * worst element printed on failure. The test also fails if a kind it knows
 * has no case in the file or the file holds a kind it does not know.
 */
#include "ops.h"
#include "util.h"
#include "../fixture.h"
#include "../tap.h"

#include <hdf5.h>
#include <string.h>

#define RTOL 1e-4
#define ATOL 2e-5

static float *zeros(size_t n)
{
	return xcalloc(n ? n : 1, sizeof(float));
}

/* compare got with the fixture dataset `name` */
static void check(struct fx *x, const char *what, const float *got, const char *name, size_t n)
{
	check_tol(x, what, got, name, n, RTOL, ATOL);
}

static void case_conv(struct fx *x)
{
	struct conv_shape s;
	int N = ival(x, "N"), C = ival(x, "C"), H = ival(x, "H"), W = ival(x, "W"), K = ival(x, "K");
	int kh = ival(x, "kh"), kw = ival(x, "kw"), sh = ival(x, "sh"), sw = ival(x, "sw");

	if (ival(x, "valid"))
		conv_shape_valid(&s, N, C, H, W, K, kh, kw, sh, sw);
	else
		conv_shape_same(&s, N, C, H, W, K, kh, kw, sh, sw, ival(x, "dil"));

	size_t ni = (size_t)N * C * H * W, nw = (size_t)K * C * kh * kw;
	size_t no = (size_t)N * K * s.OH * s.OW;
	float *in = load(x, "in", ni), *w = load(x, "w", nw), *dout = load(x, "dout", no);
	float *out = zeros(no), *din = zeros(ni), *dw = zeros(nw);
	float *work = zeros(conv2d_workspace(&s, 1));

	conv2d_forward(out, in, w, &s, work, 1);
	conv2d_backward(din, dw, dout, in, w, &s, work, 1);
	check(x, "out", out, "out", no);
	check(x, "din", din, "din", ni);
	check(x, "dw", dw, "dw", nw);
	memset(din, 0, sizeof(float) * ni);
	memset(dw, 0, sizeof(float) * nw);
	conv2d_forward_ref(out, in, w, &s);
	conv2d_backward_ref(din, dw, dout, in, w, &s);
	check(x, "ref out", out, "out", no);
	check(x, "ref din", din, "din", ni);
	check(x, "ref dw", dw, "dw", nw);
	free(in); free(w); free(dout); free(out); free(din); free(dw); free(work);
}

static void case_depthwise(struct fx *x)
{
	struct conv_shape s;
	int N = ival(x, "N"), C = ival(x, "C"), H = ival(x, "H"), W = ival(x, "W");
	int k = ival(x, "k"), st = ival(x, "s");

	conv_shape_same(&s, N, C, H, W, C, k, k, st, st, ival(x, "dil"));

	size_t ni = (size_t)N * C * H * W, nw = (size_t)C * k * k, no = (size_t)N * C * s.OH * s.OW;
	float *in = load(x, "in", ni), *w = load(x, "w", nw), *dout = load(x, "dout", no);
	float *out = zeros(no), *din = zeros(ni), *dw = zeros(nw);

	depthwise_forward(out, in, w, &s);
	depthwise_backward(din, dw, dout, in, w, &s);
	check(x, "out", out, "out", no);
	check(x, "din", din, "din", ni);
	check(x, "dw", dw, "dw", nw);
	memset(din, 0, sizeof(float) * ni);
	memset(dw, 0, sizeof(float) * nw);
	depthwise_forward_ref(out, in, w, &s);
	depthwise_backward_ref(din, dw, dout, in, w, &s);
	check(x, "ref out", out, "out", no);
	check(x, "ref din", din, "din", ni);
	check(x, "ref dw", dw, "dw", nw);
	free(in); free(w); free(dout); free(out); free(din); free(dw);
}

static void case_pool(struct fx *x, int is_max)
{
	struct conv_shape s;
	int N = ival(x, "N"), C = ival(x, "C"), H = ival(x, "H"), W = ival(x, "W");
	int k = ival(x, "k"), st = ival(x, "s");

	conv_shape_same(&s, N, C, H, W, C, k, k, st, st, 1);

	size_t ni = (size_t)N * C * H * W, no = (size_t)N * C * s.OH * s.OW;
	float *in = load(x, "in", ni), *dout = load(x, "dout", no);
	float *out = zeros(no), *din = zeros(ni);
	int32_t *am = xcalloc(no, sizeof(*am));

	if (is_max) {
		maxpool_forward(out, am, in, &s);
		maxpool_backward(din, dout, am, &s);
	} else {
		avgpool_forward(out, in, &s);
		avgpool_backward(din, dout, &s);
	}
	check(x, "out", out, "out", no);
	check(x, "din", din, "din", ni);
	memset(din, 0, sizeof(float) * ni);
	if (is_max) {
		maxpool_forward_ref(out, in, &s);
		maxpool_backward_ref(din, dout, in, &s);
	} else {
		avgpool_forward_ref(out, in, &s);
		avgpool_backward_ref(din, dout, &s);
	}
	check(x, "ref out", out, "out", no);
	check(x, "ref din", din, "din", ni);
	free(in); free(dout); free(out); free(din); free(am);
}

static void case_bn(struct fx *x, int training)
{
	int N = ival(x, "N"), C = ival(x, "C"), HW = ival(x, "H") * ival(x, "W");
	float momentum = (float)dval(x, "momentum"), eps = (float)dval(x, "eps");
	size_t n = (size_t)N * C * HW;
	float *in = load(x, "in", n), *gamma = load(x, "gamma", C), *beta = load(x, "beta", C);
	float *rm = load(x, "rm0", C), *rv = load(x, "rv0", C), *out = zeros(n);

	if (!training) {
		batchnorm_forward_eval(out, in, gamma, beta, rm, rv, N, C, HW, eps);
		check(x, "out", out, "out", n);
	} else {
		float *mean = zeros(C), *rstd = zeros(C), *dout = load(x, "dout", n);
		float *din = zeros(n), *dgamma = zeros(C), *dbeta = zeros(C);

		batchnorm_forward_train(out, mean, rstd, rm, rv, in, gamma, beta, N, C, HW, momentum,
					eps);
		batchnorm_backward(din, dgamma, dbeta, dout, in, mean, rstd, gamma, N, C, HW);
		check(x, "out", out, "out", n);
		check(x, "running_mean", rm, "rm1", C);
		check(x, "running_var", rv, "rv1", C);
		check(x, "din", din, "din", n);
		check(x, "dgamma", dgamma, "dgamma", C);
		check(x, "dbeta", dbeta, "dbeta", C);
		free(mean); free(rstd); free(dout); free(din); free(dgamma); free(dbeta);
	}
	free(in); free(gamma); free(beta); free(rm); free(rv); free(out);
}

static void case_factorized(struct fx *x)
{
	int N = ival(x, "N"), C = ival(x, "C"), H = ival(x, "H"), W = ival(x, "W"), F = ival(x, "F");
	size_t ni = (size_t)N * C * H * W, nw = (size_t)F / 2 * C;
	size_t no = (size_t)N * F * ((H + 1) / 2) * ((W + 1) / 2);
	float *in = load(x, "in", ni), *w1 = load(x, "w1", nw), *w2 = load(x, "w2", nw);
	float *dout = load(x, "dout", no), *out = zeros(no), *din = zeros(ni);
	float *dw1 = zeros(nw), *dw2 = zeros(nw);
	float *work = zeros(factorized_reduce_workspace(N, C, H, W, F, 1));

	factorized_reduce_forward(out, in, w1, w2, N, C, H, W, F, work, 1);
	factorized_reduce_backward(din, dw1, dw2, dout, in, w1, w2, N, C, H, W, F, work, 1);
	check(x, "out", out, "out", no);
	check(x, "din", din, "din", ni);
	check(x, "dw1", dw1, "dw1", nw);
	check(x, "dw2", dw2, "dw2", nw);
	memset(din, 0, sizeof(float) * ni);
	memset(dw1, 0, sizeof(float) * nw);
	memset(dw2, 0, sizeof(float) * nw);
	factorized_reduce_forward_ref(out, in, w1, w2, N, C, H, W, F);
	factorized_reduce_backward_ref(din, dw1, dw2, dout, in, w1, w2, N, C, H, W, F);
	check(x, "ref out", out, "out", no);
	check(x, "ref din", din, "din", ni);
	check(x, "ref dw1", dw1, "dw1", nw);
	check(x, "ref dw2", dw2, "dw2", nw);
	free(in); free(w1); free(w2); free(dout); free(out); free(din); free(dw1); free(dw2);
	free(work);
}

static void case_relu(struct fx *x)
{
	size_t n = (size_t)ival(x, "N") * ival(x, "C") * ival(x, "H") * ival(x, "W");
	float *in = load(x, "in", n), *dout = load(x, "dout", n), *out = zeros(n), *din = zeros(n);

	relu_forward(out, in, n);
	relu_backward(din, dout, in, n);
	check(x, "out", out, "out", n);
	check(x, "din", din, "din", n);
	free(in); free(dout); free(out); free(din);
}

static void case_add(struct fx *x)
{
	size_t n = (size_t)ival(x, "N") * ival(x, "C") * ival(x, "H") * ival(x, "W");
	float *a = load(x, "a", n), *b = load(x, "b", n), *dout = load(x, "dout", n);
	float *out = zeros(n), *da = zeros(n), *db = zeros(n);

	add_forward(out, a, b, n);
	accumulate(da, dout, n);
	accumulate(db, dout, n);
	check(x, "out", out, "out", n);
	check(x, "da", da, "da", n);
	check(x, "db", db, "db", n);
	free(a); free(b); free(dout); free(out); free(da); free(db);
}

static void case_concat(struct fx *x)
{
	int N = ival(x, "N"), HW = ival(x, "H") * ival(x, "W");
	int C[3] = { ival(x, "C0"), ival(x, "C1"), ival(x, "C2") }, tot = C[0] + C[1] + C[2];
	static const char *in_names[3] = { "in0", "in1", "in2" }, *d_names[3] = { "din0", "din1",
									    "din2" };
	float *in[3], *din[3];
	size_t no = (size_t)N * tot * HW;
	float *dout = load(x, "dout", no), *out = zeros(no);

	for (int i = 0; i < 3; i++) {
		in[i] = load(x, in_names[i], (size_t)N * C[i] * HW);
		din[i] = zeros((size_t)N * C[i] * HW);
	}
	concat_forward(out, (const float *const *)in, C, 3, N, HW);
	concat_backward(din, dout, C, 3, N, HW);
	check(x, "out", out, "out", no);
	for (int i = 0; i < 3; i++) {
		check(x, d_names[i], din[i], d_names[i], (size_t)N * C[i] * HW);
		free(in[i]);
		free(din[i]);
	}
	free(dout); free(out);
}

static void case_gap(struct fx *x)
{
	int N = ival(x, "N"), C = ival(x, "C"), HW = ival(x, "H") * ival(x, "W");
	size_t ni = (size_t)N * C * HW, no = (size_t)N * C;
	float *in = load(x, "in", ni), *dout = load(x, "dout", no), *out = zeros(no);
	float *din = zeros(ni);

	gap_forward(out, in, N, C, HW);
	gap_backward(din, dout, N, C, HW);
	check(x, "out", out, "out", no);
	check(x, "din", din, "din", ni);
	free(in); free(dout); free(out); free(din);
}

static void case_linear(struct fx *x)
{
	int N = ival(x, "N"), Fi = ival(x, "Fi"), Fo = ival(x, "Fo");
	size_t ni = (size_t)N * Fi, nw = (size_t)Fo * Fi, no = (size_t)N * Fo;
	float *in = load(x, "in", ni), *w = load(x, "w", nw), *b = load(x, "b", Fo);
	float *dout = load(x, "dout", no), *out = zeros(no), *din = zeros(ni), *dw = zeros(nw);
	float *db = zeros(Fo);

	linear_forward(out, in, w, b, N, Fi, Fo);
	linear_backward(din, dw, db, dout, in, w, N, Fi, Fo);
	check(x, "out", out, "out", no);
	check(x, "din", din, "din", ni);
	check(x, "dw", dw, "dw", nw);
	check(x, "db", db, "db", Fo);
	memset(din, 0, sizeof(float) * ni);
	memset(dw, 0, sizeof(float) * nw);
	memset(db, 0, sizeof(float) * Fo);
	linear_forward_ref(out, in, w, b, N, Fi, Fo);
	linear_backward_ref(din, dw, db, dout, in, w, N, Fi, Fo);
	check(x, "ref out", out, "out", no);
	check(x, "ref din", din, "din", ni);
	check(x, "ref dw", dw, "dw", nw);
	check(x, "ref db", db, "db", Fo);
	free(in); free(w); free(b); free(dout); free(out); free(din); free(dw); free(db);
}

static void case_xent(struct fx *x)
{
	int N = ival(x, "N"), K = ival(x, "K");
	float eps = (float)dval(x, "smoothing"), scale = (float)dval(x, "scale");
	size_t n = (size_t)N * K;
	float *logits = load(x, "logits", n), *probs = zeros(n), *dlogits = zeros(n);
	int32_t *labels = load_as(x, "labels", N, H5T_NATIVE_INT32, sizeof(int32_t));
	float loss;

	loss = softmax_xent_forward(probs, logits, labels, N, K, eps);
	softmax_xent_backward(dlogits, probs, labels, N, K, eps, scale);
	check(x, "loss", &loss, "loss", 1);
	check(x, "probs", probs, "probs", n);
	check(x, "dlogits", dlogits, "dlogits", n);
	free(logits); free(probs); free(dlogits); free(labels);
}

/* The mask is random, so the fixture supplies it: out = in * mask and din = dout * mask. */
static void case_dropout(struct fx *x, int path)
{
	int N = ival(x, "N"), per = ival(x, "per");
	size_t n = (size_t)N * per;
	float *in = load(x, "in", n), *mask = load(x, "mask", path ? (size_t)N : n);
	float *dout = load(x, "dout", n), *out = zeros(n), *din = zeros(n);

	if (path) {
		droppath_backward(out, in, mask, N, per);
		droppath_backward(din, dout, mask, N, per);
	} else {
		dropout_backward(out, in, mask, n);
		dropout_backward(din, dout, mask, n);
	}
	check(x, "out (in * mask)", out, "out", n);
	check(x, "din", din, "din", n);
	free(in); free(mask); free(dout); free(out); free(din);
}

static const char *const kinds[] = {
	"conv", "depthwise", "avgpool", "maxpool", "bn_train", "bn_eval", "factorized", "relu",
	"add", "concat", "gap", "linear", "xent", "dropout", "droppath",
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static int run_case(struct fx *x, const char *kind)
{
	if (!strcmp(kind, "conv"))
		case_conv(x);
	else if (!strcmp(kind, "depthwise"))
		case_depthwise(x);
	else if (!strcmp(kind, "avgpool") || !strcmp(kind, "maxpool"))
		case_pool(x, kind[0] == 'm');
	else if (!strcmp(kind, "bn_train") || !strcmp(kind, "bn_eval"))
		case_bn(x, !strcmp(kind, "bn_train"));
	else if (!strcmp(kind, "factorized"))
		case_factorized(x);
	else if (!strcmp(kind, "relu"))
		case_relu(x);
	else if (!strcmp(kind, "add"))
		case_add(x);
	else if (!strcmp(kind, "concat"))
		case_concat(x);
	else if (!strcmp(kind, "gap"))
		case_gap(x);
	else if (!strcmp(kind, "linear"))
		case_linear(x);
	else if (!strcmp(kind, "xent"))
		case_xent(x);
	else if (!strcmp(kind, "dropout") || !strcmp(kind, "droppath"))
		case_dropout(x, !strcmp(kind, "droppath"));
	else
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "tests/fixtures/ops.h5";
	int seen[NKINDS] = { 0 };
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
		char name[128], kind[32];
		struct fx x = { .name = name };

		if (H5Lget_name_by_idx(f, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof(name),
				       H5P_DEFAULT) < 0) {
			ok(0, "case %llu: cannot read its name", (unsigned long long)i);
			continue;
		}
		x.g = H5Gopen2(f, name, H5P_DEFAULT);
		if (x.g < 0 || sval(x.g, "kind", kind, sizeof(kind)) < 0) {
			ok(0, "%s: not a group with a 'kind' attribute", name);
			if (x.g >= 0)
				H5Gclose(x.g);
			continue;
		}
		if (run_case(&x, kind) < 0)
			ok(0, "%s: unknown kind '%s'", name, kind);
		for (size_t k = 0; k < NKINDS; k++)
			seen[k] += !strcmp(kinds[k], kind);
		if (x.bad)
			ok(0, "%s: fixture incomplete", name);
		H5Gclose(x.g);
	}
	for (size_t k = 0; k < NKINDS; k++)
		ok(seen[k] > 0, "fixture covers %s (%d cases)", kinds[k], seen[k]);
	H5Fclose(f);
	return tap_exit();
}
