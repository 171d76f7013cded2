/*
 * onnx.c - the ONNX export (onnx.h). The model is built as protobuf-c
 * messages (build/gen/onnx.pb-c.h, generated from Debian's onnx.proto) whose
 * memory all comes from one small arena, packed once and written atomically.
 */
#include "onnx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "gen/onnx.pb-c.h"
#include "gitrev.h"
#include "util.h"

/* every allocation of the model, freed together */
struct arena {
	void **p;
	size_t n, cap;
};

static void *anew(struct arena *a, size_t size)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 1024;
		a->p = xrealloc(a->p, a->cap * sizeof *a->p);
	}
	return a->p[a->n++] = xcalloc(1, size ? size : 1);
}

static char *astr(struct arena *a, const char *s)
{
	char *d = anew(a, strlen(s) + 1);

	memcpy(d, s, strlen(s));
	return d;
}

static char *afmt(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *afmt(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		return astr(a, "");
	anew(a, 0);   /* a slot to own s */
	free(a->p[a->n - 1]);
	a->p[a->n - 1] = s;
	return s;
}

static void arena_free(struct arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->p[i]);
	free(a->p);
}

/* the graph under construction */
struct gb {
	struct arena *a;
	Onnx__GraphProto *g;
	size_t cap_node, cap_init;
	const char **name;   /* ONNX name of each network tensor */
	int nnode;           /* counter for unique node names */
};

#define PUSH(a, arr, n, cap, v)                                                   \
	do {                                                                      \
		if ((n) == (cap)) {                                               \
			void *grown_ = anew((a), 2 * ((cap) + 8) * sizeof(*(arr))); \
			if (n)                                                    \
				memcpy(grown_, (arr), (n) * sizeof(*(arr)));      \
			(arr) = grown_;                                           \
			(cap) = 2 * ((cap) + 8);                                  \
		}                                                                 \
		(arr)[(n)++] = (v);                                               \
	} while (0)

static Onnx__AttributeProto *attr_ints(struct arena *a, const char *name, int n, const int *v)
{
	Onnx__AttributeProto *at = anew(a, sizeof *at);

	onnx__attribute_proto__init(at);
	at->name = astr(a, name);
	at->has_type = 1;
	at->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
	at->n_ints = (size_t)n;
	at->ints = anew(a, sizeof(int64_t) * (size_t)n);
	for (int i = 0; i < n; i++)
		at->ints[i] = v[i];
	return at;
}

static Onnx__AttributeProto *attr_int(struct arena *a, const char *name, int64_t v)
{
	Onnx__AttributeProto *at = anew(a, sizeof *at);

	onnx__attribute_proto__init(at);
	at->name = astr(a, name);
	at->has_type = 1;
	at->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
	at->has_i = 1;
	at->i = v;
	return at;
}

static Onnx__AttributeProto *attr_float(struct arena *a, const char *name, float v)
{
	Onnx__AttributeProto *at = anew(a, sizeof *at);

	onnx__attribute_proto__init(at);
	at->name = astr(a, name);
	at->has_type = 1;
	at->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
	at->has_f = 1;
	at->f = v;
	return at;
}

/* a node op(inputs) -> out with up to 6 attributes (NULL-terminated) */
static Onnx__NodeProto *node(struct gb *b, const char *op, const char *out, int nin,
			     const char *const *in)
{
	struct arena *a = b->a;
	Onnx__NodeProto *nd = anew(a, sizeof *nd);

	onnx__node_proto__init(nd);
	nd->op_type = astr(a, op);
	nd->name = afmt(a, "%s_%d", op, b->nnode++);
	nd->n_input = (size_t)nin;
	nd->input = anew(a, sizeof(char *) * (size_t)nin);
	for (int i = 0; i < nin; i++)
		nd->input[i] = (char *)in[i];
	nd->n_output = 1;
	nd->output = anew(a, sizeof(char *));
	nd->output[0] = (char *)out;
	nd->attribute = anew(a, sizeof(Onnx__AttributeProto *) * 6);
	PUSH(a, b->g->node, b->g->n_node, b->cap_node, nd);
	return nd;
}

static void add_attr(Onnx__NodeProto *nd, Onnx__AttributeProto *at)
{
	nd->attribute[nd->n_attribute++] = at;
}

/* a float32 initializer of the given shape (values copied) */
static const char *init_f32(struct gb *b, const char *name, int rank, const int64_t *dims,
			    const float *v)
{
	struct arena *a = b->a;
	Onnx__TensorProto *t = anew(a, sizeof *t);
	size_t count = 1;

	onnx__tensor_proto__init(t);
	t->name = astr(a, name);
	t->has_data_type = 1;
	t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	t->n_dims = (size_t)rank;
	t->dims = anew(a, sizeof(int64_t) * (size_t)rank);
	for (int i = 0; i < rank; i++) {
		t->dims[i] = dims[i];
		count *= (size_t)dims[i];
	}
	t->n_float_data = count;
	t->float_data = anew(a, sizeof(float) * count);
	memcpy(t->float_data, v, sizeof(float) * count);
	PUSH(a, b->g->initializer, b->g->n_initializer, b->cap_init, t);
	return t->name;
}

/* a parameter (or buffer) view as an initializer under its own name */
static const char *init_view(struct gb *b, const struct net_param *v, const float *base, int rank,
			     const int64_t *dims)
{
	int64_t d[4];

	if (!dims) {
		for (int i = 0; i < v->rank; i++)
			d[i] = v->dims[i];
		rank = v->rank;
		dims = d;
	}
	return init_f32(b, v->name, rank, dims, base + v->offset);
}

static const char *P(struct gb *b, const struct net *n, int id)
{
	return init_view(b, &n->params[id], n->param, 0, NULL);
}

static const char *BUF(struct gb *b, const struct net *n, int id)
{
	return init_view(b, &n->buffers[id], n->buffer, 0, NULL);
}

/* kernel_shape, strides, dilations and explicit pads of a window; the
 * bottom/right pads are whatever makes ONNX's floor formula give OH, OW */
static void window_attrs(struct gb *b, Onnx__NodeProto *nd, const struct conv_shape *cs,
			 int dilations)
{
	int ph = (cs->OH - 1) * cs->sh + (cs->kh - 1) * cs->dil + 1 - cs->H - cs->pt;
	int pw = (cs->OW - 1) * cs->sw + (cs->kw - 1) * cs->dil + 1 - cs->W - cs->pl;
	int k[2] = { cs->kh, cs->kw }, s[2] = { cs->sh, cs->sw }, d[2] = { cs->dil, cs->dil };
	int pads[4] = { cs->pt, cs->pl, ph > 0 ? ph : 0, pw > 0 ? pw : 0 };

	add_attr(nd, attr_ints(b->a, "kernel_shape", 2, k));
	add_attr(nd, attr_ints(b->a, "strides", 2, s));
	if (dilations)
		add_attr(nd, attr_ints(b->a, "dilations", 2, d));
	add_attr(nd, attr_ints(b->a, "pads", 4, pads));
}

static void conv_node(struct gb *b, const char *out, const char *in, const char *w,
		      const struct conv_shape *cs, int group)
{
	const char *ins[2] = { in, w };
	Onnx__NodeProto *nd = node(b, "Conv", out, 2, ins);

	window_attrs(b, nd, cs, 1);
	add_attr(nd, attr_int(b->a, "group", group));
}

/* the factorized reduction: path 1 reads in[0::2, 0::2], path 2 in[1::2, 1::2]
 * (zero past the edge): a 2x2 stride-2 kernel that is zero but at (1, 1),
 * with one row and column of zero padding at the end */
static int factred_nodes(struct gb *b, const struct net *n, const struct net_step *s)
{
	const struct net_tensor *ti = &n->tensors[s->in[0]], *to = &n->tensors[s->out];
	const struct net_param *w1 = &n->params[s->p[0]], *w2 = &n->params[s->p[1]];
	int half = to->C / 2, C = ti->C;
	int64_t d1[4] = { half, C, 1, 1 }, d2[4] = { half, C, 2, 2 };
	float *k2 = xcalloc((size_t)half * C * 4, sizeof *k2);
	const float *src = n->param + w2->offset;
	const char *p1 = afmt(b->a, "t%d_path1", s->out), *p2 = afmt(b->a, "t%d_path2", s->out);
	const char *name1, *name2, *cat[2] = { p1, p2 };
	struct conv_shape c1 = { 1, C, ti->H, ti->W, half, 1, 1, 2, 2, 1, to->H, to->W, 0, 0 };
	struct conv_shape c2 = { 1, C, ti->H, ti->W, half, 2, 2, 2, 2, 1, to->H, to->W, 0, 0 };
	Onnx__NodeProto *nd;

	for (size_t i = 0; i < (size_t)half * C; i++)
		k2[i * 4 + 3] = src[i];
	name1 = init_view(b, w1, n->param, 4, d1);
	name2 = init_f32(b, afmt(b->a, "%s_2x2", w2->name), 4, d2, k2);
	free(k2);
	conv_node(b, p1, b->name[s->in[0]], name1, &c1, 1);
	conv_node(b, p2, b->name[s->in[0]], name2, &c2, 1);
	nd = node(b, "Concat", b->name[s->out], 2, cat);
	add_attr(nd, attr_int(b->a, "axis", 1));
	return 0;
}

static int step_nodes(struct gb *b, const struct net *n, const struct net_step *s)
{
	struct arena *a = b->a;
	const char *out = b->name[s->out], *in = b->name[s->in[0]];
	const char *ins[NET_MAX_IN];
	Onnx__NodeProto *nd;

	switch (s->kind) {
	case STEP_CONV:
		conv_node(b, out, in, P(b, n, s->p[0]), &s->cs, 1);
		break;
	case STEP_DWCONV:
		conv_node(b, out, in, P(b, n, s->p[0]), &s->cs, s->cs.C);
		break;
	case STEP_BN:
		ins[0] = in;
		ins[1] = P(b, n, s->p[0]);
		ins[2] = P(b, n, s->p[1]);
		ins[3] = BUF(b, n, s->b[0]);
		ins[4] = BUF(b, n, s->b[1]);
		nd = node(b, "BatchNormalization", out, 5, ins);
		add_attr(nd, attr_float(a, "epsilon", n->macro.bn_eps));
		break;
	case STEP_RELU:
		node(b, "Relu", out, 1, &in);
		break;
	case STEP_ADD:
	case STEP_CONCAT:
		for (int i = 0; i < s->nin; i++)
			ins[i] = b->name[s->in[i]];
		nd = node(b, s->kind == STEP_ADD ? "Add" : "Concat", out, s->nin, ins);
		if (s->kind == STEP_CONCAT)
			add_attr(nd, attr_int(a, "axis", 1));
		break;
	case STEP_AVGPOOL:
		nd = node(b, "AveragePool", out, 1, &in);
		window_attrs(b, nd, &s->cs, 0);
		add_attr(nd, attr_int(a, "count_include_pad", 0));
		break;
	case STEP_MAXPOOL:
		nd = node(b, "MaxPool", out, 1, &in);
		window_attrs(b, nd, &s->cs, 0);
		break;
	case STEP_FACTRED:
		return factred_nodes(b, n, s);
	case STEP_GAP:
		node(b, "GlobalAveragePool", out, 1, &in);
		break;
	case STEP_LINEAR: {
		const char *flat = afmt(a, "t%d_flat", s->in[0]);

		nd = node(b, "Flatten", flat, 1, &in);
		add_attr(nd, attr_int(a, "axis", 1));
		ins[0] = flat;
		ins[1] = P(b, n, s->p[0]);
		ins[2] = P(b, n, s->p[1]);
		nd = node(b, "Gemm", out, 3, ins);
		add_attr(nd, attr_int(a, "transB", 1));
		break;
	}
	case STEP_DROPPATH:
	case STEP_DROPOUT:
		/* identity at inference: the output is the input under its name */
		b->name[s->out] = in;
		break;
	default:
		return error("step kind %d has no ONNX form", s->kind);
	}
	return 0;
}

static Onnx__ValueInfoProto *value_info(struct arena *a, const char *name, int rank,
					const int64_t *dims)
{
	Onnx__ValueInfoProto *v = anew(a, sizeof *v);
	Onnx__TypeProto *t = anew(a, sizeof *t);
	Onnx__TypeProto__Tensor *tt = anew(a, sizeof *tt);
	Onnx__TensorShapeProto *sh = anew(a, sizeof *sh);

	onnx__value_info_proto__init(v);
	onnx__type_proto__init(t);
	onnx__type_proto__tensor__init(tt);
	onnx__tensor_shape_proto__init(sh);
	sh->n_dim = (size_t)rank;
	sh->dim = anew(a, sizeof *sh->dim * (size_t)rank);
	for (int i = 0; i < rank; i++) {
		Onnx__TensorShapeProto__Dimension *d = anew(a, sizeof *d);

		onnx__tensor_shape_proto__dimension__init(d);
		if (dims[i] < 0) {   /* the batch */
			d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
			d->dim_param = astr(a, "N");
		} else {
			d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
			d->dim_value = dims[i];
		}
		sh->dim[i] = d;
	}
	tt->has_elem_type = 1;
	tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	tt->shape = sh;
	t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
	t->tensor_type = tt;
	v->name = astr(a, name);
	v->type = t;
	return v;
}

static Onnx__StringStringEntryProto *prop(struct arena *a, const char *key, const char *value)
{
	Onnx__StringStringEntryProto *p = anew(a, sizeof *p);

	onnx__string_string_entry_proto__init(p);
	p->key = astr(a, key);
	p->value = astr(a, value);
	return p;
}

static char *join_floats(struct arena *a, const float *v, int n)
{
	char *s = anew(a, (size_t)n * 20 + 1);
	size_t len = 0;

	for (int i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "%s%.9g", i ? " " : "", (double)v[i]);
	return s;
}

static char *join_lines(struct arena *a, char *const *v, int n)
{
	size_t len = 1, at = 0;
	char *s;

	for (int i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	s = anew(a, len);
	for (int i = 0; i < n; i++)
		at += (size_t)sprintf(s + at, "%s%s", i ? "\n" : "", v[i]);
	return s;
}

/* image -> image * scale - shift = (image / 255 - mean) / std, as batch_fill;
 * a 1x1 depthwise Conv with a bias, which every runtime runs per channel
 * (OpenCV 4.6 fails on a per-channel Sub for batches above 1) */
static void normalise_nodes(struct gb *b, const struct net *n, const struct netfile_meta *m)
{
	int C = n->macro.in_c;
	float scale[4], shift[4];
	int64_t wdims[4] = { C, 1, 1, 1 }, bdims[1] = { C };
	struct conv_shape cs = { 1, C, n->macro.in_h, n->macro.in_w, C, 1, 1, 1, 1, 1,
				 n->macro.in_h, n->macro.in_w, 0, 0 };
	const char *ins[3];
	Onnx__NodeProto *nd;

	for (int c = 0; c < C; c++) {
		scale[c] = 1.0f / (255.0f * m->std[c]);
		shift[c] = -(m->mean[c] / m->std[c]);
	}
	ins[0] = "image";
	ins[1] = init_f32(b, "normalise/scale", 4, wdims, scale);
	ins[2] = init_f32(b, "normalise/shift", 1, bdims, shift);
	nd = node(b, "Conv", b->name[n->input], 3, ins);
	window_attrs(b, nd, &cs, 1);
	add_attr(nd, attr_int(b->a, "group", C));
}

int onnx_export(const char *path, const struct net *n, const struct netfile_meta *m,
		const char *source)
{
	struct arena a = { 0 };
	Onnx__ModelProto model;
	Onnx__GraphProto graph;
	Onnx__OperatorSetIdProto opset;
	Onnx__OperatorSetIdProto *opsets[1] = { &opset };
	Onnx__StringStringEntryProto *props[10];
	struct gb b = { &a, &graph, 0, 0, NULL, 0 };
	const struct macro_config *mc = &n->macro;
	int64_t in_dims[4] = { -1, mc->in_c, mc->in_h, mc->in_w }, out_dims[2] = { -1, mc->classes };
	char text[GENOTYPE_TEXT_MAX];
	uint8_t *buf = NULL;
	size_t len;
	int rc = -1, np = 0;

	if (!n->param || !n->buffer)
		return error("%s: the network has no parameters to export", path);
	if (m->channels != mc->in_c || m->nclasses != mc->classes)
		return error("%s: the normalisation has %d channels and %d classes, the network %d "
			     "and %d", path, m->channels, m->nclasses, mc->in_c, mc->classes);
	onnx__model_proto__init(&model);
	onnx__graph_proto__init(&graph);
	onnx__operator_set_id_proto__init(&opset);
	b.name = anew(&a, sizeof(char *) * (size_t)n->ntensors);
	for (int t = 0; t < n->ntensors; t++)
		b.name[t] = afmt(&a, "t%d", t);
	b.name[n->logits] = "logits";
	normalise_nodes(&b, n, m);
	for (int i = 0; i < n->nsteps; i++)
		if (!n->steps[i].aux && step_nodes(&b, n, &n->steps[i]) < 0)
			goto out;
	if (strcmp(b.name[n->logits], "logits")) {
		error("%s: the network's logits are not a step's output", path);
		goto out;
	}
	graph.name = astr(&a, "nasnet_c");
	graph.n_input = 1;
	graph.input = anew(&a, sizeof *graph.input);
	graph.input[0] = value_info(&a, "image", 4, in_dims);
	graph.n_output = 1;
	graph.output = anew(&a, sizeof *graph.output);
	graph.output[0] = value_info(&a, "logits", 2, out_dims);

	genotype_format(&n->geno, text, sizeof text);
	props[np++] = prop(&a, "classes", join_lines(&a, m->classes, m->nclasses));
	props[np++] = prop(&a, "genotype", text);
	props[np++] = prop(&a, "mean", join_floats(&a, m->mean, mc->in_c));
	props[np++] = prop(&a, "std", join_floats(&a, m->std, mc->in_c));
	props[np++] = prop(&a, "input", afmt(&a, "%dx%dx%d", mc->in_c, mc->in_h, mc->in_w));
	props[np++] = prop(&a, "stem", stem_name(mc->stem));
	props[np++] = prop(&a, "nasnet_c_version", NASNET_VERSION);
	props[np++] = prop(&a, "git_revision", NASNET_GIT_REV);
	props[np++] = prop(&a, "source", source ? source : "");
	model.n_metadata_props = (size_t)np;
	model.metadata_props = props;

	model.has_ir_version = 1;
	model.ir_version = ONNX_IR_VERSION;
	opset.domain = astr(&a, "");
	opset.has_version = 1;
	opset.version = ONNX_OPSET;
	model.n_opset_import = 1;
	model.opset_import = opsets;
	model.producer_name = astr(&a, "nasnet-c");
	model.producer_version = astr(&a, NASNET_VERSION);
	model.doc_string = astr(&a, "logits of raw 0..255 pixels (N, C, H, W); "
				    "normalisation included; inference mode");
	model.graph = &graph;

	len = onnx__model_proto__get_packed_size(&model);
	buf = xmalloc(len ? len : 1);
	onnx__model_proto__pack(&model, buf);
	rc = atomic_write_file(path, buf, len);
out:
	free(buf);
	arena_free(&a);
	return rc;
}
