/**
 * Debian's headless Chromium, for tests that look at a page as a browser draws it: the DOM
 * after parsing (`--dump-dom`) and a screenshot. Every run gets a fresh profile, and the
 * flags keep it from calling Google's hosts (this machine refuses them, and a test must not
 * depend on them).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

const QUIET = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--hide-scrollbars',
];

async function chromium(args: string[], page: string): Promise<string> {
  const profile = await mkdtemp(join(tmpdir(), 'hook-chromium-'));
  try {
    const { stdout } = await run(
      'chromium',
      [...QUIET, `--user-data-dir=${profile}`, ...args, pathToFileURL(page).href],
      { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 },
    );
    return stdout;
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

/** The page's DOM as Chromium serialises it after loading the file. */
export function dumpDom(page: string): Promise<string> {
  return chromium(['--dump-dom'], page);
}

/** A PNG screenshot of the page in a window of this size. */
export async function screenshot(page: string, png: string, width: number, height: number): Promise<void> {
  await chromium([`--screenshot=${png}`, `--window-size=${width},${height}`], page);
}
