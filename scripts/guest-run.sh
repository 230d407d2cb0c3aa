#!/bin/sh
# Boot a kernel in QEMU (q35, TCG) with a VM Generation ID device and an
# initramfs that runs one script, and print the serial console.
# Runs inside the toolchain root filesystem.
#
# usage: guest-run.sh BZIMAGE INIT_SCRIPT WORKDIR [EXTRA_DIR]
#
# The initramfs comes from guest-initramfs.sh.  The guest gets GUEST_MEM
# megabytes (default 512) and GUEST_TIMEOUT seconds (default 120); QEMU is
# killed after that, and it dies with the sandbox's PID namespace in any
# case.  GUEST_APPEND adds to the kernel command line; its NAME=value words
# reach /init as environment.
set -eu

kernel=$1 script=$2 work=$3 extra=${4:-}

sh "$(dirname "$0")/guest-initramfs.sh" "$work/initramfs.cpio" "$script" "$extra"

timeout "${GUEST_TIMEOUT:-120}" qemu-system-x86_64 -M q35 -accel tcg -m "${GUEST_MEM:-512}" -smp 2 \
	-nographic -no-reboot -serial mon:stdio -net none \
	-kernel "$kernel" -initrd "$work/initramfs.cpio" \
	-append "console=ttyS0 panic=-1 quiet ${GUEST_APPEND:-}" \
	-device vmgenid,guid=auto | tr -d '\r'
