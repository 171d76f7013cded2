/*
 * fuzz_darts.c - the DARTS genotype notation parser (lib/arch/genotext.c). A
 * parsed genotype is valid, and when it formats in DARTS notation again the
 * text parses back to the same genotype.
 */
#include "fuzz.h"
#include "genotype.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct genotype g, back;
	char buf[GENOTYPE_TEXT_MAX];
	char *text;

	progname = "fuzz_darts";
	text = fuzz_strdup(data, size);
	if (genotype_parse_darts(&g, text, "input") == 0) {
		if (genotype_validate(&g, "input") < 0)
			abort();
		if (genotype_format_darts(&g, buf, sizeof(buf)) >= 0 &&
		    (genotype_parse_darts(&back, buf, "formatted") < 0 || !genotype_equal(&g, &back)))
			abort();
	}
	free(text);
	return 0;
}
