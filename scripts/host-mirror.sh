#!/bin/sh
# Print the Debian archive URI this host's apt already uses, so the toolchain
# root filesystem comes from the same mirror.  Prints nothing when none is
# found; debootstrap then uses its built-in default.
set -eu

for f in /etc/apt/sources.list.d/*.sources; do
	[ -r "$f" ] || continue
	# deb822 stanzas: take the URIs of a stanza that carries a plain
	# Debian suite (not -security, not a third-party repository).
	awk '
		/^[[:space:]]*$/ { if (uri != "" && deb) { print uri; exit } uri = ""; deb = 0; next }
		/^URIs:/         { uri = $2 }
		/^Suites:/       { for (i = 2; i <= NF; i++) if ($i ~ /^(bookworm|trixie|forky|sid|stable|testing|unstable)(-updates)?$/) deb = 1 }
		END              { if (uri != "" && deb) print uri }
	' "$f"
done | head -n 1 | grep . && exit 0

for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -r "$f" ] || continue
	awk '$1 == "deb" && $3 ~ /^(bookworm|trixie|forky|sid|stable|testing|unstable)$/ {
		for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) { print $i; exit }
	}' "$f"
done | head -n 1
