#!/bin/busybox sh
# /init for the snapshot scenario: start the watchers and stay up; the host
# saves and restores the whole machine around them.
echo
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
/bin/sysgenid-watchers &
while :; do sleep 3600; done
