/**
 * `dtbs-<arch>.tar.gz`: the device trees of Debian's kernel package (`usr/lib/linux-image-<ver>/
 * <vendor>/<board>.dtb`, and the `.dtbo` overlays beside them), for boards whose firmware does
 * not supply one (U-Boot loads the file named for the board). Hook's layout, from
 * tinkerbell/hook bash/linuxkit.sh: every entry under the folder `dtbs-<arch>/`
 * (`tar -czf dtbs-${OUTPUT_ID}.tar.gz -C <dtbs> --transform "s,^,dtbs-${OUTPUT_ID}/," .`), so the
 * archive unpacks into `/boot/dtbs-<arch>/` or, with `--strip-components=1`, into any folder;
 * made only when the kernel has device trees (arm64; Debian's amd64 kernel has none, as Hook's
 * x86_64 kernel). Hook's names carry GNU tar's `./` after the prefix (`dtbs-aarch64/./arm/…`);
 * ours do not, and both unpack to the same files.
 *
 * Deterministic: sorted entries, root-owned, every mtime SOURCE_DATE_EPOCH, gzip with MTIME 0.
 */

import type { Arch } from '../../arch.ts';
import { gzipDeterministic } from '../../formats/gzip.ts';
import { type TarEntry, writeTar } from '../../formats/tar-write.ts';
import { type Artifact, type ArtifactInput, byteLength, type DtbFile } from './input.ts';

export function dtbsArchiveName(arch: Arch): string {
  return `dtbs-${arch}.tar.gz`;
}

/**
 * The folder every entry is under (Hook's prefix). Unpacked by Hook's own U-Boot media
 * scripts with `tar -C <fat32>/dtb --strip-components=1 -xzf dtbs-<arch>.tar.gz`.
 */
export function dtbsFolder(arch: Arch): string {
  return `dtbs-${arch}/`;
}

/** The archive's tar entries: the folder, each subfolder, then the files, sorted by path. */
export function dtbsTarEntries(arch: Arch, dtbs: readonly DtbFile[]): TarEntry[] {
  const prefix = dtbsFolder(arch);
  const folders = new Set<string>();
  for (const dtb of dtbs) {
    const parts = dtb.path.split('/');
    for (let i = 1; i < parts.length; i++) folders.add(`${parts.slice(0, i).join('/')}/`);
  }
  const owner = { uid: 0, gid: 0 };
  const entries: Array<[string, TarEntry]> = [
    [prefix, { kind: 'dir', path: prefix, mode: 0o755, ...owner }],
    ...[...folders].map((folder): [string, TarEntry] => [
      prefix + folder,
      { kind: 'dir', path: prefix + folder, mode: 0o755, ...owner },
    ]),
    ...dtbs.map((dtb): [string, TarEntry] => [
      prefix + dtb.path,
      { kind: 'file', path: prefix + dtb.path, mode: 0o644, ...owner, data: dtb.data },
    ]),
  ];
  // Byte order, not the locale's: the same names give the same archive everywhere.
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.map(([, entry]) => entry);
}

/**
 * Measured on Debian 6.12's arm64 device trees (1071 files, 55.6 MB of tar): gzip level 6
 * gives 10.9 MB in 1.2 s, level 9 10.6 MB in 10.7 s, level 1 13.8 MB in 0.4 s. Level 6 is
 * also what Hook's `tar -czf` uses.
 */
const GZIP_LEVEL = 6;

const made = new WeakMap<readonly DtbFile[], Artifact>();

/**
 * `[dtbs-<arch>.tar.gz, pieces]`, or undefined when the kernel has no device trees. The same
 * bytes go out as their own file and inside the bundle, so they are made once per build.
 */
export function dtbsArtifact(input: ArtifactInput): Artifact | undefined {
  const dtbs = input.dtbs;
  if (dtbs === undefined || dtbs.length === 0) return undefined;
  let artifact = made.get(dtbs);
  if (artifact === undefined) {
    const tar = writeTar(dtbsTarEntries(input.arch, dtbs), {
      mtime: input.sourceDateEpoch,
      ownerNames: { user: 'root', group: 'root' },
    });
    const gz = gzipDeterministic(Buffer.concat(tar, byteLength(tar)), GZIP_LEVEL);
    artifact = [dtbsArchiveName(input.arch), [gz]];
    made.set(dtbs, artifact);
  }
  return artifact;
}
