#!/usr/bin/env bash
# search.sh - entry point of `make search` (variables come from pipelines/search.mk).
#
# 1. refuses run folder names that make or a shell would split;
# 2. takes the run's lock (flock), so a second `make search` on the same run
#    is refused instead of racing the first;
# 3. records the settings on the first call and refuses a later call whose
#    settings differ (ROUNDS, JOBS, SSHLOGINFILE and LAUNCH may change);
# 4. sweeps temporary files a killed run left behind;
# 5. runs the rounds (pipelines/rounds.mk): make decides what is missing.
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
echo "search: $RUN: strategy $STRATEGY, space $SPACE, $ROUNDS rounds of $CHILDREN children, $JOBS jobs$sha" >&2
exec make --no-print-directory -r -f pipelines/rounds.mk
