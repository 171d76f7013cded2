#!/usr/bin/env bash
# t0700-transfer.sh - transfer end to end on a tiny dataset (320 training,
# 40 validation, 100 test images of Fashion-MNIST, or synthetic images when
# the Debian package is missing): NASNet-A at N=1 F=4 for a few steps
# produces the table (stdout, results.md/.csv/.h5); a transfer SIGKILLed after
# a checkpoint and run again ends with weights byte-identical to an
# uninterrupted run; --stop-after exits 75 and resumes; the top K of a run
# folder in reward order; a run folder with no finished child, --help and an
# unknown flag.
set -u
cd "$(dirname "$0")/.."
export SOURCE_DATE_EPOCH=1700000000
T=$(mktemp -d "${TMPDIR:-/tmp}/t0700.XXXXXX")
trap 'rm -rf "$T"' EXIT
B=$PWD/bin
PY=/usr/bin/python3
n=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else notok "$d"; fi; }

# fails CODE DESCRIPTION PATTERN CMD...: exit CODE and a stderr line matching PATTERN
fails() {
	local code=$1 desc=$2 pat=$3 rc; shift 3
	"$@" >"$T/stdout" 2>"$T/stderr"; rc=$?
	if [ "$rc" -eq "$code" ] && grep -qE "$pat" "$T/stderr"; then
		ok "$desc"
	else
		notok "$desc"
		echo "# exit $rc (want $code):"; sed 's/^/#   /' "$T/stderr" | head -5
	fi
}

check "transfer --help exits 0 with a usage text" bash -c "'$B/transfer' --help | grep -q '^usage: transfer'"
fails 2 "unknown flag exits 2" "unrecognized option" "$B/transfer" --no-such-flag
fails 2 "nothing to transfer exits 2" "give --run RUN or --genotype G" "$B/transfer"

# ---- a tiny dataset: small IDX files, imported ----
$PY - "$T" <<'EOF'
import gzip, os, random, struct, sys
t = sys.argv[1]
src = "/usr/share/datasets/fashion-mnist"
def idx_images(path, count):
    with gzip.open(path) as f:
        f.read(16)
        return f.read(count * 784)
def idx_labels(path, count):
    with gzip.open(path) as f:
        f.read(8)
        return f.read(count)
def synth(count, seed):
    r = random.Random(seed)
    img, lab = bytearray(), bytearray()
    for _ in range(count):
        k = r.randrange(10)
        lab.append(k)
        for y in range(28):
            for x in range(28):
                on = (y // 3) == k or (x // 3) == (9 - k)
                img.append(min(255, (200 if on else 20) + r.randrange(40)))
    return bytes(img), bytes(lab)
def write(name, count, img, lab):
    with open(os.path.join(t, name + "-images"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, count, 28, 28) + img)
    with open(os.path.join(t, name + "-labels"), "wb") as f:
        f.write(struct.pack(">II", 0x801, count) + lab)
if os.path.exists(src + "/train-images-idx3-ubyte.gz"):
    tr = (idx_images(src + "/train-images-idx3-ubyte.gz", 360), idx_labels(src + "/train-labels-idx1-ubyte.gz", 360))
    te = (idx_images(src + "/t10k-images-idx3-ubyte.gz", 100), idx_labels(src + "/t10k-labels-idx1-ubyte.gz", 100))
else:
    tr, te = synth(360, 1), synth(100, 2)
write("train", 360, *tr)
write("test", 100, *te)
EOF
"$B/import-data" idx -q --train-images "$T/train-images" --train-labels "$T/train-labels" \
	--test-images "$T/test-images" --test-labels "$T/test-labels" --valid 40 --seed 1 \
	-o "$T/tiny.h5"
check "tiny dataset imported" test -s "$T/tiny.h5"
D=$T/tiny.h5

# same flags everywhere: the weights record the command line
TR=(--genotype nasnet-a --cells 1 --filters 4 --steps 8 --batch 32 --checkpoint-steps 2
	--data "$D" --threads 1 --eval-batch 50 --out out)

# ---- uninterrupted ----
mkdir -p "$T/a" "$T/b" "$T/c"
(cd "$T/a" && "$B/transfer" "${TR[@]}" >table.txt 2>err.txt)
rc=$?
check "a tiny transfer exits 0" test "$rc" -eq 0
W=out/nasnet-a-n1-f4/genotype.weights.h5
check "it writes the weights, stats, result and genotype files" \
	test -s "$T/a/$W" -a -s "$T/a/out/nasnet-a-n1-f4/genotype.stats.h5" \
	-a -s "$T/a/out/nasnet-a-n1-f4/result.h5" -a -s "$T/a/out/nasnet-a-n1-f4/genotype.h5"
check "no checkpoint is left" test ! -e "$T/a/out/nasnet-a-n1-f4/genotype.ckpt.h5"
check "the table is printed with N@P, the splits and the test accuracy" \
	grep -qE '^\| nasnet-a-n1-f4 \| 1@96 \| [0-9.]+K \| [0-9.]+M \| [0-9.]+ \| [0-9.]+ \| ' "$T/a/table.txt"
check "the table says train+valid and the test split" \
	grep -q 'train+valid splits of .*evaluation on the test split' "$T/a/table.txt"
check "results.md equals the printed table" cmp -s "$T/a/table.txt" "$T/a/out/results.md"
check "results.csv has the header and one row" \
	bash -c "head -1 '$T/a/out/results.csv' | grep -q '^name,genotype,status,data,train_split,eval_split,cells,filters,penultimate,params,mult_adds' && [ \$(wc -l <'$T/a/out/results.csv') -eq 2 ]"
check "results.csv: 360 training images (320 train + 40 valid), 100 test, 8 steps" \
	grep -qE '^"nasnet-a-n1-f4",.*,"ok","[^"]*","train\+valid","test",1,4,96,[0-9]+,[0-9]+,360,100,8,' "$T/a/out/results.csv"
check "results.h5 is a nasnet-c/transfer file" \
	bash -c "h5dump -a /format '$T/a/out/results.h5' | grep -q 'nasnet-c/transfer'"
check "the scaled genotype file trains with train-child too (same config)" \
	bash -c "h5dump -a /config/cells -a /config/filters '$T/a/out/nasnet-a-n1-f4/genotype.h5' | grep -c '(0): [14]$' | grep -q 2"

# a second run reuses the result: no training, no second test evaluation
(cd "$T/a" && "$B/transfer" "${TR[@]}" >table2.txt 2>err2.txt)
check "a re-run exits 0 and does not evaluate the test split again" \
	bash -c "[ $? -eq 0 ] && ! grep -q 'evaluating once' '$T/a/err2.txt' && cmp -s '$T/a/table.txt' '$T/a/table2.txt'"
fails 1 "the same folder with another recipe is refused" "was started with another 'epochs'" \
	bash -c "cd '$T/a' && '$B/transfer' ${TR[*]} --epochs 3"

# ---- SIGKILL after a checkpoint, then run again ----
(cd "$T/b" && exec "$B/transfer" "${TR[@]}" --quiet >/dev/null 2>&1) &
pid=$!
for _ in $(seq 1 600); do
	[ -e "$T/b/out/nasnet-a-n1-f4/genotype.ckpt.h5" ] && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.05
done
kill -KILL $pid 2>/dev/null
wait $pid 2>/dev/null
check "the killed transfer left a checkpoint and no weights" \
	test -e "$T/b/out/nasnet-a-n1-f4/genotype.ckpt.h5" -a ! -e "$T/b/$W"
(cd "$T/b" && "$B/transfer" "${TR[@]}" >/dev/null 2>err.txt)
rc=$?
check "the re-run resumes and exits 0" bash -c "[ $rc -eq 0 ] && grep -q 'resuming at step' '$T/b/err.txt'"
check "weights byte-identical to the uninterrupted run" cmp "$T/a/$W" "$T/b/$W"

# ---- --stop-after: exit 75, then resume ----
(cd "$T/c" && "$B/transfer" "${TR[@]}" --stop-after 3 >/dev/null 2>&1)
rc=$?
check "--stop-after exits 75 with a checkpoint" \
	bash -c "[ $rc -eq 75 ] && [ -e '$T/c/out/nasnet-a-n1-f4/genotype.ckpt.h5' ] && [ ! -e '$T/c/out/results.md' ]"
# steps 3..6 (exit 75 again), then 6..8
(cd "$T/c" && "$B/transfer" "${TR[@]}" --stop-after 3 >/dev/null 2>&1;
	"$B/transfer" "${TR[@]}" --stop-after 3 >/dev/null 2>&1)
# the command line differs (--stop-after), so compare the tensors, not the files
check "two more sittings finish with the same parameters and BN statistics" \
	bash -c "h5diff '$T/a/$W' '$T/c/$W' /params /params && h5diff '$T/a/$W' '$T/c/$W' /buffers /buffers"

# ---- a run folder ----
R=$T/run
mkdir -p "$R/round-000"
fails 1 "an empty run folder: no finished child" "no finished child" \
	"$B/transfer" --run "$R" --data "$D" --cells 1 --filters 4
"$B/sample-arch" -q --space nasnet --strategy random --seed 3 --count 3 --out "$R/round-000" \
	--round 0 --cells 1 --filters 4 --steps 2 --batch 16 --data "$D" >/dev/null
"$B/score" -q --failed "killed" "$R/round-000/arch_0000.h5" >/dev/null
fails 1 "a run whose children all failed: no finished child" "no finished child" \
	"$B/transfer" --run "$R" --data "$D" --cells 1 --filters 4
for i in 1 2; do
	"$B/train-child" -q "$R/round-000/arch_000$i.h5" &&
		"$B/score" -q "$R/round-000/arch_000$i.h5" >/dev/null
done
"$B/transfer" --run "$R" --top 5 --data "$D" --cells 1 --filters 4 --list >"$T/list.txt" 2>"$T/list.err"
best=$(for i in 1 2; do
	h5dump -a /reward "$R/round-000/arch_000$i.reward.h5" | awk -v i=$i '/\(0\)/ { print $2, i }'
done | sort -k1,1gr -k2,2n | awk '{ printf "r000-a%04d-n1-f4\n", $2 }')
check "--run --top lists the finished children best first (failed one left out)" \
	test -n "$best" -a "$(cat "$T/list.txt")" = "$best"
check "--run --top 1 lists one" \
	bash -c "[ \$('$B/transfer' --run '$R' --top 1 --data '$D' --cells 1 --filters 4 --list | wc -l) -eq 1 ]"
fails 2 "--only with an unknown name exits 2" "no such network" \
	"$B/transfer" --genotype nasnet-a --data "$D" --cells 1 --filters 4 --only nope --list
fails 1 "--penultimate that no F gives is an error" "not reachable" \
	"$B/transfer" --genotype nasnet-a --data "$D" --cells 1 --penultimate 100 --list
check "--penultimate 192 gives F=8 for NASNet-A" \
	bash -c "'$B/transfer' --genotype nasnet-a --data '$D' --cells 1 --penultimate 192 --list | grep -qx 'nasnet-a-n1-f8'"

echo "1..$n"
