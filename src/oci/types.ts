/** OCI and Docker v2 media types and the JSON shapes of manifests, indexes and image configs. */

export const MEDIA_TYPE = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export const INDEX_MEDIA_TYPES: readonly string[] = [MEDIA_TYPE.ociIndex, MEDIA_TYPE.dockerManifestList];
export const IMAGE_MANIFEST_MEDIA_TYPES: readonly string[] = [
  MEDIA_TYPE.ociManifest,
  MEDIA_TYPE.dockerManifest,
];

/** Everything a manifest GET accepts, indexes first (as Docker sends it). */
export const MANIFEST_ACCEPT = [...INDEX_MEDIA_TYPES, ...IMAGE_MANIFEST_MEDIA_TYPES].join(', ');

export interface Platform {
  /** Defaults to `linux` where a platform is wanted. */
  os?: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageConfig {
  created?: string;
  architecture: string;
  variant?: string;
  os: string;
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[];
    Cmd?: string[];
    WorkingDir?: string;
    Labels?: Record<string, string>;
  };
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: Array<{ created?: string; created_by?: string; comment?: string; empty_layer?: boolean }>;
}
