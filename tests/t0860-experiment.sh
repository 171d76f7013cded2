#!/usr/bin/env bash
# t0860-experiment.sh - make experiment end to end on a tiny task: bad variables
# refused before anything starts, two searches stopped by BUDGET, the report with
# its plot, the transfer table with size-matched rows and a failed transfer as a
# row; SIGKILLed while searching and while transferring and rerun, the same table (minus wall times);
# the budget of a successive-halving search counted over its rungs.
. "$(dirname "$0")/lib.sh"

# 2 classes at 14x14: the transfers' test evaluations stay short
small_data "$tmp/d.h5" --valid 60 --train-subset 150 --keep-classes 0,1 --downsample 2
# a transfer that fails for one cell (as an out-of-memory kill would), the rest real
mkdir -p "$tmp/fakebin"
for tool in bin/*; do [ "$tool" = bin/transfer ] || ln -s "$PWD/$tool" "$tmp/fakebin/"; done
cat >"$tmp/fakebin/transfer" <<EOS
#!/bin/sh
case "\$*" in *random-1.txt*) echo "transfer: injected failure" >&2; exit 1 ;; esac
exec "$PWD/bin/transfer" "\$@"
EOS
chmod +x "$tmp/fakebin/transfer"
export NASNET_BIN=$tmp/fakebin
# children: 60 images each, 2 a round, so BUDGET=121 stops each search after round 1
args=(DATA="$tmp/d.h5" STRATEGIES="ppo random" SCHEDULES=none SEEDS=1 BUDGET=121 CHILDREN=2
	CHILD_F=4 CHILD_TRAIN_IMAGES=60 CHILD_BATCH=20 JOBS=1 EXP_JOBS=2 RANDOM_CELLS=1
	TRANSFER_N=1 TRANSFER_F=4 TRANSFER_STEPS=2 TRANSFER_IMAGES=40)
experiment() { make --no-print-directory -s experiment "${args[@]}" "$@"; }

# bad variables: one line naming the variable (make adds its own "***" line), nothing
# started; the last three straight through the script make runs, to keep the test short
bad() { # VARIABLE-ASSIGNMENT NAME [direct]
	if [ -n "${3:-}" ]; then
		env "${args[@]}" EXP="$tmp/bad" "$1" bash pipelines/experiment.sh run
	else
		experiment EXP="$tmp/bad" "$1"
	fi >/dev/null 2>"$tmp/err"
	local rc=$?
	grep -v '^make: \*\*\*' "$tmp/err" >"$tmp/err1" || true
	[ $rc != 0 ] && [ "$(wc -l <"$tmp/err1")" = 1 ] && grep -q "^experiment: $2" "$tmp/err1" && [ ! -e "$tmp/bad" ]
	report $? "$1 refused with one line naming $2, nothing started"
	[ $rc != 0 ] || sed 's/^/# /' "$tmp/err"
}
bad STRATEGIES= STRATEGIES
bad "STRATEGIES=ppo bogus" STRATEGIES
bad SCHEDULES=weekly SCHEDULES
bad BUDGET=0 BUDGET
bad BUDGET=-5 BUDGET direct
bad SEEDS= SEEDS direct
bad "SCHEDULES=none sha" CHILDREN direct

# successive halving under a budget: each rung counts its own images (round: rung 0 trains
# 2 children for 2 of 3 steps of 20 images, rung 1 the better one for the last step: 100)
make --no-print-directory -s search RUN="$tmp/sha" DATA="$tmp/d.h5" ROUNDS=50 CHILDREN=2 CHILD_F=4 \
	CHILD_TRAIN_IMAGES=60 CHILD_BATCH=20 JOBS=2 SCHEDULE=sha ETA=2 RUNGS=2 BUDGET=150 >"$tmp/sha.out" 2>&1; rc=$?
t "a search with SCHEDULE=sha stops after the first round reaching BUDGET (100 < 150 <= 200 images)" \
	'[ $rc = 0 ] && [ "$(tail -n 1 "$tmp/sha/round-000/compute.tsv" | cut -f1,3)" = "100	3" ] &&
		[ -e "$tmp/sha/round-001/done" ] && [ ! -e "$tmp/sha/round-002" ] &&
		grep -q "budget reached after round 1: 200 of 150 training images" "$tmp/sha.out"' || sed 's/^/# /' "$tmp/sha.out"

ref=$tmp/ref
start=$(date +%s)
experiment EXP="$ref" >"$tmp/ref.out" 2>&1; rc=$?
t "a tiny experiment runs end to end ($(($(date +%s) - start)) s)" '[ $rc = 0 ]' || sed 's/^/# /' "$tmp/ref.out"
t "one search folder per strategy, each with the budget in its settings" \
	'for s in ppo random; do grep -qx BUDGET=121 "$ref/$s-none-s1/settings" || exit 1; done'
t "each search stopped after the first round reaching the budget (120 < 121 <= 240 images)" \
	'for s in ppo random; do [ -e "$ref/$s-none-s1/round-001/done" ] && [ ! -e "$ref/$s-none-s1/round-002" ] &&
		[ "$(cut -f1 "$ref/$s-none-s1/round-001/compute.tsv" | tail -n 1)" = 120 ] || exit 1; done'
t "report.md, topk.png and curves.tsv written" \
	'[ -s "$ref/report.md" ] && [ -s "$ref/topk.png" ] && [ "$(wc -l <"$ref/curves.tsv")" = 5 ]'
t "the report tables every search with its images and CPU hours, and the transfer table" \
	'grep -q "^| \`ppo-none-s1\` | ppo | none | 1 | 2 | 4 | 240 | [0-9.]* | budget |" "$ref/report.md" &&
		grep -q "^| nasnet-a-n1-f4 |" "$ref/report.md"'
t "transfer.tsv: both searches' best cells, NASNet-A (size-matched to itself) and the random cell" \
	'for r in ppo-none-s1-n1-f4 random-none-s1-n1-f4 "nasnet-a-n1-f4.*	yes	" random-1-n1-f4; do
		grep -q "^$r" "$ref/transfer.tsv" || exit 1; done'
t "every searched cell also has a size-matched row whose params are nearest NASNet-A's" \
	'awk -F"\t" "NR > 1 && \$2 == \"searched\" && \$6 == \"yes\" { n++ } END { exit n != 2 }" "$ref/transfer.tsv"'
t "ok rows have a test accuracy, params and MACs" \
	'awk -F"\t" "NR > 1 && \$11 == \"ok\" && (\$9 !~ /^0\.[0-9]+$/ || \$7 < 1000 || \$8 < 1000) { exit 1 }" "$ref/transfer.tsv"'
t "the failed transfer is a row with its reason" \
	'grep -q "^random-1-n1-f4	random	.*	failed: transfer exited with status 1: transfer: injected failure (log: transfer/random-1-n1-f4.log)" "$ref/transfer.tsv"'
t "no temporary files left" 'no_tmp "$ref"'

rm "$ref/report.md"
make --no-print-directory -s experiment-report EXP="$ref" >/dev/null 2>"$tmp/err"; rc=$?
t "make experiment-report rewrites the report with the experiment's own settings" \
	'[ $rc = 0 ] && grep -q "^| random-1-n1-f4 |" "$ref/report.md"' || sed 's/^/# /' "$tmp/err"

# changed settings are refused, naming the variable
experiment EXP="$ref" BUDGET=500 >/dev/null 2>"$tmp/err"; rc=$?
t "changed settings refused, naming BUDGET" '[ $rc != 0 ] && grep -q "^experiment: .*other settings: BUDGET" "$tmp/err"'

# SIGKILL the whole experiment (make, parallel, searches, children, transfers) once
# during the searches and once during the transfers, then resume; the moments are
# events, not delays, so a loaded machine still kills in both phases
run=$tmp/kill
kills=0
kill_when() { # CONDITION
	setsid bash -c 'make --no-print-directory -s experiment EXP="$1" "${@:2}" >/dev/null 2>&1' _ "$run" "${args[@]}" &
	local leader=$! sid w
	for w in $(seq 1200); do eval "$1" && break; kill -0 $leader 2>/dev/null || break; sleep 0.1; done
	if kill -0 $leader 2>/dev/null; then
		sid=$(ps -o sid= -p $leader | tr -d ' ')
		pkill -KILL -s "$sid"; kills=$((kills + 1))
		for w in $(seq 100); do pkill -KILL -s "$sid" || break; sleep 0.05; done
	fi
	wait $leader 2>/dev/null
}
kill_when '[ -e "$run/ppo-none-s1/round-000/rewards.done" ]'
kill_when 'compgen -G "$run/transfer/*-n1-f*/*" >/dev/null'
experiment EXP="$run" >"$tmp/resume.out" 2>&1; rc=$?
t "resumed after $kills SIGKILLs (searching, transferring)" '[ $rc = 0 ] && [ $kills = 2 ]' || sed 's/^/# /' "$tmp/resume.out"
t "the same transfer table, minus wall times" \
	'cmp -s <(cut -f1-11 "$ref/transfer.tsv") <(cut -f1-11 "$run/transfer.tsv")' ||
	diff <(cut -f1-11 "$ref/transfer.tsv") <(cut -f1-11 "$run/transfer.tsv") | sed 's/^/# /'
t "the same searches (history.tsv byte-identical)" \
	'for s in ppo random; do cmp -s "$ref/$s-none-s1/history.tsv" "$run/$s-none-s1/history.tsv" || exit 1; done'
t "the same curves, minus CPU hours" 'cmp -s <(cut -f1-3,5- "$ref/curves.tsv") <(cut -f1-3,5- "$run/curves.tsv")'
t "no temporary files left after the resume" 'no_tmp "$run"' || find "$run" -name '.*.tmp.*' | sed 's/^/# /'
finish
