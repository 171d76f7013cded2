/*
 * test_net_grad.c - finite-difference checks of the tape's backward pass:
 * every op of the space alone (stride 1 and 2, odd and even sizes, C_in equal
 * to and different from F, batch 2), a NASNet-A Normal and Reduction cell
 * with both input plumbings, and a whole small NASNet-A network (loss with
 * label smoothing and the aux head, wrt sampled parameters and the image).
 * BN runs in training mode, so the losses are smooth; drop path is off.
 * Fragments use L = sum(out * R) with a fixed random R, accumulated in
 * double; derivatives are central differences with step h.
 */
#include <math.h>
#include <string.h>

#include "../tap.h"
#include "genotype.h"
#include "net.h"
#include "rng.h"
#include "util.h"

struct probe {
	struct net *n;
	float *x;        /* input images (B, C, H, W) */
	const float *R;  /* fragments: output weights; NULL = network loss */
	const int32_t *labels;
};

static double loss(struct probe *p)
{
	float l = 0;
	const float *o;
	double s = 0;
	size_t m;

	net_forward(p->n, p->x, p->labels, 1, 1.0f, 0.0f, NULL, &l);
	if (!p->R)
		return l;
	o = net_value(p->n, p->n->output);
	m = (size_t)p->n->batch * p->n->tensors[p->n->output].C * p->n->tensors[p->n->output].H *
	    p->n->tensors[p->n->output].W;
	for (size_t i = 0; i < m; i++)
		s += (double)o[i] * p->R[i];
	return s;
}

/* d loss / d v[i] by central differences */
static double fd(struct probe *p, float *v, double h)
{
	float keep = *v;
	double a, b;

	*v = (float)(keep + h);
	a = loss(p);
	*v = (float)(keep - h);
	b = loss(p);
	*v = keep;
	return (a - b) / (2 * h);
}

struct worst {
	double excess, got, want;
	char what[160];
	int n;
};

static void compare(struct worst *w, double an, double num, double atol, double rtol,
		    const char *what, size_t i)
{
	double ex = fabs(an - num) - (atol + rtol * fabs(num));

	w->n++;
	if (ex > w->excess || isnan(an)) {
		w->excess = isnan(an) ? INFINITY : ex;
		w->got = an;
		w->want = num;
		snprintf(w->what, sizeof(w->what), "%s[%zu]", what, i);
	}
}

/* Check `per` sampled elements of every parameter view and of the inputs. */
static int check(struct probe *p, struct rng *r, int per, double h, double atol, double rtol,
		 const char *name)
{
	struct net *n = p->n;
	float *grad = xmalloc(sizeof(float) * (n->nparam_floats + 1));
	size_t nx = (size_t)n->batch * n->tensors[n->input].C * n->tensors[n->input].H *
		    n->tensors[n->input].W;
	float *dx = xmalloc(sizeof(float) * nx), *dx2 = NULL;
	size_t nx2 = 0;
	struct worst w = { -INFINITY, 0, 0, "", 0 };

	n->need_input_grad = 1;
	loss(p);
	if (p->R)
		net_backward_from(n, n->output, p->R);
	else
		net_backward(n);
	memcpy(grad, n->grad, sizeof(float) * n->nparam_floats);
	memcpy(dx, net_dvalue(n, n->input), sizeof(float) * nx);
	if (n->input2 >= 0) {
		const struct net_tensor *t = &n->tensors[n->input2];

		nx2 = (size_t)n->batch * t->C * t->H * t->W;
		dx2 = xmalloc(sizeof(float) * nx2);
		memcpy(dx2, net_dvalue(n, n->input2), sizeof(float) * nx2);
	}
	for (int i = 0; i < n->nparams; i++) {
		const struct net_param *v = &n->params[i];

		if (v->aux && !n->aux_active)
			continue;
		for (int k = 0; k < per; k++) {
			size_t j = v->offset + (size_t)rng_below(r, v->count);

			double num = fd(p, n->param + j, h);

			/* a ReLU or max-pool kink inside [-h, h]: retry with a smaller step */
			if (fabs(grad[j] - num) > atol + rtol * fabs(num))
				num = fd(p, n->param + j, h / 4);
			compare(&w, grad[j], num, atol, rtol, v->name, j - v->offset);
		}
	}
	for (int k = 0; k < per; k++) {
		size_t j = (size_t)rng_below(r, nx);

		compare(&w, dx[j], fd(p, p->x + j, h), atol, rtol, "input", j);
		if (dx2) {
			j = (size_t)rng_below(r, nx2);
			compare(&w, dx2[j], fd(p, net_value(n, n->input2) + j, h), atol, rtol,
				"input2", j);
		}
	}
	if (w.excess > 0)
		diag("%s: worst %s: analytic %.7g, numeric %.7g", name, w.what, w.got, w.want);
	free(grad);
	free(dx);
	free(dx2);
	return ok(w.excess <= 0, "%s: %d derivatives (worst excess %.2g)", name, w.n, w.excess);
}

/*
 * Whole networks: per-element differences drown in float noise (gradients of
 * a mean loss are small), so check directional derivatives per module: along
 * the module's own gradient g (expect |g|) and along a random unit direction
 * u (expect g.u), perturbing all the module's parameters at once.
 */
static int check_modules(struct probe *p, struct rng *r, double h, double rtol, const char *name)
{
	struct net *n = p->n;
	float *grad = xmalloc(sizeof(float) * (n->nparam_floats + 1));
	float *keep = xmalloc(sizeof(float) * (n->nparam_floats + 1));
	double *dir = xmalloc(sizeof(double) * (n->nparam_floats + 1));
	int bad = 0, checks = 0;

	loss(p);
	net_backward(n);
	memcpy(grad, n->grad, sizeof(float) * n->nparam_floats);
	memcpy(keep, n->param, sizeof(float) * n->nparam_floats);
	for (int m = 0; m < n->nmodules; m++) {
		double gnorm = 0;

		for (int i = 0; i < n->nparams; i++) {
			const struct net_param *v = &n->params[i];

			if (v->module == m)
				for (size_t j = v->offset; j < v->offset + v->count; j++)
					gnorm += (double)grad[j] * grad[j];
		}
		gnorm = sqrt(gnorm);
		if (gnorm == 0)
			continue;
		for (int kind = 0; kind < 2; kind++) {
			double an = 0, norm = 0, lp, lm;

			for (size_t j = 0; j < n->nparam_floats; j++)
				dir[j] = 0;
			for (int i = 0; i < n->nparams; i++) {
				const struct net_param *v = &n->params[i];

				if (v->module == m)
					for (size_t j = v->offset; j < v->offset + v->count; j++)
						dir[j] = kind ? rng_normal(r) : grad[j];
			}
			for (size_t j = 0; j < n->nparam_floats; j++)
				norm += dir[j] * dir[j];
			norm = sqrt(norm);
			for (size_t j = 0; j < n->nparam_floats; j++) {
				dir[j] /= norm;
				an += dir[j] * grad[j];
			}
			for (size_t j = 0; j < n->nparam_floats; j++)
				n->param[j] = (float)(keep[j] + h * dir[j]);
			lp = loss(p);
			for (size_t j = 0; j < n->nparam_floats; j++)
				n->param[j] = (float)(keep[j] - h * dir[j]);
			lm = loss(p);
			memcpy(n->param, keep, sizeof(float) * n->nparam_floats);
			checks++;
			if (fabs((lp - lm) / (2 * h) - an) > rtol * gnorm) {
				bad++;
				diag("%s: module %s, %s direction: analytic %.6g numeric %.6g (|g| %.3g)",
				     name, n->modules[m].name, kind ? "random" : "gradient", an,
				     (lp - lm) / (2 * h), gnorm);
			}
		}
	}
	free(grad);
	free(keep);
	free(dir);
	return ok(!bad, "%s: %d directional derivatives per module", name, checks);
}

static float *randn(struct rng *r, size_t n)
{
	float *v = xmalloc(sizeof(float) * n);

	for (size_t i = 0; i < n; i++)
		v[i] = (float)rng_normal(r);
	return v;
}

static void op_case(int op, int cin, int hw, int F, int stride, struct rng *r)
{
	char name[96];
	struct net *n = net_create_op(op, cin, hw, hw, F, stride, 2, r);
	struct probe p;
	const struct net_tensor *o;
	float *R;

	snprintf(name, sizeof(name), "%s C_in %d -> %d, %dx%d, stride %d", op_name(op), cin, F, hw,
		 hw, stride);
	if (!ok(n != NULL, "%s builds", name))
		return;
	o = &n->tensors[n->output];
	p.n = n;
	p.x = randn(r, (size_t)2 * cin * hw * hw);
	R = randn(r, (size_t)2 * o->C * o->H * o->W);
	p.R = R;
	p.labels = NULL;
	ok(o->C == F && o->H == (hw + stride - 1) / stride, "%s: output %dx%dx%d", name, o->C, o->H,
	   o->W);
	check(&p, r, 2, 1e-3, 3e-3, 2e-2, name);
	free(p.x);
	free(R);
	net_free(n);
}

static void cell_case(const struct cell *c, int reduce, int F, int cc, int ch, int pc, int ph,
		      const char *what, struct rng *r)
{
	struct net *n = net_create_cell(c, reduce, F, cc, ch, ch, pc, ph, ph, 2, r);
	struct probe p;
	float *R;
	const struct net_tensor *o;

	if (!ok(n != NULL, "%s builds", what))
		return;
	o = &n->tensors[n->output];
	p.n = n;
	p.x = randn(r, (size_t)2 * cc * ch * ch);
	if (n->input2 >= 0) {
		float *v = randn(r, (size_t)2 * pc * ph * ph);

		memcpy(net_value(n, n->input2), v, sizeof(float) * 2 * pc * ph * ph);
		free(v);
	}
	R = randn(r, (size_t)2 * o->C * o->H * o->W);
	p.R = R;
	p.labels = NULL;
	check(&p, r, 2, 1e-3, 3e-3, 2e-2, what);
	free(p.x);
	free(R);
	net_free(n);
}

static void network_case(struct rng *r)
{
	struct genotype g;
	struct macro_config m;
	struct net *n;
	struct probe p;
	int32_t labels[2] = { 3, 7 };

	genotype_builtin(&g, "nasnet-a");
	memset(&m, 0, sizeof(m));
	m.stem = STEM_CIFAR;
	m.cells = 1;
	m.filters = 4;
	m.in_c = 2;
	m.in_h = m.in_w = 15;
	m.classes = 10;
	m.aux = 1;
	m.bn_momentum = 0.1f;
	m.bn_eps = 1e-3f;
	m.dropout_keep = 1;
	n = net_create(&g, &m, 2, r);
	if (!ok(n != NULL, "small NASNet-A network builds"))
		return;
	net_set_loss(n, 0.4f, 0.1f);
	p.n = n;
	p.x = randn(r, (size_t)2 * 2 * 15 * 15);
	p.R = NULL;
	p.labels = labels;
	check_modules(&p, r, 1e-4, 2e-2, "whole NASNet-A N=1 F=4 15x15 (aux 0.4, smoothing 0.1)");
	free(p.x);
	net_free(n);
}

int main(void)
{
	struct rng r;
	struct genotype g;

	rng_seed(&r, 42);
	for (int op = 0; op < OP_COUNT; op++) {
		op_case(op, 4, 7, 4, 1, &r);
		op_case(op, 6, 8, 4, 2, &r);
		op_case(op, 3, 6, 4, 1, &r);
		op_case(op, 4, 5, 4, 2, &r);
	}
	genotype_builtin(&g, "nasnet-a");
	cell_case(&g.normal, 0, 4, 6, 6, 8, 12, "NASNet-A Normal cell, prev reduced (FR)", &r);
	cell_case(&g.normal, 0, 4, 6, 5, 0, 0, "NASNet-A Normal cell, no prev cell", &r);
	cell_case(&g.reduce, 1, 4, 6, 7, 5, 7, "NASNet-A Reduction cell, prev 1x1", &r);
	network_case(&r);
	return tap_exit();
}
