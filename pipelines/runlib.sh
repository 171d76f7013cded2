# shellcheck shell=bash
# pipelines/runlib.sh - shell helpers of the run folder (sourced by search.sh,
# round.sh and status.sh; needs RUN, and bin for the tools).
#
# Round folders are round-000 ... round-999, round-1000, ...: they are found by
# counting up from round-000, never with a fixed-width glob. A round's
# children are exactly the genotype files its archs.list names, one
# ARCH.reward.h5 each: stray files in a round folder are never read.

# round_dir VAR R: VAR=$RUN/round-RRR (printf -v: no fork, cheap in loops)
round_dir() { printf -v "$1" '%s/round-%03d' "$RUN" "$2"; }

# commit FILE: stdin -> FILE, durably and atomically like lib/core/atomic.h
# (temporary name in the same folder, fsync, rename, fsync the folder)
commit() {
	local dir=${1%/*} tmp
	tmp=$dir/.${1##*/}.tmp.$$
	if cat >"$tmp" && sync "$tmp" && mv "$tmp" "$1" && sync "$dir"; then return 0; fi
	rm -f "$tmp"
	echo "${0##*/}: $1: cannot write (see above)" >&2
	return 1
}

# commit_changed FILE: as commit, but leaves FILE (and its time, which make
# reads) alone when it already holds exactly stdin
commit_changed() {
	local dir=${1%/*} tmp
	tmp=$dir/.${1##*/}.new.tmp.$$
	cat >"$tmp" || { rm -f "$tmp"; return 1; }
	if cmp -s "$tmp" "$1"; then rm -f "$tmp"; return 0; fi
	commit "$1" <"$tmp"; local rc=$?
	rm -f "$tmp"
	return $rc
}

# archs_list R: what round R's archs.list must hold (sample-arch writes
# arch_0000.h5 ... of --count CHILDREN)
archs_list() {
	local d i
	round_dir d "$1"
	for ((i = 0; i < CHILDREN; i++)); do printf '%s/arch_%04d.h5\n' "$d" "$i"; done
}

# list_ok R: round R's archs.list exists and is what it must be (no fork:
# the repair pass runs it for every round)
list_ok() {
	local d want='' line have='' i
	round_dir d "$1"
	for ((i = 0; i < CHILDREN; i++)); do printf -v line '%s/arch_%04d.h5\n' "$d" "$i"; want+=$line; done
	[ -f "$d/archs.list" ] && IFS= read -r -d '' have <"$d/archs.list"
	[ "$have" = "$want" ]
}

# round_complete R: every listed child of round R has its genotype and reward file
round_complete() {
	local d a i
	round_dir d "$1"
	for ((i = 0; i < CHILDREN; i++)); do
		printf -v a '%s/arch_%04d' "$d" "$i"
		[ -s "$a.h5" ] && [ -s "$a.reward.h5" ] || return 1
	done
}

# round_rewards R: the reward file of each listed child of round R, one a line
round_rewards() { archs_list "$1" | sed 's/\.h5$/.reward.h5/'; }

# last_done: the highest R with round-R/done (-1: none); rounds finish in order
last_done() {
	local k d
	for ((k = 0; ; k++)); do round_dir d $k; [ -f "$d/done" ] || break; done
	echo $((k - 1))
}

# join_tables NAME LAST: RUN/NAME (history.tsv or timing.tsv) from the
# per-round tables of rounds 0..LAST, one header; deterministic
join_tables() {
	local k d
	round_dir d 0
	head -n 1 "$d/$1" || return 1
	for ((k = 0; k <= $2; k++)); do round_dir d $k; echo "$d/$1"; done |
		xargs -d '\n' tail -q -n +2
}
