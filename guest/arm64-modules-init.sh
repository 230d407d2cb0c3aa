#!/bin/busybox sh
# /init for the arm64 guest with VMGENID=m (make arm64-e2e): the driver of
# the device-tree node loaded as a module, three times, and one notification
# raised by the host for each:
#  - fixed: the C driver with the series' first patch, a threaded handler;
#  - rust: the series' Rust driver (vmgenid.ko), which has always handled
#    the interrupt in a thread;
#  - mainline: the C driver of Linux 7.3, which runs the vmfork notifier
#    chain from its hard interrupt handler; SysGenId is on that chain, so
#    the chain's read-write semaphore is taken in atomic context.
# Mainline's comes last because its report turns lockdep off.  Each must
# move the generation by one; each is unloaded again.
echo
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
insmod /bin/sysgenid.ko
dev=$(cd /sys/bus/platform/devices && echo *.vmgenid)
for driver in fixed rust mainline; do
	case $driver in
	rust) insmod /bin/vmgenid.ko ;;
	*) insmod "/bin/vmgenid_$driver.ko" ;;
	esac
	bound=$(basename "$(readlink "/sys/bus/platform/devices/$dev/driver")")
	module=$(basename "$(readlink "/sys/bus/platform/devices/$dev/driver/module")")
	before=$(dmesg | grep -c 'sleeping function called from invalid context')
	# Opened before "ready": its read() answers once the generation moves.
	exec 3< /dev/sysgenid
	echo "guest: ready driver=$driver bound=$bound module=$module"
	gen=$(timeout 60 dd bs=4 count=1 <&3 2>/dev/null | od -An -tu4)
	exec 3<&-
	sleep 2
	n=$(dmesg | grep -c 'sleeping function called from invalid context')
	lockdep=$(grep -c 'debug_locks: *1$' /proc/lockdep_stats)
	echo "guest: notified driver=$driver gen=$(echo $gen) atomic-sleep-reports=$((n - before))" \
		"lockdep-on=$lockdep"
	rmmod "$module"
	echo "guest: unloaded driver=$driver module=$(grep -c "^$module " /proc/modules)"
done
poweroff -f
