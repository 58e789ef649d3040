import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileNode, Tree, type TreeNode, type TreePath, treePath } from '../../tree/tree.ts';
import type { BuiltSegment } from '../initramfs/segments.ts';
import type { ArtifactInput } from './input.ts';
import {
  type BuildReport,
  buildReport,
  GENERATED,
  parseReport,
  REPORT_VERSION,
  serializeReport,
} from './report.ts';

function segment(
  name: string,
  members: Array<[TreePath, TreeNode]>,
  uncompressedBytes: number,
  compressedBytes: number,
): BuiltSegment {
  return {
    name,
    entries: members.length,
    uncompressedBytes,
    compressedBytes,
    cacheKey: '0'.repeat(64),
    cached: false,
    data: new Uint8Array(compressedBytes),
    members,
  };
}

/** A small OS: a big package with a segment of its own, two small ones in base, a generated file, early copies. */
function sample(): ArtifactInput {
  const tree = new Tree();
  const node = (path: string, bytes: number) => {
    const n = fileNode(new Uint8Array(bytes));
    tree.set(treePath(path), n);
    return [treePath(path), n] as [TreePath, TreeNode];
  };
  const dockerd = node('usr/sbin/dockerd', 9000);
  const proxy = node('usr/sbin/docker-proxy', 1000);
  const busybox = node('usr/bin/busybox', 2000);
  const libc = node('usr/lib/x86_64-linux-gnu/libc.so.6', 3000);
  const conf = node('etc/hostname', 5);
  // A hard link: one content under two names, stored once.
  tree.set(treePath('usr/bin/sh'), busybox[1]);
  const ownership = new Map<TreePath, string>([
    [dockerd[0], 'docker.io'],
    [proxy[0], 'docker.io'],
    [busybox[0], 'busybox-static'],
    [treePath('usr/bin/sh'), 'busybox-static'],
    [libc[0], 'libc6'],
  ]);
  const init = fileNode('#!/bin/sh\n');
  const segments = [
    segment('early', [[treePath('init'), init], busybox, libc], 5100, 2550),
    segment('base', [busybox, [treePath('usr/bin/sh'), busybox[1]], libc], 5200, 2600),
    segment('package-docker.io', [dockerd, proxy], 10_400, 3000),
    segment('config', [conf], 600, 300),
  ];
  return {
    arch: 'x86_64',
    vmlinuz: new Uint8Array(10),
    initramfs: [new Uint8Array(8460)],
    segments,
    lock: {
      lockfileVersion: 1,
      arch: 'amd64',
      requestHash: 'x',
      sourceDateEpoch: 0,
      packages: [
        {
          name: 'docker.io',
          version: '26.1.5',
          architecture: 'amd64',
          sha256: '',
          size: 0,
          filename: '',
          suite: 'trixie',
          role: 'request',
        },
      ],
    },
    tree,
    ownership,
    sourceDateEpoch: 0,
    specName: 'hookos',
    specVersion: '0',
    kernelVersion: '6.12.0',
    cmdline: '',
  };
}

describe('buildReport', () => {
  it('lists every file once per segment with its package and segment; hard links once, early copies counted', () => {
    const report = buildReport(sample());
    assert.equal(report.reportVersion, REPORT_VERSION);
    assert.deepEqual(
      report.files?.map((f) => `${f.segment} ${f.path} ${f.package} ${f.bytes}`),
      [
        `early /init ${GENERATED} 10`,
        'early /usr/bin/busybox busybox-static 2000',
        'early /usr/lib/x86_64-linux-gnu/libc.so.6 libc6 3000',
        'base /usr/bin/busybox busybox-static 2000',
        'base /usr/lib/x86_64-linux-gnu/libc.so.6 libc6 3000',
        'package-docker.io /usr/sbin/dockerd docker.io 9000',
        'package-docker.io /usr/sbin/docker-proxy docker.io 1000',
        `config /etc/hostname ${GENERATED} 5`,
      ],
    );
    assert.equal(report.uncompressedBytes, 5100 + 5200 + 10_400 + 600);
    assert.equal(report.initramfsBytes, 8460);
  });

  it('measures the compressed size of a package alone in its segment, and estimates the others at their segments’ ratios', () => {
    const report = buildReport(sample());
    const pkg = (name: string) => report.packages.find((p) => p.name === name);
    assert.deepEqual(pkg('docker.io'), {
      name: 'docker.io',
      version: '26.1.5',
      files: 2,
      bytes: 10_000,
      compressedBytes: 3000,
      compressedMeasured: true,
    });
    // busybox: 2000 B in early (ratio 0.5) + 2000 B in base (ratio 0.5).
    assert.deepEqual(pkg('busybox-static'), {
      name: 'busybox-static',
      version: '',
      files: 2,
      bytes: 4000,
      compressedBytes: 2000,
      compressedMeasured: false,
    });
    assert.deepEqual(
      report.packages.map((p) => p.name),
      ['docker.io', 'libc6', 'busybox-static', GENERATED],
      'largest first',
    );
    assert.equal(report.largestFiles[0]?.path, '/usr/sbin/dockerd');
  });

  it('without member lists (segments made elsewhere) lists the tree’s files with no segment', () => {
    const input = sample();
    input.segments = input.segments.map(({ members: _, ...s }) => s);
    const report = buildReport(input);
    assert.equal(report.files?.length, 5);
    assert.ok(report.files?.every((f) => f.segment === ''));
    assert.equal(report.packages.find((p) => p.name === 'docker.io')?.compressedMeasured, false);
  });
});

describe('serializeReport / parseReport', () => {
  it('round-trips, with one line per file', () => {
    const report = buildReport(sample());
    const text = serializeReport(report);
    assert.deepEqual(JSON.parse(text), report);
    assert.deepEqual(parseReport(text, 'r.json'), report);
    const fileLines = text.split('\n').filter((l) => l.includes('"segment":'));
    assert.equal(fileLines.length, report.files?.length);
    assert.match(
      text,
      /\n {4}\{"path":"\/usr\/sbin\/dockerd","package":"docker.io","segment":"package-docker.io","bytes":9000\},\n/,
    );
    const empty: BuildReport = { ...report, files: [] };
    assert.deepEqual(JSON.parse(serializeReport(empty)), empty);
  });

  it('reads a version-1 report (no version, no files, no compressed sizes)', () => {
    const v1 = {
      arch: 'x86_64',
      kernelVersion: '6.12',
      initramfsBytes: 100,
      uncompressedBytes: 300,
      segments: [{ name: 'base', entries: 3, uncompressedBytes: 300, compressedBytes: 100, cached: true }],
      packages: [{ name: 'bash', version: '5.2', files: 9, bytes: 250 }],
      largestFiles: [{ path: '/usr/bin/bash', bytes: 200, package: 'bash' }],
    };
    const read = parseReport(JSON.stringify(v1), 'old.json');
    assert.equal(read.files, undefined);
    assert.equal(read.packages[0]?.compressedBytes, undefined);
    assert.deepEqual(read, v1);
  });

  it('refuses what is not a report, and a newer version, naming the file', () => {
    const bad = (text: string, pattern: RegExp) =>
      assert.throws(
        () => parseReport(text, 'x.json'),
        (e: Error & { code?: string }) => e.code === 'E_ARCHIVE_FORMAT' && pattern.test(e.message),
      );
    bad('{', /^x\.json is not a hook build report: it is not JSON/);
    bad('[]', /not a JSON object/);
    bad('{"arch":"x86_64"}', /initramfsBytes, uncompressedBytes, segments, packages missing or malformed/);
    const report = JSON.parse(serializeReport(buildReport(sample())));
    bad(JSON.stringify({ ...report, files: [{ path: '/a' }] }), /files missing or malformed/);
    bad(JSON.stringify({ ...report, reportVersion: 'two' }), /reportVersion is "two"/);
    bad(
      JSON.stringify({ ...report, reportVersion: REPORT_VERSION + 1 }),
      /is a version-3 build report; this hook reads versions 1 to 2/,
    );
  });
});
