#!/usr/bin/env bash
# search.sh - entry point of `make search` (variables come from pipelines/search.mk).
#
# 1. refuses run folder names that make or a shell would split;
# 2. takes the run's lock (flock), so a second `make search` on the same run
#    is refused instead of racing the first;
# 3. records the settings on the first call and refuses a later call whose
#    settings differ (ROUNDS, JOBS, SSHLOGINFILE and LAUNCH may change);
# 4. sweeps temporary files a killed run left behind;
# 5. runs the rounds (pipelines/rounds.mk): make decides what is missing;
#    with BUDGET (training images), one round at a time until the images of
#    every finished round (pipelines/compute.sh, cached in round-RRR/compute.tsv)
#    reach it: ROUNDS is then only a cap.
set -eu -o pipefail
cd "$(dirname "$0")/.."
case $RUN in
'' | *[!A-Za-z0-9._/+-]*)
	echo "search: RUN='$RUN': use only letters, digits and . _ / + - in run folder names" >&2
	exit 2 ;;
esac
case $ROUNDS$CHILDREN$JOBS in *[!0-9]*)
	echo "search: ROUNDS, CHILDREN and JOBS must be positive integers" >&2; exit 2 ;;
esac
[ "$ROUNDS" -ge 1 ] && [ "$CHILDREN" -ge 1 ] && [ "$JOBS" -ge 1 ] ||
	{ echo "search: ROUNDS, CHILDREN and JOBS must be at least 1" >&2; exit 2; }
case $STRATEGY in ppo | reinforce | random | evolution) ;; *)
	echo "search: STRATEGY='$STRATEGY': expected ppo, reinforce, random or evolution" >&2; exit 2 ;;
esac
case $SCHEDULE in none | sha) ;; *)
	echo "search: SCHEDULE='$SCHEDULE': expected none or sha" >&2; exit 2 ;;
esac
case $ETA in '' | *[!0-9]*) echo "search: ETA='$ETA': expected an integer of at least 2" >&2; exit 2 ;; esac
case $RUNGS in '' | *[!0-9]*) echo "search: RUNGS='$RUNGS': expected an integer of at least 1" >&2; exit 2 ;; esac
ETA=$((10#$ETA)) RUNGS=$((10#$RUNGS))
[ "$ETA" -ge 2 ] || { echo "search: ETA=$ETA: must be at least 2" >&2; exit 2; }
[ "$RUNGS" -ge 1 ] && [ "$RUNGS" -le 16 ] || { echo "search: RUNGS=$RUNGS: must be 1..16" >&2; exit 2; }
if [ "$SCHEDULE" = sha ]; then
	[ "$SPACE" != nb201 ] || { echo "search: SCHEDULE=sha needs trained children (SPACE=nb201 is a table lookup)" >&2; exit 2; }
	need=1; for ((k = 1; k < RUNGS; k++)); do need=$((need * ETA)); done
	[ "$CHILDREN" -ge "$need" ] ||
		{ echo "search: CHILDREN=$CHILDREN: SCHEDULE=sha needs at least ETA^(RUNGS-1) = $need children" >&2; exit 2; }
fi
export ETA RUNGS
BUDGET=${BUDGET:-}
case $BUDGET in '' | *[!0-9]* | 0*)
	[ -z "$BUDGET" ] || { echo "search: BUDGET='$BUDGET': expected a positive number of training images" >&2; exit 2; } ;;
esac
[ -z "$BUDGET" ] || [ "$SPACE" != nb201 ] ||
	{ echo "search: BUDGET: the nb201 space trains no child, so it has no training images to count" >&2; exit 2; }
# cost-aware search: budgets, the size they are stated for, the reward (pipelines/cost.sh)
TRANSFER_N=${SEARCH_TRANSFER_N:-} TRANSFER_F=${SEARCH_TRANSFER_F:-}
export TRANSFER_N TRANSFER_F
bash "$(dirname "$0")/cost.sh" check || exit 2
[ -f "$DATA" ] || [ "$SPACE" = nb201 ] || { echo "search: $DATA: no such dataset file" >&2; exit 3; }

mkdir -p "$RUN"
exec 9>"$RUN/.lock"
if ! flock -n 9; then
	echo "search: $RUN is in use by another make search (lock $RUN/.lock); wait for it or stop it" >&2
	exit 1
fi

settings=$RUN/settings
want=$(for v in $SEARCH_SETTINGS; do printf '%s=%s\n' "$v" "${!v}"; done)
if [ -f "$settings" ]; then
	diff=$(diff <(grep -v '^SOURCE_DATE_EPOCH=' "$settings") <(printf '%s\n' "$want") |
		sed -n 's/^> \([A-Z_]*\)=\(.*\)/\1/p' | tr '\n' ' ') || true
	if [ -n "$diff" ]; then
		echo "search: $RUN was started with other settings: $diff(see $settings; use another RUN=)" >&2
		for v in $diff; do
			echo "search:   $v: run has '$(sed -n "s/^$v=//p" "$settings")', this call '${!v}'" >&2
		done
		exit 2
	fi
else
	tmp=$RUN/.settings.tmp.$$
	{ printf "%s\n" "$want"; echo "SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(date +%s)}"; } >"$tmp"
	mv "$tmp" "$settings"
fi
# every file of a run records the run's start as its provenance time, so that
# resumed and uninterrupted runs write identical bytes
SOURCE_DATE_EPOCH=$(sed -n 's/^SOURCE_DATE_EPOCH=//p' "$settings")
export SOURCE_DATE_EPOCH

find "$RUN" -name '.*.tmp.*' -type f -delete
sha=; [ "$SCHEDULE" = sha ] && sha=", successive halving ($RUNGS rungs, eta $ETA)"
if [ -z "$BUDGET" ]; then
	echo "search: $RUN: strategy $STRATEGY, space $SPACE, $ROUNDS rounds of $CHILDREN children, $JOBS jobs$sha" >&2
	exec make --no-print-directory -r -f pipelines/rounds.mk
fi
echo "search: $RUN: strategy $STRATEGY, space $SPACE, rounds of $CHILDREN children until $BUDGET training images (at most $ROUNDS rounds), $JOBS jobs$sha" >&2
# The stop depends only on the images of finished rounds, never on time or load,
# so an interrupted search resumed stops after the same round.
spent=0 cpu=0
for ((r = 0; r < ROUNDS; r++)); do
	dir=$RUN/round-$(printf %03d "$r")
	make --no-print-directory -r -f pipelines/rounds.mk "$dir/done"
	if [ ! -f "$dir/compute.tsv" ]; then
		bash pipelines/compute.sh "$dir" >"$dir/.compute.tsv.tmp.$$"
		mv "$dir/.compute.tsv.tmp.$$" "$dir/compute.tsv"
	fi
	read -r spent cpu < <(awk -F'\t' -v s="$spent" -v c="$cpu" 'NR == 2 { printf "%.0f %.3f\n", s + $1, c + $2 }' "$dir/compute.tsv")
	if [ "$spent" -lt "$BUDGET" ]; then
		# the same estimate as status.sh's ETA: elapsed time since the run started, scaled
		eta=$(awk -v s="$spent" -v b="$BUDGET" -v t=$(($(date +%s) - $(stat -c %Y "$RUN/settings"))) \
			'BEGIN { if (s > 0) { e = t * (b - s) / s; printf "%dm%02ds", e / 60, e % 60 } else printf "?" }')
		echo "search: round $r: $spent of $BUDGET training images so far, ETA $eta" >&2
	fi
	if [ "$spent" -ge "$BUDGET" ]; then
		echo "search: budget reached after round $r: $spent of $BUDGET training images, $(awk -v c="$cpu" 'BEGIN { printf "%.3f", c / 3600 }') CPU hours" >&2
		exit 0
	fi
done
echo "search: ROUNDS=$ROUNDS done before the budget: $spent of $BUDGET training images; raise ROUNDS to go on" >&2
