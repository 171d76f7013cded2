/*
 * history.c - read evaluated (genotype, reward) pairs (history.h).
 */
#include "history.h"
#include "rankstat.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "genofile.h"
#include "reward.h"
#include "util.h"

#define HISTORY_MAX_PATH 4096

static void push(char ***paths, int *n, int *cap, const char *s)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		*paths = xrealloc(*paths, (size_t)*cap * sizeof(char *));
	}
	(*paths)[(*n)++] = xstrdup(s);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && !strcmp(s + n - m, suf);
}

/* NAME.rK.reward.h5: one rung of a successive-halving child, not a child */
static int is_rung_reward(const char *s)
{
	const char *p = s + strlen(s) - strlen(".reward.h5");

	while (p > s && p[-1] >= '0' && p[-1] <= '9')
		p--;
	return p - s >= 2 && p[-1] == 'r' && p[-2] == '.' &&
	       p[0] != '.';
}

static int expand_dir(const char *dir, char ***paths, int *n, int *cap)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int first = *n;
	char buf[HISTORY_MAX_PATH];

	if (!d)
		return error("%s: cannot open folder:", dir);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !has_suffix(de->d_name, ".reward.h5") ||
		    is_rung_reward(de->d_name))
			continue;
		if (snprintf(buf, sizeof(buf), "%s/%s", dir, de->d_name) >= (int)sizeof(buf)) {
			closedir(d);
			return error("%s: path too long", dir);
		}
		push(paths, n, cap, buf);
	}
	closedir(d);
	qsort(*paths + first, (size_t)(*n - first), sizeof(char *), cmp_str);
	return 0;
}

static int expand_list(const char *list, char ***paths, int *n, int *cap)
{
	FILE *f = fopen(list, "r");
	char line[HISTORY_MAX_PATH];
	int lineno = 0;

	if (!f)
		return error("%s: cannot open:", list);
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);

		lineno++;
		if (len && line[len - 1] == '\n')
			line[--len] = 0;
		else if (!feof(f)) {
			fclose(f);
			return error("%s:%d: line too long", list, lineno);
		}
		if (!len || line[0] == '#')
			continue;
		push(paths, n, cap, line);
	}
	fclose(f);
	return 0;
}

int history_expand(char *const *args, int nargs, char ***paths, int *npaths)
{
	int n = 0, cap = 0;
	struct stat st;

	*paths = NULL;
	for (int i = 0; i < nargs; i++) {
		int rc;

		if (stat(args[i], &st) < 0) {
			rc = error("%s: cannot open:", args[i]);
		} else if (S_ISDIR(st.st_mode)) {
			rc = expand_dir(args[i], paths, &n, &cap);
		} else if (has_suffix(args[i], ".h5")) {
			push(paths, &n, &cap, args[i]);
			rc = 0;
		} else {
			rc = expand_list(args[i], paths, &n, &cap);
		}
		if (rc < 0) {
			history_free_paths(*paths, n);
			*paths = NULL;
			return -1;
		}
	}
	*npaths = n;
	return 0;
}

void history_free_paths(char **paths, int n)
{
	for (int i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

static int load_one(const struct space *s, const char *path, struct evaluated *e)
{
	struct reward r;
	struct genofile g;
	char gpath[HISTORY_MAX_PATH];
	const char *gspace;

	if (reward_read(&r, path) < 0)
		return -1;
	if (reward_genotype_path(&r, path, gpath, sizeof(gpath)) < 0)
		return -1;
	if (access(gpath, F_OK) < 0)
		return error("%s: its genotype file %s is missing", path, gpath);
	if (genofile_read(gpath, &g) < 0)
		return -1;
	gspace = g.space[0] ? g.space : g.geno.space;
	if (strcmp(gspace, s->name))
		return error("%s: genotype of space '%s', expected '%s'", gpath, gspace, s->name);
	if (reward_check_genotype(&r, path, &g, gpath) < 0)
		return -1;
	memset(e, 0, sizeof(*e));
	if (g.has_sample) {
		if (g.nactions != s->ndecisions)
			return error("%s: %d actions, space '%s' has %d decisions", gpath, g.nactions,
				     s->name, s->ndecisions);
		for (int i = 0; i < g.nactions; i++)
			e->a[i] = g.actions[i];
		if (space_check_actions(s, e->a, gpath) < 0)
			return -1;
		e->sampled = 1;
		e->policy_hash = g.policy_hash;
	} else if (s->kind == SPACE_NB201) {
		if (space_from_nb201(s, g.cell_string, e->a, gpath) < 0)
			return -1;
	} else if (space_from_genotype(s, &g.geno, e->a, gpath) < 0) {
		return -1;
	}
	e->reward = r.failed ? 0 : r.reward;
	e->rung = (int)r.rung;
	e->failed = r.failed;
	e->round = g.has_sample ? g.round : r.round;
	e->index = g.has_sample ? g.index : r.index;
	if (g.nrefused && genofile_read_refused(gpath, &e->refused, &e->nrefused) < 0)
		return -1;
	e->reward_path = xstrdup(path);
	return 0;
}

static int cmp_eval(const void *pa, const void *pb)
{
	const struct evaluated *a = pa, *b = pb;

	if (a->round != b->round)
		return a->round < b->round ? -1 : 1;
	if (a->index != b->index)
		return a->index < b->index ? -1 : 1;
	return strcmp(a->reward_path, b->reward_path);
}

int history_load(const struct space *s, char *const *args, int nargs, struct evaluated **out,
		 int *n)
{
	char **paths;
	int np;
	struct evaluated *e;

	*out = NULL;
	*n = 0;
	if (history_expand(args, nargs, &paths, &np) < 0)
		return -1;
	e = xcalloc((size_t)(np ? np : 1), sizeof(*e));
	for (int i = 0; i < np; i++) {
		if (load_one(s, paths[i], &e[i]) < 0) {
			history_free(e, i);
			history_free_paths(paths, np);
			return -1;
		}
	}
	history_free_paths(paths, np);
	qsort(e, (size_t)np, sizeof(*e), cmp_eval);
	*out = e;
	*n = np;
	return 0;
}

void history_free(struct evaluated *e, int n)
{
	for (int i = 0; e && i < n; i++) {
		free(e[i].reward_path);
		free(e[i].refused);
	}
	free(e);
}

double history_rank_key(const struct evaluated *e)
{
	/* rewards are in [0, 1]: the rung decides, then the reward */
	return 2.0 * e->rung + e->reward;
}

void history_utilities(const struct evaluated *e, int n, double *out)
{
	int mixed = 0;
	double *key;

	for (int i = 0; i < n; i++)
		mixed |= e[i].rung != 0;
	if (!mixed || n < 2) {
		for (int i = 0; i < n; i++)
			out[i] = mixed ? 1.0 : e[i].reward;
		return;
	}
	key = xmalloc(sizeof *key * (size_t)n);
	for (int i = 0; i < n; i++)
		key[i] = history_rank_key(&e[i]);
	mid_ranks(key, n, out);
	for (int i = 0; i < n; i++)
		out[i] = (out[i] - 1) / (n - 1);
	free(key);
}

void history_batch(const struct space *s, const struct evaluated *e, int n, const double *util,
		   int **actions, double **reward, int *nb)
{
	int D = s->ndecisions, k = 0, total = 0;

	for (int i = 0; i < n; i++)
		total += e[i].nrefused + 1;
	*actions = xmalloc((size_t)total * (size_t)D * sizeof(int));
	*reward = xmalloc((size_t)total * sizeof(double));
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < e[i].nrefused; j++, k++) {
			for (int d = 0; d < D; d++)
				(*actions)[(size_t)k * D + d] = e[i].refused[(size_t)j * D + d];
			(*reward)[k] = 0;
		}
		memcpy(*actions + (size_t)k * D, e[i].a, (size_t)D * sizeof(int));
		(*reward)[k++] = util[i];
	}
	*nb = total;
}
