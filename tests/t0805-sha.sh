#!/usr/bin/env bash
# t0805-sha.sh - successive halving (SCHEDULE=sha) and make fidelity on tiny
# children: 9 children, 3 promoted to rung 1; a promoted child continued from
# its rung-0 state (its step counts) and ends byte-identical to one trained
# straight to rung 1; JOBS=1 vs JOBS=2 and SIGKILL + resume give identical
# policy.h5 and history.tsv; bad SHA settings refused; a tiny fidelity study.
. "$(dirname "$0")/lib.sh"

small_data "$tmp/d.h5" --valid 100 --train-subset 200
run=$tmp/run
sha() {
	make --no-print-directory -s search RUN="$run" DATA="$tmp/d.h5" ROUNDS=1 CHILDREN=9 \
		SCHEDULE=sha ETA=3 RUNGS=2 CHILD_F=4 CHILD_TRAIN_IMAGES=96 CHILD_BATCH=16 \
		CHILD_EPOCHS=3 SEED=5 "$@"
}

sha JOBS=2 >"$tmp/ref.out" 2>&1; rc=$?
t "a tiny SHA search runs end to end" '[ $rc = 0 ]' || sed 's/^/# /' "$tmp/ref.out"
col() { bin/nas-history --no-header --fields "$1" "${@:2}"; }
t "history.tsv: 9 children" '[ "$(tail -n +2 "$run/history.tsv" | wc -l)" = 9 ]'
rung1=$(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } $c["rung"] == 1' "$run/history.tsv" | wc -l)
t "3 of them measured at rung 1 (ceil(9/3))" '[ "$rung1" = 3 ]'
t "rung-1 rows record the top budget (3 epochs), rung-0 rows a third" \
	'awk -F"\t" "NR == 1 { for (i = 1; i <= NF; i++) c[\$i] = i; next }
		\$c[\"rung\"] == 1 && \$c[\"epochs\"] != 3 || \$c[\"rung\"] == 0 && \$c[\"epochs\"] != 1 { exit 1 }" "$run/history.tsv"'
d=$run/round-000
t "rung-1 list: the 3 best rung-0 rewards (ties by index)" \
	'[ "$(for a in $(cat "$d/archs.list"); do printf "%s\t%s\n" "$(col reward,index "${a%.h5}.r0.reward.h5")" "$a"; done |
		sort -t"	" -k1,1gr -k2,2n | head -3 | cut -f3 | sort)" = "$(sort "$d/rung-1.list")" ]'
p=$(head -n 1 "$d/rung-1.list")
steps() { h5dump -a /"$2" "$1" | awk '/\(0\)/ { print $2 }'; }
t "the promoted child's rung 1 continued from rung 0: 6 steps of 18 on top of 6" \
	'[ "$(steps "${p%.h5}.r0.stats.h5" steps)" = 6 ] && [ "$(steps "${p%.h5}.r1.stats.h5" steps)" = 18 ] &&
	 [ "$(steps "${p%.h5}.r1.stats.h5" rung_images)" = $((12 * 16)) ]'
t "every child of the round kept its rung-0 state, promoted children their rung-1 weights" \
	'for a in $(cat "$d/archs.list"); do [ -s "${a%.h5}.r0.state.h5" ] || exit 1; done &&
	 for a in $(cat "$d/rung-1.list"); do [ -s "${a%.h5}.r1.weights.h5" ] || exit 1; done'
if command -v gnuplot >/dev/null && command -v dot >/dev/null; then
	make --no-print-directory -s report RUN="$run" >"$tmp/report.out" 2>&1; rc=$?
	t "make report draws a SHA run, rungs marked" \
		'[ $rc = 0 ] && [ -s "$run/report/children.png" ] && grep -q "rung" "$run/report/report.md"' ||
		sed 's/^/# /' "$tmp/report.out"
fi
# the same child trained straight to rung 1 in another folder: same weights
mkdir -p "$tmp/straight"
cp "$p" "$tmp/straight/"
b=$(basename "$p")
(cd "$tmp/straight" && "$OLDPWD/bin/train-child" --quiet --rung 1 "$b") ; rc=$?
t "straight to rung 1: exit 0" '[ $rc = 0 ]'
h5diff_data() { h5diff "$1" "$2" /params /params >/dev/null && h5diff "$1" "$2" /buffers /buffers >/dev/null; }
t "a promoted child ends with the weights of one trained straight to its rung" \
	'h5diff_data "${p%.h5}.r1.weights.h5" "$tmp/straight/${b%.h5}.r1.weights.h5"'
mv "$run" "$tmp/ref"

sha JOBS=1 >/dev/null 2>&1
t "JOBS=1 and JOBS=2: identical policy.h5 and history.tsv" \
	'cmp -s "$run/policy.h5" "$tmp/ref/policy.h5" && cmp -s "$run/history.tsv" "$tmp/ref/history.tsv"'
rm -rf "$run"

kills=0
for delay in 1.2 2.9 4.6; do
	setsid bash -c 'make --no-print-directory -s search RUN="$1" DATA="$2" ROUNDS=1 CHILDREN=9 \
		SCHEDULE=sha ETA=3 RUNGS=2 CHILD_F=4 CHILD_TRAIN_IMAGES=96 CHILD_BATCH=16 \
		CHILD_EPOCHS=3 SEED=5 JOBS=2 >/dev/null 2>&1' _ "$run" "$tmp/d.h5" &
	leader=$!
	sleep "$delay"
	if kill -0 $leader 2>/dev/null; then
		sid=$(ps -o sid= -p $leader | tr -d ' ')
		pkill -KILL -s "$sid"; kills=$((kills + 1))
		for w in $(seq 100); do pkill -KILL -s "$sid" || break; sleep 0.05; done
	fi
	wait $leader 2>/dev/null
done
sha JOBS=2 >"$tmp/resume.out" 2>&1; rc=$?
t "SHA search resumed after $kills SIGKILLs" '[ $rc = 0 ] && [ $kills -ge 1 ]' || sed 's/^/# /' "$tmp/resume.out"
t "resumed SHA search: policy.h5 and history.tsv byte-identical" \
	'cmp -s "$run/policy.h5" "$tmp/ref/policy.h5" && cmp -s "$run/history.tsv" "$tmp/ref/history.tsv"'
t "no temporary files left" 'no_tmp "$run"'

# bad settings: one line naming the variable, nothing recorded
for bad in "ETA=1" "RUNGS=0" "CHILDREN=8" "ETA=x" "SCHEDULE=hyperband"; do
	rm -rf "$tmp/bad"
	make --no-print-directory -s search RUN="$tmp/bad" DATA="$tmp/d.h5" SCHEDULE=sha ETA=3 RUNGS=3 \
		CHILDREN=9 $bad >"$tmp/out" 2>"$tmp/err"; rc=$?
	var=${bad%%=*}
	t "$bad refused, naming $var, nothing written" \
		'[ $rc != 0 ] && grep -q "$var" "$tmp/err" && [ ! -e "$tmp/bad/settings" ]' || sed 's/^/# /' "$tmp/err"
done

# a tiny fidelity study
make --no-print-directory -s fidelity RUN="$tmp/fid" DATA="$tmp/d.h5" FID_CELLS=4 FID_SEEDS=2 \
	CHILD_F=4 CHILD_TRAIN_IMAGES=96 CHILD_BATCH=16 CHILD_EPOCHS=3 ETA=3 RUNGS=2 HI_N=1 HI_F=4 \
	HI_EPOCHS=1 HI_TRAIN_IMAGES=160 JOBS=2 >"$tmp/fid.out" 2>&1; rc=$?
t "make fidelity runs" '[ $rc = 0 ]' || sed 's/^/# /' "$tmp/fid.out"
t "fidelity: one line per budget (plain, rung 0, rung 1)" \
	'[ "$(grep -c "^fidelity: budget [0-9.]* cells 4 kendall " "$tmp/fid.out")" = 3 ]'
t "fidelity.tsv: 4 cells, hi and 2 seeds per budget" \
	'[ "$(wc -l <"$tmp/fid/fidelity.tsv")" = 5 ] && head -1 "$tmp/fid/fidelity.tsv" | grep -q "plain:3:s2.*r0:1:s1.*r1:3:s2"'
# one cosine over the top budget: the top rung ends where a plain child ends
t "every cell's top rung ends with the plain child's weights (same seed)" \
	'for w in "$tmp"/fid/plain-s1/arch_*.weights.h5; do b=$(basename "${w%.weights.h5}")
		h5diff_data "$w" "$tmp/fid/sha-s1/$b.r1.weights.h5" || exit 1; done'
cp "$tmp/fid/fidelity.tsv" "$tmp/fid1.tsv"
make --no-print-directory -s fidelity RUN="$tmp/fid" DATA="$tmp/d.h5" FID_CELLS=4 FID_SEEDS=2 \
	CHILD_F=4 CHILD_TRAIN_IMAGES=96 CHILD_BATCH=16 CHILD_EPOCHS=3 ETA=3 RUNGS=2 HI_N=1 HI_F=4 \
	HI_EPOCHS=1 HI_TRAIN_IMAGES=160 JOBS=2 >/dev/null 2>&1
t "a second call changes nothing (resumable)" 'cmp -s "$tmp/fid/fidelity.tsv" "$tmp/fid1.tsv"'
make --no-print-directory -s fidelity RUN="$tmp/fid" DATA="$tmp/d.h5" FID_CELLS=5 >/dev/null 2>"$tmp/err"; rc=$?
t "changed settings refused" '[ $rc != 0 ] && grep -q FID_CELLS "$tmp/err"'
make --no-print-directory -s fidelity RUN="$tmp/fid2" DATA="$tmp/d.h5" FID_CELLS=2 >/dev/null 2>"$tmp/err"; rc=$?
t "FID_CELLS < 3 refused in one line" '[ $rc != 0 ] && grep -q "FID_CELLS=2" "$tmp/err" && [ ! -e "$tmp/fid2/settings" ]'
finish
