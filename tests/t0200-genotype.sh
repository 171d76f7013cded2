#!/usr/bin/env bash
# t0200-genotype.sh - show-genotype and the genotype file: flags and exit
# codes, every built-in against its data/genotypes/ file, text round trips
# through the command line, writing a genotype file, and bad input (bad
# text, missing file, foreign HDF5, files edited into inconsistency) giving
# one line and exit 3.
. "$(dirname "$0")/lib.sh"
sg=bin/show-genotype
py=/usr/bin/python3
skip() { n=$((n + 1)); echo "ok $n # skip $1"; }

expect 0 "--help" $sg --help
grep -q "^usage: show-genotype" "$tmp/out"; report $? "--help prints the usage on stdout"
grep -q "Exit status" "$tmp/out"; report $? "--help lists the exit codes"
expect 2 "unknown flag" $sg --bogus nasnet-a
[ "$(wc -l <"$tmp/err")" = 1 ]; report $? "unknown flag: one line on stderr"
expect 2 "no genotype" $sg
one_line_err "no GENOTYPE given" "no genotype: one line"

expect 0 "--list" $sg --list
[ "$(wc -l <"$tmp/out")" = 6 ] && grep -qx nasnet-a "$tmp/out" && grep -qx darts-v2 "$tmp/out"
report $? "--list names the six built-ins"

for name in $($sg --list); do
	a=$($sg "$name") && b=$($sg "data/genotypes/$name.txt") && [ -n "$a" ] && [ "$a" = "$b" ]
	report $? "$name: built-in == data/genotypes/$name.txt"
	c=$($sg "$a") && [ "$c" = "$a" ]
	report $? "$name: compact text round-trips through the command line"
	d=$($sg --darts "$name") && e=$($sg "$d") && [ "${e#* }" = "${a#* }" ]
	report $? "$name: DARTS text round-trips (cells)"
done

$sg --darts nasnet-a-darts >"$tmp/out"
grep -qF "Genotype(normal=[('sep_conv_5x5', 1), ('sep_conv_3x3', 0), ('sep_conv_5x5', 0)" "$tmp/out" &&
	grep -qF "reduce_concat=[4, 5, 6])" "$tmp/out"
report $? "--darts prints DARTS's NASNet entry"
[ "$($sg nasnet-a amoebanet-a | wc -l)" = 2 ]; report $? "several genotypes, one line each"

cat_geno='normal: conv_3x3@1 cat conv_1x1@0 | concat 2 || reduce: max_pool_5x5@0 + identity@1 | concat 2'
expect 0 "concat-combine genotype text" $sg "$cat_geno"
expect 1 "--darts on a genotype DARTS cannot express" $sg --darts "$cat_geno"
one_line_err "combines by concat" "--darts refusal is one line"

expect 3 "unknown op in text" $sg 'normal: sep_conv_9x9@0 + identity@1 | concat 2 || reduce: identity@0 + identity@1 | concat 2'
one_line_err "column 9: unknown op 'sep_conv_9x9'" "unknown op: one line with the column"
expect 3 "input index out of range" $sg 'normal: identity@0 + identity@5 | concat 2 || reduce: identity@0 + identity@1 | concat 2'
one_line_err "block 0 reads state 5" "index out of range: one line"
expect 3 "missing file / unknown name" $sg nope.h5
one_line_err "nope.h5: no such file, and not a built-in genotype" "missing file: one line"
expect 3 "a good and a bad genotype: exit 3" $sg nasnet-a 'garbage: here'
[ "$(wc -l <"$tmp/out")" = 1 ]; report $? "the good one is still printed"
expect 0 "--check on a valid genotype" $sg --check darts-v2 data/genotypes/enas.txt
[ ! -s "$tmp/out" ]; report $? "--check prints nothing"
expect 3 "--check on an invalid genotype" $sg --check 'normal: x@0'

# the genotype file
expect 0 "-o writes a genotype file" $sg -o "$tmp/arch.h5" amoebanet-a
[ -f "$tmp/arch.h5" ] && [ -z "$(ls -A "$tmp" | grep '\.tmp\.')" ]
report $? "file written, no temporary left"
[ "$($sg "$tmp/arch.h5")" = "$($sg amoebanet-a)" ]; report $? "the file reads back as the same genotype"
SOURCE_DATE_EPOCH=1 $sg -o "$tmp/same.h5" amoebanet-a >/dev/null 2>&1 && mv "$tmp/same.h5" "$tmp/same1.h5"
SOURCE_DATE_EPOCH=1 $sg -o "$tmp/same.h5" amoebanet-a >/dev/null 2>&1
cmp -s "$tmp/same.h5" "$tmp/same1.h5"; report $? "same genotype and command, byte-identical files"
expect 2 "-o with two genotypes" $sg -o "$tmp/x.h5" nasnet-a enas
if command -v h5dump >/dev/null; then
	h5dump -d /normal/op_a "$tmp/arch.h5" 2>/dev/null | grep -q '"avg_pool_3x3"'
	report $? "h5dump shows op names as strings"
	h5dump -a /format "$tmp/arch.h5" 2>/dev/null | grep -q 'nasnet-c/genotype'
	report $? "format attribute nasnet-c/genotype"
else
	skip "h5dump not installed"
	skip "h5dump not installed"
fi

if $py -c 'import h5py' 2>/dev/null; then
	edit() { # edit FILE PYTHON-STATEMENTS (f is the open file)
		cp "$tmp/arch.h5" "$1"
		$py -c "import h5py, numpy as np
f = h5py.File('$1', 'r+')
$2
f.attrs.__delitem__('checksum') if 'checksum' in f.attrs else None  # reach the reader's own checks
f.close()"
	}
	edit "$tmp/badop.h5" "d = f['/normal/op_a']; v = [x.decode() if isinstance(x, bytes) else x for x in d[()]]; v[2] = 'sep_conv_9x9'; del f['/normal/op_a']; f.create_dataset('/normal/op_a', data=np.array(v, dtype=object), dtype=h5py.string_dtype())"
	expect 3 "unknown op name in the file" $sg "$tmp/badop.h5"
	one_line_err "badop.h5: dataset '/normal/op_a' entry 2: unknown op 'sep_conv_9x9'" "unknown op: names file and dataset"
	edit "$tmp/badin.h5" "f['/reduce/input_b'][1] = 9"
	expect 3 "input index out of range in the file" $sg "$tmp/badin.h5"
	one_line_err "badin.h5: reduce cell block 1: input B is 9, expected 0..2" "bad input index: names file, cell and block"
	edit "$tmp/badcfg.h5" "f['/config'].attrs['batch'] = np.int64(0)"
	expect 3 "config value out of range" $sg "$tmp/badcfg.h5"
	one_line_err "badcfg.h5: attribute 'batch' on '/config' is 0" "bad config: names file and attribute"
	edit "$tmp/badtext.h5" "f.attrs['text'] = 'normal: edited by hand'"
	expect 3 "text attribute inconsistent with the cells" $sg "$tmp/badtext.h5"
	one_line_err "attribute 'text' does not match" "inconsistent text: one line"
	$py -c "import h5py; h5py.File('$tmp/foreign.h5', 'w').create_dataset('x', data=[1])"
	expect 3 "a foreign HDF5 file" $sg "$tmp/foreign.h5"
	one_line_err "not a nasnet-c file" "foreign HDF5: one line"
else
	for i in 1 2 3 4 5 6 7 8 9 10; do skip "python3 h5py not available"; done
fi
head -c 1000 "$tmp/arch.h5" >"$tmp/trunc.h5"
expect 3 "a truncated genotype file" $sg "$tmp/trunc.h5"
[ "$(wc -l <"$tmp/err")" = 1 ]; report $? "truncated: one line"
printf 'binary\0junk' >"$tmp/bin.txt"
expect 3 "a binary non-HDF5 file" $sg "$tmp/bin.txt"
one_line_err "binary file" "binary file: one line"

echo "1..$n"
