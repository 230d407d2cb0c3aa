#!/bin/busybox sh
# /init for the kselftest run: run the SysGenId selftests as root, print
# their TAP output on the console, then power off.
# The firmware's escape codes end the previous console line.
echo
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "guest: $(cat /proc/version)"
echo "guest: kselftest start"
/bin/sysgenid_test
echo "guest: kselftest exit=$?"
poweroff -f
