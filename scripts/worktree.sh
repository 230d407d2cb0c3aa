#!/bin/sh
# Check out REF in a work tree of the pristine repository, creating the work
# tree (or recreating it, if its git metadata is gone) when needed.
# Runs inside the toolchain root filesystem.
#
# usage: worktree.sh PRISTINE DIR REF [--clean]
#
# An existing work tree is moved with `git checkout -f`, which rewrites only
# the files that differ, so builds in it stay incremental.  --clean also
# removes untracked files (for the scratch trees, never for the build tree).
set -eu

pristine=$1 dir=$2 ref=$3 clean=${4:-}

if ! git -C "$dir" rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
   [ "$(git -C "$dir" rev-parse --show-toplevel)" != "$dir" ]; then
	git -C "$pristine" worktree prune
	mkdir -p "$(dirname "$dir")"
	if [ -d "$dir" ]; then
		# The files are there but git lost track of them: register the
		# directory again without rewriting them, so their timestamps,
		# and with them the incremental build, survive.
		rm -rf "$dir.new" "$dir/.git"
		git -C "$pristine" worktree add -q --no-checkout --detach "$dir.new" "$ref"
		mv "$dir.new/.git" "$dir/.git"
		rmdir "$dir.new"
		sed -i "s|$dir.new|$dir|" "$(git -C "$dir" rev-parse --git-dir)/gitdir"
		git -C "$dir" reset -q
	else
		git -C "$pristine" worktree add -q --detach "$dir" "$ref"
	fi
fi
git -C "$dir" checkout -q -f --detach "$ref"
if [ "$clean" = --clean ]; then
	git -C "$dir" clean -q -f -d -x
fi
