#!/bin/busybox sh
# /init for the C driver's device-tree path (make arm64-e2e): load
# mainline's C driver, let the host raise one notification, then do the same
# with the C driver as this series fixes it.  Mainline's driver runs the vmfork notifier chain from its hard
# interrupt handler; SysGenId is on that chain, so the chain's read-write
# semaphore is taken in atomic context.  The Rust driver, like the fixed C
# one, handles the interrupt in a thread.
echo
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
dev=$(cd /sys/bus/platform/devices && echo *.vmgenid)
for driver in mainline fixed; do
	insmod "/bin/vmgenid_$driver.ko"
	bound=$(basename "$(readlink "/sys/bus/platform/devices/$dev/driver")")
	module=$(basename "$(readlink "/sys/bus/platform/devices/$dev/driver/module")")
	# Opened before "ready": its read() answers once the generation moves.
	exec 3< /dev/sysgenid
	echo "guest: ready driver=$driver bound=$bound"
	gen=$(timeout 60 dd bs=4 count=1 <&3 2>/dev/null | od -An -tu4)
	exec 3<&-
	sleep 2
	n=$(dmesg | grep -c 'sleeping function called from invalid context')
	echo "guest: notified driver=$driver gen=$(echo $gen) reports=$n"
	rmmod "$module"
done
poweroff -f
