#!/bin/sh
# The tests of make distro, on the kernels built from Debian's own
# configurations (scripts/distro-build.sh): on amd64 the selftests and the
# snapshot story in a q35 guest with a VM generation ID device, on arm64 the
# device-tree guest (scripts/arm64-e2e.py rust).
# Runs inside the toolchain root filesystem (QEMU, dtc, clang for the arm64
# entry code).
#
# usage: distro-run.sh AMD64_BUILD ARM64_BUILD GUEST_PROGS ARM64_PROGS ARM64_BUSYBOX WORKDIR
#
# For each kernel it checks that the build is the distribution toolchain's
# and that the guest ran it: the booted kernel's /proc/version must name the
# compiler of that build's CONFIG_CC_VERSION_TEXT.  Prints each stage's count, the compiler
# and rustc of each kernel, and `distro: N passed, N failed`; a stage that
# ends without its count counts as one failure.
set -u

amd64=$1 arm64=$2 progs=$3 arm64_progs=$4 busybox=$5 work=$6
here=$(dirname "$0")
guest=$here/../guest
rm -rf "$work"
mkdir -p "$work"
passed=0 failed=0

# count STAGE OUTPUT: add the stage's `STAGE: N passed, N failed` line.
count() {
	line=$(grep -E "^$1: [0-9]+ passed, [0-9]+ failed" "$2" | tail -n 1)
	if [ -z "$line" ]; then
		echo "$1: 0 passed, 1 failed (the stage did not finish; output: $2)"
		failed=$((failed + 1))
		return
	fi
	set -- $line
	passed=$((passed + $2)) failed=$((failed + $4))
}

# booted STAGE BUILD CONSOLE COMPILER: the build is the distribution
# toolchain's (its CONFIG_CC_VERSION_TEXT names COMPILER), and the console's
# /proc/version names that compiler: the guest ran that build's kernel.
booted() {
	cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"$/\1/p' "$2/.config")
	version=$(grep -m 1 -F 'guest: Linux version' "$3" | sed 's/^guest: //')
	echo "$1.booted: ${version:-no /proc/version on the console}"
	case $cc in
	"$4 "*) ;;
	*) echo "  FAIL $1: $2 was not built by $4 but by ${cc:-nothing}"
	   echo "$1: 0 passed, 1 failed"; return ;;
	esac
	case $version in
	*"($cc"*) echo "$1: 1 passed, 0 failed" ;;
	*) echo "  FAIL $1: the guest did not run the kernel built in $2"; echo "$1: 0 passed, 1 failed" ;;
	esac
}

versions() {
	sed -n 's/^CONFIG_\(CC\|RUSTC\)_VERSION_TEXT=/distro: '"$1"' \1 /p' "$2/.config"
}

# amd64: the selftests, then the snapshot story.
out=$work/amd64-kselftest.txt
sh "$here/guest-run.sh" "$amd64/arch/x86/boot/bzImage" "$guest/kselftest-init.sh" \
	"$work" "$progs" > "$work/amd64-console.log" 2>&1
booted distro-amd64-kernel "$amd64" "$work/amd64-console.log" x86_64-linux-gnu-gcc-14 > "$work/amd64-kernel.txt"
cat "$work/amd64-kernel.txt"
count distro-amd64-kernel "$work/amd64-kernel.txt"
python3 "$here/tap-results.py" distro-amd64-kselftest "$work/amd64-console.log" \
	"$here/../tools/testing/selftests/sysgenid/sysgenid_test.c" > "$out" 2>&1
grep -v '^  ok ' "$out"
count distro-amd64-kselftest "$out"

out=$work/amd64-snapshot.txt
sh "$here/guest-initramfs.sh" "$work/snapshot.cpio" "$guest/snapshot-init.sh" "$progs"
python3 "$here/snapshot.py" "$amd64/arch/x86/boot/bzImage" "$work/snapshot.cpio" \
	"$work/snapshot" --stage distro-amd64-snapshot > "$out" 2>&1
grep -v '^  ok ' "$out"
count distro-amd64-snapshot "$out"

# arm64: the device-tree guest; its /init prints /proc/version first.
out=$work/arm64.txt
BUSYBOX=$busybox sh "$here/guest-initramfs.sh" "$work/arm64.cpio" "$guest/arm64-init.sh" \
	"$arm64_progs"
python3 "$here/arm64-e2e.py" rust "$arm64/arch/arm64/boot/Image" "$work/arm64.cpio" \
	"$work/arm64" --stage distro-arm64 > "$out" 2>&1
grep -v '^  ok ' "$out"
count distro-arm64 "$out"
booted distro-arm64-kernel "$arm64" "$work/arm64/console-a.log" aarch64-linux-gnu-gcc-14 > "$work/arm64-kernel.txt"
cat "$work/arm64-kernel.txt"
count distro-arm64-kernel "$work/arm64-kernel.txt"

versions amd64 "$amd64"
versions arm64 "$arm64"
echo "distro: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
