/*
 * test_blas.c - OpenBLAS core selection (lib/core/blas.c): the sgemm check
 * passes on this machine's core, blas_select() keeps a core the user chose
 * through OPENBLAS_CORETYPE (no re-exec) and records the check, and the
 * provenance string names the running core.
 */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "../tap.h"

int main(int argc, char **argv)
{
	char buf[256];
	const char *core = openblas_get_corename();

	ok(blas_verify() == 0, "cblas_sgemm on core %s agrees with the naive product", core);
	if (getenv("OPENBLAS_CORETYPE") || getenv("NASNET_BLAS")) {
		ok(blas_select(argc, argv) == 0, "blas_select keeps the chosen core and returns");
	} else {
		/* may re-exec this test once with a faster core: it then runs again from the top */
		ok(blas_select(argc, argv) == 0, "blas_select returns after choosing");
	}
	ok(getenv("NASNET_BLAS_CHECK") && !strcmp(getenv("NASNET_BLAS_CHECK"), "verified"),
	   "the check is recorded for provenance");
	blas_describe(buf, sizeof buf);
	ok(!strncmp(buf, openblas_get_corename(), strlen(openblas_get_corename())) &&
	   strstr(buf, "verified"), "describe: %s", buf);
	return tap_exit();
}
