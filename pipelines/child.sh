#!/usr/bin/env bash
# child.sh ARCH.h5 [RUNG] [SCORE FLAGS...] - train and score one child (with
# RUNG: train it to the end of that successive-halving rung, continuing from
# the previous rung's state, and score that rung); the job GNU parallel runs.
# The flags (the run's reward, pipelines/cost.sh) go to score.
#
# Idempotent: a child with a reward file is done. A child whose training
# fails (NaN loss: exit 4; a crash, an OOM kill, any other error) is scored
# as failed, reward 0 with the reason, so the round goes on. Exit 75 (stopped
# by a signal after a checkpoint) is passed up, so the round stops and the
# next `make search` resumes the child from its checkpoint.
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
[ -e "$reward" ] && exit 0
"$bin/train-child" --quiet --threads "${CHILD_THREADS:-1}" "${rung_flag[@]}" "$arch" 2>>"$log"
rc=$?
case $rc in
0 | 4) "$bin/score" --quiet --threads "${CHILD_THREADS:-1}" "${rung_flag[@]}" "$@" "$arch" >/dev/null 2>>"$log" ;;
75) exit 75 ;;
*)
	if [ $rc -gt 128 ]; then why="train-child killed by signal $((rc - 128))"; else why="train-child exited with status $rc"; fi
	echo "child.sh: $arch: $why; see $log" >>"$log"
	"$bin/score" --quiet "${rung_flag[@]}" --failed "$why (log: $log)" "$@" "$arch" >/dev/null 2>>"$log"
	;;
esac
if [ -e "$reward" ]; then
	"$bin/nas-history" --no-header "$reward" |
		awk -F'\t' -v a="$arch" -v r="${rung:+ rung $rung}" '{ printf "child %s%s: reward %s%s\n", a, r, $3, ($7 == "ok" ? "" : " (" $7 ")") }'
else
	echo "child.sh: $arch: no reward file written; see $log" >&2
	exit 1
fi
