/*
 * fuzz_genotext.c - the compact genotype text parser (lib/arch/genotext.c). A
 * parsed genotype must format, and the formatted text must parse back to
 * the same genotype (the round trip every tool relies on).
 */
#include "fuzz.h"
#include "genotype.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct genotype g, back;
	char buf[GENOTYPE_TEXT_MAX];
	char *text;

	progname = "fuzz_genotext";
	text = fuzz_strdup(data, size);
	if (genotype_parse(&g, text, "input") == 0) {
		if (genotype_format(&g, buf, sizeof(buf)) < 0)
			abort();
		if (genotype_parse(&back, buf, "formatted") < 0 || !genotype_equal(&g, &back))
			abort();
	}
	if (genotype_parse_any(&g, text, "input") == 0 && genotype_validate(&g, "input") < 0)
		abort();
	free(text);
	return 0;
}
