#!/usr/bin/env bash
# t0820-cost.sh - cost-aware search: a tiny search with MAX_PARAMS between the
# smallest and the largest child of the same search without it keeps every
# child within budget, learns from the refused draws, is byte-identical
# across JOBS and after SIGKILL, and its pareto.tsv is exactly the
# non-dominated set of history.tsv (checked by an independent python
# script); bad budgets and rewards are refused with one line.
. "$(dirname "$0")/lib.sh"

small_data "$tmp/d.h5" --valid 100 --train-subset 200
run=$tmp/run
search() {
	make --no-print-directory -s search RUN="$run" DATA="$tmp/d.h5" ROUNDS=2 CHILDREN=3 \
		CHILD_F=4 CHILD_TRAIN_IMAGES=120 CHILD_BATCH=24 SEED=5 "$@"
}
# col FILE NAME: the column NAME of a tab-separated table, without its header
col() { awk -F'\t' -v n="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == n) c = i; next } { print $c }' "$1"; }

# the same search without a budget: its round-0 children bound the budget
search JOBS=2 RUN="$tmp/free" >"$tmp/free.out" 2>&1; rc=$?
t "the unconstrained search runs" '[ $rc = 0 ]' || sed 's/^/# /' "$tmp/free.out"
awk -F'\t' 'NR > 1 && $1 == 0' "$tmp/free/history.tsv" >"$tmp/free0"
lo=$(cut -f5 "$tmp/free0" | sort -n | head -n 1)
hi=$(cut -f5 "$tmp/free0" | sort -n | tail -n 1)
budget=$(((lo + hi) / 2))
t "its round-0 children differ in size ($lo..$hi params)" '[ "$lo" -lt "$hi" ]'

search JOBS=2 MAX_PARAMS=$budget >"$tmp/ref.out" 2>&1; rc=$?
t "MAX_PARAMS=$budget: the search runs" '[ $rc = 0 ]' || sed 's/^/# /' "$tmp/ref.out"
t "every row of history.tsv is within the budget" \
	'[ "$(col "$run/history.tsv" params | awk -v b=$budget "\$1 > b" | wc -l)" = 0 ] && [ "$(wc -l <"$run/history.tsv")" = 7 ]'
t "the settings record the budget" 'grep -qx "MAX_PARAMS=$budget" "$run/settings"'
nref=$(for a in "$run"/round-000/arch_*[0-9].h5; do h5dump -H -d /sample/refused "$a" 2>/dev/null |
	sed -n 's/.*DATASPACE *SIMPLE { ( \([0-9]*\), .*/\1/p'; done | awk '{ s += $1 } END { print s + 0 }')
t "round 0 refused $nref draw(s), kept in the genotype files" '[ "$nref" -ge 1 ]'
t "the controller learnt from them: update batch = children + refused" \
	'grep -q "batch $((3 + nref))	" "$run/round-000/update.txt"'
bin/nas-check --quiet "$run"/*.h5 "$run"/round-*/*.h5; rc=$?
t "every HDF5 file of the run validates" '[ $rc = 0 ]'
t "h5py reads the genotype files with refused draws" 'h5py_reads "$run"/round-000/arch_*[0-9].h5'
mv "$run" "$tmp/ref"

search JOBS=1 MAX_PARAMS=$budget >/dev/null 2>&1
t "JOBS=1 and JOBS=2: identical policy.h5, history.tsv and pareto.tsv" \
	'for f in policy.h5 history.tsv pareto.tsv; do cmp -s "$run/$f" "$tmp/ref/$f" || exit 1; done'
rm -rf "$run"

# SIGKILL the whole search at random moments, resume each time
kills=0
for delay in 1.3 2.9 4.4; do
	setsid bash -c 'make --no-print-directory -s search RUN="$1" DATA="$2" ROUNDS=2 CHILDREN=3 \
		CHILD_F=4 CHILD_TRAIN_IMAGES=120 CHILD_BATCH=24 SEED=5 JOBS=2 MAX_PARAMS=$3 >/dev/null 2>&1' \
		_ "$run" "$tmp/d.h5" "$budget" &
	leader=$!
	sleep "$delay"
	if kill -0 $leader 2>/dev/null; then
		sid=$(ps -o sid= -p $leader | tr -d ' ')
		pkill -KILL -s "$sid"; kills=$((kills + 1))
		for w in $(seq 100); do pkill -KILL -s "$sid" || break; sleep 0.05; done
	fi
	wait $leader 2>/dev/null
done
search JOBS=2 MAX_PARAMS=$budget >"$tmp/resume.out" 2>&1; rc=$?
t "resumed after $kills SIGKILLs" '[ $rc = 0 ] && [ $kills -ge 1 ]' || sed 's/^/# /' "$tmp/resume.out"
t "resumed run: policy.h5, history.tsv and pareto.tsv byte-identical" \
	'for f in policy.h5 history.tsv pareto.tsv; do cmp -s "$run/$f" "$tmp/ref/$f" || exit 1; done'

# pareto.tsv against an independent O(n^2) dominance check
pareto_check() { # HISTORY PARETO COST
	/usr/bin/python3 - "$@" <<'PY'
import csv, sys
hist, par, cost = sys.argv[1:4]
rows = [r for r in csv.DictReader(open(hist), delimiter="\t") if r["status"] == "ok"]
def dominated(a):
    return any(float(b["accuracy"]) >= float(a["accuracy"]) and int(b[cost]) <= int(a[cost]) and
               (float(b["accuracy"]) > float(a["accuracy"]) or int(b[cost]) < int(a[cost])) for b in rows)
want = sorted((r for r in rows if not dominated(r)),
              key=lambda r: (-float(r["accuracy"]), int(r[cost]), int(r["round"]), int(r["index"])))
got = list(csv.DictReader(open(par), delimiter="\t"))
assert len(got) == len(want), (len(got), len(want))
for g, w in zip(got, want):
    for k in ("round", "index", "accuracy", "params", "mult_adds", "reward", "genotype"):
        assert g[k] == w[k], (k, g[k], w[k])
PY
}
t "pareto.tsv is exactly the non-dominated set of history.tsv (python)" \
	'pareto_check "$tmp/ref/history.tsv" "$tmp/ref/pareto.tsv" params'
bash pipelines/pareto.sh "$tmp/free/history.tsv" mult_adds >"$tmp/free-macs.tsv"
t "and so is the front against mult-adds of the unconstrained search" \
	'pareto_check "$tmp/free/history.tsv" "$tmp/free-macs.tsv" mult_adds'
# ties and failed children, by hand
printf 'round\tindex\treward\taccuracy\tparams\tmult_adds\tstatus\tgenotype\n' >"$tmp/h.tsv"
printf '0\t%d\t%s\t%s\t%d\t%d\t%s\tg%d\n' 0 0.5 0.5 100 10 ok 0 1 0.6 0.6 200 5 ok 1 2 0.6 0.6 150 50 ok 2 \
	3 0.4 0.4 90 50 ok 3 4 0.9 0.9 50 50 "failed: x" 4 5 0.5 0.5 100 10 ok 5 6 0.3 0.3 100 1 ok 6 >>"$tmp/h.tsv"
bash pipelines/pareto.sh "$tmp/h.tsv" >"$tmp/p.tsv"
t "hand-made table: ties kept, failed children ignored" \
	'pareto_check "$tmp/h.tsv" "$tmp/p.tsv" params && [ "$(col "$tmp/p.tsv" index | tr "\n" " ")" = "2 0 5 3 " ]'

# bad budgets
for v in -5 abc 1.5; do
	search JOBS=1 RUN="$tmp/bad" MAX_PARAMS=$v >/dev/null 2>"$tmp/err"; rc=$?
	t "MAX_PARAMS=$v refused with one line naming it (and make's own)" \
		'[ $rc = 2 ] && [ "$(grep -vc "^make: " "$tmp/err")" = 1 ] && grep -q "MAX_PARAMS=.$v." "$tmp/err"'
done
search JOBS=1 RUN="$tmp/bad" MAX_MACS=-1 >/dev/null 2>"$tmp/err"; rc=$?
t "MAX_MACS=-1 refused naming it" '[ $rc = 2 ] && grep -q "MAX_MACS" "$tmp/err"'
search JOBS=1 RUN="$tmp/bad" REWARD=mnasnet >/dev/null 2>"$tmp/err"; rc=$?
t "REWARD=mnasnet without a target refused" '[ $rc = 2 ] && grep -q "TARGET_MACS or TARGET_LATENCY_MS" "$tmp/err"'
search JOBS=1 RUN="$tmp/bad" TARGET_MACS=1000 >/dev/null 2>"$tmp/err"; rc=$?
t "TARGET_MACS without REWARD=mnasnet refused" '[ $rc = 2 ] && grep -q "TARGET_MACS" "$tmp/err"'
t "no run folder made by a refused setting" '[ ! -e "$tmp/bad/settings" ]'
search JOBS=1 RUN="$tmp/tf" MAX_PARAMS=1000 >/dev/null 2>"$tmp/err"; rc=$?
t "a budget no cell meets stops the search, counted at the child's size" \
	'[ $rc != 0 ] && grep -q "no cell within 1000 params in 1000 draws" "$tmp/err"' || sed 's/^/# /' "$tmp/err"
search JOBS=1 RUN="$tmp/tf2" MAX_PARAMS=1000 TRANSFER_F=16 >/dev/null 2>"$tmp/err"; rc=$?
t "TRANSFER_F=16: the budget is counted at F=16" '[ $rc != 0 ] && grep -q "within 1000 params at F=16" "$tmp/err"'

# a budget no cell meets: one line with the smallest count, nothing written
mkdir "$tmp/o"
expect 2 "sample-arch --max-params 1000" bin/sample-arch --count 3 --round 0 --out "$tmp/o" --seed 5 \
	--max-params 1000 --save-policy "$tmp/o/p.h5"
one_line_err "the smallest drawn has" "one line naming the smallest cell drawn"
t "and nothing written" '[ -z "$(ls -A "$tmp/o")" ]'
expect 2 "sample-arch --max-params -1" bin/sample-arch --count 1 --round 0 --out "$tmp/o" --max-params -1
one_line_err "--max-params" "a negative budget: one line naming the flag"
expect 2 "a budget on nb201" bin/sample-arch --count 1 --round 0 --out "$tmp/o" --space nb201 --max-params 10
# the budget at another size: F=16 makes every cell bigger than at the child's F=4
bin/sample-arch --count 3 --round 0 --out "$tmp/o" --seed 5 --filters 4 --max-params $((hi * 12)) \
	--budget-filters 16 >/dev/null; rc=$?
ok=$rc
for a in "$tmp"/o/arch_*.h5; do
	p=$(bin/build-net --genotype "$a" --filters 16 | sed -n 's/^params: //p')
	[ "$p" -le $((hi * 12)) ] || ok=1
done
t "--budget-filters 16: the cells fit the budget at F=16" '[ $ok = 0 ]'
# the MnasNet reward: accuracy, cost and reward kept apart in the reward files
tm=$(cut -f6 "$tmp/free0" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
search JOBS=2 RUN="$tmp/mnas" ROUNDS=1 REWARD=mnasnet TARGET_MACS=$tm REWARD_W=-0.5 >"$tmp/mnas.out" 2>&1; rc=$?
t "REWARD=mnasnet TARGET_MACS=$tm: the search runs" '[ $rc = 0 ]' || sed 's/^/# /' "$tmp/mnas.out"
mnas_check() {
	/usr/bin/python3 - "$@" <<'PY'
import glob, math, sys, h5py
run, target, w, kind = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
files = sorted(glob.glob(run + "/round-*/arch_*.reward.h5"))
assert files
for p in files:
    a = h5py.File(p, "r").attrs
    s = lambda k: a[k].decode() if isinstance(a[k], bytes) else a[k]
    assert s("reward_kind") == kind and s("cost_kind") == "mult_adds", p
    if a["failed"]:
        continue
    assert a["cost"] == a["mult_adds"] and a["target"] == target and a["reward_w"] == w, p
    e = w if kind == "mnasnet" or a["cost"] > target else 0
    want = a["accuracy"] * (a["cost"] / target) ** e
    assert abs(a["reward"] - want) <= 1e-12 * want, (p, a["reward"], want)
PY
}
t "every reward = accuracy * (mult_adds / target)^w, each term recorded" 'mnas_check "$tmp/mnas" $tm -0.5 mnasnet'
t "the MnasNet rewards differ from the accuracies" \
	'[ -n "$(awk -F"\t" "NR > 1 && \$3 != \$4" "$tmp/mnas/history.tsv")" ]'
arch=$(head -n 1 "$tmp/mnas/round-000/archs.list")
mkdir -p "$tmp/hard/round-000"
bin/score -q --reward mnasnet-hard --target-macs $tm --reward-w -1 -o "$tmp/hard/round-000/arch_0000.reward.h5" \
	"$arch" >/dev/null; rc=$?
t "score --reward mnasnet-hard: exponent 0 up to the target, -1 above" \
	'[ $rc = 0 ] && mnas_check "$tmp/hard" $tm -1 mnasnet-hard'
expect 2 "score --reward mnasnet without a target" bin/score --reward mnasnet "$arch"
one_line_err "needs --target-macs or --target-latency-ms" "one line saying what is missing"
expect 2 "score --target-macs with the accuracy reward" bin/score --target-macs 5 "$arch"

# latency measured on this machine, one thread, batch 1 and 64
expect 0 "build-net --latency -o" bin/build-net --genotype "$arch" --latency -o "$tmp/net.h5"
t "prints both latencies, positive" \
	'awk "/^latency_ms_batch(1|64): [0-9.]+\$/ && \$2 > 0 { n++ } END { exit n != 2 }" "$tmp/out"'
t "and records them in the network file" \
	'h5dump -a /latency_ms_batch1 "$tmp/net.h5" >/dev/null && h5dump -a /latency_ms_batch64 "$tmp/net.h5" >/dev/null'
bin/score -q --reward mnasnet --target-latency-ms 1000 -o "$tmp/lat.reward.h5" "$arch" >/dev/null; rc=$?
t "score --target-latency-ms: the cost is the measured batch-1 latency" \
	'[ $rc = 0 ] && [ "$(h5dump -a /cost_kind "$tmp/lat.reward.h5" | grep -c latency_ms)" = 1 ]'
# transfer --pareto K: K children spread along the front, cheapest and most accurate included
bin/transfer --run "$tmp/ref" --pareto 2 --data "$tmp/d.h5" --list >"$tmp/pl" 2>"$tmp/err"; rc=$?
name() { awk -F'\t' -v r="$1" 'NR == r + 1 { printf "r%03d-a%04d\n", $1, $2 }' "$tmp/ref/pareto.tsv"; }
nf=$(($(wc -l <"$tmp/ref/pareto.tsv") - 1))
t "transfer --pareto 2 --list: the most accurate and the cheapest of the front ($nf)" \
	'[ $rc = 0 ] && [ "$(cut -d- -f1,2 "$tmp/pl" | tr "\n" " ")" = "$(name 1) $(name $nf) " ] || [ $nf = 1 ]' ||
	sed 's/^/# /' "$tmp/pl" "$tmp/err"
bin/transfer --run "$tmp/ref" --pareto 50 --data "$tmp/d.h5" --list >"$tmp/pl"; rc=$?
t "transfer --pareto 50: the whole front, once each" '[ $rc = 0 ] && [ "$(wc -l <"$tmp/pl")" -le $nf ] && [ "$(sort -u "$tmp/pl" | wc -l)" = "$(wc -l <"$tmp/pl")" ]'
finish
