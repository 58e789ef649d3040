#!/usr/bin/busybox sh
# HookOS /init, the early boot. The kernel has unpacked only a small archive: this script,
# busybox, zstd and its libraries, and the OS itself as compressed cpio payloads under
# /payload. The OS goes into a tmpfs of its own, for two reasons:
# - runc's pivot_root(2) refuses the initramfs root, so Docker needs a real mount as /;
# - the kernel unpacks its initramfs into a tmpfs capped at half of RAM; unpacking the OS
#   here instead leaves only the compressed payloads (about a third of its size) to that cap.
# Each payload is deleted once unpacked, so RAM holds one copy of the OS, never two, and
# busybox switch_root empties the old root before systemd starts.
#
# /payload/index has one line per payload, in order: <file> <unpacked bytes> <zstd|gzip>.

bb=/usr/bin/busybox
export PATH=/usr/bin

log() {
	echo "hookos-init: $*" >/dev/kmsg 2>/dev/null
}

# Early boot cannot go on: say why on the console and in the kernel log, and keep the machine
# usable with a busybox shell on the console (never an init that exits: that is a panic).
fail() {
	log "early boot failed: $*"
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

$bb mkdir -p /proc /sys /dev /sysroot
$bb mount -t proc -o nosuid,nodev,noexec proc /proc || fail "cannot mount /proc"
$bb mount -t devtmpfs -o mode=0755,nosuid devtmpfs /dev 2>/dev/null
$bb mount -t sysfs -o nosuid,nodev,noexec sysfs /sys 2>/dev/null
[ -r /payload/index ] || fail "/payload/index is missing: this initramfs holds no HookOS payload"

# Enough free RAM for the unpacked OS (the payloads themselves are freed one by one), with
# 64 MiB to spare for what runs during the unpacking.
need_kib=65536
while read -r file bytes kind; do
	need_kib=$((need_kib + bytes / 1024))
done </payload/index
avail_kib=$($bb awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
[ "${avail_kib:-0}" -ge "$need_kib" ] ||
	fail "not enough memory: unpacking HookOS needs $((need_kib / 1024)) MiB free, this machine has $((${avail_kib:-0} / 1024)) MiB available"

# tmpfs takes pages only as files are written: the size is a ceiling, not a reservation.
$bb mount -t tmpfs -o mode=0755,size=90% rootfs /sysroot || fail "cannot mount a tmpfs on /sysroot"
log "unpacking HookOS into tmpfs ($((need_kib / 1024 - 64)) MiB)"
cd /sysroot || fail "cannot enter /sysroot"
set -o pipefail
while read -r file bytes kind; do
	case "$kind" in
	zstd) unpack="/usr/bin/zstd -dcq" ;;
	gzip) unpack="$bb zcat" ;;
	*) fail "/payload/index: unknown compression \"$kind\" for $file" ;;
	esac
	$unpack "/payload/$file" | $bb cpio -i -d -m -u 2>/tmp-cpio-errors ||
		fail "unpacking /payload/$file failed: $($bb grep -v ' blocks$' /tmp-cpio-errors)"
	$bb rm -f "/payload/$file"
	log "unpacked $file ($((bytes / 1048576)) MiB)"
done </payload/index
cd / || fail "cannot leave /sysroot"
[ -x /sysroot/usr/lib/systemd/systemd ] || fail "the unpacked OS has no /usr/lib/systemd/systemd"
$bb mkdir -p /sysroot/proc /sysroot/sys /sysroot/dev /sysroot/run /sysroot/tmp

$bb umount /dev 2>/dev/null
$bb umount /sys
$bb umount /proc
log "starting systemd"
# switch_root must run as PID 1, hence exec; it deletes what is left in the old root.
exec $bb switch_root /sysroot /usr/lib/systemd/systemd
