#!/bin/sh
# Build a Kconfig variant of an existing build, with clippy.
# Runs inside the toolchain root filesystem, in the build work tree.
#
# usage: variant.sh SEED BUILDDIR ARCH "TARGETS" FRAGMENT...
#
# The first time, BUILDDIR starts as a copy of SEED (a build of the same tree
# with nearly the same options), so only what the differing options touch,
# and the Rust code (for clippy, and because its commands name the build
# directory), is compiled; afterwards BUILDDIR is rebuilt incrementally on
# its own.
set -eu

seed=$1 build=$2
shift 2

if [ ! -e "$build/.config" ]; then
	rm -rf "$build.tmp"
	cp -a "$seed" "$build.tmp"
	rm -rf "$build.tmp/.sysgenid-bisect"
	# objtool's own build records absolute output paths; left as they are,
	# it would be rebuilt, and every object with it.  Point them at the
	# copy, keeping each file's timestamp.
	[ ! -d "$build.tmp/tools" ] || grep -rl "$seed/" "$build.tmp/tools" | while IFS= read -r f; do
		touch -r "$f" "$build.tmp/.stamp"
		sed -i "s|$seed/|$build/|g" "$f"
		touch -r "$build.tmp/.stamp" "$f"
	done
	rm -f "$build.tmp/.stamp"
	mv "$build.tmp" "$build"
fi
exec sh "$(dirname "$0")/kbuild.sh" --clippy "$build" "$@"
