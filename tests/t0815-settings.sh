#!/usr/bin/env bash
# t0815-settings.sh - make search settings are checked before they are recorded
# (D14), read as decimal (D15) and compared as numbers and normalised paths
# (D25); the run records the dataset's fingerprint and refuses a changed
# dataset at the same path (D4); a clean stop (children exit 75) is reported
# as a stop, not a failure (D19); one-line messages (D20); make status on a
# finished run says so.
. "$(dirname "$0")/lib.sh"

small_data "$tmp/d.h5" --valid 100 --train-subset 200
search() {
	make --no-print-directory -s search DATA="$tmp/d.h5" ROUNDS=1 CHILDREN=2 JOBS=2 \
		CHILD_F=4 CHILD_TRAIN_IMAGES=48 CHILD_BATCH=24 SEED=5 "$@"
}
# make adds its own "make: *** [search] Error N" line to the one line of search
search_lines() { grep -vc '^make: \*\*\* ' "$tmp/err"; }
nb() { make --no-print-directory -s search SPACE=nb201 CHILDREN=2 JOBS=1 SEED=3 "$@"; }

# D14: a bad setting is one line and leaves nothing behind
for bad in CHILD_F=0 CHILD_F=5000 CHILD_F=100000 SEED=-1 SEED=abc SPACE=foo CHILD_LR=abc CHILD_LR=nan \
	CHILD_BATCH=0 CHILD_N=0 CHILD_EPOCHS=0 CHILD_TRAIN_IMAGES=x; do
	v=$tmp/v-${bad%%=*}
	search RUN="$v" "$bad" >"$tmp/out" 2>"$tmp/err"; rc=$?
	t "D14: $bad refused in one line naming ${bad%%=*}, nothing recorded" \
		'[ $rc != 0 ] && [ ! -e "$v/settings" ] && [ "$(search_lines)" = 1 ] && grep -q "${bad%%=*}" "$tmp/err"' ||
		sed 's/^/# /' "$tmp/err"
done
search RUN="$tmp/v-CHILD_F" CHILD_F=0 >/dev/null 2>&1
search RUN="$tmp/v-CHILD_F" ROUNDS=0 >/dev/null 2>"$tmp/err"
t "D14: the run folder of a refused call is not created" '[ ! -e "$tmp/v-CHILD_F" ]'

# D15: numbers are decimal
nb RUN="$tmp/oct" ROUNDS=010 >"$tmp/out" 2>&1; rc=$?
t "D15: ROUNDS=010 runs 10 rounds" \
	'[ $rc = 0 ] && [ -e "$tmp/oct/round-009/done" ] && [ ! -e "$tmp/oct/round-010" ]' ||
	sed 's/^/# /' "$tmp/out"
nb RUN="$tmp/oct8" ROUNDS=08 >"$tmp/out" 2>&1; rc=$?
t "D15: ROUNDS=08 runs 8 rounds" '[ $rc = 0 ] && [ -e "$tmp/oct8/round-007/done" ]' ||
	sed 's/^/# /' "$tmp/out"

# the line after each round names that round, also when a resumed search
# replays the update step of rounds that are already done
nb RUN="$tmp/rep" ROUNDS=3 >/dev/null 2>&1
touch "$tmp/rep/settings"
nb RUN="$tmp/rep" ROUNDS=3 >/dev/null 2>"$tmp/err"
t "a replayed round's line names that round (1/3, 2/3, 3/3)" \
	'[ "$(grep -o "round [0-9]*/[0-9]* done" "$tmp/err" | tr "\n" " ")" = "round 1/3 done round 2/3 done round 3/3 done " ]' ||
	sed 's/^/# /' "$tmp/err"

# D25: compared as numbers and normalised paths
mkdir -p "$tmp/sub"
nb RUN="$tmp/cmp" ROUNDS=1 CHILD_LR=0.05 DATA="$tmp/sub/../d.h5" >/dev/null 2>&1
nb RUN="$tmp/cmp" ROUNDS=2 CHILD_LR=0.050 SEED=03 DATA="$tmp//d.h5" >/dev/null 2>"$tmp/err"; rc=$?
t "D25: CHILD_LR=0.050, SEED=03 and an equivalent DATA path are the same settings" '[ $rc = 0 ]' ||
	sed 's/^/# /' "$tmp/err"
nb RUN="$tmp/cmp" ROUNDS=2 CHILD_LR=0.051 >/dev/null 2>"$tmp/err"; rc=$?
t "D25: CHILD_LR=0.051 is still a different setting" '[ $rc = 2 ] && grep -q CHILD_LR "$tmp/err"'

# D20: RUN that looks like an option
for r in -x --help; do
	nb RUN="$r" ROUNDS=1 >/dev/null 2>"$tmp/err"; rc=$?
	t "D20: RUN=$r refused in one line" '[ $rc != 0 ] && [ "$(search_lines)" = 1 ] && grep -q "RUN" "$tmp/err"' ||
		sed 's/^/# /' "$tmp/err"
done
[ ! -e ./-x ] && [ ! -e ./--help ]
t "D20: and no folder of that name was made" '[ $? = 0 ]'
# D20: a bad option value names the option, without the usage text
bin/sample-arch --quiet --count 1 --round 0 --out "$tmp" --data "$tmp/d.h5" --cells 1 --filters 4 \
	--train-images 48 --batch 24 --space nasnet --strategy random >/dev/null
for o in "--steps -1" "--lr nan" "--batch 0" "--epochs 0" "--stop-after 0" "--checkpoint-steps 0"; do
	# shellcheck disable=SC2086
	expect 2 "D20: train-child $o is a usage error" bin/train-child $o "$tmp/arch_0000.h5"
	one_line_err "${o% *}" "D20: train-child $o: one line naming ${o% *}"
done

# D20: a hostile policy hyperparameter: one line naming the file and the value
mkdir -p "$tmp/p"
bin/sample-arch --quiet --count 1 --round 0 --out "$tmp/p" --space nb201 --save-policy "$tmp/p/pol.h5" >/dev/null
for kv in beta1=1 clip=-0.5 temperature=0 lr=-1; do
	cp "$tmp/p/pol.h5" "$tmp/p/${kv%%=*}.h5"
	/usr/bin/python3 -c 'import sys, h5py; f = h5py.File(sys.argv[1], "r+"); f.attrs[sys.argv[2]] = float(sys.argv[3])' \
		"$tmp/p/${kv%%=*}.h5" "${kv%%=*}" "${kv#*=}"
	expect 3 "D20: nas-check refuses a policy with $kv" bin/nas-check --quiet "$tmp/p/${kv%%=*}.h5"
	one_line_err "${kv%%=*}.h5: " "D20: policy $kv: one line naming the file"
done

# reference: a tiny search, uninterrupted (5 steps a child)
search RUN="$tmp/run" CHILD_TRAIN_IMAGES=120 >"$tmp/ref.out" 2>&1; rc=$?
t "a tiny reference search" '[ $rc = 0 ]' || sed 's/^/# /' "$tmp/ref.out"
make --no-print-directory -s status RUN="$tmp/run" >"$tmp/status" 2>&1
t "make status on a finished run says it is finished" 'grep -q "^state: *finished" "$tmp/status"' ||
	sed 's/^/# /' "$tmp/status"
mv "$tmp/run" "$tmp/ref"

# D19: children stopped after a checkpoint (exit 75): the search says it stopped
mkdir -p "$tmp/fakebin"
for tool in bin/*; do [ "$tool" = bin/train-child ] || ln -s "$PWD/$tool" "$tmp/fakebin/"; done
printf '#!/bin/sh\nexec %s/bin/train-child --stop-after 1 "$@"\n' "$PWD" >"$tmp/fakebin/train-child"
chmod +x "$tmp/fakebin/train-child"
NASNET_BIN="$tmp/fakebin" search RUN="$tmp/run" CHILD_TRAIN_IMAGES=120 >"$tmp/out" 2>"$tmp/err"; rc=$?
t "D19: a stopped search says it stopped and can be resumed, and not that something failed" \
	'grep -q "^search: .*stopped after a checkpoint.*resume" "$tmp/err" && ! grep -qi "fail" "$tmp/err"' ||
	sed 's/^/# /' "$tmp/err"
t "D19: and its recipe exits 75 (make: *** [search] Error 75)" 'grep -q "^make: \*\*\* .*search.*Error 75" "$tmp/err"'
# the run's own settings file gives every setting (whatever settings.list holds)
mapfile -t recorded < <(grep -v '^SOURCE_DATE_EPOCH=\|^DATA_FINGERPRINT=' "$tmp/run/settings")
env "${recorded[@]}" RUN="$tmp/run" ROUNDS=1 JOBS=2 NASNET_BIN="$tmp/fakebin" \
	bash pipelines/search.sh >/dev/null 2>&1; rc=$?
t "D19: pipelines/search.sh itself exits 75" '[ $rc = 75 ]'
make --no-print-directory -s status RUN="$tmp/run" >"$tmp/status" 2>&1
t "make status on a stopped run says how to resume" 'grep -q "^state: *stopped.*resume" "$tmp/status"' ||
	sed 's/^/# /' "$tmp/status"
search RUN="$tmp/run" CHILD_TRAIN_IMAGES=120 >"$tmp/out" 2>&1; rc=$?
t "D19: the resumed search is byte-identical to the uninterrupted one" \
	'[ $rc = 0 ] && cmp -s "$tmp/run/history.tsv" "$tmp/ref/history.tsv" && cmp -s "$tmp/run/policy.h5" "$tmp/ref/policy.h5"' ||
	{ sed 's/^/# /' "$tmp/out"; diff "$tmp/ref/history.tsv" "$tmp/run/history.tsv" | sed 's/^/# /'; }

# D19: a tool ended by SIGTERM before it could install its handler (GNU
# parallel's --halt stopping the round's other jobs, as the CI run of b356364
# showed) is a stop, not a failed cell: train-child, then score (the child
# trained, not yet scored)
killed_by_term() { # TOOL: the search with TOOL replaced by one that SIGTERMs itself
	local tool
	for tool in train-child score; do
		rm -f "$tmp/fakebin/$tool"
		ln -s "$PWD/bin/$tool" "$tmp/fakebin/$tool"
	done
	rm -f "$tmp/fakebin/$1"
	printf '#!/bin/sh\nkill -TERM $$\n' >"$tmp/fakebin/$1"
	chmod +x "$tmp/fakebin/$1"
	NASNET_BIN="$tmp/fakebin" search RUN="$tmp/run" CHILD_TRAIN_IMAGES=120 >"$tmp/out" 2>"$tmp/err"
	t "D19: $1 killed by SIGTERM before its handler: the search stopped, nothing recorded" \
		'grep -q "^make: \*\*\* .*search.*Error 75" "$tmp/err" && [ -z "$(find "$tmp/run" -name "*.reward.h5")" ]' ||
		{ sed 's/^/# /' "$tmp/err"; find "$tmp/run" -name '*.reward.h5' | sed 's/^/# /'; }
}
rm -rf "$tmp/run"
killed_by_term train-child
killed_by_term score
search RUN="$tmp/run" CHILD_TRAIN_IMAGES=120 >"$tmp/out" 2>&1; rc=$?
t "D19: and resuming it gives the uninterrupted search's bytes" \
	'[ $rc = 0 ] && cmp -s "$tmp/run/history.tsv" "$tmp/ref/history.tsv" && cmp -s "$tmp/run/policy.h5" "$tmp/ref/policy.h5"' ||
	sed 's/^/# /' "$tmp/out"

# D4: the run records the dataset's fingerprint and refuses a changed file
t "D4: settings record the dataset fingerprint" 'grep -q "^DATA_FINGERPRINT=[0-9a-f]\{16\}$" "$tmp/ref/settings"'
cp "$tmp/d.h5" "$tmp/d-orig.h5"
small_data "$tmp/d.h5" --valid 100 --train-subset 200 --seed 2
search RUN="$tmp/ref" CHILD_TRAIN_IMAGES=120 ROUNDS=2 >/dev/null 2>"$tmp/err"; rc=$?
t "D4: a changed dataset at the same path is refused in one line naming the file" \
	'[ $rc != 0 ] && [ "$(search_lines)" = 1 ] && grep -q "$tmp/d.h5" "$tmp/err" && grep -qi "fingerprint" "$tmp/err"' ||
	sed 's/^/# /' "$tmp/err"
t "D4: and no new round was started" '[ ! -e "$tmp/ref/round-001" ]'
cp "$tmp/d-orig.h5" "$tmp/d.h5"
finish
