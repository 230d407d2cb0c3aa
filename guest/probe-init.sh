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
# Unbind and bind again: removes the notify handler and the mapping, then
# sets them up anew.
echo QEMUVGID:00 > /sys/bus/platform/drivers/vmgenid/unbind
echo "guest: unbound driver=$(basename "$(readlink "$dev/driver" 2>/dev/null)")"
echo QEMUVGID:00 > /sys/bus/platform/drivers/vmgenid/bind
echo "guest: rebound driver=$(basename "$(readlink "$dev/driver")")"
reports='(WARNING|BUG):|possible (recursive|circular) locking|inconsistent lock state'
reports="$reports|suspicious RCU usage|sleeping function called from invalid context"
echo "guest: kernel warnings=$(dmesg | grep -c -E "$reports")"
poweroff -f
