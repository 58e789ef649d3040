#!/bin/sh
# hook-hostname: name the machine hook-<mac> (the first Ethernet NIC with a device) when
# neither DHCP nor ipam= has named it.
h=$(cat /proc/sys/kernel/hostname)
case "$h" in
"" | localhost | "(none)") ;;
*) exit 0 ;;
esac
for d in /sys/class/net/*; do
	[ "$(cat "$d/type" 2>/dev/null)" = 1 ] && [ -e "$d/device" ] || continue
	m=$(tr -d : <"$d/address")
	echo "hook-$m" >/proc/sys/kernel/hostname
	break
done
