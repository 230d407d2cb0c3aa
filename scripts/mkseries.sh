#!/bin/sh
# Generate the patch series from the project's sources.
# Runs inside the toolchain root filesystem.
#
# usage: mkseries.sh PRISTINE REF SRC WORKTREE OUTDIR
#
# Each directory SRC/series/NN-slug/ is one patch:
#   message   the commit message (subject line, blank line, body);
#   files     top-level source paths the patch adds or replaces in full;
#   *.diff    edits to files that already exist in the kernel, applied in
#             name order with `git apply`;
#   notes     optional: a note for reviewers, which the patch carries below
#             its `---` line, where `git am` drops it.
# The commits are made on a scratch work tree at REF with the identity
# and date of SRC/series/config, so the same sources always give the same
# patches, byte for byte.  OUTDIR receives the cover letter (from
# SRC/series/cover-letter), the numbered patches and a quilt `series` file.
set -eu

pristine=$1 ref=$2 src=$3 wt=$4 out=$5

conf() { sed -n "s/^$1=//p" "$src/series/config"; }
author=$(conf author)
date=$(conf date)
export GIT_AUTHOR_NAME="${author% <*}" GIT_AUTHOR_EMAIL=$(echo "$author" | sed 's/.*<\(.*\)>/\1/')
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
export GIT_AUTHOR_DATE="$date" GIT_COMMITTER_DATE="$date"

sh "$(dirname "$0")/worktree.sh" "$pristine" "$wt" "$ref" --clean
cd "$wt"
# SERIES_GEN: the branch made here (another one for a scratch check).
branch=${SERIES_GEN:-series-gen}
git checkout -q -B "$branch"

listed=$(mktemp)
for p in "$src"/series/[0-9]*/; do
	p=${p%/}
	[ -r "$p/message" ] || { echo "mkseries: $p/message missing" >&2; exit 1; }
	if [ -r "$p/files" ]; then
		grep -v '^[[:space:]]*\(#\|$\)' "$p/files" | while read -r f; do
			[ -r "$src/$f" ] || { echo "mkseries: $p/files names $f, which does not exist" >&2; exit 1; }
			if grep -qxF "$f" "$listed"; then
				echo "mkseries: $f is listed by two patches" >&2; exit 1
			fi
			echo "$f" >> "$listed"
			mkdir -p "$(dirname "$f")"
			cp "$src/$f" "$f"
		done
	fi
	for d in "$p"/*.diff; do
		[ -e "$d" ] || continue
		git apply --whitespace=error-all "$d" || { echo "mkseries: $d does not apply" >&2; exit 1; }
	done
	# -f: the Debian tarball's top-level .gitignore ignores everything.
	git add -A -f
	# Signed-off-by joins the message's trailer block if it ends with one.
	sep='\n'
	tail -n 1 "$p/message" | grep -q '^[A-Za-z-]*: ' && sep=
	{ cat "$p/message"; printf "$sep"'Signed-off-by: %s\n' "$author"; } | git commit -q -F -
	[ ! -r "$p/notes" ] || git notes add -f -F "$p/notes" 2>/dev/null
done

# Every kernel-side source file of the project must reach the series.
# (A source that is not a git work tree must fail here, not list nothing.)
(cd "$src" && git ls-files -co --exclude-standard -- \
	Documentation drivers include rust samples tools arch kernel lib) > "$listed.all" || {
	echo "mkseries: cannot list the files of $src (not a git work tree?)" >&2
	exit 1
}
sort -o "$listed.all" "$listed.all"
sort "$listed" | comm -13 - "$listed.all" > "$listed.missing"
if [ -s "$listed.missing" ]; then
	echo "mkseries: source files no patch lists:" >&2
	sed 's/^/  /' "$listed.missing" >&2
	exit 1
fi
rm -f "$listed" "$listed.all" "$listed.missing"

git config "branch.$branch.description" "$(cat "$src/series/cover-letter")"
rm -rf "$out"
mkdir -p "$out"
git format-patch -q -M --notes --cover-letter --cover-from-description=subject \
	--zero-commit --no-signature --subject-prefix="$(conf prefix)" \
	-o "$out" "$ref..$branch"
(cd "$out" && ls [0-9]*.patch | grep -v '^0000-' > series)
