#!/usr/bin/env bash
# t0360-score-check.sh - score refuses a weights file that is not the
# network of the genotype file it scores: another genotype (one avg pool
# swapped for a max pool: same parameter names and shapes) or another
# network configuration. Exit 3, one line naming both files, no reward file.
. "$(dirname "$0")/lib.sh"

g1="[nasnet] normal: sep_conv_5x5@0 + sep_conv_3x3@1 ; sep_conv_5x5@1 + sep_conv_3x3@1 ; avg_pool_3x3@0 + identity@1 ; avg_pool_3x3@1 + avg_pool_3x3@1 ; sep_conv_3x3@0 + identity@0 | concat 1,2,3,4,5,6 || reduce: sep_conv_5x5@0 + sep_conv_7x7@1 ; max_pool_3x3@0 + sep_conv_7x7@1 ; avg_pool_3x3@0 + sep_conv_5x5@1 ; identity@3 + avg_pool_3x3@2 ; sep_conv_3x3@2 + max_pool_3x3@0 | concat 3,4,5,6"
g2=${g1/avg_pool_3x3@0 + identity@1/max_pool_3x3@0 + identity@1}
bin/show-genotype --quiet "$g1" -o "$tmp/g1.h5" >/dev/null
bin/show-genotype --quiet "$g2" -o "$tmp/g2.h5" >/dev/null
bin/build-net --quiet --genotype "$tmp/g1.h5" -o "$tmp/g1.weights.h5" >/dev/null
bin/build-net --quiet --genotype "$tmp/g1.h5" --filters 16 -o "$tmp/f16.weights.h5" >/dev/null
t "test files written" '[ -s "$tmp/g1.h5" ] && [ -s "$tmp/g2.h5" ] && [ -s "$tmp/g1.weights.h5" ]'

expect 3 "weights of another genotype are refused" \
	bin/score --quiet --weights "$tmp/g1.weights.h5" -o "$tmp/r2.h5" "$tmp/g2.h5"
one_line_err "genotype" "one line saying the genotype differs"
t "the line names both files" 'grep -qF "$tmp/g1.weights.h5" "$tmp/err" && grep -qF "$tmp/g2.h5" "$tmp/err"'
t "no reward file written" '[ ! -e "$tmp/r2.h5" ] && no_tmp "$tmp"'

expect 3 "weights of another configuration (filters) are refused" \
	bin/score --quiet --weights "$tmp/f16.weights.h5" -o "$tmp/r3.h5" "$tmp/g1.h5"
one_line_err "filters" "one line naming the setting that differs"
t "the line names both files" 'grep -qF "$tmp/f16.weights.h5" "$tmp/err" && grep -qF "$tmp/g1.h5" "$tmp/err"'
finish
