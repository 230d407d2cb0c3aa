#!/bin/sh
# Boot a kernel in QEMU (q35, TCG) with a VM Generation ID device and an
# initramfs that runs one script, and print the serial console.
# Runs inside the toolchain root filesystem.
#
# usage: guest-run.sh BZIMAGE INIT_SCRIPT WORKDIR [EXTRA_DIR]
#
# The initramfs comes from guest-initramfs.sh.  The guest is given 120
# seconds; QEMU is killed after that, and it dies with the sandbox's PID
# namespace in any case.
set -eu

kernel=$1 script=$2 work=$3 extra=${4:-}

sh "$(dirname "$0")/guest-initramfs.sh" "$work/initramfs.cpio" "$script" "$extra"

timeout 120 qemu-system-x86_64 -M q35 -accel tcg -m 512 -smp 2 \
	-nographic -no-reboot -serial mon:stdio -net none \
	-kernel "$kernel" -initrd "$work/initramfs.cpio" \
	-append "console=ttyS0 panic=-1 quiet" \
	-device vmgenid,guid=auto | tr -d '\r'
