/** One stanza of a `Packages` index, with the fields the builder uses parsed out. */
export interface BinaryPackage {
  name: string;
  version: string;
  /** `amd64`, `arm64` or `all`. */
  architecture: string;
  multiArch?: 'same' | 'foreign' | 'allowed' | 'no';
  essential: boolean;
  priority?: string;
  section?: string;
  source?: string;
  /** Raw relationship fields, unparsed (`libc6 (>= 2.34), foo | bar`). */
  depends?: string;
  preDepends?: string;
  recommends?: string;
  provides?: string;
  conflicts?: string;
  breaks?: string;
  /** Path relative to the mirror root (`pool/main/s/systemd/systemd_257-1_amd64.deb`). */
  filename: string;
  size: number;
  sha256: string;
  installedSizeKiB?: number;
  /** Which suite/component/mirror the stanza came from. */
  origin: PackageOrigin;
  /** Every field as read, for anything else. */
  fields: Record<string, string>;
}

export interface PackageOrigin {
  suite: string;
  component: string;
  /** Base URL of the mirror (`http://host/debian`), no trailing slash. */
  mirror: string;
}

export interface ArchiveSettings {
  /** Base URL of the main Debian archive. */
  mirror: string;
  /** Base URL of the security archive (serves the `*-security` suites). */
  securityMirror: string;
  suites: string[];
  components: string[];
}
