#!/usr/bin/env bash
# status.sh RUN [--line] - where a search run stands (make status RUN=...).
# --line prints the one-line summary the search prints after each round.
set -eu -o pipefail
run=$1 mode=${2:-}
[ -f "$run/settings" ] || { echo "status: $run: not a search run (no settings file)" >&2; exit 3; }
# the ROUNDS of `make status ROUNDS=N`, else that of the run's last make search
rounds_target=${ROUNDS_GIVEN:-}
[ -n "$rounds_target" ] || rounds_target=$(cat "$run/.rounds" 2>/dev/null) || rounds_target=${ROUNDS:-?}
# with a budget, ROUNDS is only a cap: search.sh prints the budget's ETA instead
[ -z "${BUDGET:-}$(sed -n 's/^BUDGET=//p' "$run/settings")" ] || rounds_target=?
done_rounds=$(ls -d "$run"/round-[0-9][0-9][0-9] 2>/dev/null | while read -r d; do [ ! -f "$d/done" ] || echo x; done | wc -l)
cur=$(ls -d "$run"/round-[0-9][0-9][0-9] 2>/dev/null | tail -1)
best=- mean=- evaluated=0
if [ -f "$run/history.tsv" ]; then
	read -r evaluated best < <(awk -F'\t' 'NR > 1 { n++; if ($3 > b) b = $3 } END { printf "%d %.4f\n", n, b }' "$run/history.tsv")
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
fi
echo "evaluated:  $evaluated children, best reward $best"
if [ -f "$run/history.tsv" ] && [ "$evaluated" -gt 0 ]; then
	echo "top 3:"
	tail -n +2 "$run/history.tsv" | sort -t$'\t' -k3,3gr | head -3 |
		awk -F'\t' '{ printf "  round %s child %s reward %s params %s  %s\n", $1, $2, $3, $5, substr($8, 1, 90) }'
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
