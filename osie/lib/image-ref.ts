/**
 * Image references exactly as Docker parses them: distribution/reference's ParseNormalizedNamed
 * (the function Hook's bootkit uses to find an image's registry), i.e. its grammar
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [domain "/"] path-component ["/" path-component]*
 *   domain    := host [":" port]     host := domain-name | IPv4 | "[" IPv6 "]"
 *
 * plus its normalisation (splitDockerDomain): the first component is a registry only when it
 * contains `.` or `:`, is `localhost`, or has upper-case letters; otherwise the image lives on
 * Docker Hub (`docker.io`, and `index.docker.io` is the same). Digests must use an algorithm
 * Docker knows (sha256, sha384, sha512) with its exact length of lower-case hex (go-digest).
 *
 * Written as a small hand parser over the components rather than Docker's one big regular
 * expression: JavaScript's backtracking engine (unlike Go's RE2) can take super-linear time on
 * that expression, and these strings come from the network boot command line.
 *
 * The one parser of image references: the builder's src/oci/reference.ts wraps it (throwing
 * HookError instead of returning a reason), so the OS and the builder agree on every host rule.
 */
import { fail, ok, type Parsed, shown } from './parsed.ts';

export const DOCKER_HUB = 'docker.io';
const LEGACY_HUB = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
/** distribution/reference RepositoryNameTotalLengthMax: the path, without the domain. */
const PATH_MAX = 255;

export interface ImageRef {
  /** Registry host with port, normalised (`docker.io` for Docker Hub); `''` in Docker's odd cases without one. */
  registry: string;
  /** The reference without tag or digest, as given, e.g. `10.0.2.2:5000/tink-worker`, `ubuntu`. */
  name: string;
  /** The repository path on the registry, e.g. `library/ubuntu`. */
  path: string;
  /** The digest when pinned (it wins over a tag, as Docker's ParseDockerRef), else the tag, else `latest`. */
  tag: string;
  /** The tag as written, if any (a reference may carry both a tag and a digest). */
  givenTag?: string | undefined;
  /** The digest as written, if any. */
  digest?: string | undefined;
}

const DOMAIN_COMPONENT = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
/** go-digest's DigestRegexpAnchored and the algorithms Docker registers, with their hex lengths. */
const GO_DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const ALGORITHM_HEX_LENGTH: ReadonlyMap<string, number> = new Map([
  ['sha256', 64],
  ['sha384', 96],
  ['sha512', 128],
]);

export function parseImageRef(text: string): Parsed<ImageRef> {
  const invalid = (why: string) => fail<ImageRef>(`${shown(text)} is not an image reference: ${why}`);
  if (text === '') return invalid('it is empty');
  if (/^[a-f0-9]{64}$/.test(text)) return invalid('a 64-character hex string is an image ID, not a name');

  // splitDockerDomain on the whole text (tag and digest included), as Docker does.
  const slash = text.indexOf('/');
  let domain: string;
  let remainder: string;
  if (slash < 0) {
    domain = DOCKER_HUB;
    remainder = OFFICIAL_PREFIX + text;
  } else {
    const first = text.slice(0, slash);
    const rest = text.slice(slash + 1);
    if (first === 'localhost') [domain, remainder] = [first, rest];
    else if (first === LEGACY_HUB) [domain, remainder] = [DOCKER_HUB, rest];
    else if (/[.:]/.test(first) || first.toLowerCase() !== first) [domain, remainder] = [first, rest];
    else [domain, remainder] = [DOCKER_HUB, text];
    if (domain === DOCKER_HUB && !remainder.includes('/')) remainder = OFFICIAL_PREFIX + remainder;
  }
  const colon = remainder.indexOf(':');
  const remote = colon < 0 ? remainder : remainder.slice(0, colon);
  if (remote.toLowerCase() !== remote)
    return invalid(`the repository name ${shown(remote)} must be lower-case`);

  // distribution/reference Parse(domain + "/" + remainder).
  const full = `${domain}/${remainder}`;
  const at = full.indexOf('@');
  const beforeDigest = at < 0 ? full : full.slice(0, at);
  const digest = at < 0 ? undefined : full.slice(at + 1);
  // Path components contain no ':' so a ':' after the last '/' can only start the tag.
  const tagColon = beforeDigest.lastIndexOf(':');
  const hasTag = tagColon > beforeDigest.lastIndexOf('/');
  const name = hasTag ? beforeDigest.slice(0, tagColon) : beforeDigest;
  const tag = hasTag ? beforeDigest.slice(tagColon + 1) : undefined;

  const split = splitName(name);
  if (split === undefined)
    return invalid(
      'a name is path components of [a-z0-9] joined by . _ __ or -, after an optional registry host[:port]',
    );
  if (tag !== undefined && !TAG.test(tag))
    return invalid(`the tag ${shown(tag)} is not [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`);
  if (digest !== undefined) {
    const problem = digestProblem(digest);
    if (problem !== undefined) return invalid(problem);
  }
  if (split.path.length > PATH_MAX)
    return invalid(`the repository path is longer than ${PATH_MAX} characters`);

  const givenName = text.slice(
    0,
    text.length - (digest === undefined ? 0 : digest.length + 1) - (tag === undefined ? 0 : tag.length + 1),
  );
  const ref: ImageRef = {
    registry: split.domain,
    name: givenName,
    path: split.path,
    tag: digest ?? tag ?? 'latest',
  };
  if (tag !== undefined) ref.givenTag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ok(ref);
}

/**
 * anchoredNameRegexp `^(?:(domainAndPort)/)?(remoteName)$` with Go's leftmost-first preference:
 * the first component is the domain when it is one and the rest is a valid path; otherwise the
 * whole name must be a path (then there is no domain).
 */
function splitName(name: string): { domain: string; path: string } | undefined {
  const slash = name.indexOf('/');
  if (slash > 0 && isDomainAndPort(name.slice(0, slash)) && isRemoteName(name.slice(slash + 1))) {
    return { domain: name.slice(0, slash), path: name.slice(slash + 1) };
  }
  return isRemoteName(name) ? { domain: '', path: name } : undefined;
}

function isRemoteName(text: string): boolean {
  return text !== '' && text.split('/').every((component) => PATH_COMPONENT.test(component));
}

/** domain-name (components joined by dots) or `[IPv6]`, then an optional `:port` of digits. */
function isDomainAndPort(text: string): boolean {
  let host = text;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || !/^[a-fA-F0-9:]+$/.test(text.slice(1, close))) return false;
    host = '';
    const rest = text.slice(close + 1);
    return rest === '' || /^:[0-9]+$/.test(rest);
  }
  const colon = host.indexOf(':');
  if (colon >= 0) {
    if (!/^[0-9]+$/.test(host.slice(colon + 1))) return false;
    host = host.slice(0, colon);
  }
  return host.split('.').every((component) => DOMAIN_COMPONENT.test(component));
}

function digestProblem(digest: string): string | undefined {
  if (!DIGEST.test(digest) || !GO_DIGEST.test(digest)) return `the digest ${shown(digest)} is malformed`;
  const [algorithm = '', hex = ''] = digest.split(':');
  const length = ALGORITHM_HEX_LENGTH.get(algorithm);
  if (length === undefined) return `the digest algorithm ${shown(algorithm)} is not supported`;
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex))
    return `a ${algorithm} digest is ${length} lower-case hex characters`;
  return undefined;
}

/** The registry host an image reference pulls from (`ubuntu` → `docker.io`); undefined when invalid. */
export function registryHost(reference: string): string | undefined {
  const parsed = parseImageRef(reference);
  return parsed.ok ? parsed.value.registry : undefined;
}

/**
 * Docker's rule for whether the first component of a name is a registry host (splitDockerDomain);
 * `index.docker.io` is Docker Hub.
 */
export function domainOf(firstComponent: string): string | undefined {
  if (firstComponent === LEGACY_HUB) return DOCKER_HUB;
  if (
    firstComponent === 'localhost' ||
    /[.:]/.test(firstComponent) ||
    firstComponent.toLowerCase() !== firstComponent
  )
    return firstComponent;
  return undefined;
}

/** Go's path.Clean (what Hook's path.Join applies to `<docker_registry>/tink-worker:latest`). */
export function goPathClean(path: string): string {
  if (path === '') return '.';
  const rooted = path.startsWith('/');
  const parts: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
      else if (!rooted) parts.push('..');
      continue;
    }
    parts.push(segment);
  }
  const joined = (rooted ? '/' : '') + parts.join('/');
  return joined === '' ? '.' : joined;
}

/** Go's path.Join for two elements. */
export function goPathJoin(first: string, second: string): string {
  if (first === '' && second === '') return '';
  if (first === '') return goPathClean(second);
  if (second === '') return goPathClean(first);
  return goPathClean(`${first}/${second}`);
}
