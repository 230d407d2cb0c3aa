#!/bin/sh
# Apply patches/ with `git am` to the pristine tree, the way a maintainer would,
# and check the result is exactly what the sources generate.
# Runs inside the toolchain root filesystem.
#
# usage: amseries.sh PRISTINE REF PATCHDIR WORKTREE GENERATED_REF
#
# On success the applied series is left at the ref `series-applied` (or
# $SERIES_APPLIED, for a scratch check), which the
# build work trees check out (changing only the files that differ, so builds
# stay incremental).
set -eu

pristine=$1 ref=$2 patches=$3 wt=$4 generated=$5

git -C "$wt" am --abort >/dev/null 2>&1 || true
sh "$(dirname "$0")/worktree.sh" "$pristine" "$wt" "$ref" --clean
cd "$wt"

export GIT_COMMITTER_NAME=sysgenid-ci GIT_COMMITTER_EMAIL=sysgenid-ci@localhost
version=$(make -s kernelversion)
log=$(mktemp)
# -3: on a tree newer than the series' base, a patch whose context moved
# falls back to a three-way merge where git has the blobs for one.
# shellcheck disable=SC2046  # one argument per patch, in series order
if ! git am -q -3 --whitespace=error-all $(sed "s|^|$patches/|" "$patches/series") >"$log" 2>&1; then
	failing=$(sed -n 's/^Patch failed at \(.*\)/\1/p' "$log" | head -n 1)
	cat "$log" >&2
	echo "amseries: the series does not apply to Linux $version: patch ${failing:-?}" >&2
	git am --abort >/dev/null 2>&1 || true
	exit 1
fi
if ! git diff --quiet HEAD "$generated" --; then
	echo "amseries: applying patches/ does not give the tree the sources generate;" >&2
	echo "amseries: run 'make patches'" >&2
	exit 1
fi
git branch -f "${SERIES_APPLIED:-series-applied}" HEAD
echo "amseries: $(wc -l < "$patches/series") patches apply cleanly to Linux $version"
