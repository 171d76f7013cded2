#!/usr/bin/env bash
# t0500-controller.sh - the controller tools end to end on the NB201 table:
# sample-arch -> lookup-child -> update-policy rounds (PPO, REINFORCE),
# random and evolution rounds, determinism (byte-identical policies and
# genotypes), and bad input as one-line errors with exit code 3. Plus
# --help and an unknown flag for every controller tool.
set -u
cd "$(dirname "$0")/.."
export SOURCE_DATE_EPOCH=1700000000
T=$(mktemp -d "${TMPDIR:-/tmp}/t0500.XXXXXX")
trap 'rm -rf "$T"' EXIT
TABLE=$PWD/data/nb201-cifar10-12epoch.csv.gz
export NASNET_NB201=$TABLE
B=$PWD/bin
n=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else notok "$d"; fi; }

# fails CODE DESCRIPTION PATTERN CMD...: exit CODE and exactly one stderr line matching PATTERN
fails() {
	local code=$1 desc=$2 pat=$3 rc lines; shift 3
	"$@" >"$T/stdout" 2>"$T/stderr"; rc=$?
	lines=$(wc -l <"$T/stderr")
	if [ "$rc" -eq "$code" ] && [ "$lines" -eq 1 ] && grep -qE "$pat" "$T/stderr"; then
		ok "$desc"
	else
		notok "$desc"
		echo "# exit $rc (want $code), $lines stderr line(s):"; sed 's/^/#   /' "$T/stderr" | head -5
	fi
}

for tool in sample-arch update-policy lookup-child nb201-search; do
	check "$tool --help exits 0 with a usage text" \
		bash -c "'$B/$tool' --help | grep -q '^usage: $tool'"
	fails 2 "$tool: unknown flag exits 2 with one line" "unrecognized option" "$B/$tool" --no-such-flag
done

# a few PPO rounds through the tools: round r samples with policy_r, lookup, update -> policy_{r+1}
run_search() { # DIR ALGO
	local d=$1 algo=$2 r
	mkdir -p "$d"
	# --count 0: only make the round-0 policy
	"$B/sample-arch" -q --space nb201 --seed 7 --hidden 16 --policy-lr 0.02 --count 0 \
		--out "$d" --round 0 --save-policy "$d/policy_0.h5" >/dev/null || return 1
	for r in 0 1 2; do
		mkdir -p "$d/round_$r"
		(cd "$d" && "$B/sample-arch" -q --policy policy_$r.h5 --strategy "$algo" --count 6 \
			--out round_$r --round $r >round_$r/sample.txt) || return 1
		(cd "$d" && "$B/lookup-child" -q round_$r/arch_????.h5 >round_$r/lookup.txt) || return 1
		(cd "$d" && "$B/update-policy" -q --algo "$algo" --policy policy_$r.h5 \
			-o policy_$((r + 1)).h5 round_$r >round_$r/update.txt 2>round_$r/update.err) ||
			return 1
	done
}
check "three PPO rounds through sample-arch, lookup-child, update-policy" run_search "$T/a" ppo
check "update-policy prints batch, mean, best, baseline, entropy, kl" \
	grep -qE 'update 3	ppo	batch 6	mean 0\.[0-9]+	best 0\.[0-9]+	baseline 0\.[0-9]+	entropy [0-9.]+	kl [0-9.]+' "$T/a/round_2/update.txt"
check "genotypes sampled by the policy need no hash warning" test ! -s "$T/a/round_1/update.err"
check "the policy changes with each update" bash -c "! cmp -s '$T/a/policy_1.h5' '$T/a/policy_2.h5'"
cp -r "$T/a" "$T/a_copy"
run_search "$T/b" ppo >/dev/null
same=1
for f in policy_3.h5 round_2/arch_0005.h5 round_2/arch_0005.reward.h5; do
	cmp -s "$T/a/$f" "$T/b/$f" || same=0
done
check "the same search twice gives byte-identical policies, genotypes and rewards" [ $same = 1 ]
(cd "$T/a" && "$B/update-policy" -q --policy policy_1.h5 -o again.h5 round_1 >/dev/null &&
	mv again.h5 again1.h5 && "$B/update-policy" -q --policy policy_1.h5 -o again.h5 round_1 >/dev/null)
check "update-policy run twice gives the same bytes" cmp -s "$T/a/again.h5" "$T/a/again1.h5"
check "update-policy never modifies its input policy" cmp -s "$T/a/policy_1.h5" "$T/a_copy/policy_1.h5"
check "REINFORCE rounds run" run_search "$T/c" reinforce

# random and evolution
mkdir -p "$T/e/r0" "$T/e/r1" "$T/e/r1b"
"$B/sample-arch" -q --space nb201 --strategy random --seed 3 --count 25 --out "$T/e/r0" --round 0 >/dev/null
"$B/lookup-child" -q "$T/e"/r0/arch_????.h5 >/dev/null
"$B/sample-arch" -q --space nb201 --strategy evolution --seed 3 --history "$T/e/r0" --count 5 \
	--out "$T/e/r1" --round 1 | cut -f2 >"$T/e/evo1.txt"
"$B/sample-arch" -q --space nb201 --strategy evolution --seed 3 --history "$T/e/r0" --count 5 \
	--out "$T/e/r1b" --round 1 | cut -f2 >"$T/e/evo2.txt"
check "evolution reads the history and is deterministic" \
	bash -c "[ \$(wc -l <'$T/e/evo1.txt') = 5 ] && cmp -s '$T/e/evo1.txt' '$T/e/evo2.txt'"
# every evolution child is one mutation away from some history member
"$B/lookup-child" -q "$T/e"/r0/arch_????.h5 | cut -f4 >"$T/e/hist.txt"
check "every evolution child differs from a history cell in exactly one edge" \
	/usr/bin/python3 -c "
import sys
hist = [l.split('|') for l in open('$T/e/hist.txt').read().split()]
kids = [l.split('|') for l in open('$T/e/evo1.txt').read().split()]
sys.exit(0 if all(any(sum(a != b for a, b in zip(k, h)) == 1 for h in hist) for k in kids) else 1)"
ls "$T/e/r0"/*.reward.h5 >"$T/e/list.txt"
"$B/sample-arch" -q --space nb201 --strategy evolution --seed 3 --history "$T/e/list.txt" --count 5 \
	--out "$T/e/r1b" --round 1 | cut -f2 >"$T/e/evo3.txt"
check "a list file of reward files gives the same history as the folder" cmp -s "$T/e/evo1.txt" "$T/e/evo3.txt"

# bad input: one-line errors, exit 3
mkdir -p "$T/bad/nas" "$T/bad/orphan"
"$B/sample-arch" -q --space nasnet --strategy random --count 1 --out "$T/bad/nas" --round 0 >/dev/null
cp "$T/a/round_0/arch_0000.reward.h5" "$T/bad/nas/"
fails 3 "a genotype of another space is refused" "genotype of space 'nasnet', expected 'nb201'" \
	"$B/update-policy" --policy "$T/a/policy_0.h5" -o "$T/bad/p.h5" "$T/bad/nas"
cp "$T/a/round_0/arch_0000.reward.h5" "$T/bad/orphan/"
fails 3 "a reward file without its genotype is refused" "genotype file .* is missing" \
	"$B/update-policy" --policy "$T/a/policy_0.h5" -o "$T/bad/p.h5" "$T/bad/orphan"
fails 3 "a policy of another space is refused by sample-arch" "policy of space 'nb201', expected 'nasnet'" \
	"$B/sample-arch" --policy "$T/a/policy_0.h5" --space nasnet --count 1 --out "$T/bad" --round 0
fails 3 "a policy of another space is refused by update-policy" "genotype of space 'nb201', expected 'nasnet'" \
	bash -c "'$B/sample-arch' -q --space nasnet --save-policy '$T/bad/nas.h5' --count 1 --out '$T/bad' --round 0 >/dev/null &&
		'$B/update-policy' --policy '$T/bad/nas.h5' -o '$T/bad/p.h5' '$T/a/round_0'"
fails 3 "lookup-child refuses a genotype of another space" "expected 'nb201'" \
	"$B/lookup-child" "$T/bad/nas/arch_0000.h5"
fails 3 "update-policy refuses a non-policy file" "expected nasnet-c/policy" \
	"$B/update-policy" --policy "$T/a/round_0/arch_0000.h5" -o "$T/bad/p.h5" "$T/a/round_0"
fails 2 "update-policy refuses to overwrite its input" "must differ" \
	"$B/update-policy" --policy "$T/a/policy_0.h5" -o "$T/a/policy_0.h5" "$T/a/round_0"
check "no policy was written by the failures" test ! -e "$T/bad/p.h5"

# the benchmark driver runs the same code; a small run for speed
check "nb201-search runs a small benchmark" \
	bash -c "'$B/nb201-search' --strategy evolution --seeds 5 --budget 30 | grep -q '^evolution  test'"
echo "1..$n"
