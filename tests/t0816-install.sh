#!/usr/bin/env bash
# t0816-install.sh - make install / uninstall (PREFIX, DESTDIR), man pages made
# from --help, installed tools that find their data from their own location,
# and the README's usage: a round's children run by hand in the round folder
# (`parallel train-child ::: arch_*.h5`) with the installed tools, then picked
# up by make search with results byte-identical to a search that trained them.
. "$(dirname "$0")/lib.sh"

prefix=$tmp/prefix
make --no-print-directory -s install PREFIX="$prefix" >"$tmp/out" 2>&1; rc=$?
t "make install PREFIX=... installs" '[ $rc = 0 ]' || sed 's/^/# /' "$tmp/out"
t "every tool and its man page are installed" \
	'for x in bin/*; do b=${x#bin/}; [ -x "$prefix/bin/$b" ] && [ -s "$prefix/share/man/man1/$b.1" ] || exit 1; done'
t "schemas, reference genotypes and the NAS-Bench-201 table are installed" \
	'[ -s "$prefix/share/nasnet-c/schemas/genotype.md" ] && [ -s "$prefix/share/nasnet-c/genotypes/nasnet-a.txt" ] && [ -s "$prefix/share/nasnet-c/nb201-cifar10-12epoch.csv.gz" ]'
MANPATH=$prefix/share/man man -w train-child >"$tmp/out" 2>&1; rc=$?
t "man finds train-child under PREFIX/share/man" '[ $rc = 0 ] && grep -q "$prefix/share/man/man1/train-child.1" "$tmp/out"'
# the page's body is the --help text, line for line
ok=0
for x in bin/*; do
	b=${x#bin/}
	sed -n '/^\.nf$/,/^\.fi$/p' "$prefix/share/man/man1/$b.1" | sed '1d;$d' |
		sed -e 's/^\\&//' -e 's/\\e/\\/g' >"$tmp/body"
	"$x" --help | cmp -s - "$tmp/body" || { ok=1; echo "# $b: man page differs from --help"; }
done
t "each man page holds its tool's --help text exactly (no drift)" '[ $ok = 0 ]'
MANWIDTH=300 man -l "$prefix/share/man/man1/train-child.1" 2>/dev/null >"$tmp/man.txt"
t "man renders the page (NAME, SYNOPSIS, the options)" \
	'grep -q "train-child  *-  *Train the child network" "$tmp/man.txt" && grep -q -- "--checkpoint-every" "$tmp/man.txt"'

# installed tools, run from an unrelated folder, find the table from PREFIX
mkdir -p "$tmp/else/nb" && cd "$tmp/else"
"$prefix/bin/sample-arch" --quiet --space nb201 --strategy random --count 2 --round 0 --out nb >/dev/null &&
	"$prefix/bin/lookup-child" --quiet nb/arch_0000.h5 nb/arch_0001.h5 >"$tmp/out" 2>&1; rc=$?
t "installed lookup-child finds the NAS-Bench-201 table from the prefix" '[ $rc = 0 ] && [ -s nb/arch_0001.reward.h5 ]' ||
	sed 's/^/# /' "$tmp/out"
cd - >/dev/null

# DESTDIR: staged under DESTDIR, uninstall removes exactly what install put there
make --no-print-directory -s install PREFIX=/usr/local DESTDIR="$tmp/stage" >/dev/null 2>&1; rc=$?
t "make install DESTDIR=... stages under DESTDIR" '[ $rc = 0 ] && [ -x "$tmp/stage/usr/local/bin/train-child" ] && [ -s "$tmp/stage/usr/local/share/man/man1/score.1" ]'
make --no-print-directory -s uninstall PREFIX=/usr/local DESTDIR="$tmp/stage" >/dev/null 2>&1; rc=$?
t "make uninstall removes every installed file" '[ $rc = 0 ] && [ -z "$(find "$tmp/stage" -type f)" ] && [ ! -e "$tmp/stage/usr/local/share/nasnet-c" ]'

# the usage: a round's children by hand with the installed tools
small_data "$tmp/d.h5" --valid 100 --train-subset 200
search() {
	make --no-print-directory -s search DATA="$tmp/d.h5" ROUNDS=1 CHILDREN=2 JOBS=2 \
		CHILD_F=4 CHILD_TRAIN_IMAGES=48 CHILD_BATCH=24 SEED=7 RUN="$tmp/run" "$@"
}
search >"$tmp/out" 2>&1; rc=$?
t "a tiny reference search" '[ $rc = 0 ]' || sed 's/^/# /' "$tmp/out"
mv "$tmp/run" "$tmp/ref"
# a copy of the round's genotype files in another folder: same rewards
mkdir -p "$tmp/copy" && cp "$tmp/ref"/round-000/arch_000[0-9].h5 "$tmp/copy/"
(cd "$tmp/copy" && PATH=$prefix/bin:$PATH && parallel train-child --quiet ::: arch_*.h5 &&
	parallel score --quiet ::: arch_*.h5 >/dev/null) >"$tmp/out" 2>&1; rc=$?
t "parallel train-child / score ::: arch_*.h5 in a copy of the round folder" '[ $rc = 0 ]' || sed 's/^/# /' "$tmp/out"
cut -f3,4 <("$prefix/bin/nas-history" --no-header "$tmp"/copy/arch_*.reward.h5) >"$tmp/copy.tsv"
cut -f3,4 <(bin/nas-history --no-header "$tmp"/ref/round-000/arch_*.reward.h5) >"$tmp/ref.tsv"
t "give the search's rewards and accuracies" 'cmp -s "$tmp/copy.tsv" "$tmp/ref.tsv"'
# a search that stops before training (children exit 75), the children by hand, then make search
mkdir -p "$tmp/fakebin"
for x in bin/*; do [ "$x" = bin/train-child ] || ln -s "$PWD/$x" "$tmp/fakebin/"; done
printf '#!/bin/sh\nexit 75\n' >"$tmp/fakebin/train-child"; chmod +x "$tmp/fakebin/train-child"
NASNET_BIN=$tmp/fakebin search >/dev/null 2>&1
(cd "$tmp/run/round-000" && PATH=$prefix/bin:$PATH && parallel train-child --quiet ::: arch_*.h5 &&
	parallel score --quiet ::: arch_*.h5 >/dev/null) >"$tmp/out" 2>&1; rc=$?
t "cd RUN/round-000 && parallel train-child ::: arch_*.h5 && parallel score ::: arch_*.h5" '[ $rc = 0 ]' ||
	sed 's/^/# /' "$tmp/out"
search >"$tmp/out" 2>&1; rc=$?
t "make search picks the hand-run children up (no child trained again)" \
	'[ $rc = 0 ] && ! grep -q "^child " "$tmp/out"' || sed 's/^/# /' "$tmp/out"
t "history.tsv and policy.h5 byte-identical to the search that trained them" \
	'cmp -s "$tmp/run/history.tsv" "$tmp/ref/history.tsv" && cmp -s "$tmp/run/policy.h5" "$tmp/ref/policy.h5"'

# the dataset's absolute path is gone: found beside the genotype file; another one is refused
mkdir -p "$tmp/moved/round" && cp "$tmp"/ref/round-000/arch_0000.h5 "$tmp/moved/round/"
mv "$tmp/d.h5" "$tmp/moved/d.h5"
(cd "$tmp/moved/round" && "$prefix/bin/train-child" --quiet arch_0000.h5) >"$tmp/out" 2>&1; rc=$?
t "the dataset moved with the genotype file: found above it" '[ $rc = 0 ]' || sed 's/^/# /' "$tmp/out"
small_data "$tmp/moved/d.h5" --valid 100 --train-subset 200 --seed 9
rm -f "$tmp"/moved/round/arch_0000.*.h5
(cd "$tmp/moved/round" && "$prefix/bin/train-child" --quiet arch_0000.h5) >/dev/null 2>"$tmp/err"; rc=$?
t "another dataset of that name is refused in one line naming both files and fingerprints" \
	'[ $rc = 3 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "arch_0000.h5: dataset .*/moved/d.h5 has fingerprint [0-9a-f]*, the genotype file records [0-9a-f]*" "$tmp/err"' ||
	sed 's/^/# /' "$tmp/err"
make --no-print-directory -s uninstall PREFIX="$prefix" >/dev/null 2>&1
t "make uninstall PREFIX=... leaves no file" '[ -z "$(find "$prefix" -type f)" ]'
finish
