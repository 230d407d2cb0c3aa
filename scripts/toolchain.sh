#!/bin/sh
# Build (or reuse) a Debian trixie root filesystem holding a kernel toolchain,
# and point CACHE/NAME at it.
#
# usage: toolchain.sh CACHE LOCK NAME
#
# LOCK names the suite and the lowest acceptable version of each package
# (see toolchain-resolve.sh); each run resolves it against what the mirror
# serves today.  The root filesystem is keyed by the resolved versions and by
# this script, so a newer package builds a new root filesystem once, later
# runs reuse it, and the old one is removed when the new one is complete and
# nothing runs in it any more.  (in-rootfs.sh is not part of the key: it only
# sets up the namespaces a command runs in, not what the root filesystem holds.)
# When the mirror cannot be read, an existing root filesystem is kept.
# "#check TOOL..." lines of LOCK name the commands (or files) it must hold.
# An interrupted build leaves only a *.tmp directory that the next run discards.
set -eu

cache=$1 lock=$2 name=$3
here=$(cd "$(dirname "$0")" && pwd)
suite=trixie
mkdir -p "$cache"

listing=$cache/$name.listing
resolved=$cache/$name.resolved
if ! sh "$here/toolchain-listing.sh" "$cache" "$lock" > "$listing.tmp"; then
	if [ -e "$cache/$name/.complete" ]; then
		echo "toolchain: the mirror cannot be read; keeping $(readlink "$cache/$name")" >&2
		exit 0
	fi
	echo "toolchain: the mirror cannot be read and $cache/$name does not exist" >&2
	exit 1
fi
mv "$listing.tmp" "$listing"
sh "$here/toolchain-resolve.sh" "$lock" "$listing" > "$resolved.tmp" || exit 1
mv "$resolved.tmp" "$resolved"

key=$(cat "$resolved" "$0" | sha256sum | cut -c1-16)
dir=$cache/$name.$key

# A superseded root filesystem goes unless a command still runs in it
# (in-rootfs.sh holds its lock); then a later run removes it.
remove_superseded() {
	for old in "$cache/$name".*; do
		case $old in "$dir" | *.listing | *.resolved | *.log) continue ;; esac
		[ -d "$old" ] || continue
		flock -n -x "$old/.in-use" rm -rf "$old" ||
			echo "toolchain: keeping $old for now: in use (or not removable)" >&2
	done
}

if [ -e "$dir/.complete" ]; then
	ln -sfn "$name.$key" "$cache/$name"
	remove_superseded
	exit 0
fi

command -v debootstrap >/dev/null 2>&1 || {
	echo "toolchain: installing debootstrap on the host"
	apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null
}

mirror=$(sh "$here/host-mirror.sh")
echo "toolchain: building root filesystem $dir from the host's mirror"
sed 's/^/toolchain:   /' "$resolved"
rm -rf "$dir.tmp"
debootstrap --variant=minbase "$suite" "$dir.tmp" "$mirror" \
	> "$cache/$name.debootstrap.log" 2>&1 || {
	tail -n 20 "$cache/$name.debootstrap.log" >&2
	exit 1
}

printf 'deb %s %s main\ndeb %s %s-backports main\n' \
	"$mirror" "$suite" "$mirror" "$suite" > "$dir.tmp/etc/apt/sources.list"
rm -f "$dir.tmp"/etc/apt/sources.list.d/*

# "name=version" of one suite's packages; apt resolves their dependencies
# from that suite.  Packages named name:arch are of a foreign architecture:
# they are not installed but unpacked under /opt/foreign/<arch>.
pins() { awk -v s="$1" '$3 == s && $1 !~ /:/ { print $1 "=" $2 }' "$resolved"; }
foreign() { awk '$1 ~ /:/ { print $1 "=" $2 }' "$resolved"; }

"$here/in-rootfs.sh" "$dir.tmp" "$(pwd)" "$cache" /bin/sh -eu -c '
	export DEBIAN_FRONTEND=noninteractive
	for p in $4; do a=${p#*:}; dpkg --add-architecture "${a%%=*}"; done
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $1 >/dev/null
	[ -z "$2" ] || apt-get install -y -qq --no-install-recommends -t "$3" $2 >/dev/null
	cd /tmp
	for p in $4; do
		a=${p#*:}; a=${a%%=*}
		apt-get download -qq "$p"
		mkdir -p "/opt/foreign/$a"
		dpkg-deb -x ./*_"$a".deb "/opt/foreign/$a"
		rm -f ./*_"$a".deb
	done
	apt-get clean
	git config --system safe.directory "*" 2>/dev/null || true
	dpkg-query -W -f "\${Package} \${Version}\n" > /var/lib/sysgenid-toolchain.manifest
	for p in $4; do echo "${p%%=*} ${p#*=} (unpacked in /opt/foreign)"; done \
		>> /var/lib/sysgenid-toolchain.manifest
' toolchain "$(pins $suite | tr '\n' ' ')" "$(pins $suite-backports | tr '\n' ' ')" \
	"$suite-backports" "$(foreign | tr '\n' ' ')"

# The commands the lock says this toolchain must provide.
for tool in $(sed -n 's/^#check //p' "$lock"); do
	"$here/in-rootfs.sh" "$dir.tmp" "$(pwd)" "$cache" \
		sh -c "command -v $tool || test -e $tool" >/dev/null || {
		echo "toolchain: $tool is missing from the new root filesystem" >&2
		exit 1
	}
done

{
	echo "# resolved from $lock on $(date -u +%Y-%m-%d)"
	cat "$resolved"
	echo "# installed"
	cat "$dir.tmp/var/lib/sysgenid-toolchain.manifest"
} > "$dir.tmp/var/lib/sysgenid-toolchain.manifest.full"
cp "$dir.tmp/var/lib/sysgenid-toolchain.manifest.full" "$cache/$name-manifest.txt"
touch "$dir.tmp/.complete"
mv "$dir.tmp" "$dir"
ln -sfn "$name.$key" "$cache/$name"
remove_superseded
echo "toolchain: $name ready ($(wc -l < "$dir/var/lib/sysgenid-toolchain.manifest") packages," \
	"manifest in $cache/$name-manifest.txt)"
