#!/usr/bin/env bash
# experiment.sh run|report - `make experiment` (variables: pipelines/experiment.mk).
#
# run:    checks every variable (one line naming it, exit 2, nothing started), takes
#         EXP/.lock, records or compares EXP/settings, runs the searches (GNU parallel,
#         EXP_JOBS at a time, each `make search ... BUDGET=`), writes the report, runs
#         the transfers, writes the report again with the transfer table.
# report: EXP/report.md and EXP/topk.png from whatever is finished.
# transfer-one OUTDIR GENOTYPE N F: one transfer (GNU parallel's job in `run`).
#
# Layout of EXP (schemas/run.md, "Experiment folder"):
#   settings, .lock
#   <strategy>-<schedule>-s<seed>/   one search run folder each
#   cells/                           genotype texts: the best cell of each search, random-K
#   transfer/<pick>-n<N>-f<F>/       one `transfer --out` folder per trained network
#   transfer.tsv, transfer.md        the transfer table (train_seconds: the only wall time)
#   curves.tsv                       the plotted numbers; report.md, topk.png
# Every file is written under a temporary name and renamed, so SIGKILL at any moment
# leaves whole files, and the same command continues (searches and transfers resume
# from their own checkpoints).
# Exit status: 0 done, 1 a search failed or was stopped, or the report failed (the same
# command resumes), 2 bad variable or settings changed, 3 no dataset, 75 a transfer
# stopped after a checkpoint (run again).
set -eu -o pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
bin=${NASNET_BIN:-bin}
step=${1:-run}

die() { # die STATUS MESSAGE
	echo "experiment: $2" >&2
	exit "$1"
}
# atomic write of stdin to $1
commit() { local tmp; tmp=$(dirname "$1")/.$(basename "$1").tmp.$$; cat >"$tmp"; mv "$tmp" "$1"; }
posint() { case $1 in '' | *[!0-9]* | 0*) return 1 ;; esac; }
natint() { case $1 in '' | *[!0-9]*) return 1 ;; 0) return 0 ;; 0*) return 1 ;; esac; }

# `make experiment-report EXP=...` reports with the experiment's own settings
if [ "$step" = report ] && [ -f "${EXP:-runs/experiment}/settings" ]; then
	while IFS= read -r kv; do
		case ${kv%%=*} in STRATEGIES | SCHEDULES | SEEDS | BUDGET | SPACE | DATA | CHILDREN | ETA | RUNGS | RANDOM_CELLS | TRANSFER_*)
			printf -v "${kv%%=*}" '%s' "${kv#*=}" ;;
		esac
	done <"${EXP:-runs/experiment}/settings"
fi

# ---- variables (the defaults are pipelines/experiment.mk's; here for direct calls) ----
EXP=${EXP:-runs/experiment}
EXP=${EXP%/}
STRATEGIES=$(echo ${STRATEGIES-ppo random evolution})
SCHEDULES=$(echo ${SCHEDULES-none sha})
SEEDS=$(echo ${SEEDS-1 2 3})
BUDGET=${BUDGET:-400000}
EXP_JOBS=${EXP_JOBS:-1}
EXP_ROUNDS=${EXP_ROUNDS:-200}
RANDOM_CELLS=${RANDOM_CELLS-2}
TRANSFER_N=${TRANSFER_N:-2}
TRANSFER_F=${TRANSFER_F:-16}
TRANSFER_EPOCHS=${TRANSFER_EPOCHS:-}
TRANSFER_STEPS=${TRANSFER_STEPS:-}
TRANSFER_IMAGES=${TRANSFER_IMAGES:-}
TRANSFER_SEED=${TRANSFER_SEED:-1}
TRANSFER_FLAGS=${TRANSFER_FLAGS:-}
SPACE=${SPACE:-nasnet}
DATA=${DATA:-data/fashion-mnist.h5}
export BUDGET

case $EXP in *[!A-Za-z0-9._/+-]* | '')
	die 2 "EXP='$EXP': use only letters, digits and . _ / + - in the experiment folder name" ;;
esac
[ -n "$STRATEGIES" ] || die 2 "STRATEGIES is empty: name at least one of ppo reinforce random evolution"
for s in $STRATEGIES; do
	case $s in ppo | reinforce | random | evolution) ;;
	*) die 2 "STRATEGIES: unknown strategy '$s' (expected ppo, reinforce, random or evolution)" ;; esac
done
[ -n "$SCHEDULES" ] || die 2 "SCHEDULES is empty: name at least one of none sha"
for s in $SCHEDULES; do
	case $s in none | sha) ;; *) die 2 "SCHEDULES: unknown schedule '$s' (expected none or sha)" ;; esac
done
[ -n "$SEEDS" ] || die 2 "SEEDS is empty: give at least one seed"
for s in $SEEDS; do natint "$s" || die 2 "SEEDS: '$s' is not a non-negative integer"; done
for v in STRATEGIES SCHEDULES SEEDS; do
	[ "$(printf '%s\n' ${!v} | sort | uniq -d)" = "" ] || die 2 "$v='${!v}': a name is repeated"
done
posint "$BUDGET" || die 2 "BUDGET='$BUDGET': expected a positive number of training images"
posint "$EXP_JOBS" || die 2 "EXP_JOBS='$EXP_JOBS': expected a positive integer"
posint "$EXP_ROUNDS" || die 2 "ROUNDS='$EXP_ROUNDS': expected a positive integer (the cap of each search)"
natint "$RANDOM_CELLS" || die 2 "RANDOM_CELLS='$RANDOM_CELLS': expected a non-negative integer"
posint "$TRANSFER_N" || die 2 "TRANSFER_N='$TRANSFER_N': expected a positive integer"
posint "$TRANSFER_F" || die 2 "TRANSFER_F='$TRANSFER_F': expected a positive integer"
for v in TRANSFER_EPOCHS TRANSFER_STEPS TRANSFER_IMAGES; do
	[ -z "${!v}" ] || posint "${!v}" || die 2 "$v='${!v}': expected a positive integer or nothing (transfer's default)"
done
natint "$TRANSFER_SEED" || die 2 "TRANSFER_SEED='$TRANSFER_SEED': expected a non-negative integer"
[ -z "$TRANSFER_EPOCHS" ] || [ -z "$TRANSFER_STEPS" ] || die 2 "TRANSFER_EPOCHS and TRANSFER_STEPS: give one of them"
case " $SCHEDULES " in *" sha "*)
	# make search refuses this too, but only once the none searches may have started
	eta=${ETA:-3} rungs=${RUNGS:-3} need=1
	posint "$eta" && posint "$rungs" || die 2 "ETA='$eta', RUNGS='$rungs': expected positive integers"
	posint "${CHILDREN:-8}" || die 2 "CHILDREN='$CHILDREN': expected a positive integer"
	for ((k = 1; k < rungs; k++)); do need=$((need * eta)); done
	[ "${CHILDREN:-8}" -ge "$need" ] ||
		die 2 "CHILDREN=${CHILDREN:-8}: SCHEDULES has sha, which needs at least ETA^(RUNGS-1) = $need children a round" ;;
esac
[ "$SPACE" != nb201 ] || die 2 "SPACE=nb201: the experiment trains and transfers cells; use nasnet or enas"
[ -f "$DATA" ] || die 3 "DATA: $DATA: no such dataset file"

# searches in a fixed order: strategy, schedule, seed
searches() {
	local s c d
	for s in $STRATEGIES; do for c in $SCHEDULES; do for d in $SEEDS; do
		echo "$s $c $d"
	done; done; done
}
search_name() { echo "$1-$2-s$3"; }

# recipe flags of every transfer (the size comes per network)
transfer_flags=(--quiet --data "$DATA" --seed "$TRANSFER_SEED")
[ -z "$TRANSFER_EPOCHS" ] || transfer_flags+=(--epochs "$TRANSFER_EPOCHS")
[ -z "$TRANSFER_STEPS" ] || transfer_flags+=(--steps "$TRANSFER_STEPS")
[ -z "$TRANSFER_IMAGES" ] || transfer_flags+=(--train-images "$TRANSFER_IMAGES")
# shellcheck disable=SC2206
transfer_flags+=($TRANSFER_FLAGS)
transfer_threads=$(($(nproc) / EXP_JOBS))
[ "$transfer_threads" -ge 1 ] || transfer_threads=1

# transfer-one OUTDIR GENOTYPE N F: exit 0 with OUTDIR/results.csv (also for a diverged
# network: its row says so), 75 stopped after a checkpoint, else OUTDIR.failed holds the reason
transfer_one() {
	local out=$1 geno=$2 cells=$3 filters=$4 rc=0 why
	[ -f "$out/results.csv" ] && return 0
	rm -f "$out.failed"
	"$bin/transfer" "${transfer_flags[@]}" --threads "$transfer_threads" --genotype "$geno" \
		--cells "$cells" --filters "$filters" --out "$out" >"$out.log" 2>&1 || rc=$?
	case $rc in
	0 | 4) [ -f "$out/results.csv" ] && return 0
		why="transfer wrote no results.csv" ;;
	75) return 75 ;;
	# a stop signal before transfer's handler was in place: a stop, not a failure
	129 | 130 | 138 | 143) return 75 ;;
	*) if [ "$rc" -gt 128 ]; then why="transfer killed by signal $((rc - 128))"; else why="transfer exited with status $rc"; fi
		why="$why: $(grep -v '^$' "$out.log" | tail -n 1 | tr '\t' ' ')" ;;
	esac
	# the log named relative to EXP, so that the table does not depend on where EXP is
	printf '%s (log: %s)\n' "$why" "${out#"$EXP"/}.log" | commit "$out.failed"
	echo "experiment: $(basename "$out"): $why" >&2
	return 0
}

if [ "$step" = transfer-one ]; then
	transfer_one "$2" "$3" "$4" "$5"
	exit
fi

# ---- report ----
# curves of one search: round images cpu_seconds children top1 top5 top25 (NaN: fewer than k children)
search_curve() {
	local run=$1 r dir spent=0 cpu=0 line
	[ -f "$run/history.tsv" ] || return 0
	# one reward per child: under successive halving, the one of its highest rung
	awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		{ k = $c["round"] " " $c["index"]; g = ("rung" in c) ? $c["rung"] + 0 : 0
		  if (!(k in rung) || g >= rung[k]) { rung[k] = g; rw[k] = $c["reward"] } }
		END { for (k in rw) print k, rw[k] }' "$run/history.tsv" >"$tmpd/rewards"
	# counted up from round-000: round-1000 and on too (no fixed-width glob)
	for ((r = 0; ; r++)); do
		printf -v dir '%s/round-%03d' "$run" "$r"
		[ -d "$dir" ] || break
		[ -f "$dir/compute.tsv" ] || continue
		read -r spent cpu < <(awk -F'\t' -v s="$spent" -v c="$cpu" 'NR == 2 { printf "%.0f %.3f\n", s + $1, c + $2 }' "$dir/compute.tsv")
		line=$(awk -v r="$r" '$1 <= r { print $3 }' "$tmpd/rewards" | sort -gr |
			awk '{ n++; s += $1; if (n == 1) t1 = s; if (n == 5) t5 = s / 5; if (n == 25) t25 = s / 25 }
				END { printf "%d %s %s %s", n, (n >= 1 ? sprintf("%.6f", t1) : "NaN"),
					(n >= 5 ? sprintf("%.6f", t5) : "NaN"), (n >= 25 ? sprintf("%.6f", t25) : "NaN") }')
		echo "$r $spent $cpu $line"
	done
}

# mean and standard error across seeds, per round: the curves of a strategy x schedule
group_curve() { # files... -> round images cpu_hours seeds top1 se1 top5 se5 top25 se25
	cat "$@" | sort -k1,1n -s | awk '
		function flush() { if (!started) return
			printf "%d %.0f %.6f %d", nr, si / n, sc / n / 3600, n
			for (j = 5; j <= 7; j++) {
				if (m[j] < n) { printf " NaN NaN"; continue }
				mu = s[j] / n; v = (n > 1) ? (q[j] - n * mu * mu) / (n - 1) : 0
				printf " %.6f %.6f", mu, (v > 0 ? sqrt(v / n) : 0) }
			printf "\n" }
		!started || $1 != nr { flush(); started = 1; nr = $1; n = si = sc = 0; for (j = 5; j <= 7; j++) s[j] = q[j] = m[j] = 0 }
		{ n++; si += $2; sc += $3
		  for (j = 5; j <= 7; j++) if ($j != "NaN") { s[j] += $j; q[j] += $j * $j; m[j]++ } }
		END { flush() }'
}

human() { # 1234567 -> 1.23M
	awk -v x="$1" 'BEGIN { if (x >= 1e9) printf "%.2fG", x / 1e9; else if (x >= 1e6) printf "%.2fM", x / 1e6;
		else if (x >= 1e3) printf "%.1fk", x / 1e3; else printf "%d", x }'
}
gpstr() { local v=${1//\\/\\\\}; printf '%s' "${v//\"/\\\"}"; }

write_report() {
	local s c d name run ng=0 gp rounds nchild best cpu images stop
	command -v gnuplot >/dev/null || die 1 "gnuplot not found (install gnuplot-nox)"
	tmpd=$(mktemp -d "$EXP/.report.tmp.XXXXXX")
	trap 'rm -rf "$tmpd"' EXIT
	gp=$tmpd/curves.gp
	: >"$tmpd/table"
	printf 'group\tround\timages\tcpu_hours\tseeds\ttop1\ttop1_se\ttop5\ttop5_se\ttop25\ttop25_se\n' >"$tmpd/curves.tsv"
	for s in $STRATEGIES; do for c in $SCHEDULES; do
		local files=()
		for d in $SEEDS; do
			name=$(search_name "$s" "$c" "$d") run=$EXP/$name
			search_curve "$run" >"$tmpd/$name.curve"
			[ -s "$tmpd/$name.curve" ] || continue
			files+=("$tmpd/$name.curve")
			read -r rounds images cpu nchild best < <(awk 'END { print $1 + 1, $2, $3, $4, $5 }' "$tmpd/$name.curve")
			stop="ROUNDS cap"
			[ "$images" -lt "$BUDGET" ] || stop=budget
			flock -n "$run/.lock" true 2>/dev/null || stop=running
			[ "$stop" != "ROUNDS cap" ] || [ "$rounds" -ge "$EXP_ROUNDS" ] || stop="not finished"
			printf '| `%s` | %s | %s | %s | %d | %d | %s | %.3f | %s | %s |\n' "$name" "$s" "$c" "$d" \
				"$rounds" "$nchild" "$(human "$images")" "$(awk -v c="$cpu" 'BEGIN { print c / 3600 }')" \
				"$stop" "$best" >>"$tmpd/table"
		done
		[ ${#files[@]} -gt 0 ] || continue
		ng=$((ng + 1))
		group_curve "${files[@]}" >"$tmpd/g$ng.dat"
		awk -v g="$s-$c" '{ $1 = g "\t" $1; gsub(/ /, "\t"); print }' "$tmpd/g$ng.dat" >>"$tmpd/curves.tsv"
		printf 'D[%d] = "%s"\nT[%d] = "%s"\n' "$ng" "$(gpstr "$tmpd/g$ng.dat")" "$ng" \
			"$(gpstr "$s, schedule $c (${#files[@]} seed$([ ${#files[@]} = 1 ] || echo s))")" >>"$tmpd/groups.gp"
	done; done
	if [ "$ng" -gt 0 ]; then
		# CPU hours per image over every search: the scale of the second axis
		local rate
		rate=$(for f in "$tmpd"/*.curve; do tail -n 1 "$f"; done |
			awk '{ ti += $2; tc += $3 } END { printf "%.12g", (ti > 0 ? tc / 3600 / ti : 0) }')
		{
			printf 'outfile = "%s"\nng = %d\nrate = %s\nbudget = %s\narray D[%d]\narray T[%d]\n' \
				"$(gpstr "$tmpd/topk.png")" "$ng" "$rate" "$BUDGET" "$ng" "$ng"
			cat "$tmpd/groups.gp"
		} >"$gp"
		gnuplot "$gp" pipelines/experiment.gp 2>"$tmpd/gnuplot.err" ||
			die 1 "gnuplot failed: $(head -n 3 "$tmpd/gnuplot.err" | tr '\n' ' ')"
		[ -s "$tmpd/topk.png" ] || die 1 "gnuplot wrote no topk.png"
	fi
	{
		echo "# Experiment report"
		echo
		echo "Folder \`$EXP\`: strategies $STRATEGIES; schedules $SCHEDULES; seeds $SEEDS;"
		echo "each search stopped after the first round whose children had processed $BUDGET"
		echo "training images (summed over every child and rung, from their stats files), at most"
		echo "$EXP_ROUNDS rounds. CPU hours: training seconds x threads of every child, from their stats"
		echo "files (scoring excluded; training seconds are wall time, so a child that waited for a"
		echo "busy core counts its wait too)."
		echo
		echo "Settings: $(grep -v '^SOURCE_DATE_EPOCH=' "$EXP/settings" | tr '\n' ' ' | sed 's/ $//')"
		echo
		echo "## Searches"
		echo
		echo "| search | strategy | schedule | seed | rounds | children | training images | CPU hours | stopped by | best reward |"
		echo "|---|---|---|---:|---:|---:|---:|---:|---|---:|"
		cat "$tmpd/table"
		echo
		if [ "$ng" -gt 0 ]; then
			echo "## Top-k rewards against compute"
			echo
			echo "Mean of the top-1 (solid), top-5 (dashed) and top-25 (dotted) rewards among the children"
			echo "evaluated so far, after each round, against the training images processed so far; the"
			echo "upper axis converts images to CPU hours at the experiment's mean rate. Several seeds: the"
			echo "lines are their mean (at each round index) and the bands one standard error. Numbers: curves.tsv."
			echo
			echo "![top-k rewards against training images](topk.png)"
			echo
		fi
		echo "## Transfer"
		echo
		if [ -f "$EXP/transfer.md" ]; then
			cat "$EXP/transfer.md"
		else
			echo "Not done yet: \`make experiment\` transfers the cells once every search has stopped."
		fi
	} >"$tmpd/report.md"
	mv -f "$tmpd/curves.tsv" "$EXP/curves.tsv"
	[ ! -f "$tmpd/topk.png" ] || mv -f "$tmpd/topk.png" "$EXP/topk.png"
	mv -f "$tmpd/report.md" "$EXP/report.md"
	rm -rf "$tmpd"
	trap - EXIT
}

if [ "$step" = report ]; then
	[ -f "$EXP/settings" ] || die 3 "$EXP: not an experiment folder (no settings file)"
	write_report
	echo "$EXP/report.md"
	exit 0
fi
[ "$step" = run ] || die 2 "usage: experiment.sh run|report"

# ---- run: lock and settings (like search.sh) ----
mkdir -p "$EXP"
exec 8>"$EXP/.lock"
flock -n 8 || die 1 "$EXP is in use by another make experiment (lock $EXP/.lock); wait for it or stop it"
# the child settings and their defaults: lib/arch/childcfg.c's table, as in search.sh
child_settings=$("$bin/sample-arch" --list-settings)
child_vars=()
while IFS=$'\t' read -r name _ default; do
	[ -n "${!name:-}" ] || export "$name=$default"
	child_vars+=("$name")
done <<<"$child_settings"
settings_vars=(STRATEGIES SCHEDULES SEEDS BUDGET SPACE DATA CHILDREN "${child_vars[@]}" RANDOM_CELLS
	TRANSFER_N TRANSFER_F TRANSFER_EPOCHS TRANSFER_STEPS TRANSFER_IMAGES TRANSFER_SEED TRANSFER_FLAGS)
# the successive-halving settings (make search exports them)
for v in ETA RUNGS; do [ -z "${!v+x}" ] || settings_vars+=("$v"); done
want=$(for v in "${settings_vars[@]}"; do printf '%s=%s\n' "$v" "${!v-}"; done)
settings=$EXP/settings
if [ -f "$settings" ]; then
	# sorted: the order of the lines does not matter
	diff=$(diff <(grep -v '^SOURCE_DATE_EPOCH=' "$settings" | sort) <(printf '%s\n' "$want" | sort) |
		sed -n 's/^[<>] \([A-Z_]*\)=.*/\1/p' | sort -u | tr '\n' ' ') || true
	[ -z "$diff" ] || die 2 "$EXP was started with other settings: ${diff% } (see $settings; use another EXP=)"
else
	{ printf '%s\n' "$want"; echo "SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(date +%s)}"; } | commit "$settings"
fi
# every search of the experiment records the experiment's start as its provenance time
SOURCE_DATE_EPOCH=$(sed -n 's/^SOURCE_DATE_EPOCH=//p' "$settings")
export SOURCE_DATE_EPOCH
# what a killed experiment left half-written (the searches sweep their own folders)
find "$EXP" -maxdepth 1 -name '.*.tmp.*' -prune -exec rm -rf {} +
find "$EXP/cells" "$EXP/transfer" -name '.*.tmp.*' -prune -exec rm -rf {} + 2>/dev/null || true

# ---- searches ----
# the searches read their settings from the environment (search.mk exports them), not
# from the command line of `make experiment`
unset MAKEFLAGS MFLAGS MAKELEVEL
nsearch=$(searches | wc -l)
echo "experiment: $EXP: $nsearch searches ($STRATEGIES x $SCHEDULES x seeds $SEEDS) of $BUDGET training images each, $EXP_JOBS at a time" >&2
rc=0
# 8>&-: the searches must not hold the experiment's lock (see round.sh on fd 9)
searches | parallel --jobs "$EXP_JOBS" --halt now,fail=1 --line-buffer --colsep ' ' \
	--tagstring '{1}-{2}-s{3}' make --no-print-directory -s search RUN="$EXP/{1}-{2}-s{3}" \
	STRATEGY='{1}' SCHEDULE='{2}' SEED='{3}' BUDGET="$BUDGET" ROUNDS="$EXP_ROUNDS" 8>&- || rc=$?
if [ "$rc" != 0 ]; then
	echo "experiment: a search failed or was stopped (see its lines above); the same command resumes" >&2
	exit 1
fi
write_report
echo "experiment: searches done; $EXP/report.md" >&2

# ---- transfers ----
mkdir -p "$EXP/cells" "$EXP/transfer"
# picks: name kind source genotype search_reward
picks=()
for line in $(searches | tr ' ' ,); do
	IFS=, read -r s c d <<<"$line"
	name=$(search_name "$s" "$c" "$d")
	# best successful child; ties broken by (round, index) as transfer --top does
	best=$(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$c["status"] == "ok" { printf "%s\t%d\t%d\t%s\n", $c["reward"], $c["round"], $c["index"], $c["genotype"] }' \
		"$EXP/$name/history.tsv" | sort -t$'\t' -s -k1,1gr -k2,2n -k3,3n | awk 'NR == 1')
	if [ -z "$best" ]; then
		picks+=("$name	searched	$name	-	-")
		continue
	fi
	[ -f "$EXP/cells/$name.txt" ] || cut -f4 <<<"$best" | commit "$EXP/cells/$name.txt"
	picks+=("$name	searched	$name	$EXP/cells/$name.txt	$(cut -f1 <<<"$best")")
done
picks+=("nasnet-a	reference	NASNet-A (Zoph et al. 2018)	nasnet-a	-")
if [ "$RANDOM_CELLS" -gt 0 ]; then
	# round 1000: drawn from a stream that no search of fewer rounds uses, so a random
	# cell is not also a random search's child
	if [ ! -f "$EXP/cells/random-$RANDOM_CELLS.txt" ]; then
		rdir=$EXP/cells/.random.tmp.$$
		mkdir -p "$rdir"
		"$bin/sample-arch" --quiet --strategy random --space "$SPACE" --seed "$TRANSFER_SEED" --round 1000 \
			--count "$RANDOM_CELLS" --data "$DATA" --out "$rdir" >/dev/null
		for ((k = 1; k <= RANDOM_CELLS; k++)); do
			"$bin/show-genotype" "$rdir/arch_$(printf %04d $((k - 1))).h5" | commit "$EXP/cells/random-$k.txt"
		done
		rm -rf "$rdir"
	fi
	for ((k = 1; k <= RANDOM_CELLS; k++)); do
		picks+=("random-$k	random	uniform random cell $k (seed $TRANSFER_SEED, round 1000)	$EXP/cells/random-$k.txt	-")
	done
fi

# size: params and MACs of a cell at N, F on this dataset's input (build-net, no training)
read -r in_c in_h in_w classes < <(h5dump -a /channels -a /height -a /width -a /num_classes "$DATA" |
	awk '/^ *\(0\):/ { printf "%s ", $2 } END { print "" }')
size() { # GENOTYPE N F -> "params mult_adds"
	local out
	out=$("$bin/build-net" --quiet --genotype "$1" --cells "$2" --filters "$3" --input "${in_c}x${in_h}x${in_w}" \
		--classes "$classes" 2>&1) || die 1 "build-net failed on $1 at N=$2 F=$3: $(tail -n 1 <<<"$out")"
	awk '/^params:/ { p = $2 } /^mult_adds:/ { m = $2 } END { print p, m }' <<<"$out"
}
read -r target _ < <(size nasnet-a "$TRANSFER_N" "$TRANSFER_F")
# the filter count whose parameter count is closest to target (params grow with F); ties: fewer filters
matched_f() { # GENOTYPE -> F
	local lo=1 hi=$((8 * TRANSFER_F)) mid p q
	while [ "$lo" -lt "$hi" ]; do # smallest F with params >= target
		mid=$(((lo + hi) / 2))
		read -r p _ < <(size "$1" "$TRANSFER_N" "$mid")
		if [ "$p" -ge "$target" ]; then hi=$mid; else lo=$((mid + 1)); fi
	done
	if [ "$lo" -gt 1 ]; then
		read -r p _ < <(size "$1" "$TRANSFER_N" "$lo")
		read -r q _ < <(size "$1" "$TRANSFER_N" $((lo - 1)))
		[ $((target - q)) -gt $((p - target)) ] || lo=$((lo - 1))
	fi
	echo "$lo"
}
# networks: outdir pick kind source genotype N F matched search_reward, in table order.
# A cell found by several searches (the same seed's first rounds under both schedules
# sample the same cells) is trained once: its rows share the first pick's folder.
declare -A first
: >"$EXP/transfer/.networks.tmp.$$"
for p in "${picks[@]}"; do
	IFS=$'\t' read -r name kind source geno reward <<<"$p"
	if [ "$geno" = - ]; then
		printf '%s\t%s\t%s\t%s\t-\t%s\t%s\tno\t-\n' "-" "$name" "$kind" "$source" "$TRANSFER_N" "$TRANSFER_F" \
			>>"$EXP/transfer/.networks.tmp.$$"
		continue
	fi
	cell=$(if [ -f "$geno" ]; then cat "$geno"; else echo "$geno"; fi)
	dir=$name
	if [ -n "${first[$cell]:-}" ]; then
		dir=${first[$cell]}
		source="$source (the cell of $dir)"
	else
		first[$cell]=$name
	fi
	mf=$EXP/transfer/$dir.matched-f
	if [ "$name" = nasnet-a ]; then
		echo "$TRANSFER_F" | commit "$mf"
	elif [ ! -s "$mf" ]; then
		matched_f "$geno" | commit "$mf"
	fi
	fm=$(cat "$mf")
	fs=("$TRANSFER_F")
	[ "$fm" = "$TRANSFER_F" ] || fs+=("$fm")
	for f in "${fs[@]}"; do
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$EXP/transfer/$dir-n$TRANSFER_N-f$f" "$name" "$kind" "$source" \
			"$geno" "$TRANSFER_N" "$f" "$([ "$f" = "$fm" ] && echo yes || echo no)" "$reward" >>"$EXP/transfer/.networks.tmp.$$"
	done
done
mv "$EXP/transfer/.networks.tmp.$$" "$EXP/transfer/networks.tsv"

ntr=$(awk -F'\t' '$1 != "-" && !seen[$1]++' "$EXP/transfer/networks.tsv" | wc -l)
echo "experiment: transferring $ntr networks ($EXP_JOBS at a time, $transfer_threads threads each)" >&2
rc=0
awk -F'\t' -v OFS='\t' '$1 != "-" && !seen[$1]++ { print $1, $5, $6, $7 }' "$EXP/transfer/networks.tsv" |
	parallel --jobs "$EXP_JOBS" --halt now,fail=1 --line-buffer --colsep '\t' \
		bash pipelines/experiment.sh transfer-one '{1}' '{2}' '{3}' '{4}' 8>&- || rc=$?
if [ "$rc" != 0 ]; then
	echo "experiment: a transfer was stopped (exit $rc); the same command resumes" >&2
	exit 75
fi

# ---- the transfer table ----
# one CSV row of transfer's results.csv -> tab-separated fields (only the quoted fields hold commas)
csv_row() {
	awk 'NR == 2 { out = ""; f = ""; q = 0
		for (i = 1; i <= length($0); i++) { ch = substr($0, i, 1)
			if (ch == "\"") q = !q
			else if (ch == "," && !q) { out = out f "\t"; f = "" }
			else f = f ch }
		print out f }' "$1"
}
{
	printf 'network\tkind\tsource\tcells\tfilters\tsize_matched\tparams\tmult_adds\ttest_accuracy\tsearch_reward\tstatus\ttrain_seconds\n'
	while IFS=$'\t' read -r out name kind source geno n f matched reward; do
		if [ "$out" = - ]; then
			printf '%s\t%s\t%s\t%s\t%s\t%s\t-\t-\t-\t-\tfailed: the search has no successful child\t-\n' \
				"$name" "$kind" "$source" "$n" "$f" "$matched"
		elif [ -f "$out/results.csv" ]; then
			# name genotype status data train_split eval_split cells filters penultimate params mult_adds
			# train_images test_images steps epochs train_seconds images_per_second test_accuracy ...
			csv_row "$out/results.csv" | awk -F'\t' -v OFS='\t' -v net="$name-n$n-f$f" -v k="$kind" -v s="$source" \
				-v m="$matched" -v r="$reward" '{ acc = ($3 == "ok") ? sprintf("%.4f", $18) : "-"
				   print net, k, s, $7, $8, m, $10, $11, acc, r, $3, sprintf("%.1f", $16) }'
		else
			read -r params macs < <(size "$geno" "$n" "$f")
			why=$(cat "$out.failed" 2>/dev/null || echo "no result")
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t-\t%s\tfailed: %s\t-\n' "$name-n$n-f$f" "$kind" "$source" "$n" "$f" \
				"$matched" "$params" "$macs" "$reward" "$why"
		fi
	done <"$EXP/transfer/networks.tsv"
} | commit "$EXP/transfer.tsv"
{
	echo "Each network trained by \`transfer\` with one recipe ($(printf '%s ' "${transfer_flags[@]}" | sed "s|--quiet ||; s| \$||"))"
	echo "on train+valid and evaluated once on the test split. Size-matched rows use the filter count"
	echo "whose parameter count is closest to NASNet-A's at N=$TRANSFER_N, F=$TRANSFER_F ($target parameters)."
	echo
	echo "| network | cell | N | F | size-matched | params | MACs | test acc (%) | search reward | train time | status |"
	echo "|---|---|---:|---:|---|---:|---:|---:|---:|---:|---|"
	tail -n +2 "$EXP/transfer.tsv" | while IFS=$'\t' read -r net kind source n f m params macs acc reward st secs; do
		[ "$params" = - ] || params=$(human "$params")
		[ "$macs" = - ] || macs=$(human "$macs")
		[ "$acc" = - ] || acc=$(awk -v a="$acc" 'BEGIN { printf "%.2f", 100 * a }')
		[ "$secs" = - ] || secs=$(awk -v s="$secs" 'BEGIN { printf "%dm%02ds", s / 60, s % 60 }')
		echo "| $net | $kind: $source | $n | $f | $m | $params | $macs | $acc | $reward | $secs | ${st//|/\\|} |"
	done
} | commit "$EXP/transfer.md"
write_report
echo "experiment: done; $EXP/report.md, $EXP/transfer.tsv" >&2
