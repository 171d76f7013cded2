# fuzz.mk - `make fuzz FUZZ_SECONDS=N`: every reader under libFuzzer (clang,
# with ASan + UBSan), one harness after another, N seconds each.
#
# Harnesses are tests/fuzz/fuzz_<name>.c, seeds tests/fuzz/corpus/<name>/.
# The library is rebuilt with clang's coverage instrumentation into
# build/fuzz/obj; inputs the fuzzer finds go to build/fuzz/corpus/<name>,
# crashing inputs to build/fuzz/crashes/<name>/ (copy them to
# tests/fuzz/regress/<name>/ once fixed), and executions per harness to
# build/fuzz/stats.tsv. HDF5 1.10's own decoder crashes on many corrupt
# files, so the h5* harnesses run in fork mode, going on past crashes, and a
# crash whose first frame outside the sanitizer runtime is inside libhdf5 is
# filed under build/fuzz/upstream/<name>/ (not ours to fix; it does not fail
# the target). Needs clang and libclang-rt-14-dev (libFuzzer).
#
# The same harnesses, linked with gcc and tests/fuzz/driver.c instead of
# libFuzzer (build/fuzz/regress/fuzz_<name>), replay the seeds and the saved
# crashes in tests/t0920-fuzz-regressions.sh, so `make test` needs no clang.
#
#   make fuzz                       all harnesses, FUZZ_SECONDS (60) each
#   make fuzz FUZZ=idx,png          just these
#   make fuzz-build                 build the fuzzers only

FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_ALL := $(sort $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ ?= $(FUZZ_ALL)
comma := ,
FUZZ_LIST := $(subst $(comma), ,$(FUZZ))
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS = -std=gnu11 -O1 -g -fno-omit-frame-pointer -fopenmp -D_GNU_SOURCE -Ilib -Ibuild \
	-Itests/fuzz $(PKG_CFLAGS) -DNASNET_VERSION='"$(VERSION)"' -Wno-unknown-pragmas
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=build/fuzz/obj/%.o)
FUZZ_BINS = $(FUZZ_LIST:%=build/fuzz/fuzz_%)
FUZZ_REGRESS := $(FUZZ_ALL:%=build/fuzz/regress/fuzz_%)

.PHONY: fuzz fuzz-build fuzz-regress
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
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
fuzz-regress: $(FUZZ_REGRESS)

fuzz: fuzz-build
	@mkdir -p build/fuzz/logs; : >build/fuzz/stats.tsv
	@for h in $(FUZZ_LIST); do \
		mkdir -p build/fuzz/corpus/$$h build/fuzz/crashes/$$h; \
		echo "fuzz: $$h for $(FUZZ_SECONDS) s"; \
		rc=0; TMPDIR=$${TMPDIR:-/tmp} HDF5_USE_FILE_LOCKING=FALSE \
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		case $$h in h5*) fork='-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1';; \
			*) fork=;; esac; \
		build/fuzz/fuzz_$$h $$fork -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-rss_limit_mb=2048 -malloc_limit_mb=512 -close_fd_mask=2 \
			-artifact_prefix=build/fuzz/crashes/$$h/ \
			build/fuzz/corpus/$$h tests/fuzz/corpus/$$h \
			>build/fuzz/logs/$$h.log 2>&1 || rc=$$?; \
		runs=$$(grep -oE '^Done [0-9]+ runs' build/fuzz/logs/$$h.log | grep -oE '[0-9]+' || \
			grep -oE '^#[0-9]+' build/fuzz/logs/$$h.log | tail -1 | tr -d '#'); \
		mkdir -p build/fuzz/upstream/$$h; \
		for c in build/fuzz/crashes/$$h/*; do \
			[ -f "$$c" ] || continue; \
			top=$$(build/fuzz/fuzz_$$h -timeout=10 $$c 2>&1 | grep -E '^ +#[0-9]+ 0x' | \
				grep -vE 'fuzzer::|__sanitizer|__interceptor|libc\.so|asan_|ubsan_|in (malloc|calloc|realloc|free) ' | head -1); \
			case $$top in *libhdf5*) mv $$c build/fuzz/upstream/$$h/;; esac; \
		done; \
		crashes=$$(ls build/fuzz/crashes/$$h | wc -l); \
		upstream=$$(ls build/fuzz/upstream/$$h | wc -l); \
		case $$h in h5*) rc=0;; esac; \
		printf '%s\t%s\t%s\t%s\t%s\n' "$$h" "$${runs:-0}" "$$crashes" "$$rc" "$$upstream" \
			>>build/fuzz/stats.tsv; \
		echo "fuzz: $$h: $${runs:-0} executions, exit $$rc, $$crashes crash input(s)," \
			"$$upstream inside libhdf5"; \
	done
	@! awk -F'\t' '$$3 > 0 || $$4 != 0 {bad=1} END {exit !bad}' build/fuzz/stats.tsv

-include $(FUZZ_LIB_OBJ:.o=.d)
