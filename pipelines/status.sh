#!/usr/bin/env bash
# status.sh RUN [--line [R]] - where a search run stands (make status RUN=...).
# --line prints the one-line summary the search prints after each round (R:
# the round just finished, which need not be the last done one: a resumed
# search replays the update step of rounds already done after it).
set -eu -o pipefail
run=$1 mode=${2:-} just_done=${3:-}
[ -f "$run/settings" ] || { echo "status: $run: not a search run (no settings file)" >&2; exit 3; }
# the ROUNDS of `make status ROUNDS=N`, else that of the run's last make search
rounds_target=${ROUNDS_GIVEN:-}
[ -n "$rounds_target" ] || rounds_target=$(cat "$run/.rounds" 2>/dev/null) || rounds_target=${ROUNDS:-?}
# with a budget, ROUNDS is only a cap: search.sh prints the budget's ETA instead
[ -z "${BUDGET:-}$(sed -n 's/^BUDGET=//p' "$run/settings")" ] || rounds_target=?
# round folders counted up from round-000 (past round-999 too), no glob
RUN=$run
. "$(dirname "$0")/runlib.sh"
done_rounds=0 cur=
for ((k = 0; ; k++)); do
	round_dir d $k
	[ -d "$d" ] || break
	cur=$d
	[ ! -f "$d/done" ] || done_rounds=$((k + 1))
done
[ -z "$just_done" ] || done_rounds=$((10#$just_done + 1))
best=- mean=- evaluated=0
# awk prelude: c["name"] is the column of that name in the header (nas-history's)
cols='NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i } '
if [ -f "$run/history.tsv" ]; then
	read -r evaluated best < <(awk -F'\t' "$cols"'NR > 1 { n++; if ($c["reward"] > b) b = $c["reward"] }
		END { printf "%d %.4f\n", n, b }' "$run/history.tsv")
fi
eta=?
if [ -f "$run/timing.tsv" ] && [ "$done_rounds" -gt 0 ] && [ "$rounds_target" != "?" ]; then
	# wall time per round from the files' times (SOURCE_DATE_EPOCH may be fixed)
	start=$(stat -c %Y "$run/settings")
	now=$(date +%s)
	left=$((rounds_target - done_rounds))
	eta=$(( (now - start) * left / done_rounds ))
	eta=$(printf '%dm%02ds' $((eta / 60)) $((eta % 60)))
fi
if [ "$mode" = --line ]; then
	echo "search: round $done_rounds/$rounds_target done, $evaluated children evaluated, best reward so far $best, ETA $eta"
	exit 0
fi
echo "run:        $run"
sed 's/^/setting:    /' "$run/settings"
echo "rounds:     $done_rounds complete${cur:+, latest folder $(basename "$cur")}"
if [ -n "$cur" ] && [ ! -f "$cur/done" ] && [ -f "$cur/archs.list" ]; then
	total=$(wc -l <"$cur/archs.list")
	scored=$(while read -r a; do [ ! -f "${a%.h5}.reward.h5" ] || echo x; done <"$cur/archs.list" | wc -l)
	ckpt=$(while read -r a; do [ ! -f "${a%.h5}.ckpt.h5" ] || echo x; done <"$cur/archs.list" | wc -l)
	echo "in progress: $(basename "$cur"): $scored/$total children scored, $ckpt with a mid-training checkpoint"
	# successive halving: each rung's list and how much of it is scored
	for ((k = 0; ; k++)); do
		[ -f "$cur/rung-$k.list" ] || break
		n=$(wc -l <"$cur/rung-$k.list")
		s=$(while read -r a; do [ -f "${a%.h5}.r$k.reward.h5" ] && echo x; done <"$cur/rung-$k.list" | wc -l)
		echo "  rung $k:    $s/$n scored$([ -f "$cur/rung-$k.done" ] && echo ", done")"
	done
fi
echo "evaluated:  $evaluated children, best reward $best"
if [ -f "$run/history.tsv" ] && [ "$evaluated" -gt 0 ]; then
	echo "top 3:"
	awk -F'\t' "$cols"'NR > 1 { printf "%s\t%s\t%s\t%s\t%s\n", $c["reward"], $c["round"], $c["index"],
		$c["params"], $c["genotype"] }' "$run/history.tsv" | sort -t$'\t' -k1,1gr | head -3 |
		awk -F'\t' '{ printf "  round %s child %s reward %s params %s  %s\n", $2, $3, $1, $4, substr($5, 1, 90) }'
fi
if ! flock -n "$run/.lock" true 2>/dev/null; then
	echo "state:      running"
elif [ -e "$run/.stopped" ]; then
	echo "state:      stopped after a checkpoint (resume with the same make search command)"
elif [ "$rounds_target" != "?" ] && [ "$done_rounds" -ge "$rounds_target" ]; then
	echo "state:      finished ($done_rounds rounds; a larger ROUNDS extends the run)"
else
	echo "state:      idle, not finished (resume with the same make search command)"
fi
