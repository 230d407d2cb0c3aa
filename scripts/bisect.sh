#!/bin/sh
# Build every prefix of the series, in order, the way `git bisect` would meet
# it: patch 1 alone, patches 1-2, ..., the whole series.
# Runs inside the toolchain root filesystem.
#
# usage: bisect.sh PRISTINE WORKTREE BASE HEAD BUILDDIR ARCH "TARGETS" FRAGMENT...
#
# All steps share one work tree and one build directory, moved from commit to
# commit with `git checkout`, so each step rebuilds only what its patch
# touched; the last step leaves both at HEAD, where the guest kernel is built
# from them.  A step that built is remembered by the tree it built (and the
# fragments and scripts that built it), so an unchanged series is not built
# again, and a changed one from its first changed patch on.
#
# A patch that changes only files no kernel build reads (documentation other
# than its Kconfig, the selftests, MAINTAINERS) gives the previous step's
# build again: it is checked out but not rebuilt, and the output says which
# files made it so.
set -eu

pristine=$1 wt=$2 base=$3 head=$4 build=$5 arch=$6 targets=$7
shift 7
here=$(cd "$(dirname "$0")" && pwd)

done_dir=$build/.sysgenid-bisect
mkdir -p "$done_dir"
# Paths a build of vmlinux, bzImage or modules never opens.
unread() {
	case $1 in
	*Kconfig*) return 1 ;;
	Documentation/* | tools/testing/* | MAINTAINERS) return 0 ;;
	*) return 1 ;;
	esac
}

recipe=$(cat "$@" "$here/kbuild.sh" "$here/series-warnings.sh" "$0" | sha256sum | cut -c1-16)

commits=$(git -C "$pristine" rev-list --reverse "$base..$head")
total=$(echo "$commits" | wc -l)
n=0 built=0 start=$(date +%s)
for c in $commits; do
	n=$((n + 1))
	subject=$(git -C "$pristine" log -1 --format=%s "$c")
	key=$(git -C "$pristine" rev-parse "$c^{tree}")-$recipe
	if [ -e "$done_dir/$key" ]; then
		echo "bisect: [$n/$total] $subject: built before"
		continue
	fi
	sh "$here/worktree.sh" "$pristine" "$wt" "$c"
	read_by_build=$(git -C "$pristine" diff --name-only "$c^" "$c" |
		while IFS= read -r f; do unread "$f" || echo "$f"; done)
	if [ "$n" -gt 1 ] && [ -z "$read_by_build" ]; then
		touch "$done_dir/$key"
		echo "bisect: [$n/$total] $subject: the build reads none of its files" \
			"($(git -C "$pristine" diff --name-only "$c^" "$c" | tr '\n' ' ' | sed 's/ $//')), not rebuilt"
		continue
	fi
	t0=$(date +%s)
	if ! (cd "$wt" && sh "$here/kbuild.sh" --partial "$build" "$arch" "$targets" "$@" > /tmp/bisect-step.log 2>&1); then
		cat /tmp/bisect-step.log >&2
		echo "bisect: [$n/$total] $subject: does not build" >&2
		echo "bisect-check: $((n - 1)) passed, 1 failed"
		exit 1
	fi
	touch "$done_dir/$key"
	built=$((built + 1))
	echo "bisect: [$n/$total] $subject: built in $(( $(date +%s) - t0 )) s"
done
echo "bisect: $built of $total steps built in this run, $(( $(date +%s) - start )) s"
echo "bisect-check: $total passed, 0 failed"
