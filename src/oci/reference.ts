/**
 * Image references (`[registry/]repo[:tag][@digest]`) for the builder's OCI client: the OS's
 * own parser (osie/lib/image-ref.ts, Docker's distribution/reference rules, one rule set for
 * both), with the tag and the digest kept apart and an invalid reference an E_OCI error.
 */
import { DOCKER_HUB, parseImageRef } from '../../osie/lib/image-ref.ts';
import { HookError } from '../errors.ts';

export { DOCKER_HUB };

export interface ImageReference {
  /** Registry host, with port when given (`docker.io`, `127.0.0.1:5000`). */
  registry: string;
  /** Repository path inside the registry (`library/ubuntu`). */
  repository: string;
  tag?: string;
  /** `algorithm:hex`; when present it wins over the tag for pulls. */
  digest?: string;
}

function invalid(raw: string, why: string): HookError {
  return new HookError('E_OCI', `Invalid image reference "${raw}": ${why}`, {
    hint: 'Use [registry/]repository[:tag][@sha256:digest], e.g. ghcr.io/tinkerbell/tink-worker:latest',
  });
}

export function parseReference(raw: string): ImageReference {
  const parsed = parseImageRef(raw);
  if (!parsed.ok) throw invalid(raw, parsed.reason);
  const { registry, path, givenTag, digest } = parsed.value;
  if (registry === '') throw invalid(raw, 'it names no registry host');
  const ref: ImageReference = { registry, repository: path };
  if (givenTag !== undefined) ref.tag = givenTag;
  if (digest !== undefined) ref.digest = digest;
  if (givenTag === undefined && digest === undefined) ref.tag = 'latest';
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
