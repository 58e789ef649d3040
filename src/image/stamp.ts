/**
 * The no-change check of `hook build`: `<out>/.hook-stamp-<arch>.json` records a hash of
 * every build input (spec text, `files[].source` contents, the lock file, archive settings,
 * SOURCE_DATE_EPOCH, the tool's own sources and versions) and the size, mtime and SHA-512 of
 * every output. When the inputs hash the same and the outputs on disk are still the ones
 * written, the build's result is the previous one.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildContext, BuildResult } from './build.ts';
import { CHECKSUMMED } from './outputs.ts';

const STAMP_VERSION = 1;
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The tool's code and what it bundles into the image; tests do not change outputs. */
const TOOL_TREES = ['src', 'osie'];
const TOOL_FILES = ['package.json', 'package-lock.json'];

export interface Stamp {
  stampVersion: number;
  inputs: string;
  outputs: Record<string, { bytes: number; mtimeNs: string; sha512: string }>;
  result: Omit<BuildResult, 'upToDate'>;
}

export function stampPath(outDir: string, arch: string): string {
  return join(outDir, `.hook-stamp-${arch}.json`);
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
  add('spec', await readFile(ctx.loaded.path));
  for (const file of ctx.spec.files) {
    if (file.source === undefined) continue;
    const source = resolvePath(ctx.loaded.dir, file.source);
    const data = await readFile(source).catch(() => undefined);
    if (data === undefined) return undefined; // the build reports the missing file
    add(`source ${source}`, data);
  }
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

/** The lock decides the package set; it is read at check time and again after the build wrote it. */
async function fullHash(inputs: string, lockPath: string): Promise<string | undefined> {
  const lock = await readFile(lockPath).catch(() => undefined);
  if (lock === undefined) return undefined;
  return createHash('sha256').update(inputs).update('\0lock\0').update(lock).digest('hex');
}

/** The previous result when nothing changed since it was built, else undefined. */
export async function upToDate(
  ctx: BuildContext,
  inputs: string | undefined,
): Promise<BuildResult | undefined> {
  if (inputs === undefined) return undefined;
  const path = stampPath(ctx.outDir, ctx.arch);
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

/** Records the inputs and outputs of a finished build; a stale stamp is removed when inputs are unknown. */
export async function writeStamp(
  ctx: BuildContext,
  inputs: string | undefined,
  result: BuildResult,
): Promise<void> {
  const path = stampPath(ctx.outDir, ctx.arch);
  const full = inputs === undefined ? undefined : await fullHash(inputs, ctx.lockPath);
  if (full === undefined) {
    await rm(path, { force: true });
    return;
  }
  const outputs: Stamp['outputs'] = {};
  for (const file of Object.values(result.files)) {
    const info = await stat(file.path, { bigint: true });
    outputs[file.path] = { bytes: Number(info.size), mtimeNs: info.mtimeNs.toString(), sha512: file.sha512 };
  }
  const { upToDate: _, ...rest } = result;
  const stamp: Stamp = { stampVersion: STAMP_VERSION, inputs: full, outputs, result: rest };
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(stamp)}\n`);
  await rename(temp, path);
}
