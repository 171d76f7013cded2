#!/usr/bin/env bash
# fidelity.sh [job FILE] - `make fidelity` (variables from pipelines/fidelity.mk
# and search.mk). Layout of RUN (schemas/run.md, "Fidelity run"):
#   settings            the settings of the study (a later call must agree)
#   hi/arch_NNNN.h5     each cell at the high fidelity (HI_*)
#   plain-sK/...        each cell at the low fidelity (CHILD_*), training seed K
#   sha-sK/...          the same along the rung plan (rungs ARCH.rJ.*), seed K
#   jobs.list           the frozen list of genotype files to train
#   fidelity.tsv        cell, hi, NAME:EPOCHS:sK columns, genotype (lib/search/fidelity.h)
#   fidelity.txt        the `fidelity:` lines (nas-fidelity), fidelity.png the scatter
# Every cell i is the same architecture in every folder (sample-arch --strategy
# random, same --seed and round); only the recipe and training seed differ.
set -eu -o pipefail
cd "$(dirname "$0")/.."
bin=${NASNET_BIN:-bin}
export NASNET_BIN=$bin

if [ "${1:-}" = job ]; then
	# one cell of one folder: a sha-* cell climbs every rung in turn
	a=$2
	case $a in
	*/sha-s*/*) for ((k = 0; k < RUNGS; k++)); do bash pipelines/child.sh "$a" "$k"; done ;;
	*) bash pipelines/child.sh "$a" ;;
	esac
	exit
fi

die() { echo "fidelity: $*" >&2; exit 2; }
# the child settings' defaults are the table in lib/arch/childcfg.c, as for a search
while IFS=$'\t' read -r name _ default; do
	[ -n "${!name:-}" ] || export "$name=$default"
done < <("$bin/sample-arch" --list-settings)
case $RUN in '' | -* | *[!A-Za-z0-9._/+-]*)
	die "RUN='$RUN': use only letters, digits and . _ / + - in run folder names (not starting with -)" ;;
esac
for v in FID_CELLS FID_SEEDS HI_N HI_F HI_EPOCHS HI_TRAIN_IMAGES ETA RUNGS JOBS CHILD_EPOCHS; do
	case ${!v} in '' | *[!0-9]*) die "$v='${!v}': expected a non-negative integer" ;; esac
	printf -v "$v" '%d' "$((10#${!v}))"
done
[ "$FID_CELLS" -ge 3 ] || die "FID_CELLS=$FID_CELLS: rank fidelity needs at least 3 cells"
[ "$FID_SEEDS" -ge 1 ] && [ "$FID_SEEDS" -le 16 ] || die "FID_SEEDS=$FID_SEEDS: expected 1..16"
[ "$ETA" -ge 2 ] || die "ETA=$ETA: must be at least 2"
[ "$RUNGS" -ge 1 ] && [ "$RUNGS" -le 16 ] || die "RUNGS=$RUNGS: must be 1..16"
[ "$JOBS" -ge 1 ] || die "JOBS=$JOBS: must be at least 1"
[ "$SPACE" != nb201 ] || die "SPACE=nb201: the table has one fidelity; use a trained space"
[ -f "$DATA" ] || { echo "fidelity: $DATA: no such dataset file" >&2; exit 3; }
export ETA RUNGS

mkdir -p "$RUN"
exec 9>"$RUN/.lock"
flock -n 9 || { echo "fidelity: $RUN is in use by another make fidelity (lock $RUN/.lock)" >&2; exit 1; }
want=$(for v in $FIDELITY_SETTINGS; do printf '%s=%s\n' "$v" "${!v}"; done)
if [ -f "$RUN/settings" ]; then
	diff=$(diff <(grep -v '^SOURCE_DATE_EPOCH=' "$RUN/settings") <(printf '%s\n' "$want") |
		sed -n 's/^> \([A-Z_]*\)=.*/\1/p' | tr '\n' ' ') || true
	[ -z "$diff" ] || die "$RUN was started with other settings: $diff(see $RUN/settings; use another RUN=)"
else
	{ printf '%s\n' "$want"; echo "SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(date +%s)}"; } >"$RUN/.settings.tmp.$$"
	mv "$RUN/.settings.tmp.$$" "$RUN/settings"
fi
SOURCE_DATE_EPOCH=$(sed -n 's/^SOURCE_DATE_EPOCH=//p' "$RUN/settings")
export SOURCE_DATE_EPOCH
find "$RUN" -maxdepth 2 -name '.*.tmp.*' -type f -delete
commit() { local tmp; tmp=$(dirname "$1")/.$(basename "$1").tmp.$$; cat >"$tmp"; mv "$tmp" "$1"; }

lo=(--cells "$CHILD_N" --filters "$CHILD_F" --epochs "$CHILD_EPOCHS" --batch "$CHILD_BATCH"
	--lr "$CHILD_LR" --data "$DATA" --train-images "$CHILD_TRAIN_IMAGES")
hi=(--cells "$HI_N" --filters "$HI_F" --epochs "$HI_EPOCHS" --batch "$CHILD_BATCH"
	--lr "$CHILD_LR" --data "$DATA" --train-images "$HI_TRAIN_IMAGES")
draw() { # FOLDER FLAGS...: the FID_CELLS cells, with a recipe
	local d=$RUN/$1; shift
	mkdir -p "$d"
	"$bin/sample-arch" --quiet --strategy random --space "$SPACE" --seed "$SEED" --round 0 \
		--count "$FID_CELLS" --out "$d" "$@" >/dev/null
}
folders=(hi)
for ((s = 1; s <= FID_SEEDS; s++)); do
	folders+=("plain-s$s")
	[ "$RUNGS" -gt 1 ] && folders+=("sha-s$s")
done
if [ ! -f "$RUN/jobs.list" ]; then
	draw hi "${hi[@]}"
	for ((s = 1; s <= FID_SEEDS; s++)); do
		draw "plain-s$s" "${lo[@]}" --train-seed "$s"
		[ "$RUNGS" -gt 1 ] && draw "sha-s$s" "${lo[@]}" --train-seed "$s" --rungs "$RUNGS" --eta "$ETA"
	done
	# the expensive ones first, so that both cores finish together
	for f in "${folders[@]}"; do ls "$RUN/$f"/arch_[0-9]*.h5 | grep -E '/arch_[0-9]+\.h5$' | sort; done |
		commit "$RUN/jobs.list"
fi
n=$(wc -l <"$RUN/jobs.list")
echo "fidelity: $RUN: $FID_CELLS cells x (high fidelity + $FID_SEEDS seeds x low fidelity$([ "$RUNGS" -gt 1 ] && echo " and $RUNGS rungs")), $n jobs, $JOBS parallel" >&2
parallel --jobs "$JOBS" --joblog "+$RUN/joblog" --halt now,fail=1 --line-buffer \
	bash pipelines/fidelity.sh job {} :::: "$RUN/jobs.list" 9>&-

# the table: one row per cell
reward_of() { # REWARD.h5 -> reward (0 for a failed child: the proxy's verdict)
	"$bin/nas-history" --no-header --fields reward "$1"
}
epochs_of() { "$bin/nas-history" --no-header --fields epochs "$1"; }
first=$(head -n 1 "$RUN/jobs.list"); first=$(basename "$first")
header="cell\thi"
for ((s = 1; s <= FID_SEEDS; s++)); do header+="\tplain:$(epochs_of "$RUN/plain-s1/${first%.h5}.reward.h5"):s$s"; done
for ((k = 0; k < RUNGS && RUNGS > 1; k++)); do
	e=$(epochs_of "$RUN/sha-s1/${first%.h5}.r$k.reward.h5")
	for ((s = 1; s <= FID_SEEDS; s++)); do header+="\tr$k:$e:s$s"; done
done
header+="\tgenotype"
{
	printf "$header\n"
	grep '/hi/' "$RUN/jobs.list" | while read -r a; do
		b=$(basename "${a%.h5}")
		row="$b\t$(reward_of "$RUN/hi/$b.reward.h5")"
		for ((s = 1; s <= FID_SEEDS; s++)); do row+="\t$(reward_of "$RUN/plain-s$s/$b.reward.h5")"; done
		for ((k = 0; k < RUNGS && RUNGS > 1; k++)); do
			for ((s = 1; s <= FID_SEEDS; s++)); do
				f=$RUN/sha-s$s/$b.r$k.reward.h5
				if [ -f "$f" ]; then row+="\t$(reward_of "$f")"; else row+="\t-"; fi
			done
		done
		printf '%b\t%s\n' "$row" "$("$bin/nas-history" --no-header --fields genotype "$RUN/hi/$b.reward.h5")"
	done
} | commit "$RUN/fidelity.tsv"
"$bin/nas-fidelity" --seed "$SEED" "$RUN/fidelity.tsv" | commit "$RUN/fidelity.txt"
if command -v gnuplot >/dev/null; then
	# one scatter per budget: mean low-fidelity reward (x) against the high one (y)
	awk -F'\t' 'NR == 1 { for (i = 3; i <= NF; i++) { split($i, p, ":"); if (p[1] != "genotype") { g[i] = p[1] ":" p[2]; if (!(g[i] in seen)) { seen[g[i]] = ++nb; name[nb] = g[i] } } } next }
		{ for (i in g) { s[g[i]] += $i; c[g[i]]++ }
		  for (b = 1; b <= nb; b++) printf "%s %.6f %.6f\n", name[b], s[name[b]] / c[name[b]], $2
		  delete s; delete c }' "$RUN/fidelity.tsv" >"$RUN/.fidelity.dat.tmp.$$"
	budgets=$(cut -d' ' -f1 "$RUN/.fidelity.dat.tmp.$$" | awk '!seen[$0]++')
	plot=
	for b in $budgets; do
		plot+="${plot:+, }'< grep \"^$b \" $RUN/.fidelity.dat.tmp.$$' using 2:3 with points pt 7 title '$b'"
	done
	gnuplot -e "set terminal png size 800,600; set output '$RUN/.fidelity.png.tmp.$$';
		set xlabel 'low-fidelity reward (mean over seeds)'; set ylabel 'high-fidelity reward';
		set key left top; set grid; plot $plot" && mv "$RUN/.fidelity.png.tmp.$$" "$RUN/fidelity.png"
	rm -f "$RUN/.fidelity.dat.tmp.$$"
fi
cat "$RUN/fidelity.txt"
