#!/bin/busybox sh
# /init for the arm64 guest (make arm64-e2e): load SysGenId and the Rust
# VmGenId driver (the guest has SYSGENID=m and VMGENID=m), report how the
# driver bound its device-tree node, run
# the selftests, unbind and bind the driver again, then start the watchers
# and answer requests the host types on the console.  The host saves and
# restores the machine around them.
echo
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "guest: $(cat /proc/version)"
reports='(WARNING|BUG):|possible (recursive|circular) locking|inconsistent lock state'
reports="$reports|suspicious RCU usage|sleeping function called from invalid context"
count_reports() { dmesg | grep -c -E "$reports"; }
bound() { basename "$(readlink "/sys/bus/platform/devices/$dev/driver" 2>/dev/null)"; }
insmod /bin/sysgenid.ko
insmod /bin/vmgenid.ko

base=/sys/firmware/devicetree/base
node=$(cd $base && echo vmgenid@*)
dev=$(cd /sys/bus/platform/devices && echo *.vmgenid)
drv=/sys/bus/platform/drivers/vmgenid
echo "guest: node=$node device=$dev driver=$(bound)"
echo "guest: of_node=$(readlink "/sys/bus/platform/devices/$dev/of_node")"
echo "guest: compatible=$(cat "$base/$node/compatible")"
echo "guest: interrupt=$(grep vmgenid /proc/interrupts | tr -s ' ')"
# The driver handles the SPI in a thread: reseeding runs the vmfork
# notifier chain, which may sleep.
echo "guest: irq-thread=$(ps | grep -o 'irq/[0-9]*-vmgenid' | head -n 1)"
echo "guest: sysgenid=$(stat -c '%A' /dev/sysgenid)"
# The node as the kernel received it, for `dtc -I fs` on the host.
echo "guest: node-tar-begin"
tar -C $base -cf - "$node" | gzip | base64
echo "guest: node-tar-end"

echo "guest: kselftest start"
/bin/sysgenid_test
echo "guest: kselftest exit=$?"

# Unbind and bind again: the interrupt and the mapping go, then come back.
# The node's unit address is the ID's 16-byte region, as /proc/iomem lists it.
addr=${node#vmgenid@}
span="$addr-$(printf '%x' $((0x$addr + 15)))"
region() { grep -c "^ *$span : " /proc/iomem; }
echo "guest: bound region=$(region)"
echo "$dev" > $drv/unbind
echo "guest: unbound driver=$(bound) held: region=$(region)" \
	"irq=$(grep -c vmgenid /proc/interrupts)"
echo "$dev" > $drv/bind
echo "guest: rebound driver=$(bound) region=$(region)"
echo "guest: kernel reports=$(count_reports)"

# -a: the orchestrator is an agent that the control plane tells about a
# restore ("restored" below).
/bin/sysgenid-watchers -a &
watchers=$!
# The host's requests:
#   irqs      how many vmgenid interrupts the kernel has handled;
#   restored  the control plane's message that the machine was restored,
#             passed on to the agent;
#   reports   the kernel's reports so far.
while read -r request; do
	case $request in
	irqs)
		echo "guest: irqs=$(awk '/vmgenid/ { print $2 + $3 }' /proc/interrupts)" ;;
	restored)
		kill -USR1 "$watchers" ;;
	reports)
		echo "guest: kernel reports=$(count_reports)" ;;
	esac
done
