#!/usr/bin/env bash
# t0370-child-settings.sh - the child settings are one table (lib/arch/childcfg.c):
# every tool's flags take the same range, a value one tool accepts the
# builder accepts too (sample-arch --filters 5000 used to write a genotype
# file that build-net refused), and the search's settings list comes from it.
. "$(dirname "$0")/lib.sh"

mkdir "$tmp/r"
for tool in sample-arch build-net transfer; do
	case $tool in
	sample-arch) args=(--round 0 --count 1 --out "$tmp/r") ;;
	build-net) args=() ;;
	transfer) args=(--genotype nasnet-a --list -o "$tmp/tr") ;;
	esac
	expect 2 "$tool --filters 5000 is refused" bin/$tool "${args[@]}" --filters 5000
	t "$tool names the one range 1..4096" 'grep -q "invalid --filters .5000. (expected an integer 1..4096)" "$tmp/err"'
done
[ -z "$(ls "$tmp/r")" ]; report $? "no genotype file written for the refused value"

expect 0 "sample-arch --filters 4096 (the top of the range)" \
	bin/sample-arch --quiet --round 0 --count 1 --out "$tmp/r" --filters 4096 --cells 1
expect 0 "build-net builds (counts) what sample-arch wrote" bin/build-net --genotype "$tmp/r/arch_0000.h5"
t "at 4096 filters" 'grep -q "filters 4096" "$tmp/out"'

expect 0 "switches: --no-aux then --aux" bin/build-net --no-aux --aux
t "the last one wins" 'grep -q "aux head" "$tmp/out"'
expect 0 "sample-arch takes every child flag, e.g. --weight-decay and --no-flip" \
	bin/sample-arch --quiet --round 0 --count 1 --out "$tmp/r" --weight-decay 0.001 --no-flip
t "recorded in the genotype file" \
	'h5dump -a /config/weight_decay "$tmp/r/arch_0000.h5" | grep -q "0.001"'

expect 0 "sample-arch --list-settings" bin/sample-arch --list-settings
t "the search's child settings: name, flag, default" \
	'grep -qx "CHILD_F	filters	8" "$tmp/out" && grep -qx "CHILD_TRAIN_IMAGES	train-images	5000" "$tmp/out" &&
	 grep -qx "CHILD_N	cells	1" "$tmp/out"'
finish
