#!/bin/sh
# Apply patches/ with `git am` to the pristine tree, the way a maintainer would,
# and check the result is exactly what the sources generate.
# Runs inside the toolchain root filesystem.
#
# usage: amseries.sh PRISTINE VERSION PATCHDIR WORKTREE GENERATED_REF
#
# On success the applied series is left at the ref `series-applied`, which the
# build work trees check out (changing only the files that differ, so builds
# stay incremental).
set -eu

pristine=$1 version=$2 patches=$3 wt=$4 generated=$5

git -C "$wt" am --abort >/dev/null 2>&1 || true
sh "$(dirname "$0")/worktree.sh" "$pristine" "$wt" "v$version" --clean
cd "$wt"

export GIT_COMMITTER_NAME=sysgenid-ci GIT_COMMITTER_EMAIL=sysgenid-ci@localhost
# shellcheck disable=SC2046  # one argument per patch, in series order
if ! git am -q --whitespace=error-all $(sed "s|^|$patches/|" "$patches/series"); then
	echo "amseries: the series does not apply to v$version" >&2
	git am --abort >/dev/null 2>&1 || true
	exit 1
fi
if ! git diff --quiet HEAD "$generated" --; then
	echo "amseries: applying patches/ does not give the tree the sources generate;" >&2
	echo "amseries: run 'make patches'" >&2
	exit 1
fi
git branch -f series-applied HEAD
echo "amseries: $(wc -l < "$patches/series") patches apply cleanly to v$version"
