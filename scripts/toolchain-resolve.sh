#!/bin/sh
# Decide the version of each package of a toolchain lock file from what the
# mirror serves.  Pure: it reads two files and asks nothing of the network, so
# the decision is tested on recorded listings (toolchain/tests/).
#
# usage: toolchain-resolve.sh LOCK LISTING
#
# LOCK lines are "<package> <constraint> <suite>", where the constraint is
#   >=VERSION  the lowest acceptable Debian version: the newest version the
#              suite serves is taken if it is at least VERSION;
#   =PACKAGE   the version resolved for PACKAGE, which must be served for this
#              package too (rust-src must match rustc).
# LISTING lines are "<package> <version> <suite>", one per version served.
# Prints "<package> <version> <suite>" per lock line.  Each package that
# cannot be resolved gets one line on stderr naming the package, what the
# lock asks and what the mirror has; the exit status is then 1.
set -eu

lock=$1 listing=$2
resolved=$(mktemp)
trap 'rm -f "$resolved"' EXIT
status=0

# What the mirror has of a package, as "version (suite), ...".
has() {
	awk -v p="$1" '$1 == p { print $2 " (" $3 ")" }' "$listing" |
		sort -u -V -r | tr '\n' ',' | sed 's/,$//; s/,/, /g'
}

grep -v '^[[:space:]]*\(#\|$\)' "$lock" | while read -r pkg want suite rest; do
	if [ -z "$suite" ] || [ -n "$rest" ]; then
		echo "toolchain: $lock: malformed line for '$pkg' (want: <package> <constraint> <suite>)" >&2
		echo fail >> "$resolved"
		continue
	fi
	case $want in
	'>='*)
		floor=${want#>=}
		best=
		for v in $(awk -v p="$pkg" -v s="$suite" '$1 == p && $3 == s { print $2 }' "$listing"); do
			if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then best=$v; fi
		done
		if [ -n "$best" ] && dpkg --compare-versions "$best" ge "$floor"; then
			echo "$pkg $best $suite" | tee -a "$resolved"
			continue
		fi
		;;
	'='*)
		of=${want#=}
		floor=$(awk -v p="$of" '$1 == p { print $2 }' "$resolved")
		if [ -n "$floor" ] &&
			awk -v p="$pkg" -v v="$floor" -v s="$suite" \
				'$1 == p && $2 == v && $3 == s { f = 1 } END { exit !f }' "$listing"; then
			echo "$pkg $floor $suite" | tee -a "$resolved"
			continue
		fi
		[ -n "$floor" ] || floor="(unresolved $of)"
		want="=$floor (as $of)"
		;;
	*)
		echo "toolchain: $lock: '$want' for $pkg is neither >=VERSION nor =PACKAGE" >&2
		echo fail >> "$resolved"
		continue
		;;
	esac
	echo "toolchain: $pkg: the lock asks $want from $suite; the mirror has $(has "$pkg" | grep . || echo nothing)" >&2
	echo fail >> "$resolved"
done

grep -qx fail "$resolved" && status=1
exit $status
