/**
 * `/init`, the first program the kernel runs from the initramfs. The initramfs root cannot be
 * pivot_root(2)-ed away (runc needs that), so /init copies it onto a real tmpfs and hands over
 * to systemd there; switch_root frees the initramfs copy.
 */
export const INIT_SCRIPT = `#!/bin/sh
# HookOS /init: move the root filesystem onto a tmpfs, then hand over to systemd.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mkdir -p /proc /sys /dev /sysroot
mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t devtmpfs -o mode=0755,nosuid devtmpfs /dev 2>/dev/null
echo "hookos-init: copying the root filesystem to tmpfs" > /dev/kmsg
mount -t tmpfs -o mode=0755,size=90% rootfs /sysroot || exec /bin/sh
# "cp -ax / /sysroot/" fails; "/." works. -x keeps /proc, /dev and /sysroot out of the copy.
cp -ax /. /sysroot/ || { echo "hookos-init: copy failed, dropping to a shell" > /dev/kmsg; exec /bin/sh; }
mkdir -p /sysroot/proc /sysroot/sys /sysroot/dev /sysroot/run /sysroot/tmp
umount /dev 2>/dev/null
umount /proc
echo "hookos-init: starting systemd" > /dev/kmsg
exec switch_root /sysroot /usr/lib/systemd/systemd
`;
