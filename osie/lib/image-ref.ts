/**
 * Image references as Docker normalises them (distribution/reference's splitDockerDomain):
 * the first path component is a registry host only when it contains `.` or `:`, is
 * `localhost`, or has upper-case letters; otherwise the image lives on Docker Hub (`docker.io`).
 */

export const DOCKER_HUB = 'docker.io';

export interface ImageRef {
  /** Registry host (with port when given), e.g. `docker.io`, `10.0.2.2:5000`. */
  registry: string;
  /** The reference without tag or digest, as given, e.g. `10.0.2.2:5000/tink-worker`, `ubuntu`. */
  name: string;
  /** The tag, or the digest (`sha256:…`) when pinned by digest; `latest` when neither is given. */
  tag: string;
}

export function parseImageRef(reference: string): ImageRef {
  let name = reference;
  let tag = 'latest';
  const at = name.indexOf('@');
  if (at >= 0) {
    tag = name.slice(at + 1);
    name = name.slice(0, at);
  } else {
    const colon = name.lastIndexOf(':');
    if (colon > name.lastIndexOf('/')) {
      tag = name.slice(colon + 1);
      name = name.slice(0, colon);
    }
  }
  return { registry: registryHost(name), name, tag };
}

/** The registry host an image reference pulls from (`ubuntu` → `docker.io`). */
export function registryHost(reference: string): string {
  const slash = reference.indexOf('/');
  if (slash < 0) return DOCKER_HUB;
  const first = reference.slice(0, slash);
  const isHost = /[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first;
  if (!isHost) return DOCKER_HUB;
  return first === 'index.docker.io' ? DOCKER_HUB : first;
}
