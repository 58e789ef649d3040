/**
 * The resolver against apt itself: a private apt (empty dpkg status, trixie + updates +
 * security, main + non-free-firmware, mirrors from the host's apt sources) simulates
 * `apt-get install --no-install-recommends`, and resolve() must pick exactly the same packages
 * and versions from the very Packages files apt downloaded.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { buildIndex, type PackageIndex, resolve } from '../src/debian/resolver.ts';
import { type AptSim, createAptSim } from './helpers/apt-sim.ts';

const CASES: Record<'amd64' | 'arm64', string[][]> = {
  amd64: [
    ['systemd', 'docker.io', 'nodejs'],
    ['firmware-bnx2x'],
    ['linux-image-amd64'],
    ['lvm2', 'mdadm', 'xfsprogs'],
    ['iptables'],
    ['openssh-server', 'curl', 'ca-certificates'],
  ],
  arm64: [['systemd', 'docker.io', 'nodejs'], ['linux-image-arm64'], ['firmware-bnx2x', 'iptables']],
};

for (const arch of ['amd64', 'arm64'] as const) {
  describe(`resolve() matches apt-get install --simulate (${arch})`, { timeout: 900_000 }, () => {
    let sim: AptSim;
    let index: PackageIndex;

    before(async () => {
      sim = await createAptSim(arch);
      index = buildIndex(await sim.index(), arch);
    });

    for (const request of CASES[arch]) {
      it(request.join(' '), async (t) => {
        const apt = await sim.simulateInstall(request);
        assert.ok(apt.size >= request.length, `apt installs at least the request (${apt.size})`);
        const started = performance.now();
        const resolution = resolve(index, request, { arch });
        const elapsed = performance.now() - started;
        const ours = new Map(resolution.packages.map((p) => [p.name, p.version]));
        const aptSorted = [...apt].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, v]) => `${n}=${v}`);
        const oursSorted = [...ours].map(([n, v]) => `${n}=${v}`);
        assert.deepEqual(oursSorted, aptSorted);
        for (const name of request) assert.deepEqual(resolution.reasons.get(name), [name]);
        t.diagnostic(
          `${arch} ${request.join(' ')}: ${ours.size} packages, resolved in ${elapsed.toFixed(1)} ms`,
        );
      });
    }
  });
}
