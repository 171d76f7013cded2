#!/usr/bin/env bash
# t0916-hostile-pipeline.sh - the pipeline side of the hostile-use report
# (issue 22, ../shared/reference/hostile-use-report.md): each reproduction,
# shrunk to seconds. Most cases are nb201 searches (table lookups, no
# training); D1 and D17 need real (tiny) children.
#   D1  a machine failure (exit 1, ENOSPC) of a child is retryable, never reward 0
#   D2  sample-arch never overwrites a genotype that has a reward; readers
#       refuse a reward whose genotype text differs from its genotype file
#   D3  the batch and the history come from archs.list, not from a glob
#   D5  lost rewards and derived files (history.tsv, timing.tsv, policy.h5) rebuilt
#   D6  rounds past 999 everywhere
#   D16 lost intermediate files (round policy, genotype, archs.list) regenerated
#   D17 orphaned workers of a killed search keep the run locked
#   D18 the temp sweep leaves nested runs alone
#   D23 the shell-written files are fsynced
#   D24 sample-arch fsyncs once, not once per file
. "$(dirname "$0")/lib.sh"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export NASNET_NB201=$PWD/data/nb201-cifar10-12epoch.csv.gz

# every run uses the same path (provenance records command lines): W, then moved away
W=$tmp/w
nb() { make --no-print-directory -s search RUN="$W" SPACE=nb201 ROUNDS=2 CHILDREN=3 SEED=3 JOBS=1 \
	DATA=/nonexistent "$@"; }
fresh() { rm -rf "$W" && cp -a "$1" "$W"; }
same_as() { cmp -s "$W/history.tsv" "$1/history.tsv" && cmp -s "$W/policy.h5" "$1/policy.h5"; }
show() { sed 's/^/# /' "$tmp/out"; }

nb >"$tmp/out" 2>&1; rc=$?
t "reference: a 2-round nb201 search" '[ $rc = 0 ]' || show
mv "$W" "$tmp/ref"
nb ROUNDS=1 >/dev/null 2>&1
mv "$W" "$tmp/r1"          # stopped after round 0

# ---- D3: stray reward files are not part of a round ----
fresh "$tmp/r1"
cp "$W/round-000/arch_0002.reward.h5" "$W/round-000/arch_0002.test.reward.h5"
mkdir "$W/round-001"
cp "$W/round-000/arch_0000.reward.h5" "$W/round-001/arch_0000.test.reward.h5"
nb >"$tmp/out" 2>&1; rc=$?
t "D3: stray *.test.reward.h5 files change neither history.tsv nor policy.h5" \
	'[ $rc = 0 ] && same_as "$tmp/ref"' || show
t "D3: the round-1 batch is the 3 listed children" 'grep -q "batch 3	" "$W/round-001/update.txt"'

# ---- D5: lost reward of a finished round, lost derived files ----
fresh "$tmp/r1"
rm "$W/round-000/arch_0001.reward.h5"
nb >"$tmp/out" 2>&1; rc=$?
t "D5: a lost reward of a finished round is re-scored" \
	'[ $rc = 0 ] && [ -f "$W/round-000/arch_0001.reward.h5" ] && same_as "$tmp/ref"' || show
fresh "$tmp/ref"
rm "$W/history.tsv" "$W/timing.tsv"
: >"$W/policy.h5"
nb >"$tmp/out" 2>&1; rc=$?
t "D5: lost history.tsv, timing.tsv and an empty policy.h5 are rebuilt" \
	'[ $rc = 0 ] && same_as "$tmp/ref" && [ "$(wc -l <"$W/timing.tsv")" = 7 ]' || show
make --no-print-directory -s status RUN="$W" >"$tmp/out" 2>&1
t "D5: make status counts the children again" 'grep -q "evaluated: *6 children" "$tmp/out"' || show

# ---- D16: lost intermediate files ----
fresh "$tmp/r1"
rm "$W/round-000/policy.h5"
nb >"$tmp/out" 2>&1; rc=$?
t "D16: a lost round policy is regenerated" '[ $rc = 0 ] && same_as "$tmp/ref"' || show
# S1: round 1 sampled, not trained
fresh "$tmp/ref"
rm "$W"/round-001/{arch_000?.reward.h5,rewards.done,done,policy.h5,update.txt}
mv "$W" "$tmp/s1"
damage() {
	case $1 in
	"genotype deleted") rm "$W/round-001/arch_0001.h5" ;;
	"genotype truncated") truncate -s 100 "$W/round-001/arch_0001.h5" ;;
	"archs.list truncated") truncate -s 20 "$W/round-001/archs.list" ;;
	"archs.list flipped") printf 'xxxxxxxx' | dd of="$W/round-001/archs.list" bs=1 seek=10 conv=notrunc status=none ;;
	esac
}
for what in "genotype deleted" "genotype truncated" "archs.list truncated" "archs.list flipped"; do
	fresh "$tmp/s1"
	damage "$what"
	nb >"$tmp/out" 2>&1; rc=$?
	t "D16: $what before training: regenerated, same result" '[ $rc = 0 ] && same_as "$tmp/ref"' || show
done

# ---- D2: a genotype with a reward is never overwritten; mismatches refused ----
fresh "$tmp/r1"
rm "$W/settings"
nb SEED=4 >"$tmp/out" 2>&1; rc=$?
t "D2: settings deleted, other SEED: refused" '[ $rc != 0 ] && grep -q "already has a reward" "$tmp/out"' || show
t "D2: and the scored genotype files are unchanged" \
	'(for i in 0 1 2; do cmp -s "$W/round-000/arch_000$i.h5" "$tmp/r1/round-000/arch_000$i.h5" || exit 1; done)'
fresh "$tmp/r1"
rm "$W/settings"
nb >"$tmp/out" 2>&1; rc=$?
t "D2: settings deleted, same settings: the run continues identically" '[ $rc = 0 ] && same_as "$tmp/ref"' || show
fresh "$tmp/r1"
cp "$W/round-000/arch_0002.h5" "$W/round-000/arch_0001.h5"
expect 3 "D2: update-policy refuses a reward of another genotype" \
	bin/update-policy -q --policy "$W/policy-init.h5" -o "$tmp/p.h5" "$W/round-000/arch_0001.reward.h5"
one_line_err "arch_0001.reward.h5" "D2: one line naming the reward file"
expect 3 "D2: nas-history refuses it too" bin/nas-history "$W/round-000/arch_0001.reward.h5"
expect 3 "D2: and evolution's history" bin/sample-arch -q --strategy evolution --space nb201 \
	--history "$W/round-000" --round 1 --count 1 --out "$tmp"

# ---- D18: the temp sweep stays in its own run ----
fresh "$tmp/r1"
mkdir -p "$W/otherrun/round-000"
touch "$W/otherrun/round-000/.arch_0000.weights.h5.tmp.12345" "$W/round-000/.arch_0000.weights.h5.tmp.12345"
nb >"$tmp/out" 2>&1; rc=$?
t "D18: the sweep leaves a nested run's temporary file alone" \
	'[ $rc = 0 ] && [ -e "$W/otherrun/round-000/.arch_0000.weights.h5.tmp.12345" ]' || show
t "D18: and removes its own" '[ ! -e "$W/round-000/.arch_0000.weights.h5.tmp.12345" ]'

# ---- D23, D24: fsync of the shell-written files; sample-arch fsyncs per call, not per file ----
if strace -f -qq -o /dev/null true 2>/dev/null; then
	rm -rf "$W"
	# LeakSanitizer cannot run under ptrace: in the ASan leg the traced tools would fail
	nolsan=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	ASAN_OPTIONS=$nolsan strace -f -qq -y -e trace=fsync,fdatasync,syncfs -o "$tmp/strace" \
		make --no-print-directory -s search RUN="$W" SPACE=nb201 ROUNDS=1 CHILDREN=3 SEED=3 JOBS=1 \
		DATA=/nonexistent >"$tmp/out" 2>&1; rc=$?
	t "D23: a traced search runs" '[ $rc = 0 ]' || show
	t "D23: archs.list, rewards.done, done, history.tsv, timing.tsv, policy.h5 and settings are fsynced" \
		'(for f in archs.list rewards.done done history.tsv timing.tsv policy.h5 settings; do grep -q "sync(.*/\.$f\.tmp\." "$tmp/strace" || { echo "# not fsynced: $f"; exit 1; }; done)'
	mkdir "$tmp/many"
	ASAN_OPTIONS=$nolsan strace -f -qq -e trace=fsync,fdatasync,syncfs -o "$tmp/strace" bin/sample-arch -q --space nb201 \
		--strategy random --seed 1 --round 0 --count 50 --out "$tmp/many" >/dev/null
	nsync=$(grep -c sync "$tmp/strace")
	t "D24: sample-arch --count 50 syncs a few times, not once per file ($nsync)" '[ "$nsync" -le 5 ]'
	t "D24: and writes all 50 files" '[ "$(ls "$tmp/many" | wc -l)" = 50 ] && bin/nas-check -q "$tmp"/many/*.h5'
fi

# ---- D6: rounds past 999 (rounds 0-999 made by copying round 0, then 3 real ones) ----
rm -rf "$W"
nb ROUNDS=1 CHILDREN=1 STRATEGY=random >/dev/null 2>&1
/usr/bin/python3 - "$W" <<'PY'
import os, shutil, sys
run = sys.argv[1]
src = f"{run}/round-000"
for k in range(1, 1000):
    d = f"{run}/round-{k:03d}"
    shutil.copytree(src, d)
    with open(f"{d}/archs.list", "w") as f:
        f.write(f"{d}/arch_0000.h5\n")
for root, dirs, files in os.walk(run):
    for n in dirs + files:
        os.utime(os.path.join(root, n), (1700000000, 1700000000))
PY
nb ROUNDS=1003 CHILDREN=1 STRATEGY=random >"$tmp/out" 2>&1; rc=$?
t "D6: a search runs past round 999" '[ $rc = 0 ] && [ -e "$W/round-1002/done" ]' || show
t "D6: history.tsv holds rounds 1000-1002" \
	'[ "$(wc -l <"$W/history.tsv")" = 1004 ] && [ "$(cut -f1 "$W/history.tsv" | grep -c "^100[0-2]$")" = 3 ]'
t "D6: timing.tsv too" '[ "$(wc -l <"$W/timing.tsv")" = 1004 ]'
t "D6: the round line counts them" 'tail -1 "$tmp/out" | grep -q "round 1003/1003 done, 1003 children"' || show
make --no-print-directory -s status RUN="$W" >"$tmp/out" 2>&1
t "D6: make status counts them" 'grep -q "rounds: *1003 complete, latest folder round-1002" "$tmp/out"' || show

# ---- D1, D17: real tiny children ----
small_data "$tmp/d.h5" --valid 60 --train-subset 100
ns() { make --no-print-directory -s search RUN="$W" DATA="$tmp/d.h5" ROUNDS=1 CHILDREN=2 CHILD_F=4 \
	CHILD_TRAIN_IMAGES=48 CHILD_BATCH=24 SEED=5 JOBS=1 "$@"; }
rm -rf "$W"
ns >"$tmp/out" 2>&1; rc=$?
t "reference: a tiny 1-round search" '[ $rc = 0 ]' || show
mv "$W" "$tmp/nref"

# D1: child 1's train-child hits a full disk (exit 1)
mkdir -p "$tmp/fakebin"
for tool in bin/*; do [ "$tool" = bin/train-child ] || ln -s "$PWD/$tool" "$tmp/fakebin/"; done
printf '#!/bin/sh\necho "train-child: $2.weights.h5: cannot write: No space left on device" >&2\nexit 1\n' \
	>"$tmp/fakebin/train-child"
chmod +x "$tmp/fakebin/train-child"
cat >"$tmp/launch" <<EOS
#!/usr/bin/env bash
case \$2 in *arch_0001.h5) export NASNET_BIN=$tmp/fakebin ;; esac
exec "\$@"
EOS
chmod +x "$tmp/launch"
ns LAUNCH="$tmp/launch" >"$tmp/out" 2>&1; rc=$?
t "D1: a child's disk-full stops the round (exit $rc)" '[ $rc != 0 ]' || show
t "D1: the message is on stderr" 'grep -q "No space left on device" "$tmp/out"' || show
t "D1: and in the child's log" 'grep -q "No space left on device" "$W/round-000/arch_0001.log"'
t "D1: no reward file (no failed child) recorded" '[ ! -e "$W/round-000/arch_0001.reward.h5" ]'
ns >"$tmp/out" 2>&1; rc=$?
t "D1: the same command continues once the cause is gone" \
	'[ $rc = 0 ] && cmp -s "$W/history.tsv" "$tmp/nref/history.tsv" && ! grep -q failed "$W/history.tsv"' || show

# D17: make and round.sh killed, the children go on: a new search must wait for them
rm -rf "$W"
mkdir -p "$tmp/slowbin"
for tool in bin/*; do [ "$tool" = bin/train-child ] || ln -s "$PWD/$tool" "$tmp/slowbin/"; done
# the orphaned child holds the run until the test releases it (no race with a loaded machine)
printf '#!/bin/sh\nwhile [ ! -e "%s" ]; do sleep 0.1; done\nexec "%s" "$@"\n' "$tmp/release" "$PWD/bin/train-child" \
	>"$tmp/slowbin/train-child"
chmod +x "$tmp/slowbin/train-child"
setsid bash -c 'cd "$1" && NASNET_BIN="$4" make --no-print-directory -s search RUN="$2" DATA="$3" ROUNDS=1 \
	CHILDREN=2 CHILD_F=4 CHILD_TRAIN_IMAGES=48 CHILD_BATCH=24 SEED=5 JOBS=1 >/dev/null 2>&1' \
	_ "$PWD" "$W" "$tmp/d.h5" "$tmp/slowbin" &
leader=$!
for i in $(seq 1200); do pgrep -s $leader -f slowbin/train-child >/dev/null && break; sleep 0.1; done
pkill -KILL -s $leader -f 'rounds.mk|round.sh'
sleep 0.3
ns >"$tmp/out" 2>&1; rc=$?
t "D17: a new search is refused while a killed search's children run" '[ $rc != 0 ] && grep -q "in use" "$tmp/out"' || show
touch "$tmp/release"
for i in $(seq 1200); do pgrep -s $leader >/dev/null || break; sleep 0.1; done
wait $leader 2>/dev/null
ns >"$tmp/out" 2>&1; rc=$?
t "D17: once they are gone, the search completes with the same result" \
	'[ $rc = 0 ] && cmp -s "$W/history.tsv" "$tmp/nref/history.tsv"' || show
t "D17: no temporary files left" 'no_tmp "$W"'
finish
