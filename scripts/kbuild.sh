#!/bin/sh
# Configure and build one kernel: a base configuration (tinyconfig, or a
# distribution's) plus Kconfig fragments.
# Runs inside a toolchain root filesystem, in the build work tree.
#
# usage: kbuild.sh [--clippy] [--partial] [--base CONFIG.xz] [--make "VARS"]
#                  BUILDDIR ARCH "TARGETS" FRAGMENT...
#
#   --clippy   build the Rust code with clippy-driver (CLIPPY=1)
#   --partial  the tree may lack symbols the fragments set (a partly applied
#              series): skip those instead of failing
#   --base     start from this xz-compressed configuration instead of
#              tinyconfig (distro-build.sh: Debian's)
#   --make     the toolchain, as make variables (distro-build.sh: CC=gcc-14
#              and CROSS_COMPILE); without it LLVM=1, or KBUILD_LLVM (-22:
#              the Clang 22 tools, whose LLVM is rustc's, for
#              RUST_INLINE_HELPERS)
#
# The configuration is regenerated only when the base, the fragments or the
# tree's Kconfig files change, and .config keeps its timestamp when the result
# is the same, so the build stays incremental.  Fails when an option a
# fragment asks for did not make it into .config (an unmet dependency), or
# when the build warns about a file of this series (series-warnings.sh).
set -eu

clippy= partial= base= toolchain=
while :; do
	case ${1:-} in
	--clippy) clippy=CLIPPY=1; shift ;;
	--partial) partial=1; shift ;;
	--base) base=$2; shift 2 ;;
	--make) toolchain=$2; shift 2 ;;
	*) break ;;
	esac
done
build=$1 arch=$2 targets=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)

if [ -z "$toolchain" ]; then
	toolchain=LLVM=${KBUILD_LLVM:-1}
	# With another Clang, bindgen keeps libclang 19 (LIBCLANG_PATH, see
	# in-rootfs.sh), which does not know some of the newer Clang's warning
	# options.
	case $toolchain in
	LLVM=-*) export BINDGEN_EXTRA_CLANG_ARGS=-Wno-unknown-warning-option ;;
	esac
fi
# shellcheck disable=SC2086  # the toolchain is a list of make variables
mk() { make -s ARCH="$arch" $toolchain O="$build" "$@"; }

mkdir -p "$build"
stamp=$build/.sysgenid-config
want=$({ [ -z "$base" ] || cat "$base"; cat "$@"
	git ls-tree -r HEAD | grep -E '(/|[[:space:]])Kconfig[^/]*$'; } | sha256sum | cut -c1-16)
if [ ! -e "$build/.config" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	[ -e "$build/.config" ] && cp -p "$build/.config" "$build/.config.prev"
	if [ -n "$base" ]; then
		xz -dc "$base" > "$build/.config"
	else
		mk tinyconfig >/dev/null
	fi
	./scripts/kconfig/merge_config.sh -m -O "$build" "$build/.config" "$@" >/dev/null
	mk olddefconfig >/dev/null
	# An unchanged configuration must not look newer than the build.
	if [ -e "$build/.config.prev" ] && cmp -s "$build/.config" "$build/.config.prev"; then
		mv "$build/.config.prev" "$build/.config"
	fi
	rm -f "$build/.config.prev" "$build/.config.old"
	echo "$want" > "$stamp"
fi

# Symbols the tree defines, to tell a missing symbol from an unmet dependency.
defined=$(git grep -h -E '^[[:space:]]*(menu)?config [A-Z0-9_]+' -- '*Kconfig*' |
	sed -E 's/^[[:space:]]*(menu)?config /CONFIG_/' | sort -u)
# The value each option gets from the last fragment that sets it.
wanted=$(sed -n 's/^\(CONFIG_[A-Z0-9_]*=.*\)$/\1/p; s/^# \(CONFIG_[A-Z0-9_]*\) is not set$/\1=n/p' "$@" |
	awk -F= '!($1 in v) { order[n++] = $1 } { v[$1] = $0 } END { for (i = 0; i < n; i++) print v[order[i]] }')
missing=$(echo "$wanted" |
	while IFS= read -r line; do
		name=${line%%=*} value=${line#*=}
		if ! echo "$defined" | grep -qx "$name"; then
			[ -n "$partial" ] || echo "$line (no such symbol)"
		elif [ "$value" = n ]; then
			grep -q "^$name=" "$build/.config" && echo "$line"
		else
			grep -qx "$line" "$build/.config" || echo "$line"
		fi
	done || true)
if [ -n "$missing" ]; then
	echo "kbuild: $build: options not in .config (unmet dependencies?):" >&2
	echo "$missing" | sed 's/^/  /' >&2
	exit 1
fi

log=$build/.sysgenid-build.log
start=$(date +%s)
# shellcheck disable=SC2086  # TARGETS and the toolchain are lists; $clippy is empty or one word
if ! make ARCH="$arch" $toolchain O="$build" $clippy -j"$(nproc)" $targets > "$log" 2>&1; then
	grep -E -B2 -A12 'error(\[E[0-9]+\])?:|Error [0-9]' "$log" | head -n 80 >&2
	echo "kbuild: $build: build failed (log: $log)" >&2
	exit 1
fi
warnings=$(sh "$here/series-warnings.sh" "$log") || exit 1
echo "kbuild: $build ($arch${clippy:+, clippy}, $toolchain): built $targets in" \
	"$(( $(date +%s) - start )) s; $warnings"
