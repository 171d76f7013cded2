#!/usr/bin/env bash
# search.sh - entry point of `make search` (variables come from pipelines/search.mk).
#
# 1. checks every setting of pipelines/settings.list (its kind, then a dry run
#    of the tools' argument parsing) before anything is written: a typo is one
#    line and leaves nothing behind;
# 2. takes the run's lock (flock), so a second `make search` on the same run
#    is refused instead of racing the first;
# 3. records the settings and the dataset's fingerprint on the first call and
#    refuses a later call whose settings differ (numbers compared as numbers,
#    paths after normalisation) or whose dataset changed (ROUNDS, JOBS,
#    SSHLOGINFILE and LAUNCH may change);
# 4. sweeps temporary files a killed run left behind (its own only);
# 5. repairs finished rounds whose files were lost (repair below);
# 6. runs the rounds (pipelines/rounds.mk): make decides what is missing;
#    with BUDGET (training images), one round at a time until the images of
#    every finished round (pipelines/compute.sh, cached in round-RRR/compute.tsv)
#    reach it: ROUNDS is then only a cap.
# Exit status: 0 done, 1 failure, 2 bad setting, 3 bad or changed dataset,
# 75 stopped after a checkpoint (children got SIGTERM/SIGUSR1): run again.
set -eu -o pipefail
cd "$(dirname "$0")/.."
bin=${NASNET_BIN:-bin}
usage_error() { echo "search: $*" >&2; exit 2; }

case $RUN in
'' | -*) usage_error "RUN='$RUN': a run folder name must not be empty or start with '-'" ;;
*[!A-Za-z0-9._/+-]*) usage_error "RUN='$RUN': use only letters, digits and . _ / + - in run folder names" ;;
esac

# canon KIND VALUE: the value to compare, or failure when VALUE is not of KIND
canon() {
	case $1 in
	*'?') [ -z "$2" ] || canon "${1%'?'}" "$2" ;;
	count | uint)
		[[ $2 =~ ^[0-9]{1,18}$ ]] || return 1
		[ "$1" = uint ] || [ $((10#$2)) -ge 1 ] || return 1
		echo $((10#$2)) ;;
	num)
		[[ $2 =~ ^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$ ]] || return 1
		printf '%.17g\n' "$2" ;;
	word) [[ $2 =~ ^[A-Za-z0-9._-]+$ ]] || return 1; echo "$2" ;;
	path) [ -n "$2" ] || return 1; realpath -m -- "$2" ;;
	*) return 1 ;;
	esac
}
kind_text() {
	case $1 in
	*'?') echo "empty or $(kind_text "${1%'?'}")" ;;
	count) echo "a decimal integer >= 1" ;; uint) echo "a decimal integer >= 0" ;;
	num) echo "a decimal number" ;; word) echo "letters, digits, . _ -" ;; path) echo "a file name" ;;
	esac
}

# 1. every setting, before anything is written: its kind here, then one dry run
# of sample-arch's argument parsing with all of them (and the dataset). The run
# settings are pipelines/settings.list; the child settings (CHILD_N, ...), their
# flags and defaults are the table in lib/arch/childcfg.c (sample-arch --list-settings):
# numbers, recorded with the run, checked by their flag.
child_settings=$("$bin/sample-arch" --list-settings)
while IFS=$'\t' read -r name _ default; do
	[ -n "${!name:-}" ] || export "$name=$default"
done <<<"$child_settings"
# the size a budget is stated for: TRANSFER_N/TRANSFER_F only when given to
# make search (search.mk), not experiment.mk's defaults of the same name
TRANSFER_N=${SEARCH_TRANSFER_N:-} TRANSFER_F=${SEARCH_TRANSFER_F:-}
export TRANSFER_N TRANSFER_F
names=() run_names=() dry=() flagged=()
declare -A kind flag
no_data=/dev/null/no-dataset    # dry runs of single flags must not read a dataset
while read -r name k scope check; do
	case $name in '' | '#'*) continue ;; esac
	names+=("$name"); kind[$name]=$k
	[ "$scope" = run ] && run_names+=("$name")
	val=${!name-}
	c=$(canon "$k" "$val") || usage_error "$name='$val': expected $(kind_text "$k")"
	# ints are decimal from here on (ROUNDS=010 is 10)
	case $k in count* | uint*) printf -v "$name" %s "$c" ;; esac
	case $check in
	-) ;;
	--*) flag[$name]=$check; flagged+=("$name"); dry+=("$check" "${!name}") ;;
	*) [[ "|$check|" == *"|$val|"* ]] || usage_error "$name='$val': expected one of ${check//|/, }" ;;
	esac
done < <(cat pipelines/settings.list
	while IFS=$'\t' read -r name f _; do echo "$name num run --$f"; done <<<"$child_settings")
# the strategies are one table in lib/search/strategy.c: name, needs a policy, needs the history
strategies=$("$bin/sample-arch" --list-strategies)
grep -q "^$STRATEGY	" <<<"$strategies" ||
	usage_error "STRATEGY='$STRATEGY': expected one of $(cut -f1 <<<"$strategies" | paste -sd' ')"

if [ "$SCHEDULE" = sha ]; then
	[ "$SPACE" != nb201 ] || usage_error "SCHEDULE=sha needs trained children (SPACE=nb201 is a table lookup)"
	need=1; for ((k = 1; k < RUNGS; k++)); do need=$((need * ETA)); done
	[ "$CHILDREN" -ge "$need" ] ||
		usage_error "CHILDREN=$CHILDREN: SCHEDULE=sha needs at least ETA^(RUNGS-1) = $need children"
fi

[ -z "$BUDGET" ] || [ "$SPACE" != nb201 ] ||
	usage_error "BUDGET: the nb201 space trains no child, so it has no training images to count"
# cost-aware search: budgets, the size they are stated for, the reward
# (pipelines/cost.sh checks how they go together)
bash "$(dirname "$0")/cost.sh" check || exit 2
data=$no_data
if [ "$SPACE" != nb201 ]; then
	[ -f "$DATA" ] || { echo "search: DATA=$DATA: no such dataset file" >&2; exit 3; }
	data=$DATA
fi
if ! out=$("$bin/sample-arch" --check --quiet --round 0 --out . --data "$data" "${dry[@]}" 2>&1); then
	# name the setting: each one alone
	for v in "${flagged[@]}"; do
		msg=$("$bin/sample-arch" --check --quiet --count 1 --round 0 --out . --data "$no_data" \
			"${flag[$v]}" "${!v}" 2>&1 >/dev/null) || usage_error "$v='${!v}': ${msg#sample-arch: }"
	done
	echo "search: DATA=$DATA: ${out#sample-arch: }" >&2
	exit 3
fi
fingerprint=$(sed -n 's/^data_fingerprint=//p' <<<"$out")

# 2. the lock
mkdir -p "$RUN"
. pipelines/runlib.sh

# The run's lock: this search takes it exclusively, which fails while another
# search or any worker of a killed one (child.sh takes it shared) still runs;
# then holds it shared, so that its own children can take it too. The search
# id tells a child of a killed search (an orphaned GNU parallel starting its
# next job) that it must not run beside this one.
take_lock() {
	exec 9>"$RUN/.lock"
	if ! flock -n -x 9; then
		echo "search: $RUN is in use by another make search, or by the children of a killed one (lock $RUN/.lock); wait for them or stop them" >&2
		exit 1
	fi
	NASNET_SEARCH_ID=$$.$(date +%s%N)
	export NASNET_SEARCH_ID
	echo "$NASNET_SEARCH_ID" | commit "$RUN/.search"
	flock -n -s 9 || { echo "search: $RUN: lost the lock to another make search" >&2; exit 1; }
}
take_lock

# 3. settings: recorded once, compared on every later call
settings=$RUN/settings
if [ -f "$settings" ]; then
	diff=
	for v in "${run_names[@]}"; do
		have=$(sed -n "s/^$v=//p" "$settings")
		a=$(canon "${kind[$v]}" "$have") || a=$have
		b=$(canon "${kind[$v]}" "${!v}")
		[ "$a" = "$b" ] || diff+="$v "
	done
	if [ -n "$diff" ]; then
		echo "search: $RUN was started with other settings: $diff(see $settings; use another RUN=)" >&2
		for v in $diff; do
			echo "search:   $v: run has '$(sed -n "s/^$v=//p" "$settings")', this call '${!v}'" >&2
		done
		exit 2
	fi
	# the run's own spelling of each setting from here on: same command lines, same files
	for v in "${run_names[@]}"; do printf -v "$v" %s "$(sed -n "s/^$v=//p" "$settings")"; done
	had=$(sed -n 's/^DATA_FINGERPRINT=//p' "$settings")
	if [ -n "$had" ] && [ "$had" != "$fingerprint" ]; then
		echo "search: DATA=$DATA: the dataset changed since the run started (fingerprint ${fingerprint:-none}, the run has $had); restore it or use another RUN=" >&2
		exit 3
	fi
	if [ -z "$had" ] && [ -n "$fingerprint" ]; then
		# a run from before fingerprints: record the dataset it goes on with
		{ cat "$settings"; echo "DATA_FINGERPRINT=$fingerprint"; } | commit "$settings"
	fi
else
	{
		for v in "${run_names[@]}"; do printf '%s=%s\n' "$v" "${!v}"; done
		[ -z "$fingerprint" ] || echo "DATA_FINGERPRINT=$fingerprint"
		echo "SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(date +%s)}"
	} | commit "$settings"
fi
# every file of a run records the run's start as its provenance time, so that
# resumed and uninterrupted runs write identical bytes
SOURCE_DATE_EPOCH=$(sed -n 's/^SOURCE_DATE_EPOCH=//p' "$settings")
export SOURCE_DATE_EPOCH
echo "$ROUNDS" >"$RUN/.rounds"

# temporary files a killed run left: in the run folder and its round folders
# only, never in a nested run (another run's in-flight files)
sweep() {
	local dirs=("$RUN") d k
	for ((k = 0; ; k++)); do round_dir d $k; [ -d "$d" ] || break; dirs+=("$d"); done
	find "${dirs[@]}" -maxdepth 1 -name '.*.tmp.*' -type f -delete
}

# finished rounds whose files were lost or damaged: lost rewards are scored
# again, lost round policies and tables made again, the run's history.tsv,
# timing.tsv and policy.h5 rebuilt from the rounds (all deterministic)
repair() {
	local k d last
	last=$(last_done)
	for ((k = 0; k <= last; k++)); do
		round_dir d $k
		if ! list_ok $k || ! round_complete $k; then
			echo "search: round $k: lost files; making them again" >&2
			bash pipelines/round.sh children $k
			rm -f "$d/history.tsv"
		fi
		case $STRATEGY in ppo | reinforce) [ -s "$d/policy.h5" ] || bash pipelines/round.sh policy $k ;; esac
		[ -s "$d/history.tsv" ] && [ -s "$d/timing.tsv" ] || bash pipelines/round.sh tables $k
	done
	[ "$last" -lt 0 ] || bash pipelines/round.sh run_tables "$last"
}

sweep
rm -f "$RUN/.stopped"

# 5. the rounds; the checked values go on make's command line, where they
# override the caller's (ROUNDS=010 there is 10 here)
assign=()
for v in "${names[@]}"; do assign+=("$v=${!v}"); export "${v?}"; done
# rounds TARGET...: make the targets; a clean stop (children exit 75) is exit 75
rounds() {
	local rc=0
	make --no-print-directory -r -f pipelines/rounds.mk "${assign[@]}" "$@" || rc=$?
	if [ $rc -ne 0 ] && [ -e "$RUN/.stopped" ]; then
		echo "search: $RUN: stopped after a checkpoint (a child got SIGTERM or SIGUSR1); run the same command to resume" >&2
		exit 75
	fi
	[ $rc -eq 0 ] || exit $rc
}
sha=; [ "$SCHEDULE" = sha ] && sha=", successive halving ($RUNGS rungs, eta $ETA)"
repair
if [ -z "$BUDGET" ]; then
	echo "search: $RUN: strategy $STRATEGY, space $SPACE, $ROUNDS rounds of $CHILDREN children, $JOBS jobs$sha" >&2
	rounds
	exit 0
fi
echo "search: $RUN: strategy $STRATEGY, space $SPACE, rounds of $CHILDREN children until $BUDGET training images (at most $ROUNDS rounds), $JOBS jobs$sha" >&2
# The stop depends only on the images of finished rounds, never on time or load,
# so an interrupted search resumed stops after the same round.
spent=0 cpu=0
for ((r = 0; r < ROUNDS; r++)); do
	dir=$RUN/round-$(printf %03d "$r")
	rounds "$dir/done"
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
