#!/bin/sh
# Fail when a kernel build log has a warning located in a file this series
# adds or changes: the files `git diff tree HEAD` names in the work tree the
# build ran from (a prefix of the series, for bisect.sh).
# Runs in that work tree.
#
# usage: series-warnings.sh LOG
#
# A warning's location is rustc's "--> FILE:LINE:COL" line under it, or the
# "FILE[:LINE:COL]: warning:" prefix of a C compiler's, objtool's or the
# linker's (FILE may be the object of a source the series touches); a file
# named elsewhere in a warning's text is not where it is.  Prints the
# offending files with their counts, or the number of warnings in the log,
# none of them the series'.  (An objtool warning on vmlinux.o names a
# function, not a file, and is not attributed.)
set -eu

log=$1
[ -r "$log" ] || { echo "series-warnings: no build log $log" >&2; exit 2; }
files=$(git diff --name-only tree HEAD) || {
	echo "series-warnings: $(pwd) has no 'tree' ref to compare with" >&2
	exit 2
}
if [ -z "$files" ]; then
	echo "series-warnings: $(pwd): HEAD does not differ from tree" >&2
	exit 2
fi

# The files, and the object of each C or Rust file (objtool and the linker
# name those).
patterns=$(mktemp)
trap 'rm -f "$patterns"' EXIT
{ echo "$files"; echo "$files" | sed -n 's/\.\(c\|rs\|S\)$/.o/p'; } > "$patterns"
# Each location as a path relative to the tree (the build names sources by
# their absolute path, or relative to the tree or to the build directory),
# compared whole.
ours=$({ grep -E -A3 '^warning' "$log" | sed -n 's/^ *--> //p'
	sed -n 's/: warning:.*$//p' "$log"; } |
	sed -e 's/:.*$//' -e "s|^$(pwd)/||" -e 's|^\(\.\./\)*||' -e 's|^\./||' |
	grep -x -F -f "$patterns" || true)
if [ -n "$ours" ]; then
	echo "$ours" | sort | uniq -c | sed 's/^ */  /' >&2
	echo "series-warnings: $log: warnings in this series' files" >&2
	exit 1
fi
echo "$(grep -c -E '^warning|: warning:' "$log" || true) warnings in the log, none from this series"
