#!/usr/bin/env bash
# round.sh sample|train|update R - the three steps of search round R.
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
	"$bin/sample-arch" "${args[@]}" >/dev/null
	ls "$dir"/arch_[0-9]*.h5 | grep -E '/arch_[0-9]+\.h5$' | sort | commit "$dir/archs.list"
	;;
train)
	par=(--jobs "$JOBS" --joblog "+$dir/joblog" --halt now,fail=1 --line-buffer)
	if [ -n "${SSHLOGINFILE:-}" ]; then
		# shared file system: every host sees this folder at the same path
		par+=(--sshloginfile "$SSHLOGINFILE" --workdir "$PWD")
		if [ "${SSH_TRANSFER:-0}" = 1 ]; then
			# no shared file system: send binaries, data and the arch file, bring results back
			par=(--jobs "$JOBS" --joblog "+$dir/joblog" --halt now,fail=1 --line-buffer
				--sshloginfile "$SSHLOGINFILE" --workdir "${SSH_WORKDIR:-.nasnet-c-work}" --basefile "$bin/train-child"
				--basefile "$bin/score" --basefile "$bin/nas-history" --basefile pipelines/child.sh --basefile "$DATA"
				--transferfile {} --return {.}.reward.h5 --return {.}.weights.h5
				--return {.}.stats.h5 --return {.}.log --cleanup)
		fi
	fi
	export NASNET_BIN=$bin
	if [ "$SPACE" = nb201 ]; then
		# benchmark mode: rewards come from the NAS-Bench-201 table, no training
		xargs -a "$dir/archs.list" "$bin/lookup-child" --quiet >/dev/null
	else
		# 9>&-: this shell holds the run's lock (fd 9, search.sh) until the round
		# ends; parallel must not, or the placeholder `sleep 10101` processes it
		# forks at start-up would keep a killed search's run locked for hours
		# shellcheck disable=SC2086
		parallel "${par[@]}" ${LAUNCH:-} pipelines/child.sh {} :::: "$dir/archs.list" 9>&-
	fi
	total=$(wc -l <"$dir/archs.list")
	failed=0 first=
	while read -r a; do
		rf=${a%.h5}.reward.h5
		[ -f "$rf" ] || { echo "search: $a has no reward file after the round" >&2; exit 1; }
		if "$bin/nas-history" --failed-only "$rf" | grep -q .; then
			failed=$((failed + 1)); [ -n "$first" ] || first=${a%.h5}.log
		fi
	done <"$dir/archs.list"
	if [ $((2 * failed)) -gt "$total" ]; then
		echo "search: round $r: $failed of $total children failed; stopping (first failure: $first)" >&2
		exit 1
	fi
	date -u +%FT%TZ | commit "$dir/rewards.done"
	;;
update)
	case $STRATEGY in
	ppo | reinforce)
		"$bin/update-policy" --quiet --policy "$(policy_in)" -o "$dir/policy.h5" --algo "$STRATEGY" "$dir" \
			>"$dir/update.txt"
		cat "$dir/policy.h5" | commit "$RUN/policy.h5" ;;
	esac
	"$bin/nas-history" "$RUN"/round-[0-9][0-9][0-9]/arch_*.reward.h5 | commit "$RUN/history.tsv"
	"$bin/nas-history" --timing "$RUN"/round-[0-9][0-9][0-9]/arch_*.reward.h5 | commit "$RUN/timing.tsv"
	date -u +%FT%TZ | commit "$dir/done"
	bash pipelines/status.sh "$RUN" --line >&2
	;;
*) echo "round.sh: unknown step '$step'" >&2; exit 2 ;;
esac
