#!/bin/sh
# Check toolchain-resolve.sh on the recorded listings in toolchain/tests/:
# each case directory holds a lock, a listing and the expected output (stdout
# and stderr in order, then "exit N").
#
# usage: test-resolver.sh [CASEDIR...]
set -u

here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || set -- "$here"/../toolchain/tests/*/
passed=0 failed=0
for c; do
	c=${c%/}
	name=$(basename "$c")
	got=$(sh "$here/toolchain-resolve.sh" "$c/lock" "$c/listing" 2>&1; echo "exit $?")
	if [ "$got" = "$(cat "$c/expect")" ]; then
		passed=$((passed + 1))
		echo "ok $name"
	else
		failed=$((failed + 1))
		echo "not ok $name"
		echo "$got" | diff "$c/expect" - | sed 's/^/#   /'
	fi
done
echo "resolver: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
