#!/bin/busybox sh
# /init for a restore storm (debug kernel): the watchers and the storm
# workload start, and the host saves the machine while they run.  In every
# clone restored from that snapshot, the workload sees the new generation,
# runs on (unbinding and binding the VM generation ID driver meanwhile), and
# stops; then a kmemleak scan and a count of the kernel's own reports.  The
# host ends the clone.  $STORM_ARGS comes from the kernel command line, its
# options joined by commas.
# The firmware's escape codes end the previous console line.
echo
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
leakfile=/sys/kernel/debug/kmemleak
# Whether the KCSAN of a KCSAN build is on, as its boot self-test says.
dmesg | grep -E "kcsan: (selftest|enabled)" | sed 's/^/guest: /'
# What boot allocated is not ours to judge: forget it.
[ -e $leakfile ] && echo clear > $leakfile
/bin/sysgenid-watchers &
# -w 3: the watchers' reader, poller and mapper are watchers too.
# shellcheck disable=SC2046  # one word per option
/bin/sysgenid-stress --storm -w 3 $(echo "${STORM_ARGS:-}" | tr , ' ')
echo "guest: storm exit=$?"
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
# A KCSAN report starts with "BUG: KCSAN:"; the word alone is also in KCSAN's boot message.
pattern='BUG:|WARNING:|KASAN|UBSAN|list_(add|del) corruption|possible (recursive|circular) locking|inconsistent lock state|suspicious RCU usage|Oops'
dmesg | grep -E -A20 "$pattern" | head -n 80
echo "guest: kernel reports=$(dmesg | grep -c -E "$pattern")"
echo "guest: clone done"
while :; do sleep 3600; done
