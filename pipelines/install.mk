# pipelines/install.mk - make install / make uninstall (included by the top Makefile).
#
#   make install [PREFIX=/usr/local] [DESTDIR=]   the tools, a man page per tool,
#                the schemas, the reference genotypes, the NAS-Bench-201 table and,
#                when it has been made, data/fashion-mnist.h5
#   make uninstall [PREFIX=...] [DESTDIR=]        removes exactly those files
#   make man                                      build/man/TOOL.1 only
#
# Each man page is made from the tool's own --help text (pipelines/help2man.sh),
# so the two cannot drift. The installed tools find their data from their own
# location (BINDIR/../share/nasnet-c), so a DESTDIR tree can be moved whole.

PREFIX ?= /usr/local
DESTDIR ?=
INST_BIN := $(DESTDIR)$(PREFIX)/bin
INST_MAN := $(DESTDIR)$(PREFIX)/share/man/man1
INST_SHARE := $(DESTDIR)$(PREFIX)/share/nasnet-c
MANS := $(TOOLS:bin/%=build/man/%.1)
SHARE_FILES := $(wildcard schemas/*.md) $(wildcard data/genotypes/*.txt) \
	data/nb201-cifar10-12epoch.csv.gz data/nb201.LICENSE.md $(wildcard data/fashion-mnist.h5)

.PHONY: install uninstall man
man: $(MANS)

build/man/%.1: bin/% pipelines/help2man.sh
	@mkdir -p $(@D)
	$< --help | bash pipelines/help2man.sh $* $(VERSION) >$@.tmp.$$$$ && mv $@.tmp.$$$$ $@

install: all $(MANS)
	install -d $(INST_BIN) $(INST_MAN) $(INST_SHARE)/schemas $(INST_SHARE)/genotypes
	install -m 755 $(TOOLS) $(INST_BIN)/
	install -m 644 $(MANS) $(INST_MAN)/
	install -m 644 $(wildcard schemas/*.md) $(INST_SHARE)/schemas/
	install -m 644 $(wildcard data/genotypes/*.txt) $(INST_SHARE)/genotypes/
	install -m 644 $(filter-out schemas/% data/genotypes/%,$(SHARE_FILES)) $(INST_SHARE)/
	@echo "installed in $(DESTDIR)$(PREFIX): $(words $(TOOLS)) tools, their man pages, $(PREFIX)/share/nasnet-c"

uninstall:
	rm -f $(TOOLS:bin/%=$(INST_BIN)/%) $(MANS:build/man/%=$(INST_MAN)/%)
	rm -f $(patsubst schemas/%,$(INST_SHARE)/schemas/%,$(wildcard schemas/*.md)) \
		$(patsubst data/genotypes/%,$(INST_SHARE)/genotypes/%,$(wildcard data/genotypes/*.txt)) \
		$(INST_SHARE)/nb201-cifar10-12epoch.csv.gz $(INST_SHARE)/nb201.LICENSE.md \
		$(INST_SHARE)/fashion-mnist.h5
	@# only our own folders: PREFIX/bin and PREFIX/share/man are not ours to remove
	rmdir --ignore-fail-on-non-empty $(INST_SHARE)/schemas $(INST_SHARE)/genotypes $(INST_SHARE) \
		2>/dev/null || true
