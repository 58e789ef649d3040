/**
 * A local HTTP mirror on 127.0.0.1 for tests: serves files from a directory (or from
 * in-memory overrides, e.g. tampered copies) and injects faults on demand — HTTP 500, a
 * connection reset, a truncated body (Content-Length larger than the body sent).
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

export type Fault = 'status500' | 'reset' | 'truncate' | 'status404';

export interface MirrorServer {
  /** Base URL, e.g. `http://127.0.0.1:40123` (no trailing slash). */
  url: string;
  /** Paths requested so far, in order. */
  requests: string[];
  /** Fails the next `times` requests whose path matches with `fault` (`Infinity` for always). */
  inject(match: string | RegExp, fault: Fault, times: number): void;
  /** Drops every pending fault injection. */
  clearInjections(): void;
  /** Serves `body` instead of the file at `path` (undefined to stop). */
  override(path: string, body: Buffer | undefined): void;
  close(): Promise<void>;
}

interface Injection {
  match: string | RegExp;
  fault: Fault;
  remaining: number;
}

function matches(match: string | RegExp, path: string): boolean {
  return typeof match === 'string' ? path === match || path.endsWith(match) : match.test(path);
}

export async function startMirrorServer(root: string): Promise<MirrorServer> {
  const injections: Injection[] = [];
  const overrides = new Map<string, Buffer>();
  const requests: string[] = [];

  const server = http.createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    requests.push(path);
    const injection = injections.find((i) => i.remaining > 0 && matches(i.match, path));
    if (injection) {
      injection.remaining--;
      if (injection.fault === 'reset') {
        request.socket.destroy();
        return;
      }
      if (injection.fault === 'status500' || injection.fault === 'status404') {
        response.writeHead(injection.fault === 'status500' ? 500 : 404, { 'content-length': '0' });
        response.end();
        return;
      }
    }
    let body = overrides.get(path);
    if (body === undefined) {
      const file = normalize(join(root, path));
      if (!file.startsWith(normalize(root))) {
        response.writeHead(403).end();
        return;
      }
      try {
        body = await readFile(file);
      } catch {
        response.writeHead(404, { 'content-length': '0' }).end();
        return;
      }
    }
    if (injection?.fault === 'truncate') {
      response.writeHead(200, { 'content-length': String(body.length) });
      response.write(body.subarray(0, Math.floor(body.length / 2)), () => request.socket.destroy());
      return;
    }
    response.writeHead(200, { 'content-length': String(body.length) });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    inject(match, fault, times) {
      injections.push({ match, fault, remaining: times });
    },
    clearInjections() {
      injections.length = 0;
    },
    override(path, body) {
      if (body === undefined) overrides.delete(path);
      else overrides.set(path, body);
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
