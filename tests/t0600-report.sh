#!/usr/bin/env bash
# t0600-report.sh - draw-cell (DOT that Graphviz accepts, node and edge counts,
# flags and exit codes) and pipelines/report.sh on hand-made run folders:
# report.md with its plots, top-10 table and cell pictures (PNG), several runs
# on one plot (RUNS=), and failures (no history.tsv, foreign table, a genotype
# draw-cell rejects) giving one line, the documented exit status and no
# partial output.
. "$(dirname "$0")/lib.sh"
dc=bin/draw-cell
# svg_count CLASS FILE: elements of that class in dot's SVG output
svg_count() { grep -c "class=\"$1\"" "$2"; }
is_png() { [ -s "$1" ] && [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }

# draw-cell
expect 0 "draw-cell --help" $dc --help
grep -q "^usage: draw-cell" "$tmp/out" && grep -q "Exit status" "$tmp/out"
report $? "--help prints the usage and the exit codes on stdout"
expect 2 "draw-cell unknown flag" $dc --bogus nasnet-a
[ "$(wc -l <"$tmp/err")" = 1 ]; report $? "unknown flag: one line on stderr"
expect 2 "draw-cell --cell with a bad value" $dc --cell middle nasnet-a
one_line_err "--cell: 'middle' is not normal, reduce or both" "bad --cell: one line"
expect 2 "draw-cell without a genotype" $dc
expect 2 "draw-cell with two genotypes" $dc nasnet-a enas
expect 3 "draw-cell on a bad genotype" $dc 'normal: sep_conv_9x9@0 + identity@1 | concat 2 || reduce: identity@0 + identity@1 | concat 2'
one_line_err "unknown op 'sep_conv_9x9'" "bad genotype: one line naming the problem"
expect 3 "draw-cell on a missing file" $dc "$tmp/nope.h5"

expect 0 "draw-cell nasnet-a" $dc nasnet-a
cp "$tmp/out" "$tmp/both.dot"
dot -Tsvg "$tmp/both.dot" >"$tmp/both.svg" 2>"$tmp/err"
report $? "dot -Tsvg accepts the DOT text"
# per cell 3 + B nodes and 2B + |concat| edges: normal 8 and 10+6, reduce 8 and 10+4
[ "$(svg_count node "$tmp/both.svg")" = 16 ] && [ "$(svg_count edge "$tmp/both.svg")" = 30 ] &&
	[ "$(svg_count cluster "$tmp/both.svg")" = 2 ]
report $? "nasnet-a: 16 nodes, 30 edges, 2 clusters"
for op in sep_conv_5x5 sep_conv_7x7 avg_pool_3x3 max_pool_3x3 identity; do
	grep -q "label=\"$op\"" "$tmp/both.dot" || break
done
report $? "edges are labelled with the op names"
[ "$(grep -c 'label="c_{k-1}"' "$tmp/both.dot")" = 2 ] && [ "$(grep -c 'label="c_{k-2}"' "$tmp/both.dot")" = 2 ] &&
	[ "$(grep -c 'label="c_{k}"' "$tmp/both.dot")" = 2 ] && [ "$(grep -c ': add"' "$tmp/both.dot")" = 10 ]
report $? "input, block (add) and output nodes are labelled"

expect 0 "draw-cell --cell normal" $dc --cell normal nasnet-a
dot -Tsvg "$tmp/out" >"$tmp/normal.svg" && [ "$(svg_count node "$tmp/normal.svg")" = 8 ] &&
	[ "$(svg_count edge "$tmp/normal.svg")" = 16 ] && ! grep -q reduce "$tmp/out"
report $? "--cell normal: 8 nodes, 16 edges, no reduction cell"
cat_geno='normal: conv_3x3@1 cat conv_1x1@0 | concat 2 || reduce: max_pool_5x5@0 + identity@1 | concat 2'
expect 0 "draw-cell --cell reduce -o FILE on genotype text" $dc --cell reduce --title 'a "quoted" title' -o "$tmp/r.dot" "$cat_geno"
[ ! -s "$tmp/out" ] && dot -Tsvg "$tmp/r.dot" >"$tmp/r.svg" && [ "$(svg_count node "$tmp/r.svg")" = 4 ] &&
	[ "$(svg_count edge "$tmp/r.svg")" = 3 ] && grep -q 'a \\"quoted\\" title' "$tmp/r.dot"
report $? "-o writes the file (nothing on stdout), the title is escaped"
expect 0 "draw-cell --cell normal shows concat combines" $dc --cell normal "$cat_geno"
grep -q 'label="2: concat"' "$tmp/out"; report $? "concat combine is drawn as such"
[ -z "$(find "$tmp" -maxdepth 1 -name '.r.dot.tmp*')" ]; report $? "no temporary file left by -o"
expect 1 "draw-cell -o into a missing folder" $dc -o "$tmp/no/such/dir/x.dot" nasnet-a

# a synthetic run: 3 rounds x 10 children, one failed child
mkrun() { # mkrun DIR STRATEGY SLOPE
	local dir=$1 k rew st
	mkdir -p "$dir"
	printf 'STRATEGY=%s\nSPACE=nasnet\nSEED=1\nDATA=data/fashion-mnist.h5\nCHILDREN=10\nSOURCE_DATE_EPOCH=1700000000\n' \
		"$2" >"$dir/settings"
	mapfile -t geno < <(bin/show-genotype nasnet-a amoebanet-a enas nasnet-a-darts darts-v2)
	{
		printf 'round\tindex\treward\taccuracy\tparams\tmult_adds\tstatus\tgenotype\n'
		for r in 0 1 2; do
			for i in 0 1 2 3 4 5 6 7 8 9; do
				k=$((r * 10 + i))
				rew=$(awk -v k=$k -v s="$3" 'BEGIN { printf "%.6f", 0.5 + s * k + 0.1 * sin(k * 1.7) }')
				st=ok
				if [ $k = 13 ]; then st='failed: nan loss'; rew=0.000000; fi
				printf '%d\t%d\t%s\t%s\t%d\t%d\t%s\t%s\n' $r $i "$rew" "$rew" $((100000 + k * 1000)) \
					$((10000000 + k * 100000)) "$st" "${geno[k % 5]}"
			done
		done
	} >"$dir/history.tsv"
	printf 'round\tindex\ttrain_seconds\timages_per_second\tfile\n0\t0\t61.5\t80.0\tx\n' >"$dir/timing.tsv"
}
mkrun "$tmp/ppo" ppo 0.012
mkrun "$tmp/rnd" random 0.004

expect 0 "report on a synthetic run" bash pipelines/report.sh "$tmp/ppo"
[ "$(cat "$tmp/out")" = "$tmp/ppo/report/report.md" ]; report $? "prints the path of report.md"
[ -s "$tmp/ppo/report/report.md" ]; report $? "report.md written"
ok=0
for p in children best rounds cell-1 cell-2 cell-3; do is_png "$tmp/ppo/report/$p.png" || ok=1; done
report $ok "6 non-empty PNG files (3 plots, 3 cell pictures)"
md=$tmp/ppo/report/report.md
for p in children best rounds cell-1 cell-2 cell-3; do grep -qF "($p.png)" "$md" || break; done
report $? "report.md links every picture"
# the best child: k = 27 (0.5 + 0.324 + 0.1 sin(45.9)) in round 2, child 7
grep -qF '| 1 | `'"$tmp/ppo"'` | 2 | 7 | 0.918' "$md"
report $? "top-10 table ranks the best child first"
[ "$(grep -c '^| [0-9]* | `' "$md")" = 10 ]; report $? "top-10 table has 10 rows"
! grep -q 'failed' <(grep '^| [0-9]* | `' "$md"); report $? "failed children are not in the top table"
grep -qF '\| concat' "$md"; report $? "pipes of the genotype text are escaped in the table"
grep -qF '| `'"$tmp/ppo"'` | ppo | nasnet | 3 | 30 | 1 |' "$md" && grep -qF '1m01s' "$md"
report $? "summary row: strategy, space, rounds, children, failures, train time"
[ -z "$(find "$tmp/ppo/report" -mindepth 1 -name '.*')" ]; report $? "no temporary files left in report/"

expect 0 "report with RUNS= on two runs" env RUNS="$tmp/ppo $tmp/rnd" REPORT_DIR="$tmp/cmp" bash pipelines/report.sh
is_png "$tmp/cmp/children.png" && is_png "$tmp/cmp/rounds.png" && is_png "$tmp/cmp/best.png"
report $? "comparison plots written to REPORT_DIR"
grep -qF "| \`$tmp/rnd\` | random |" "$tmp/cmp/report.md" && grep -qF "| \`$tmp/ppo\` | ppo |" "$tmp/cmp/report.md"
report $? "comparison report summarises both runs"

# columns are read by name: a table with one more column, placed in the middle, reports the same
mkdir -p "$tmp/wide"
cp "$tmp/ppo/settings" "$tmp/ppo/timing.tsv" "$tmp/wide/"
awk -F'\t' -v OFS='\t' '{ $3 = (NR == 1 ? "rung" : 0) OFS $3; print }' "$tmp/ppo/history.tsv" >"$tmp/wide/history.tsv"
expect 0 "report on a table with an extra column" bash pipelines/report.sh "$tmp/wide"
cmp -s <(grep '^| [0-9]* | `' "$md" | sed "s|$tmp/ppo|RUN|") \
	<(grep '^| [0-9]* | `' "$tmp/wide/report/report.md" | sed "s|$tmp/wide|RUN|")
report $? "the extra column changes nothing in the top table"

# failures
mkdir -p "$tmp/empty"
expect 3 "report on a folder without history.tsv" bash pipelines/report.sh "$tmp/empty"
one_line_err "$tmp/empty: no history.tsv" "no history.tsv: one line"
[ ! -e "$tmp/empty/report" ]; report $? "nothing written for a folder without history.tsv"
expect 3 "report on a missing folder" bash pipelines/report.sh "$tmp/nope"
one_line_err "no such run folder" "missing folder: one line"
mkdir -p "$tmp/foreign"
printf 'a\tb\n1\t2\n' >"$tmp/foreign/history.tsv"
expect 3 "report on a foreign history.tsv" bash pipelines/report.sh "$tmp/foreign"
one_line_err "not a nas-history table" "foreign table: one line"
mkdir -p "$tmp/hdronly"
head -n 1 "$tmp/ppo/history.tsv" >"$tmp/hdronly/history.tsv"
expect 3 "report on a run with no child evaluated" bash pipelines/report.sh "$tmp/hdronly"
one_line_err "no child evaluated yet" "empty table: one line"
expect 2 "report without a run" bash pipelines/report.sh
mkrun "$tmp/badgeno" ppo 0.01
sed -i '2s/\t[^\t]*$/\tnormal: sep_conv_9x9@0/' "$tmp/badgeno/history.tsv"
sed -i '2s/\t0\.[0-9]*\t/\t0.999\t/' "$tmp/badgeno/history.tsv"
expect 1 "report when the best child's genotype is unreadable" bash pipelines/report.sh "$tmp/badgeno"
one_line_err "draw-cell failed on #1" "draw-cell failure: one line"
[ ! -e "$tmp/badgeno/report/report.md" ] && [ -z "$(ls -A "$tmp/badgeno/report")" ]
report $? "no report.md and no temporary files after a failure"

echo "1..$n"
