#!/bin/sh
# Fail when a kernel build log has a warning located in a file this series
# adds or changes: the files `git diff tree HEAD` names in the work tree the
# build ran from (a prefix of the series, for bisect.sh).
# Runs in that work tree.
#
# usage: series-warnings.sh LOG
#
# A warning's location is rustc's "--> FILE:LINE:COL" line under it, or the
# "FILE:LINE:COL: warning:" prefix of a C compiler's; a file named elsewhere
# in a warning's text is not where it is.  Prints the offending locations, or
# the number of warnings in the log, none of them the series'.
set -eu

log=$1
files=$(git diff --name-only tree HEAD) || {
	echo "series-warnings: $(pwd) has no 'tree' ref to compare with" >&2
	exit 2
}
if [ -z "$files" ]; then
	echo "series-warnings: $(pwd): HEAD does not differ from tree" >&2
	exit 2
fi

# Every location starts with "/", so the pattern "/FILE:" matches a
# relative and an absolute path alike.
patterns=$(mktemp)
trap 'rm -f "$patterns"' EXIT
echo "$files" | sed 's|^\(.*\)$|/\1:|' > "$patterns"
ours=$({ grep -E -A3 '^warning' "$log" | sed -n 's/^ *--> //p'
	sed -n 's/: warning:.*$/:/p' "$log"; } | sed 's|^|/|' | grep -F -f "$patterns" || true)
if [ -n "$ours" ]; then
	echo "$ours" | sed 's|^/*|  |' >&2
	echo "series-warnings: $log: warnings in this series' files" >&2
	exit 1
fi
echo "$(grep -c -E '^warning|: warning:' "$log" || true) warnings in the log, none from this series"
