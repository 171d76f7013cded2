#!/usr/bin/env bash
# make_seeds.sh - regenerate the seed corpora in tests/fuzz/corpus/<name>/
# from the built tools (run from anywhere after `make`): small valid inputs
# of every kind, plus a few edge cases. The committed corpora came from it.
set -eu
cd "$(dirname "$0")/../.."
C=tests/fuzz/corpus
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3
rm -rf "$C"; mkdir -p "$C"/{idx,cifar,png,genotext,darts,h5dataset,h5genotype,h5network,h5policy,h5reward}

$PY - "$C" "$T" <<'PYEOF'
import gzip, os, struct, sys, zlib
C, T = sys.argv[1], sys.argv[2]
def w(p, b):
    open(p, "wb").write(b)
imgs = struct.pack(">IIII", 0x803, 3, 4, 4) + bytes(range(48))
labs = struct.pack(">II", 0x801, 3) + bytes([0, 1, 2])
w(f"{C}/idx/images", imgs); w(f"{C}/idx/labels", labs)
w(f"{C}/idx/images.gz", gzip.compress(imgs, mtime=0))
w(f"{C}/idx/labels.gz", gzip.compress(labs, mtime=0))
w(f"{T}/img.idx", imgs); w(f"{T}/lab.idx", labs)
rec = lambda lab: bytes(lab) + bytes((i * 7) % 256 for i in range(3072))
w(f"{C}/cifar/c10", b"\x00" + rec([3]))
w(f"{C}/cifar/c100-fine", b"\x03" + rec([19, 99]))
w(f"{C}/cifar/c10.gz", b"\x00" + gzip.compress(rec([1]), mtime=0))
def png(wd, ht, depth, ctype, rows, extra=b""):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    ihdr = struct.pack(">IIBBBBB", wd, ht, depth, ctype, 0, 0, 0)
    raw = b"".join(b"\x00" + r for r in rows)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
w(f"{C}/png/gray", png(4, 3, 8, 0, [bytes([10, 20, 30, 40])] * 3))
w(f"{C}/png/rgb", png(2, 2, 8, 2, [bytes(range(6))] * 2))
w(f"{C}/png/rgba16", png(2, 1, 16, 6, [bytes(range(16))]))
w(f"{C}/png/gray1bit", png(9, 2, 1, 0, [b"\xaa\x80"] * 2))
plte = struct.pack(">I", 6) + b"PLTE" + bytes([255, 0, 0, 0, 0, 255])
plte += struct.pack(">I", zlib.crc32(b"PLTE" + bytes([255, 0, 0, 0, 0, 255])))
w(f"{C}/png/palette", png(3, 1, 8, 3, [bytes([0, 1, 0])], plte))
PYEOF

for g in data/genotypes/*.txt; do
	n=$(basename "$g" .txt)
	if grep -q 'Genotype(' "$g"; then cp "$g" "$C/darts/$n"; else cp "$g" "$C/genotext/$n"; fi
	bin/show-genotype "$n" >"$C/genotext/$n-line" 2>/dev/null || true
	bin/show-genotype --darts "$n" >"$C/darts/$n-line" 2>/dev/null || true
done
bin/import-data idx --train-images "$T/img.idx" --train-labels "$T/lab.idx" \
	--test-images "$T/img.idx" --test-labels "$T/lab.idx" --valid 1 -q -o "$C/h5dataset/tiny.h5"
bin/show-genotype -o "$C/h5genotype/nasnet-a.h5" nasnet-a >/dev/null
G='[custom] normal: identity@0 + max_pool_3x3@1 | concat 2 || reduce: max_pool_3x3@0 + conv_1x1@1 | concat 2'
bin/build-net -q --genotype "$G" --filters 2 --input 1x8x8 --classes 2 -o "$C/h5network/tiny.h5" >/dev/null
mkdir -p "$T/r"
bin/sample-arch -q --space nb201 --hidden 4 --count 1 --round 0 --out "$T/r" \
	--save-policy "$C/h5policy/nb201.h5" >/dev/null
cp "$T/r/arch_0000.h5" "$C/h5genotype/nb201.h5"
bin/lookup-child -q -o "$C/h5reward/nb201.h5" "$T/r/arch_0000.h5" >/dev/null
du -sh --apparent-size "$C"
