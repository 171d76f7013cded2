/*
 * test_net_counts.c - the exact parameter and mult-add counts, per-module
 * counts and endpoint shapes of nasnet-facts.md 3.2 and 4.2, computed from
 * plan-only networks (batch 0, no allocation); plus DARTS-V2 (B=4), a
 * concat-combine genotype and N=1 children that build and run a step.
 */
#include <math.h>
#include <string.h>

#include <unistd.h>

#include "genofile.h"
#include "genotype.h"
#include "netfile.h"
#include "net.h"
#include "rng.h"
#include "../tap.h"
#include "util.h"


static void set_block(struct block *b, int in0, int op0, int in1, int op1)
{
	b->in[0] = in0;
	b->op[0] = op0;
	b->in[1] = in1;
	b->op[1] = op1;
	b->combine = COMBINE_ADD;
}

/* NASNet-A of nasnet-facts.md 2.1, TF indexing and TF concat lists */
static void nasnet_a(struct genotype *g)
{
	struct cell *n = &g->normal, *r = &g->reduce;
	static const int ncat[] = { 1, 2, 3, 4, 5, 6 }, rcat[] = { 3, 4, 5, 6 };

	memset(g, 0, sizeof(*g));
	snprintf(g->space, sizeof(g->space), "nasnet");
	n->nblocks = r->nblocks = 5;
	set_block(&n->b[0], 0, OP_SEP_CONV_5X5, 1, OP_SEP_CONV_3X3);
	set_block(&n->b[1], 1, OP_SEP_CONV_5X5, 1, OP_SEP_CONV_3X3);
	set_block(&n->b[2], 0, OP_AVG_POOL_3X3, 1, OP_IDENTITY);
	set_block(&n->b[3], 1, OP_AVG_POOL_3X3, 1, OP_AVG_POOL_3X3);
	set_block(&n->b[4], 0, OP_SEP_CONV_3X3, 0, OP_IDENTITY);
	n->nconcat = 6;
	memcpy(n->concat, ncat, sizeof(ncat));
	set_block(&r->b[0], 0, OP_SEP_CONV_5X5, 1, OP_SEP_CONV_7X7);
	set_block(&r->b[1], 0, OP_MAX_POOL_3X3, 1, OP_SEP_CONV_7X7);
	set_block(&r->b[2], 0, OP_AVG_POOL_3X3, 1, OP_SEP_CONV_5X5);
	set_block(&r->b[3], 3, OP_IDENTITY, 2, OP_AVG_POOL_3X3);
	set_block(&r->b[4], 2, OP_SEP_CONV_3X3, 0, OP_MAX_POOL_3X3);
	r->nconcat = 4;
	memcpy(r->concat, rcat, sizeof(rcat));
}

static void macro(struct macro_config *m, int stem, int N, int F, int c, int h, int classes)
{
	memset(m, 0, sizeof(*m));
	m->stem = stem;
	m->cells = N;
	m->filters = F;
	m->in_c = c;
	m->in_h = m->in_w = h;
	m->classes = classes;
	m->bn_momentum = 0.1f;
	m->bn_eps = 1e-3f;
	m->dropout_keep = 1;
}

static const struct net_module *module(const struct net *n, const char *name)
{
	for (int i = 0; i < n->nmodules; i++)
		if (!strcmp(n->modules[i].name, name))
			return &n->modules[i];
	return NULL;
}

static int64_t mparams(const struct net *n, const char *name)
{
	const struct net_module *m = module(n, name);

	return m ? m->params : -1;
}

/* (H, C) of a module's output */
static int shape_is(const struct net *n, const char *name, int H, int C)
{
	const struct net_module *m = module(n, name);
	const struct net_tensor *t;

	if (!m)
		return 0;
	t = &n->tensors[m->out];
	if (t->H != H || t->W != H || t->C != C) {
		diag("%s: %dx%dx%d, want %dx%dx%d", name, t->C, t->H, t->W, C, H, H);
		return 0;
	}
	return 1;
}

static int64_t prefix_params(const struct net *n, const char *prefix)
{
	int64_t s = 0;

	for (int i = 0; i < n->nparams; i++)
		if (!strncmp(n->params[i].name, prefix, strlen(prefix)))
			s += (int64_t)n->params[i].count;
	return s;
}

static void test_mobile(const struct genotype *g)
{
	struct macro_config m;
	struct net *n;
	int ok_shapes = 1;
	char name[32];

	macro(&m, STEM_IMAGENET, 4, 44, 3, 224, 1000);
	n = net_create(g, &m, 0, NULL);
	if (!ok(n != NULL, "mobile 4@1056 builds"))
		return;
	ok(n->param == NULL && n->act == NULL, "plan-only build allocates nothing");
	ok(n->n_params == 5289978, "mobile params %lld == 5,289,978", (long long)n->n_params);
	ok(n->n_macs == 563638816, "mobile mult_adds %lld == 563,638,816", (long long)n->n_macs);
	ok(mparams(n, "stem") == 928, "mobile stem conv 928 (%lld)", (long long)mparams(n, "stem"));
	ok(mparams(n, "cell_stem_0") == 8534 && mparams(n, "cell_stem_1") == 13948,
	   "mobile stem cells 8,534 and 13,948 (%lld, %lld)", (long long)mparams(n, "cell_stem_0"),
	   (long long)mparams(n, "cell_stem_1"));
	ok(mparams(n, "cell_0") == 33000 && mparams(n, "cell_1") == 42680 &&
	   mparams(n, "cell_2") == 50424 && mparams(n, "cell_3") == 50424,
	   "mobile first normal cells 33,000 / 42,680 / 50,424 / 50,424");
	ok(mparams(n, "reduction_cell_0") == 153648 && mparams(n, "reduction_cell_1") == 555104,
	   "mobile reduction cells 153,648 and 555,104 (%lld, %lld)",
	   (long long)mparams(n, "reduction_cell_0"), (long long)mparams(n, "reduction_cell_1"));
	ok(mparams(n, "cell_10") == 712800 && mparams(n, "cell_11") == 712800,
	   "mobile last cells 712,800 (%lld)", (long long)mparams(n, "cell_11"));
	ok(mparams(n, "fc") == 1057000, "mobile fc 1,057,000");
	ok_shapes &= shape_is(n, "cell_stem_1", 28, 88);
	for (int c = 0; c < 12; c++) {
		snprintf(name, sizeof(name), "cell_%d", c);
		ok_shapes &= shape_is(n, name, c < 4 ? 28 : c < 8 ? 14 : 7,
				      c < 4 ? 264 : c < 8 ? 528 : 1056);
	}
	ok_shapes &= shape_is(n, "reduction_cell_0", 14, 352);
	ok_shapes &= shape_is(n, "reduction_cell_1", 7, 704);
	ok(ok_shapes, "mobile endpoint shapes (28,88 / 28,264 / 14,352 / 14,528 / 7,704 / 7,1056)");
	net_free(n);
}

static void test_cifar(const struct genotype *g)
{
	static const int64_t want[] = { 40384, 25152, 28224, 28224, 28224, 28224,
					81024, 93312, 101504, 101504, 101504, 101504,
					301312, 350464, 383232, 383232, 383232, 383232 };
	struct macro_config m;
	struct net *n;
	int good = 1, ok_shapes = 1;
	char name[32];

	macro(&m, STEM_CIFAR, 6, 32, 3, 32, 10);
	n = net_create(g, &m, 0, NULL);
	if (!ok(n != NULL, "cifar 6@768 builds"))
		return;
	ok(n->n_params == 3346538, "cifar 6@768 params %lld == 3,346,538", (long long)n->n_params);
	ok(n->n_macs == 544333312, "cifar 6@768 mult_adds %lld == 544,333,312",
	   (long long)n->n_macs);
	ok(mparams(n, "stem") == 2784, "cifar stem 2,784");
	for (int c = 0; c < 18; c++) {
		snprintf(name, sizeof(name), "cell_%d", c);
		if (mparams(n, name) != want[c]) {
			diag("%s: %lld params, want %lld", name, (long long)mparams(n, name),
			     (long long)want[c]);
			good = 0;
		}
		ok_shapes &= shape_is(n, name, c < 6 ? 32 : c < 12 ? 16 : 8,
				      c < 6 ? 192 : c < 12 ? 384 : 768);
	}
	ok(good, "cifar 6@768 per-cell params (40,384 ... 383,232)");
	ok(mparams(n, "reduction_cell_0") == 87168 && mparams(n, "reduction_cell_1") == 305408,
	   "cifar reductions 87,168 and 305,408");
	ok(mparams(n, "fc") == 7690, "cifar fc 7,690");
	ok_shapes &= shape_is(n, "stem", 32, 96);
	ok_shapes &= shape_is(n, "reduction_cell_0", 16, 256);
	ok_shapes &= shape_is(n, "reduction_cell_1", 8, 512);
	ok(ok_shapes, "cifar endpoint shapes (32,96 / 32,192 / 16,256 / 16,384 / 8,512 / 8,768)");
	ok(prefix_params(n, "cell_1/block_4/op_a/") == 2752,
	   "3x3 separable op at F=32: 2,752 params");
	ok(prefix_params(n, "cell_1/block_0/op_a/") == 3776,
	   "5x5 separable op at F=32: 3,776 params");
	net_free(n);

	macro(&m, STEM_CIFAR, 2, 16, 3, 32, 10);
	n = net_create(g, &m, 0, NULL);
	ok(n && n->n_params == 363194, "cifar N=2 F=16 params %lld == 363,194",
	   n ? (long long)n->n_params : -1LL);
	net_free(n);
}

static void test_large(const struct genotype *g)
{
	struct macro_config m;
	struct net *n;
	int s = 1;

	macro(&m, STEM_IMAGENET, 6, 168, 3, 331, 1001);
	n = net_create(g, &m, 0, NULL);
	if (!ok(n != NULL, "large 6@4032 builds (plan only)"))
		return;
	s &= shape_is(n, "cell_stem_1", 42, 336);
	s &= shape_is(n, "cell_0", 42, 1008) && shape_is(n, "cell_5", 42, 1008);
	s &= shape_is(n, "reduction_cell_0", 21, 1344);
	s &= shape_is(n, "cell_6", 21, 2016) && shape_is(n, "cell_11", 21, 2016);
	s &= shape_is(n, "reduction_cell_1", 11, 2688);
	s &= shape_is(n, "cell_12", 11, 4032) && shape_is(n, "cell_17", 11, 4032);
	ok(s, "large endpoint shapes (42,336 / 42,1008 / 21,1344 / 21,2016 / 11,2688 / 11,4032)");
	net_free(n);
}

static void test_sep7(void)
{
	struct net *n;

	for (int op = OP_SEP_CONV_3X3; op <= OP_SEP_CONV_7X7; op++) {
		static const int64_t want[] = { 2752, 3776, 5312 };

		n = net_create_op(op, 32, 8, 8, 32, 1, 0, NULL);
		ok(n && n->n_params == want[op - OP_SEP_CONV_3X3], "%s op at F=32: %lld params",
		   op_name(op), n ? (long long)n->n_params : -1LL);
		net_free(n);
	}
}

/* build, init and run one training step; the loss must be finite */
static void run_step(const struct genotype *g, const struct macro_config *m, const char *what)
{
	struct rng r, d;
	struct net *n;
	float *img, loss = NAN;
	int32_t lab[4] = { 0, 1, 2, 3 };
	size_t ni = (size_t)m->in_c * m->in_h * m->in_w * 4;
	int finite = 1;

	rng_seed(&r, 7);
	rng_seed(&d, 8);
	n = net_create(g, m, 4, &r);
	if (!ok(n != NULL, "%s builds", what))
		return;
	img = xmalloc(sizeof(float) * ni);
	for (size_t i = 0; i < ni; i++)
		img[i] = (float)rng_normal(&r);
	net_set_loss(n, 0.4f, 0.1f);
	net_forward(n, img, lab, 1, 0.7f, 0.5f, &d, &loss);
	net_backward(n);
	for (size_t i = 0; i < n->nparam_floats; i++)
		finite &= isfinite(n->grad[i]);
	ok(isfinite(loss) && finite, "%s runs a step (params %lld, loss %.4f)", what,
	   (long long)n->n_params, (double)loss);
	free(img);
	net_free(n);
}

static void test_others(const struct genotype *nas)
{
	struct genotype g;
	struct macro_config m;

	/* DARTS-V2 (B=4), TF indexing: DARTS's 0/1 swapped */
	memset(&g, 0, sizeof(g));
	snprintf(g.space, sizeof(g.space), "darts");
	g.normal.nblocks = g.reduce.nblocks = 4;
	set_block(&g.normal.b[0], 1, OP_SEP_CONV_3X3, 0, OP_SEP_CONV_3X3);
	set_block(&g.normal.b[1], 1, OP_SEP_CONV_3X3, 0, OP_SEP_CONV_3X3);
	set_block(&g.normal.b[2], 0, OP_SEP_CONV_3X3, 1, OP_IDENTITY);
	set_block(&g.normal.b[3], 1, OP_IDENTITY, 2, OP_DIL_SEP_CONV_3X3);
	set_block(&g.reduce.b[0], 1, OP_MAX_POOL_3X3, 0, OP_MAX_POOL_3X3);
	set_block(&g.reduce.b[1], 2, OP_IDENTITY, 0, OP_MAX_POOL_3X3);
	set_block(&g.reduce.b[2], 1, OP_MAX_POOL_3X3, 2, OP_IDENTITY);
	set_block(&g.reduce.b[3], 2, OP_IDENTITY, 0, OP_MAX_POOL_3X3);
	g.normal.nconcat = g.reduce.nconcat = 4;
	for (int i = 0; i < 4; i++)
		g.normal.concat[i] = g.reduce.concat[i] = 2 + i;
	macro(&m, STEM_CIFAR, 1, 8, 1, 12, 10);
	m.aux = 1;
	run_step(&g, &m, "darts-v2 (B=4) N=1 F=8 with aux");

	/* every op once, concat combines, paper-rule concat lists */
	g = *nas;
	for (int b = 0; b < 5; b++) {
		g.normal.b[b].combine = b % 2 ? COMBINE_CONCAT : COMBINE_ADD;
		g.reduce.b[b].combine = b % 2 ? COMBINE_ADD : COMBINE_CONCAT;
		for (int j = 0; j < 2; j++) {
			g.normal.b[b].op[j] = (2 * b + j) % OP_COUNT;
			g.reduce.b[b].op[j] = (2 * b + j + 10) % OP_COUNT;
		}
	}
	cell_concat_unused(&g.normal);
	cell_concat_unused(&g.reduce);
	macro(&m, STEM_CIFAR, 1, 8, 3, 11, 10);
	m.dropout_keep = 0.5f;
	run_step(&g, &m, "concat-combine genotype with every op, N=1, 11x11");

	macro(&m, STEM_IMAGENET, 1, 8, 3, 33, 10);
	run_step(nas, &m, "nasnet-a imagenet stem N=1 F=8 33x33");
	macro(&m, STEM_CIFAR, 1, 8, 1, 28, 10);
	m.aux = 1;
	run_step(nas, &m, "nasnet-a cifar stem N=1 F=8 28x28 with aux");
}

/* write a network file, read it back into a network built from the file alone */
static void test_netfile(void)
{
	struct genofile gf, back;
	struct provenance prov = { "test_net_counts", 0, NULL, 1, 1 };
	struct rng r;
	struct net *a, *b, *c;
	char path[64];
	struct macro_config m2;

	snprintf(path, sizeof(path), "/tmp/test_net_counts.%d.h5", (int)getpid());
	genofile_init(&gf);
	genotype_builtin(&gf.geno, "nasnet-a");
	rng_seed(&r, 11);
	a = net_create(&gf.geno, &gf.cfg.macro, 0, &r);
	for (size_t i = 0; i < a->nbuffer_floats; i++)
		a->buffer[i] = (float)i;
	ok(netfile_write(path, a, &gf, NULL, &prov) == 0, "netfile_write");
	ok(netfile_read_genofile(path, &back) == 0 && back.cfg.macro.filters == gf.cfg.macro.filters &&
	   !memcmp(&back.geno.normal, &gf.geno.normal, sizeof(gf.geno.normal)),
	   "the file names its genotype and macro configuration");
	b = net_create(&back.geno, &back.cfg.macro, 0, NULL);
	ok(b && netfile_read_into(path, b) == 0 &&
	   !memcmp(a->param, b->param, sizeof(float) * a->nparam_floats) &&
	   !memcmp(a->buffer, b->buffer, sizeof(float) * a->nbuffer_floats),
	   "netfile_read_into restores every parameter and buffer");
	m2 = gf.cfg.macro;
	m2.filters += 2;
	c = net_create(&gf.geno, &m2, 0, NULL);
	ok(c && netfile_read_into(path, c) < 0, "a file of another network is refused");
	unlink(path);
	a->param[a->nparam_floats / 2] = NAN;
	ok(netfile_write(path, a, &gf, NULL, &prov) < 0 && access(path, F_OK) < 0,
	   "netfile_write refuses a non-finite weight and writes nothing");
	net_free(a);
	net_free(b);
	net_free(c);
}

int main(void)
{
	struct genotype g, b;
	double t0 = now_seconds();

	nasnet_a(&g);
	if (ok(genotype_builtin(&b, "nasnet-a") == 0, "builtin nasnet-a exists"))
		ok(!memcmp(&b.normal, &g.normal, sizeof(g.normal)) &&
		   !memcmp(&b.reduce, &g.reduce, sizeof(g.reduce)),
		   "builtin nasnet-a is the fact sheet's table");
	test_mobile(&g);
	test_cifar(&g);
	test_large(&g);
	test_sep7();
	/* a diagnostic, not a test: timings belong in make bench, not in make test */
	printf("# counting took %.3f s\n", now_seconds() - t0);
	test_others(&g);
	test_netfile();
	return tap_exit();
}
