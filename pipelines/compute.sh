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
# One h5dump for the whole round: every attribute, each an ATTRIBUTE "name" line and
# then a "(0): value" line. A rung's stats file (successive halving) counts its own
# @rung_images and @rung_seconds (@images and @train_seconds include the earlier
# rungs it continued from); a file without them is a whole training.
h5dump --onlyattr "${files[@]}" |
	awk -v n=${#files[@]} '
		function flush() { if (!f) return
			img += ("rung_images" in v) ? v["rung_images"] : v["images"]
			cpu += (("rung_seconds" in v) ? v["rung_seconds"] : v["train_seconds"]) * (("threads" in v) ? v["threads"] : 1)
			for (k in v) delete v[k] }
		/^HDF5 "/ { flush(); f++ }
		/^ *ATTRIBUTE "/ { split($0, q, "\""); a = q[2] }
		/^ *\(0\): / && (a == "images" || a == "rung_images" || a == "train_seconds" || a == "rung_seconds" || a == "threads") {
			v[a] = $2; a = "" }
		END { flush()
			if (f != n) { print "compute.sh: read " f " of " n " stats files" > "/dev/stderr"; exit 1 }
			printf "%.0f\t%.3f\t%d\n", img, cpu, n }'
