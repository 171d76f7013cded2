#!/usr/bin/env bash
# round.sh STEP R - a step of search round R.
# Called by pipelines/rounds.mk (sample, train, update; with SCHEDULE=sha,
# `train` is replaced by `rung R K` for K = 0..RUNGS-1 and `final R`) and by
# search.sh's repair pass (children, policy, tables, run_tables), with the
# run's settings in the environment. Each make step ends by renaming its
# marker file into place, so a step that was killed is simply run again
# (every tool skips or redoes work idempotently).
#
#   sample    sample-arch -> genotype files, archs.list
#   train     children, then rewards.done (stops when most children failed)
#   rung K    successive halving: train rung-K.list onward and score it
#   final     each child's reward from its highest rung, then rewards.done
#   update    policy, tables, run_tables, done
#   children  train and score (or look up) every listed child without a reward
#   policy    update-policy on the listed rewards -> round policy (ppo, reinforce)
#   tables    the round's history.tsv and timing.tsv from the listed rewards
#   run_tables  the run's history.tsv, pareto.tsv, timing.tsv and policy.h5 from the rounds
set -eu -o pipefail
step=$1 r=$2
bin=${NASNET_BIN:-bin}
. pipelines/runlib.sh
round_dir dir "$r"
round_dir prev $((r - 1))
mkdir -p "$dir"

policy_in() { if [ "$r" -eq 0 ]; then echo "$RUN/policy-init.h5"; else echo "$prev/policy.h5"; fi; }

# the child settings (lib/arch/childcfg.c's table): run setting name, flag, default
# (an assignment, so that set -e stops the round if sample-arch fails)
settings_list=$("$bin/sample-arch" --list-settings)
child_flags=(--data "$DATA")
while IFS=$'\t' read -r name flag _; do
	child_flags+=(--"$flag" "${!name}")
done <<<"$settings_list"
[ "${SCHEDULE:-none}" = sha ] && child_flags+=(--rungs "$RUNGS" --eta "$ETA")

# the genotype files; sample-arch refuses to replace one that has a reward of
# another genotype, and rewrites identical ones (a lost or damaged file)
sample() {
	local args=(--quiet --round "$r" --count "$CHILDREN" --out "$dir" --space "$SPACE" --strategy "$STRATEGY")
	local hist=$dir/.history.list.tmp.$$ k rc=0
	if [ "$needs_policy" = 1 ]; then
		# round 0 makes the policy from the seed; later rounds sample the updated one
		if [ "$r" -eq 0 ]; then
			args+=(--seed "$SEED" --save-policy "$RUN/policy-init.h5")
		else
			args+=(--policy "$(policy_in)")
		fi
	else
		args+=(--seed "$SEED")
	fi
	if [ "$needs_history" = 1 ]; then
		# every listed child of the earlier rounds, and only those
		for ((k = 0; k < r; k++)); do round_rewards $k; done >"$hist"
		args+=(--history "$hist")
	fi
	[ "$SPACE" = nb201 ] || args+=("${child_flags[@]}")
	# the cost budgets (pipelines/cost.sh)
	mapfile -t -O "${#args[@]}" args < <(bash pipelines/cost.sh sample-flags)
	"$bin/sample-arch" "${args[@]}" >/dev/null || rc=$?
	rm -f "$hist"
	return $rc
}

# archs.list right and every listed genotype readable, else sample again
# (deterministic: same policy, seed and round)
check_genotypes() {
	list_ok "$r" || archs_list "$r" | commit "$dir/archs.list"
	if ! xargs -d '\n' -a "$dir/archs.list" "$bin/nas-check" --quiet 2>/dev/null; then
		echo "search: round $r: a genotype file is missing or damaged; sampling the round again" >&2
		sample
	fi
}

# the listed children whose reward file is missing or unreadable, one a line;
# an unreadable reward, or one of another genotype, is removed with the
# child's other derived files (the child is then trained and scored again)
unrewarded() {
	local a rf have=()
	while read -r a; do
		rf=${a%.h5}.reward.h5
		if [ -s "$rf" ]; then have+=("$rf"); else echo "$a"; fi
	done <"$dir/archs.list"
	[ ${#have[@]} -gt 0 ] || return 0
	"$bin/nas-history" --no-header "${have[@]}" >/dev/null 2>&1 && return 0
	for rf in "${have[@]}"; do
		if ! "$bin/nas-history" --no-header "$rf" >/dev/null 2>"$dir/.err.tmp.$$"; then
			echo "search: $(cat "$dir/.err.tmp.$$"); training the child again" >&2
			a=${rf%.reward.h5}
			rm -f "$rf" "$a.weights.h5" "$a.ckpt.h5" "$a.stats.h5" "$a.failed.h5"
			echo "$a.h5"
		fi
	done
	rm -f "$dir/.err.tmp.$$"
}

# the remote work folder of SSH_TRANSFER: one per run, never shared by two runs
remote_workdir() {
	local abs
	abs=$(realpath -m "$RUN")
	echo ".nasnet-c-work/${abs##*/}-$(printf '%s' "$abs" | cksum | cut -d' ' -f1)"
}

# run_children [RUNG] <LIST: every genotype of LIST trained and scored
# (child.sh) through GNU parallel
run_children() {
	local rung=${1:-} par sfx
	par=(--jobs "$JOBS" --joblog "+$dir/joblog" --halt now,fail=1 --line-buffer)
	if [ -n "${SSHLOGINFILE:-}" ]; then
		# shared file system: every host sees this folder at the same path
		par+=(--sshloginfile "$SSHLOGINFILE" --workdir "$PWD")
		if [ "${SSH_TRANSFER:-0}" = 1 ]; then
			# no shared file system: send binaries, data and the arch file (and the
			# previous rung's state), bring results back; the remote folder is
			# this run's own
			sfx=${rung:+.r$rung}
			par=(--jobs "$JOBS" --joblog "+$dir/joblog" --halt now,fail=1 --line-buffer
				--sshloginfile "$SSHLOGINFILE" --workdir "${SSH_WORKDIR:-$(remote_workdir)}"
				--basefile "$bin/train-child" --basefile "$bin/score" --basefile "$bin/nas-history"
				--basefile pipelines/child.sh --basefile "$DATA"
				--transferfile {} --return "{.}$sfx.reward.h5" --return "{.}$sfx.weights.h5"
				--return "{.}$sfx.stats.h5" --return {.}.log --cleanup)
			if [ -n "$rung" ]; then
				[ "$rung" -gt 0 ] && par+=(--transferfile "{.}.r$((rung - 1)).state.h5")
				[ "$rung" -lt $((RUNGS - 1)) ] && par+=(--return "{.}$sfx.state.h5")
			fi
		fi
	fi
	export NASNET_BIN=$bin
	mapfile -t score < <(bash pipelines/cost.sh score-flags)
	# 9>&-: this shell holds the run's lock (fd 9, search.sh) until the round
	# ends; parallel must not, or the placeholder `sleep 10101` processes it
	# forks at start-up would keep a killed search's run locked for hours.
	# Each child takes the lock itself (child.sh).
	# parallel's own messages wait in a file: a clean stop is not "This job failed"
	local seen=0 perr=$dir/.parallel-err.tmp.$$ prc=0
	[ -f "$dir/joblog" ] && seen=$(wc -l <"$dir/joblog")
	# shellcheck disable=SC2086
	parallel "${par[@]}" ${LAUNCH:-} pipelines/child.sh {} $rung "${score[@]}" 9>&- 2>"$perr" || prc=$?
	if [ $prc -ne 0 ] && tail -n +$((seen + 1)) "$dir/joblog" | awk -F'\t' '$7 == 75 { s = 1 } END { exit !s }'; then
		# a child checkpointed and exited 75: search.sh says "stopped" and exits 75
		rm -f "$perr"
		: >"$RUN/.stopped"
		exit 75
	fi
	cat "$perr" >&2
	rm -f "$perr"
	[ $prc -eq 0 ] || exit $prc
}

# check_failures LIST [RUNG]: stop the round when most children of LIST failed
# (a crash, NaN: a property of the settings, not of the machine), naming the
# first failed child's log
check_failures() {
	local list=$1 rung=${2:-} total failed first rw f
	mapfile -t rw < <(sed "s/\\.h5\$/${rung:+.r$rung}.reward.h5/" "$list")
	total=${#rw[@]}
	for f in "${rw[@]}"; do
		[ -f "$f" ] || { echo "search: $f is missing after the round${rung:+ (rung $rung)}" >&2; exit 1; }
	done
	# --timing: the reward file is the last column
	"$bin/nas-history" --failed-only --timing "${rw[@]}" >"$dir/.failed.tmp.$$"
	failed=$(wc -l <"$dir/.failed.tmp.$$")
	first=$(awk -F'\t' 'NR == 1 { sub(/(\.r[0-9]+)?\.reward\.h5$/, ".log", $NF); print $NF }' "$dir/.failed.tmp.$$")
	rm -f "$dir/.failed.tmp.$$"
	if [ $((2 * failed)) -gt "$total" ]; then
		echo "search: round $r${rung:+ rung $rung}: $failed of $total children failed; stopping (first failure: $first)" >&2
		exit 1
	fi
}

# rung_list K: the frozen list of rung K. Rung 0 trains every child; rung K
# the best ceil(n / ETA) of rung K-1's n by reward (ties: lower index first),
# never a failed child; listed in index order.
rung_list() {
	local k=$1 prev n keep
	if [ "$k" -eq 0 ]; then cat "$dir/archs.list"; return; fi
	prev=$dir/rung-$((k - 1)).list
	n=$(wc -l <"$prev")
	keep=$(( (n + ETA - 1) / ETA ))
	while read -r a; do
		"$bin/nas-history" --no-header --fields status,reward,index "${a%.h5}.r$((k - 1)).reward.h5" |
			awk -F'\t' -v a="$a" '$1 == "ok" { printf "%s\t%s\t%s\n", $2, $3, a }'
	done <"$prev" | sort -t$'\t' -k1,1gr -k2,2n | head -n "$keep" | sort -t$'\t' -k2,2n | cut -f3
}

# what the strategy needs (lib/search/strategy.c's table): a policy, the history
strategy_row=$("$bin/sample-arch" --list-strategies | awk -F'\t' -v s="$STRATEGY" '$1 == s')
IFS=$'\t' read -r _ needs_policy needs_history <<<"$strategy_row"
[ -n "$needs_policy" ] || { echo "round.sh: unknown strategy '$STRATEGY'" >&2; exit 2; }

# successive halving: rung K of the round (child.sh skips children that have it)
rung_step() {
	local k=$1
	[ "$k" -gt 0 ] || check_genotypes
	[ -f "$dir/rung-$k.list" ] || rung_list "$k" | commit "$dir/rung-$k.list"
	run_children "$k" <"$dir/rung-$k.list"
	check_failures "$dir/rung-$k.list" "$k"
}

# each child's reward is the one of the highest rung it reached
final_step() {
	local a top k
	while read -r a; do
		top=0
		for ((k = 1; k < RUNGS; k++)); do grep -qxF "$a" "$dir/rung-$k.list" && top=$k; done
		[ -f "${a%.h5}.reward.h5" ] || commit "${a%.h5}.reward.h5" <"${a%.h5}.r$top.reward.h5"
	done <"$dir/archs.list"
}

# every listed child rewarded: looked up (nb201), through the rungs (sha),
# or trained and scored
children() {
	local todo k
	check_genotypes
	if [ "${SCHEDULE:-none}" = sha ]; then
		for ((k = 0; k < RUNGS; k++)); do rung_step $k; done
		final_step
		return
	fi
	todo=$(unrewarded)
	[ -n "$todo" ] || return 0
	if [ "$SPACE" = nb201 ]; then
		# benchmark mode: rewards come from the NAS-Bench-201 table, no training
		printf '%s\n' "$todo" | xargs -d '\n' "$bin/lookup-child" --quiet >/dev/null
	else
		printf '%s\n' "$todo" | run_children
	fi
}

policy() {
	local rw
	mapfile -t rw < <(round_rewards "$r")
	[ "$needs_policy" = 1 ] || return 0
	"$bin/update-policy" --quiet --policy "$(policy_in)" -o "$dir/policy.h5" --algo "$STRATEGY" \
		"${rw[@]}" >"$dir/update.txt"
}

# this round's rows only (one reward per listed child; a successive-halving
# child's rung rewards ARCH.rK.reward.h5 are not children): building the
# run's tables stays linear in rounds
tables() {
	local rw
	mapfile -t rw < <(round_rewards "$r")
	"$bin/nas-history" "${rw[@]}" | commit "$dir/history.tsv"
	"$bin/nas-history" --timing "${rw[@]}" | commit "$dir/timing.tsv"
}

# the run's files derived from rounds 0..r: history.tsv, pareto.tsv, timing.tsv,
# policy.h5
run_tables() {
	join_tables history.tsv "$r" | commit_changed "$RUN/history.tsv"
	bash pipelines/pareto.sh "$RUN/history.tsv" | commit_changed "$RUN/pareto.tsv"
	join_tables timing.tsv "$r" | commit_changed "$RUN/timing.tsv"
	[ "$needs_policy" != 1 ] || commit_changed "$RUN/policy.h5" <"$dir/policy.h5"
}

case $step in
sample)
	sample
	# unchanged (sampled again after settings were rewritten): only its time moves on
	archs_list "$r" | commit_changed "$dir/archs.list"
	touch "$dir/archs.list"
	;;
train)
	children
	check_failures "$dir/archs.list"
	date -u +%FT%TZ | commit "$dir/rewards.done"
	;;
rung)
	rung_step "$3"
	date -u +%FT%TZ | commit "$dir/rung-$3.done"
	;;
final)
	final_step
	date -u +%FT%TZ | commit "$dir/rewards.done"
	;;
update)
	policy
	tables
	run_tables
	date -u +%FT%TZ | commit "$dir/done"
	bash pipelines/status.sh "$RUN" --line "$r" >&2
	;;
children | policy | tables | run_tables) "$step" ;;
*) echo "round.sh: unknown step '$step'" >&2; exit 2 ;;
esac
