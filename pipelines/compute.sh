#!/usr/bin/env bash
# compute.sh ROUND_DIR - the compute a search round spent, from its children's
# training stats files (every *.stats.h5 in the folder: one per child, and
# one per rung of a child under successive halving).
#
# Prints a header and one line:
#   images       training images processed (deterministic: steps x batch)
#   cpu_seconds  training seconds x threads of each child, summed (not
#                deterministic; scoring and waiting are not counted)
#   files        stats files counted
# A child that crashed before writing its stats file counts 0 images.
# Exit status: 0 ok, 1 h5dump failed, 2 usage.
set -eu -o pipefail
export LC_ALL=C
[ $# = 1 ] && [ -d "$1" ] || { echo "compute.sh: usage: compute.sh ROUND_DIR" >&2; exit 2; }
shopt -s nullglob
files=("$1"/*.stats.h5)
printf 'images\tcpu_seconds\tfiles\n'
if [ ${#files[@]} = 0 ]; then
	printf '0\t0\t0\n'
	exit 0
fi
# one h5dump for the whole round; its output is one ATTRIBUTE "name" line, then
# a "(0): value" line, per attribute and file
h5dump -a /images -a /train_seconds -a /provenance/threads "${files[@]}" |
	awk -v n=${#files[@]} '
		/^HDF5 / { f++; th = 1 }
		/ATTRIBUTE "/ { split($0, q, "\""); a = q[2] }
		/^ *\(0\):/ { v = $2
			if (a == "images") img += v
			else if (a == "train_seconds") sec[f] = v
			else if (a == "threads") th = v
			if (a == "threads") cpu += sec[f] * th }
		END { if (f != n) { print "compute.sh: read " f " of " n " stats files" > "/dev/stderr"; exit 1 }
			printf "%.0f\t%.3f\t%d\n", img, cpu, n }'
