/*
 * childcfg.c - the child configuration: defaults, range checks, and its
 * HDF5 form (one attribute per field on a group, see schemas/genotype.md).
 *
 * Every numeric field is listed once in a table (name, type, offset, range),
 * so writing, reading and checking cannot drift apart. The three string
 * fields (stem, lr_schedule, data) and the optional data_fingerprint are
 * handled by hand.
 */
#include "childcfg.h"

#include <getopt.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5io.h"
#include "util.h"

enum field_kind { K_INT, K_I64, K_U64, K_FLT, K_DBL };

/* what a field is part of: the network itself (a weights file must agree
 * with its genotype file on these), the input (follows the dataset, which
 * train-child --data may change), or the training recipe */
enum field_role { R_NET, R_INPUT, R_TRAIN };

/*
 * One child setting: its attribute name in files, C type and place, the one
 * range every reader, writer, tool flag and the network builder use, what it
 * is part of, its command-line flag (NULL: none; a 0..1 int is a switch,
 * --X and --no-X) and, for the settings a search run records, the run
 * setting's name and its default in a search (make search VAR=...).
 */
struct field {
	const char *name;
	int kind;
	size_t off;
	double lo, hi;   /* inclusive; u64 fields are not range-checked */
	int role;        /* enum field_role */
	const char *flag, *no_flag;   /* no_flag: "no-X" of a switch, else NULL */
	const char *run_name, *run_default;
};

/* a flag taking a value, a switch (--X sets 1, --no-X sets 0), no flag */
#define FLAG(x) x, NULL
#define SWITCH(x) x, "no-" x
#define NOFLAG NULL, NULL

#define M(f) offsetof(struct child_config, macro.f)
#define T(f) offsetof(struct child_config, train.f)

/* the builder's limits (lib/net/net.c) are these: filters, input size and
 * classes are capped where the network's tensors stay addressable */
static const struct field fields[] = {
	{ "cells", K_INT, M(cells), 1, 64, R_NET, FLAG("cells"), "CHILD_N", "1" },
	{ "filters", K_INT, M(filters), 1, 4096, R_NET, FLAG("filters"), "CHILD_F", "8" },
	{ "input_channels", K_INT, M(in_c), 1, 64, R_INPUT, NOFLAG, NULL, NULL },
	{ "input_height", K_INT, M(in_h), 1, 4096, R_INPUT, NOFLAG, NULL, NULL },
	{ "input_width", K_INT, M(in_w), 1, 4096, R_INPUT, NOFLAG, NULL, NULL },
	{ "classes", K_INT, M(classes), 2, 100000, R_INPUT, FLAG("classes"), NULL, NULL },
	{ "aux", K_INT, M(aux), 0, 1, R_NET, SWITCH("aux"), NULL, NULL },
	{ "bn_momentum", K_FLT, M(bn_momentum), 0, 1, R_NET, NOFLAG, NULL, NULL },
	{ "bn_eps", K_FLT, M(bn_eps), 1e-12, 1, R_NET, NOFLAG, NULL, NULL },
	{ "dropout_keep", K_FLT, M(dropout_keep), 1e-6, 1, R_NET, FLAG("dropout-keep"),
	  NULL, NULL },
	{ "epochs", K_INT, T(epochs), 0, 1000000, R_TRAIN, FLAG("epochs"), "CHILD_EPOCHS", "1" },
	{ "steps", K_I64, T(steps), 0, 1e15, R_TRAIN, FLAG("steps"), NULL, NULL },
	{ "batch", K_INT, T(batch), 1, 1 << 20, R_TRAIN, FLAG("batch"), "CHILD_BATCH", "64" },
	{ "train_images", K_I64, T(train_images), 0, 1e12, R_TRAIN, FLAG("train-images"),
	  "CHILD_TRAIN_IMAGES", "5000" },
	/* wide on purpose: the NaN-loss path is tested with absurd rates */
	{ "lr", K_DBL, T(lr), 0, 1e12, R_TRAIN, FLAG("lr"), "CHILD_LR", "0.05" },
	{ "lr_min", K_DBL, T(lr_min), 0, 1e12, R_TRAIN, FLAG("lr-min"), NULL, NULL },
	{ "momentum", K_DBL, T(momentum), 0, 0.999999, R_TRAIN, FLAG("momentum"), NULL, NULL },
	{ "nesterov", K_INT, T(nesterov), 0, 1, R_TRAIN, SWITCH("nesterov"), NULL, NULL },
	{ "weight_decay", K_DBL, T(weight_decay), 0, 1, R_TRAIN, FLAG("weight-decay"), NULL, NULL },
	{ "clip", K_DBL, T(clip), 0, 1e12, R_TRAIN, FLAG("clip"), NULL, NULL },
	{ "cutout", K_INT, T(cutout), 0, 8192, R_TRAIN, FLAG("cutout"), NULL, NULL },
	{ "crop_pad", K_INT, T(crop_pad), 0, 8192, R_TRAIN, FLAG("crop-pad"), NULL, NULL },
	{ "flip", K_INT, T(flip), 0, 1, R_TRAIN, SWITCH("flip"), NULL, NULL },
	{ "label_smoothing", K_DBL, T(label_smoothing), 0, 0.999999, R_TRAIN, FLAG("label-smoothing"),
	  NULL, NULL },
	{ "aux_weight", K_DBL, T(aux_weight), 0, 1000, R_TRAIN, FLAG("aux-weight"), NULL, NULL },
	{ "drop_path_keep", K_DBL, T(drop_path_keep), 1e-6, 1, R_TRAIN, FLAG("drop-path-keep"),
	  NULL, NULL },
	{ "seed", K_U64, T(seed), 0, 0, R_TRAIN, NOFLAG, NULL, NULL },
	/* the rung plan of successive halving (schemas/genotype.md); 1 rung = plain */
	{ "rungs", K_INT, T(rungs), 1, 16, R_TRAIN, FLAG("rungs"), NULL, NULL },
	{ "eta", K_INT, T(eta), 2, 1000, R_TRAIN, FLAG("eta"), NULL, NULL },
};

/* Fields added after schema version 1 was published: a file without them
 * reads as child_config_default() has them (a plain one-rung plan). */
static const char *const newer_fields[] = { "rungs", "eta" };

static int is_newer_field(const char *name)
{
	for (size_t i = 0; i < sizeof newer_fields / sizeof newer_fields[0]; i++)
		if (!strcmp(name, newer_fields[i]))
			return 1;
	return 0;
}

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const char *const stem_names[] = { [STEM_CIFAR] = "cifar", [STEM_IMAGENET] = "imagenet" };
static const char *const schedule_names[] = { [LR_COSINE] = "cosine", [LR_CONSTANT] = "constant" };

/* index of name in names[0..n), or -1 */
static int name_index(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(name, names[i]))
			return i;
	return -1;
}

const char *stem_name(int stem)
{
	return stem == STEM_CIFAR || stem == STEM_IMAGENET ? stem_names[stem] : "?";
}

int stem_lookup(const char *name)
{
	return name_index(stem_names, 2, name);
}

const char *lr_schedule_name(int s)
{
	return s == LR_COSINE || s == LR_CONSTANT ? schedule_names[s] : "?";
}

int lr_schedule_lookup(const char *name)
{
	return name_index(schedule_names, 2, name);
}

void child_config_default(struct child_config *c)
{
	memset(c, 0, sizeof(*c));
	c->macro.stem = STEM_CIFAR;
	c->macro.cells = 1;
	c->macro.filters = 8;
	c->macro.in_c = 1;
	c->macro.in_h = 28;
	c->macro.in_w = 28;
	c->macro.classes = 10;
	c->macro.aux = 0;
	c->macro.bn_momentum = 0.1f;   /* TF CIFAR decay 0.9 */
	c->macro.bn_eps = 1e-5f;
	c->macro.dropout_keep = 1.0f;

	snprintf(c->train.data, sizeof(c->train.data), "%s", "data/fashion-mnist.h5");
	c->train.epochs = 1;
	c->train.steps = 0;
	c->train.batch = 64;
	c->train.train_images = 0;
	c->train.lr = 0.05;
	c->train.lr_min = 0;
	c->train.schedule = LR_COSINE;
	c->train.momentum = 0.9;
	c->train.nesterov = 1;
	c->train.weight_decay = 5e-4;
	c->train.clip = 5;
	c->train.cutout = 0;
	c->train.crop_pad = 0;
	c->train.flip = 0;
	c->train.label_smoothing = 0;
	c->train.aux_weight = 0.4;
	c->train.drop_path_keep = 1;
	c->train.seed = 1;
	c->train.rungs = 1;
	c->train.eta = 3;
}

static double field_get(const struct child_config *c, const struct field *f)
{
	const char *p = (const char *)c + f->off;

	switch (f->kind) {
	case K_INT:
		return *(const int *)(const void *)p;
	case K_I64:
		return (double)*(const int64_t *)(const void *)p;
	case K_FLT:
		return *(const float *)(const void *)p;
	case K_DBL:
		return *(const double *)(const void *)p;
	}
	return 0;
}

static int check_value(const struct field *f, double v, const char *what)
{
	if (f->kind == K_U64)
		return 0;
	if (!isfinite(v) || v < f->lo || v > f->hi)
		return error("%s: %s is %.9g, expected %.9g..%.9g", what, f->name, v, f->lo, f->hi);
	return 0;
}

int child_config_check(const struct child_config *c, const char *what)
{
	if (c->macro.stem != STEM_CIFAR && c->macro.stem != STEM_IMAGENET)
		return error("%s: stem is %d, expected cifar or imagenet", what, c->macro.stem);
	if (c->train.schedule != LR_COSINE && c->train.schedule != LR_CONSTANT)
		return error("%s: lr_schedule is %d, expected cosine or constant", what,
			     c->train.schedule);
	if (!memchr(c->train.data, '\0', sizeof(c->train.data)) || !c->train.data[0])
		return error("%s: data (the dataset path) is empty or too long", what);
	if (!memchr(c->train.data_fingerprint, '\0', sizeof(c->train.data_fingerprint)) ||
	    strspn(c->train.data_fingerprint, "0123456789abcdef") != strlen(c->train.data_fingerprint) ||
	    (c->train.data_fingerprint[0] && strlen(c->train.data_fingerprint) != 16))
		return error("%s: data_fingerprint is not 16 hex digits", what);
	for (size_t i = 0; i < NFIELDS; i++)
		if (check_value(&fields[i], field_get(c, &fields[i]), what) < 0)
			return -1;
	if (c->train.epochs == 0 && c->train.steps == 0)
		return error("%s: epochs and steps are both 0; one must be positive", what);
	if (c->train.lr_min > c->train.lr)
		return error("%s: lr_min %.9g exceeds lr %.9g", what, c->train.lr_min, c->train.lr);
	return 0;
}

int child_config_check_macro(const struct macro_config *m, const char *what)
{
	struct child_config c;

	if (m->stem != STEM_CIFAR && m->stem != STEM_IMAGENET)
		return error("%s: stem is %d, expected cifar or imagenet", what, m->stem);
	memset(&c, 0, sizeof(c));
	c.macro = *m;
	for (size_t i = 0; i < NFIELDS; i++)
		if (fields[i].role != R_TRAIN &&
		    check_value(&fields[i], field_get(&c, &fields[i]), what) < 0)
			return -1;
	return 0;
}

static void field_put(struct child_config *c, const struct field *f, double v)
{
	char *p = (char *)c + f->off;

	switch (f->kind) {
	case K_INT:
		*(int *)(void *)p = (int)v;
		break;
	case K_I64:
		*(int64_t *)(void *)p = (int64_t)v;
		break;
	case K_FLT:
		*(float *)(void *)p = (float)v;
		break;
	case K_DBL:
		*(double *)(void *)p = v;
		break;
	}
}

int child_config_set(struct child_config *c, const char *flag, const char *arg)
{
	if (!strcmp(flag, "stem")) {
		if (stem_lookup(arg) < 0)
			return error("invalid --stem '%s' (cifar or imagenet)", arg);
		c->macro.stem = stem_lookup(arg);
		return 0;
	}
	if (!strcmp(flag, "schedule")) {
		if (lr_schedule_lookup(arg) < 0)
			return error("invalid --schedule '%s' (cosine or constant)", arg);
		c->train.schedule = lr_schedule_lookup(arg);
		return 0;
	}
	if (!strcmp(flag, "data")) {
		if (!arg[0] || strlen(arg) >= sizeof(c->train.data))
			return error("--data: path empty or longer than %zu bytes",
				     sizeof(c->train.data) - 1);
		snprintf(c->train.data, sizeof(c->train.data), "%s", arg);
		return 0;
	}
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct field *f = &fields[i];
		double v;

		if (!f->flag)
			continue;
		if (f->no_flag && (!strcmp(flag, f->flag) || !strcmp(flag, f->no_flag))) {
			field_put(c, f, strcmp(flag, f->flag) ? 0 : 1);
			return 0;
		}
		if (strcmp(flag, f->flag))
			continue;
		if (f->kind == K_INT || f->kind == K_I64) {
			long lv;

			if (parse_long(arg, (long)f->lo, (long)f->hi, &lv) < 0)
				return error("invalid --%s '%s' (expected an integer %.9g..%.9g)", flag,
					     arg, f->lo, f->hi);
			v = (double)lv;
		} else if (parse_double(arg, f->lo, f->hi, &v) < 0) {
			return error("invalid --%s '%s' (expected %.9g..%.9g)", flag, arg, f->lo, f->hi);
		}
		field_put(c, f, v);
		return 0;
	}
	return error("unknown child setting --%s", flag);
}

static int has_option(const struct option *o, const char *name)
{
	for (; o && o->name; o++)
		if (!strcmp(o->name, name))
			return 1;
	return 0;
}

int child_config_longopts(struct option *out, int max, const struct option *tool, int code)
{
	static const char *const strings[] = { "stem", "schedule", "data" };
	int n = 0;

#define ADD(nm, has_arg)                                                              \
	do {                                                                          \
		if (!has_option(tool, (nm))) {                                        \
			if (n + 1 >= max)                                             \
				return error("internal: more than %d options", max - 1); \
			out[n++] = (struct option){ (nm), (has_arg), NULL, code };    \
		}                                                                     \
	} while (0)

	for (int i = 0; tool && tool[i].name; i++) {
		if (n + 1 >= max)
			return error("internal: more than %d options", max - 1);
		out[n++] = tool[i];
	}
	for (size_t i = 0; i < 3; i++)
		ADD(strings[i], required_argument);
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct field *f = &fields[i];

		if (!f->flag)
			continue;
		ADD(f->flag, f->no_flag ? no_argument : required_argument);
		if (f->no_flag)
			ADD(f->no_flag, no_argument);
	}
#undef ADD
	out[n] = (struct option){ NULL, 0, NULL, 0 };
	return n;
}

void child_config_flags_help(FILE *f)
{
	int col = 2;

	fputs("  --stem cifar|imagenet --schedule cosine|constant --data FILE", f);
	col = 62;
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct field *d = &fields[i];
		char item[96];
		int len;

		if (!d->flag)
			continue;
		if (d->no_flag)
			len = snprintf(item, sizeof item, " --[no-]%s", d->flag);
		else
			len = snprintf(item, sizeof item, " --%s %.9g..%.9g", d->flag, d->lo, d->hi);
		if (col + len > 79) {
			fputs("\n ", f);
			col = 1;
		}
		fputs(item, f);
		col += len;
	}
	fputc('\n', f);
}

void child_config_print_run_settings(FILE *f)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (fields[i].run_name)
			fprintf(f, "%s\t%s\t%s\n", fields[i].run_name, fields[i].flag,
				fields[i].run_default);
}

const char *child_config_net_diff(const struct child_config *a, const struct child_config *b)
{
	if (a->macro.stem != b->macro.stem)
		return "stem";
	for (size_t i = 0; i < NFIELDS; i++)
		if (fields[i].role == R_NET && field_get(a, &fields[i]) != field_get(b, &fields[i]))
			return fields[i].name;
	return NULL;
}

/*
 * The shortest decimal that reads back as the same float, as a double: a
 * float 0.1f is stored as 0.1, not 0.100000001490116, so h5dump shows what
 * the user typed.
 */
static double float_as_decimal(float v)
{
	char buf[32];
	double d = v;

	for (int prec = 6; prec <= 9; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, (double)v);
		d = strtod(buf, NULL);
		if ((float)d == v)
			break;
	}
	return d;
}

int child_config_write(struct h5f *f, const char *group, const struct child_config *c)
{
	/* stop at the first failure: one error line */
	if (child_config_check(c, f->path) < 0 ||
	    h5_attr_write_string(f, group, "stem", stem_name(c->macro.stem)) < 0 ||
	    h5_attr_write_string(f, group, "lr_schedule", lr_schedule_name(c->train.schedule)) < 0 ||
	    h5_attr_write_string(f, group, "data", c->train.data) < 0 ||
	    (c->train.data_fingerprint[0] &&
	     h5_attr_write_string(f, group, "data_fingerprint", c->train.data_fingerprint) < 0))
		return -1;
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct field *d = &fields[i];
		const char *p = (const char *)c + d->off;
		int rc = 0;

		switch (d->kind) {
		case K_INT:
		case K_I64:
			rc = h5_attr_write_int(f, group, d->name, (int64_t)field_get(c, d));
			break;
		case K_U64:
			/* the bit pattern, as /provenance stores the seed */
			rc = h5_attr_write_int(f, group, d->name,
					       (int64_t)*(const uint64_t *)(const void *)p);
			break;
		case K_FLT:
			rc = h5_attr_write_double(f, group, d->name,
						  float_as_decimal(*(const float *)(const void *)p));
			break;
		case K_DBL:
			rc = h5_attr_write_double(f, group, d->name, field_get(c, d));
			break;
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int read_string(struct h5f *f, const char *group, const char *name, char *out, size_t n)
{
	char *s;

	if (h5_attr_read_string(f, group, name, &s) < 0)
		return -1;
	if (strlen(s) >= n) {
		free(s);
		return error("%s: attribute '%s' on '%s' is longer than %zu characters", f->path, name,
			     group, n - 1);
	}
	memcpy(out, s, strlen(s) + 1);
	free(s);
	return 0;
}

int child_config_read(struct h5f *f, const char *group, struct child_config *c)
{
	char name[32], what[1200];
	struct child_config t, def;

	child_config_default(&def);
	memset(&t, 0, sizeof(t));
	if (read_string(f, group, "stem", name, sizeof(name)) < 0)
		return -1;
	if ((t.macro.stem = stem_lookup(name)) < 0)
		return error("%s: attribute 'stem' on '%s' is '%s', expected cifar or imagenet",
			     f->path, group, name);
	if (read_string(f, group, "lr_schedule", name, sizeof(name)) < 0)
		return -1;
	if ((t.train.schedule = lr_schedule_lookup(name)) < 0)
		return error("%s: attribute 'lr_schedule' on '%s' is '%s', expected cosine or constant",
			     f->path, group, name);
	if (read_string(f, group, "data", t.train.data, sizeof(t.train.data)) < 0)
		return -1;
	/* absent in files from before fingerprints */
	if (h5_attr_exists(f, group, "data_fingerprint") &&
	    read_string(f, group, "data_fingerprint", t.train.data_fingerprint,
			sizeof(t.train.data_fingerprint)) < 0)
		return -1;
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct field *d = &fields[i];
		char *p = (char *)&t + d->off;
		int64_t iv;
		double dv;

		if (is_newer_field(d->name) && !h5_attr_exists(f, group, d->name)) {
			dv = field_get(&def, d);
			iv = (int64_t)dv;
		} else if (d->kind == K_FLT || d->kind == K_DBL) {
			if (h5_attr_read_double(f, group, d->name, &dv) < 0)
				return -1;
		} else {
			if (h5_attr_read_int(f, group, d->name, &iv) < 0)
				return -1;
			dv = (double)iv;
		}
		if (d->kind != K_U64 && (!isfinite(dv) || dv < d->lo || dv > d->hi))
			return error("%s: attribute '%s' on '%s' is %.9g, expected %.9g..%.9g",
				     f->path, d->name, group, dv, d->lo, d->hi);
		switch (d->kind) {
		case K_INT:
			*(int *)(void *)p = (int)iv;
			break;
		case K_I64:
			*(int64_t *)(void *)p = iv;
			break;
		case K_U64:
			*(uint64_t *)(void *)p = (uint64_t)iv;
			break;
		case K_FLT:
			*(float *)(void *)p = (float)dv;
			break;
		case K_DBL:
			*(double *)(void *)p = dv;
			break;
		}
	}
	snprintf(what, sizeof(what), "%s: %s", f->path, group);
	if (child_config_check(&t, what) < 0)
		return -1;
	*c = t;
	return 0;
}

int child_config_diff(const struct child_config *a, const struct child_config *b, char *out,
		      size_t n)
{
	if (a->macro.stem != b->macro.stem)
		return snprintf(out, n, "stem %s, this run %s", stem_name(a->macro.stem),
				stem_name(b->macro.stem)), 1;
	if (a->train.schedule != b->train.schedule)
		return snprintf(out, n, "lr_schedule %s, this run %s",
				lr_schedule_name(a->train.schedule),
				lr_schedule_name(b->train.schedule)), 1;
	if (strcmp(a->train.data, b->train.data))
		return snprintf(out, n, "data %s, this run %s", a->train.data, b->train.data), 1;
	if (a->train.seed != b->train.seed)
		return snprintf(out, n, "seed %llu, this run %llu", (unsigned long long)a->train.seed,
				(unsigned long long)b->train.seed), 1;
	for (size_t i = 0; i < NFIELDS; i++) {
		double va = field_get(a, &fields[i]), vb = field_get(b, &fields[i]);

		if (fields[i].kind != K_U64 && va != vb)
			return snprintf(out, n, "%s %.9g, this run %.9g", fields[i].name, va, vb), 1;
	}
	return 0;
}
