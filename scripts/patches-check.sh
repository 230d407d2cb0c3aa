#!/bin/sh
# Fail if patches/ is stale, or does not `git am` onto the tree in use.
# Runs inside the toolchain root filesystem.
#
# usage: patches-check.sh PRISTINE REF BASE SRC PATCHDIR GEN_WT AM_WT
#
# The patches are regenerated from SRC's sources on REF and compared with
# PATCHDIR.  On the series' base release (BASE) they must be the same byte
# for byte.  On a newer stable tree, which is what the mirror serves once it
# moves on, the committed patches were generated on BASE, so their `index`
# lines and hunk positions may differ: they are compared without those, and
# PATCHDIR is applied with `git am -3`.  A series that no longer applies fails
# with the patch that broke and what to do.  SERIES_GEN and SERIES_APPLIED
# name the branches it makes (scratch checks must not move the real ones).
set -eu

pristine=$1 ref=$2 base=$3 src=$4 patches=$5 gen=$6 am=$7
here=$(cd "$(dirname "$0")" && pwd)
fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT

version=$(git -C "$pristine" show "$ref:Makefile" |
	awk -F' = ' '$1 == "VERSION" { v = $2 } $1 == "PATCHLEVEL" { p = $2 }
		$1 == "SUBLEVEL" { s = $2 } END { print v "." p "." s }')

if ! sh "$here/mkseries.sh" "$pristine" "$ref" "$src" "$gen" "$fresh/p" >"$fresh/log" 2>&1; then
	cat "$fresh/log" >&2
	echo "patches-check: the sources do not apply to Linux $version (the series' base is $base);" \
		"move KERNEL_BASE to $version and fix the series" >&2
	exit 1
fi

# Without what depends on the tree the patch was made on: blob ids, hunk
# positions, and a rename's similarity.
strip() {
	sed -e '/^index [0-9a-f]*\.\.[0-9a-f]*/d' -e '/^similarity index /d' \
		-e 's/^@@ -[0-9,]* +[0-9,]* @@/@@/' -e 's/^\( rename .*\) ([0-9]*%)$/\1/' "$1"
}

stale=
if [ "$version" = "$base" ]; then
	diff -r -q "$fresh/p" "$patches" >&2 || stale=1
else
	echo "patches-check: the tree is Linux $version, newer than the series' base $base:" \
		"patches/ compared without blob ids, hunk positions and rename similarity, applied with git am -3"
	# Both sides must hold the same files; then each pair is compared.
	ls "$fresh/p" > "$fresh/names.generated"
	ls "$patches" > "$fresh/names.committed"
	diff "$fresh/names.generated" "$fresh/names.committed" >&2 || stale=1
	for f in "$fresh"/p/*; do
		n=$(basename "$f")
		[ -e "$patches/$n" ] || continue
		strip "$f" > "$fresh/a"
		strip "$patches/$n" > "$fresh/b"
		cmp -s "$fresh/a" "$fresh/b" || { echo "differs: $n" >&2; stale=1; }
	done
fi
if [ -n "$stale" ]; then
	echo "patches-check: patches/ is stale; run make patches" >&2
	exit 1
fi
sh "$here/amseries.sh" "$pristine" "$ref" "$patches" "$am" "${SERIES_GEN:-series-gen}"
