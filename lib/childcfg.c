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

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5io.h"
#include "util.h"

enum field_kind { K_INT, K_I64, K_U64, K_FLT, K_DBL };

struct field {
	const char *name;
	int kind;
	size_t off;
	double lo, hi;   /* inclusive; u64 fields are not range-checked */
};

#define M(f) offsetof(struct child_config, macro.f)
#define T(f) offsetof(struct child_config, train.f)

static const struct field fields[] = {
	{ "cells", K_INT, M(cells), 1, 64 },
	/* the network's own limits (net.c check_macro): a child is refused when
	 * its file is written, not when each training fails */
	{ "filters", K_INT, M(filters), 1, 4096 },
	{ "input_channels", K_INT, M(in_c), 1, 64 },
	{ "input_height", K_INT, M(in_h), 1, 4096 },
	{ "input_width", K_INT, M(in_w), 1, 4096 },
	{ "classes", K_INT, M(classes), 2, 1000000 },
	{ "aux", K_INT, M(aux), 0, 1 },
	{ "bn_momentum", K_FLT, M(bn_momentum), 0, 1 },
	{ "bn_eps", K_FLT, M(bn_eps), 1e-12, 1 },
	{ "dropout_keep", K_FLT, M(dropout_keep), 1e-6, 1 },
	{ "epochs", K_INT, T(epochs), 0, 1000000 },
	{ "steps", K_I64, T(steps), 0, 1e15 },
	{ "batch", K_INT, T(batch), 1, 1 << 20 },
	{ "train_images", K_I64, T(train_images), 0, 1e12 },
	/* wide on purpose: the NaN-loss path is tested with absurd rates */
	{ "lr", K_DBL, T(lr), 0, 1e12 },
	{ "lr_min", K_DBL, T(lr_min), 0, 1e12 },
	{ "momentum", K_DBL, T(momentum), 0, 0.999999 },
	{ "nesterov", K_INT, T(nesterov), 0, 1 },
	{ "weight_decay", K_DBL, T(weight_decay), 0, 1 },
	{ "clip", K_DBL, T(clip), 0, 1e12 },
	{ "cutout", K_INT, T(cutout), 0, 8192 },
	{ "crop_pad", K_INT, T(crop_pad), 0, 8192 },
	{ "flip", K_INT, T(flip), 0, 1 },
	{ "label_smoothing", K_DBL, T(label_smoothing), 0, 0.999999 },
	{ "aux_weight", K_DBL, T(aux_weight), 0, 1000 },
	{ "drop_path_keep", K_DBL, T(drop_path_keep), 1e-6, 1 },
	{ "seed", K_U64, T(seed), 0, 0 },
	/* the rung plan of successive halving (schemas/genotype.md); 1 rung = plain */
	{ "rungs", K_INT, T(rungs), 1, 16 },
	{ "eta", K_INT, T(eta), 2, 1000 },
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

const char *stem_name(int stem)
{
	return stem == STEM_CIFAR || stem == STEM_IMAGENET ? stem_names[stem] : "?";
}

int stem_lookup(const char *name)
{
	for (int i = 0; i < 2; i++)
		if (!strcmp(name, stem_names[i]))
			return i;
	return -1;
}

const char *lr_schedule_name(int s)
{
	return s == LR_COSINE || s == LR_CONSTANT ? schedule_names[s] : "?";
}

int lr_schedule_lookup(const char *name)
{
	for (int i = 0; i < 2; i++)
		if (!strcmp(name, schedule_names[i]))
			return i;
	return -1;
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
