# asan.mk - `make check-asan`: the whole test suite under AddressSanitizer +
# UndefinedBehaviorSanitizer (and LeakSanitizer).
#
# The sources are copied (tar, keeping times, so rebuilds are incremental) to build/asan/src, which has
# its own build/ and bin/, and `make test` runs there with sanitizer flags, so
# the normal build/ and bin/ are never touched. Sanitizer reports go to files
# in build/asan/logs (not to the tests' stderr, whose one-line checks would
# hide them); the target fails when the tests fail or when any report exists.
# LeakSanitizer reports from the internals of OpenBLAS, HDF5 and libgomp are
# suppressed (build/asan/lsan.supp); leaks in our code are not, with one
# named exception: cli_init's copy of argv, which lives as long as the process
# and is never freed by the tools (to drop once lib/cli.c frees it).
#
#   make check-asan                  build + run everything (ASAN_JOBS=2 tests at a time)

ASAN_DIR := build/asan
ASAN_SRC := $(ASAN_DIR)/src
ASAN_LOGS := $(CURDIR)/$(ASAN_DIR)/logs
ASAN_SUPP := $(CURDIR)/$(ASAN_DIR)/lsan.supp
ASAN_FLAGS := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_JOBS ?= 2
ASAN_ENV = ASAN_OPTIONS=detect_leaks=1:log_path=$(ASAN_LOGS)/asan:verify_asan_link_order=0 \
	LSAN_OPTIONS=suppressions=$(ASAN_SUPP):print_suppressions=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$(ASAN_LOGS)/ubsan \
	TEST_JOBS=$(ASAN_JOBS) NASNET_SANITIZED=1

.PHONY: check-asan asan-sync
asan-sync:
	@mkdir -p $(ASAN_SRC)
	cd $(ASAN_SRC) && rm -rf Makefile lib tools tests pipelines schemas data bench
	tar -c --exclude=./.git --exclude=./build --exclude=./bin --exclude=./runs \
		--exclude='./data/*.h5' . | tar -x -C $(ASAN_SRC)
	@printf '%s\n' 'leak:libopenblas' 'leak:libhdf5' 'leak:libgomp' 'leak:cli_init' >$(ASAN_SUPP)

check-asan: asan-sync
	@rm -rf $(ASAN_LOGS); mkdir -p $(ASAN_LOGS)
	@rc=0; $(ASAN_ENV) $(MAKE) --no-print-directory -C $(ASAN_SRC) test \
		OPT='$(ASAN_FLAGS)' EXTRA_LDFLAGS='-fsanitize=address,undefined' || rc=$$?; \
	reports=$$(ls $(ASAN_LOGS) | wc -l); \
	if [ $$reports -gt 0 ]; then \
		echo "check-asan: $$reports sanitizer report(s) in $(ASAN_LOGS):"; \
		for f in $(ASAN_LOGS)/*; do echo "== $$f"; grep -m3 -E 'ERROR|runtime error|SUMMARY' $$f; done; \
		exit 1; \
	fi; \
	[ $$rc -eq 0 ] && echo "check-asan: clean (no sanitizer reports)"; exit $$rc
