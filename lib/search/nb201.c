/*
 * nb201.c - load the NAS-Bench-201 table from its gzip'd CSV with zlib and
 * index it by action code. Strict: a malformed row, an unknown cell, a
 * duplicate or a missing cell is an error naming the file and line.
 */
#include "nb201.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "dataref.h"
#include "util.h"

#define NB201_HEADER "index,cell,cifar10_valid_12ep,cifar10_test_12ep"

const char *nb201_default_path(char *buf, size_t n)
{
	const char *e = getenv("NASNET_NB201"), *rel = "data/nb201-cifar10-12epoch.csv.gz";

	if (e && *e)
		return e;
	/* the source tree's copy from its top folder, else the installed one (dataref.h) */
	if (access(rel, R_OK) == 0 || dataref_share(rel + 5, buf, n) < 0)
		return rel;
	return buf;
}

static int parse_row(struct nb201_table *t, const struct space *s, char *line, const char *path,
		     int lineno, unsigned char *seen)
{
	char *f[4], *p = line;
	int a[NB201_EDGES], code;
	long idx;
	double v, te;

	for (int i = 0; i < 4; i++) {
		f[i] = p;
		p = strchr(p, ',');
		if (i < 3) {
			if (!p)
				return error("%s:%d: expected 4 comma-separated fields", path, lineno);
			*p++ = 0;
		} else if (p) {
			return error("%s:%d: more than 4 fields", path, lineno);
		}
	}
	if (parse_long(f[0], 0, 1000000, &idx) < 0 || parse_double(f[2], 0, 100, &v) < 0 ||
	    parse_double(f[3], 0, 100, &te) < 0)
		return error("%s:%d: bad number in '%s,%s,%s'", path, lineno, f[0], f[2], f[3]);
	if (space_from_nb201(s, f[1], a, path) < 0)
		return -1;
	code = nb201_code(a);
	if (seen[code])
		return error("%s:%d: cell '%s' appears twice", path, lineno, f[1]);
	seen[code] = 1;
	t->valid[code] = v;
	t->test[code] = te;
	t->index[code] = (int)idx;
	return 0;
}

int nb201_load(struct nb201_table *t, const char *path)
{
	struct space s;
	gzFile gz;
	char line[512];
	unsigned char *seen;
	int lineno = 0, rows = 0, rc = -1;

	if (space_get(&s, "nb201") < 0)
		return -1;
	errno = 0;
	gz = gzopen(path, "rb");
	if (!gz)
		return error("%s: cannot open:", path);
	seen = xcalloc(NB201_CELLS, 1);
	memset(t, 0, sizeof(*t));
	while (gzgets(gz, line, sizeof(line))) {
		size_t n = strlen(line);

		lineno++;
		if (n && line[n - 1] == '\n')
			line[--n] = 0;
		else if (!gzeof(gz)) {
			error("%s:%d: line too long", path, lineno);
			goto out;
		}
		if (n && line[n - 1] == '\r')
			line[--n] = 0;
		if (lineno == 1) {
			if (strcmp(line, NB201_HEADER)) {
				error("%s: not an NB201 table (header '%s', expected '%s')", path, line,
				      NB201_HEADER);
				goto out;
			}
			continue;
		}
		if (!n)
			continue;
		if (parse_row(t, &s, line, path, lineno, seen) < 0)
			goto out;
		rows++;
	}
	if (!gzeof(gz)) {
		int zerr;

		error("%s: read error: %s", path, gzerror(gz, &zerr));
		goto out;
	}
	if (rows != NB201_CELLS) {
		error("%s: %d cells, expected %d", path, rows, NB201_CELLS);
		goto out;
	}
	rc = 0;
out:
	free(seen);
	gzclose(gz);
	return rc;
}
