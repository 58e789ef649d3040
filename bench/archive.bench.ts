/**
 * Issue 2, the archive client: resolving `systemd docker.io nodejs` for amd64 from the
 * signed indexes, cold (empty cache: download, verify, decompress, parse) and warm (indexes
 * cached, InRelease fetched and verified again), against apt's own
 * `apt-get install --simulate` over the same lists; and package download throughput.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchPackages } from '../src/debian/fetch.ts';
import { loadPackages } from '../src/debian/load-indexes.ts';
import { resolve } from '../src/debian/resolver.ts';
import { resolveArchiveSettings } from '../src/debian/sources.ts';
import type { BinaryPackage } from '../src/debian/types.ts';
import { createAptSim } from '../test/helpers/apt-sim.ts';
import { log, type Row, seconds, timeRow, timeRuns } from './measure.ts';

export const title = 'archive';

const REQUESTS = ['systemd', 'docker.io', 'nodejs'];
const RUNS = 3;

/** The settings `hook build` uses by default: the host's mirror, trixie + updates + security. */
function settings() {
  return resolveArchiveSettings({
    suites: ['trixie', 'trixie-updates', 'trixie-security'],
    components: ['main', 'non-free-firmware'],
  });
}

async function resolveOnce(cacheDir: string): Promise<BinaryPackage[]> {
  const index = await loadPackages({ settings: settings(), arch: 'amd64', cacheDir });
  return resolve(index, REQUESTS, { arch: 'amd64' }).packages;
}

export async function bench(): Promise<Row[]> {
  const temps: string[] = [];
  const tempCache = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hook-bench-cache-'));
    temps.push(dir);
    return dir;
  };
  try {
    log('archive: cold resolves (fresh cache each run)');
    let warmCache = '';
    let closure: BinaryPackage[] = [];
    const cold = await timeRuns(RUNS, async () => {
      warmCache = await tempCache();
      closure = await resolveOnce(warmCache);
    });
    log('archive: warm resolves');
    const warm = await timeRuns(RUNS, () => resolveOnce(warmCache));

    log('archive: apt-get install --simulate (lists already downloaded)');
    const apt = await createAptSim('amd64');
    await apt.simulateInstall(REQUESTS); // builds apt's own binary cache once, like a used system
    const aptTimes = await timeRuns(RUNS, () => apt.simulateInstall(REQUESTS));
    const aptRow = timeRow('apt-get install --simulate systemd docker.io nodejs', aptTimes);

    log(`archive: downloading ${closure.length} packages into an empty cache`);
    const downloadCache = await tempCache();
    const bytes = closure.reduce((sum, p) => sum + p.size, 0);
    const downloadSeconds = await seconds(() => fetchPackages(closure, { cacheDir: downloadCache }));
    const mb = bytes / 1e6;
    return [
      timeRow('resolve systemd docker.io nodejs, cold (empty cache)', cold),
      timeRow('resolve systemd docker.io nodejs, warm (cached indexes)', warm, {
        reference: { label: 'apt-get --simulate', value: aptRow.median },
      }),
      aptRow,
      {
        measurement: `download ${closure.length} packages, ${mb.toFixed(0)} MB`,
        median: mb / downloadSeconds,
        unit: 'MB/s',
        runs: 1,
        samples: [mb / downloadSeconds],
        note: `${downloadSeconds.toFixed(1)} s`,
      },
    ];
  } finally {
    for (const dir of temps) await rm(dir, { recursive: true, force: true });
  }
}
