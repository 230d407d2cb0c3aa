#!/bin/sh
# Configure and build a kernel the way Debian builds its own: Debian's
# configuration (from linux-config-7.3) plus fragments, olddefconfig, and the
# distribution toolchain: GCC 14 for C, trixie's rustc for Rust, no LLVM=1,
# BTF through pahole as the configuration asks.  Every Rust file is built
# with clippy; kbuild.sh does the rest (and fails on a warning in a file of
# this series).  Prints the kernel's CONFIG_CC_VERSION_TEXT and
# CONFIG_RUSTC_VERSION_TEXT.
# Runs inside the distribution root filesystem, in the build work tree.
#
# usage: distro-build.sh BUILDDIR amd64|arm64 "TARGETS" FRAGMENT...
set -eu

build=$1 debarch=$2 targets=$3
shift 3

# Debian's CONFIG_CC_VERSION_TEXT names the versioned GCC driver: use the same.
# The arm64 linux-config-7.3 is unpacked, not installed (toolchain/distro.lock).
case $debarch in
amd64)
	arch=x86_64 toolchain=CC=x86_64-linux-gnu-gcc-14
	config=/usr/src/linux-config-7.3/config.amd64_none_amd64.xz
	;;
arm64)
	arch=arm64 toolchain="CROSS_COMPILE=aarch64-linux-gnu- CC=aarch64-linux-gnu-gcc-14"
	config=/opt/foreign/arm64/usr/src/linux-config-7.3/config.arm64_none_arm64.xz
	;;
*) echo "distro-build: no such architecture: $debarch" >&2; exit 2 ;;
esac

sh "$(dirname "$0")/kbuild.sh" --clippy --base "$config" --make "$toolchain" \
	"$build" "$arch" "$targets" "$@"
grep -E '^CONFIG_(CC|RUSTC)_VERSION_TEXT=' "$build/.config" | sed 's/^/distro-build:   /'
