/*
 * test_h5io.c - the HDF5 layer: atomic deterministic writes, checked reads,
 * the three distinct open errors, attributes and strings; plus rng and util.
 */
#include "../tap.h"
#include "h5io.h"
#include "rng.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static int write_sample(const char *path, const char *format, int version)
{
	struct h5f f;
	float w[6] = { 1, 2, 3, 4, 5, 6 };
	hsize_t dims[2] = { 2, 3 };
	const char *names[] = { "a", "bb", "ccc" };
	struct provenance p = { "test", 0, NULL, 7, 1 };

	if (h5_create(&f, path, format, version, &p) < 0)
		return -1;
	if (h5_write_f32(&f, "/g/sub/w", 2, dims, w) < 0 ||
	    h5_write_strings(&f, "/names", 3, names) < 0 ||
	    h5_attr_write_int(&f, "/", "count", 42) < 0 ||
	    h5_attr_write_double(&f, "/g", "lr", 0.25) < 0 ||
	    h5_attr_write_string(&f, "/g/sub", "what", "weights") < 0) {
		h5_abort(&f);
		return -1;
	}
	return h5_commit(&f);
}

static int files_equal(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	int ca, cb, eq = fa && fb;

	while (eq) {
		ca = getc(fa);
		cb = getc(fb);
		if (ca != cb)
			eq = 0;
		if (ca == EOF || cb == EOF)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return eq;
}

static int dir_has_tmp(void)
{
	char cmd[512];

	snprintf(cmd, sizeof cmd, "ls -a %s | grep -q '\\.tmp\\.'", dir);
	return system(cmd) == 0;
}

static void test_roundtrip(void)
{
	char a[300], b[300];
	struct h5f f;
	float w[6];
	hsize_t dims[2] = { 2, 3 }, bad[2] = { 3, 2 };
	int64_t count;
	double lr;
	char *s = NULL, **names = NULL;
	int n = 0;

	snprintf(a, sizeof a, "%s/a.h5", dir);
	snprintf(b, sizeof b, "%s/b.h5", dir);
	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	ok(write_sample(a, "nasnet-c/test", 1) == 0, "write a file");
	ok(write_sample(b, "nasnet-c/test", 1) == 0, "write it again");
	ok(files_equal(a, b), "same content gives byte-identical files");
	ok(!dir_has_tmp(), "no temporary file left after commit");
	ok(h5_open(&f, a, "nasnet-c/test", 1) == 0, "open with format check");
	ok(h5_read(&f, "/g/sub/w", H5IO_F32, 2, dims, w) == 0 && w[5] == 6, "read floats");
	ok(h5_read(&f, "/g/sub/w", H5IO_F32, 2, bad, w) < 0, "wrong dims refused");
	ok(h5_read(&f, "/g/sub/w", H5IO_I32, 2, dims, w) < 0, "wrong type refused");
	ok(h5_read(&f, "/g/sub/w", H5IO_F32, 1, dims, w) < 0, "wrong rank refused");
	ok(h5_read(&f, "/nope", H5IO_F32, 1, dims, w) < 0, "missing dataset refused");
	ok(h5_attr_read_int(&f, "/", "count", &count) == 0 && count == 42, "int attribute");
	ok(h5_attr_read_double(&f, "/g", "lr", &lr) == 0 && lr == 0.25, "double attribute");
	ok(h5_attr_read_string(&f, "/g/sub", "what", &s) == 0 && !strcmp(s, "weights"),
	   "string attribute");
	free(s);
	ok(h5_read_strings(&f, "/names", 10, &n, &names) == 0 && n == 3 && !strcmp(names[2], "ccc"),
	   "string array");
	h5_free_strings(names, n);
	ok(h5_read_strings(&f, "/names", 2, &n, &names) < 0, "string array over limit refused");
	ok(h5_attr_read_string(&f, "/provenance", "tool", &s) == 0 && !strcmp(s, "test"),
	   "provenance records the tool");
	free(s);
	ok(h5_attr_exists(&f, "/provenance", "hdf5_version") == 1, "provenance has hdf5_version");
	h5_close(&f);
}

static void test_open_errors(void)
{
	char p[300], cmd[700];
	struct h5f f;
	FILE *fp;

	snprintf(p, sizeof p, "%s/a.h5", dir);
	ok(h5_open(&f, p, "nasnet-c/other", 1) < 0, "file of another kind refused");
	snprintf(p, sizeof p, "%s/new.h5", dir);
	write_sample(p, "nasnet-c/test", 9);
	ok(h5_open(&f, p, "nasnet-c/test", 1) < 0, "too-new schema version refused");
	snprintf(p, sizeof p, "%s/text.h5", dir);
	fp = fopen(p, "w");
	fputs("hello, not hdf5\n", fp);
	fclose(fp);
	ok(h5_open(&f, p, "nasnet-c/test", 1) < 0, "non-HDF5 file refused");
	snprintf(p, sizeof p, "%s/trunc.h5", dir);
	snprintf(cmd, sizeof cmd, "head -c 1000 %s/a.h5 > %s", dir, p);
	ok(system(cmd) == 0 && h5_open(&f, p, "nasnet-c/test", 1) < 0, "truncated file refused");
	snprintf(p, sizeof p, "%s/missing.h5", dir);
	ok(h5_open(&f, p, "nasnet-c/test", 1) < 0, "missing file refused");
}

static void test_abort(void)
{
	char p[300];
	struct h5f f;
	struct stat st;

	snprintf(p, sizeof p, "%s/aborted.h5", dir);
	ok(h5_create(&f, p, "nasnet-c/test", 1, NULL) == 0, "create");
	h5_abort(&f);
	ok(stat(p, &st) < 0 && !dir_has_tmp(), "abort leaves neither output nor temporary file");
}

static void test_rng(void)
{
	struct rng a, b, c;
	int same = 1, hist[10] = { 0 }, uniform = 1;
	double sum = 0, sq = 0;

	rng_stream(&a, 1, 2, 3, RNG_INIT);
	rng_stream(&b, 1, 2, 3, RNG_INIT);
	rng_stream(&c, 1, 2, 4, RNG_INIT);
	for (int i = 0; i < 100; i++)
		same &= rng_u64(&a) == rng_u64(&b);
	ok(same, "same (seed, a, b) gives the same stream");
	ok(rng_u64(&a) != rng_u64(&c), "different index gives another stream");
	for (int i = 0; i < 100000; i++)
		hist[rng_below(&a, 10)]++;
	for (int i = 0; i < 10; i++)
		uniform &= hist[i] > 9500 && hist[i] < 10500;
	ok(uniform, "rng_below is uniform");
	for (int i = 0; i < 100000; i++) {
		double x = rng_normal(&a);

		sum += x;
		sq += x * x;
	}
	ok(fabs(sum / 1e5) < 0.02 && fabs(sq / 1e5 - 1) < 0.03, "rng_normal has mean 0, var 1");
}

static void test_util(void)
{
	long v;
	double d;
	int dims[4];

	ok(parse_long("12", 0, 100, &v) == 0 && v == 12, "parse_long");
	ok(parse_long("12x", 0, 100, &v) < 0 && parse_long("101", 0, 100, &v) < 0,
	   "parse_long rejects junk and range");
	ok(parse_double("nan", -1, 1, &d) < 0 && parse_double("0.5", 0, 1, &d) == 0,
	   "parse_double rejects NaN");
	ok(parse_dims("3x224x224", dims, 4) == 3 && dims[2] == 224, "parse_dims");
	ok(parse_dims("3x0", dims, 4) < 0 && parse_dims("3xx2", dims, 4) < 0,
	   "parse_dims rejects zero and junk");
}

int main(void)
{
	progname = "test_h5io";
	h5_init();
	snprintf(dir, sizeof dir, "/tmp/nasnet-test-h5io.%d", (int)getpid());
	mkdir(dir, 0755);
	test_roundtrip();
	test_open_errors();
	test_abort();
	test_rng();
	test_util();
	{
		char cmd[300];

		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		if (system(cmd))
			diag("cleanup failed");
	}
	return tap_exit();
}
