/**
 * Image references (`[registry/]repo[:tag][@digest]`) normalised the way Docker does it
 * (github.com/distribution/reference): a first component naming a host (it has a `.` or a
 * `:`, is `localhost`, or has upper-case letters) is the registry; otherwise the registry is
 * `docker.io` and a single-component repository gets `library/`. Without tag or digest the
 * tag is `latest`.
 */
import { HookError } from '../errors.ts';

export const DOCKER_HUB = 'docker.io';
const LEGACY_DOCKER_HUB = 'index.docker.io';

export interface ImageReference {
  /** Registry host, with port when given (`docker.io`, `127.0.0.1:5000`). */
  registry: string;
  /** Repository path inside the registry (`library/ubuntu`). */
  repository: string;
  tag?: string;
  /** `algorithm:hex`; when present it wins over the tag for pulls. */
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const HOST_LABEL = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${HOST_LABEL}(?:\\.${HOST_LABEL})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]+)?$`);
const MAX_NAME = 255;

function invalid(raw: string, why: string): HookError {
  return new HookError('E_OCI', `Invalid image reference "${raw}": ${why}`, {
    hint: 'Use [registry/]repository[:tag][@sha256:digest], e.g. ghcr.io/tinkerbell/tink-worker:latest',
  });
}

/** True when the first path component of a reference names a registry host. */
function looksLikeHost(component: string): boolean {
  return (
    component.includes('.') ||
    component.includes(':') ||
    component === 'localhost' ||
    component.toLowerCase() !== component
  );
}

export function parseReference(raw: string): ImageReference {
  let rest = raw;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(raw, `bad digest "${digest}"`);
    if (digest.startsWith('sha256:') && !/^sha256:[0-9a-f]{64}$/.test(digest)) {
      throw invalid(raw, 'a sha256 digest is 64 lower-case hex digits');
    }
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(raw, `bad tag "${tag}"`);
  }
  if (rest === '') throw invalid(raw, 'the repository name is empty');

  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0 && looksLikeHost(rest.slice(0, slash))) {
    registry = rest.slice(0, slash);
    repository = rest.slice(slash + 1);
    if (!DOMAIN.test(registry)) throw invalid(raw, `bad registry host "${registry}"`);
  }
  if (registry === LEGACY_DOCKER_HUB) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;

  if (repository.toLowerCase() !== repository) throw invalid(raw, 'the repository name must be lower-case');
  for (const component of repository.split('/')) {
    if (!COMPONENT.test(component)) throw invalid(raw, `bad repository path component "${component}"`);
  }
  if (registry.length + 1 + repository.length > MAX_NAME) {
    throw invalid(raw, `the name is longer than ${MAX_NAME} characters`);
  }

  const ref: ImageReference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  if (tag === undefined && digest === undefined) ref.tag = 'latest';
  return ref;
}

/** The registry host an image reference points at (`ubuntu` → `docker.io`). */
export function registryHost(ref: string | ImageReference): string {
  return (typeof ref === 'string' ? parseReference(ref) : ref).registry;
}

/** The fully qualified form: `registry/repository[:tag][@digest]`. */
export function formatReference(ref: ImageReference): string {
  let out = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/** What a manifest request names: the digest when known, else the tag. */
export function manifestSelector(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}
