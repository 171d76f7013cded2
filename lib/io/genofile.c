/*
 * genofile.c - read and write the genotype file (nasnet-c/genotype v1).
 *
 * Layout (schemas/genotype.md has the full table):
 *   /            format, schema_version, space, text (compact genotype text
 *                or the nb201 cell string), cell (nb201 only)
 *   /normal, /reduce   input_a, input_b int32 (B); op_a, op_b, combine
 *                string (B); concat int32 (K)       (cell spaces only)
 *   /config      the child configuration, one attribute per field
 *   /sample      round, index, policy_hash; actions int32 (A), logp float32 (A),
 *                refused int32 (K, A) when a budget refused K draws first
 *   /provenance  written by h5io
 *
 * Op and combine names are stored as strings so a file explains itself in
 * h5dump; reading maps them back strictly and validates the whole genotype.
 * The `text` attribute is for people: reading checks it against the cells
 * and reports a file edited by hand inconsistently.
 *
 * Also genotype_resolve, the one entry for a genotype argument (a name, a
 * genotype file of either kind, or text): it lives here because it reads HDF5,
 * which the text parsers in genotext.c must not need.
 */
#include "genofile.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cost.h"
#include "space.h"
#include "util.h"

void genofile_init(struct genofile *g)
{
	memset(g, 0, sizeof(*g));
	g->has_cells = 1;
	child_config_default(&g->cfg);
}

static const char *file_space(const struct genofile *g)
{
	return g->space[0] ? g->space : g->geno.space;
}

/* built-in search space (nasnet, enas, nb201)? fills s without printing errors */
static int known_space(const char *name, struct space *s)
{
	char list[128], *tok, *save = NULL;

	snprintf(list, sizeof(list), "%s", space_names());
	for (tok = strtok_r(list, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
		if (!strcmp(tok, name))
			return space_get(s, name) == 0;
	return 0;
}

/* The sample record against the space and the architecture. */
static int check_sample(const struct genofile *g, const char *what)
{
	struct space s;
	int a[SPACE_MAX_DECISIONS];

	if (!g->has_sample)
		return 0;
	if (g->nactions < 1 || g->nactions > GENOFILE_MAX_ACTIONS)
		return error("%s: /sample holds %d actions, expected 1..%d", what, g->nactions,
			     GENOFILE_MAX_ACTIONS);
	if (g->round < 0 || g->index < 0)
		return error("%s: /sample round %d index %d, expected non-negative", what, g->round,
			     g->index);
	for (int i = 0; i < g->nactions; i++) {
		if (g->actions[i] < 0)
			return error("%s: /sample/actions[%d] is %d, expected >= 0", what, i,
				     (int)g->actions[i]);
		if (!(g->logp[i] <= 0))
			return error("%s: /sample/logp[%d] is %g, expected a log-probability <= 0",
				     what, i, (double)g->logp[i]);
	}
	if (!known_space(file_space(g), &s))
		return 0;
	if (g->nactions != s.ndecisions)
		return error("%s: /sample holds %d actions, space '%s' makes %d decisions", what,
			     g->nactions, s.name, s.ndecisions);
	for (int i = 0; i < g->nactions; i++)
		a[i] = g->actions[i];
	if (space_check_actions(&s, a, what) < 0)
		return -1;
	if (s.kind == SPACE_CELLS) {
		struct genotype t;

		if (space_to_genotype(&s, a, &t) < 0)
			return -1;
		/* the concat lists are not decisions: compare the blocks only */
		t.normal.nconcat = g->geno.normal.nconcat;
		memcpy(t.normal.concat, g->geno.normal.concat, sizeof(t.normal.concat));
		t.reduce.nconcat = g->geno.reduce.nconcat;
		memcpy(t.reduce.concat, g->geno.reduce.concat, sizeof(t.reduce.concat));
		if (!cell_equal(&t.normal, &g->geno.normal) || !cell_equal(&t.reduce, &g->geno.reduce))
			return error("%s: /sample/actions do not give the stored cells", what);
	} else {
		char cell[GENOFILE_CELL_MAX];

		if (space_to_nb201(&s, a, cell, sizeof(cell)) < 0)
			return -1;
		if (strcmp(cell, g->cell_string))
			return error("%s: /sample/actions give cell '%s', the file holds '%s'", what,
				     cell, g->cell_string);
	}
	return 0;
}

static int check_genofile(const struct genofile *g, const char *what)
{
	const char *space = file_space(g);
	struct space s;

	if (!memchr(g->space, '\0', sizeof(g->space)) || !space[0])
		return error("%s: no space name", what);
	if (g->has_cells) {
		if (!strcmp(space, "nb201"))
			return error("%s: space nb201 uses a cell string, not a cell pair", what);
		if (genotype_validate(&g->geno, what) < 0)
			return -1;
	} else {
		int a[SPACE_MAX_DECISIONS];

		if (!memchr(g->cell_string, '\0', sizeof(g->cell_string)) || !g->cell_string[0])
			return error("%s: empty cell string", what);
		if (!known_space(space, &s) || s.kind != SPACE_NB201)
			return error("%s: space '%s' has no cell-string form (only nb201 has)", what,
				     space);
		if (space_from_nb201(&s, g->cell_string, a, what) < 0)
			return -1;
	}
	if (child_config_check(&g->cfg, what) < 0)
		return -1;
	return check_sample(g, what);
}

/* ---- writing ---- */

static int write_cell(struct h5f *f, const char *grp, const struct cell *c)
{
	const char *opa[GENOTYPE_MAX_BLOCKS], *opb[GENOTYPE_MAX_BLOCKS], *comb[GENOTYPE_MAX_BLOCKS];
	int32_t ina[GENOTYPE_MAX_BLOCKS], inb[GENOTYPE_MAX_BLOCKS], concat[GENOTYPE_MAX_STATES];
	hsize_t nb = (hsize_t)c->nblocks, nc = (hsize_t)c->nconcat;
	char name[64];

	for (int b = 0; b < c->nblocks; b++) {
		ina[b] = c->b[b].in[0];
		inb[b] = c->b[b].in[1];
		opa[b] = op_name(c->b[b].op[0]);
		opb[b] = op_name(c->b[b].op[1]);
		comb[b] = combine_name(c->b[b].combine);
	}
	for (int i = 0; i < c->nconcat; i++)
		concat[i] = c->concat[i];
	/* stop at the first failure: one error line */
	if (h5_mkgroup(f, grp) < 0)
		return -1;
	snprintf(name, sizeof(name), "%s/input_a", grp);
	if (h5_write(f, name, H5IO_I32, 1, &nb, ina) < 0)
		return -1;
	snprintf(name, sizeof(name), "%s/input_b", grp);
	if (h5_write(f, name, H5IO_I32, 1, &nb, inb) < 0)
		return -1;
	snprintf(name, sizeof(name), "%s/op_a", grp);
	if (h5_write_strings(f, name, c->nblocks, opa) < 0)
		return -1;
	snprintf(name, sizeof(name), "%s/op_b", grp);
	if (h5_write_strings(f, name, c->nblocks, opb) < 0)
		return -1;
	snprintf(name, sizeof(name), "%s/combine", grp);
	if (h5_write_strings(f, name, c->nblocks, comb) < 0)
		return -1;
	snprintf(name, sizeof(name), "%s/concat", grp);
	return h5_write(f, name, H5IO_I32, 1, &nc, concat);
}

/* Everything after h5_create, stopping at the first failure (one error line). */
static int write_body(struct h5f *f, const struct genofile *g, const char *text)
{
	char hash[20];
	hsize_t n = (hsize_t)g->nactions;

	if (h5_attr_write_string(f, "/", "space", file_space(g)) < 0 ||
	    h5_attr_write_string(f, "/", "text", text) < 0)
		return -1;
	if (g->has_cells) {
		if (write_cell(f, "/normal", &g->geno.normal) < 0 ||
		    write_cell(f, "/reduce", &g->geno.reduce) < 0)
			return -1;
	} else if (h5_attr_write_string(f, "/", "cell", g->cell_string) < 0) {
		return -1;
	}
	if (child_config_write(f, "/config", &g->cfg) < 0)
		return -1;
	if (!g->has_sample)
		return 0;
	snprintf(hash, sizeof(hash), "%016" PRIx64, g->policy_hash);
	if (h5_attr_write_int(f, "/sample", "round", g->round) < 0 ||
	    h5_attr_write_int(f, "/sample", "index", g->index) < 0 ||
	    h5_attr_write_string(f, "/sample", "policy_hash", hash) < 0 ||
	    h5_write(f, "/sample/actions", H5IO_I32, 1, &n, g->actions) < 0 ||
	    h5_write(f, "/sample/logp", H5IO_F32, 1, &n, g->logp) < 0)
		return -1;
	if (g->nrefused > 0) {
		hsize_t rd[2] = { (hsize_t)g->nrefused, n };

		if (h5_write(f, "/sample/refused", H5IO_I32, 2, rd, g->refused) < 0)
			return -1;
	}
	return 0;
}

int genofile_write(const char *path, const struct genofile *g, const struct provenance *prov)
{
	return genofile_write_batch(path, g, prov, NULL);
}

int genofile_write_batch(const char *path, const struct genofile *g,
			 const struct provenance *prov, struct atomic_batch *b)
{
	char text[GENOTYPE_TEXT_MAX];
	struct h5f f;

	if (check_genofile(g, path) < 0)
		return -1;
	if (g->has_cells) {
		/* the file's space names the genotype too, so the text says it */
		struct genotype t = g->geno;

		snprintf(t.space, sizeof(t.space), "%s", file_space(g));
		if (genotype_format(&t, text, sizeof(text)) < 0)
			return -1;
	} else {
		snprintf(text, sizeof(text), "%s", g->cell_string);
	}
	if (h5_create(&f, path, GENOFILE_FORMAT, GENOFILE_VERSION, prov) < 0)
		return -1;
	if (write_body(&f, g, text) < 0) {
		h5_abort(&f);
		return -1;
	}
	return b ? h5_commit_batch(&f, b) : h5_commit(&f);
}

/* ---- reading ---- */

static int read_name_list(struct h5f *f, const char *dset, int n, int *out,
			  int (*lookup)(const char *), const char *kind)
{
	char **s = NULL;
	int have, rc = 0;

	if (h5_read_strings(f, dset, GENOTYPE_MAX_BLOCKS, &have, &s) < 0)
		return -1;
	if (have != n) {
		rc = error("%s: dataset '%s' has %d entries, expected %d (one per block)", f->path,
			   dset, have, n);
	}
	for (int i = 0; i < have && !rc; i++) {
		out[i] = lookup(s[i]);
		if (out[i] < 0)
			rc = error("%s: dataset '%s' entry %d: unknown %s '%s'", f->path, dset, i,
				   kind, s[i]);
	}
	h5_free_strings(s, have);
	return rc;
}

static int read_cell(struct h5f *f, const char *grp, struct cell *c)
{
	int32_t ina[GENOTYPE_MAX_BLOCKS], inb[GENOTYPE_MAX_BLOCKS], concat[GENOTYPE_MAX_STATES];
	int opa[GENOTYPE_MAX_BLOCKS], opb[GENOTYPE_MAX_BLOCKS], comb[GENOTYPE_MAX_BLOCKS];
	char name[64];
	hsize_t dims[H5IO_MAXRANK];
	int rank, nb;

	memset(c, 0, sizeof(*c));
	if (!h5_exists(f, grp))
		return error("%s: missing group '%s'", f->path, grp);
	snprintf(name, sizeof(name), "%s/input_a", grp);
	if (h5_shape(f, name, H5IO_I32, &rank, dims) < 0)
		return -1;
	if (rank != 1 || dims[0] < 1 || dims[0] > GENOTYPE_MAX_BLOCKS)
		return error("%s: dataset '%s' must hold 1..%d block inputs", f->path, name,
			     GENOTYPE_MAX_BLOCKS);
	nb = (int)dims[0];
	if (h5_read(f, name, H5IO_I32, 1, dims, ina) < 0)
		return -1;
	snprintf(name, sizeof(name), "%s/input_b", grp);
	if (h5_read(f, name, H5IO_I32, 1, dims, inb) < 0)
		return -1;
	snprintf(name, sizeof(name), "%s/op_a", grp);
	if (read_name_list(f, name, nb, opa, op_lookup, "op") < 0)
		return -1;
	snprintf(name, sizeof(name), "%s/op_b", grp);
	if (read_name_list(f, name, nb, opb, op_lookup, "op") < 0)
		return -1;
	snprintf(name, sizeof(name), "%s/combine", grp);
	if (read_name_list(f, name, nb, comb, combine_lookup, "combine") < 0)
		return -1;
	snprintf(name, sizeof(name), "%s/concat", grp);
	if (h5_shape(f, name, H5IO_I32, &rank, dims) < 0)
		return -1;
	if (rank != 1 || dims[0] < 1 || dims[0] > (hsize_t)nb + 2)
		return error("%s: dataset '%s' must hold 1..%d state indices", f->path, name, nb + 2);
	if (h5_read(f, name, H5IO_I32, 1, dims, concat) < 0)
		return -1;
	c->nblocks = nb;
	for (int b = 0; b < nb; b++) {
		c->b[b].in[0] = ina[b];
		c->b[b].in[1] = inb[b];
		c->b[b].op[0] = opa[b];
		c->b[b].op[1] = opb[b];
		c->b[b].combine = comb[b];
	}
	c->nconcat = (int)dims[0];
	for (int i = 0; i < c->nconcat; i++)
		c->concat[i] = concat[i];
	return cell_validate(c, f->path, grp + 1);
}

static int read_sample(struct h5f *f, struct genofile *g)
{
	hsize_t dims[H5IO_MAXRANK];
	int64_t v;
	char *hash = NULL;
	int rank;

	if (h5_attr_read_int(f, "/sample", "round", &v) < 0)
		return -1;
	if (v < 0 || v > INT32_MAX)
		return error("%s: attribute 'round' on '/sample' is %lld, expected 0..%d", f->path,
			     (long long)v, INT32_MAX);
	g->round = (int)v;
	if (h5_attr_read_int(f, "/sample", "index", &v) < 0)
		return -1;
	if (v < 0 || v > INT32_MAX)
		return error("%s: attribute 'index' on '/sample' is %lld, expected 0..%d", f->path,
			     (long long)v, INT32_MAX);
	g->index = (int)v;
	if (h5_attr_read_string(f, "/sample", "policy_hash", &hash) < 0)
		return -1;
	if (strlen(hash) != 16 || strspn(hash, "0123456789abcdef") != 16) {
		error("%s: attribute 'policy_hash' on '/sample' is '%s', expected 16 hex digits",
		      f->path, hash);
		free(hash);
		return -1;
	}
	g->policy_hash = strtoull(hash, NULL, 16);
	free(hash);
	if (h5_shape(f, "/sample/actions", H5IO_I32, &rank, dims) < 0)
		return -1;
	if (rank != 1 || dims[0] < 1 || dims[0] > GENOFILE_MAX_ACTIONS)
		return error("%s: dataset '/sample/actions' must hold 1..%d actions", f->path,
			     GENOFILE_MAX_ACTIONS);
	g->nactions = (int)dims[0];
	if (h5_read(f, "/sample/actions", H5IO_I32, 1, dims, g->actions) < 0 ||
	    h5_read(f, "/sample/logp", H5IO_F32, 1, dims, g->logp) < 0)
		return -1;
	g->has_sample = 1;
	if (h5_exists(f, "/sample/refused")) {
		if (h5_shape(f, "/sample/refused", H5IO_I32, &rank, dims) < 0)
			return -1;
		if (rank != 2 || dims[0] < 1 || dims[0] > BUDGET_MAX_DRAWS ||
		    dims[1] != (hsize_t)g->nactions)
			return error("%s: dataset '/sample/refused' must be (1..%d, %d)", f->path,
				     BUDGET_MAX_DRAWS, g->nactions);
		g->nrefused = (int)dims[0];
	}
	return 0;
}

static int read_string_attr(struct h5f *f, const char *obj, const char *name, char *out, size_t n)
{
	char *s;

	if (h5_attr_read_string(f, obj, name, &s) < 0)
		return -1;
	if (strlen(s) >= n) {
		error("%s: attribute '%s' on '%s' is longer than %zu characters", f->path, name, obj,
		      n - 1);
		free(s);
		return -1;
	}
	memcpy(out, s, strlen(s) + 1);
	free(s);
	return 0;
}

static int read_all(struct h5f *f, struct genofile *g)
{
	char *text = NULL, want[GENOTYPE_TEXT_MAX];
	int rc;

	if (read_string_attr(f, "/", "space", g->space, sizeof(g->space)) < 0)
		return -1;
	if (!g->space[0])
		return error("%s: attribute 'space' is empty", f->path);
	if (h5_attr_exists(f, "/", "cell")) {
		g->has_cells = 0;
		if (h5_exists(f, "/normal") || h5_exists(f, "/reduce"))
			return error("%s: has both a cell string ('cell') and /normal,/reduce groups",
				     f->path);
		if (read_string_attr(f, "/", "cell", g->cell_string, sizeof(g->cell_string)) < 0)
			return -1;
	} else {
		g->has_cells = 1;
		memcpy(g->geno.space, g->space, sizeof(g->space));
		if (read_cell(f, "/normal", &g->geno.normal) < 0 ||
		    read_cell(f, "/reduce", &g->geno.reduce) < 0)
			return -1;
	}
	if (child_config_read(f, "/config", &g->cfg) < 0)
		return -1;
	if (h5_exists(f, "/sample") && read_sample(f, g) < 0)
		return -1;
	if (check_genofile(g, f->path) < 0)
		return -1;
	/* the human-readable copy must agree with the data */
	if (h5_attr_read_string(f, "/", "text", &text) < 0)
		return -1;
	if (g->has_cells)
		rc = genotype_format(&g->geno, want, sizeof(want)) < 0 ? -1 : 0;
	else
		rc = snprintf(want, sizeof(want), "%s", g->cell_string) < 0 ? -1 : 0;
	if (!rc && strcmp(text, want))
		rc = error("%s: attribute 'text' does not match the stored architecture", f->path);
	free(text);
	return rc;
}

int genofile_read(const char *path, struct genofile *g)
{
	struct h5f f;
	int rc;

	genofile_init(g);
	if (h5_open(&f, path, GENOFILE_FORMAT, GENOFILE_VERSION) < 0)
		return -1;
	rc = read_all(&f, g);
	h5_close(&f);
	return rc;
}

int genofile_read_refused(const char *path, int32_t **out, int *n)
{
	struct genofile g;
	struct h5f f;
	struct space s;
	hsize_t dims[2];
	int32_t *buf;
	int a[SPACE_MAX_DECISIONS];

	*out = NULL;
	*n = 0;
	if (genofile_read(path, &g) < 0)
		return -1;
	if (!g.nrefused)
		return 0;
	if (!known_space(file_space(&g), &s))
		return error("%s: refused draws of space '%s', which is not built in", path,
			     file_space(&g));
	if (h5_open(&f, path, GENOFILE_FORMAT, GENOFILE_VERSION) < 0)
		return -1;
	dims[0] = (hsize_t)g.nrefused;
	dims[1] = (hsize_t)g.nactions;
	buf = xmalloc((size_t)g.nrefused * (size_t)g.nactions * sizeof(*buf));
	if (h5_read(&f, "/sample/refused", H5IO_I32, 2, dims, buf) < 0)
		goto fail;
	for (int k = 0; k < g.nrefused; k++) {
		for (int i = 0; i < g.nactions; i++)
			a[i] = buf[(size_t)k * g.nactions + i];
		if (space_check_actions(&s, a, path) < 0)
			goto fail;
	}
	h5_close(&f);
	*out = buf;
	*n = g.nrefused;
	return 0;
fail:
	h5_close(&f);
	free(buf);
	return -1;
}

/* ---- a genotype argument: name, file or text (here, not in genotext.c,
 * so that the text parser needs no HDF5) ---- */

#define TEXT_FILE_MAX (64 * 1024)

static int resolve_file(struct genotype *g, const char *path)
{
	static const unsigned char h5sig[8] = { 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n' };
	unsigned char head[8] = { 0 };
	char *text;
	size_t n;
	FILE *fp = fopen(path, "rb");
	int rc;

	if (!fp)
		return error("%s: cannot open:", path);
	n = fread(head, 1, sizeof(head), fp);
	if (n == sizeof(head) && !memcmp(head, h5sig, sizeof(h5sig))) {
		struct genofile *gf = xmalloc(sizeof(*gf));

		fclose(fp);
		rc = genofile_read(path, gf);
		if (!rc && !gf->has_cells)
			rc = error("%s: space '%s' holds a cell string, not a Normal/Reduction cell pair",
				   path, gf->space);
		if (!rc)
			*g = gf->geno;
		free(gf);
		return rc;
	}
	text = xmalloc(TEXT_FILE_MAX + 1);
	memcpy(text, head, n);
	n += fread(text + n, 1, TEXT_FILE_MAX + 1 - n, fp);
	if (ferror(fp)) {
		free(text);
		fclose(fp);
		return error("%s: read error:", path);
	}
	fclose(fp);
	if (n > TEXT_FILE_MAX)
		rc = error("%s: larger than %d bytes, not a genotype text file", path, TEXT_FILE_MAX);
	else if (memchr(text, '\0', n))
		rc = error("%s: binary file, neither genotype text nor a nasnet-c genotype file",
			   path);
	else {
		text[n] = '\0';
		rc = genotype_parse_any(g, text, path);
	}
	free(text);
	return rc;
}

int genotype_resolve(struct genotype *g, const char *arg)
{
	const char *const *names = genotype_builtin_names();
	char list[256] = "", what[64];
	struct stat st;
	size_t used = 0;

	if (!arg || !*arg)
		return error("empty genotype argument");
	if (genotype_builtin(g, arg) == 0)
		return 0;
	if (stat(arg, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return error("%s: is a directory, not a genotype", arg);
		/* a FIFO or a device would block or never end (D12) */
		if (!S_ISREG(st.st_mode))
			return error("%s: is not a regular file, not a genotype", arg);
		return resolve_file(g, arg);
	}
	if (strchr(arg, ':') || strchr(arg, '@') || strstr(arg, "Genotype")) {
		snprintf(what, sizeof(what), "genotype '%.40s%s'", arg, strlen(arg) > 40 ? "..." : "");
		return genotype_parse_any(g, arg, what);
	}
	for (int i = 0; names[i]; i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
					 names[i]);
	return error("%s: no such file, and not a built-in genotype (%s) nor genotype text", arg,
		     list);
}
