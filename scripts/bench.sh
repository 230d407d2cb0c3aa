#!/bin/sh
# Run sysgenid-bench in the QEMU guest and keep its table and summary.
# Runs inside the toolchain root filesystem.
#
# usage: bench.sh BZIMAGE PROGS_DIR OUT_DIR [-q | -s]
#
# BENCH_LABEL names the stage in the last lines (default bench, or
# bench-smoke with -q).
# OUT_DIR receives table.md (the markdown table) and summary.txt (key=value).
# A missed target is reported, not failed: the figures come from an emulated
# guest and only their ratios are meaningful.  Fails when the program fails
# or prints no summary.
set -eu

kernel=$1 progs=$2 out=$3 args=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
label=${BENCH_LABEL:-bench}
[ "$args" = -q ] && label=bench-smoke

mkdir -p "$out"
console=$out/console.log
start=$(date +%s)
GUEST_TIMEOUT=1500 GUEST_APPEND="BENCH_ARGS=$args" \
	sh "$here/guest-run.sh" "$kernel" "$here/../guest/bench-init.sh" /tmp "$progs" \
	> "$console" 2>&1 || true
sed -n '/^| figure/,/^$/p' "$console" > "$out/table.md"
sed -n '/^bench: summary begin$/,/^bench: summary end$/{/^bench: /d;p}' "$console" > "$out/summary.txt"
cat "$out/table.md"
grep -m 1 "^guest: vmgenid bound:" "$console" || true
# The full figures are the bound driver's; the smoke run only checks the paths.
if [ "$args" != -q ] && grep -q "^guest: vmgenid bound: none" "$console"; then
	echo "$label: 0 passed, 1 failed (the VM Generation ID driver was not bound)"
	exit 1
fi
if ! grep -q "^guest: bench exit=0$" "$console" || [ ! -s "$out/summary.txt" ]; then
	grep -E "^bench:|^guest:|BUG|WARNING|RIP" "$console" | tail -n 20
	echo "$label: 0 passed, 1 failed (console: $console)"
	exit 1
fi
echo "$label: $(grep -c . "$out/summary.txt") figures in $out/summary.txt;" \
	"$(grep -c ' met |$' "$out/table.md") targets met, $(grep -c ' missed |$' "$out/table.md") missed;" \
	"$(( $(date +%s) - start )) s"
echo "$label: 1 passed, 0 failed"
