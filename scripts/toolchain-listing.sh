#!/bin/sh
# Ask the mirror which versions it serves of each package of the lock files.
# Runs on the host, with apt's state kept in CACHE/apt, so neither the host's
# package lists nor its apt configuration are touched.
#
# usage: toolchain-listing.sh CACHE LOCK [LOCK...]
#
# Prints "<package> <version> <suite>" for every version of every locked
# package the locked suites serve: the input of toolchain-resolve.sh.
# Exits non-zero, with apt's messages, when the mirror cannot be read.
set -eu

cache=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
state=$cache/apt
mirror=$(sh "$here/host-mirror.sh" || true)
if [ -z "$mirror" ]; then
	echo "toolchain: no Debian mirror in the host's apt sources" >&2
	exit 1
fi

mkdir -p "$state/lists/partial" "$state/archives/partial"
locked=$(cat "$@" | grep -v '^[[:space:]]*\(#\|$\)')
for s in $(echo "$locked" | awk '{ print $3 }' | sort -u); do
	echo "deb [arch=amd64,arm64] $mirror $s main"
done > "$state/sources.list"

apt_() {
	cmd=$1
	shift
	"$cmd" -o Dir::State="$state" -o Dir::State::Lists="$state/lists" \
		-o Dir::State::status=/dev/null -o Dir::Cache="$state" \
		-o Dir::Etc::SourceList="$state/sources.list" \
		-o Dir::Etc::SourceParts=/nonexistent -o Dir::Etc::Preferences=/dev/null \
		-o Dir::Etc::PreferencesParts=/nonexistent \
		-o APT::Architectures::=amd64 -o APT::Architectures::=arm64 "$@"
}

apt_ apt-get -q update > "$state/update.log" 2>&1 || {
	tail -n 5 "$state/update.log" >&2
	exit 1
}
# apt-get update exits 0 when a source fails; a failed fetch is an error here.
if grep -q '^\(E:\|W: Failed\|Err:\)' "$state/update.log"; then
	grep '^\(E:\|W: Failed\|Err:\)' "$state/update.log" >&2
	exit 1
fi

# madison: " pkg | version | URI suite/component arch Packages".  It exits 0
# and prints nothing for a package the mirror lacks (toolchain-resolve.sh
# names it); nothing at all, or a failure, means apt could not answer.
# shellcheck disable=SC2046  # one word per package
if ! apt_ apt-cache madison $(echo "$locked" | awk '{ print $1 }' | sort -u) \
	> "$state/madison.out" 2> "$state/madison.err" || [ ! -s "$state/madison.out" ]; then
	cat "$state/madison.err" >&2
	echo "toolchain: apt-cache madison gave no listing (see above)" >&2
	exit 1
fi
awk -F'|' '{
		gsub(/ /, "", $1); gsub(/ /, "", $2)
		split($3, f, " "); split(f[2], s, "/")
		print $1, $2, s[1]
	}' "$state/madison.out" | sort -u
