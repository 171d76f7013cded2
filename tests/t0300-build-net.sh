#!/usr/bin/env bash
# t0300-build-net.sh - build-net: the exact counts of nasnet-facts.md 4.2,
# --penultimate, the network file it writes, and its failure exits.
set -u
cd "$(dirname "$0")/.."
bn=bin/build-net
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0
t() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi; }
field() { awk -v k="$1:" '$1 == k { print $2 }' "$2"; }

$bn --stem imagenet --cells 4 --filters 44 --input 3x224x224 --classes 1000 >"$tmp/mobile" 2>&1
t "mobile 4@1056 params 5,289,978" '[ "$(field params "$tmp/mobile")" = 5289978 ]'
t "mobile 4@1056 mult_adds 563,638,816" '[ "$(field mult_adds "$tmp/mobile")" = 563638816 ]'
t "mobile table: cell_stem_1 88x28x28, 8,534 / 13,948" \
	'grep -q "^cell_stem_1 *88x28x28 *13948 " "$tmp/mobile" && grep -q "^cell_stem_0 .* 8534 " "$tmp/mobile"'
$bn --stem cifar --cells 6 --filters 32 --input 3x32x32 --classes 10 >"$tmp/cifar" 2>&1
t "cifar 6@768 params 3,346,538" '[ "$(field params "$tmp/cifar")" = 3346538 ]'
t "cifar 6@768 mult_adds 544,333,312" '[ "$(field mult_adds "$tmp/cifar")" = 544333312 ]'
$bn --stem cifar --cells 6 --penultimate 768 --input 3x32x32 --classes 10 >"$tmp/pen" 2>&1
t "--penultimate 768 gives F=32" 'grep -q "filters 32," "$tmp/pen" && [ "$(field params "$tmp/pen")" = 3346538 ]'
$bn --stem cifar --cells 2 --filters 16 --input 3x32x32 --classes 10 >"$tmp/small" 2>&1
t "cifar N=2 F=16 params 363,194" '[ "$(field params "$tmp/small")" = 363194 ]'
$bn --genotype darts-v2 --cells 1 --filters 8 --aux >"$tmp/darts" 2>&1
t "darts-v2 builds with the aux head (not counted)" 'grep -q "^aux .*(not counted)" "$tmp/darts"'

$bn --seed 3 -o "$tmp/net.h5" >"$tmp/out" 2>&1
t "-o writes a network file" '[ -s "$tmp/net.h5" ] && ! ls "$tmp"/.*tmp* >/dev/null 2>&1'
t "the file has params and mult_adds root attributes" \
	'h5dump -a /params "$tmp/net.h5" | grep -q "$(field params "$tmp/out")"'
t "one dataset per parameter with its shape" \
	'h5ls -r "$tmp/net.h5" | grep -q "^/params/cell_0/block_0/op_a/sep_1/dw Dataset {8, 1, 5, 5}"'
t "BN running statistics under /buffers" 'h5ls -r "$tmp/net.h5" | grep -Eq "^/buffers/stem/bn/var +Dataset \{24\}"'
cp "$tmp/net.h5" "$tmp/first.h5"
$bn --seed 3 -o "$tmp/net.h5" >/dev/null 2>&1
w() { h5dump -g /params "$1" | tail -n +2; }
t "same seed, identical weights" 'cmp -s <(w "$tmp/net.h5") <(w "$tmp/first.h5")'
$bn --seed 4 -o "$tmp/net.h5" >/dev/null 2>&1
t "another seed, other weights" '! cmp -s <(w "$tmp/net.h5") <(w "$tmp/first.h5")'

$bn --help >"$tmp/help" 2>&1; rc=$?
t "--help exits 0 and documents the flags" '[ $rc = 0 ] && grep -q -- --penultimate "$tmp/help"'
$bn --no-such-flag >/dev/null 2>"$tmp/err"; rc=$?
t "unknown flag exits 2" '[ $rc = 2 ]'
$bn --genotype no-such-genotype >/dev/null 2>"$tmp/err"; rc=$?
t "unknown genotype exits 3 with one message" '[ $rc = 3 ] && [ "$(wc -l <"$tmp/err")" = 1 ]'
echo "garbage" >"$tmp/bad.txt"
$bn --genotype "$tmp/bad.txt" >/dev/null 2>&1; rc=$?
t "unparsable genotype file exits 3" '[ $rc = 3 ]'
$bn --penultimate 770 >/dev/null 2>&1; rc=$?
t "--penultimate not a multiple of 24 exits 2" '[ $rc = 2 ]'
$bn --stem imagenet --filters 10 --input 3x64x64 >/dev/null 2>"$tmp/err"; rc=$?
t "odd factorized reduction (imagenet F=10: F/2=5) fails with a message" '[ $rc = 1 ] && grep -q even "$tmp/err"'
echo "1..$n"
