/** An SPDX 2.3 JSON SBOM of the image: every Debian package with version, checksum and purl. */
import { createHash } from 'node:crypto';
import type { ArtifactInput } from './input.ts';

export function spdxDocument(input: ArtifactInput): Record<string, unknown> {
  const packages = [...input.lock.packages].sort((a, b) => (a.name < b.name ? -1 : 1));
  const digest = createHash('sha256')
    .update(packages.map((p) => `${p.name} ${p.version} ${p.sha256}`).join('\n'))
    .digest('hex');
  const spdxId = (name: string) => `SPDXRef-Package-deb-${name.replace(/[^A-Za-z0-9.-]/g, '-')}`;
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `hookos-${input.arch}`,
    documentNamespace: `https://tinkerbell.org/spdx/hookos/${input.arch}/${digest}`,
    creationInfo: {
      created: new Date(input.sourceDateEpoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      creators: ['Tool: hook-ts'],
    },
    packages: packages.map((p) => ({
      SPDXID: spdxId(p.name),
      name: p.name,
      versionInfo: p.version,
      supplier: 'Organization: Debian',
      downloadLocation: 'NOASSERTION',
      packageFileName: p.filename,
      filesAnalyzed: false,
      checksums: [{ algorithm: 'SHA256', checksumValue: p.sha256 }],
      externalRefs: [
        {
          referenceCategory: 'PACKAGE-MANAGER',
          referenceType: 'purl',
          referenceLocator: `pkg:deb/debian/${encodeURIComponent(p.name)}@${encodeURIComponent(p.version)}?arch=${p.architecture}`,
        },
      ],
    })),
    relationships: packages.map((p) => ({
      spdxElementId: 'SPDXRef-DOCUMENT',
      relationshipType: 'DESCRIBES',
      relatedSpdxElement: spdxId(p.name),
    })),
  };
}
