# asan.mk - `make check-asan`: the whole test suite (unit tests and shell
# tests) against binaries built with AddressSanitizer + UndefinedBehaviorSanitizer
# (and LeakSanitizer). The second leg of `make test`.
#
# The sources are copied (tar, keeping times, so rebuilds are incremental) to
# build/asan/src, which has its own build/ and bin/, and `make test-suite`
# runs there, so the normal build/ and bin/ are never touched. The sanitizer
# flags go in the environment, not on make's command line, so that the
# `make search` the tests start (tests/lib.sh drops MAKEFLAGS) builds the same
# way. -O2 as in the normal build: the sanitized binaries run the same
# vectorised kernels, and the suite takes half the time it takes at -O1.
#
# Sanitizer reports go to files in build/asan/logs (not to the tests' stderr,
# whose one-line checks would hide them); the target fails when the tests fail
# or when any report exists, and inside `make test` each report counts as a
# failure. tests/asan-defaults.c, linked into every sanitized binary, holds the
# default options (UBSan halts on a finding; leaks are checked) and the leak
# suppressions, so that they hold also over ssh (t0810). Tests that cannot run
# as they are under ASan see NASNET_SANITIZED=1 (t0910 caps allocations with
# ASan's allocator instead of `ulimit -v`, which ASan's shadow memory exceeds).
#
#   make check-asan                  build + run everything (ASAN_JOBS=2 tests at a time)

ASAN_DIR := build/asan
ASAN_SRC := $(ASAN_DIR)/src
ASAN_LOGS := $(CURDIR)/$(ASAN_DIR)/logs
ASAN_DEFAULTS := $(CURDIR)/$(ASAN_DIR)/asan-defaults.o
ASAN_SAN := -fsanitize=address,undefined
# UBSan's pointer-overflow and alignment checks stop gcc from vectorising the
# kernels' loops: with them the suite's training takes ~1.6x as long. ASan
# still catches out-of-bounds pointers, the kernels load vectors with memcpy,
# and the fuzz harnesses (clang) keep both checks on every file reader.
ASAN_OPT := -O2 $(ASAN_SAN) -fno-sanitize=pointer-overflow,alignment -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
ASAN_JOBS ?= 2
ASAN_ENV = OPT='$(ASAN_OPT)' EXTRA_LDFLAGS='$(ASAN_SAN) $(ASAN_DEFAULTS)' \
	ASAN_OPTIONS=log_path=$(ASAN_LOGS)/asan UBSAN_OPTIONS=log_path=$(ASAN_LOGS)/ubsan \
	TEST_JOBS=$(ASAN_JOBS) BUILD_JOBS=$(ASAN_JOBS) NASNET_SANITIZED=1

.PHONY: check-asan asan-sync
# objects built with other flags are dropped (make does not track flags)
asan-sync:
	@mkdir -p $(ASAN_SRC)
	@echo '$(ASAN_OPT)' | cmp -s - $(ASAN_DIR)/flags || \
		{ rm -rf $(ASAN_SRC)/build $(ASAN_SRC)/bin; echo '$(ASAN_OPT)' >$(ASAN_DIR)/flags; }
	@cd $(ASAN_SRC) && rm -rf Makefile lib tools tests pipelines schemas data bench
	@tar -c --exclude=./.git --exclude=./build --exclude=./bin --exclude=./runs \
		--exclude='./data/*.h5' . | tar -x -C $(ASAN_SRC)

$(ASAN_DEFAULTS): tests/asan-defaults.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 $(WARN) -c -o $@ $<

check-asan: asan-sync $(ASAN_DEFAULTS)
	@rm -rf $(ASAN_LOGS); mkdir -p $(ASAN_LOGS)
	@rc=0; $(ASAN_ENV) $(MAKE) --no-print-directory -C $(ASAN_SRC) test-suite || rc=$$?; \
	reports=$$(ls $(ASAN_LOGS) | wc -l); \
	if [ $$reports -gt 0 ]; then \
		echo "check-asan: $$reports sanitizer report(s) in $(ASAN_LOGS):"; \
		for f in $(ASAN_LOGS)/*; do echo "== $$f"; grep -m3 -E 'ERROR|runtime error|SUMMARY' $$f || true; done; \
		[ -n "$${TEST_TOTALS:-}" ] && echo "0 $$reports $${TEST_LEG:-asan}" >>"$$TEST_TOTALS"; \
		exit 1; \
	fi; \
	[ $$rc -eq 0 ] && echo "check-asan: clean (no sanitizer reports)"; exit $$rc
