#!/bin/sh
# Unpack the linux-source tarball the toolchain resolved into a pristine git
# repository.  Runs inside the toolchain root filesystem.
#
# usage: tree.sh BASE GITDIR
#
# BASE is the release the series is generated against (7.3.4).  The mirror
# keeps one linux-source-7.3, so when it moves to a newer stable release
# (7.3.5) that tree is used instead: it is imported as vVERSION and the
# series is checked and applied against it (scripts/patches-check.sh).  An
# older release, or another series, is refused.
#
# GITDIR gets one commit holding the tarball as shipped, with a fixed identity
# and date so the commit id is the same on every machine, tagged vVERSION and
# `tree`, the ref every later step starts from.  The pristine checkout is never
# built in or modified; other work trees (git worktree) hang off it.
set -eu

base=$1 git=$2
series=${base%.*}
tarball=/usr/src/linux-source-$series.tar.xz
deb=$(dpkg-query -W -f '${Version}' "linux-source-$series" 2>/dev/null || true)
subject="Linux %s (Debian linux-source-$series $deb)"

# Already imported from this very package?
if [ -n "$deb" ] && git -C "$git" log -1 --format=%s tree 2>/dev/null |
	grep -q "(Debian linux-source-$series $deb)$"; then
	exit 0
fi

[ -r "$tarball" ] || { echo "tree: $tarball missing (package linux-source-$series)" >&2; exit 1; }

rm -rf "$git.tmp"
mkdir -p "$git.tmp"
echo "tree: unpacking $tarball"
tar -xJf "$tarball" -C "$git.tmp" --strip-components=1

have=$(make -s -C "$git.tmp" kernelversion)
case $have in
"$series".[0-9] | "$series".[0-9][0-9] | "$series".[0-9][0-9][0-9]) ok=1 ;;
*) ok= ;;
esac
if [ -z "$ok" ] || [ "${have##*.}" -lt "${base##*.}" ]; then
	echo "tree: $tarball holds Linux $have, older than the series' base $base or of another series; refusing it" >&2
	rm -rf "$git.tmp"
	exit 1
fi
if [ "$have" != "$base" ]; then
	echo "tree: the mirror serves Linux $have, newer than the series' base $base: the series is checked against $have"
fi

cd "$git.tmp"
export GIT_AUTHOR_NAME="linux-source" GIT_AUTHOR_EMAIL="linux-source@localhost"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
export GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z"
git init -q -b pristine
git config core.autocrlf false
git config gc.auto 0
git add -A -f
# shellcheck disable=SC2059  # the subject is a format of our own
git commit -q -m "$(printf "$subject" "$have")"
git tag "v$have"
git tag tree
cd - >/dev/null
rm -rf "$git"
mv "$git.tmp" "$git"
echo "tree: $git at v$have ($(git -C "$git" rev-parse --short HEAD))"
