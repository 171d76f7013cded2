#!/usr/bin/env bash
# t0960-predict-onnx.sh - predict and export-onnx on tiny trained networks,
# and parity of the exported models in real runtimes.
#
# A tiny RGB PNG dataset (tests/onnx/make_pngs.py: 3 classes, 24x24 after
# import-data's resize; 120 test images, some gray or of another size) trains
# NASNet-A, AmoebaNet-A, DARTS-V2 and a sampled cell (bench/sampled-child.txt)
# with the CIFAR stem (aux head on), and NASNet-A and the sampled cell with
# the ImageNet stem (2x2 before the aux head: none), through `transfer` for 12
# steps (drop path and dropout on; batch norm statistics far from 0/1). For each: predict --logits on the
# test folder, export-onnx, then tests/onnx/parity.py: Debian's onnx checker,
# OpenCV's DNN and onnxruntime (npm onnxruntime-node, when `make ort`
# installed it in build/ort; skipped otherwise, saying why) give the same
# logits within 1e-4 of the largest |logit|. Then predict's output forms and
# bad input for both tools.
. "$(dirname "$0")/lib.sh"
B=$PWD/bin
PY=/usr/bin/python3
ORT=${ORT_DIR:-$PWD/build/ort}

t "predict --help" '"$B/predict" --help | grep -q "^usage: predict"'
t "export-onnx --help" '"$B/export-onnx" --help | grep -q "^usage: export-onnx"'
if ! $PY -c 'import onnx, cv2' 2>/dev/null; then
	echo "ok 3 # skip python3-onnx or python3-opencv missing (make deps-test)"
	finish
	exit 0
fi

$PY tests/onnx/make_pngs.py "$tmp/png"
"$B/import-data" png -q "$tmp/png/train" --test-dir "$tmp/png/test" --resize 24x24 \
	--valid 10 --seed 1 -o "$tmp/tiny.h5"
t "tiny PNG dataset imported" '[ -s "$tmp/tiny.h5" ]'

sampled=$(grep -v '^#' bench/sampled-child.txt)
train() {   # train OUT STEM GENOTYPE...
	local out=$1 stem=$2; shift 2
	local args=()
	for g in "$@"; do args+=(--genotype "$g"); done
	"$B/transfer" -q "${args[@]}" --data "$tmp/tiny.h5" --stem "$stem" --cells 1 \
		--filters 8 --steps 12 --batch 16 --dropout-keep 0.7 --out "$out" \
		$([ "$stem" = imagenet ] && echo --no-aux) >/dev/null
}
train "$tmp/cifar" cifar nasnet-a amoebanet-a darts-v2 "$sampled"
train "$tmp/imagenet" imagenet nasnet-a "$sampled"
nets=$(ls -d "$tmp"/cifar/*-n1-f8 "$tmp"/imagenet/*-n1-f8)
t "six networks trained" '[ "$(echo "$nets" | wc -l)" = 6 ]'
t "batch norm statistics are far from their initial 0 and 1" '$PY - $nets <<"PY"
import sys, h5py, numpy as np
for d in sys.argv[1:]:
    with h5py.File(d + "/genotype.weights.h5", "r") as f:
        m = np.concatenate([f["buffers/stem/bn/mean"][()], f["buffers/cell_0/cur/bn/mean"][()]])
        v = np.concatenate([f["buffers/stem/bn/var"][()], f["buffers/cell_0/cur/bn/var"][()]])
        assert np.abs(m).max() > 0.1 and np.abs(v - 1).max() > 0.1, (d, m, v)
PY'

# ---- parity: onnx checker, OpenCV, onnxruntime ----
ort_why=
if [ ! -d "$ORT/node_modules/onnxruntime-node" ]; then
	ort_why="onnxruntime-node not installed in $ORT ($(cat "$ORT/why" 2>/dev/null || echo 'run make ort'))"
fi
i=0
group=()
for d in $nets; do
	name=${d#$tmp/}
	w=$d/genotype.weights.h5
	i=$((i + 1))
	"$B/predict" --logits --raw "$tmp/raw$i" "$w" "$tmp/png/test" >"$tmp/logits$i.tsv"
	t "$name: predict --logits on 120 images" '[ $? = 0 ] && [ "$(wc -l <"$tmp/logits$i.tsv")" = 120 ]'
	t "$name: export-onnx" '"$B/export-onnx" -q "$w" -o "$tmp/model$i.onnx" && [ -s "$tmp/model$i.onnx" ]'
	ort=-
	if [ -z "$ort_why" ] && NODE_PATH=$ORT/node_modules node tests/onnx/ort.js \
		"$tmp/model$i.onnx" "$tmp/raw$i" 3 24 24 "$tmp/ort$i.f32"; then
		ort=$tmp/ort$i.f32
	fi
	group+=("$name" "$tmp/model$i.onnx" "$tmp/raw$i" "$tmp/logits$i.tsv" "$ort")
done
$PY tests/onnx/parity.py "${group[@]}" >"$tmp/parity" 2>&1
sed 's/^/# /' "$tmp/parity"
for d in $nets; do
	name=${d#$tmp/}
	t "$name: the onnx checker accepts the model" 'grep -qx "ok $name checker" "$tmp/parity"'
	t "$name: OpenCV's logits match predict's" 'grep -q "^ok $name opencv:" "$tmp/parity"'
	if [ -n "$ort_why" ]; then
		echo "ok $((n += 1)) # skip $name: onnxruntime: $ort_why"
	else
		t "$name: onnxruntime's logits match predict's" 'grep -q "^ok $name onnxruntime:" "$tmp/parity"'
	fi
done

# ---- make export: the best transferred network of a run ----
mkdir -p "$tmp/run"
make --no-print-directory -s export RUN="$tmp/run" TRANSFER_OUT="$tmp/cifar" >"$tmp/out" 2>"$tmp/err"
t "make export RUN=... writes RUN/model.onnx" '[ $? = 0 ] && [ -s "$tmp/run/model.onnx" ]'
best=$(sed -n 's/^export-onnx: \(.*\): the best transferred network.*/\1/p' "$tmp/err")
t "... of the network with the best test accuracy" '[ "$best" = "$($PY - "$tmp/cifar/results.h5" <<"PY"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    names = [n.decode() if isinstance(n, bytes) else n for n in f["name"][()]]
    print(sys.argv[1].rsplit("/", 1)[0] + "/" + names[int(np.argmax(f["test_accuracy"][()]))] + "/genotype.weights.h5")
PY
)" ]'
"$B/export-onnx" -q "$best" -o "$tmp/again.onnx"
t "... the same bytes as export-onnx of that network" 'cmp -s "$tmp/run/model.onnx" "$tmp/again.onnx"'

# ---- predict's output ----
w=$tmp/cifar/nasnet-a-n1-f8/genotype.weights.h5
"$B/predict" "$w" "$tmp/png/test" >"$tmp/classes.tsv"
t "one line per image: path, class, probability" 'awk -F"\t" "NF != 3 || \$3 < 0 || \$3 > 1 {exit 1}" "$tmp/classes.tsv" && [ "$(wc -l <"$tmp/classes.tsv")" = 120 ]'
t "a folder is read recursively in sorted order" '[ "$(cut -f1 "$tmp/classes.tsv")" = "$(find "$tmp/png/test" -name "*.png" | LC_ALL=C sort)" ]'
t "the trained network classifies most test images right" '[ "$(awk -F"\t" "{split(\$1, p, \"/\"); if (p[length(p) - 1] == \$2) k++} END {print (k >= 90)}" "$tmp/classes.tsv")" = 1 ]'
"$B/predict" --logits "$w" "$tmp/png/test" |
	awk -F'\t' '{b = 2; for (i = 3; i <= NF; i++) if ($i > $b) b = i; print b - 2}' >"$tmp/argmax"
# the dataset's classes are its sorted folder names
cut -f2 "$tmp/classes.tsv" | sed 's/^diagonal$/0/; s/^horizontal$/1/; s/^vertical$/2/' >"$tmp/class-index"
t "the class is the argmax of the logits" 'cmp -s "$tmp/argmax" "$tmp/class-index"'
"$B/predict" --top 3 --csv "$w" "$tmp/png/test/vertical/000.png" "$tmp/png/test/vertical/001.png" >"$tmp/top.csv"
t "--top 3 --csv: a header, then the three classes by probability" '[ "$(head -1 "$tmp/top.csv")" = "path,class_1,probability_1,class_2,probability_2,class_3,probability_3" ] && [ "$(wc -l <"$tmp/top.csv")" = 3 ] && awk -F, "NR > 1 && !(\$3 >= \$5 && \$5 >= \$7) {exit 1}" "$tmp/top.csv"'
t "--logits --csv: one column per class, named" '[ "$("$B/predict" --logits --csv "$w" "$tmp/png/test/vertical/000.png" | head -1)" = "path,diagonal,horizontal,vertical" ]'
"$B/predict" --threads 2 --batch 7 --logits "$w" "$tmp/png/test" >"$tmp/logits2.tsv"
"$B/predict" --threads 1 --logits "$w" "$tmp/png/test" >"$tmp/logits1.tsv"
t "the logits do not depend on --threads or --batch" 'cmp -s "$tmp/logits1.tsv" "$tmp/logits2.tsv"'

# an older network file, without /mean, /std and /classes: the dataset's are used
$PY - "$w" "$tmp/old.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r") as src, h5py.File(sys.argv[2], "w") as dst:
    for k, v in src.attrs.items():
        if k != "checksum":  # older files have none (schemas/integrity.md)
            dst.attrs[k] = v
    for k in src:
        if k not in ("mean", "std", "classes"):
            src.copy(k, dst)
PY
t "an older network file falls back to its dataset" '"$B/predict" --logits "$tmp/old.h5" "$tmp/png/test" | cmp -s - "$tmp/logits1.tsv"'

# ---- bad input ----
expect 3 "a foreign file as network file" "$B/predict" "$tmp/tiny.h5" "$tmp/png/test"
one_line_err "tiny.h5" "... one line naming it"
head -c 5000 "$w" >"$tmp/cut.h5"
expect 3 "a truncated network file" "$B/export-onnx" "$tmp/cut.h5" -o "$tmp/cut.onnx"
one_line_err "cut.h5" "... one line naming it, no model left"
t "... no model written" '[ ! -e "$tmp/cut.onnx" ] && no_tmp "$tmp"'
mkdir -p "$tmp/mixed/sub" "$tmp/empty/deeper"
cp "$tmp/png/test/vertical/000.png" "$tmp/mixed/a.png"
cp "$tmp/png/test/vertical/001.png" "$tmp/mixed/sub/c.png"
echo "not a png" >"$tmp/mixed/b.png"
echo "notes" >"$tmp/mixed/readme.txt"
expect 1 "an unreadable image among good ones" "$B/predict" "$w" "$tmp/mixed"
one_line_err "b.png" "... one line naming it"
t "... the others are still classified" '[ "$(cut -f1 "$tmp/out")" = "$(printf "%s\n" "$tmp/mixed/a.png" "$tmp/mixed/sub/c.png")" ]'
expect 1 "a folder without PNG images" "$B/predict" "$w" "$tmp/empty" "$tmp/mixed/a.png"
one_line_err "empty: no PNG images" "... one line naming it"
t "... the other images are classified" '[ "$(wc -l <"$tmp/out")" = 1 ]'
expect 1 "a missing image" "$B/predict" "$w" "$tmp/nope.png"
one_line_err "nope.png" "... one line naming it"
rm -f "$tmp/old2.h5"; cp "$tmp/old.h5" "$tmp/old2.h5"
$PY -c 'import sys, h5py; f = h5py.File(sys.argv[1], "r+"); f["config"].attrs["data"] = "/nonexistent/d.h5"' "$tmp/old2.h5"
expect 3 "an older network file whose dataset is gone" "$B/predict" "$tmp/old2.h5" "$tmp/mixed/a.png"
one_line_err "old2.h5: holds no normalisation or class names" "... one line naming it"
mkdir "$tmp/ro" && chmod 555 "$tmp/ro"
if [ "$(id -u)" = 0 ]; then
	out=/proc/nasnet-no-such-dir/m.onnx
else
	out=$tmp/ro/m.onnx
fi
expect 1 "an unwritable output path" "$B/export-onnx" "$w" -o "$out"
one_line_err "nasnet" "... one line naming it"
t "... no model left" '[ ! -e "$out" ] && [ -z "$(ls -A "$tmp/ro")" ]'
expect 2 "export-onnx without -o" "$B/export-onnx" "$w"
finish
