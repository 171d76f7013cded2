#!/usr/bin/env bash
# t0915-hostile-c.sh - the C-side reproductions of issue 22 (the hostile-use
# report, /work/shared/reference/hostile-use-report.md): D7 stale recipes,
# D8 datasets of another shape, D9 weights that overflow, D10 NaN optimizer
# state, D11 undetected corruption (checksums), D12 external links/storage,
# virtual datasets and FIFOs, D13 out of memory, D21 one-line fields and
# counts, D22 network and dataset sanity, D4 (import-data) one-class folders
# and empty splits. Tiny data (6x6 images, 2 classes): seconds.
. "$(dirname "$0")/lib.sh" || exit 1
: "${tmp:?}"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export NASNET_NB201=$PWD/data/nb201-cifar10-12epoch.csv.gz
B=$PWD/bin
PY=/usr/bin/python3
H=$tmp/h
mkdir -p "$H"

# refused DESC PATTERN CMD...: exit 3 and one stderr line matching PATTERN,
# within 20 s (a FIFO must not block)
refused() {
	local desc=$1 pat=$2 rc lines; shift 2
	timeout 8 "$@" >"$tmp/stdout" 2>"$tmp/stderr" </dev/null; rc=$?
	lines=$(wc -l <"$tmp/stderr")
	if [ $rc -eq 3 ] && [ "$lines" -eq 1 ] && grep -qE -- "$pat" "$tmp/stderr"; then
		echo "ok $((n += 1)) - $desc"
	else
		echo "not ok $((n += 1)) - $desc"
		echo "# exit $rc (want 3), $lines stderr line(s):"; head -3 "$tmp/stderr" | sed 's/^/#   /'
	fi
}

# ---- small valid inputs ----
$PY - "$H" <<'PYEOF'
import struct, sys
d = sys.argv[1]
def idx(name, n, labels, side=6):
    open(f"{d}/{name}-img", "wb").write(struct.pack(">IIII", 0x803, n, side, side) +
                                         bytes((i * 7) % 256 for i in range(n * side * side)))
    open(f"{d}/{name}-lab", "wb").write(struct.pack(">II", 0x801, n) + bytes(labels))
idx("train", 16, [0, 1] * 8)
idx("test", 4, [1, 0, 1, 0])
idx("train3", 9, [0, 1, 2] * 3)
idx("test3", 3, [0, 1, 2])
idx("train8", 8, [0, 1] * 4, 8)
idx("test8", 2, [0, 1], 8)
PYEOF
imp() { # imp OUT TRAIN TEST [ARGS]
	local out=$1 tr=$2 te=$3; shift 3
	"$B/import-data" idx -q --train-images "$H/$tr-img" --train-labels "$H/$tr-lab" \
		--test-images "$H/$te-img" --test-labels "$H/$te-lab" "$@" -o "$H/$out"
}
imp d.h5 train test --valid 4 && imp d3.h5 train3 test3 --valid 3 &&
	imp d8.h5 train8 test8 --valid 2
(cd "$H" && "$B/sample-arch" -q --space nasnet --strategy random --data d.h5 --cells 1 \
	--filters 2 --count 2 --out . --round 0 >/dev/null &&
	"$B/train-child" -q --batch 4 arch_0000.h5 && "$B/score" -q arch_0000.h5 >/dev/null &&
	"$B/sample-arch" -q --space nb201 --seed 7 --hidden 16 --count 0 --out . --round 0 \
		--save-policy p0.h5 && mkdir r0 &&
	"$B/sample-arch" -q --policy p0.h5 --count 2 --out r0 --round 0 >/dev/null &&
	"$B/lookup-child" -q r0/arch_0000.h5 r0/arch_0001.h5 >/dev/null)
t "valid small inputs made" '[ -s "$H/arch_0000.reward.h5" ] && [ -s "$H/r0/arch_0001.reward.h5" ]'
# genotypes name their dataset relative to here
cd "$H" || exit 1

# edit FILE PYTHON [keep]: edit an HDF5 file in place with h5py (f is the
# open file); unless "keep", drop the root checksum so that the edit reaches
# the reader's own checks instead of the integrity check
edit() {
	$PY - "$1" "$2" "${3:-}" <<'PYEOF'
import h5py, math, numpy as np, sys
with h5py.File(sys.argv[1], "r+") as f:
    exec(sys.argv[2])
    if sys.argv[3] != "keep" and "checksum" in f.attrs:
        del f.attrs["checksum"]
PYEOF
}

# ---- D12: external links, external storage, virtual datasets, FIFOs ----
mkfifo "$H/fifo"
for tool in "nas-check -q" "build-net -q --genotype" "show-genotype -q" draw-cell "train-child -q"; do
	refused "D12: ${tool%% *} refuses a FIFO given as a file, without opening it" \
		'fifo: .*not a regular file' $B/$tool "$H/fifo"
done
cp "$H/arch_0000.h5" "$H/g_extlink.h5"
edit "$H/g_extlink.h5" 'del f["/normal"]; f["/normal"] = h5py.ExternalLink(sys.argv[1].rsplit("/", 1)[0] + "/fifo", "/x")'
for tool in "nas-check -q" "show-genotype -q" "build-net -q --genotype" "train-child -q" draw-cell; do
	refused "D12: ${tool%% *} refuses a genotype with an external link (to a FIFO)" \
		'g_extlink\.h5: .*external link' $B/$tool "$H/g_extlink.h5"
done
cp "$H/d.h5" "$H/d_external.h5"
edit "$H/d_external.h5" '
a = f["/train/images"][...]; del f["/train/images"]
open(sys.argv[1] + ".raw", "wb").write(a.tobytes())
f.create_dataset("/train/images", shape=a.shape, dtype=a.dtype, external=[(sys.argv[1] + ".raw", 0, a.nbytes)])'
refused "D12: a dataset with external raw storage is refused" \
	'd_external\.h5: .*external (raw )?storage' "$B/nas-check" -q "$H/d_external.h5"
refused "D12: train-child refuses it too" 'd_external\.h5: .*external (raw )?storage' \
	"$B/train-child" -q --data "$H/d_external.h5" --steps 1 -o "$tmp/x.h5" "$H/arch_0001.h5"
cp "$H/d.h5" "$H/d_vds.h5"
edit "$H/d_vds.h5" '
a = f["/train/images"]; shape, dt = a.shape, a.dtype; del f["/train/images"]
lay = h5py.VirtualLayout(shape=shape, dtype=dt)
lay[...] = h5py.VirtualSource("missing.h5", "/x", shape=shape)
f.create_virtual_dataset("/train/images", lay, fillvalue=7)'
refused "D12: a virtual dataset is refused" 'd_vds\.h5: .*virtual' "$B/nas-check" -q "$H/d_vds.h5"
cp "$H/r0/arch_0000.reward.h5" "$H/r0/fifo.reward.h5"
edit "$H/r0/fifo.reward.h5" 'f.attrs["genotype"] = "../fifo"'
refused "D12: a reward naming a FIFO as its genotype is refused" 'fifo.*not a regular file' \
	"$B/nas-check" -q "$H/r0/fifo.reward.h5"
rm -f "$H/r0/fifo.reward.h5"

# ---- D11: integrity checksums ----
t "D11: every written file carries a root checksum" \
	'(for f in d.h5 arch_0000.h5 arch_0000.weights.h5 arch_0000.reward.h5 p0.h5; do h5dump -a checksum "$H/$f" >/dev/null 2>&1 || exit 1; done)'
(cd "$H" && "$B/train-child" -q --batch 4 --stop-after 2 -o "$tmp/c.weights.h5" arch_0001.h5)
t "D11: a checkpoint is written" '[ -s "$H/arch_0001.ckpt.h5" ]'
cp "$H/arch_0001.ckpt.h5" "$tmp/ckpt.orig"
edit "$H/arch_0001.ckpt.h5" 'p = f["/params"]; a = p[...]; a[0] += 0.5; p[...] = a' keep
expect 0 "D11: a checkpoint whose /params changed is not resumed from" \
	"$B/train-child" -q --batch 4 -o "$tmp/c.weights.h5" "$H/arch_0001.h5"
grep -q 'arch_0001\.ckpt\.h5: .*checksum' "$tmp/err"; report $? "D11: ... saying it does not match its checksum"
"$B/train-child" -q --batch 4 -o "$tmp/c2.weights.h5" "$H/arch_0001.h5"
t "D11: ... and trained from the start" 'h5diff -q "$tmp/c.weights.h5" "$tmp/c2.weights.h5" /params /params'

cp "$H/arch_0000.h5" "$H/g_lr.h5"
edit "$H/g_lr.h5" 'f["/config"].attrs["lr"] = 0.2' keep
refused "D11: a genotype whose /config lr changed is refused (checksum)" 'g_lr\.h5: .*checksum' \
	"$B/nas-check" -q "$H/g_lr.h5"
cp "$H/arch_0000.reward.h5" "$H/r_flip.reward.h5"
edit "$H/r_flip.reward.h5" 'f.attrs["accuracy"] = 0.99' keep
refused "D11: a reward whose accuracy changed is refused (checksum)" 'r_flip\.reward\.h5: .*checksum' \
	"$B/nas-check" -q "$H/r_flip.reward.h5"
cp "$H/d.h5" "$H/d_flip.h5"
edit "$H/d_flip.h5" 'l = f["/train/labels"]; a = l[...]; a[0] = 1 - a[0]; l[...] = a' keep
refused "D11: a dataset whose labels changed is refused on read (checksum)" \
	'd_flip\.h5: .*checksum' "$B/train-child" -q --data "$H/d_flip.h5" --steps 1 -o "$tmp/x.h5" "$H/arch_0001.h5"
cp "$H/arch_0000.h5" "$H/g_legacy.h5"
edit "$H/g_legacy.h5" 'pass'
t "D11: a file written before checksums (none at all) is still read" \
	'"$B/nas-check" -q "$H/g_legacy.h5"'
mkdir -p "$tmp/g1" "$tmp/g2"
(cd "$tmp/g1" && "$B/show-genotype" -o g.h5 nasnet-a >/dev/null) &&
	(cd "$tmp/g2" && "$B/show-genotype" -o g.h5 nasnet-a >/dev/null)
t "D11: checksummed files stay byte-identical" 'cmp -s "$tmp/g1/g.h5" "$tmp/g2/g.h5"'

# ---- D9: a child whose weights overflow ----
(cd "$H" && cp arch_0001.h5 lr.h5)
expect 4 "D9: train-child --lr 1e9 whose weights become non-finite exits 4" \
	"$B/train-child" -q --batch 4 --lr 1e9 "$H/lr.h5"
t "D9: ... with a failure record and no weights" '[ -s "$H/lr.failed.h5" ] && [ ! -e "$H/lr.weights.h5" ]'
expect 0 "D9: score then writes reward 0 with the reason" "$B/score" -q "$H/lr.h5"

# ---- D8: score checks the dataset against the network ----
refused "D8: score --data of another image size is refused" \
	'arch_0000\.h5: dataset .*d8\.h5 is 1x8x8 with 2 classes, the child expects 1x6x6 with 2' \
	"$B/score" -q --data "$H/d8.h5" -o "$tmp/s.reward.h5" "$H/arch_0000.h5"
refused "D8: score --data of another class count is refused" \
	'dataset .*d3\.h5 is 1x6x6 with 3 classes, the child expects 1x6x6 with 2' \
	"$B/score" -q --data "$H/d3.h5" -o "$tmp/s.reward.h5" "$H/arch_0000.h5"
t "D8: no reward written for them" '[ ! -e "$tmp/s.reward.h5" ]'

# ---- D13: out of memory is exit 1 with one line ----
(cd "$H" && mkdir big && "$B/sample-arch" -q --space nasnet --strategy random --data d.h5 --cells 1 \
	--filters 4096 --count 1 --out big --round 0 >/dev/null)
oom_run() {
	if [ -n "${NASNET_SANITIZED:-}" ]; then
		# the refused allocation's warning goes to our own log, not the leg's
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}max_allocation_size_mb=256:allocator_may_return_null=1:log_path=$tmp/oom-asan \
			exec "$@"
	fi
	ulimit -c 0 -v 400000 && exec "$@"
}
(oom_run "$B/train-child" -q --batch 64 "$H/big/arch_0000.h5") >"$tmp/out" 2>"$tmp/err"
rc=$?
t "D13: out of memory exits 1 (exit $rc)" '[ $rc = 1 ]'
one_line_err "out of memory" "D13: ... with one line"
expect 2 "D13: sample-arch --filters 5000 (beyond the network builder's 4096) is a usage error" \
	"$B/sample-arch" -q --space nasnet --strategy random --data d.h5 --filters 5000 --count 1 \
	--out big --round 1
cp "$H/arch_0000.h5" "$H/g_f5000.h5"
edit "$H/g_f5000.h5" 'f["/config"].attrs["filters"] = 5000'
refused "D13: a genotype whose config cannot be built (filters 5000) is refused on read" \
	"g_f5000\.h5: attribute 'filters' on '/config' is 5000" "$B/nas-check" -q "$H/g_f5000.h5"

# ---- D10: non-finite policy optimizer state ----
for v in "adam_nan:f['/adam_m/lstm_wx'][0, 0] = math.nan" "adamv_neg:f['/adam_v/lstm_wx'][...] = -1.0"; do
	name=${v%%:*}
	cp "$H/p0.h5" "$H/p_$name.h5"
	edit "$H/p_$name.h5" "${v#*:}"
	refused "D10: a policy with $name is refused by nas-check" "p_$name\.h5: .*(non-finite|negative)" \
		"$B/nas-check" -q "$H/p_$name.h5"
	refused "D10: ... and by update-policy" "p_$name\.h5: .*(non-finite|negative)" \
		"$B/update-policy" -q --policy "$H/p_$name.h5" -o "$tmp/p1.h5" "$H/r0"
done

# ---- D21: one-line fields, counts, hashes ----
expect 2 "D21: score --failed with a newline and a tab is a usage error" \
	"$B/score" -q --failed $'oom\nkilled\tby kernel' -o "$tmp/f.reward.h5" "$H/arch_0001.h5"
for v in "text_nl:f.attrs['genotype_text'] = 'x\ty\nz'" "reason_nl:f.attrs['reason'] = 'a\nb'" \
	"round_neg:f.attrs['round'] = -5" "round_huge:f.attrs['round'] = 2**62" \
	"params_neg:f.attrs['params'] = -7" "hash_bad:f.attrs['policy_hash'] = 'zzzz'"; do
	name=${v%%:*}
	cp "$H/r0/arch_0000.reward.h5" "$H/r0/$name.reward.h5"
	edit "$H/r0/$name.reward.h5" "${v#*:}"
	refused "D21: a reward with $name is refused" "$name\.reward\.h5: " \
		"$B/nas-check" -q "$H/r0/$name.reward.h5"
	rm -f "$H/r0/$name.reward.h5"
done
cp "$H/r0/arch_0000.reward.h5" "$H/r0/nogeno.reward.h5"
edit "$H/r0/nogeno.reward.h5" "f.attrs['genotype'] = 'missing.h5'"
refused "D21: a reward whose genotype file is missing is refused" 'nogeno\.reward\.h5: .*missing\.h5' \
	"$B/nas-history" "$H/r0/nogeno.reward.h5"
rm -f "$H/r0/nogeno.reward.h5"

# ---- D22: network and dataset sanity ----
cp "$H/arch_0000.weights.h5" "$H/n_bnvar_neg.h5"
edit "$H/n_bnvar_neg.h5" '
def neg(name, o):
    if isinstance(o, h5py.Dataset) and name.endswith("var"): o[...] = -1.0
f["/buffers"].visititems(neg)'
refused "D22: negative BN running variance is refused by nas-check" 'n_bnvar_neg\.h5: .*negative' \
	"$B/nas-check" -q "$H/n_bnvar_neg.h5"
refused "D22: ... and by score" 'n_bnvar_neg\.h5: .*negative' \
	"$B/score" -q --weights "$H/n_bnvar_neg.h5" -o "$tmp/s.reward.h5" "$H/arch_0000.h5"
cp "$H/arch_0000.weights.h5" "$H/n_huge.h5"
edit "$H/n_huge.h5" '
def huge(name, o):
    if isinstance(o, h5py.Dataset): o[...] = 3e38
f["/params"].visititems(huge)'
expect 0 "D22: score of weights of 3e38 (finite, non-finite outputs)" \
	"$B/score" -q --weights "$H/n_huge.h5" -o "$tmp/h.reward.h5" "$H/arch_0000.h5"
t "D22: ... is a failed child, not a valid reward" \
	'h5dump -a failed "$tmp/h.reward.h5" | grep -q "(0): 1"'
cp "$H/d.h5" "$H/d_std0.h5"
edit "$H/d_std0.h5" 'f["/std"][...] = 0.0'
refused "D22: a dataset with std 0 is refused" 'd_std0\.h5: .*std' "$B/nas-check" -q "$H/d_std0.h5"

# ---- D4 (import-data): one-class folders and empty splits ----
$PY - "$H" <<'PYEOF'
import struct, sys, zlib, os
d = sys.argv[1]
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
def png(w, h, raw):
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
for c in ("one",):
    os.makedirs(f"{d}/png1/{c}", exist_ok=True)
    for i in range(4):
        open(f"{d}/png1/{c}/{i}.png", "wb").write(png(2, 2, bytes([0, i, 2, 0, 3, 4])))
PYEOF
refused "D4: import-data png refuses a one-class folder" 'png1.*(one class|1 class)' \
	"$B/import-data" png -q --valid 1 "$H/png1" -o "$tmp/p1.h5"
expect 2 "D4: import-data refuses an empty training split (a usage error: --valid too big)" \
	"$B/import-data" idx -q --train-images "$H/train-img" --train-labels "$H/train-lab" \
	--test-images "$H/test-img" --test-labels "$H/test-lab" --valid 16 -o "$H/e.h5"
cp "$H/d.h5" "$H/d_k1.h5"
edit "$H/d_k1.h5" 'f.attrs["num_classes"] = 1
for s in ("train", "valid", "test"): f[s + "/labels"][...] = 0
del f["/classes"]; f.create_dataset("/classes", data=[b"a"], dtype=h5py.string_dtype())'
refused "D22: nas-check refuses a one-class dataset" 'd_k1\.h5: .*num_classes' \
	"$B/nas-check" -q "$H/d_k1.h5"

# ---- D7: recipes recorded and compared ----
(cd "$H" && cp arch_0001.h5 rec.h5 && "$B/train-child" -q --batch 4 --lr 0.2 rec.h5)
expect 0 "D7: train-child on weights made with another recipe trains again" \
	"$B/train-child" --batch 4 "$H/rec.h5"
grep -q "another recipe\|trained with" "$tmp/err"; report $? "D7: ... and says why"
(cd "$H" && cp arch_0001.h5 ref.h5 && "$B/train-child" -q --batch 4 -o "$tmp/ref.weights.h5" ref.h5)
t "D7: ... giving the weights of the genotype's recipe" \
	'h5diff -q "$H/rec.weights.h5" "$tmp/ref.weights.h5" /params /params'
(cd "$H" && cp arch_0001.h5 ck.h5 && "$B/train-child" -q --batch 4 --stop-after 1 ck.h5)
expect 0 "D7: resuming a checkpoint with another --lr starts over" \
	"$B/train-child" --batch 4 --lr 0.5 "$H/ck.h5"
(cd "$H" && cp arch_0001.h5 lr5.h5 && "$B/train-child" -q --batch 4 --lr 0.5 lr5.h5)
t "D7: ... giving the weights of an uninterrupted --lr 0.5 run" \
	'h5diff -q "$H/ck.weights.h5" "$H/lr5.weights.h5" /params /params'
finish
