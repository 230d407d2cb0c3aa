#!/bin/busybox sh
# /init for the snapshot scenario: start the watchers and stay up; the host
# saves and restores the whole machine around them.  With UNBIND=1 on the
# kernel command line the VmGenId driver is first unbound and bound again,
# so that the restores exercise the notification path a rebind installed.
echo
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
if [ "${UNBIND:-}" = 1 ]; then
	dev=QEMUVGID:00
	drv=/sys/bus/platform/drivers/vmgenid
	bound() { basename "$(readlink "/sys/bus/platform/devices/$dev/driver" 2>/dev/null)"; }
	echo "$dev" > $drv/unbind
	unbound=$(bound)
	err=$(echo "$dev" 2>&1 > $drv/bind) || true
	echo "guest: unbind driver=$unbound rebind driver=$(bound) error=${err##*: }"
fi
/bin/sysgenid-watchers &
while :; do sleep 3600; done
