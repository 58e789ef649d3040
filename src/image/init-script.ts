/**
 * `/init`, the first program the kernel runs from the initramfs. The initramfs root cannot be
 * pivot_root(2)-ed away (runc needs that), so /init moves it onto a real tmpfs and hands over
 * to systemd there.
 *
 * Moving, not copying: files are deleted from the initramfs as soon as they are archived
 * (`tar --remove-files`), so RAM holds one copy of the OS plus the shared libraries the
 * last steps need, instead of two full copies. That is what lets HookOS run in 1 GiB.
 */
export const INIT_SCRIPT = `#!/bin/sh
# HookOS /init: move the root filesystem onto a tmpfs, then hand over to systemd.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mkdir -p /proc /sys /dev /sysroot
mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t devtmpfs -o mode=0755,nosuid devtmpfs /dev 2>/dev/null
log() { echo "hookos-init: $*" > /dev/kmsg; }
fail() { log "$* - dropping to a shell"; [ -x /bin/sh ] && exec /bin/sh; exec /sysroot/usr/bin/sh; }
mount -t tmpfs -o mode=0755,size=90% rootfs /sysroot || fail "cannot mount the tmpfs"
log "moving the root filesystem to tmpfs"
cd / || fail "no /"
# The shared libraries and the merged-/usr links stay until the end: the commands below
# still need them. tar's own status is not trusted (it cannot remove the directories that
# hold what stays); the check after it is.
tar --one-file-system --remove-files --exclude=./sysroot --exclude=./proc --exclude=./dev \\
  --exclude=./bin --exclude=./sbin --exclude=./lib --exclude=./lib64 --no-wildcards-match-slash \\
  --exclude='./usr/lib/*-linux-gnu' --exclude=./usr/lib64 -cf - . | tar -C /sysroot -xpf -
[ -x /sysroot/usr/lib/systemd/systemd ] || fail "moving files failed"
# Only shell builtins are left in the old root: run the rest from the new one.
export PATH=/sysroot/usr/sbin:/sysroot/usr/bin
for d in /usr/lib/*-linux-gnu /usr/lib64; do
  [ -e "$d" ] && { cp -a "$d" "/sysroot$d" || fail "copying $d failed"; }
done
cp -a /bin /sbin /lib /sysroot/ && { [ ! -e /lib64 ] || cp -a /lib64 /sysroot/; } || fail "copying the /usr links failed"
mkdir -p /sysroot/proc /sysroot/sys /sysroot/dev /sysroot/run /sysroot/tmp
umount /dev 2>/dev/null
umount /proc
log "starting systemd"
exec /sysroot/usr/sbin/switch_root /sysroot /usr/lib/systemd/systemd
`;
