#!/usr/bin/env bash
# t0350-train.sh - train-child and score: a child that learns, kill -9 and
# resume to byte-identical weights, SIGTERM requeue, NaN failure record,
# bad inputs, and every file they write validated by nas-check.
. "$(dirname "$0")/lib.sh"

# Trouser (1) against Bag (8): two classes a small NASNet-A learns in ~100 steps
small_data "$tmp/two.h5" --keep-classes 1,8 --valid 400 --train-subset 1600
t "two-class dataset imported" '[ -s "$tmp/two.h5" ]'
bin/show-genotype --quiet nasnet-a -o "$tmp/a.h5" >/dev/null
cp "$tmp/a.h5" "$tmp/b.h5"; cp "$tmp/a.h5" "$tmp/c.h5"; cp "$tmp/a.h5" "$tmp/nan.h5"
cp "$tmp/a.h5" "$tmp/term.h5"; cp "$tmp/a.h5" "$tmp/t2.h5"

# 1. it learns
bin/train-child --quiet --data "$tmp/two.h5" --batch 32 --steps 90 "$tmp/a.h5"; rc=$?
t "train-child exits 0" '[ $rc = 0 ]'
t "weights and stats written, checkpoint removed" \
	'[ -s "$tmp/a.weights.h5" ] && [ -s "$tmp/a.stats.h5" ] && [ ! -e "$tmp/a.ckpt.h5" ]'
bin/score --quiet "$tmp/a.h5" >"$tmp/score.out"; rc=$?
acc=$(awk '{ print $5 }' "$tmp/score.out")
t "score exits 0 and writes the reward file" '[ $rc = 0 ] && [ -s "$tmp/a.reward.h5" ]'
t "the child learned: validation accuracy $acc >= 0.90" 'awk -v a="$acc" "BEGIN { exit !(a >= 0.90) }"'
bin/train-child --quiet --data "$tmp/two.h5" --batch 32 --steps 90 "$tmp/a.h5"; rc=$?
t "a trained child is not retrained" '[ $rc = 0 ]'

# 2. kill -9 mid-way and resume: byte-identical weights
run() { bin/train-child --quiet --data "$tmp/two.h5" --batch 16 --steps 40 --checkpoint-steps 3 "$@"; }
run "$tmp/b.h5"
# exec: $! must be train-child itself, not a subshell that would leave it running
(exec bin/train-child --quiet --data "$tmp/two.h5" --batch 16 --steps 40 --checkpoint-steps 3 "$tmp/c.h5") & pid=$!
for i in $(seq 1200); do [ -e "$tmp/c.ckpt.h5" ] && break; sleep 0.1; done
sleep 0.7; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
sleep 1
t "killed run left a checkpoint and no weights, and is gone" \
	'[ -e "$tmp/c.ckpt.h5" ] && [ ! -e "$tmp/c.weights.h5" ] && ! pgrep -f "train-child.*$tmp/c.h5" >/dev/null'
step=$(h5dump -a /step "$tmp/c.ckpt.h5" 2>/dev/null | awk '/\(0\)/ { print $2 }')
t "checkpoint is mid-training (step $step of 40)" '[ -n "$step" ] && [ "$step" -gt 0 ] && [ "$step" -lt 40 ]'
# the resumed run must have the same command line as the uninterrupted one: same paths
mv "$tmp/c.ckpt.h5" "$tmp/b.ckpt.h5"; mv "$tmp/b.weights.h5" "$tmp/b.ref.h5"; rm -f "$tmp/b.stats.h5"
run "$tmp/b.h5"; rc=$?
t "resumed run finishes" '[ $rc = 0 ] && [ -s "$tmp/b.weights.h5" ]'
t "resumed weights are byte-identical to the uninterrupted run" 'cmp -s "$tmp/b.weights.h5" "$tmp/b.ref.h5"'
t "no temporary files left" 'no_tmp "$tmp"'

# 2b. two threads split the batch: the same bytes every time, and across a stop + resume
run2() { bin/train-child --quiet --threads 2 --data "$tmp/two.h5" --batch 16 --steps 24 "$@" "$tmp/t2.h5"; }
run2; mv "$tmp/t2.weights.h5" "$tmp/t2.ref.h5"; rm -f "$tmp/t2.stats.h5"
run2; rc=$?
t "two threads: a second run writes byte-identical weights" '[ $rc = 0 ] && cmp -s "$tmp/t2.weights.h5" "$tmp/t2.ref.h5"'
rm -f "$tmp/t2.weights.h5" "$tmp/t2.stats.h5"
run2 --stop-after 10; rc1=$?
run2; rc=$?
t "two threads: stopped at step 10 and resumed, byte-identical weights" \
	'[ $rc1 = 75 ] && [ $rc = 0 ] && cmp -s "$tmp/t2.weights.h5" "$tmp/t2.ref.h5"'

# 3. SIGTERM: checkpoint, exit 75, then resume
bin/train-child --quiet --data "$tmp/two.h5" --batch 16 --steps 400 "$tmp/term.h5" & pid=$!
# signal it once its training handler is in place (SIGUSR1 caught: lib/train.c),
# not after a fixed time that a loaded machine may not have given it
handler_ready "$pid"
kill -TERM $pid; wait $pid; rc=$?
t "SIGTERM gives exit 75 (requeue) and a checkpoint" '[ $rc = 75 ] && [ -e "$tmp/term.ckpt.h5" ]'
bin/train-child --quiet --data "$tmp/two.h5" --batch 16 --steps 400 --stop-after 2 "$tmp/term.h5"; rc=$?
t "a rerun resumes from it (and --stop-after stops again with 75)" '[ $rc = 75 ]'

# 4. NaN: an absurd learning rate
bin/train-child --quiet --data "$tmp/two.h5" --batch 16 --steps 50 --lr 1e30 "$tmp/nan.h5" 2>"$tmp/nan.err"; rc=$?
t "a diverging child exits 4 with one message" '[ $rc = 4 ] && [ "$(wc -l <"$tmp/nan.err")" = 1 ]'
t "failure record written, no weights" '[ -s "$tmp/nan.failed.h5" ] && [ ! -e "$tmp/nan.weights.h5" ]'
bin/score --quiet "$tmp/nan.h5" >"$tmp/nan.out"; rc=$?
t "score records reward 0 and the reason" \
	'[ $rc = 0 ] && grep -q "reward 0" "$tmp/nan.out" && bin/nas-history "$tmp/nan.reward.h5" | grep -q "failed: loss is"'

# 5. every file written validates against its schema
bin/nas-check --quiet "$tmp"/*.h5; rc=$?
t "nas-check accepts every file written" '[ $rc = 0 ]'
bin/train-child --quiet --data "$tmp/two.h5" --batch 16 --steps 40 --stop-after 2 "$tmp/c.h5"
t "h5py reads every kind written here, a checkpoint and a failure record included" \
	'[ -e "$tmp/c.ckpt.h5" ] && h5py_reads "$tmp"/*.h5'
bin/nas-check --quiet "$tmp/c.ckpt.h5"; rc=$?
t "nas-check accepts the checkpoint" '[ $rc = 0 ]'

# 6. bad inputs
bin/train-child "$tmp/missing.h5" 2>"$tmp/err"; rc=$?
t "missing genotype file: exit 3, one line naming it" '[ $rc = 3 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q missing.h5 "$tmp/err"'
bin/train-child "$tmp/two.h5" 2>"$tmp/err"; rc=$?
t "a dataset file given as genotype: exit 3" '[ $rc = 3 ] && grep -q "nasnet-c/dataset" "$tmp/err"'
head -c 3000 "$tmp/a.h5" >"$tmp/trunc.h5"
bin/train-child "$tmp/trunc.h5" 2>"$tmp/err"; rc=$?
t "truncated genotype file: exit 3" '[ $rc = 3 ] && [ "$(wc -l <"$tmp/err")" = 1 ]'
bin/score "$tmp/term.h5" 2>"$tmp/err"; rc=$?
t "score without weights: exit 3 naming the weights file" '[ $rc = 3 ] && grep -q "term.weights.h5" "$tmp/err"'
bin/train-child --steps 0 "$tmp/a.h5" 2>/dev/null; rc=$?
t "bad flag value: exit 2" '[ $rc = 2 ]'
finish
