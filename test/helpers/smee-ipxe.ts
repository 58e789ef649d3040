/**
 * Smee's iPXE script for Hook ("auto.ipxe"), reproduced for the tests from tinkerbell/tinkerbell
 * smee/internal/ipxe/script:
 *
 * - hook.go, `HookScript` (text/template): the kernel line is
 *   `kernel ${download-url}/${kernel} [vlan_id=N] \` / `facility= syslog_host= grpc_authority=
 *   tinkerbell_tls= tinkerbell_insecure_tls= worker_id= hw_addr= \` / `modules=loop,squashfs,
 *   sd-mod,usb-storage intel_iommu=on iommu=pt initrd=${initrd} console=tty0 console=ttyS1,115200
 *   <ExtraKernelParams>`, then `initrd ${download-url}/${initrd}` and `boot`, each with Smee's
 *   retry loop;
 * - syslog.go, `syslogScript`: with a syslog host, `set syslog-address:ipv4 <host> || nslookup
 *   …` — an IP literal first, "so it works even when nslookup is unavailable" (QEMU's iPXE ROM,
 *   Debian ipxe-qemu 1.0.0+git-20190125, has no nslookup: measured ENOEXEC 0x2e022001);
 * - ipxe_test.go, `TestDefaultScript`: the exact text for a machine without a syslog host, which
 *   test/smee-ipxe.test.ts checks this renderer against, byte for byte.
 */

export interface SmeeHookScript {
  arch: 'x86_64' | 'aarch64';
  /** Where vmlinuz-<arch> and initramfs-<arch> are (Smee's OSIE URL), no trailing slash. */
  downloadUrl: string;
  facility: string;
  /** `''` for none. */
  syslogHost: string;
  grpcAuthority: string;
  tinkerbellTls: boolean;
  tinkerbellInsecureTls: boolean;
  workerId: string;
  hwAddr: string;
  /** `''` for none. */
  vlanId: string;
  extraKernelParams: string[];
  retries: number;
  retryDelay: number;
}

function syslogStanza(host: string): string {
  if (host === '') return '';
  return [
    '',
    '# Try an IP literal first so it works even when nslookup is unavailable.',
    "# Leave the nslookup destination untyped to preserve the resolved address's type.",
    'clear syslog-address',
    `set syslog-address:ipv4 ${host} || nslookup syslog-address ${host} && set syslog \${syslog-address} || echo [WARN] Failed to configure syslog host ${host}: resolution failed or expected ipv4 address`,
    'clear syslog-address',
    '',
  ].join('\n');
}

/** The script Smee serves at `…/<mac>/auto.ipxe` for a Hook machine. */
export function smeeHookScript(h: SmeeHookScript): string {
  const kernelLine = [
    `kernel \${download-url}/\${kernel}${h.vlanId === '' ? '' : ` vlan_id=${h.vlanId}`} \\`,
    `facility=${h.facility} syslog_host=${h.syslogHost} grpc_authority=${h.grpcAuthority} tinkerbell_tls=${h.tinkerbellTls} tinkerbell_insecure_tls=${h.tinkerbellInsecureTls} worker_id=${h.workerId} hw_addr=${h.hwAddr} \\`,
    `modules=loop,squashfs,sd-mod,usb-storage intel_iommu=on iommu=pt initrd=\${initrd} console=tty0 console=ttyS1,115200${h.extraKernelParams.map((p) => ` ${p}`).join('')} && goto download_initrd || iseq \${idx} \${retries} && goto kernel-error || inc idx && echo retry in \${retry_delay} seconds ; sleep \${retry_delay} ; goto retry_kernel`,
  ].join('\n');
  return `#!ipxe${syslogStanza(h.syslogHost)}

echo Loading the Tinkerbell Hook iPXE script...

set arch ${h.arch}
set download-url ${h.downloadUrl}
set kernel vmlinuz-${h.arch}
set initrd initramfs-${h.arch}
set retries:int32 ${h.retries}
set retry_delay:int32 ${h.retryDelay}

set idx:int32 0
:retry_kernel
${kernelLine}

:download_initrd
set idx:int32 0
:retry_initrd
initrd \${download-url}/\${initrd} && goto boot || iseq \${idx} \${retries} && goto initrd-error || inc idx && echo retry in \${retry_delay} seconds ; sleep \${retry_delay} ; goto retry_initrd

:boot
set idx:int32 0
:retry_boot
boot || iseq \${idx} \${retries} && goto boot-error || inc idx && echo retry in \${retry_delay} seconds ; sleep \${retry_delay} ; goto retry_boot

:kernel-error
echo Failed to load kernel
imgfree
exit

:initrd-error
echo Failed to load initrd
imgfree
exit

:boot-error
echo Failed to boot
imgfree
exit
`;
}

/**
 * The kernel command line that script gives: iPXE's `kernel` takes the words after the URL up
 * to `&&`, with settings expanded, joined by single spaces (a BIOS iPXE puts nothing before
 * them; a UEFI one puts the image name first).
 */
export function smeeKernelCmdline(h: SmeeHookScript): string {
  return [
    ...(h.vlanId === '' ? [] : [`vlan_id=${h.vlanId}`]),
    `facility=${h.facility}`,
    `syslog_host=${h.syslogHost}`,
    `grpc_authority=${h.grpcAuthority}`,
    `tinkerbell_tls=${h.tinkerbellTls}`,
    `tinkerbell_insecure_tls=${h.tinkerbellInsecureTls}`,
    `worker_id=${h.workerId}`,
    `hw_addr=${h.hwAddr}`,
    'modules=loop,squashfs,sd-mod,usb-storage',
    'intel_iommu=on',
    'iommu=pt',
    `initrd=initramfs-${h.arch}`,
    'console=tty0',
    'console=ttyS1,115200',
    ...h.extraKernelParams,
  ].join(' ');
}
