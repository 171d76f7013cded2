#!/usr/bin/env bash
# child.sh ARCH.h5 [RUNG] [SCORE FLAGS...] - train and score one child (with
# RUNG: train it to the end of that successive-halving rung, continuing from
# the previous rung's state, and score that rung); the job GNU parallel runs.
# The flags (the run's reward, pipelines/cost.sh) go to score.
#
# Idempotent: a child with a reward file is done. A child whose training
# fails as a property of the architecture (NaN loss: exit 4; bad input: exit
# 3; a crash or an OOM kill: a signal) is scored as failed, reward 0 with the
# reason, so the round goes on. A failure of the machine (exit 1: an I/O
# error, a full disk, no memory) is not the architecture's: nothing is
# recorded, the message goes to stderr and the log, and the job fails, so the
# round stops and the same `make search` retries the child once the cause is
# gone. Exit 75 (stopped by a signal after a checkpoint) is passed up, so the
# next `make search` resumes the child from its checkpoint; so is a
# train-child or score ended by a stop signal (HUP, INT, USR1, TERM) before it could
# checkpoint: a stop is never a failed cell.
set -u -o pipefail
arch=$1
shift
rung=
if [[ ${1:-} =~ ^[0-9]+$ ]]; then rung=$1; shift; fi
bin=${NASNET_BIN:-bin}
base=${arch%.h5}
log=$base.log
sfx=${rung:+.r$rung}
reward=$base$sfx.reward.h5
rung_flag=(${rung:+--rung "$rung"})

# The run's lock, shared (search.sh holds it shared too): a new search cannot
# start while this child runs, and a child that an orphaned GNU parallel of a
# killed search starts after a new search took over does not run beside it.
# Remote children (ssh without a shared file system) have no run folder.
hold_run_lock() {
	[ -n "${NASNET_SEARCH_ID:-}" ] && [ -n "${RUN:-}" ] && [ -e "$RUN/.lock" ] || return 0
	exec 8<"$RUN/.lock"
	if ! flock -s -w 60 8; then
		echo "child.sh: $arch: cannot take the run's lock $RUN/.lock" >&2
		exit 1
	fi
	if [ "$(cat "$RUN/.search" 2>/dev/null)" != "$NASNET_SEARCH_ID" ]; then
		echo "child.sh: $arch: the search that started this child is gone and another runs on $RUN; not starting" >&2
		exit 1
	fi
}

# run TOOL ARGS...: stderr kept in memory and appended to the log (on a full
# disk the log cannot take it: stderr still can); sets rc
run() {
	local err
	# the trap again: a subshell does not inherit it, and it waits for the tool
	err=$({ trap : USR1 TERM; "$@" 2>&1 1>&3 3>&-; } 3>&1)
	rc=$?
	[ -z "$err" ] || printf '%s\n' "$err" >>"$log" 2>/dev/null
	last_err=${err##*$'\n'}
}

# a failure of the machine: report it, record nothing, fail the job
machine_failure() {
	local msg="child.sh: $arch: $1 exited with status $rc${last_err:+ ($last_err)}; not recorded as a failed child: fix the cause and run the same make search again"
	echo "$msg" >&2
	echo "$msg" >>"$log" 2>/dev/null
	exit 1
}

# a tool ended by SIGHUP, SIGINT, SIGUSR1 or SIGTERM before its handler was in
# place (GNU parallel's --halt stopping the other jobs of a round, Ctrl-C, a
# scancel) was stopped: not a property of the cell; the next search resumes it
exit_if_stopped() {
	case $rc in
	129 | 130 | 138 | 143)
		echo "child.sh: $arch: $1 stopped by signal $((rc - 128)); not recorded" >>"$log" 2>/dev/null
		exit 75 ;;
	esac
}

[ -e "$reward" ] && exit 0
hold_run_lock
# Slurm (scancel --signal, --signal=USR1@T) signals every process of the step,
# this shell too: wait for train-child's checkpoint and pass its 75 up
trap : USR1 TERM
run "$bin/train-child" --quiet --threads "${CHILD_THREADS:-1}" "${rung_flag[@]}" "$arch"
exit_if_stopped train-child
case $rc in
0 | 4)
	run "$bin/score" --quiet --threads "${CHILD_THREADS:-1}" "${rung_flag[@]}" "$@" "$arch" >/dev/null
	exit_if_stopped score
	[ $rc = 0 ] || [ -e "$reward" ] || machine_failure score ;;
75) exit 75 ;;
1 | 2) machine_failure train-child ;;
*)
	if [ $rc -gt 128 ]; then why="train-child killed by signal $((rc - 128))"; else why="train-child exited with status $rc"; fi
	echo "child.sh: $arch: $why; see $log" >>"$log"
	run "$bin/score" --quiet "${rung_flag[@]}" --failed "$why (log: $log)" "$@" "$arch" >/dev/null
	exit_if_stopped "score --failed"
	[ $rc = 0 ] || [ -e "$reward" ] || machine_failure "score --failed"
	;;
esac
if [ -e "$reward" ]; then
	"$bin/nas-history" --no-header --fields reward,status "$reward" |
		awk -F'\t' -v a="$arch" -v r="${rung:+ rung $rung}" '{ printf "child %s%s: reward %s%s\n", a, r, $1, ($2 == "ok" ? "" : " (" $2 ")") }'
else
	echo "child.sh: $arch: no reward file written; see $log" >&2
	exit 1
fi
