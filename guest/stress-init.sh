#!/bin/busybox sh
# /init for the hardening run (debug kernel): the concurrent stress test with
# $STRESS_ARGS, the allocation-failure injection, a kmemleak scan, then a
# count of the kernel's own reports, and power off.
# The firmware's escape codes end the previous console line.
echo
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
leakfile=/sys/kernel/debug/kmemleak
# What boot allocated is not ours to judge: forget it.
[ -e $leakfile ] && echo clear > $leakfile
echo "guest: stress start"
# STRESS_ARGS comes from the kernel command line, its options joined by commas.
# shellcheck disable=SC2046  # one word per option
/bin/sysgenid-stress $(echo "${STRESS_ARGS:-}" | tr , ' ')
echo "guest: stress exit=$?"
/bin/sysgenid-stress --inject -u QEMUVGID:00
echo "guest: inject exit=$?"
if [ -e $leakfile ]; then
	# kmemleak reports objects unreferenced for 5 s, after two scans.
	sleep 6
	echo scan > $leakfile
	echo scan > $leakfile
	echo "guest: kmemleak leaks=$(grep -c '^unreferenced object' $leakfile)"
	head -n 40 $leakfile
else
	echo "guest: kmemleak leaks=unavailable"
fi
pattern='BUG:|WARNING:|KASAN|UBSAN|list_(add|del) corruption|possible (recursive|circular) locking|inconsistent lock state|suspicious RCU usage|Oops'
dmesg | grep -E -A12 "$pattern" | head -n 60
echo "guest: kernel reports=$(dmesg | grep -c -E "$pattern")"
poweroff -f
