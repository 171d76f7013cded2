#!/usr/bin/env bash
# round.sh sample|train|update R - the three steps of search round R;
# with SCHEDULE=sha, `train` is replaced by `rung R K` for K = 0..RUNGS-1
# (successive halving: each rung trains its frozen list rung-K.list onward
# and scores it) and `final R` (each child's reward from its highest rung).
# Called by pipelines/rounds.mk with the run's settings in the environment.
# Each step ends by renaming its marker file into place, so a step that was
# killed is simply run again (every tool skips or redoes work idempotently).
set -eu -o pipefail
step=$1 r=$2
bin=${NASNET_BIN:-bin}
dir=$RUN/round-$(printf %03d "$r")
prev=$RUN/round-$(printf %03d $((r - 1)))
mkdir -p "$dir"

# atomic marker/list write: content from stdin
commit() { local tmp; tmp=$(dirname "$1")/.$(basename "$1").tmp.$$; cat >"$tmp"; mv "$tmp" "$1"; }

policy_in() { if [ "$r" -eq 0 ]; then echo "$RUN/policy-init.h5"; else echo "$prev/policy.h5"; fi; }

child_flags=(--cells "$CHILD_N" --filters "$CHILD_F" --epochs "$CHILD_EPOCHS" --batch "$CHILD_BATCH"
	--lr "$CHILD_LR" --data "$DATA" --train-images "$CHILD_TRAIN_IMAGES")
[ "${SCHEDULE:-none}" = sha ] && child_flags+=(--rungs "$RUNGS" --eta "$ETA")

# run_children LIST [RUNG]: every genotype of LIST trained and scored (child.sh)
# through GNU parallel, then the round stops if more than half of them failed
run_children() {
	local list=$1 rung=${2:-} par
	par=(--jobs "$JOBS" --joblog "+$dir/joblog" --halt now,fail=1 --line-buffer)
	if [ -n "${SSHLOGINFILE:-}" ]; then
		# shared file system: every host sees this folder at the same path
		par+=(--sshloginfile "$SSHLOGINFILE" --workdir "$PWD")
		if [ "${SSH_TRANSFER:-0}" = 1 ]; then
			# no shared file system: send binaries, data and the arch file (and the
			# previous rung's state), bring results back
			local sfx=${rung:+.r$rung}
			par=(--jobs "$JOBS" --joblog "+$dir/joblog" --halt now,fail=1 --line-buffer
				--sshloginfile "$SSHLOGINFILE" --workdir "${SSH_WORKDIR:-.nasnet-c-work}" --basefile "$bin/train-child"
				--basefile "$bin/score" --basefile "$bin/nas-history" --basefile pipelines/child.sh --basefile "$DATA"
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
	# forks at start-up would keep a killed search's run locked for hours
	# shellcheck disable=SC2086
	parallel "${par[@]}" ${LAUNCH:-} pipelines/child.sh {} $rung "${score[@]}" :::: "$list" 9>&-
	local total failed=0 first= a rf
	total=$(wc -l <"$list")
	while read -r a; do
		rf=${a%.h5}${rung:+.r$rung}.reward.h5
		[ -f "$rf" ] || { echo "search: $a has no reward file${rung:+ at rung $rung} after the round" >&2; exit 1; }
		if "$bin/nas-history" --failed-only "$rf" | grep -q .; then
			failed=$((failed + 1)); [ -n "$first" ] || first=${a%.h5}.log
		fi
	done <"$list"
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
		"$bin/nas-history" --no-header "${a%.h5}.r$((k - 1)).reward.h5" |
			awk -F'\t' -v a="$a" '$7 == "ok" { printf "%s\t%s\t%s\n", $3, $2, a }'
	done <"$prev" | sort -t$'\t' -k1,1gr -k2,2n | head -n "$keep" | sort -t$'\t' -k2,2n | cut -f3
}

case $step in
sample)
	args=(--quiet --round "$r" --count "$CHILDREN" --out "$dir" --space "$SPACE" --strategy "$STRATEGY")
	case $STRATEGY in
	ppo | reinforce)
		if [ "$r" -eq 0 ]; then
			args+=(--seed "$SEED" --save-policy "$RUN/policy-init.h5")
		else
			args+=(--policy "$(policy_in)")
		fi ;;
	random) args+=(--seed "$SEED") ;;
	evolution)
		args+=(--seed "$SEED")
		for ((k = 0; k < r; k++)); do args+=(--history "$RUN/round-$(printf %03d $k)"); done ;;
	esac
	[ "$SPACE" = nb201 ] || args+=("${child_flags[@]}")
	mapfile -t -O "${#args[@]}" args < <(bash pipelines/cost.sh sample-flags)
	"$bin/sample-arch" "${args[@]}" >/dev/null
	ls "$dir"/arch_[0-9]*.h5 | grep -E '/arch_[0-9]+\.h5$' | sort | commit "$dir/archs.list"
	;;
train)
	if [ "$SPACE" = nb201 ]; then
		# benchmark mode: rewards come from the NAS-Bench-201 table, no training
		xargs -a "$dir/archs.list" "$bin/lookup-child" --quiet >/dev/null
	else
		run_children "$dir/archs.list"
	fi
	date -u +%FT%TZ | commit "$dir/rewards.done"
	;;
rung)
	k=$3
	[ -f "$dir/rung-$k.list" ] || rung_list "$k" | commit "$dir/rung-$k.list"
	run_children "$dir/rung-$k.list" "$k"
	date -u +%FT%TZ | commit "$dir/rung-$k.done"
	;;
final)
	# each child's reward is the one of the highest rung it reached
	while read -r a; do
		top=0
		for ((k = 1; k < RUNGS; k++)); do grep -qxF "$a" "$dir/rung-$k.list" && top=$k; done
		[ -f "${a%.h5}.reward.h5" ] || commit "${a%.h5}.reward.h5" <"${a%.h5}.r$top.reward.h5"
	done <"$dir/archs.list"
	date -u +%FT%TZ | commit "$dir/rewards.done"
	;;
update)
	case $STRATEGY in
	ppo | reinforce)
		"$bin/update-policy" --quiet --policy "$(policy_in)" -o "$dir/policy.h5" --algo "$STRATEGY" "$dir" \
			>"$dir/update.txt"
		cat "$dir/policy.h5" | commit "$RUN/policy.h5" ;;
	esac
	# one reward per listed child (a successive-halving child's rung rewards
	# ARCH.rK.reward.h5 are not children)
	mapfile -t rewards < <(for d in "$RUN"/round-[0-9]*[0-9]; do
		[ -f "$d/rewards.done" ] && sed 's/\.h5$/.reward.h5/' "$d/archs.list"; done)
	"$bin/nas-history" "${rewards[@]}" | commit "$RUN/history.tsv"
	bash pipelines/pareto.sh "$RUN/history.tsv" | commit "$RUN/pareto.tsv"
	"$bin/nas-history" --timing "${rewards[@]}" | commit "$RUN/timing.tsv"
	date -u +%FT%TZ | commit "$dir/done"
	bash pipelines/status.sh "$RUN" --line >&2
	;;
*) echo "round.sh: unknown step '$step'" >&2; exit 2 ;;
esac
