/**
 * The groups `hook inspect` sorts an image's files into (the treemap's first level): what a
 * reader of the image asks about (the container engine, the kernel modules, the TypeScript
 * runtime…), decided from the package name, the path and the segment. One table; the first
 * rule that matches wins, so specific rules come before `lib*`.
 */
export interface GroupRule {
  name: string;
  /** What the group holds, for the legend. */
  about: string;
  /** Fill colour of the group in the treemap. */
  color: string;
  segment?: RegExp;
  path?: RegExp;
  package?: RegExp;
}

export const GROUPS: readonly GroupRule[] = [
  {
    name: 'early boot',
    about: '/init and the programs it runs before the OS is unpacked (copies, in the early archive)',
    color: '#8c564b',
    segment: /^early$/,
  },
  {
    name: 'kernel modules',
    about: 'modules and their depmod indexes',
    color: '#1f77b4',
    path: /^\/(usr\/)?lib\/modules\//,
  },
  {
    name: 'firmware',
    about: 'firmware files the selected modules load',
    color: '#17becf',
    path: /^\/(usr\/)?lib\/firmware\//,
  },
  {
    name: 'HookOS services',
    about: 'the services HookOS adds (hook-bootkit, hook-docker, hook-network…) and their units',
    color: '#e377c2',
    path: /^\/(usr\/lib\/hook\/|usr\/lib\/systemd\/system\/(hook-|[^/]+\.d\/10-hook\.conf$))/,
  },
  {
    name: 'generated configuration',
    about: 'files the build writes: accounts, unit links, the CA bundle, os-release…',
    color: '#bcbd22',
    package: /^\(generated\)$/,
  },
  {
    name: 'package unknown',
    about: 'files of an initramfs read without its build report, outside the segments named after a package',
    color: '#c7c7c7',
    package: /^\(unknown\)$/,
  },
  {
    name: 'kernel modules',
    about: 'modules and their depmod indexes',
    color: '#1f77b4',
    package: /^linux-(image|modules)-/,
  },
  {
    name: 'firmware',
    about: 'firmware files the selected modules load',
    color: '#17becf',
    package: /^(firmware-|amd64-microcode|intel-microcode)/,
  },
  {
    name: 'container engine',
    about: 'dockerd, containerd, runc, the docker CLI and the netfilter tools Docker drives',
    color: '#d62728',
    package:
      /^(docker\.io|docker-cli|docker-buildx|containerd|runc|tini|catatonit|iptables|nftables|libnftables\d.*|libip[46]tc\d.*|libxtables\d.*|libnftnl\d.*|libnfnetlink\d.*|libnetfilter-.*|libmnl\d.*|pigz)$/,
  },
  {
    name: 'TypeScript runtime',
    about: 'what runs the HookOS services (QuickJS, or Node.js)',
    color: '#9467bd',
    package: /^(nodejs|libnode\d.*|quickjs|libquickjs.*|libuv1.*|libcares\d.*|libada\d.*|libsimdjson\d.*)$/,
  },
  {
    // Its own group: Node.js links it, and so does xfsprogs (xfs_scrub), which kept its
    // 36.5 MiB in the image after Node.js left (trixie, x86_64).
    name: 'ICU',
    about: 'Unicode tables and code (libicu), linked by Node.js and by xfsprogs’ xfs_scrub',
    color: '#c5b0d5',
    package: /^(libicu\d.*|icu-devtools)$/,
  },
  {
    name: 'system (systemd, udev, dbus)',
    about: 'init, device manager, message bus, logging, PAM',
    color: '#ff7f0e',
    package:
      /^(systemd.*|libsystemd.*|udev|libudev\d.*|dbus.*|libdbus-.*|libpam.*|libnss-.*|kmod|libkmod\d.*|libapparmor\d.*|libseccomp\d.*|libcap2.*|libaudit.*|libselinux\d.*|libsemanage.*|libsepol\d.*|libcryptsetup\d.*|libdevmapper\d.*|libelogind.*|rsyslog|libfastjson\d.*|libestr\d.*|liblognorm\d.*)$/,
  },
  {
    name: 'disk tools',
    about: 'partitioning, file systems, RAID, LVM, NVMe',
    color: '#8c6d31',
    package:
      /^(parted|libparted.*|gdisk|fdisk|libfdisk\d.*|sfdisk|e2fsprogs|libext2fs\d.*|libcom-err\d.*|libss\d.*|logsave|xfsprogs|libinih\d.*|btrfs-progs|dosfstools|mdadm|lvm2|liblvm2.*|dmsetup|dmeventd|libdevmapper-event.*|cryptsetup.*|thin-provisioning-tools|nvme-cli|libnvme\d.*|sg3-utils|libsgutils.*|hdparm|smartmontools|mtools|ntfs-3g|libntfs-3g.*|libaio\d.*|libxenmisc.*|libxen.*|libyajl\d.*|libblkid\d.*|libuuid\d.*|libmount\d.*|libsmartcols\d.*|libfuse.*)$/,
  },
  {
    name: 'network and TLS',
    about: 'iproute2, curl and its TLS stack, Kerberos, CA certificates',
    color: '#2ca02c',
    package:
      /^(curl|libcurl.*|openssl|openssl-provider-.*|libssl\d.*|ca-certificates|libgnutls.*|libnghttp\d.*|libngtcp\d.*|libnghttp3.*|libssh\d?.*|libkrb5.*|libgssapi-krb5.*|libk5crypto\d.*|libkeyutils\d.*|libldap.*|libsasl2.*|librtmp\d.*|libpsl\d.*|libidn2.*|libunistring\d.*|libp11-kit\d.*|libtasn1.*|libnettle\d.*|libhogweed\d.*|libgmp\d.*|libbrotli\d.*|iproute2|iputils-.*|ethtool|netbase|wget|socat|openssh-.*|libbpf\d.*|libelf\d.*|libtirpc.*|libwrap\d.*|ifupdown|isc-dhcp-.*|dhcpcd.*|bridge-utils|vlan|ipmitool|libfreeipmi.*|libipmi.*)$/,
  },
  {
    name: 'libraries',
    about: 'other shared libraries (C library, compression, databases…)',
    color: '#7f7f7f',
    package: /^lib/,
  },
  {
    name: 'tools and base system',
    about: 'shells, coreutils, util-linux, package tools and everything else',
    color: '#aec7e8',
  },
];

/** The group of a file: the name of the first rule whose every given condition matches. */
export function groupOf(file: { path: string; package: string; segment: string }): GroupRule {
  for (const rule of GROUPS) {
    if (rule.segment !== undefined && !rule.segment.test(file.segment)) continue;
    if (rule.path !== undefined && !rule.path.test(file.path)) continue;
    if (rule.package !== undefined && !rule.package.test(file.package)) continue;
    return rule;
  }
  // The last rule has no condition; this only satisfies the type checker.
  return GROUPS[GROUPS.length - 1] as GroupRule;
}

/** The group of a whole package, for reports that do not list files (version 1). */
export function groupOfPackage(name: string): GroupRule {
  return groupOf({ path: '', package: name, segment: '' });
}

/** Each group's name once, in table order, with its colour and description. */
export function groupLegend(): GroupRule[] {
  const seen = new Set<string>();
  return GROUPS.filter((g) => !seen.has(g.name) && seen.add(g.name));
}
