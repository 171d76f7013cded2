# nasnet-c - NASNet-style architecture search as a pipeline of small C tools.
#
#   make            build lib (build/libnasnet.a) and every tool (bin/)
#   make test       build and run every test, also under ASan+UBSan, and each fuzz
#                   harness briefly; ends with "N passed, N failed"
#   make search     the main job (see pipelines/search.mk and README.md);
#                   SCHEDULE=sha ETA=3 RUNGS=3 for successive halving inside each round
#   make fidelity   how far the cheap reward ranks cells like an expensive one: FID_CELLS
#                   random cells at the CHILD_* budget, each rung and HI_N/HI_F/HI_EPOCHS/
#                   HI_TRAIN_IMAGES (RUN/fidelity.txt; pipelines/fidelity.mk)
#   make install    tools, man pages, schemas, genotypes under PREFIX (DESTDIR); make uninstall
#   make experiment searches of each STRATEGIES x SCHEDULES x SEEDS stopped at BUDGET
#                   training images, top-k curves, best cells transferred against NASNet-A
#                   and RANDOM_CELLS random cells (EXP/report.md; variables: make help-experiment)
#   make data       data/fashion-mnist.h5 from Debian's dataset-fashion-mnist
#   make bench      speed/memory against PyTorch (not part of make test)
#   make deps       install missing Debian packages (apt-get), or say how
#
# Flags come from pkg-config. No -ffast-math/-Ofast: the NaN-loss check needs
# IEEE semantics. SIMD paths are chosen at run time, so the default build runs
# on any x86-64 machine. CI=1 (or WERROR=1) adds -Werror.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
.SUFFIXES:
.DEFAULT_GOAL := all

PKGS := hdf5 openblas libpng libprotobuf-c
# recursive (=) on purpose: evaluated after `deps` has installed pkg-config
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS))

CC ?= cc
OPT ?= -O2
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
	-Wformat=2 -Wno-format-nonliteral -Wundef -Wcast-align -Wvla -Wno-unused-parameter
ifneq ($(strip $(CI)$(WERROR)),)
WARN += -Werror
endif
VERSION := 0.1.0
CFLAGS_ALL = -std=gnu11 $(OPT) -g $(WARN) -fopenmp -D_GNU_SOURCE $(LIB_INC) -Ibuild $(PKG_CFLAGS) \
	-DNASNET_VERSION='"$(VERSION)"' $(CFLAGS) $(EXTRA_CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lz -lm -fopenmp $(LDLIBS) $(EXTRA_LDFLAGS)

# lib/ is in layer folders, lowest first (README.md "Source layout"); each is
# on the include path, so sources name headers without their folder.
LIB_DIRS := core ops arch net io search train cli
LIB_INC := $(LIB_DIRS:%=-Ilib/%)
LIB_SRC := $(sort $(wildcard $(LIB_DIRS:%=lib/%/*.c)))
# a source left in lib/ itself or in a folder not listed would silently not be built
LIB_STRAY := $(wildcard lib/*.c lib/*.h) $(filter-out $(LIB_DIRS:%=lib/%/),$(wildcard lib/*/))
ifneq ($(strip $(LIB_STRAY)),)
$(error $(firstword $(LIB_STRAY)): lib/ sources belong in one of the layer folders $(LIB_DIRS) (Makefile LIB_DIRS))
endif
TOOL_SRC := $(sort $(wildcard tools/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
LIB_OBJ := $(LIB_SRC:%.c=build/obj/%.o)
TOOLS := $(TOOL_SRC:tools/%.c=bin/%)
UNITS := $(UNIT_SRC:tests/unit/%.c=build/tests/%)
LIBA := build/libnasnet.a

.PHONY: all deps deps-test deps-bench deps-fuzz test check clean data bench help

all: $(TOOLS)

help:
	@sed -n '2,/^#$$/p' Makefile | sed '$$d; s/^# \{0,1\}//'

# ---- dependencies: Debian packages (pipelines/deps.sh prints or runs apt-get) ----
DEPS_BUILD := gcc make pkg-config libhdf5-dev hdf5-tools libopenblas-dev libpng-dev zlib1g-dev \
	parallel dataset-fashion-mnist protobuf-c-compiler libprotobuf-c-dev libonnx-dev
# clang with libFuzzer and its OpenMP runtime: the fuzz leg of `make test`
FUZZ_PKGS := clang libclang-rt-14-dev libomp-14-dev
DEPS_TEST := $(DEPS_BUILD) python3 python3-h5py python3-numpy openssh-server openssh-client \
	graphviz gnuplot-nox perl rsync python3-onnx python3-opencv $(FUZZ_PKGS)
DEPS_BENCH := $(DEPS_TEST) python3-torch
DEPS_FUZZ := $(DEPS_BUILD) $(FUZZ_PKGS)

deps:
	@bash pipelines/deps.sh $(DEPS_BUILD)
deps-test:
	@bash pipelines/deps.sh $(DEPS_TEST)
deps-bench:
	@bash pipelines/deps.sh $(DEPS_BENCH)
deps-fuzz:
	@bash pipelines/deps.sh $(DEPS_FUZZ)

# ---- build ----
# build/gitrev.h changes only when the revision does, so a commit rebuilds
# just the files that record it (provenance, --version).
build/gitrev.h: FORCE
	@mkdir -p $(@D)
	@rev=$$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown); \
	git diff --quiet HEAD -- lib tools 2>/dev/null || rev=$$rev-dirty; \
	line="#define NASNET_GIT_REV \"$$rev\""; \
	[ -f $@ ] && [ "$$(cat $@)" = "$$line" ] || echo "$$line" > $@
.PHONY: FORCE
FORCE:

build/obj/lib/core/h5io.o build/obj/lib/cli/cli.o build/obj/lib/io/onnx.o: build/gitrev.h

# The ONNX protobuf code: generated from Debian's onnx.proto (libonnx-dev) with
# protoc-c, never committed; lib/io/onnxpb.c compiles it (lib/io/onnx.c uses it).
ONNX_PROTO := /usr/include/onnx/onnx.proto
build/gen/onnx.pb-c.c build/gen/onnx.pb-c.h &: | deps
	@mkdir -p $(@D)
	rm -rf $(@D)/tmp.$$$$ && mkdir $(@D)/tmp.$$$$ && \
	protoc-c --c_out=$(@D)/tmp.$$$$ -I$(dir $(ONNX_PROTO)) $(ONNX_PROTO) && \
	mv $(@D)/tmp.$$$$/onnx.pb-c.c $(@D)/tmp.$$$$/onnx.pb-c.h $(@D)/ && rmdir $(@D)/tmp.$$$$
build/obj/lib/io/onnx.o build/obj/lib/io/onnxpb.o build/fuzz/obj/lib/io/onnx.o \
	build/fuzz/obj/lib/io/onnxpb.o: build/gen/onnx.pb-c.h build/gen/onnx.pb-c.c

# Objects and binaries are written under a temporary name and renamed, so a
# second make running at the same time (tests start `make search`, which
# depends on `all`) never reads a half-written file.
build/obj/%.o: %.c | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -MMD -MP -MF $(@:.o=.d) -MT $@ -c -o $@.tmp.$$$$ $< && mv $@.tmp.$$$$ $@

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@.tmp.$$$$ && ar rcs $@.tmp.$$$$ $^ && mv $@.tmp.$$$$ $@

bin/%: build/obj/tools/%.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) -o $@.tmp.$$$$ $< $(LIBA) $(LDLIBS_ALL) && mv $@.tmp.$$$$ $@

build/tests/%: build/obj/tests/unit/%.o $(LIBA)
	@mkdir -p $(@D)
	$(CC) -o $@.tmp.$$$$ $< $(LIBA) $(LDLIBS_ALL) && mv $@.tmp.$$$$ $@

-include $(LIB_OBJ:.o=.d) $(TOOL_SRC:%.c=build/obj/%.d) $(UNIT_SRC:%.c=build/obj/%.d)
# Tool and test objects are made by a chain of pattern rules, so make would
# delete them as intermediates after a clean build; the next make (now told
# about them by the .d files) would then recompile and relink every tool.
.SECONDARY: $(TOOL_SRC:%.c=build/obj/%.o) $(UNIT_SRC:%.c=build/obj/%.o)

# ---- tests: C unit tests (TAP) and tool-level TAP shell scripts ----
# `make test` runs three legs one after another, each a section of per-file
# lines closing with "LEG: N passed, N failed", then the sum of the three:
#   suite  unit tests (build/tests/test_*) and shell tests (tests/t*.sh)
#   asan   the same suite built with ASan + UBSan in build/asan (pipelines/asan.mk);
#          each sanitizer report counts as a failure
#   fuzz   every libFuzzer harness for FUZZ_CI_SECONDS (pipelines/fuzz.mk)
# A leg that fails without counting a failure (say, its build) counts as one.
# TEST_LEGS='suite' (or any subset) runs fewer; `make test-suite` is the first alone.
TEST_LEGS ?= suite asan fuzz
TESTS_SH := $(sort $(wildcard tests/t[0-9]*.sh))
# the test builds run BUILD_JOBS compilers, unless make was started with -j
BUILD_JOBS ?= 2
SUBMAKE_JOBS = $(if $(findstring -j,$(MAKEFLAGS)),,-j$(BUILD_JOBS))

.PHONY: test-suite test-asan test-fuzz
test: deps-test
	@mkdir -p build; totals=$$(mktemp build/test-totals.XXXXXX); rc=0; \
	for leg in $(TEST_LEGS); do \
		echo "== $$leg"; start=$$(date +%s); lrc=0; \
		TEST_LEG=$$leg TEST_TOTALS=$(CURDIR)/$$totals \
			$(MAKE) --no-print-directory test-$$leg || lrc=$$?; \
		if [ $$lrc -ne 0 ]; then \
			rc=1; \
			awk -v l=$$leg '$$3 == l && $$2 > 0 {f = 1} END {exit !f}' $$totals || \
				echo "0 1 $$leg" >>$$totals; \
		fi; \
		echo "== $$leg: $$(( $$(date +%s) - start ))s"; \
	done; \
	awk '!($$3 in p) {legs[++n] = $$3} {p[$$3] += $$1; f[$$3] += $$2; tp += $$1; tf += $$2} \
		END {printf "== legs:"; for (i = 1; i <= n; i++) printf " %s %d/%d", legs[i], \
			p[legs[i]], f[legs[i]]; printf " (passed/failed)\n%d passed, %d failed\n", tp, tf}' \
		$$totals; \
	rm -f $$totals; exit $$rc

test-suite: deps-test ort
	@$(MAKE) --no-print-directory $(SUBMAKE_JOBS) all $(UNITS) $(BENCH_BIN)
	@bash tests/run.sh $(UNITS) $(TESTS_SH)
test-asan: check-asan
test-fuzz: fuzz-ci

check: test

# ---- onnxruntime for the ONNX parity test (t0960), best effort ----
# npm's onnxruntime-node (CPU build in the package; its install script only
# fetches CUDA parts, skipped) in ORT_DIR. Exported, so the asan leg's copy
# uses the same folder. When npm is missing or the install fails, ORT_DIR/why
# says so and t0960 skips onnxruntime (OpenCV still runs every model).
export ORT_DIR ?= $(CURDIR)/build/ort
ORT_VERSION := 1.30.0
.PHONY: ort
ort:
	@d=$(ORT_DIR); [ -f $$d/node_modules/onnxruntime-node/package.json ] && exit 0; \
	mkdir -p $$d; \
	if ! command -v npm >/dev/null || ! command -v node >/dev/null; then \
		echo "npm/node not found" >$$d/why; exit 0; fi; \
	echo "ort: npm install onnxruntime-node@$(ORT_VERSION) in $$d" >&2; \
	if ONNXRUNTIME_NODE_INSTALL=skip timeout 600 npm install --prefix $$d --no-audit --no-fund \
		--no-save --cache $$d/.npm onnxruntime-node@$(ORT_VERSION) >$$d/npm.log 2>&1 && \
		NODE_PATH=$$d/node_modules node -e "require('onnxruntime-node')" >>$$d/npm.log 2>&1; then \
		rm -f $$d/why; \
	else \
		echo "npm install onnxruntime-node@$(ORT_VERSION) failed, see $$d/npm.log" >$$d/why; \
		rm -rf $$d/node_modules; \
	fi

# ---- data ----
FASHION_DIR := /usr/share/datasets/fashion-mnist
data: data/fashion-mnist.h5
data/fashion-mnist.h5: | deps all
	bin/import-data idx --train-images $(FASHION_DIR)/train-images-idx3-ubyte.gz \
		--train-labels $(FASHION_DIR)/train-labels-idx1-ubyte.gz \
		--test-images $(FASHION_DIR)/t10k-images-idx3-ubyte.gz \
		--test-labels $(FASHION_DIR)/t10k-labels-idx1-ubyte.gz \
		--classes T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle-boot \
		--valid 5000 --seed 1 -o $@

# every pipelines/*.mk but rounds.mk, which search.sh runs on its own (make -f):
# included here it would define a `rounds` target for an empty RUN
-include $(filter-out pipelines/rounds.mk,$(wildcard pipelines/*.mk))

clean:
	rm -rf build bin
