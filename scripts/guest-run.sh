#!/bin/sh
# Boot a kernel in QEMU (q35, TCG) with a VM Generation ID device and an
# initramfs that runs one script, and print the serial console.
# Runs inside the toolchain root filesystem.
#
# usage: guest-run.sh BZIMAGE INIT_SCRIPT WORKDIR [EXTRA_DIR]
#
# The initramfs holds Debian's static busybox, INIT_SCRIPT as /init and the
# contents of EXTRA_DIR (statically linked test programs) under /bin.  The
# guest is given 120 seconds; QEMU is killed after that, and it dies with
# the sandbox's PID namespace in any case.
set -eu

kernel=$1 script=$2 work=$3 extra=${4:-}

root=$work/initramfs
rm -rf "$root"
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
cp "$script" "$root/init"
if [ -n "$extra" ]; then
	cp -r "$extra"/. "$root/bin/"
fi
chmod 755 "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet) > "$work/initramfs.cpio"

accel=tcg
timeout 120 qemu-system-x86_64 -M q35 -accel "$accel" -m 512 -smp 2 \
	-nographic -no-reboot -serial mon:stdio -net none \
	-kernel "$kernel" -initrd "$work/initramfs.cpio" \
	-append "console=ttyS0 panic=-1 quiet" \
	-device vmgenid,guid=auto | tr -d '\r'
