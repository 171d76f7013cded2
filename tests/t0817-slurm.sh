#!/usr/bin/env bash
# t0817-slurm.sh - make search inside a real Slurm allocation: a throw-away
# single-node cluster on this machine (its own munge key and socket, slurm.conf
# for this host with 2 CPUs, ports, state and logs in the test's folder, every
# daemon stopped at the end), a round run through
# `salloc -n2 make search LAUNCH='srun -n1 --exclusive'`, `scancel --signal=USR1`
# mid-child -> the search stops with exit 75 of its recipe, and the resumed
# search is byte-identical to one that ran without Slurm.
. "$(dirname "$0")/lib.sh"

skip() { echo "1..0 # SKIP $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root (slurmd runs jobs as their user)"
for x in munged slurmctld slurmd salloc srun scancel sinfo; do
	command -v $x >/dev/null || skip "no $x (Debian: apt-get install slurmctld slurmd slurm-client munge)"
done

# ---- the cluster ----
export SLURM_CONF=$tmp/slurm.conf
unset SLURM_JOB_ID SLURM_JOBID SLURM_NTASKS
stop_cluster() {
	local f
	scancel --quiet --full "$(cat "$tmp/jobid" 2>/dev/null)" 2>/dev/null
	for f in slurmd slurmctld munged; do
		[ -s "$tmp/$f.pid" ] && kill "$(cat "$tmp/$f.pid")" 2>/dev/null
	done
	for f in slurmd slurmctld munged; do
		for i in $(seq 50); do [ -s "$tmp/$f.pid" ] && kill -0 "$(cat "$tmp/$f.pid")" 2>/dev/null || break; sleep 0.1; done
	done
}
trap 'stop_cluster; rm -rf "$tmp"' EXIT
dd if=/dev/urandom of="$tmp/munge.key" bs=1024 count=1 2>/dev/null && chmod 400 "$tmp/munge.key"
munged --force --key-file="$tmp/munge.key" --socket="$tmp/munge.sock" --pid-file="$tmp/munged.pid" \
	--log-file="$tmp/munged.log" --seed-file="$tmp/munged.seed" ||
	skip "munged does not start: $(tail -1 "$tmp/munged.log" 2>/dev/null)"
host=$(hostname -s)
port=$((30000 + $$ % 15000 * 2))
mkdir -p "$tmp/ctld" "$tmp/spool"
cat >"$SLURM_CONF" <<EOF
ClusterName=nasnet$$
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge.sock
SlurmctldPort=$port
SlurmdPort=$((port + 1))
StateSaveLocation=$tmp/ctld
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=t Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -f "$SLURM_CONF" || skip "slurmctld does not start: $(tail -1 "$tmp/slurmctld.log" 2>/dev/null)"
slurmd -f "$SLURM_CONF" || skip "slurmd does not start: $(tail -1 "$tmp/slurmd.log" 2>/dev/null)"
for i in $(seq 150); do [ "$(sinfo -h -o %t 2>/dev/null)" = idle ] && break; sleep 0.2; done
[ "$(sinfo -h -o %t 2>/dev/null)" = idle ] ||
	skip "the node never became idle: $(sinfo -h -o '%t %E' 2>&1 | head -1); $(tail -1 "$tmp/slurmd.log")"
t "a single-node Slurm cluster (munge, slurmctld, slurmd) runs from the test's folder" 'true'

# ---- a reference search without Slurm ----
small_data "$tmp/d.h5" --valid 100 --train-subset 1200
args=(DATA="$tmp/d.h5" ROUNDS=1 CHILDREN=2 JOBS=2 CHILD_F=4 CHILD_TRAIN_IMAGES=1200 CHILD_BATCH=24 SEED=11
	RUN="$tmp/run")
make --no-print-directory -s search "${args[@]}" >"$tmp/out" 2>&1; rc=$?
t "reference search without Slurm" '[ $rc = 0 ]' || sed 's/^/# /' "$tmp/out"
mv "$tmp/run" "$tmp/ref"

# ---- the same inside an allocation, USR1 mid-child ----
salloc --quiet -n2 bash -c 'echo "$SLURM_JOB_ID" >"$1/jobid"; shift; exec "$@"' _ "$tmp" \
	make --no-print-directory -s search "${args[@]}" LAUNCH='srun -n1 --exclusive' >"$tmp/out" 2>"$tmp/err" &
alloc=$!
# a child is training (its handlers are in place a moment after it starts)
child=
for i in $(seq 1200); do
	child=$(pgrep -f "^[^ ]*train-child .*$tmp/run/round-000/arch_" | head -n 1)
	[ -n "$child" ] && break
	sleep 0.1
done
[ -n "$child" ] && handler_ready "$child"
# and Slurm has registered its step (scancel signals the steps it knows)
sleep 1
scancel --signal=USR1 "$(cat "$tmp/jobid")"
wait $alloc; rc=$?
t "scancel --signal=USR1 mid-child: the search says it stopped and can be resumed" \
	'[ $rc != 0 ] && grep -q "stopped after a checkpoint.*resume" "$tmp/err" && [ -e "$tmp/run/.stopped" ]' ||
	sed 's/^/# /' "$tmp/err"
t "its recipe exited 75 (make: Error 75), a checkpoint is kept, no reward yet" \
	'grep -q "Error 75" "$tmp/err" && ls "$tmp"/run/round-000/*.ckpt.h5 >/dev/null 2>&1 && [ ! -e "$tmp/run/round-000/done" ]'
salloc --quiet -n2 make --no-print-directory -s search "${args[@]}" LAUNCH='srun -n1 --exclusive' \
	>"$tmp/out" 2>&1; rc=$?
t "the same salloc ... make search resumes and finishes" '[ $rc = 0 ] && [ -e "$tmp/run/round-000/done" ]' ||
	sed 's/^/# /' "$tmp/out"
t "resumed through Slurm: history.tsv and policy.h5 byte-identical to the search without Slurm" \
	'cmp -s "$tmp/run/history.tsv" "$tmp/ref/history.tsv" && cmp -s "$tmp/run/policy.h5" "$tmp/ref/policy.h5"'
stop_cluster
t "every daemon stopped" \
	'for f in slurmd slurmctld munged; do ! kill -0 "$(cat "$tmp/$f.pid" 2>/dev/null)" 2>/dev/null || exit 1; done'
finish
