#!/usr/bin/env bash
# t0930-kill-torture.sh - a tiny `make search` is SIGKILLed, the whole
# session at once (make, GNU parallel, every child tool), at 20 random
# moments (seeded delays of 0.1 to 1.2 s, resuming each time), then run to
# completion: policy.h5 and history.tsv must be byte-identical to an
# uninterrupted run of the same RUN path (same SOURCE_DATE_EPOCH, from
# tests/lib.sh), with no temporary file left anywhere in the run.
. "$(dirname "$0")/lib.sh" || exit 1
: "${tmp:?}"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

small_data "$tmp/d.h5" --valid 100 --train-subset 200
run=$tmp/run
search() {
	make --no-print-directory -s search RUN="$run" DATA="$tmp/d.h5" ROUNDS=2 CHILDREN=3 \
		CHILD_F=4 CHILD_TRAIN_IMAGES=120 CHILD_BATCH=24 SEED=5 JOBS=2 "$@"
}

# the reference: uninterrupted
search >"$tmp/ref.out" 2>&1; rc=$?
t "an uninterrupted tiny search runs" '[ $rc = 0 ] && [ -s "$run/policy.h5" ] && [ -s "$run/history.tsv" ]' ||
	sed 's/^/# /' "$tmp/ref.out"
mv "$run" "$tmp/ref"

# 20 attempts, each killed after a seeded random delay (unless it finished first)
RANDOM=930
kills=0 finished=0
exec 3>&2 2>/dev/null  # no "Killed" job notices
for i in $(seq 1 20); do
	ms=$((100 + RANDOM % 1101))
	setsid bash -c 'make --no-print-directory -s search RUN="$1" DATA="$2" ROUNDS=2 CHILDREN=3 \
		CHILD_F=4 CHILD_TRAIN_IMAGES=120 CHILD_BATCH=24 SEED=5 JOBS=2 >/dev/null 2>&1' \
		_ "$run" "$tmp/d.h5" &
	leader=$!
	sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
	# in a shell without job control the background child is no process
	# group leader, so setsid(1) does not fork: the session id is $leader.
	# Kill only that session, never ours.
	if [ "$(ps -o sid=,stat= -p $leader 2>/dev/null | awk '$2 !~ /Z/ { print $1 }')" = "$leader" ] &&
		pkill -KILL -s "$leader"; then
		kills=$((kills + 1))
	else
		finished=$((finished + 1))
	fi
	wait $leader 2>/dev/null
	# nothing of the killed session may linger: kill again what the first
	# pkill missed (a process forked while pkill ran outlives it; round.sh
	# keeps such stragglers -- GNU parallel's placeholder `sleep 10101` --
	# from holding the run's lock, the flock below waits for the rest)
	for w in $(seq 100); do pkill -KILL -s "$leader" || break; sleep 0.05; done
	flock -w 10 "$run/.lock" true 2>/dev/null
done
exec 2>&3 3>&-
echo "# $kills of 20 SIGKILLs landed ($finished attempts had finished before their kill)"
# a process outside the killed session may still hold the run's lock for a moment
if ! flock -n "$run/.lock" true; then
	echo "# lock still held by: $(fuser "$run/.lock" 2>/dev/null | xargs -r ps -o pid=,sid=,args= -p 2>/dev/null | tr '\n' ';')"
	flock -w 60 "$run/.lock" true
fi
search >"$tmp/resume.out" 2>&1; rc=$?
t "the search resumes to completion after $kills SIGKILLs" '[ $rc = 0 ] && [ $kills -ge 10 ]' ||
	sed 's/^/# /' "$tmp/resume.out"
t "policy.h5 byte-identical to the uninterrupted run" 'cmp -s "$run/policy.h5" "$tmp/ref/policy.h5"'
t "history.tsv byte-identical to the uninterrupted run" 'cmp -s "$run/history.tsv" "$tmp/ref/history.tsv"'
t "every round's policy byte-identical" \
	'for r in 000 001; do cmp -s "$run/round-$r/policy.h5" "$tmp/ref/round-$r/policy.h5" || exit 1; done'
t "no temporary file left in the run" 'no_tmp "$run"'
finish
