/*
 * test_space.c - search spaces as data, the action <-> genotype / cell
 * string maps, regularized evolution and the NB201 table.
 */
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "evolution.h"
#include "genotype.h"
#include "nb201.h"
#include "rng.h"
#include "space.h"

static void test_counts(void)
{
	struct space s;
	int total = 0;

	ok(space_get(&s, "nasnet") == 0 && s.ndecisions == 50, "nasnet has 50 decisions");
	for (int i = 0; i < 5; i++)
		total += s.d[i].nchoices;
	ok(total == 2 + 2 + 13 + 13 + 2, "nasnet block 0 choices 2,2,13,13,2");
	ok(s.d[45].nchoices == 6 && s.d[45].cell == 1 && s.d[45].kind == DEC_INPUT,
	   "nasnet decision 45 is the reduction cell's block 4 input A (6 choices)");
	ok(space_get(&s, "enas") == 0 && s.ndecisions == 40 && s.d[2].nchoices == 5,
	   "enas has 40 decisions, 5 ops");
	ok(space_get(&s, "nb201") == 0 && s.ndecisions == 6 && s.d[5].nchoices == 5,
	   "nb201 has 6 edges x 5 ops");
	ok(space_get(&s, "nope") < 0, "unknown space is an error");
}

static void test_roundtrip(const char *name)
{
	struct space s;
	struct rng r;
	int a[SPACE_MAX_DECISIONS], b[SPACE_MAX_DECISIONS], good = 1;
	struct genotype g;

	space_get(&s, name);
	rng_seed(&r, 7);
	for (int k = 0; k < 500 && good; k++) {
		space_sample_uniform(&s, &r, a);
		if (space_to_genotype(&s, a, &g) < 0 || genotype_validate(&g, name) < 0 ||
		    space_from_genotype(&s, &g, b, name) < 0 ||
		    memcmp(a, b, (size_t)s.ndecisions * sizeof(int)))
			good = 0;
	}
	ok(good, "%s: 500 random actions -> valid genotype -> same actions", name);
}

static void test_foreign(void)
{
	struct space s, e;
	struct genotype g;
	int a[SPACE_MAX_DECISIONS];

	space_get(&s, "nasnet");
	space_get(&e, "enas");
	ok(genotype_builtin(&g, "nasnet-a") == 0 && space_from_genotype(&s, &g, a, "nasnet-a") == 0,
	   "NASNet-A maps to nasnet actions");
	ok(space_from_genotype(&e, &g, a, "nasnet-a") < 0, "a nasnet genotype is refused by enas");
}

static void test_nb201_strings(void)
{
	struct space s;
	int a[NB201_EDGES], b[NB201_EDGES], good = 1;
	char cell[NB201_CELL_MAX];

	space_get(&s, "nb201");
	for (int code = 0; code < NB201_CELLS && good; code++) {
		for (int e = NB201_EDGES - 1, c = code; e >= 0; e--, c /= NB201_OPS)
			a[e] = c % NB201_OPS;
		if (nb201_code(a) != code || space_to_nb201(&s, a, cell, sizeof(cell)) < 0 ||
		    space_from_nb201(&s, cell, b, "test") < 0 || memcmp(a, b, sizeof(a)))
			good = 0;
	}
	ok(good, "all 15625 nb201 cells round-trip through their cell strings");
	ok(space_from_nb201(&s, "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|x~2|", b,
			    "test") < 0,
	   "unknown nb201 op is an error");
	ok(space_from_nb201(&s, "|nor_conv_3x3~1|+|none~0|skip_connect~1|+|none~0|none~1|none~2|",
			    b, "test") < 0,
	   "wrong nb201 edge input is an error");
}

static void test_evolution(void)
{
	struct space s;
	struct rng r;
	struct evolution_config c;
	struct evo_member *h = calloc(40, sizeof(*h));
	int a[SPACE_MAX_DECISIONS], b[SPACE_MAX_DECISIONS], good = 1, ops = 0, ins = 0;

	space_get(&s, "nasnet");
	rng_seed(&r, 3);
	for (int k = 0; k < 1000 && good; k++) {
		int diff = 0, at = -1;

		space_sample_uniform(&s, &r, a);
		evolution_mutate(&s, a, &r, b);
		for (int i = 0; i < s.ndecisions; i++)
			if (a[i] != b[i]) {
				diff++;
				at = i;
			}
		good = diff == 1 && space_check_actions(&s, b, "mutant") == 0;
		if (good && s.d[at].kind == DEC_OP)
			ops++;
		else if (good && s.d[at].kind == DEC_INPUT)
			ins++;
		else
			good = 0;
	}
	ok(good, "a mutation changes exactly one op or input");
	ok(ops > 400 && ins > 400, "ops and inputs are mutated about equally (%d, %d)", ops, ins);
	/* tournament: the best member of a population is the most frequent parent */
	evolution_config_default(&c);
	for (int i = 0; i < 40; i++) {
		space_sample_uniform(&s, &r, h[i].a);
		h[i].reward = i == 30 ? 1.0 : 0.1;
	}
	{
		int from_best = 0;

		for (int k = 0; k < 1000; k++) {
			int diff = 0;

			evolution_propose(&s, &c, h, 40, &r, a);
			for (int i = 0; i < s.ndecisions; i++)
				diff += a[i] != h[30].a[i];
			from_best += diff == 1;
		}
		/* P(best in a tournament of 5 from 20) = 1 - 0.95^5 = 0.226 */
		ok(from_best > 170 && from_best < 290, "tournament picks the best %d/1000 times",
		   from_best);
	}
	{
		struct rng r1, r2;

		rng_stream(&r1, 9, 2, 3, RNG_SAMPLE);
		rng_stream(&r2, 9, 2, 3, RNG_SAMPLE);
		evolution_propose(&s, &c, h, 40, &r1, a);
		evolution_propose(&s, &c, h, 40, &r2, b);
		ok(!memcmp(a, b, (size_t)s.ndecisions * sizeof(int)), "evolution is deterministic");
		evolution_propose(&s, &c, h, 10, &r1, a);
		ok(space_check_actions(&s, a, "init") == 0, "a short history gives a random member");
	}
	free(h);
}

static void test_table(void)
{
	struct nb201_table *t = malloc(sizeof(*t));
	struct space s;
	int a[NB201_EDGES];

	space_get(&s, "nb201");
	ok(nb201_load(t, "data/nb201-cifar10-12epoch.csv.gz") == 0, "NB201 table loads (15625 cells)");
	space_from_nb201(&s, "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|"
			 "nor_conv_3x3~1|skip_connect~2|", a, "row 1");
	ok(t->index[nb201_code(a)] == 1 && fabs(t->valid[nb201_code(a)] - 82.834) < 1e-3 &&
	   fabs(t->test[nb201_code(a)] - 88.22) < 1e-9, "row 1 looks up to valid 82.834, test 88.22");
	ok(nb201_load(t, "tests/unit/test_space.c") < 0, "a non-table file is refused");
	free(t);
}

int main(void)
{
	test_counts();
	test_roundtrip("nasnet");
	test_roundtrip("enas");
	test_foreign();
	test_nb201_strings();
	test_evolution();
	test_table();
	return tap_exit();
}
