#!/bin/sh
# Unpack the pinned linux-source tarball into a pristine git repository.
# Runs inside the toolchain root filesystem.
#
# usage: tree.sh VERSION GITDIR
#
# GITDIR gets one commit holding the tarball as shipped, tagged vVERSION,
# with a fixed identity and date so the commit id is the same on every machine.
# The pristine checkout is never built in or modified; other work trees
# (git worktree) hang off it.
set -eu

version=$1 git=$2
series=${version%.*}
tarball=/usr/src/linux-source-$series.tar.xz

if git -C "$git" rev-parse -q --verify "refs/tags/v$version" >/dev/null 2>&1; then
	exit 0
fi

[ -r "$tarball" ] || { echo "tree: $tarball missing (package linux-source-$series)" >&2; exit 1; }

rm -rf "$git.tmp"
mkdir -p "$git.tmp"
echo "tree: unpacking $tarball"
tar -xJf "$tarball" -C "$git.tmp" --strip-components=1

have=$(make -s -C "$git.tmp" kernelversion)
if [ "$have" != "$version" ]; then
	echo "tree: $tarball holds Linux $have, the pin is $version; refusing it" >&2
	rm -rf "$git.tmp"
	exit 1
fi

cd "$git.tmp"
export GIT_AUTHOR_NAME="linux-source" GIT_AUTHOR_EMAIL="linux-source@localhost"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
export GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z"
git init -q -b pristine
git config core.autocrlf false
git config gc.auto 0
git add -A -f
git commit -q -m "Linux $version (Debian linux-source-$series $(dpkg-query -W -f '${Version}' "linux-source-$series"))"
git tag "v$version"
cd - >/dev/null
rm -rf "$git"
mv "$git.tmp" "$git"
echo "tree: $git at v$version ($(git -C "$git" rev-parse --short HEAD))"
