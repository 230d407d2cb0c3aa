#!/bin/sh
# Build (or reuse) the Debian trixie root filesystem that holds the kernel
# toolchain, and point CACHE/rootfs at it.
#
# usage: toolchain.sh CACHE LOCKFILE
#
# The root filesystem is keyed by the lock file and this script: a changed
# package list builds a new one beside the old, which is removed once the new
# one is complete.  An interrupted build leaves only a *.tmp directory that the
# next run discards.
set -eu

cache=$1 lock=$2
here=$(cd "$(dirname "$0")" && pwd)
suite=trixie

key=$(cat "$lock" "$0" | sha256sum | cut -c1-16)
dir=$cache/rootfs-$key

if [ -e "$dir/.complete" ]; then
	ln -sfn "rootfs-$key" "$cache/rootfs"
	exit 0
fi

command -v debootstrap >/dev/null 2>&1 || {
	echo "toolchain: installing debootstrap on the host"
	apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null
}

mirror=$(sh "$here/host-mirror.sh" || true)
echo "toolchain: building root filesystem $dir (${mirror:-debootstrap default mirror})"
rm -rf "$dir.tmp"
mkdir -p "$cache"
debootstrap --variant=minbase "$suite" "$dir.tmp" ${mirror:+"$mirror"} \
	> "$cache/debootstrap.log" 2>&1 || {
	tail -n 20 "$cache/debootstrap.log" >&2
	exit 1
}

mirror=${mirror:-$(awk '$1 == "deb" { print $2; exit }' "$dir.tmp/etc/apt/sources.list")}
printf 'deb %s %s main\ndeb %s %s-backports main\n' \
	"$mirror" "$suite" "$mirror" "$suite" > "$dir.tmp/etc/apt/sources.list"
rm -f "$dir.tmp"/etc/apt/sources.list.d/*

# "name=version" per suite; apt resolves each suite's dependencies from it.
pins() { awk -v s="$1" '!/^#/ && NF == 3 && $3 == s && $1 !~ /:/ { print $1 "=" $2 }' "$lock"; }
# "name:arch=version" of the foreign-architecture packages.
foreign() { awk '!/^#/ && NF == 3 && $1 ~ /:/ { print $1 "=" $2 }' "$lock"; }

"$here/in-rootfs.sh" "$dir.tmp" "$(pwd)" "$cache" /bin/sh -eu -c '
	export DEBIAN_FRONTEND=noninteractive
	for p in $4; do a=${p#*:}; dpkg --add-architecture "${a%%=*}"; done
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $1 >/dev/null
	apt-get install -y -qq --no-install-recommends -t "$3" $2 >/dev/null
	cd /tmp
	for p in $4; do
		a=${p#*:}; a=${a%%=*}
		apt-get download -qq "$p"
		mkdir -p "/opt/foreign/$a"
		dpkg-deb -x ./*_"$a".deb "/opt/foreign/$a"
		rm -f ./*_"$a".deb
	done
	apt-get clean
	git config --system safe.directory "*"
	dpkg-query -W -f "\${Package} \${Version}\n" > /var/lib/sysgenid-toolchain.manifest
	for p in $4; do echo "${p%%=*} ${p#*=} (unpacked in /opt/foreign)"; done \
		>> /var/lib/sysgenid-toolchain.manifest
' toolchain "$(pins $suite | tr '\n' ' ')" "$(pins $suite-backports | tr '\n' ' ')" \
	"$suite-backports" "$(foreign | tr '\n' ' ')"

# Prove the result can build Rust for the kernel, and run the arm64 guest,
# before calling it complete.
for tool in rustc clang ld.lld bindgen qemu-system-aarch64 dtc aarch64-linux-gnu-gcc \
	/opt/foreign/arm64/usr/bin/busybox; do
	"$here/in-rootfs.sh" "$dir.tmp" "$(pwd)" "$cache" sh -c "command -v $tool" >/dev/null
done

cp "$dir.tmp/var/lib/sysgenid-toolchain.manifest" "$cache/toolchain-manifest.txt"
touch "$dir.tmp/.complete"
mv "$dir.tmp" "$dir"
ln -sfn "rootfs-$key" "$cache/rootfs"
for old in "$cache"/rootfs-*; do
	[ "$old" = "$dir" ] || rm -rf "$old"
done
echo "toolchain: ready ($(wc -l < "$cache/toolchain-manifest.txt") packages, manifest in $cache/toolchain-manifest.txt)"
