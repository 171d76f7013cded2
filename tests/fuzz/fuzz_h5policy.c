/*
 * fuzz_h5policy.c - policy_read (lib/search/policyfile.c) on a nasnet-c/policy file.
 */
#include "policy.h"

#define FUZZ_H5_TAG "h5policy"
#include "fuzz_h5.h"

static void fuzz_h5_read(const char *path)
{
	struct policy p;

	if (policy_read(&p, path) == 0)
		policy_free(&p);
}
