# tests/lib.sh - shared helpers of the TAP shell tests (source it).
#   t NAME 'shell condition'   one test point
#   finish                     print the plan
#   small_data FILE ARGS...    a small Fashion-MNIST dataset (import-data idx ARGS)
#   handler_ready PID          wait until a training process would checkpoint on SIGTERM
set -u
cd "$(dirname "$0")/.."
tmp=$(mktemp -d /tmp/nasnet-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
n=0
t() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; return 1; fi; }
finish() { echo "1..$n"; }
FASHION=/usr/share/datasets/fashion-mnist
small_data() {
	local out=$1; shift
	bin/import-data idx --quiet --train-images $FASHION/train-images-idx3-ubyte.gz \
		--train-labels $FASHION/train-labels-idx1-ubyte.gz \
		--test-images $FASHION/t10k-images-idx3-ubyte.gz \
		--test-labels $FASHION/t10k-labels-idx1-ubyte.gz "$@" -o "$out"
}
# wait (at most 120 s) until process PID catches SIGUSR1, which only the training
# loop's stop handler does (lib/train.c): then a SIGTERM asks it to checkpoint
handler_ready() {
	local i mask
	for i in $(seq 1200); do
		mask=$(awk '/^SigCgt:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 1
		[ -n "$mask" ] || return 1
		(((16#$mask >> 9) & 1)) && return 0
		sleep 0.1
	done
	return 1
}
# no temporary file of an atomic write left in a folder tree
no_tmp() { [ -z "$(find "$1" -name '.*.tmp.*' 2>/dev/null)" ]; }
export SOURCE_DATE_EPOCH=1700000000
unset MAKEFLAGS MFLAGS MAKELEVEL
# every file opens in h5py and every dataset and attribute reads (h5py is independent of our reader)
h5py_reads() {
	/usr/bin/python3 - "$@" <<'PY'
import sys, h5py
for path in sys.argv[1:]:
    with h5py.File(path, "r") as f:
        assert f.attrs["format"].startswith("nasnet-c/"), path
        def visit(name, obj):
            for v in obj.attrs.values():
                pass
            if isinstance(obj, h5py.Dataset):
                obj[()]
        f.visititems(visit)
        for v in f.attrs.values():
            pass
PY
}
# report STATUS DESCRIPTION: a test point from an exit status
report() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
# expect STATUS DESCRIPTION CMD...: exit status STATUS; stdout/stderr kept in $tmp/out, $tmp/err
expect() {
	local want=$1 desc=$2 rc
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "$rc" = "$want" ]
	report $? "$desc (exit $rc)"
	[ "$rc" = "$want" ] || sed 's/^/# /' "$tmp/err"
}
# one_line_err SUBSTRING DESCRIPTION: stderr is one line holding SUBSTRING
one_line_err() {
	local rc
	[ "$(wc -l <"$tmp/err")" = 1 ] && grep -qF -- "$1" "$tmp/err"
	rc=$?
	report $rc "$2"
	[ $rc = 0 ] || sed 's/^/# /' "$tmp/err"
}
