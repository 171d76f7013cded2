#!/usr/bin/env bash
# pareto.sh HISTORY.tsv [COST] - the accuracy-cost Pareto front of a search:
# the children of history.tsv (status ok) that no other child dominates
# (another with accuracy >= and COST <=, one of them strictly), best accuracy
# first, then (round, index). COST is a column of history.tsv: params
# (default) or mult_adds. Columns are found by their header names, so added
# columns do not matter. Prints the table:
#   round index accuracy params mult_adds reward genotype
# Exit status: 0 ok, 2 usage, 3 a table without the needed columns.
set -eu -o pipefail
export LC_ALL=C
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "pareto: usage: pareto.sh HISTORY.tsv [params|mult_adds]" >&2; exit 2; }
h=$1 cost=${2:-params}
case $cost in params | mult_adds) c=4 ;; *) echo "pareto: cost '$cost': expected params or mult_adds" >&2; exit 2 ;; esac
[ "$cost" = params ] || c=5
[ -f "$h" ] || { echo "pareto: $h: no such file" >&2; exit 3; }
cols=$(awk -F'\t' -v file="$h" 'NR == 1 {
	for (i = 1; i <= NF; i++) col[$i] = i
	n = split("round index accuracy params mult_adds reward genotype status", need, " ")
	for (k = 1; k <= n; k++) {
		if (!(need[k] in col)) { printf "pareto: %s: no column %s in the header\n", file, need[k] > "/dev/stderr"; exit 3 }
		printf "%s%d", (k > 1 ? " " : ""), col[need[k]]
	}
	exit }' "$h")
[ -n "$cols" ] || { echo "pareto: $h: empty table" >&2; exit 3; }
printf 'round\tindex\taccuracy\tparams\tmult_adds\treward\tgenotype\n'
# the ok rows in the output's column order, accuracy down, cost up; a row is
# on the front when it is the cheapest of its accuracy and cheaper than every
# strictly more accurate row
awk -F'\t' -v cols="$cols" 'BEGIN { split(cols, k, " ") }
	NR > 1 && $k[8] == "ok" { printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", $k[1], $k[2], $k[3], $k[4], $k[5], $k[6], $k[7] }' "$h" |
	sort -t $'\t' -s -k3,3gr -k$c,${c}n -k1,1n -k2,2n |
	awk -F'\t' -v c=$c '
	NR == 1 || $3 != acc { if (NR > 1 && (!have || gmin < best)) { best = gmin; have = 1 } acc = $3; gmin = $c + 0 }
	$c + 0 == gmin && (!have || $c + 0 < best) { print }'
