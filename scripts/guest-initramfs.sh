#!/bin/sh
# Build a guest initramfs: Debian's static busybox, INIT_SCRIPT as /init and
# the contents of EXTRA_DIR (statically linked programs) under /bin.
# BUSYBOX names another busybox binary (the arm64 guest's).
# Runs inside the toolchain root filesystem.
#
# usage: guest-initramfs.sh OUT.cpio INIT_SCRIPT [EXTRA_DIR]
set -eu

out=$1 script=$2 extra=${3:-}
root=$out.root
rm -rf "$root"
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp"
cp "${BUSYBOX:-/bin/busybox}" "$root/bin/busybox"
cp "$script" "$root/init"
chmod 755 "$root/init"
if [ -n "$extra" ]; then
	cp -r "$extra"/. "$root/bin/"
fi
(cd "$root" && find . | cpio -o -H newc --quiet) > "$out"
rm -rf "$root"
