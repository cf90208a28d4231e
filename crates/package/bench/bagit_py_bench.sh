#!/usr/bin/env bash
# Times bagit.py making and validating a bag of SOURCE, then custody-package's
# bag_bench example exporting (copying) and validating a bag of the same files, and
# prints both ratios.
#
#   crates/package/bench/bagit_py_bench.sh SOURCE_DIR [WORK_DIR]
#
# bagit.py converts a directory in place, so it runs on a copy of SOURCE (the copy is
# not timed). Both run single-shot, with warm page caches for their input: SOURCE is
# read once before timing, and bagit.py's copy is fresh in the cache after `cp`.
# bagit.py runs with its defaults: one process, SHA-256 and SHA-512. The copy is timed
# separately (with a `sync` to make it durable, as the Custody export is): the ratios are
# given without it (bagit.py's best case) and with it (the same work as an export that
# leaves the source untouched).
# BAG_BENCH_FEATURES=openssl builds the example with libcrypto's SHA-512.
# Needs: bagit.py (pip install bagit), a Rust toolchain. Run from the repository root.
set -euo pipefail

src=${1:?usage: bagit_py_bench.sh SOURCE_DIR [WORK_DIR]}
work=${2:-$(mktemp -d "${TMPDIR:-/tmp}/bagit-bench.XXXXXX")}
mkdir -p "$work"
command -v bagit.py >/dev/null || { echo "bagit.py not found: pip install bagit" >&2; exit 1; }

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
features=${BAG_BENCH_FEATURES:-}
cargo build --release -q -p custody-package --example bag_bench ${features:+--features "$features"}
bench="$CARGO_TARGET_DIR/release/examples/bag_bench"

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.3f}')"; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "source: $src ($(du -sh "$src" | cut -f1), $(find "$src" -type f | wc -l) files)"
find "$src" -type f -exec cat {} + > /dev/null

rm -rf "$work/py-bag" "$work/rs-bag"
sync
t0=$(now); cp -a "$src" "$work/py-bag"; sync; t1=$(now)
py_copy=$(elapsed "$t0" "$t1")

t0=$(now); bagit.py --quiet "$work/py-bag"; t1=$(now)
py_make=$(elapsed "$t0" "$t1")
sync
t0=$(now); bagit.py --quiet --validate "$work/py-bag"; t1=$(now)
py_validate=$(elapsed "$t0" "$t1")
echo "cp -a + sync:       ${py_copy} s"
echo "bagit.py make:     ${py_make} s"
echo "bagit.py validate: ${py_validate} s"
rm -rf "$work/py-bag"
sync

out=$("$bench" "$src" "$work/rs-bag")
echo "$out" | grep -v '_SECONDS='
rs_export=$(echo "$out" | sed -n 's/^EXPORT_SECONDS=//p')
rs_validate=$(echo "$out" | sed -n 's/^VALIDATE_SECONDS=//p')

python3 - "$py_make" "$py_validate" "$rs_export" "$rs_validate" "$py_copy" <<'PY'
import sys
pm, pv, re_, rv, pc = map(float, sys.argv[1:])
print(f"ratio make:     bagit.py {pm:.2f} s / custody export {re_:.2f} s = {pm / re_:.2f}x")
print(f"ratio validate: bagit.py {pv:.2f} s / custody validate {rv:.2f} s = {pv / rv:.2f}x")
print(f"ratio total:    {pm + pv:.2f} s / {re_ + rv:.2f} s = {(pm + pv) / (re_ + rv):.2f}x")
print(f"with the copy:  make {pc + pm:.2f} s / {re_:.2f} s = {(pc + pm) / re_:.2f}x, "
      f"total {pc + pm + pv:.2f} s / {re_ + rv:.2f} s = {(pc + pm + pv) / (re_ + rv):.2f}x")
PY
