/*
 * test_onnx.c - the structure of exported ONNX models (lib/io/onnx.c), read back
 * with the same protobuf-c code: opset and IR version, the `image` and
 * `logits` signature, a graph whose every input is defined before use, only
 * the documented ops, no aux head, the weights stored unchanged, the
 * factorized reduction's shifted kernel, the metadata; and the refusals
 * (normalisation of another network, an unwritable path leaving nothing).
 * The numbers themselves are checked in real runtimes by t0960.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gen/onnx.pb-c.h"
#include "net.h"
#include "netfile.h"
#include "onnx.h"
#include "rng.h"
#include "../tap.h"
#include "util.h"

static const char *const ops[] = { "Conv", "BatchNormalization", "Relu", "Add", "Concat",
				   "AveragePool", "MaxPool", "GlobalAveragePool", "Flatten",
				   "Gemm" };

static int known_op(const char *op)
{
	for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
		if (!strcmp(op, ops[i]))
			return 1;
	return 0;
}

static Onnx__ModelProto *load(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long len;
	Onnx__ModelProto *m;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = xmalloc((size_t)len + 1);
	if (fread(buf, 1, (size_t)len, f) != (size_t)len)
		len = 0;
	fclose(f);
	m = onnx__model_proto__unpack(NULL, (size_t)len, buf);
	free(buf);
	return m;
}

static const Onnx__TensorProto *initializer(const Onnx__GraphProto *g, const char *name)
{
	for (size_t i = 0; i < g->n_initializer; i++)
		if (!strcmp(g->initializer[i]->name, name))
			return g->initializer[i];
	return NULL;
}

static const char *prop(const Onnx__ModelProto *m, const char *key)
{
	for (size_t i = 0; i < m->n_metadata_props; i++)
		if (!strcmp(m->metadata_props[i]->key, key))
			return m->metadata_props[i]->value;
	return NULL;
}

/* every node input is the image, an initializer or an earlier node's output */
static int topological(const Onnx__GraphProto *g)
{
	size_t cap = g->n_node + 1, n = 0;
	const char **defined = xmalloc(sizeof *defined * cap);
	int good = 1;

	defined[n++] = "image";
	for (size_t i = 0; i < g->n_node && good; i++) {
		const Onnx__NodeProto *nd = g->node[i];

		for (size_t k = 0; k < nd->n_input && good; k++) {
			int found = initializer(g, nd->input[k]) != NULL;

			for (size_t j = 0; j < n && !found; j++)
				found = !strcmp(defined[j], nd->input[k]);
			if (!found) {
				diag("node %s reads '%s' before it is defined", nd->name, nd->input[k]);
				good = 0;
			}
		}
		defined[n++] = nd->output[0];
	}
	good = good && n > 1 && !strcmp(defined[n - 1], "logits");
	free(defined);
	return good;
}

static void check_model(const char *label, const char *genotype, int stem, int in_c, int hw)
{
	struct genotype g;
	/* the aux head (CIFAR stem: too small a map with the ImageNet stem) must be left out */
	struct macro_config m = { stem, 1, 8, in_c, hw, hw, 10, stem == STEM_CIFAR, 0.1f, 1e-3f, 0.5f };
	struct netfile_meta meta = { 0 };
	struct rng r;
	struct net *n;
	char path[64], *names[10], text[128];
	Onnx__ModelProto *model;
	const Onnx__GraphProto *gr;
	int bad_ops = 0, aux = 0, bn = 0, want_bn = 0, fr_ok = 1, nfr = 0;

	snprintf(path, sizeof path, "/tmp/test_onnx.%d.onnx", (int)getpid());
	genotype_builtin(&g, genotype);
	rng_seed(&r, 3);
	n = net_create(&g, &m, 0, &r);
	if (!ok(n != NULL, "%s: built", label))
		return;
	for (size_t i = 0; i < n->nbuffer_floats; i++)   /* running statistics off 0 and 1 */
		n->buffer[i] = 0.5f + 0.001f * (float)(i % 97);
	meta.channels = in_c;
	meta.nclasses = 10;
	meta.classes = names;
	for (int k = 0; k < 10; k++) {
		names[k] = xmalloc(8);
		snprintf(names[k], 8, "c%d", k);
	}
	for (int c = 0; c < in_c; c++) {
		meta.mean[c] = 0.25f;
		meta.std[c] = 0.5f;
	}
	ok(onnx_export(path, n, &meta, "net.h5") == 0, "%s: exported", label);
	model = load(path);
	if (!ok(model != NULL, "%s: the file unpacks as an ONNX ModelProto", label))
		goto out;
	gr = model->graph;
	ok(model->ir_version == ONNX_IR_VERSION && model->n_opset_import == 1 &&
	   model->opset_import[0]->version == 13 && !model->opset_import[0]->domain[0],
	   "%s: IR 7, opset 13 of the default domain", label);
	ok(gr->n_input == 1 && !strcmp(gr->input[0]->name, "image") &&
	   gr->input[0]->type->tensor_type->shape->n_dim == 4 &&
	   !strcmp(gr->input[0]->type->tensor_type->shape->dim[0]->dim_param, "N") &&
	   gr->input[0]->type->tensor_type->shape->dim[1]->dim_value == in_c &&
	   gr->input[0]->type->tensor_type->shape->dim[3]->dim_value == hw,
	   "%s: input image (N, %d, %d, %d)", label, in_c, hw, hw);
	ok(gr->n_output == 1 && !strcmp(gr->output[0]->name, "logits") &&
	   gr->output[0]->type->tensor_type->shape->dim[1]->dim_value == 10,
	   "%s: output logits (N, 10)", label);
	ok(topological(gr), "%s: every node input is defined before use; the last node gives the logits",
	   label);
	for (size_t i = 0; i < gr->n_node; i++) {
		bad_ops += !known_op(gr->node[i]->op_type);
		bn += !strcmp(gr->node[i]->op_type, "BatchNormalization");
	}
	for (int i = 0; i < n->nsteps; i++)
		want_bn += n->steps[i].kind == STEP_BN && !n->steps[i].aux;
	for (size_t i = 0; i < gr->n_initializer; i++)
		aux += !strncmp(gr->initializer[i]->name, "aux/", 4);
	ok(!bad_ops, "%s: only the documented ops", label);
	ok(!aux && bn == want_bn, "%s: no aux head; one BatchNormalization per BN step (%d)", label,
	   want_bn);
	{
		const Onnx__TensorProto *t = initializer(gr, "stem/conv");
		int p = net_param_find(n, "stem/conv");

		ok(t && p >= 0 && t->n_float_data == n->params[p].count &&
		   !memcmp(t->float_data, n->param + n->params[p].offset,
			   sizeof(float) * n->params[p].count),
		   "%s: the stem weights are stored unchanged", label);
	}
	/* the shifted path of each factorized reduction: w2 at (1, 1) of 2x2, zero elsewhere */
	for (int i = 0; i < n->nparams; i++) {
		const struct net_param *v = &n->params[i];
		const Onnx__TensorProto *t;
		char name[NET_NAME_MAX + 8];

		if (strcmp(v->name + strlen(v->name) - 6, "/fr/w2"))
			continue;
		nfr++;
		snprintf(name, sizeof name, "%s_2x2", v->name);
		t = initializer(gr, name);
		if (!t || t->n_float_data != 4 * v->count) {
			fr_ok = 0;
			continue;
		}
		for (size_t k = 0; k < v->count; k++)
			fr_ok &= t->float_data[4 * k + 3] == n->param[v->offset + k] &&
				 t->float_data[4 * k] == 0 && t->float_data[4 * k + 1] == 0 &&
				 t->float_data[4 * k + 2] == 0;
	}
	ok(nfr > 0 && fr_ok, "%s: %d factorized reductions, each shifted kernel zero but at (1, 1)",
	   label, nfr);
	snprintf(text, sizeof text, "%dx%dx%d", in_c, hw, hw);
	ok(prop(model, "classes") && !strcmp(prop(model, "classes"), "c0\nc1\nc2\nc3\nc4\nc5\nc6\nc7\nc8\nc9") &&
	   prop(model, "genotype") && !strncmp(prop(model, "genotype"), "[", 1) &&
	   prop(model, "input") && !strcmp(prop(model, "input"), text) &&
	   prop(model, "nasnet_c_version") && !strcmp(prop(model, "source"), "net.h5"),
	   "%s: metadata: classes, genotype, input, version, source", label);
	onnx__model_proto__free_unpacked(model, NULL);
out:
	unlink(path);
	meta.channels = in_c + 1;
	ok(onnx_export(path, n, &meta, NULL) < 0 && access(path, F_OK) < 0,
	   "%s: a normalisation of another channel count is refused", label);
	meta.channels = in_c;
	ok(onnx_export("/nonexistent-dir/m.onnx", n, &meta, NULL) < 0 &&
	   access("/nonexistent-dir/m.onnx", F_OK) < 0, "%s: an unwritable path fails, nothing left",
	   label);
	for (int k = 0; k < 10; k++)
		free(names[k]);
	net_free(n);
}

int main(void)
{
	check_model("nasnet-a cifar 1x28x28 aux dropout", "nasnet-a", STEM_CIFAR, 1, 28);
	check_model("darts-v2 imagenet 3x33x33", "darts-v2", STEM_IMAGENET, 3, 33);
	check_model("amoebanet-a cifar 3x17x17", "amoebanet-a", STEM_CIFAR, 3, 17);
	return tap_exit();
}
