#!/bin/sh
# Lint the series the way a subsystem maintainer's tools would.
# Runs inside the toolchain root filesystem.
#
# usage: lint.sh PRISTINE PATCHDIR HEADERS_USR_INCLUDE [CLIPPY_BUILDDIR...]
#
#  - scripts/checkpatch.pl --strict on every patch: no error and no check;
#    a warning only in a patch whose commit message, or its note below the
#    `---` line, explains it (says "checkpatch");
#  - rustfmt, with the kernel's .rustfmt.toml, on the project's Rust files;
#  - the installed uapi header compiled into a C and a C++ program with
#    -Wall -Werror;
#  - clippy: each CLIPPY_BUILDDIR (built by kbuild.sh --clippy, which fails
#    on a warning from this series' files) must have compiled the kernel
#    crate and the series' Rust objects it configures with clippy-driver.
# Prints `lint: N passed, N failed`, one count per patch and per check.
set -u

pristine=$1 patches=$2 headers=$3
shift 3
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "  ok   lint.$1"; }
bad() { failed=$((failed + 1)); echo "  FAIL lint.$1${2:+: $2}"; }

errors=0 warnings=0 checks=0
for p in $(cat "$patches/series"); do
	out=$("$pristine/scripts/checkpatch.pl" --strict --no-tree --quiet "$patches/$p" 2>&1)
	total=$(echo "$out" | sed -n 's/^total: \([0-9]*\) errors, \([0-9]*\) warnings, \([0-9]*\) checks.*/\1 \2 \3/p')
	read -r e w c <<EOF
${total:-0 0 0}
EOF
	errors=$((errors + e)) warnings=$((warnings + w)) checks=$((checks + c))
	if [ "$e" -ne 0 ] || [ "$c" -ne 0 ]; then
		bad "checkpatch.$p" "$e errors, $w warnings, $c checks"
		echo "$out" | grep -E '^(ERROR|CHECK|WARNING)' -A3
	elif [ "$w" -ne 0 ] && ! sed -n '/^Subject:/,/^diff --git/p' "$patches/$p" | grep -q checkpatch; then
		bad "checkpatch.$p" "$w warnings, not explained in the message or its notes"
		echo "$out" | grep -E '^WARNING' -A3
	elif [ "$w" -ne 0 ]; then
		ok "checkpatch.$p ($w warnings, explained in the message or its notes)"
	else
		ok "checkpatch.$p"
	fi
done
echo "  checkpatch --strict: $errors errors, $warnings warnings, $checks checks in all"

cd /src
if rustfmt --config-path "$pristine/.rustfmt.toml" --edition 2021 --check \
	$(git ls-files '*.rs') > /tmp/rustfmt.out 2>&1; then
	ok rustfmt
else
	bad rustfmt
	head -n 40 /tmp/rustfmt.out
fi

cat > /tmp/uapi-test.c <<'EOC'
#include <linux/sysgenid.h>
#include <sys/ioctl.h>

static const unsigned long commands[] = {
	SYSGENID_SET_WATCHER_TRACKING, SYSGENID_WAIT_WATCHERS,
	SYSGENID_FORCE_GEN_UPDATE, SYSGENID_TRIGGER_GEN_UPDATE,
	SYSGENID_GET_OUTDATED_WATCHERS,
};

int main(void)
{
	return commands[2] == _IO(0xE4, 3) && commands[3] == commands[2] ? 0 : 1;
}
EOC
for lang in c c++; do
	compiler=clang
	[ "$lang" = c++ ] && compiler=clang++
	if $compiler -x "$lang" -Wall -Wextra -Werror -isystem "$headers" \
		-o /tmp/uapi-test /tmp/uapi-test.c && /tmp/uapi-test; then
		ok "uapi-header.$lang"
	else
		bad "uapi-header.$lang"
	fi
done

ours='sysgenid|vmgenid|rust/kernel/(acpi|io/memremap|io/mem\.rs|io/resource|random|capability|miscdevice|page|fs/kiocb|fs/file|mm/virt|sync/poll)'
for build in "$@"; do
	name=$(basename "$build")
	# Only what this configuration builds from Rust: a variant's build
	# directory starts as a copy of another and keeps its stale objects.
	objs=rust/.kernel.o.cmd
	grep -q '^CONFIG_SYSGENID=y$' "$build/.config" &&
		objs="$objs drivers/misc/.sysgenid.o.cmd"
	grep -q '^CONFIG_VMGENID_RUST=y$' "$build/.config" &&
		objs="$objs drivers/virt/.vmgenid.o.cmd"
	unclipped=$(cd "$build" && for o in $objs; do
		grep -q clippy-driver "$o" 2>/dev/null || echo "$o"; done)
	warned=$(grep -E -A6 '^warning' "$build/.sysgenid-build.log" 2>/dev/null | grep -c -E "$ours")
	if [ -n "$unclipped" ] || [ "$warned" -ne 0 ]; then
		bad "clippy.$name" "not clippy-built: ${unclipped:-none}; $warned warnings from this series"
	else
		ok "clippy.$name ($(echo $objs | wc -w) Rust objects built with clippy, 0 warnings from this series)"
	fi
done

echo "lint: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
