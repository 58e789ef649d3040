/**
 * Publishing the artifacts as one set. A web server that serves the output folder to machines
 * must see either the complete previous set or the complete new one, whatever moment the
 * build dies. The folder stays a real directory (users create, mount or serve it), laid out as:
 *
 *   out/.sets/<id>/…            complete sets, each written in full before it is shown
 *   out/.current -> .sets/<id>  the set being served: switched by one rename(2)
 *   out/<name> -> .current/<name>  one stable symlink per artifact name
 *
 * So every name switches at the same instant, when `.current` is renamed over. The previous
 * set is kept (a download that started before the switch finishes from it); older ones are
 * removed. Files of the previous set that this build does not produce (the other
 * architecture's artifacts) are hard-linked into the new set, and checksum.txt is written
 * over the whole new set.
 *
 * One build at a time per folder: `out/.lock` holds the pid of the build writing it.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  link,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HookError } from '../errors.ts';
import { replaceAtomically } from '../util/atomic-write.ts';

export const SETS_DIR = '.sets';
export const CURRENT = '.current';
const LOCK = '.lock';
const CHECKSUMS = 'checksum.txt';
/** Sets kept besides the current one, for downloads that started before a switch. */
const KEEP_PREVIOUS = 1;

export interface PublishedFile {
  /** The stable path, `<out>/<name>`. */
  path: string;
  bytes: number;
  sha512: string;
}

export interface PublishOptions {
  /** Names listed in checksum.txt (artifacts of every architecture in the set). */
  checksummed: RegExp;
  /**
   * Whether a file of the previous set that this build does not produce is carried over
   * (default: yes). Names produced now always replace the previous ones.
   */
  carryOver?: (name: string) => boolean;
  /** Writes extra files into the new set before it is shown (e.g. the build stamp). */
  beforeSwitch?: (setDir: string, files: Readonly<Record<string, PublishedFile>>) => Promise<void>;
}

/**
 * A fault-injection point for the publishing tests: with `HOOK_TEST_CRASH_AT=<n>` the
 * process is killed (SIGKILL, as a power cut or OOM kill would) at the n-th point reached.
 */
let crashCounter = 0;
async function crashPoint(): Promise<void> {
  const at = process.env.HOOK_TEST_CRASH_AT;
  if (at === undefined) return;
  crashCounter++;
  if (String(crashCounter) === at) {
    process.kill(process.pid, 'SIGKILL');
    await sleep(60_000); // never reached: the signal is delivered at once
  }
}

/** Publishes `produced` (name → pieces) as the new set of `outDir`. */
export async function publishSet(
  outDir: string,
  produced: ReadonlyMap<string, readonly Uint8Array[]>,
  options: PublishOptions,
): Promise<Record<string, PublishedFile>> {
  await mkdir(join(outDir, SETS_DIR), { recursive: true });
  await adoptLegacyFiles(outDir, options.checksummed);
  const previous = await currentSetDir(outDir);
  const id = `${new Date().toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`;
  const building = join(outDir, SETS_DIR, `.${id}.partial`);
  const setDir = join(outDir, SETS_DIR, id);
  await mkdir(building);
  const files: Record<string, PublishedFile> = {};
  const sums = new Map<string, string>();
  try {
    for (const [name, pieces] of produced) {
      checkName(name);
      await writePieces(join(building, name), pieces);
      files[name] = { path: join(outDir, name), bytes: byteLength(pieces), sha512: sha512(pieces) };
      sums.set(name, files[name].sha512);
      await crashPoint();
    }
    if (previous !== undefined) {
      for (const name of await readdir(previous)) {
        if (produced.has(name) || name === CHECKSUMS) continue;
        if (options.carryOver && !options.carryOver(name)) continue;
        await linkOrCopy(join(previous, name), join(building, name));
        await crashPoint();
      }
    }
    const listed = (await readdir(building)).filter((name) => options.checksummed.test(name)).sort();
    let text = '';
    for (const name of listed) {
      const sum = sums.get(name) ?? (await sha512File(join(building, name)));
      text += `${sum}  ${name}\n`;
    }
    await writeFile(join(building, CHECKSUMS), text);
    await crashPoint();
    await options.beforeSwitch?.(building, files);
    await crashPoint();
    await rename(building, setDir);
  } catch (error) {
    await rm(building, { recursive: true, force: true });
    throw error;
  }
  await crashPoint();
  await switchCurrent(outDir, id);
  await crashPoint();
  const names = new Set((await readdir(setDir)).filter((name) => !name.startsWith('.')));
  for (const name of names) await ensureNameLink(outDir, name);
  await removeDanglingNameLinks(outDir, names);
  await crashPoint();
  await removeOldSets(outDir, id, previous);
  return files;
}

/** The directory `.current` points to, if any. */
export async function currentSetDir(outDir: string): Promise<string | undefined> {
  const target = await readlink(join(outDir, CURRENT)).catch(() => undefined);
  if (target === undefined) return undefined;
  // A set deleted by hand (or by a disk clean-up) leaves `.current` dangling: there is no set.
  const dir = join(outDir, target);
  return (await stat(dir).catch(() => undefined))?.isDirectory() ? dir : undefined;
}

/** Points `.current` at the set `id`: a new symlink renamed over the old one. */
async function switchCurrent(outDir: string, id: string): Promise<void> {
  await replaceAtomically(join(outDir, CURRENT), (temp) => symlink(join(SETS_DIR, id), temp));
}

/** `<out>/<name> -> .current/<name>`, replacing (by rename) whatever was there. */
async function ensureNameLink(outDir: string, name: string): Promise<void> {
  const path = join(outDir, name);
  const want = join(CURRENT, name);
  if ((await readlink(path).catch(() => undefined)) === want) return;
  await replaceAtomically(path, (temp) => symlink(want, temp));
}

/** Name links whose artifact is not in the current set any more. */
async function removeDanglingNameLinks(outDir: string, names: ReadonlySet<string>): Promise<void> {
  for (const name of await readdir(outDir)) {
    if (name.startsWith('.') || names.has(name)) continue;
    const target = await readlink(join(outDir, name)).catch(() => undefined);
    if (target === join(CURRENT, name)) await unlink(join(outDir, name)).catch(() => {});
  }
}

/**
 * An output folder written by an older version holds the artifacts as plain files. They
 * become a set first, and each name a link to it, before anything new is shown: a reader
 * sees the same bytes throughout.
 */
async function adoptLegacyFiles(outDir: string, checksummed: RegExp): Promise<void> {
  if ((await currentSetDir(outDir)) !== undefined) return;
  const legacy: string[] = [];
  for (const name of await readdir(outDir)) {
    if (name.startsWith('.')) continue;
    const info = await lstat(join(outDir, name));
    if (info.isFile() && (checksummed.test(name) || name === CHECKSUMS || /^hook[-.]/.test(name))) {
      legacy.push(name);
    }
  }
  if (legacy.length === 0) return;
  const id = 'adopted';
  const dir = join(outDir, SETS_DIR, id);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir);
  for (const name of legacy) await linkOrCopy(join(outDir, name), join(dir, name));
  await switchCurrent(outDir, id);
  for (const name of legacy) await ensureNameLink(outDir, name);
  // Their no-change stamps described plain files; stamps now live in the set.
  for (const name of await readdir(outDir)) {
    if (/^\.hook-stamp-.*\.json$/.test(name)) await rm(join(outDir, name), { force: true });
  }
}

/** Removes sets other than the new one and the KEEP_PREVIOUS most recent before it. */
async function removeOldSets(outDir: string, id: string, previous: string | undefined): Promise<void> {
  const keep = new Set([id]);
  if (previous !== undefined && KEEP_PREVIOUS > 0) keep.add(previous.slice(previous.lastIndexOf('/') + 1));
  for (const name of await readdir(join(outDir, SETS_DIR))) {
    if (keep.has(name)) continue;
    // Partial sets too: they are left by builds that died, since we hold the folder's lock.
    await rm(join(outDir, SETS_DIR, name), { recursive: true, force: true });
  }
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch {
    await writeFile(to, await readFile(from));
  }
}

function checkName(name: string): void {
  if (name === '' || name.includes('/') || name.startsWith('.') || name === CHECKSUMS) {
    throw new Error(`publishSet: "${name}" cannot be published as an artifact name`);
  }
}

function byteLength(pieces: readonly Uint8Array[]): number {
  let total = 0;
  for (const piece of pieces) total += piece.byteLength;
  return total;
}

export function sha512(pieces: readonly Uint8Array[]): string {
  const hash = createHash('sha512');
  for (const piece of pieces) hash.update(piece);
  return hash.digest('hex');
}

async function sha512File(path: string): Promise<string> {
  return sha512([await readFile(path)]);
}

/** Writes the pieces in order to a new file, in batches well under the system's IOV_MAX. */
async function writePieces(path: string, pieces: readonly Uint8Array[]): Promise<void> {
  const file = await open(path, 'wx');
  try {
    for (let i = 0; i < pieces.length; i += 256) await file.writev(pieces.slice(i, i + 256));
  } finally {
    await file.close();
  }
}

export interface OutputLock {
  release(): Promise<void>;
}

/**
 * Takes `<out>/.lock` for this process. When another live build holds it, waits (polling),
 * telling `onWait` once; a lock left by a process that no longer exists is taken over.
 */
export async function lockOutputDir(
  outDir: string,
  onWait: (holder: number) => void,
  options: { pollMs?: number; timeoutMs?: number } = {},
): Promise<OutputLock> {
  await mkdir(outDir, { recursive: true });
  const path = join(outDir, LOCK);
  const pollMs = options.pollMs ?? 500;
  const deadline = Date.now() + (options.timeoutMs ?? 60 * 60_000);
  let told = false;
  for (;;) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx' });
      return {
        release: async () => {
          const holder = await readFile(path, 'utf8').catch(() => '');
          if (Number(holder) === process.pid) await unlink(path).catch(() => {});
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(holder) || holder <= 0 || !alive(holder)) {
      // Stale: renamed away first, so that of two waiters only one removes it.
      const stale = `${path}.stale.${process.pid}`;
      if (
        await rename(path, stale).then(
          () => true,
          () => false,
        )
      )
        await rm(stale, { force: true });
      continue;
    }
    if (!told) {
      onWait(holder);
      told = true;
    }
    if (Date.now() > deadline) {
      throw new HookError(
        'E_IO',
        `Another build (pid ${holder}) has been writing to ${outDir} for too long`,
        {
          hint: `Wait for it to finish, or remove ${path} if no build is running.`,
        },
      );
    }
    await sleep(pollMs);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
