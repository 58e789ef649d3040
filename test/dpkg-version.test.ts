/**
 * compareVersions against `dpkg --compare-versions` on version pairs drawn from real Packages
 * indexes (the trixie lists of the private apt setup). Each pair costs one dpkg run, asking
 * exactly the relation our comparison claims (lt/eq/gt), so a disagreement in either
 * direction shows up. The runs are batched into a few shell scripts executed concurrently.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { compareVersions } from '../src/debian/version.ts';
import { createAptSim } from './helpers/apt-sim.ts';

const PAIRS_PER_KIND = 3500;
const SHARDS = 4;

/** Small deterministic PRNG (mulberry32) so a failure reproduces. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function realVersions(): Promise<{ all: string[]; byName: Map<string, string[]> }> {
  const sim = await createAptSim('amd64');
  const byName = new Map<string, Set<string>>();
  for (const file of await sim.packagesFiles()) {
    const text = await readFile(file.path, 'utf8');
    let name = '';
    for (const line of text.split('\n')) {
      if (line.startsWith('Package: ')) name = line.slice(9).trim();
      else if (line.startsWith('Version: ')) {
        const set = byName.get(name) ?? new Set();
        set.add(line.slice(9).trim());
        byName.set(name, set);
      }
    }
  }
  const all = new Set<string>();
  for (const set of byName.values()) for (const v of set) all.add(v);
  return { all: [...all], byName: new Map([...byName].map(([k, v]) => [k, [...v]])) };
}

function choosePairs(all: string[], byName: Map<string, string[]>): Array<[string, string]> {
  const next = random(20250101);
  const pick = <T>(list: T[]): T => list[Math.floor(next() * list.length)]!;
  const pairs: Array<[string, string]> = [];
  // Random pairs across the archive.
  for (let i = 0; i < PAIRS_PER_KIND; i++) pairs.push([pick(all), pick(all)]);
  // Neighbours in our order: the pairs where a subtle rule (~, +, epochs, digit runs) decides.
  const sorted = [...all].sort(compareVersions);
  const step = Math.max(1, Math.floor(sorted.length / PAIRS_PER_KIND));
  for (let i = 0; i + 1 < sorted.length && pairs.length < 2 * PAIRS_PER_KIND; i += step) {
    pairs.push([sorted[i]!, sorted[i + 1]!]);
  }
  // Versions of one package across suites (stable vs updates vs security), plus self-comparisons.
  const multi = [...byName.values()].filter((v) => v.length > 1);
  for (const versions of multi) {
    if (pairs.length >= 3 * PAIRS_PER_KIND) break;
    pairs.push([versions[0]!, versions[1]!]);
  }
  while (pairs.length < 3 * PAIRS_PER_KIND) {
    const v = pick(all);
    const w = v.includes(':') ? v.slice(v.indexOf(':') + 1) : `0:${v}`;
    pairs.push(v.startsWith('0:') || !v.includes(':') ? [v, w] : [v, pick(all)]);
  }
  return pairs;
}

function runShell(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-s'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`sh exited with ${code}`))));
    child.stdin.end(script);
  });
}

const RELATION = (c: number) => (c < 0 ? 'lt' : c > 0 ? 'gt' : 'eq');

describe('compareVersions agrees with dpkg --compare-versions', () => {
  it('on more than 10,000 pairs of real archive versions', { timeout: 180_000 }, async () => {
    const { all, byName } = await realVersions();
    assert.ok(all.length > 10_000, `expected many distinct versions, found ${all.length}`);
    const pairs = choosePairs(all, byName);
    assert.ok(pairs.length >= 10_000);
    for (const [a, b] of pairs) assert.match(`${a} ${b}`, /^[A-Za-z0-9.+~:-]+ [A-Za-z0-9.+~:-]+$/);
    const claims = pairs.map(([a, b]) => RELATION(compareVersions(a, b)));
    const shards: string[][] = Array.from({ length: SHARDS }, () => []);
    pairs.forEach(([a, b], i) => {
      shards[i % SHARDS]!.push(
        `dpkg --compare-versions '${a}' ${claims[i]} '${b}' && echo "${i} 1" || echo "${i} 0"`,
      );
    });
    const outputs = await Promise.all(shards.map((lines) => runShell(`${lines.join('\n')}\n`)));
    const verdicts = new Map<number, string>();
    for (const line of outputs.join('').split('\n')) {
      const [index, ok] = line.split(' ');
      if (index !== undefined && ok !== undefined) verdicts.set(Number(index), ok);
    }
    assert.equal(verdicts.size, pairs.length, 'every pair got an answer from dpkg');
    const disagreements = pairs
      .map(([a, b], i) => ({ a, b, ours: claims[i], dpkg: verdicts.get(i) }))
      .filter((d) => d.dpkg !== '1');
    assert.deepEqual(disagreements.slice(0, 20), []);
  });
});
