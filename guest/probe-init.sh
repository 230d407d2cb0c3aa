#!/bin/busybox sh
# /init for the VmGenId probe check: report which driver bound QEMU's
# vmgenid device and what /dev/sysgenid looks like, then power off.
# The firmware's escape codes end the previous console line.
echo
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
dev=/sys/bus/platform/devices/QEMUVGID:00
echo "guest: device=$(basename "$dev") driver=$(basename "$(readlink "$dev/driver")")"
echo "guest: sysgenid=$(stat -c '%A' /dev/sysgenid)"
poweroff -f
