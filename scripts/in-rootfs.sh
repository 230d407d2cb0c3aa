#!/bin/sh
# Run a command inside the toolchain root filesystem.
#
# usage: in-rootfs.sh ROOTFS REPO CACHE COMMAND [ARG...]
#
# The command runs in private mount and PID namespaces: every mount made here
# (proc, sys, dev, tmpfs, the bind mounts of the repository at /src and of the
# cache at /cache) disappears with the namespace, and when the command ends the
# kernel kills whatever it left running.  Nothing needs cleaning up on the host.
set -eu

rootfs=$1 repo=$2 cache=$3
shift 3
# Resolved once: the lock, the mounts and the chroot must all be the same
# root filesystem even if toolchain.sh moves the link meanwhile.
rootfs=$(readlink -f "$rootfs")

[ -x "$rootfs/usr/bin/env" ] || { echo "in-rootfs: no root filesystem at $rootfs" >&2; exit 1; }
mkdir -p "$rootfs/src" "$rootfs/cache"
# A shared lock on the root filesystem for as long as the command runs
# (the namespace inherits the descriptor): toolchain.sh does not remove a
# superseded one that is still in use.
exec 9> "$rootfs/.in-use"
flock -s 9

# bindgen (0.71) takes the newest libclang it finds, and misparses the kernel
# headers with libclang 22 (the benchmark kernel's Clang): keep it on
# libclang-dev's 19, see toolchain/packages.lock.
exec unshare --mount --pid --fork --kill-child --propagation private -- /bin/sh -eu -c '
	r=$1 repo=$2 cache=$3
	shift 3
	mount -t proc proc "$r/proc"
	mount -t sysfs -o ro sysfs "$r/sys"
	mount -t tmpfs -o mode=755 tmpfs "$r/dev"
	for d in null zero full random urandom tty; do
		touch "$r/dev/$d"
		mount --bind "/dev/$d" "$r/dev/$d"
	done
	if [ -c /dev/kvm ]; then touch "$r/dev/kvm"; mount --bind /dev/kvm "$r/dev/kvm"; fi
	mkdir -p "$r/dev/pts" "$r/dev/shm"
	mount -t devpts -o newinstance,ptmxmode=0666 devpts "$r/dev/pts"
	ln -s pts/ptmx "$r/dev/ptmx"
	ln -s /proc/self/fd "$r/dev/fd"
	mount -t tmpfs -o mode=1777 tmpfs "$r/dev/shm"
	mount -t tmpfs -o mode=1777 tmpfs "$r/tmp"
	mount --bind "$repo" "$r/src"
	mount --bind "$cache" "$r/cache"
	exec chroot "$r" /usr/bin/env -i \
		HOME=/root LANG=C.UTF-8 TERM=dumb CI="${CI:-}" \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		LIBCLANG_PATH=/usr/lib/llvm-19/lib \
		"$@"
' in-rootfs "$rootfs" "$repo" "$cache" "$@"
