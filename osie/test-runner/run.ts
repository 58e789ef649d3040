/**
 * Runs osie test files on the runtime the OS uses (Node side). Each `*.test.ts` is bundled with
 * the image's own esbuild settings (src/image/osie.ts: ES module, es2023, qjs's `os` and
 * `std` left external), with `node:test` and `node:assert/strict` replaced by the small shims in
 * shim/ (fast-check is plain JavaScript and is bundled as it is); any other Node module fails the
 * bundle. The bundle then runs under Debian trixie's qjs (runtime.ts), with trixie's socat and
 * bash first on PATH. The peers the tests talk to (peers/: Node's HTTP server, a UDP receiver, the
 * test Docker engine, Node as an oracle) are bundled for Node and started by the tests themselves.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { qjsBuildOptions } from '../bundle-options.ts';
import { QJS_FLAGS } from '../manifest.ts';
import { type QjsRuntime, qjsRuntime } from './runtime.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = join(HERE, '..', '..');
const RESULT_PREFIX = '@@qjs-test ';

export interface QjsTestResult {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
  skipped?: boolean;
}

export interface QjsFileRun {
  file: string;
  results: QjsTestResult[];
  /** qjs's exit code (null when killed). */
  exitCode: number | null;
  /** What the file printed besides its results (stdout, then stderr). */
  output: string;
  /** The bundle that ran, for looking at a failure. */
  bundle: string;
}

/** Every osie test file, relative to the repository root, sorted. */
export async function osieTestFiles(): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(join(REPO_ROOT, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith('.test.ts')) files.push(path);
    }
  };
  await walk('osie');
  return files.sort();
}

/** `node:test` and `node:assert` resolve to the shims; every other `node:` module is an error. */
const shims: Plugin = {
  name: 'qjs-test-shims',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => {
      if (args.path === 'node:test') return { path: join(HERE, 'shim', 'node-test.ts') };
      if (args.path === 'node:assert' || args.path === 'node:assert/strict')
        return { path: join(HERE, 'shim', 'assert.ts') };
      return {
        errors: [
          { text: `${args.path} is a Node module: code that runs on qjs must use osie/lib/platform instead` },
        ],
      };
    });
    // fast-check takes the global setTimeout when it loads; qjs has none. Its files alone get one.
    const timers = join(HERE, 'shim', 'timers.ts');
    build.onLoad({ filter: /[\\/]node_modules[\\/]fast-check[\\/].*\.m?js$/ }, async (args) => ({
      contents: `import { setTimeout, clearTimeout } from ${JSON.stringify(timers)};\n${await readFile(args.path, 'utf8')}`,
      loader: 'js',
    }));
  },
};

let work: Promise<{ dir: string; peers: string }> | undefined;

/** A scratch folder with the peers bundled for Node, made once per process. */
function workDir(): Promise<{ dir: string; peers: string }> {
  work ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hook-qjs-tests-'));
    const peers = join(dir, 'peers');
    await mkdir(peers);
    for (const name of ['http-server', 'udp-receiver', 'fake-engine', 'oracle']) {
      await build({
        absWorkingDir: REPO_ROOT,
        entryPoints: [join(HERE, 'peers', `${name}.ts`)],
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        outfile: join(peers, `${name}.mjs`),
        logLevel: 'silent',
      });
    }
    return { dir, peers };
  })();
  return work;
}

/** Bundles one test file for qjs; returns the bundle's path. */
export async function bundleTestFile(file: string, outDir: string): Promise<string> {
  const options = qjsBuildOptions(file);
  const result = await build({ ...options, plugins: [shims] });
  const output = result.outputFiles?.[0];
  if (output === undefined) throw new Error(`esbuild produced no bundle for ${file}`);
  const bundle = join(outDir, `${relative('osie', file).replaceAll('/', '_').replace(/\.ts$/, '')}.js`);
  await writeFile(bundle, output.contents);
  return bundle;
}

/** The environment of a qjs test process: trixie's tools first on PATH, where the peers are. */
export function qjsTestEnv(runtime: QjsRuntime, peers: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${runtime.binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOOK_TEST_NODE: process.execPath,
    HOOK_TEST_PEERS: peers,
    HOOK_TEST_REPO: REPO_ROOT,
  };
}

/** Bundles `file` (relative to the repository root) and runs it under trixie's qjs. */
export async function runQjsTestFile(
  file: string,
  options: { timeoutMs?: number } = {},
): Promise<QjsFileRun> {
  const [runtime, { dir, peers }] = await Promise.all([qjsRuntime(), workDir()]);
  const bundle = await bundleTestFile(file, dir);
  const [command, ...prefix] = runtime.qjs as [string, ...string[]];
  const child = spawn(command, [...prefix, ...QJS_FLAGS, bundle], {
    cwd: REPO_ROOT,
    env: qjsTestEnv(runtime, peers),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  clearTimeout(timer);
  const results: QjsTestResult[] = [];
  const other: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith(RESULT_PREFIX))
      results.push(JSON.parse(line.slice(RESULT_PREFIX.length)) as QjsTestResult);
    else if (line !== '') other.push(line);
  }
  if (stderr !== '') other.push(stderr.trimEnd());
  return { file, results, exitCode, output: other.join('\n'), bundle };
}
