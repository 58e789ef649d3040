/**
 * Proxy settings from the kernel command line (HTTP_PROXY, HTTPS_PROXY, NO_PROXY), in the forms
 * Go's net/http (the engine, tink-worker, tink-agent) understands: a URL with scheme http, https,
 * socks5 or socks5h, or `host[:port]`, which Go reads as `http://host[:port]`.
 */
import { ipv6Problem, parseHostPort } from './host-port.ts';
import { parseIPv4Cidr } from './ipv4.ts';
import { fail, ok, type Parsed, shown } from './parsed.ts';

const PROXY_SCHEMES = new Set(['http', 'https', 'socks5', 'socks5h']);
/** The characters Go's net/url allows unescaped in userinfo (validUserinfo). */
const GO_USERINFO = /^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/;

/** The proxy URL as given, once its scheme, host and port check out. */
export function parseProxyUrl(text: string): Parsed<string> {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text);
  if (scheme !== null && !PROXY_SCHEMES.has((scheme[1] as string).toLowerCase())) {
    return fail(
      `${shown(text)} has scheme ${shown(scheme[1] as string)}; proxies use http, https, socks5 or socks5h`,
    );
  }
  const rest = scheme === null ? text : text.slice(scheme[0].length);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  const path = authorityEnd < 0 ? '' : rest.slice(authorityEnd);
  if (path !== '' && path !== '/')
    return fail(`${shown(text)} has a path; a proxy URL is scheme://host:port`);
  const at = authority.lastIndexOf('@');
  const userinfo = at < 0 ? '' : authority.slice(0, at);
  if (/[\s"]/.test(userinfo)) return fail('the proxy URL has spaces or quotes in its user name or password');
  // Go's url.Parse (the engine and the worker read the proxy with it) refuses other characters
  // in the user name and password unless %-escaped, and a % that starts no escape.
  if (!GO_USERINFO.test(userinfo) || /%(?![0-9A-Fa-f]{2})/.test(userinfo)) {
    return fail('the proxy URL has characters in its user name or password that must be %-escaped');
  }
  const host = parseHostPort(authority.slice(at + 1));
  if (!host.ok) return fail(`proxy ${host.reason}`);
  return ok(text);
}

/**
 * NO_PROXY: comma-separated entries, each `*`, a host name or domain (a leading `.` is allowed),
 * an IP address, `host:port`, or a CIDR block. Returns the valid entries and the invalid ones.
 */
export function parseNoProxy(text: string): { entries: string[]; invalid: string[] } {
  const entries: string[] = [];
  const invalid: string[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    (noProxyEntryOk(entry) ? entries : invalid).push(entry);
  }
  return { entries, invalid };
}

function noProxyEntryOk(entry: string): boolean {
  if (entry === '*') return true;
  if (entry.includes('/')) {
    const slash = entry.indexOf('/');
    const length = entry.slice(slash + 1);
    if (parseIPv4Cidr(entry).ok) return true;
    return (
      ipv6Problem(entry.slice(0, slash)) === undefined &&
      /^(0|[1-9]\d{0,2})$/.test(length) &&
      Number(length) <= 128
    );
  }
  const host = entry.startsWith('.') ? entry.slice(1) : entry;
  return parseHostPort(host, { bareIPv6: true }).ok;
}
