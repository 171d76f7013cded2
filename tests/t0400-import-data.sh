#!/usr/bin/env bash
# t0400-import-data.sh - import-data end to end: real Fashion-MNIST from
# Debian's dataset-fashion-mnist, small generated IDX / CIFAR / PNG inputs,
# and every bad input as its own test point (exit code, one error line
# "import-data: PATH: problem", no output and no temporary file left behind).
set -u
cd "$(dirname "$0")/.."
BIN=${IMPORT_DATA:-bin/import-data}
PY=/usr/bin/python3
FM=/usr/share/datasets/fashion-mnist
T=$(mktemp -d "${TMPDIR:-/tmp}/t0400.XXXXXX")
trap 'rm -rf "$T"' EXIT
n=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else notok "$d"; fi; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }

# no output and no temporary file in $T/out
clean_out() { [ -z "$(ls -A "$T/out")" ]; }

# fails CODE DESCRIPTION PATTERN ARGS...: runs import-data ARGS -o $T/out/o.h5;
# wants exit CODE, exactly one stderr line matching "^import-data: PATTERN",
# and nothing left in $T/out.
fails() {
	local code=$1 desc=$2 pat=$3 rc lines; shift 3
	rm -rf "$T/out"; mkdir -p "$T/out"
	"$BIN" "$@" -q -o "$T/out/o.h5" >"$T/stdout" 2>"$T/stderr"; rc=$?
	lines=$(wc -l <"$T/stderr")
	if [ "$rc" -eq "$code" ] && [ "$lines" -eq 1 ] && grep -qE "^import-data: $pat" "$T/stderr" &&
		clean_out; then
		ok "$desc"
	else
		notok "$desc"
		echo "# exit $rc (want $code), $lines stderr line(s):"; sed 's/^/#   /' "$T/stderr" | head -5
		ls -A "$T/out" | sed 's/^/#   left: /'
	fi
}

# ---- generated inputs ----
mkdir -p "$T/out"
$PY - "$T" <<'EOF' || { echo "1..1"; echo "not ok 1 - generate inputs"; exit 1; }
import gzip, os, struct, sys, zlib
T = sys.argv[1]

def idx_images(path, n, h, w, magic=0x803, claim=None, gz=True, cut=0):
    data = struct.pack('>IIII', magic, n if claim is None else claim, h, w)
    data += bytes((i * 7 + k) & 255 for i in range(n) for k in range(h * w))
    data = data[:len(data) - cut]
    (gzip.open if gz else open)(path, 'wb').write(data)

def idx_labels(path, n, k=3, gz=True):
    data = struct.pack('>II', 0x801, n) + bytes(i % k for i in range(n))
    (gzip.open if gz else open)(path, 'wb').write(data)

idx_images(f'{T}/tr-img.gz', 40, 6, 6)
idx_labels(f'{T}/tr-lab.gz', 40)
idx_images(f'{T}/te-img', 8, 6, 6, gz=False)
idx_labels(f'{T}/te-lab', 8, gz=False)
idx_images(f'{T}/magic.gz', 40, 6, 6, magic=0x801)
idx_images(f'{T}/count.gz', 41, 6, 6)
idx_images(f'{T}/trunc', 40, 6, 6, gz=False, cut=10)
idx_images(f'{T}/huge', 2, 6, 6, claim=0x7fffffff, gz=False)
idx_labels(f'{T}/lab7.gz', 40, k=7)

def cifar(path, n, label_bytes, labels, cut=0):
    out = bytearray()
    for i in range(n):
        out += bytes(labels(i)) + bytes((i + k) & 255 for k in range(3072))
    open(path, 'wb').write(bytes(out[:len(out) - cut]))

for b in range(2):
    cifar(f'{T}/data_batch_{b}.bin', 30, 1, lambda i: [i % 10])
cifar(f'{T}/test_batch.bin', 10, 1, lambda i: [i % 10])
cifar(f'{T}/c100_train.bin', 30, 2, lambda i: [i % 20, i % 100])
cifar(f'{T}/c100_test.bin', 10, 2, lambda i: [i % 20, 99 - i % 100])
cifar(f'{T}/c10_trunc.bin', 3, 1, lambda i: [1], cut=100)
cifar(f'{T}/c10_badlabel.bin', 3, 1, lambda i: [i * 6])
open(f'{T}/meta.txt', 'w').write('\n'.join(['airplane', 'automobile', 'bird', 'cat', 'deer',
                                            'dog', 'frog', 'horse', 'ship', 'truck']) + '\n\n')
open(f'{T}/meta9.txt', 'w').write('\n'.join(str(i) for i in range(9)) + '\n')

def png(path, w, h, color_type, bitdepth=8, seed=0, corrupt=False):
    ch = {0: 1, 2: 3, 4: 2, 6: 4}[color_type]
    bps = bitdepth // 8
    raw = b''.join(b'\0' + bytes(((x * ch + c) * 13 + y * 7 + seed) & 255
                                for x in range(w) for c in range(ch) for _ in range(bps))
                   for y in range(h))
    def chunk(t, d):
        return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
    ihdr = struct.pack('>IIBBBBB', w, h, bitdepth, color_type, 0, 0, 0)
    idat = zlib.compress(raw)
    if corrupt:
        idat = idat[:len(idat) // 2] + bytes(16) + idat[len(idat) // 2:]
    open(path, 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', idat)
                           + chunk(b'IEND', b''))

for cls, types in (('cat', (0, 4, 2)), ('dog', (6, 2, 0)), ('emu', (0,))):
    os.makedirs(f'{T}/png/{cls}')
    for i, ct in enumerate(types):
        png(f'{T}/png/{cls}/{i:02d}.png', 8, 6, ct, 16 if i == 1 else 8, seed=i)
for cls in ('cat', 'dog'):
    os.makedirs(f'{T}/pngtest/{cls}')
    png(f'{T}/pngtest/{cls}/a.png', 8, 6, 0)
os.makedirs(f'{T}/gray/a'); os.makedirs(f'{T}/gray/b')
png(f'{T}/gray/a/1.png', 8, 6, 0); png(f'{T}/gray/b/1.png', 8, 6, 4); png(f'{T}/gray/b/2.png', 8, 6, 0)
os.makedirs(f'{T}/corrupt/a')
png(f'{T}/corrupt/a/1.png', 8, 6, 0); png(f'{T}/corrupt/a/2.png', 8, 6, 0, corrupt=True)
os.makedirs(f'{T}/odd/a'); os.makedirs(f'{T}/odd/b')
png(f'{T}/odd/a/1.png', 8, 6, 0); png(f'{T}/odd/b/1.png', 8, 6, 0); png(f'{T}/odd/b/2.png', 9, 7, 2)
os.makedirs(f'{T}/empty/a'); os.makedirs(f'{T}/empty/b')
png(f'{T}/empty/a/1.png', 8, 6, 0)
EOF

IDX=(idx --train-images "$T/tr-img.gz" --train-labels "$T/tr-lab.gz" --test-images "$T/te-img"
	--test-labels "$T/te-lab")

# py CODE: run python with h5py on $T/out/o.h5 as f; success = exit 0
py() { $PY -c "import h5py, numpy as np, sys
f = h5py.File('$T/out/o.h5', 'r')
$1" 2>&1 | sed 's/^/# /'; return "${PIPESTATUS[0]}"; }

run() { rm -rf "$T/out"; mkdir -p "$T/out"; "$BIN" "$@" -o "$T/out/o.h5" >"$T/stdout" 2>"$T/stderr"; }

# ---- real Fashion-MNIST ----
if [ -r "$FM/train-images-idx3-ubyte.gz" ]; then
	FMA=(idx --train-images "$FM/train-images-idx3-ubyte.gz"
		--train-labels "$FM/train-labels-idx1-ubyte.gz"
		--test-images "$FM/t10k-images-idx3-ubyte.gz"
		--test-labels "$FM/t10k-labels-idx1-ubyte.gz"
		--classes T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle-boot)
	check "fashion-mnist: import (make data's command line)" run "${FMA[@]}" --valid 5000 --seed 1
	check "fashion-mnist: summary line on stdout" \
		grep -qx "$T/out/o.h5: 55000 train, 5000 valid, 10000 test, 1x28x28, 10 classes" "$T/stdout"
	check "fashion-mnist: h5ls lists the three splits" \
		bash -c "h5ls -r '$T/out/o.h5' | grep -q '^/train/images *Dataset {55000, 1, 28, 28}' &&
			 h5ls -r '$T/out/o.h5' | grep -q '^/valid/labels *Dataset {5000}' &&
			 h5ls -r '$T/out/o.h5' | grep -q '^/test/images *Dataset {10000, 1, 28, 28}'"
	check "fashion-mnist: attributes, classes, mean/std, label balance (h5py)" py "
a = f.attrs
assert a['format'] == 'nasnet-c/dataset' and a['schema_version'] == 1
assert (a['num_classes'], a['channels'], a['height'], a['width']) == (10, 1, 28, 28)
assert a['seed'] == 1 and a['valid_count'] == 5000 and 'idx:' in a['source']
c = [x.decode() if isinstance(x, bytes) else x for x in f['classes'][:]]
assert c[0] == 'T-shirt/top' and c[9] == 'Ankle-boot', c
tr = f['train/images'][:]
assert abs(f['mean'][0] - tr.mean() / 255) < 1e-6 and abs(f['std'][0] - (tr / 255.).std()) < 1e-6
assert abs(f['mean'][0] - 0.286) < 0.001, f['mean'][0]
assert f['train/labels'].dtype == np.int32 and f['train/images'].dtype == np.uint8
assert (np.bincount(f['test/labels'][:]) == 1000).all()
assert np.bincount(f['train/labels'][:], minlength=10).sum() == 55000"
	check "fashion-mnist: train + valid is the source train set (multiset of image+label rows)" py "
import gzip
raw = np.frombuffer(gzip.open('$FM/train-images-idx3-ubyte.gz').read()[16:], np.uint8)
lab = np.frombuffer(gzip.open('$FM/train-labels-idx1-ubyte.gz').read()[8:], np.uint8)
src = np.concatenate([raw.reshape(-1, 784), lab[:, None]], 1)
tv = [np.concatenate([f[s + '/images'][:].reshape(-1, 784),
                      f[s + '/labels'][:].astype(np.uint8)[:, None]], 1) for s in ('train', 'valid')]
rows = lambda a: np.sort(np.ascontiguousarray(a).view('V785').ravel())
assert (rows(np.concatenate(tv)) == rows(src)).all()"
	"$BIN" "${FMA[@]}" --train-subset 1000 --downsample 2 --seed 3 -q -o "$T/fm2.h5"
	check "fashion-mnist: --train-subset 1000 --downsample 2" \
		bash -c "h5ls '$T/fm2.h5/train/images' | grep -q '{1000, 1, 14, 14}'"
else
	for i in 1 2 3 4 5 6; do skip "$FM not installed (apt-get install dataset-fashion-mnist)"; done
fi

# ---- generated sources ----
# a fixed provenance time: the root checksum covers /provenance too
export SOURCE_DATE_EPOCH=0
check "idx: generated gzip + plain files" run "${IDX[@]}" --valid 10 --seed 5
check "idx: counts and default class names" py "
assert f['train/images'].shape == (30, 1, 6, 6) and f['valid/labels'].shape == (10,)
assert f['test/images'].shape == (8, 1, 6, 6)
assert [x.decode() if isinstance(x, bytes) else x for x in f['classes'][:]] == ['0', '1', '2']"
cp "$T/out/o.h5" "$T/a.h5"
run "${IDX[@]}" --valid 10 --seed 5
check "idx: same seed gives the same data (h5diff, provenance aside)" \
	h5diff --exclude-path /provenance "$T/a.h5" "$T/out/o.h5"
unset SOURCE_DATE_EPOCH
# the command line is part of /provenance: same -o name, in two folders
abs_bin=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
for b in b1 b2; do
	mkdir -p "$T/$b"
	(cd "$T/$b" && SOURCE_DATE_EPOCH=0 "$abs_bin" "${IDX[@]}" --valid 10 --seed 5 -q -o o.h5)
done
check "idx: same input, seed and SOURCE_DATE_EPOCH give byte-identical files" \
	cmp "$T/b1/o.h5" "$T/b2/o.h5"
run "${IDX[@]}" --valid 10 --seed 6
check "idx: another seed gives another valid split" \
	bash -c "! h5diff -q '$T/a.h5' '$T/out/o.h5' /valid/labels /valid/labels >/dev/null 2>&1 ||
		 ! h5diff -q '$T/a.h5' '$T/out/o.h5' /valid/images /valid/images >/dev/null 2>&1"
check "idx: --quiet prints nothing" \
	bash -c "'$BIN' ${IDX[*]@Q} --valid 10 -q -o '$T/q.h5' >'$T/so' 2>'$T/se' &&
		 [ ! -s '$T/so' ] && [ ! -s '$T/se' ]"
check "idx: --channels 3 --resize 12x10 --valid 0" run "${IDX[@]}" --channels 3 --resize 12x10 --valid 0
check "idx: converted shape and empty valid split" py "
assert f['train/images'].shape == (40, 3, 12, 10) and f['valid/images'].shape == (0, 3, 12, 10)
assert f['mean'].shape == (3,) and f.attrs['valid_count'] == 0"

check "cifar10: two train batches, class names file" \
	run cifar10 --train "$T/data_batch_0.bin" "$T/data_batch_1.bin" --test "$T/test_batch.bin" \
	--classes-file "$T/meta.txt" --valid 6
check "cifar10: counts, shape, names" py "
assert f['train/images'].shape == (54, 3, 32, 32) and f['test/labels'].shape == (10,)
c = [x.decode() if isinstance(x, bytes) else x for x in f['classes'][:]]
assert len(c) == 10 and c[0] == 'airplane' and c[9] == 'truck'
t = f['test/images'][:]
assert t[3].reshape(-1)[0] == 3 and t[3].reshape(-1)[3071] == (3 + 3071) % 256"
check "cifar100: fine labels" run cifar100 --train "$T/c100_train.bin" --test "$T/c100_test.bin" --valid 5
check "cifar100: 100 classes, fine test labels" py "
assert f.attrs['num_classes'] == 100 and list(f['test/labels'][:3]) == [99, 98, 97]"
check "cifar100: --coarse" run cifar100 --coarse --train "$T/c100_train.bin" --test "$T/c100_test.bin" --valid 5
check "cifar100: 20 coarse classes" py "
assert f.attrs['num_classes'] == 20 and list(f['test/labels'][:3]) == [0, 1, 2]"

check "png: mixed color types with a test folder" \
	run png "$T/png" --test-dir "$T/pngtest" --valid 2 --seed 2
check "png: 3 channels, sorted class names, test labels" py "
assert f['train/images'].shape == (5, 3, 6, 8) and f['valid/images'].shape == (2, 3, 6, 8)
assert [x.decode() if isinstance(x, bytes) else x for x in f['classes'][:]] == ['cat', 'dog', 'emu']
assert list(f['test/labels'][:]) == [0, 1]"
check "png: all-gray folder gives 1 channel, no test folder gives an empty test split" \
	run png "$T/gray" --valid 1
check "png: gray shape" py "
assert f['train/images'].shape == (2, 1, 6, 8) and f['test/images'].shape == (0, 1, 6, 8)"
check "png: --resize accepts images of another size" run png "$T/odd" --resize 5x5 --valid 1
check "png: --crop accepts images of another size" run png "$T/odd" --crop 4x4 --valid 1

# ---- bad inputs ----
fails 3 "idx: wrong magic number" "$T/magic.gz: bad magic number" \
	idx --train-images "$T/magic.gz" --train-labels "$T/tr-lab.gz" --test-images "$T/te-img" \
	--test-labels "$T/te-lab"
fails 3 "idx: count mismatch between images and labels" "$T/tr-lab.gz: 40 labels, but .* has 41 images" \
	idx --train-images "$T/count.gz" --train-labels "$T/tr-lab.gz" --test-images "$T/te-img" \
	--test-labels "$T/te-lab"
fails 3 "idx: truncated file" "$T/trunc: truncated file" \
	idx --train-images "$T/trunc" --train-labels "$T/tr-lab.gz" --test-images "$T/te-img" \
	--test-labels "$T/te-lab"
head -c 300 "$T/tr-img.gz" >"$T/trunc.gz"
fails 3 "idx: truncated gzip file" "$T/trunc.gz: " \
	idx --train-images "$T/trunc.gz" --train-labels "$T/tr-lab.gz" --test-images "$T/te-img" \
	--test-labels "$T/te-lab"
fails 3 "idx: huge claimed count" "$T/huge: claims 2147483647 images" \
	idx --train-images "$T/huge" --train-labels "$T/tr-lab.gz" --test-images "$T/te-img" \
	--test-labels "$T/te-lab"
fails 3 "idx: labels beyond --classes" "$T/lab7.gz: label 6 needs at least 7 class names" \
	idx --train-images "$T/tr-img.gz" --train-labels "$T/lab7.gz" --test-images "$T/te-img" \
	--test-labels "$T/te-lab" --classes a,b,c
fails 3 "missing file" "$T/nope.gz: No such file or directory" \
	idx --train-images "$T/nope.gz" --train-labels "$T/tr-lab.gz" --test-images "$T/te-img" \
	--test-labels "$T/te-lab"
fails 3 "cifar10: truncated batch" "$T/c10_trunc.bin: truncated file" \
	cifar10 --train "$T/c10_trunc.bin" --test "$T/test_batch.bin" --valid 1
fails 3 "cifar10: label out of range" "$T/c10_badlabel.bin: record 2 has label 12" \
	cifar10 --train "$T/c10_badlabel.bin" --test "$T/test_batch.bin" --valid 1
fails 3 "cifar10: class names file of the wrong length" "$T/meta9.txt: 9 class names" \
	cifar10 --train "$T/data_batch_0.bin" --test "$T/test_batch.bin" --valid 1 --classes-file "$T/meta9.txt"
fails 3 "png: corrupt PNG" "$T/corrupt/a/2.png: corrupt PNG" png "$T/corrupt" --valid 1
fails 3 "png: PNG of another size" "$T/odd/b/2.png: image is 7x9, but .* is 6x8" png "$T/odd" --valid 1
fails 3 "png: empty class folder" "$T/empty/b: empty class folder" png "$T/empty" --valid 1
fails 3 "png: crop larger than an image" ".*: image is 6x8, smaller than the crop 7x7" \
	png "$T/odd" --crop 7x7 --valid 1
fails 3 "png: missing folder" "$T/nowhere: No such file or directory" png "$T/nowhere" --valid 1
fails 2 "--valid not below the training count" "cannot hold out 40 of 40" "${IDX[@]}" --valid 40
fails 2 "--train-subset larger than what is left" "cannot keep a subset of 99 of 30" \
	"${IDX[@]}" --valid 10 --train-subset 99
fails 2 "--downsample that does not divide the size" "--downsample 4: 6x6 images" \
	"${IDX[@]}" --valid 10 --downsample 4
fails 2 "unknown source" "unknown source 'jpeg'" jpeg "$T/png"
fails 2 "idx without its files" "idx needs" idx --train-images "$T/tr-img.gz"
fails 2 "bad --resize" "invalid --resize '12by10'" "${IDX[@]}" --resize 12by10

rm -rf "$T/out"; mkdir -p "$T/out"
"$BIN" --no-such-flag >"$T/stdout" 2>"$T/stderr"; rc=$?
check "unknown flag exits 2 and names the flag" \
	bash -c "[ $rc -eq 2 ] && grep -q 'no-such-flag' '$T/stderr' && [ ! -s '$T/stdout' ]"
"$BIN" --help >"$T/stdout" 2>"$T/stderr"; rc=$?
check "--help exits 0 with usage on stdout" \
	bash -c "[ $rc -eq 0 ] && grep -q '^usage: import-data' '$T/stdout' && [ ! -s '$T/stderr' ]"
"$BIN" "${IDX[@]}" >"$T/stdout" 2>"$T/stderr"; rc=$?
check "missing -o exits 2" bash -c "[ $rc -eq 2 ] && grep -q 'missing -o' '$T/stderr'"

# an existing output survives a failed run untouched
rm -rf "$T/out"; mkdir -p "$T/out"
echo precious >"$T/out/o.h5"
"$BIN" idx --train-images "$T/magic.gz" --train-labels "$T/tr-lab.gz" --test-images "$T/te-img" \
	--test-labels "$T/te-lab" -q -o "$T/out/o.h5" 2>/dev/null
check "a failed run leaves an existing output as it was, and no temporary file" \
	bash -c "[ \"\$(cat '$T/out/o.h5')\" = precious ] && [ \$(ls -A '$T/out' | wc -l) -eq 1 ]"
"$BIN" "${IDX[@]}" --valid 10 -q -o "$T/nodir/o.h5" 2>"$T/stderr"; rc=$?
check "unwritable output: exit 1, one line naming it" \
	bash -c "[ $rc -eq 1 ] && [ \$(wc -l <'$T/stderr') -eq 1 ] && grep -q '^import-data: $T/nodir/o.h5' '$T/stderr'"

echo "1..$n"
