#!/usr/bin/env bash
# t0910-hostile.sh - hostile input files: small files that claim enormous
# sizes (an HDF5 dataset of 1e6 x 3 x 1e4 x 1e4 chunked images, a PNG of
# 100000 x 100000 pixels, IDX headers counting 4 billion images or labels),
# genotypes reading states that do not exist yet (out of range, a forward
# reference, a block reading its own output), NaN/Inf in a network file's
# weights and in a reward file. Each must be refused with exit 3 and one
# stderr line naming the file, before any large allocation: every command
# runs under `ulimit -v` of 1 GB (under ASan: no allocation over 1 GB).
# schemas/limits.md lists the limits.
. "$(dirname "$0")/lib.sh" || exit 1
: "${tmp:?}"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export NASNET_NB201=$PWD/data/nb201-cifar10-12epoch.csv.gz
B=$PWD/bin
PY=/usr/bin/python3
H=$tmp/h
mkdir -p "$H"

# limited CMD...: exec CMD under a 1 GB address-space limit. ASan's shadow
# memory needs terabytes of address space, so in the sanitizer build
# (pipelines/asan.mk) ASan's allocator refuses any allocation over 1 GB instead.
limited() {
	if [ -n "${NASNET_SANITIZED:-}" ]; then
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}max_allocation_size_mb=1024:allocator_may_return_null=1 \
			exec "$@"
	fi
	ulimit -v 1048576 && exec "$@"
}

# refused DESCRIPTION PATTERN CMD...: exit 3, one stderr line
# matching PATTERN, under a 1 GB address-space limit
refused() {
	local desc=$1 pat=$2 rc lines; shift 2
	(limited "$@") >"$tmp/stdout" 2>"$tmp/stderr"; rc=$?
	lines=$(wc -l <"$tmp/stderr")
	if [ $rc -eq 3 ] && [ "$lines" -eq 1 ] && grep -qE -- "$pat" "$tmp/stderr"; then
		echo "ok $((n += 1)) - $desc"
	else
		echo "not ok $((n += 1)) - $desc"
		echo "# exit $rc (want 3), $lines stderr line(s):"; head -3 "$tmp/stderr" | sed 's/^/#   /'
	fi
}

# ---- valid small inputs, to be corrupted ----
$PY - "$H" <<'PYEOF'
import struct, sys
d = sys.argv[1]
def idx(name, n, labels):
    open(f"{d}/{name}-img", "wb").write(struct.pack(">IIII", 0x803, n, 6, 6) +
                                         bytes((i * 7) % 256 for i in range(n * 36)))
    open(f"{d}/{name}-lab", "wb").write(struct.pack(">II", 0x801, n) + bytes(labels))
idx("train", 8, [0, 1, 0, 1, 1, 0, 1, 0])
idx("test", 4, [1, 0, 1, 0])
PYEOF
(cd "$H" && "$B/import-data" idx -q --train-images train-img --train-labels train-lab \
	--test-images test-img --test-labels test-lab --valid 2 -o d.h5 &&
	"$B/build-net" -q --filters 2 --input 1x8x8 --classes 2 -o net.h5 >/dev/null &&
	"$B/show-genotype" -o g.h5 nasnet-a >/dev/null &&
	"$B/sample-arch" -q --space nb201 --seed 7 --hidden 16 --count 0 --out . --round 0 \
		--save-policy p0.h5 && mkdir r0 &&
	"$B/sample-arch" -q --policy p0.h5 --count 2 --out r0 --round 0 >/dev/null &&
	"$B/lookup-child" -q r0/arch_0000.h5 r0/arch_0001.h5 >/dev/null)
t "valid small inputs made (dataset, network, genotype, rewards)" \
	'(limited "$B/nas-check" -q "$H/d.h5" "$H/net.h5" "$H/g.h5" "$H/r0/arch_0000.reward.h5")'

# ---- the hostile files ----
$PY - "$H" <<'PYEOF'
import h5py, math, shutil, struct, sys, zlib
d = sys.argv[1]

# these stand for hostile files, not damaged ones: each edit drops the root
# checksum (as in a file written before checksums), so that it reaches the
# readers' own checks (t0915-hostile-c.sh tests the checksums)
class Unsealed(h5py.File):
    def __exit__(self, *a):
        if self.mode == "r+" and "checksum" in self.attrs:
            del self.attrs["checksum"]
        return super().__exit__(*a)
h5py.File = Unsealed

def dataset_claiming(name, shape, attrs):
    shutil.copy(f"{d}/d.h5", f"{d}/{name}")
    with h5py.File(f"{d}/{name}", "r+") as f:
        for k, v in attrs.items():
            f.attrs.modify(k, v)
        c = int(f.attrs["channels"])
        for k in ("mean", "std"):
            del f[k]
            f.create_dataset(k, data=[0.5] * c, dtype="<f4")
        del f["/train/images"]
        # chunked and never written: the file stays a few kB
        f.create_dataset("/train/images", shape=shape, dtype="u1",
                         chunks=(1,) + tuple(min(s, 64) for s in shape[1:]))
dataset_claiming("huge-images.h5", (10**6, 3, 10**4, 10**4),
                 {"channels": 3, "height": 10**4, "width": 10**4})
dataset_claiming("huge-count.h5", (10**12, 1, 6, 6), {})
shutil.copy(f"{d}/d.h5", f"{d}/huge-side.h5")
with h5py.File(f"{d}/huge-side.h5", "r+") as f:
    f.attrs.modify("height", 10**6)
shutil.copy(f"{d}/d.h5", f"{d}/huge-classes.h5")
with h5py.File(f"{d}/huge-classes.h5", "r+") as f:
    f.attrs.modify("num_classes", 2**31 - 1)

# PNG class folders: one valid 2x2 gray image, one claiming 100000 x 100000
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
def png(w, h, raw):
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
import os
for c in ("a", "b"):
    os.makedirs(f"{d}/png/{c}", exist_ok=True)
    open(f"{d}/png/{c}/ok.png", "wb").write(png(2, 2, b"\x00\x10\x20\x00\x30\x40"))
open(f"{d}/png/b/big.png", "wb").write(png(100000, 100000, b"\x00" * 1001))

# IDX headers with huge counts (the data that follows is tiny)
open(f"{d}/huge-img", "wb").write(struct.pack(">IIII", 0x803, 0xFFFFFFFF, 28, 28) + bytes(784))
open(f"{d}/huge-lab", "wb").write(struct.pack(">II", 0x801, 0xFFFFFFFF) + bytes(8))
open(f"{d}/big-img", "wb").write(struct.pack(">IIII", 0x803, 1200000, 28, 28) + bytes(784))
open(f"{d}/huge-side-img", "wb").write(struct.pack(">IIII", 0x803, 1, 0xFFFFFFFF, 0xFFFFFFFF))

# genotype files: a forward reference, a block reading its own output, a huge concat list
def geno(name, edit):
    shutil.copy(f"{d}/g.h5", f"{d}/{name}")
    with h5py.File(f"{d}/{name}", "r+") as f:
        edit(f)
def setv(path, i, v):
    def e(f):
        a = f[path][...]; a[i] = v; f[path][...] = a
    return e
geno("g-forward.h5", setv("/normal/input_a", 0, 3))
geno("g-self.h5", setv("/normal/input_b", 1, 3))
geno("g-negative.h5", setv("/reduce/input_a", 2, -2147483648))
def many_blocks(f):
    del f["/normal/concat"]
    f.create_dataset("/normal/concat", shape=(10**9,), dtype="<i4", chunks=(1024,))
geno("g-hugeconcat.h5", many_blocks)
# the genotype file of net.h5 (filters 2): score refuses weights of another network
geno("g-net.h5", lambda f: f["config"].attrs.modify("filters", 2))

# NaN and Inf in a network file's weights and BN statistics
def net(name, group, value):
    shutil.copy(f"{d}/net.h5", f"{d}/{name}")
    with h5py.File(f"{d}/{name}", "r+") as f:
        names = []
        f[group].visit(lambda n: names.append(n) if isinstance(f[group][n], h5py.Dataset) else None)
        ds = f[group][sorted(names)[-1]]
        a = ds[...]; a.flat[a.size // 2] = value; ds[...] = a
        print(f"{name}: /{group}/{sorted(names)[-1]}", file=open(f"{d}/{name}.dset", "w"))
net("net-nan.h5", "params", math.nan)
net("net-inf.h5", "params", -math.inf)
net("net-bn-inf.h5", "buffers", math.inf)

# rewards: NaN, Inf, out of [0, 1]
def reward(name, key, value):
    shutil.copy(f"{d}/r0/arch_0000.reward.h5", f"{d}/r0/{name}")
    with h5py.File(f"{d}/r0/{name}", "r+") as f:
        f.attrs.modify(key, value)
reward("nan.reward.h5", "reward", math.nan)
reward("inf.reward.h5", "reward", math.inf)
reward("big.reward.h5", "reward", 1.5)
reward("acc.reward.h5", "accuracy", -math.inf)
PYEOF

# ---- HDF5 datasets claiming enormous sizes ----
refused "dataset claiming 1e6 x 3 x 1e4 x 1e4 images (chunked, file of a few kB)" \
	'huge-images\.h5: .*(too large|limit|more than)' "$B/nas-check" -q "$H/huge-images.h5"
refused "dataset claiming 1e12 images of 1 x 6 x 6" \
	'huge-count\.h5: .*(too large|limit|more than)' "$B/nas-check" -q "$H/huge-count.h5"
refused "dataset attribute height 1e6" 'huge-side\.h5: .*height' "$B/nas-check" -q "$H/huge-side.h5"
refused "dataset attribute num_classes 2^31-1" 'huge-classes\.h5: .*num_classes' \
	"$B/nas-check" -q "$H/huge-classes.h5"
# train-child finds a bad dataset inside train_child(), after dataset_peek:
# TRAIN_BADINPUT, exit 3
refused "train-child on the 1e6 x 3 x 1e4 x 1e4 dataset (exit 3)" 'huge-images\.h5: ' \
	"$B/train-child" -q --data "$H/huge-images.h5" --steps 1 "$H/g.h5"
t "nothing written next to the genotype" '[ ! -e "$H/g.weights.h5" ] && no_tmp "$H"'

# ---- train-child: a dataset or genotype it cannot train (exit 3, not 1) ----
# a child sampled for dd.h5 (6x6, 2 classes); then dd.h5 changes shape, then goes
mkdir -p "$H/s"
(cd "$H" && cp d.h5 dd.h5 &&
	"$B/sample-arch" -q --space nasnet --strategy random --data dd.h5 --cells 1 --filters 2 \
		--count 1 --out s --round 0 >/dev/null &&
	"$B/import-data" idx -q --train-images train-img --train-labels train-lab \
		--test-images test-img --test-labels test-lab --valid 2 --resize 4x4 -o dd.h5)
# (the genotype file records dd.h5's fingerprint: the changed file is refused before its shape)
refused "train-child on a dataset that changed since the child was sampled" \
	'arch_0000\.h5: dataset .*/dd\.h5 has fingerprint [0-9a-f]{16}, the genotype file records [0-9a-f]{16}' \
	sh -c 'cd "$1" && exec "$2" -q --steps 1 s/arch_0000.h5' sh "$H" "$B/train-child"
rm -f "$H/dd.h5"
refused "train-child on a missing dataset" 'dataset .*/dd\.h5 not found' \
	sh -c 'cd "$1" && exec "$2" -q --steps 1 s/arch_0000.h5' sh "$H" "$B/train-child"
refused "train-child on an nb201 genotype (no trainable network)" 'arch_0000\.h5: space .nb201.' \
	"$B/train-child" -q --data "$H/d.h5" --steps 1 "$H/r0/arch_0000.h5"
t "train-child wrote nothing for them" \
	'[ -z "$(ls "$H/s" "$H/r0" | grep -E "weights|ckpt|failed|stats")" ] && no_tmp "$H"'

# ---- PNG and IDX headers ----
mkdir -p "$tmp/out"
refused "PNG claiming 100000 x 100000 pixels in a class folder" 'big\.png: .*100000' \
	"$B/import-data" png -q "$H/png" -o "$tmp/out/p.h5"
refused "IDX images claiming 4294967295 images of 28 x 28" 'huge-img: ' \
	"$B/import-data" idx -q --train-images "$H/huge-img" --train-labels "$H/train-lab" \
	--test-images "$H/test-img" --test-labels "$H/test-lab" -o "$tmp/out/i.h5"
refused "IDX labels claiming 4294967295 labels" 'huge-lab: ' \
	"$B/import-data" idx -q --train-images "$H/train-img" --train-labels "$H/huge-lab" \
	--test-images "$H/test-img" --test-labels "$H/test-lab" -o "$tmp/out/i.h5"
refused "IDX images claiming 1.2e6 images (940 MB) with 784 bytes of data" 'big-img: .*truncated' \
	"$B/import-data" idx -q --train-images "$H/big-img" --train-labels "$H/train-lab" \
	--test-images "$H/test-img" --test-labels "$H/test-lab" -o "$tmp/out/i.h5"
refused "IDX images of 4294967295 x 4294967295 pixels" 'huge-side-img: ' \
	"$B/import-data" idx -q --train-images "$H/huge-side-img" --train-labels "$H/train-lab" \
	--test-images "$H/test-img" --test-labels "$H/test-lab" -o "$tmp/out/i.h5"
t "import-data left no output and no temporary file" '[ -z "$(ls -A "$tmp/out")" ]'

# ---- genotypes ----
refused "genotype text reading state 9 in a 2-state cell" 'reads state 9' \
	"$B/show-genotype" '[custom] normal: identity@9 + max_pool_3x3@1 | concat 2 || reduce: max_pool_3x3@0 + conv_1x1@1 | concat 2'
refused "genotype text: a block reading its own output (a cycle)" 'reads state 2' \
	"$B/show-genotype" '[custom] normal: identity@2 + max_pool_3x3@1 | concat 2 || reduce: max_pool_3x3@0 + conv_1x1@1 | concat 2'
refused "genotype text: concat of state 99" '' \
	"$B/show-genotype" '[custom] normal: identity@0 + max_pool_3x3@1 | concat 99 || reduce: max_pool_3x3@0 + conv_1x1@1 | concat 2'
refused "genotype text: index beyond int range" '' \
	"$B/show-genotype" '[custom] normal: identity@99999999999999999999 + max_pool_3x3@1 | concat 2 || reduce: max_pool_3x3@0 + conv_1x1@1 | concat 2'
refused "genotype file: block 0 reads state 3, a forward reference" 'g-forward\.h5: .*input A is 3' \
	"$B/nas-check" -q "$H/g-forward.h5"
refused "genotype file: block 1 reads its own output (state 3)" 'g-self\.h5: .*input B is 3' \
	"$B/nas-check" -q "$H/g-self.h5"
refused "genotype file: input -2147483648" 'g-negative\.h5: .*-2147483648' \
	"$B/nas-check" -q "$H/g-negative.h5"
refused "genotype file: a concat list claiming 1e9 states" 'g-hugeconcat\.h5: .*concat' \
	"$B/nas-check" -q "$H/g-hugeconcat.h5"
refused "build-net with the forward-reference genotype file" 'g-forward\.h5: ' \
	"$B/build-net" -q --genotype "$H/g-forward.h5"

# ---- NaN / Inf ----
for f in net-nan net-inf net-bn-inf; do
	dset=$(cut -d' ' -f2 <"$H/$f.h5.dset")
	refused "network file with $f in $dset: refused naming the dataset" \
		"$f\.h5: dataset '$dset' holds a non-finite value" "$B/nas-check" -q "$H/$f.h5"
done
refused "score refuses weights holding NaN" "net-nan\.h5: dataset '.*' holds a non-finite" \
	"$B/score" -q --weights "$H/net-nan.h5" --data "$H/d.h5" -o "$tmp/out/s.h5" "$H/g-net.h5"
for f in nan inf big acc; do
	refused "reward file with a $f reward/accuracy" "$f\.reward\.h5: (reward|accuracy) is" \
		"$B/nas-check" -q "$H/r0/$f.reward.h5"
done
mkdir -p "$H/r1"
cp "$H/r0/arch_0000.h5" "$H/r1/arch_0000.h5"
cp "$H/r0/inf.reward.h5" "$H/r1/arch_0000.reward.h5"
refused "update-policy refuses a batch holding an infinite reward" 'reward is inf' \
	"$B/update-policy" -q --policy "$H/p0.h5" -o "$tmp/out/p1.h5" "$H/r1"
t "update-policy wrote no policy" '[ ! -e "$tmp/out/p1.h5" ] && no_tmp "$tmp/out"'
finish
