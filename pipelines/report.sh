#!/usr/bin/env bash
# report.sh RUN [RUN...] - report.md with plots, the top cells and their
# diagrams for one or several search runs (make report RUN=... or RUNS="a b").
#
# Inputs: each run's history.tsv (bin/nas-history; columns read by name), settings and timing.tsv
# (both optional). Outputs, in REPORT_DIR (default: the first run's report/):
#   report.md       summary of each run, the plots, the top 10 cells
#   children.png    reward of every child over evaluation order (+ best so far)
#   best.png        best reward so far
#   rounds.png      mean reward per round with min..max bars
#   cell-1..3.png   Normal and Reduction cells of the 3 best children
#   cost-params.png, cost-macs.png  accuracy against cost, Pareto fronts marked
#                   (pipelines/pareto.gp); each run's RUN/pareto.tsv is refreshed
# Several runs (e.g. PPO against random search) share every plot, one colour
# and legend entry each; the top-10 table then ranks all their children.
# Everything is built in a temporary folder next to the outputs and renamed
# into place, report.md last, so a reader never sees a half-written report.
# RUNS, when set in the environment, replaces the RUN arguments.
# Pipes never end in head: under pipefail a writer killed by SIGPIPE would
# fail the report (exit 141) at random.
# Exit status: 0 ok, 1 failure (gnuplot/dot missing or failing), 2 usage,
# 3 a run folder without a usable history.tsv.
set -eu -o pipefail
export LC_ALL=C
root=$(cd "$(dirname "$0")/.." && pwd)
drawcell=$root/bin/draw-cell

die() { # die STATUS MESSAGE
	echo "report: $2" >&2
	exit "$1"
}

# the history.tsv columns this report reads (nas-history's default set)
columns="round index reward accuracy params mult_adds status genotype"
runs=()
if [ -n "${RUNS:-}" ]; then
	read -r -a runs <<<"$RUNS"
else
	runs=("$@")
fi
[ "${#runs[@]}" -gt 0 ] || die 2 "usage: report.sh RUN [RUN...] (or RUNS=\"RUN RUN...\")"
for tool in gnuplot dot; do
	command -v "$tool" >/dev/null || die 1 "$tool not found (install gnuplot-nox and graphviz)"
done
[ -x "$drawcell" ] || die 1 "$drawcell not built (run make)"

for r in "${runs[@]}"; do
	[ -d "$r" ] || die 3 "$r: no such run folder"
	h=$r/history.tsv
	[ -f "$h" ] || die 3 "$r: no history.tsv (not a search run, or no round finished yet)"
	# columns are picked by name: nas-history may print more of them, in any order
	missing=$(awk -F'\t' -v need="$columns" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i
		n = split(need, w, " "); for (k = 1; k <= n; k++) if (!(w[k] in c)) m = m " " w[k] }
		END { print (NR ? m : " " need) }' "$h")
	[ -z "$missing" ] ||
		die 3 "$h: not a nas-history table (columns$missing missing from the header)"
	bad=$(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; nf = NF; next }
		NF != nf || $c["round"] !~ /^[0-9]+$/ || $c["index"] !~ /^[0-9]+$/ ||
		$c["reward"] !~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ { print NR; exit }' "$h")
	[ -z "$bad" ] || die 3 "$h: line $bad: expected as many tab-separated columns as the header, with numeric round, index and reward"
	[ "$(wc -l <"$h")" -gt 1 ] || die 3 "$h: no child evaluated yet"
done

out=${REPORT_DIR:-${runs[0]%/}/report}
mkdir -p "$out"
tmp=$(mktemp -d "$out/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

setting() { # setting RUN NAME: value from RUN/settings, or '?'
	local v
	v=$(awk -v k="$2" 'index($0, k "=") == 1 && !done { print substr($0, length(k) + 2); done = 1 }' \
		"$1/settings" 2>/dev/null || true)
	echo "${v:-?}"
}
# gnuplot double-quoted string body
gpstr() {
	local v=${1//\\/\\\\}
	printf '%s' "${v//\"/\\\"}"
}
# markdown table cell: escape the pipes (the genotype text is full of them)
mdcell() { sed 's/|/\\|/g'; }

# per-run tables for gnuplot, and the gnuplot header defining them
gp=$tmp/runs.gp
{
	printf 'outdir = "%s"\n' "$(gpstr "$tmp")"
	printf 'nruns = %d\n' "${#runs[@]}"
	printf 'array T[%d]\narray C[%d]\narray R[%d]\n' "${#runs[@]}" "${#runs[@]}" "${#runs[@]}"
} >"$gp"
# each run's history.tsv with just the columns read below, in the order of $columns
i=0
for r in "${runs[@]}"; do
	i=$((i + 1))
	awk -F'\t' -v OFS='\t' -v need="$columns" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i
		n = split(need, w, " ") } { for (k = 1; k <= n; k++) printf "%s%s", $c[w[k]], (k < n ? OFS : "\n") }' \
		"$r/history.tsv" >"$tmp/history-$i.tsv"
	# the rung each reward was measured at (successive halving; 0 for plain
	# rounds and for histories from before the column existed), one a line
	awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		{ print ("rung" in c && $c["rung"] ~ /^[0-9]+$/) ? $c["rung"] : 0 }' "$r/history.tsv" >"$tmp/rung-$i.txt"
done
maxround=0 maxchild=0
i=0
for r in "${runs[@]}"; do
	i=$((i + 1))
	h=$tmp/history-$i.tsv
	# order round reward best_so_far ok rung
	awk -F'\t' 'NR == FNR { rung[FNR] = $1; next }
		FNR > 1 { n++; if (n == 1 || $3 > best) best = $3
		printf "%d %d %s %s %d %d\n", n, $1, $3, best, ($7 == "ok"), rung[n] }' \
		"$tmp/rung-$i.txt" "$h" >"$tmp/children-$i.dat"
	# round mean min max count
	awk -F'\t' 'NR > 1 { r = $1 + 0; if (!(r in n)) { order[++k] = r; lo[r] = $3; hi[r] = $3 }
		n[r]++; s[r] += $3; if ($3 < lo[r]) lo[r] = $3; if ($3 > hi[r]) hi[r] = $3 }
		END { for (j = 1; j <= k; j++) { r = order[j]
			printf "%d %.6f %s %s %d\n", r, s[r] / n[r], lo[r], hi[r], n[r] } }' "$h" >"$tmp/rounds-$i.dat"
	m=$(awk 'END { print $1 + 0 }' "$tmp/rounds-$i.dat")
	[ "$m" -le "$maxround" ] || maxround=$m
	m=$(wc -l <"$tmp/children-$i.dat")
	[ "$m" -le "$maxchild" ] || maxchild=$m
	printf 'T[%d] = "%s"\nC[%d] = "%s"\nR[%d] = "%s"\n' \
		"$i" "$(gpstr "${r%/} ($(setting "$r" STRATEGY))")" \
		"$i" "$(gpstr "$tmp/children-$i.dat")" "$i" "$(gpstr "$tmp/rounds-$i.dat")" >>"$gp"
done
printf 'roundtics = %d\nchildtics = %d\n' $((maxround <= 20)) $((maxchild <= 20)) >>"$gp"
gnuplot "$gp" "$root/pipelines/report.gp" 2>"$tmp/gnuplot.err" ||
	die 1 "gnuplot failed: $(head -n 3 "$tmp/gnuplot.err" | tr '\n' ' ')"
for p in children best rounds; do
	[ -s "$tmp/$p.png" ] || die 1 "gnuplot wrote no $p.png"
done

# accuracy against cost and each run's Pareto front (pipelines/pareto.sh);
# RUN/pareto.tsv is rewritten too, for runs made before it existed
gpc=$tmp/cost.gp nok=0
cost_label() { # strategy, and the budget and reward when set
	local l v
	l=$(setting "$1" STRATEGY)
	for v in MAX_PARAMS MAX_MACS; do
		case $(setting "$1" $v) in '?' | 0) ;; *) l="$l, $v $(setting "$1" $v)" ;; esac
	done
	case $(setting "$1" REWARD) in '?' | accuracy) ;; *) l="$l, $(setting "$1" REWARD)" ;; esac
	echo "$l"
}
{
	printf 'outdir = "%s"\n' "$(gpstr "$tmp")"
	printf 'nruns = %d\n' "${#runs[@]}"
	printf 'array T[%d]\narray A[%d]\narray FP[%d]\narray FM[%d]\n' "${#runs[@]}" "${#runs[@]}" "${#runs[@]}" "${#runs[@]}"
} >"$gpc"
i=0
for r in "${runs[@]}"; do
	i=$((i + 1))
	bash "$root/pipelines/pareto.sh" "$r/history.tsv" params >"$tmp/pareto-$i.tsv" ||
		die 3 "$r/history.tsv: no Pareto front (see above)"
	bash "$root/pipelines/pareto.sh" "$r/history.tsv" mult_adds >"$tmp/pareto-macs-$i.tsv" ||
		die 3 "$r/history.tsv: no Pareto front (see above)"
	awk -F'\t' 'NR == 1 { for (k = 1; k <= NF; k++) c[$k] = k; next }
		$c["status"] == "ok" { print $c["params"], $c["mult_adds"], $c["accuracy"] }' "$r/history.tsv" >"$tmp/all-$i.dat"
	awk -F'\t' 'NR > 1 { print $3, $4, $5 }' "$tmp/pareto-$i.tsv" | sort -k2,2n >"$tmp/fp-$i.dat"
	awk -F'\t' 'NR > 1 { print $3, $4, $5 }' "$tmp/pareto-macs-$i.tsv" | sort -k3,3n >"$tmp/fm-$i.dat"
	nok=$((nok + $(wc -l <"$tmp/all-$i.dat")))
	printf 'T[%d] = "%s"\nA[%d] = "%s"\nFP[%d] = "%s"\nFM[%d] = "%s"\n' \
		"$i" "$(gpstr "${r%/} ($(cost_label "$r"))")" \
		"$i" "$(gpstr "$tmp/all-$i.dat")" "$i" "$(gpstr "$tmp/fp-$i.dat")" "$i" "$(gpstr "$tmp/fm-$i.dat")" >>"$gpc"
done
if [ "$nok" -gt 0 ]; then
	# a run without ok children would be an empty data file, which gnuplot refuses
	for ((k = 1; k <= ${#runs[@]}; k++)); do
		[ -s "$tmp/all-$k.dat" ] || { echo "NaN NaN NaN" >"$tmp/all-$k.dat"; echo "NaN NaN NaN" >"$tmp/fp-$k.dat"; echo "NaN NaN NaN" >"$tmp/fm-$k.dat"; }
	done
	gnuplot "$gpc" "$root/pipelines/pareto.gp" 2>"$tmp/gnuplot.err" ||
		die 1 "gnuplot failed on the cost plots: $(head -n 3 "$tmp/gnuplot.err" | tr '\n' ' ')"
fi

# every successful child of every run, best first: run round index reward acc params macs genotype
i=0
for r in "${runs[@]}"; do
	i=$((i + 1))
	awk -F'\t' -v run="$i" 'NR > 1 && $7 == "ok" {
		printf "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", run, $1, $2, $3, $4, $5, $6, $8 }' "$tmp/history-$i.tsv"
done | sort -t $'\t' -s -k4,4gr -k1,1n -k2,2n -k3,3n | awk 'NR <= 10' >"$tmp/top.tsv"

# cell diagrams of the top 3
ncells=0
while IFS=$'\t' read -r run rnd idx reward _ _ _ geno; do
	ncells=$((ncells + 1))
	"$drawcell" -q --title "#$ncells: reward $reward (${runs[run - 1]%/}, round $rnd, child $idx)" \
		-o "$tmp/cell-$ncells.dot" "$geno" 2>"$tmp/draw.err" ||
		die 1 "draw-cell failed on #$ncells: $(head -n 1 "$tmp/draw.err")"
	dot -Tpng -Gdpi=80 -o "$tmp/cell-$ncells.png" "$tmp/cell-$ncells.dot" 2>"$tmp/dot.err" ||
		die 1 "dot failed on #$ncells: $(head -n 1 "$tmp/dot.err")"
done < <(head -n 3 "$tmp/top.tsv")

# report.md
human() { # 1234567 -> 1.23M
	awk -v x="$1" 'BEGIN { if (x >= 1e9) printf "%.2fG", x / 1e9; else if (x >= 1e6) printf "%.2fM", x / 1e6;
		else if (x >= 1e3) printf "%.1fk", x / 1e3; else printf "%d", x }'
}
{
	echo "# Search report"
	echo
	if [ "${#runs[@]}" = 1 ]; then echo "Run \`${runs[0]%/}\`."; else echo "${#runs[@]} runs compared."; fi
	echo
	echo "| run | strategy | space | rounds | children | failed | best reward | mean reward, last round | train time |"
	echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
	i=0
	for r in "${runs[@]}"; do
		i=$((i + 1))
		read -r nrounds nchild nfail best < <(awk -F'\t' 'NR > 1 { n++; if (!($1 in seen)) { seen[$1]; k++ }
			if ($7 != "ok") f++; if (n == 1 || $3 > b) b = $3 }
			END { printf "%d %d %d %.4f\n", k, n, f, b }' "$tmp/history-$i.tsv")
		lastmean=$(awk 'END { printf "%.4f", $2 }' "$tmp/rounds-$i.dat")
		ttime=-
		if [ -f "$r/timing.tsv" ]; then
			ttime=$(awk -F'\t' 'NR > 1 { s += $3 } END { printf "%dm%02ds", s / 60, s % 60 }' "$r/timing.tsv")
		fi
		echo "| \`${r%/}\` | $(setting "$r" STRATEGY) | $(setting "$r" SPACE) | $nrounds | $nchild | $nfail | $best | $lastmean | $ttime |"
	done
	echo
	for r in "${runs[@]}"; do
		if [ -f "$r/settings" ]; then
			echo "Settings of \`${r%/}\`: $(grep -v '^SOURCE_DATE_EPOCH=' "$r/settings" | tr '\n' ' ' | sed 's/ $//')"
			echo
		fi
	done
	echo "## Rewards"
	echo
	echo "Every child's reward in evaluation order (crosses: failed children, reward 0; dashed: best so far;"
	echo "with successive halving, a larger ring round a point for each rung the child was promoted to):"
	echo
	echo "![Reward of every child](children.png)"
	echo
	echo "![Best reward so far](best.png)"
	echo
	echo "![Mean reward per round](rounds.png)"
	echo
	echo "## Top $(wc -l <"$tmp/top.tsv") cells"
	echo
	echo "| # | run | round | child | reward | accuracy | params | MACs | genotype |"
	echo "|---:|---|---:|---:|---:|---:|---:|---:|---|"
	k=0
	while IFS=$'\t' read -r run rnd idx reward acc params macs geno; do
		k=$((k + 1))
		echo "| $k | \`${runs[run - 1]%/}\` | $rnd | $idx | $reward | $acc | $(human "$params") | $(human "$macs") | \`$(printf '%s' "$geno" | mdcell)\` |"
	done <"$tmp/top.tsv"
	echo
	if [ "$nok" -gt 0 ]; then
		echo "## Accuracy and cost"
		echo
		echo "Every successful child's validation accuracy against its size; ringed and joined: the"
		echo "Pareto front (no other child is at least as accurate and at most as costly)."
		echo
		echo "![Accuracy against parameters](cost-params.png)"
		echo
		echo "![Accuracy against mult-adds](cost-macs.png)"
		echo
		i=0
		for r in "${runs[@]}"; do
			i=$((i + 1))
			echo "Pareto front of \`${r%/}\` against parameters ($(($(wc -l <"$tmp/pareto-$i.tsv") - 1)) children, \`${r%/}/pareto.tsv\`):"
			echo
			echo "| round | child | accuracy | params | MACs | reward |"
			echo "|---:|---:|---:|---:|---:|---:|"
			while IFS=$'\t' read -r rnd idx acc params macs reward _; do
				echo "| $rnd | $idx | $acc | $(human "$params") | $(human "$macs") | $reward |"
			done < <(tail -n +2 "$tmp/pareto-$i.tsv")
			echo
		done
	fi
	if [ "$ncells" -gt 0 ]; then
		echo "## Cells of the top $ncells"
		echo
		echo "Inputs c_{k-1} (state 0) and c_{k-2} (state 1); blocks are numbered by state index as in the genotype text."
		echo
		k=0
		while IFS=$'\t' read -r run rnd idx reward _ _ _ geno; do
			k=$((k + 1))
			echo "### $k. reward $reward (\`${runs[run - 1]%/}\`, round $rnd, child $idx)"
			echo
			echo "\`$geno\`"
			echo
			echo "![cells of #$k](cell-$k.png)"
			echo
		done < <(head -n 3 "$tmp/top.tsv")
	fi
} >"$tmp/report.md"

# into place: images first, report.md last; drop cell pictures of an older, longer report
for p in children best rounds; do mv -f "$tmp/$p.png" "$out/$p.png"; done
if [ "$nok" -gt 0 ]; then
	for p in cost-params cost-macs; do mv -f "$tmp/$p.png" "$out/$p.png"; done
fi
i=0
for r in "${runs[@]}"; do
	i=$((i + 1))
	cp "$tmp/pareto-$i.tsv" "$r/.pareto.tsv.tmp.$$" && mv -f "$r/.pareto.tsv.tmp.$$" "$r/pareto.tsv"
done
for ((k = 1; k <= ncells; k++)); do mv -f "$tmp/cell-$k.png" "$out/cell-$k.png"; done
for ((k = ncells + 1; k <= 3; k++)); do rm -f "$out/cell-$k.png"; done
mv -f "$tmp/report.md" "$out/report.md"
echo "$out/report.md"
