#!/usr/bin/env bash
# t0380-strategies.sh - the search strategies are one table (lib/search/strategy.c):
# sample-arch and nb201-search list the same rows, every tool refuses an
# unknown name listing the table's, update-policy takes only strategies that
# learn a policy, and the round scripts read needs-policy/needs-history from it.
. "$(dirname "$0")/lib.sh"

expect 0 "sample-arch --list-strategies" bin/sample-arch --list-strategies
cp "$tmp/out" "$tmp/list"
t "one row per strategy: name, needs a policy, needs the history" \
	'[ "$(head -n 4 "$tmp/list")" = "$(printf "ppo\t1\t0\nreinforce\t1\t0\nrandom\t0\t0\nevolution\t0\t1")" ]'
expect 0 "nb201-search --list-strategies" bin/nb201-search --list-strategies
t "the same table" 'cmp -s "$tmp/out" "$tmp/list"'

mkdir "$tmp/r"
expect 2 "sample-arch refuses an unknown strategy" bin/sample-arch --round 0 --count 1 --out "$tmp/r" --strategy nope
one_line_err "unknown --strategy 'nope' ($(cut -f1 "$tmp/list" | paste -sd, | sed 's/,/, /g'))" "naming the table's strategies"
expect 2 "nb201-search refuses it too" bin/nb201-search --strategy nope
one_line_err "($(cut -f1 "$tmp/list" | paste -sd, | sed 's/,/, /g'))" "with the same list"
expect 2 "--history with a strategy that does not read it" \
	bin/sample-arch --round 0 --count 1 --out "$tmp/r" --strategy random --history "$tmp/r"
expect 2 "--policy with a strategy without a policy" \
	bin/sample-arch --round 0 --count 1 --out "$tmp/r" --strategy evolution --policy "$tmp/p.h5"

bin/sample-arch --quiet --round 0 --count 2 --out "$tmp/r" --strategy ppo --space nb201 --save-policy "$tmp/p.h5" >/dev/null
expect 2 "update-policy --algo random (learns nothing) is refused" \
	bin/update-policy --policy "$tmp/p.h5" -o "$tmp/q.h5" --algo random "$tmp/r"
one_line_err "unknown --algo 'random'" "one line"

# the search refuses an unknown STRATEGY before touching the run folder
make --no-print-directory -s search RUN="$tmp/run" STRATEGY=nope SPACE=nb201 ROUNDS=1 CHILDREN=2 JOBS=1 \
	>/dev/null 2>"$tmp/err"; rc=$?
t "make search STRATEGY=nope exits 2 listing the strategies" \
	'[ $rc = 2 ] && grep -qF "expected one of $(cut -f1 "$tmp/list" | paste -sd" ")" "$tmp/err" && [ ! -e "$tmp/run" ]'
for s in random evolution reinforce; do
	make --no-print-directory -s search RUN="$tmp/run-$s" STRATEGY=$s SPACE=nb201 ROUNDS=2 CHILDREN=3 JOBS=1 \
		>/dev/null 2>"$tmp/err"; rc=$?
	t "an nb201 search with $s runs 2 rounds" '[ $rc = 0 ] && [ -e "$tmp/run-$s/round-001/done" ]' ||
		sed 's/^/# /' "$tmp/err"
done
t "only the strategy with a policy writes one" \
	'[ -e "$tmp/run-reinforce/policy.h5" ] && [ ! -e "$tmp/run-random/policy.h5" ] && [ ! -e "$tmp/run-evolution/policy.h5" ]'
finish
