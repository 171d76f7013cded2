#!/usr/bin/env bash
# t0920-fuzz-regressions.sh - replay every fuzz seed (tests/fuzz/corpus/<h>/)
# and every saved crashing input (tests/fuzz/regress/<h>/) through the
# harness tests/fuzz/fuzz_<h>.c linked with gcc and tests/fuzz/driver.c
# (no clang needed; under `make check-asan` with the sanitizers). A test
# point per harness: the driver must replay all its files and exit 0.
set -u
cd "$(dirname "$0")/.."
n=0
export HDF5_USE_FILE_LOCKING=FALSE
for src in tests/fuzz/fuzz_*.c; do
	h=$(basename "$src" .c); h=${h#fuzz_}
	files=$(find "tests/fuzz/corpus/$h" "tests/fuzz/regress/$h" -type f 2>/dev/null | sort)
	n=$((n + 1))
	if ! make --no-print-directory -s "build/fuzz/regress/fuzz_$h" >/dev/null 2>&1; then
		echo "not ok $n - $h: regression driver does not build"; continue
	fi
	count=$(echo "$files" | grep -c .)
	# shellcheck disable=SC2086
	if out=$("build/fuzz/regress/fuzz_$h" $files 2>/dev/null) &&
	   [ "$(echo "$out" | grep -c '^replayed')" -eq "$count" ]; then
		echo "ok $n - $h: $count inputs replayed"
	else
		echo "not ok $n - $h: replay failed"
	fi
done
echo "1..$n"
