# fuzz.mk - `make fuzz FUZZ_SECONDS=N`: every reader under libFuzzer (clang,
# with ASan + UBSan), one harness after another, N seconds each; `make
# fuzz-ci`, the third leg of `make test`, the same for FUZZ_CI_SECONDS each.
#
# Harnesses are tests/fuzz/fuzz_<name>.c, seeds tests/fuzz/corpus/<name>/.
# The library is rebuilt with clang's coverage instrumentation into
# build/fuzz/obj. tests/fuzz/run.sh runs the harnesses: for `make fuzz`,
# inputs the fuzzer finds go to build/fuzz/corpus/<name> (kept from run to
# run), crashing inputs to build/fuzz/crashes/<name>/ (copy them to
# tests/fuzz/regress/<name>/ once fixed), and executions per harness to
# build/fuzz/stats.tsv. `make fuzz-ci` starts each harness from a temporary
# copy of its seeds and regression inputs (nothing is written to tests/ or
# kept), with a fixed seed (FUZZ_CI_SEED), and writes to build/fuzz/ci/. HDF5
# 1.10's own decoder crashes on many corrupt files, so the h5* harnesses run
# in fork mode, going on past crashes, and a crash whose first frame outside
# the sanitizer runtime is inside libhdf5 is filed under
# build/fuzz/[ci/]upstream/<name>/ (not ours to fix; it does not fail the
# target); a saved input that runs clean when replayed alone (fork mode can
# save an empty input, and a job's leak report sums all its inputs) under
# build/fuzz/[ci/]unreproduced/<name>/, kept for a look. Needs clang, libclang-rt-14-dev (libFuzzer) and libomp-14-dev.
#
# The same harnesses, linked with gcc and tests/fuzz/driver.c instead of
# libFuzzer (build/fuzz/regress/fuzz_<name>), replay the seeds and the saved
# crashes in tests/t0920-fuzz-regressions.sh, without clang.
#
#   make fuzz                       all harnesses, FUZZ_SECONDS (60) each
#   make fuzz FUZZ=idx,png          just these
#   make fuzz-ci                    all harnesses, FUZZ_CI_SECONDS (5) each
#   make fuzz-build                 build the fuzzers only

FUZZ_SECONDS ?= 60
FUZZ_CI_SECONDS ?= 5
FUZZ_CI_SEED ?= 1
FUZZ_CI_TIMEOUT ?= 3
FUZZ_CC ?= clang
FUZZ_ALL := $(sort $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ ?= $(FUZZ_ALL)
comma := ,
FUZZ_LIST := $(subst $(comma), ,$(FUZZ))
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS = -std=gnu11 -O1 -g -fno-omit-frame-pointer -fopenmp -D_GNU_SOURCE $(LIB_INC) -Ibuild \
	-Itests/fuzz $(PKG_CFLAGS) -DNASNET_VERSION='"$(VERSION)"' -Wno-unknown-pragmas
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=build/fuzz/obj/%.o)
FUZZ_BINS = $(FUZZ_LIST:%=build/fuzz/fuzz_%)
FUZZ_REGRESS := $(FUZZ_ALL:%=build/fuzz/regress/fuzz_%)

.PHONY: fuzz fuzz-ci fuzz-build fuzz-regress
.SECONDARY: $(FUZZ_LIB_OBJ)

build/fuzz/obj/%.o: %.c build/gitrev.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) -MMD -MP -c -o $@ $<

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h tests/fuzz/fuzz_h5.h $(FUZZ_LIB_OBJ)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< $(FUZZ_LIB_OBJ) \
		$(PKG_LIBS) -lz -lm

# gcc, the project's flags (sanitizers too under check-asan), no libFuzzer
build/fuzz/regress/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/driver.c tests/fuzz/fuzz.h \
		tests/fuzz/fuzz_h5.h $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -Itests/fuzz -o $@ $< tests/fuzz/driver.c $(LIBA) $(LDLIBS_ALL)

fuzz-build: deps-fuzz
	@$(MAKE) --no-print-directory $(SUBMAKE_JOBS) $(FUZZ_BINS)
fuzz-regress: $(FUZZ_REGRESS)

fuzz: fuzz-build
	@bash tests/fuzz/run.sh --seconds $(FUZZ_SECONDS) $(FUZZ_LIST)

fuzz-ci: fuzz-build
	@bash tests/fuzz/run.sh --fresh --seconds $(FUZZ_CI_SECONDS) --timeout $(FUZZ_CI_TIMEOUT) \
		--seed $(FUZZ_CI_SEED) --out build/fuzz/ci $(FUZZ_LIST)

-include $(FUZZ_LIB_OBJ:.o=.d)
