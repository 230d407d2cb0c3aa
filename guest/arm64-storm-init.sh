#!/bin/busybox sh
# /init for teardown under fire on arm64 (make storm-arm64), VMGENID=m: the
# Rust VM generation ID driver is unloaded and loaded, and unbound and bound,
# in a loop, while the watchers and the stress workload use /dev/sysgenid and
# the host keeps writing new IDs and raising the SPI.  $STORM_SECONDS from the
# kernel command line.  Then, with the module loaded and bound, one more ID
# must still reach a blocked reader: no wake-up was lost, nothing was left
# registered that should not be.
echo
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
seconds=${STORM_SECONDS:-20}
dev=$(cd /sys/bus/platform/devices && echo *.vmgenid)
drv=/sys/bus/platform/drivers/vmgenid
insmod /bin/sysgenid.ko
insmod /bin/vmgenid.ko
/bin/sysgenid-watchers > /dev/null &
# -w 3: the watchers' reader, poller and mapper are watchers too.
/bin/sysgenid-stress -t "$seconds" -b 0 -j 6 -w 3 > /tmp/stress.log 2>&1 &
stress=$!
echo "guest: storm start dev=$dev seconds=$seconds"
end=$(($(date +%s) + seconds - 2))
loads=0 binds=0
while [ "$(date +%s)" -lt "$end" ]; do
	rmmod vmgenid || echo "guest: rmmod failed"
	insmod /bin/vmgenid.ko || echo "guest: insmod failed"
	loads=$((loads + 1))
	echo "$dev" > $drv/unbind || echo "guest: unbind failed"
	echo "$dev" > $drv/bind || echo "guest: bind failed"
	binds=$((binds + 1))
done
wait $stress
status=$?
cat /tmp/stress.log
echo "guest: stress exit=$status"
bound=$(basename "$(readlink "/sys/bus/platform/devices/$dev/driver")")
echo "guest: storm stop loads=$loads binds=$binds bound=$bound"
# The host stops writing IDs, lets the last one settle, then says "final".
read -r go
echo "guest: final go=$go"
# Opened, so up to date, before "final ready": its read() returns with the next ID.
exec 3< /dev/sysgenid
gen=$(sed -n 's/^sysgenid_acked_generation:\t*//p' /proc/$$/fdinfo/3)
echo "guest: final ready gen=$gen"
gen=$(timeout 60 dd bs=4 count=1 <&3 2>/dev/null | od -An -tu4)
echo "guest: final woke gen=$(echo $gen)"
pattern='BUG:|WARNING:|KASAN|UBSAN|list_(add|del) corruption|possible (recursive|circular) locking|inconsistent lock state|suspicious RCU usage|Oops'
dmesg | grep -E -A20 "$pattern" | head -n 80
echo "guest: kernel reports=$(dmesg | grep -c -E "$pattern")"
poweroff -f
