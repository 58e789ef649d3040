/**
 * The test helper that plays Smee's iPXE script handler gives exactly what Smee's own test
 * expects (tinkerbell/tinkerbell smee/internal/ipxe/script/ipxe_test.go, TestDefaultScript
 * "success with defaults": OSIE URL http://127.1.1.1, 10 retries 3 s apart, no TLS, server
 * 127.0.0.1:42113, VLAN 1234, facility onprem, MAC 00:01:02:03:04:05, no syslog host).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type SmeeHookScript, smeeHookScript, smeeKernelCmdline } from './helpers/smee-ipxe.ts';

const SMEE_TEST_EXPECTED = `#!ipxe

echo Loading the Tinkerbell Hook iPXE script...

set arch x86_64
set download-url http://127.1.1.1
set kernel vmlinuz-x86_64
set initrd initramfs-x86_64
set retries:int32 10
set retry_delay:int32 3

set idx:int32 0
:retry_kernel
kernel \${download-url}/\${kernel} vlan_id=1234 \\
facility=onprem syslog_host= grpc_authority=127.0.0.1:42113 tinkerbell_tls=false tinkerbell_insecure_tls=false worker_id=00:01:02:03:04:05 hw_addr=00:01:02:03:04:05 \\
modules=loop,squashfs,sd-mod,usb-storage intel_iommu=on iommu=pt initrd=\${initrd} console=tty0 console=ttyS1,115200 && goto download_initrd || iseq \${idx} \${retries} && goto kernel-error || inc idx && echo retry in \${retry_delay} seconds ; sleep \${retry_delay} ; goto retry_kernel

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

const SMEE_TEST_MACHINE: SmeeHookScript = {
  arch: 'x86_64',
  downloadUrl: 'http://127.1.1.1',
  facility: 'onprem',
  syslogHost: '',
  grpcAuthority: '127.0.0.1:42113',
  tinkerbellTls: false,
  tinkerbellInsecureTls: false,
  workerId: '00:01:02:03:04:05',
  hwAddr: '00:01:02:03:04:05',
  vlanId: '1234',
  extraKernelParams: [],
  retries: 10,
  retryDelay: 3,
};

test("the script is Smee's, byte for byte, for the machine of Smee's own test", () => {
  assert.equal(smeeHookScript(SMEE_TEST_MACHINE), SMEE_TEST_EXPECTED);
});

test('a syslog host adds the IP-literal-first stanza; extra parameters end the kernel line', () => {
  const script = smeeHookScript({
    ...SMEE_TEST_MACHINE,
    syslogHost: '10.0.2.2',
    extraKernelParams: ['a=1', 'b'],
  });
  assert.match(script, /^#!ipxe\n# Try an IP literal first/);
  assert.match(
    script,
    /\nset syslog-address:ipv4 10\.0\.2\.2 \|\| nslookup syslog-address 10\.0\.2\.2 && set syslog \$\{syslog-address\} \|\|/,
  );
  assert.match(script, / console=ttyS1,115200 a=1 b && goto download_initrd /);
  assert.equal(
    smeeKernelCmdline({ ...SMEE_TEST_MACHINE, syslogHost: '10.0.2.2', extraKernelParams: ['a=1', 'b'] }),
    'vlan_id=1234 facility=onprem syslog_host=10.0.2.2 grpc_authority=127.0.0.1:42113 tinkerbell_tls=false ' +
      'tinkerbell_insecure_tls=false worker_id=00:01:02:03:04:05 hw_addr=00:01:02:03:04:05 ' +
      'modules=loop,squashfs,sd-mod,usb-storage intel_iommu=on iommu=pt initrd=initramfs-x86_64 console=tty0 ' +
      'console=ttyS1,115200 a=1 b',
  );
});
