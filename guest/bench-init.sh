#!/bin/busybox sh
# /init for the benchmark: run sysgenid-bench as root with $BENCH_ARGS (from
# the kernel command line), print its output on the console, power off.
# The firmware's escape codes end the previous console line.
echo
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "guest: $(cat /proc/version)"
echo "guest: bench start cpus=$(grep -c ^processor /proc/cpuinfo)" \
	"meltdown: $(cat /sys/devices/system/cpu/vulnerabilities/meltdown)"
# The figures are meant with the VM Generation ID driver bound, as users run.
bound=$(ls -d /sys/bus/platform/drivers/vmgenid/*:* 2>/dev/null | sed 's,.*/,,' | tr '\n' ' ')
echo "guest: vmgenid bound: ${bound:-none}"
# shellcheck disable=SC2086  # BENCH_ARGS is a list of options
/bin/sysgenid-bench ${BENCH_ARGS:-}
echo "guest: bench exit=$?"
poweroff -f
