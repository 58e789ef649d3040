#!/usr/bin/busybox sh
# HookOS /init, the early boot. The kernel has unpacked only a small archive: this script,
# busybox, zstd and its libraries, and the OS itself as compressed payloads under /payload.
# The OS goes into a tmpfs of its own, for two reasons:
# - runc's pivot_root(2) refuses the initramfs root, so Docker needs a real mount as /;
# - the kernel unpacks its initramfs into a tmpfs capped at half of RAM; unpacking the OS
#   here instead leaves only the compressed payloads (about a third of its size) to that cap.
# Each payload is deleted once unpacked, so RAM holds one copy of the OS, never two (plus at
# most one staged chunk per lane), and busybox switch_root empties the old root before
# systemd starts.
#
# /payload/index has one line per payload, in the build's order: <kind> <lane> <name> <bytes>
# <compression>. Kinds:
#   cpio  payload/<name>, a compressed cpio archive: decompressed into a file, then unpacked
#         by busybox cpio (cpio reading zstd's pipe copies 4 KiB at a time: measured under
#         TCG, the 120 MB base segment took 10.9 s through a pipe, 6.5 s staged);
#   file  payload/files/<name>.zst, one file of the OS: zstd writes it to /sysroot/<name>
#         itself, with the mode, owner and time of the payload (dockerd: 3.0 s against 7.3 s);
#   early /<name> of this archive, which the payloads leave out: copied into the OS.
# Lane 0 (the directories) goes first; lanes 1 and 2 then run at once, one per vCPU.
#
# Run as a program rather than as the kernel's init (PID 1), /init only unpacks into
# /sysroot, which must exist, and exits: that is how the tests run it in a chroot.

bb=/usr/bin/busybox
export PATH=/usr/bin

log() {
	echo "hookos-init: $*" >/dev/kmsg 2>/dev/null
}

# Centiseconds since boot (/proc/uptime), for the time each payload takes in the kernel log.
now_cs() {
	read -r up rest </proc/uptime
	echo "${up%.*}${up#*.}"
}

# Early boot cannot go on: say why on the console and in the kernel log, and keep the machine
# usable with a busybox shell on the console (never an init that exits: that is a panic).
fail() {
	log "early boot failed: $*"
	if [ $$ -ne 1 ]; then
		echo "hookos-init: early boot failed: $*" >&2
		exit 1
	fi
	{
		echo
		echo "hookos-init: early boot failed: $*"
		echo "hookos-init: a busybox shell follows (busybox --list shows its tools; dmesg shows the kernel log)."
	} >/dev/console 2>/dev/null
	# cttyhack gives the shell the console's real tty (job control, Ctrl-C); it needs /sys.
	$bb mount -t sysfs sysfs /sys 2>/dev/null
	while :; do
		$bb setsid $bb cttyhack $bb sh -l || $bb sh -l </dev/console >/dev/console 2>&1
		$bb sleep 1
	done
}

# Unpacks the cpio payload $1 (compression $2) into the current directory, staged through
# /payload/.stage-$3; prints why on failure. The compressed payload is deleted once unpacked.
unpack_cpio() {
	t0=$(now_cs)
	case "$2" in
	zstd) /usr/bin/zstd -dqf "/payload/$1" -o "/payload/.stage-$3" 2>"/payload/.error-$3" ;;
	gzip) $bb zcat "/payload/$1" >"/payload/.stage-$3" 2>"/payload/.error-$3" ;;
	*) echo "unknown compression \"$2\"" >"/payload/.error-$3" && false ;;
	esac || {
		echo "unpacking /payload/$1 failed: $($bb cat "/payload/.error-$3")"
		$bb rm -f "/payload/.stage-$3"
		return 1
	}
	$bb cpio -i -d -m -u <"/payload/.stage-$3" 2>"/payload/.error-$3" || {
		echo "unpacking /payload/$1 failed: $($bb grep -v ' blocks$' "/payload/.error-$3")"
		return 1
	}
	$bb rm -f "/payload/$1" "/payload/.stage-$3" "/payload/.error-$3"
	log "unpacked $1 in $((($(now_cs) - t0) * 10)) ms (lane $3)"
}

# Unpacks every payload of lane $1 into /sysroot: its files with one zstd, then its cpio
# payloads. On failure, the reason goes to /payload/.failed-$1.
unpack_lane() {
	lane=$1
	set --
	while read -r kind l name bytes comp; do
		[ "$kind" = file ] && [ "$l" = "$lane" ] && set -- "$@" "$name.zst"
	done </payload/index
	if [ $# -gt 0 ]; then
		# --output-dir-mirror writes files/usr/sbin/dockerd.zst to /sysroot/usr/sbin/dockerd;
		# --rm deletes each payload once its file is complete.
		(cd /payload/files && /usr/bin/zstd -dqf --rm --output-dir-mirror /sysroot -- "$@") 2>"/payload/.error-$lane" || {
			echo "unpacking /payload/files failed: $($bb cat "/payload/.error-$lane")" >"/payload/.failed-$lane"
			return 1
		}
	fi
	cd /sysroot || return 1
	while read -r kind l name bytes comp; do
		[ "$kind" = cpio ] && [ "$l" = "$lane" ] || continue
		unpack_cpio "$name" "$comp" "$lane" >"/payload/.failed-$lane" || return 1
	done </payload/index
	$bb rm -f "/payload/.failed-$lane" "/payload/.error-$lane"
	log "lane $lane unpacked"
}

pid1=false
[ $$ -eq 1 ] && pid1=true
if $pid1; then
	$bb mkdir -p /proc /sys /dev /sysroot
	$bb mount -t proc -o nosuid,nodev,noexec proc /proc || fail "cannot mount /proc"
	$bb mount -t devtmpfs -o mode=0755,nosuid devtmpfs /dev 2>/dev/null
	$bb mount -t sysfs -o nosuid,nodev,noexec sysfs /sys 2>/dev/null
fi
[ -r /payload/index ] || fail "/payload/index is missing: this initramfs holds no HookOS payload"

# Enough free RAM for the unpacked OS (the payloads themselves are freed one by one), with
# 64 MiB to spare for what runs during the unpacking and two staged chunks of 16 MiB.
need_kib=$((65536 + 32768))
while read -r kind lane name bytes comp; do
	need_kib=$((need_kib + bytes / 1024))
done </payload/index
if $pid1; then
	avail_kib=$($bb awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
	[ "${avail_kib:-0}" -ge "$need_kib" ] ||
		fail "not enough memory: unpacking HookOS needs $((need_kib / 1024)) MiB free, this machine has $((${avail_kib:-0} / 1024)) MiB available"
	# tmpfs takes pages only as files are written: the size is a ceiling, not a reservation.
	$bb mount -t tmpfs -o mode=0755,size=90% rootfs /sysroot || fail "cannot mount a tmpfs on /sysroot"
fi
log "unpacking HookOS into tmpfs ($((need_kib / 1024 - 96)) MiB)"

cd /sysroot || fail "cannot enter /sysroot"
while read -r kind lane name bytes comp; do
	[ "$lane" = 0 ] || continue
	why=$(unpack_cpio "$name" "$comp" 0) || fail "$why"
done </payload/index
unpack_lane 1 &
lane1=$!
unpack_lane 2
status2=$?
wait $lane1
status1=$?
for lane in 1 2; do
	[ -s "/payload/.failed-$lane" ] && fail "$($bb cat "/payload/.failed-$lane")"
done
[ $status1 = 0 ] && [ $status2 = 0 ] || fail "unpacking a lane of payloads failed"
while read -r kind lane name bytes comp; do
	[ "$kind" = early ] || continue
	$bb cp -a "/$name" "/sysroot/$name" || fail "cannot copy /$name into the OS"
done </payload/index
cd / || fail "cannot leave /sysroot"
[ -x /sysroot/usr/lib/systemd/systemd ] || fail "the unpacked OS has no /usr/lib/systemd/systemd"
$bb mkdir -p /sysroot/proc /sysroot/sys /sysroot/dev /sysroot/run /sysroot/tmp
log "HookOS unpacked"
$pid1 || exit 0

$bb umount /dev 2>/dev/null
$bb umount /sys
$bb umount /proc
log "starting systemd"
# switch_root must run as PID 1, hence exec; it deletes what is left in the old root.
exec $bb switch_root /sysroot /usr/lib/systemd/systemd
