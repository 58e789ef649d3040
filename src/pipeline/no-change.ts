/**
 * The no-change check of `hook build`: `.hook-stamp-<arch>.json` in the published set records a hash of
 * every build input (the text of the spec and of every spec it extends, `files[].source` and
 * `registries[].ca` contents, the lock file, archive settings,
 * SOURCE_DATE_EPOCH, the tool's own sources and versions) and the size, mtime and SHA-512 of
 * every output. When the inputs hash the same and the outputs on disk are still the ones
 * written, the build's result is the previous one.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { REPO_ROOT } from '../repo.ts';
import type { BuildContext, BuildResult } from './context.ts';
import { CURRENT } from './publish.ts';
import { CHECKSUMMED } from './stages/artifacts.ts';
import { builderPublicKeys } from './stages/debug.ts';

const STAMP_VERSION = 1;
/** The tool's code and what it bundles into the image; tests do not change outputs. */
const TOOL_TREES = ['src', 'osie'];
const TOOL_FILES = ['package.json', 'package-lock.json'];

export interface Stamp {
  stampVersion: number;
  inputs: string;
  outputs: Record<string, { bytes: number; mtimeNs: string; sha512: string }>;
  result: Omit<BuildResult, 'upToDate'>;
}

/** The stamp lives in the published set it describes (see publish.ts). */
export function stampPath(dir: string, arch: string): string {
  return join(dir, `.hook-stamp-${arch}.json`);
}

/**
 * Hash of everything but the lock, taken when the build starts (a spec edited during the
 * build must not be stamped as built). Undefined when the build always runs (--update-lock).
 */
export async function inputsHash(ctx: BuildContext): Promise<string | undefined> {
  if (ctx.updateLock) return undefined;
  const hash = createHash('sha256');
  const add = (label: string, data: string | Uint8Array) => {
    hash.update(`${label}\0${data.length}\0`);
    hash.update(data);
  };
  add('arch', ctx.arch);
  add('outDir', ctx.outDir);
  add('lockPath', ctx.lockPath);
  add('settings', JSON.stringify(ctx.settings));
  add('SOURCE_DATE_EPOCH', process.env.SOURCE_DATE_EPOCH ?? '');
  add('node', process.version);
  // Every file of the extends: chain: editing a base spec changes the build as much as
  // editing the spec itself.
  for (const layer of ctx.loaded.layers) add(`spec ${layer.path}`, await readFile(layer.path));
  const sources = [
    ...ctx.spec.files.map((file) => file.source),
    ...ctx.spec.registries.map((registry) => registry.ca),
  ];
  for (const file of sources) {
    if (file === undefined) continue;
    const source = resolvePath(ctx.loaded.dir, file);
    const data = await readFile(source).catch(() => undefined);
    if (data === undefined) return undefined; // the build reports the missing file
    add(`source ${source}`, data);
  }
  // A debug build takes the builder's public keys into the OS.
  if (ctx.debug !== undefined)
    add('debug keys', JSON.stringify((await builderPublicKeys(ctx.debug.sshKeysDir)).keys));
  for (const name of TOOL_FILES) add(name, await readFile(join(REPO_ROOT, name)).catch(() => ''));
  for (const tree of TOOL_TREES) {
    for (const file of await sourceFiles(join(REPO_ROOT, tree))) add(file, await readFile(file));
  }
  return hash.digest('hex');
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && !e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** The lock decides the package set; it is read at check time, and given by the build that writes it. */
async function fullHash(inputs: string, lockPath: string): Promise<string | undefined> {
  const lock = await readFile(lockPath).catch(() => undefined);
  if (lock === undefined) return undefined;
  return combinedHash(inputs, lock);
}

function combinedHash(inputs: string, lock: string | Uint8Array): string {
  return createHash('sha256').update(inputs).update('\0lock\0').update(lock).digest('hex');
}

/** The previous result when nothing changed since it was built, else undefined. */
export async function upToDate(
  ctx: BuildContext,
  inputs: string | undefined,
): Promise<BuildResult | undefined> {
  if (inputs === undefined) return undefined;
  const path = stampPath(join(ctx.outDir, CURRENT), ctx.arch);
  let stamp: Stamp;
  try {
    stamp = JSON.parse(await readFile(path, 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
  if (stamp.stampVersion !== STAMP_VERSION || stamp.inputs !== (await fullHash(inputs, ctx.lockPath))) {
    return undefined;
  }
  for (const [file, recorded] of Object.entries(stamp.outputs)) {
    const info = await stat(file, { bigint: true }).catch(() => undefined);
    if (!info || Number(info.size) !== recorded.bytes || info.mtimeNs.toString() !== recorded.mtimeNs) {
      return undefined;
    }
  }
  if (!(await checksumsList(ctx.outDir, stamp.result.files))) return undefined;
  return { ...stamp.result, upToDate: true };
}

/**
 * Whether checksum.txt still lists our artifacts with their digests. It is compared by content,
 * not mtime: a build of the other architecture rewrites it with the same lines for ours.
 */
async function checksumsList(outDir: string, files: BuildResult['files']): Promise<boolean> {
  const text = await readFile(join(outDir, 'checksum.txt'), 'utf8').catch(() => undefined);
  if (text === undefined) return false;
  const lines = new Set(text.split('\n'));
  return Object.entries(files)
    .filter(([name]) => CHECKSUMMED.test(name))
    .every(([name, file]) => lines.has(`${file.sha512}  ${name}`));
}

/**
 * Records the inputs and outputs of a build in `setDir`, the set being published (before it
 * is shown, so the stamp and the outputs appear together). The outputs are recorded by their
 * stable paths (`<out>/<name>`) with the size and mtime of the files in the set. No stamp is
 * written when the inputs are unknown.
 */
export async function writeStamp(
  ctx: BuildContext,
  inputs: string | undefined,
  result: BuildResult,
  setDir: string,
  lockText: string,
): Promise<void> {
  if (inputs === undefined) return;
  const full = combinedHash(inputs, lockText);
  const outputs: Stamp['outputs'] = {};
  for (const [name, file] of Object.entries(result.files)) {
    const info = await stat(join(setDir, name), { bigint: true });
    outputs[file.path] = { bytes: Number(info.size), mtimeNs: info.mtimeNs.toString(), sha512: file.sha512 };
  }
  const { upToDate: _, ...rest } = result;
  const stamp: Stamp = { stampVersion: STAMP_VERSION, inputs: full, outputs, result: rest };
  await writeFile(stampPath(setDir, ctx.arch), `${JSON.stringify(stamp)}\n`);
}
