#!/bin/sh
# What happens when the mirror moves to a newer 7.3.y, on two simulated
# releases made on top of the tree in use (refs/sim/*, removed afterwards):
#   moved:    SUBLEVEL bumped and lines added above the series' hunks in
#             files it patches: the series must be accepted, saying it is
#             checked against the newer release;
#   conflict: a line the series' first patch rewrites is changed: it must fail
#             with one line naming the release and what to do.
# Runs inside the toolchain root filesystem.
#
# usage: test-tree-policy.sh PRISTINE BASE SRC
set -u

pristine=$1 base=$2 src=$3
here=$(cd "$(dirname "$0")" && pwd)
scratch=/cache/trees/sim
passed=0 failed=0
# One stable release past the tree in use (which may already be past BASE).
sublevel=$(git -C "$pristine" show tree:Makefile | sed -n 's/^SUBLEVEL = //p')
newer=${base%.*}.$((sublevel + 1))

# simulate NAME SED-ON-vmgenid.c: a commit on `tree` with SUBLEVEL bumped.
simulate() {
	sh "$here/worktree.sh" "$pristine" "$scratch" tree --clean
	(
		cd "$scratch" &&
		sed -i "s/^SUBLEVEL = .*/SUBLEVEL = ${newer##*.}/" Makefile &&
		sed -i "$2" drivers/virt/vmgenid.c &&
		sed -i '1a // A stable fix elsewhere in this file.\n//\n//' rust/kernel/miscdevice.rs &&
		git -c user.name=sim -c user.email=sim@localhost commit -q -a -m "Linux $newer (simulated)" &&
		git update-ref "refs/sim/$1" HEAD
	)
}

# check NAME EXPECTED-STATUS PATTERN
check() {
	out=$(SERIES_GEN=sim-gen SERIES_APPLIED=sim-applied sh "$here/patches-check.sh" "$pristine" "refs/sim/$1" "$base" "$src" "$src/patches" \
		/cache/trees/sim-gen /cache/trees/sim-am 2>&1)
	status=$?
	if { [ "$2" = 0 ] && [ $status -eq 0 ]; } || { [ "$2" != 0 ] && [ $status -ne 0 ]; } &&
		echo "$out" | grep -q "$3"; then
		passed=$((passed + 1))
		echo "ok $1: $(echo "$out" | grep "$3" | head -n 1)"
	else
		failed=$((failed + 1))
		echo "not ok $1 (exit $status, expected $2 and /$3/)"
		echo "$out" | tail -n 15 | sed 's/^/#   /'
	fi
}

simulate moved '3a /* A stable fix elsewhere in this file. */\n'
check moved 0 "patches apply cleanly to Linux $newer"
simulate conflict 's/IRQF_SHARED, "vmgenid", &pdev->dev);/IRQF_SHARED | IRQF_NO_AUTOEN, "vmgenid", \&pdev->dev);/'
check conflict 1 "do not apply to Linux $newer.*move KERNEL_BASE"

git -C "$pristine" for-each-ref --format='%(refname)' refs/sim | xargs -r -n1 git -C "$pristine" update-ref -d
for t in /cache/trees/sim-gen /cache/trees/sim-am; do git -C "$t" checkout -q --detach 2>/dev/null; done
git -C "$pristine" branch -q -D sim-gen sim-applied 2>/dev/null
echo "tree-policy: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
