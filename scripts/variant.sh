#!/bin/sh
# Build a Kconfig variant of an existing build, with clippy.
# Runs inside the toolchain root filesystem, in the build work tree.
#
# usage: variant.sh SEED BUILDDIR ARCH "TARGETS" FRAGMENT...
#
# The first time, BUILDDIR starts as a copy of SEED (a build of the same tree
# with nearly the same options), so only what the differing options touch,
# and the Rust code for clippy, is compiled; afterwards BUILDDIR is rebuilt
# incrementally on its own.
set -eu

seed=$1 build=$2
shift 2

if [ ! -e "$build/.config" ]; then
	rm -rf "$build.tmp"
	cp -a "$seed" "$build.tmp"
	rm -rf "$build.tmp/.sysgenid-bisect"
	mv "$build.tmp" "$build"
fi
exec sh "$(dirname "$0")/kbuild.sh" --clippy "$build" "$@"
