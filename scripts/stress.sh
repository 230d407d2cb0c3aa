#!/bin/sh
# Run the hardening pass in the debug guest and judge it.
# Runs inside the toolchain root filesystem.
#
# usage: stress.sh BZIMAGE PROGS_DIR OUT_DIR LABEL [STRESS_ARGS...]
#
# Passes when the stress run and the injection run exit 0, kmemleak reports
# nothing, and the kernel logged no lockdep, KASAN, UBSAN, list-debug, BUG or
# WARNING report.
set -eu

kernel=$1 progs=$2 out=$3 label=$4
shift 4
here=$(cd "$(dirname "$0")" && pwd)

mkdir -p "$out"
console=$out/console.log
start=$(date +%s)
# An oops ends the run at once (a driver that dies holding its lock would
# otherwise hang the guest until the timeout).
GUEST_TIMEOUT=${GUEST_TIMEOUT:-900} GUEST_MEM=1024 \
	GUEST_APPEND="oops=panic STRESS_ARGS=$(echo "$*" | tr ' ' ,)" \
	sh "$here/guest-run.sh" "$kernel" "$here/../guest/stress-init.sh" /tmp "$progs" \
	> "$console" 2>&1 || true
grep -E "^(stress|inject|guest):" "$console" || true
failed=0
for want in "guest: stress exit=0" "guest: inject exit=0" "guest: kmemleak leaks=0" \
	"guest: kernel reports=0"; do
	if ! grep -qx "$want" "$console"; then
		echo "$label: expected '$want'"
		failed=1
	fi
done
if [ $failed -ne 0 ]; then
	grep -E -A12 "BUG:|WARNING:|KASAN|UBSAN|unreferenced object|VIOLATION" "$console" | head -n 60
	echo "$label: 0 passed, 1 failed (console: $console, $(( $(date +%s) - start )) s)"
	exit 1
fi
echo "$label: 1 passed, 0 failed ($(( $(date +%s) - start )) s)"
