/**
 * Test-only stand-in for the Docker Engine API on a unix socket (no engine can run on the build
 * host). It records every request and implements just the endpoints hook-bootkit uses, with the
 * engine's status codes and stream formats; the real engine is exercised by the QEMU boot test.
 * A Node program: the bootkit tests on qjs drive it as a peer (osie/test-runner/peers).
 */
import http from 'node:http';
import type { FakeContainer, RecordedRequest, StartBehavior } from './fake-engine-types.ts';

export type { FakeContainer, RecordedRequest, StartBehavior };

export class FakeDockerEngine {
  readonly requests: RecordedRequest[] = [];
  /** Images present locally, as `name:tag`. */
  readonly localImages = new Set<string>();
  /** Images the "registry" serves, as `name:tag`, with the base64url auth they require if any. */
  readonly pullable = new Map<string, string | undefined>();
  readonly startBehaviors: StartBehavior[] = [];
  readonly containers = new Map<string, FakeContainer>();
  apiVersion = '1.45';
  private server: http.Server | undefined;
  private nextId = 1;

  listen(socketPath: string): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
        this.handle(req.method ?? '', new URL(req.url ?? '/', 'http://docker'), req.headers, body, res);
      });
    });
    return new Promise((resolve) => this.server?.listen(socketPath, resolve));
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      const server = this.server;
      this.server = undefined;
      if (server === undefined) return resolve();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  }

  /** Simulates the worker dying while it runs. */
  crash(name: string, exitCode: number, logs: string): void {
    const container = this.containers.get(name);
    if (container === undefined) throw new Error(`no container ${name}`);
    container.running = false;
    container.exitCode = exitCode;
    container.logs = logs;
  }

  requestsTo(method: string, pathPattern: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && pathPattern.test(r.path));
  }

  private handle(
    method: string,
    url: URL,
    headers: http.IncomingHttpHeaders,
    body: string,
    res: http.ServerResponse,
  ): void {
    const path = url.pathname.replace(/^\/v\d+\.\d+/, '');
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    const empty = (status: number) => {
      res.writeHead(status);
      res.end();
    };
    const imageMatch = path.match(/^\/images\/(.+)\/json$/);
    const imageDelete = method === 'DELETE' ? path.match(/^\/images\/(.+)$/) : null;
    const containerMatch = path.match(/^\/containers\/([^/]+)(\/\w+)?$/);
    if (method === 'GET' && path === '/_ping') {
      res.writeHead(200, { 'Api-Version': this.apiVersion });
      res.end('OK');
    } else if (method === 'GET' && path === '/version') {
      json(200, {
        ApiVersion: this.apiVersion,
        Version: '26.1.5',
        Components: [
          { Name: 'Engine', Version: '26.1.5', Details: { ApiVersion: this.apiVersion, Os: 'linux' } },
          { Name: 'containerd', Version: '1.7.24', Details: { GitCommit: 'abc' } },
        ],
      });
    } else if (method === 'GET' && path === '/info') {
      json(200, {
        Containers: this.containers.size,
        ContainersRunning: [...this.containers.values()].filter((c) => c.running).length,
        Images: this.localImages.size,
        ServerVersion: '26.1.5',
        Driver: 'overlay2',
        LoggingDriver: 'journald',
        MemTotal: 2147483648,
        RegistryConfig: {
          IndexConfigs: { '10.0.2.2:5000': { Secure: false }, 'docker.io': { Secure: true } },
        },
      });
    } else if (method === 'GET' && path === '/containers/json') {
      const all = url.searchParams.get('all') === '1';
      json(
        200,
        [...this.containers.values()]
          .filter((c) => all || c.running)
          .map((c) => ({
            Id: c.id,
            Names: [`/${c.name}`],
            Image: c.body.Image,
            Command: c.command ?? '/usr/bin/tink-worker',
            Created: c.created ?? 1_700_000_000,
            State: c.running ? 'running' : 'exited',
            Status: c.running ? 'Up 2 minutes' : `Exited (${c.exitCode}) 1 second ago`,
            Ports: [],
          })),
      );
    } else if (method === 'GET' && path === '/images/json') {
      json(
        200,
        [...this.localImages].map((ref, i) => ({
          Id: `sha256:${[...ref]
            .map((ch) => ch.charCodeAt(0).toString(16))
            .join('')
            .padEnd(64, '0')
            .slice(0, 64)}`,
          RepoTags: [ref],
          Created: 1_700_000_000 + i,
          Size: 72_600_000 + i,
        })),
      );
    } else if (imageDelete !== null) {
      const ref = decodeURIComponent(imageDelete[1] ?? '');
      if (!this.localImages.delete(ref)) {
        json(404, { message: `No such image: ${ref}` });
        return;
      }
      json(200, [{ Untagged: ref }, { Deleted: 'sha256:feedface' }]);
    } else if (method === 'POST' && path === '/images/create') {
      const ref = `${url.searchParams.get('fromImage')}:${url.searchParams.get('tag')}`;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(`${JSON.stringify({ status: `Pulling from ${ref}` })}\r\n`);
      const requiredAuth = this.pullable.get(ref);
      if (
        !this.pullable.has(ref) ||
        (requiredAuth !== undefined && headers['x-registry-auth'] !== requiredAuth)
      ) {
        const message = this.pullable.has(ref) ? 'unauthorized: authentication required' : 'manifest unknown';
        res.end(`${JSON.stringify({ errorDetail: { message }, error: message })}\r\n`);
        return;
      }
      this.localImages.add(ref);
      res.end(`${JSON.stringify({ status: `Status: Downloaded newer image for ${ref}` })}\r\n`);
    } else if (method === 'GET' && imageMatch !== null) {
      const ref = decodeURIComponent(imageMatch[1] ?? '');
      const present = this.localImages.has(ref) || this.localImages.has(`${ref}:latest`);
      present ? json(200, { Id: `sha256:${ref}` }) : json(404, { message: `No such image: ${ref}` });
    } else if (method === 'POST' && path === '/containers/create') {
      const name = url.searchParams.get('name') ?? '';
      const parsed = JSON.parse(body) as FakeContainer['body'];
      if (this.containers.has(name)) {
        json(409, { message: `Conflict. The container name "/${name}" is in use` });
        return;
      }
      const image = parsed.Image.includes(':') ? parsed.Image : `${parsed.Image}:latest`;
      if (!this.localImages.has(image)) {
        json(404, { message: `No such image: ${parsed.Image}` });
        return;
      }
      const id = `${String(this.nextId++).padStart(4, '0')}${'c'.repeat(60)}`;
      this.containers.set(name, { id, name, body: parsed, running: false, exitCode: 0, logs: '' });
      json(201, { Id: id, Warnings: [] });
    } else if (containerMatch !== null) {
      const container = this.find(decodeURIComponent(containerMatch[1] ?? ''));
      const action = containerMatch[2] ?? '';
      if (container === undefined) {
        json(404, { message: `No such container: ${containerMatch[1]}` });
        return;
      }
      if (method === 'GET' && action === '/json') {
        json(200, {
          Id: container.id,
          Name: `/${container.name}`,
          State: {
            Status: container.running ? 'running' : 'exited',
            Running: container.running,
            Pid: container.running ? 4242 : 0,
            ExitCode: container.exitCode,
            Error: '',
            StartedAt: '',
            FinishedAt: '',
          },
          Config: {
            Image: container.body.Image,
            Env: ['PATH=/usr/bin', ...container.body.Env],
            Tty: container.tty === true,
          },
        });
      } else if (method === 'DELETE' && action === '') {
        this.containers.delete(container.name);
        empty(204);
      } else if (method === 'POST' && action === '/start') {
        const behavior = this.startBehaviors.shift() ?? 'run';
        if (behavior === 'run') container.running = true;
        else Object.assign(container, { running: false, exitCode: behavior.exitCode, logs: behavior.logs });
        empty(204);
      } else if (method === 'POST' && (action === '/stop' || action === '/kill')) {
        if (!container.running) {
          action === '/stop'
            ? empty(304)
            : json(409, { message: `Container ${container.id} is not running` });
          return;
        }
        container.running = false;
        container.exitCode = action === '/stop' ? 143 : 137;
        empty(204);
      } else if (method === 'POST' && action === '/restart') {
        container.running = true;
        empty(204);
      } else if (method === 'GET' && action === '/logs') {
        // Lines alternate between stdout and stderr frames; `tail` keeps the last lines.
        const tail = url.searchParams.get('tail') ?? 'all';
        let lines = container.logs.split(/(?<=\n)/).filter((line) => line !== '');
        if (tail !== 'all') lines = lines.slice(Math.max(0, lines.length - Number(tail)));
        const frame = (stream: number, text: string) => {
          const payload = Buffer.from(text, 'utf8');
          const header = Buffer.alloc(8);
          header[0] = stream;
          header.writeUInt32BE(payload.length, 4);
          return Buffer.concat([header, payload]);
        };
        if (container.tty === true) {
          res.writeHead(200, { 'Content-Type': 'application/vnd.docker.raw-stream' });
          res.end(lines.join(''));
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream' });
        const frames = lines.map((line, i) => frame(i % 2 === 0 ? 1 : 2, line));
        if (url.searchParams.get('follow') !== '1') {
          res.end(Buffer.concat(frames));
          return;
        }
        // Following: one frame at a time, then the container "stops".
        let next = 0;
        const timer = setInterval(() => {
          const item = frames[next++];
          if (item === undefined) {
            clearInterval(timer);
            res.end();
          } else {
            res.write(item);
          }
        }, 30);
      } else {
        json(404, { message: `unsupported: ${method} ${path}` });
      }
    } else {
      json(404, { message: `page not found: ${method} ${path}` });
    }
  }

  private find(nameOrId: string): FakeContainer | undefined {
    return (
      this.containers.get(nameOrId) ?? [...this.containers.values()].find((c) => c.id.startsWith(nameOrId))
    );
  }
}
