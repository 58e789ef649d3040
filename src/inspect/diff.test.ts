import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BuildReport, ReportFile } from '../pipeline/artifacts/report.ts';
import { changed, compressedDelta, delta, diffReports, fileKey, isChanged } from './diff.ts';
import { groupOf } from './groups.ts';
import { reportOf } from './testing.ts';

const f = (path: string, pkg: string, segment: string, bytes: number): ReportFile => ({
  path,
  package: pkg,
  segment,
  bytes,
});

const before = reportOf(
  [
    f('/usr/bin/busybox', 'busybox-static', 'early', 2000),
    f('/usr/bin/busybox', 'busybox-static', 'base', 2000),
    f('/usr/sbin/dockerd', 'docker.io', 'package-docker.io', 90_000),
    f('/usr/bin/btrfs', 'btrfs-progs', 'base', 5000),
    f('/usr/bin/bash', 'bash', 'base', 1000),
  ],
  [
    ['early', 2000, 1000],
    ['base', 8000, 4000],
    ['package-docker.io', 90_000, 30_000],
  ],
);
const after = reportOf(
  [
    f('/usr/bin/busybox', 'busybox-static', 'early', 2000),
    f('/usr/bin/busybox', 'busybox-static', 'base', 2000),
    f('/usr/sbin/dockerd', 'docker.io', 'package-docker.io', 95_000),
    f('/usr/bin/strace', 'strace', 'base', 3000),
    f('/usr/bin/bash', 'bash', 'base', 1000),
  ],
  [
    ['early', 2000, 1000],
    ['base', 6000, 3100],
    ['package-docker.io', 95_000, 31_000],
  ],
);

describe('diffReports', () => {
  const diff = diffReports(before, after);

  it('finds what grew, what is new and what is gone, the largest change first', () => {
    const list = changed(diff.packages).map((c) => `${c.name} ${delta(c)}`);
    assert.deepEqual(list, ['docker.io 5000', 'btrfs-progs -5000', 'strace 3000']);
    const docker = diff.packages.find((c) => c.name === 'docker.io');
    assert.ok(docker);
    assert.equal(compressedDelta(docker), 1000, 'measured: the own segment grew by 1000 B');
    const gone = diff.packages.find((c) => c.name === 'btrfs-progs');
    assert.equal(gone?.after, undefined);
    assert.equal(compressedDelta(gone as never), -2500, 'estimated at the old base ratio 0.5');
    assert.deepEqual(diff.image, {
      before: { bytes: 100_000, compressed: 35_000 },
      after: { bytes: 103_000, compressed: 35_100 },
    });
  });

  it('does not count a compressed estimate that only moved with its segment’s ratio', () => {
    // bash: 1000 B in base both times; base's ratio went from 0.5 to 0.517.
    const bash = diff.packages.find((c) => c.name === 'bash');
    assert.ok(bash);
    assert.equal(delta(bash), 0);
    assert.ok((compressedDelta(bash) ?? 0) > 0, 'the estimate moved');
    assert.equal(isChanged(bash), false);
    // A compression change (same bytes, 30% smaller) does count.
    assert.equal(
      isChanged({
        name: 'x',
        before: { bytes: 100_000, compressed: 40_000 },
        after: { bytes: 100_000, compressed: 28_000 },
      }),
      true,
    );
  });

  it('compares files by path, keeping the early boot copies apart', () => {
    assert.ok(diff.files);
    assert.deepEqual([...diff.files.keys()].sort(), [
      '/usr/bin/bash',
      '/usr/bin/btrfs',
      '/usr/bin/busybox',
      '/usr/bin/strace',
      '/usr/sbin/dockerd',
      'early:/usr/bin/busybox',
    ]);
    assert.equal(fileKey({ path: '/usr/bin/busybox', segment: 'early' }), 'early:/usr/bin/busybox');
    assert.equal(delta(diff.files.get('/usr/sbin/dockerd') as never), 5000);
    assert.equal(diff.files.get('/usr/bin/strace')?.before, undefined);
  });

  it('sums groups from the files', () => {
    const group = (name: string) => diff.groups.find((g) => g.name === name);
    assert.equal(groupOf(f('/usr/bin/busybox', 'busybox-static', 'early', 1)).name, 'early boot');
    assert.deepEqual(group('early boot')?.before, { bytes: 2000, compressed: 1000 });
    assert.equal(delta(group('container engine') as never), 5000);
    assert.equal(delta(group('disk tools') as never), -5000);
  });

  it('against a version-1 report: packages by name, no file diff, compressed changes unknown', () => {
    const v1: BuildReport = {
      arch: 'x86_64',
      kernelVersion: '',
      initramfsBytes: 30_000,
      uncompressedBytes: 95_000,
      segments: [],
      packages: [
        { name: 'docker.io', version: '', files: 1, bytes: 90_000 },
        { name: 'bash', version: '', files: 1, bytes: 1000 },
      ],
      largestFiles: [],
    };
    const d = diffReports(v1, after);
    assert.equal(d.files, undefined);
    const docker = d.packages.find((c) => c.name === 'docker.io');
    assert.ok(docker);
    assert.equal(delta(docker), 5000);
    assert.equal(compressedDelta(docker), undefined);
    assert.deepEqual(
      changed(d.packages).map((c) => c.name),
      ['docker.io', 'busybox-static', 'strace'],
    );
  });
});
