#!/bin/sh
# Configure and build a kernel the way Debian builds its own: Debian's
# configuration (from linux-config-7.3) plus a fragment, olddefconfig, and the
# distribution toolchain: GCC 14 for C, trixie's rustc for Rust, no LLVM=1,
# BTF through pahole as the configuration asks.
# Runs inside the distribution root filesystem, in the build work tree.
#
# usage: distro-build.sh BUILDDIR amd64|arm64 "TARGETS" FRAGMENT...
#
# The configuration is regenerated only when Debian's, the fragments or the
# tree's Kconfig files change, so rebuilds are incremental.  Every Rust file
# is built with clippy.  Fails when an option of the fragments did not make it
# into .config, or when the build warns about a file of this series.  Prints
# the kernel's CONFIG_CC_VERSION_TEXT and CONFIG_RUSTC_VERSION_TEXT.
set -eu

build=$1 debarch=$2 targets=$3
shift 3

# Debian's CONFIG_CC_VERSION_TEXT names the versioned GCC driver: use the same.
# The arm64 linux-config-7.3 is unpacked, not installed (toolchain/distro.lock).
case $debarch in
amd64)
	kargs="ARCH=x86_64 CC=x86_64-linux-gnu-gcc-14"
	config=/usr/src/linux-config-7.3/config.amd64_none_amd64.xz
	;;
arm64)
	kargs="ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- CC=aarch64-linux-gnu-gcc-14"
	config=/opt/foreign/arm64/usr/src/linux-config-7.3/config.arm64_none_arm64.xz
	;;
*) echo "distro-build: no such architecture: $debarch" >&2; exit 2 ;;
esac
# shellcheck disable=SC2086  # kargs is a list of make variables
mk() { make -s $kargs O="$build" "$@"; }

mkdir -p "$build"
stamp=$build/.sysgenid-config
want=$({ cat "$config" "$@"; git ls-tree -r HEAD | grep -E '(/|[[:space:]])Kconfig[^/]*$'; } | sha256sum | cut -c1-16)
if [ ! -e "$build/.config" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	[ -e "$build/.config" ] && cp -p "$build/.config" "$build/.config.prev"
	xz -dc "$config" > "$build/.config"
	./scripts/kconfig/merge_config.sh -m -O "$build" "$build/.config" "$@" >/dev/null
	mk olddefconfig >/dev/null
	if [ -e "$build/.config.prev" ] && cmp -s "$build/.config" "$build/.config.prev"; then
		mv "$build/.config.prev" "$build/.config"
	fi
	rm -f "$build/.config.prev" "$build/.config.old"
	echo "$want" > "$stamp"
fi

missing=$(sed -n 's/^\(CONFIG_[A-Z0-9_]*=.*\)$/\1/p' "$@" | while IFS= read -r line; do
	grep -qxF "$line" "$build/.config" || echo "$line"
done)
if [ -n "$missing" ]; then
	echo "distro-build: $build: options not in .config (unmet dependencies?):" >&2
	echo "$missing" | sed 's/^/  /' >&2
	exit 1
fi

log=$build/.sysgenid-build.log
start=$(date +%s)
# shellcheck disable=SC2086  # TARGETS and kargs are lists
if ! make $kargs O="$build" CLIPPY=1 -j"$(nproc)" $targets > "$log" 2>&1; then
	grep -E -B2 -A12 'error(\[E[0-9]+\])?:|Error [0-9]' "$log" | head -n 80 >&2
	echo "distro-build: $build: build failed (log: $log)" >&2
	exit 1
fi
ours='sysgenid|vmgenid|rust/kernel/(acpi|io/memremap|io/resource|random|capability|miscdevice|page|fs/kiocb|mm/virt|sync/poll)|rust/helpers/(acpi|capability)'
# Where each warning points: rustc's "--> file:line" under it, GCC's prefix.
# (A file named in the lines after a warning is not its location.)
locations=$({ grep -E -A3 '^warning' "$log" | grep -E '^ *--> ' || true
	grep -E ': warning:' "$log" || true; })
if echo "$locations" | grep -E -q "$ours"; then
	echo "$locations" | grep -E "$ours" >&2
	echo "distro-build: $build: warnings in this series' files" >&2
	exit 1
fi
all=$(grep -c -E '^warning|: warning:' "$log" || true)
echo "distro-build: $build ($debarch, Debian's configuration, GCC, clippy): built $targets" \
	"in $(( $(date +%s) - start )) s; $all warnings in the log, none from this series"
grep -E '^CONFIG_(CC|RUSTC)_VERSION_TEXT=' "$build/.config" | sed 's/^/distro-build:   /'
