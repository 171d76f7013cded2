#!/usr/bin/env bash
# t0800-search.sh - make search end to end on tiny children: the run layout,
# resume after SIGKILL at random moments (byte-identical policy.h5 and
# history.tsv), JOBS=1 vs JOBS=2, a failed child recorded, raising ROUNDS,
# changed settings refused, the run lock, and every file validated.
. "$(dirname "$0")/lib.sh"

small_data "$tmp/d.h5" --valid 100 --train-subset 200
run=$tmp/run
search() {
	make --no-print-directory -s search RUN="$run" DATA="$tmp/d.h5" ROUNDS=2 CHILDREN=3 \
		CHILD_F=4 CHILD_TRAIN_IMAGES=120 CHILD_BATCH=24 SEED=5 "$@"
}

# reference: uninterrupted, 2 jobs
search JOBS=2 >"$tmp/ref.out" 2>&1; rc=$?
t "a tiny search runs end to end" '[ $rc = 0 ]' || sed 's/^/# /' "$tmp/ref.out"
t "policy.h5 and history.tsv written" '[ -s "$run/policy.h5" ] && [ -s "$run/history.tsv" ]'
t "history.tsv has one line per child plus a header" '[ "$(wc -l <"$run/history.tsv")" = 7 ]'
t "each round has its frozen list, joblog, policy and done marker" \
	'for r in 000 001; do [ -s "$run/round-$r/archs.list" ] && [ -s "$run/round-$r/joblog" ] && [ -s "$run/round-$r/policy.h5" ] && [ -e "$run/round-$r/done" ] || exit 1; done'
t "progress: one status line per child and per round" \
	'[ "$(grep -c "^child " "$tmp/ref.out")" = 6 ] && [ "$(grep -c "^search: round" "$tmp/ref.out")" = 2 ]'
t "no temporary files left" 'no_tmp "$run"'
bin/nas-check --quiet "$run"/*.h5 "$run"/round-*/*.h5; rc=$?
t "every HDF5 file of the run validates" '[ $rc = 0 ]'
t "h5py reads every file of the run (genotype, network, trainstats, reward, policy, dataset)" \
	'h5py_reads "$run"/*.h5 "$run"/round-*/*.h5 "$tmp/d.h5"'
mv "$run" "$tmp/ref"

# JOBS=1 gives the same files
search JOBS=1 >/dev/null 2>&1
t "JOBS=1 and JOBS=2 give identical policy.h5 and history.tsv" \
	'cmp -s "$run/policy.h5" "$tmp/ref/policy.h5" && cmp -s "$run/history.tsv" "$tmp/ref/history.tsv"'
rm -rf "$run"

# SIGKILL the whole search (make, parallel, children) at random moments, resume each time
kills=0
for delay in 1.5 3.1 4.7 6.3; do
	setsid bash -c 'make --no-print-directory -s search RUN="$1" DATA="$2" ROUNDS=2 CHILDREN=3 \
		CHILD_F=4 CHILD_TRAIN_IMAGES=120 CHILD_BATCH=24 SEED=5 JOBS=2 >/dev/null 2>&1' _ "$run" "$tmp/d.h5" &
	leader=$!
	sleep "$delay"
	if kill -0 $leader 2>/dev/null; then
		sid=$(ps -o sid= -p $leader | tr -d ' ')
		pkill -KILL -s "$sid"; kills=$((kills + 1))
		# the next attempt must not find the lock still held by a dying process,
		# nor by one forked while pkill ran (t0930 says more)
		for w in $(seq 100); do pkill -KILL -s "$sid" || break; sleep 0.05; done
	fi
	wait $leader 2>/dev/null
done
search JOBS=2 >"$tmp/resume.out" 2>&1; rc=$?
t "resumed after $kills SIGKILLs" '[ $rc = 0 ] && [ $kills -ge 2 ]' || sed 's/^/# /' "$tmp/resume.out"
t "resumed run: policy.h5 byte-identical to the uninterrupted run" 'cmp -s "$run/policy.h5" "$tmp/ref/policy.h5"'
t "resumed run: history.tsv byte-identical" 'cmp -s "$run/history.tsv" "$tmp/ref/history.tsv"'
t "no temporary files left after the resume" 'no_tmp "$run"'

# raising ROUNDS extends the search
search JOBS=2 ROUNDS=3 >/dev/null 2>&1; rc=$?
t "ROUNDS=3 extends the run by one round" '[ $rc = 0 ] && [ -e "$run/round-002/done" ] && [ "$(wc -l <"$run/history.tsv")" = 10 ]'

# changed settings are refused, naming the setting
search JOBS=2 CHILD_F=8 >/dev/null 2>"$tmp/err"; rc=$?
t "changed settings refused, naming CHILD_F" '[ $rc != 0 ] && grep -q "CHILD_F" "$tmp/err"'

# a run in use is locked
# (the holder keeps the lock until the test says so: no timing to lose under load)
flock "$run/.lock" bash -c 'touch "$1"; while [ ! -e "$2" ]; do sleep 0.1; done' _ "$tmp/locked" "$tmp/unlock" &
holder=$!
for i in $(seq 1200); do [ -e "$tmp/locked" ] && break; sleep 0.1; done
search JOBS=2 ROUNDS=4 >/dev/null 2>"$tmp/err"; rc=$?
t "a second search on a run in use is refused" '[ $rc != 0 ] && grep -q "in use" "$tmp/err"'
touch "$tmp/unlock"
wait $holder
t "and nothing was started while locked" '[ ! -e "$run/round-003" ]'

# a child that crashes gets reward 0 with its reason; the search goes on
mkdir -p "$tmp/fakebin"
for tool in bin/*; do [ "$tool" = bin/train-child ] || ln -s "$PWD/$tool" "$tmp/fakebin/"; done
printf '#!/bin/sh\nkill -SEGV $$\n' >"$tmp/fakebin/train-child"; chmod +x "$tmp/fakebin/train-child"
cat >"$tmp/launch" <<EOS
#!/usr/bin/env bash
case \$2 in *round-000/arch_0001.h5) export NASNET_BIN=$tmp/fakebin ;; esac
exec "\$@"
EOS
chmod +x "$tmp/launch"
search JOBS=2 RUN="$tmp/failrun" LAUNCH="$tmp/launch" >"$tmp/fail.out" 2>&1; rc=$?
t "a search with a crashing child completes" '[ $rc = 0 ]' || sed 's/^/# /' "$tmp/fail.out"
# column NAME of a nas-history table, picked by name
col() { awk -F'\t' -v k="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == k) c = i; next } { print $c }' "$2"; }
h=$tmp/failrun/history.tsv
t "the crash is in history.tsv as failed with its reason" \
	'paste <(col round "$h") <(col index "$h") <(col status "$h") | grep -q "^0	1	failed: train-child killed by signal 11"'

# most children failing stops the search with a message naming a log
printf '#!/bin/sh\nexit 3\n' >"$tmp/fakebin/train-child"
NASNET_BIN="$tmp/fakebin" search JOBS=2 RUN="$tmp/badrun" >/dev/null 2>"$tmp/err"; rc=$?
t "a round where most children fail stops the search, naming the first log" \
	'[ $rc != 0 ] && grep -q "children failed; stopping (first failure: .*arch_0000.log)" "$tmp/err"'

make --no-print-directory -s status RUN="$tmp/ref" >"$tmp/status" 2>&1; rc=$?
t "make status summarises a run" '[ $rc = 0 ] && grep -q "rounds: *2 complete" "$tmp/status"'
search RUN="bad run" >/dev/null 2>"$tmp/err"; rc=$?
t "a run name with a space is refused up front" '[ $rc != 0 ] && grep -q "run folder names" "$tmp/err"'
finish
