/**
 * The hook-status bundle as the image carries it, run by Debian trixie's qjs (with the unit's
 * flags) on this host: `--once` prints the status of this machine (its kernel, its interfaces
 * as iproute2 lists them), and the service loop keeps `<dir>/status` and `status.gen`, ending
 * cleanly on SIGTERM. (Writing onto consoles is checked by the boot test, test/ipxe-boot.test.ts.)
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { QJS_FLAGS } from '../osie/manifest.ts';
import { qjsRuntime } from '../osie/test-runner/runtime.ts';
import { osieFiles } from '../src/pipeline/osie.ts';

const run = promisify(execFile);

test('hook-status under qjs: --once shows this machine; the loop keeps status and status.gen', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'hook-status-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const bundle = (await osieFiles()).get('usr/lib/hook/hook-status.js');
  assert.ok(bundle, 'the image carries usr/lib/hook/hook-status.js');
  await writeFile(join(dir, 'hook-status.js'), bundle.data);
  const runtime = await qjsRuntime();
  const [qjs, ...prefix] = runtime.qjs as [string, ...string[]];
  const args = (...rest: string[]) => [...prefix, ...QJS_FLAGS, join(dir, 'hook-status.js'), ...rest];
  const env = { ...process.env, PATH: `${runtime.binDir}:/usr/sbin:/usr/bin:/sbin:/bin` };

  assert.match((await run(qjs, args('--help'), { env })).stdout, /^Usage: hook-status /);

  const once = (await run(qjs, args('--once'), { env })).stdout;
  const kernel = (await readFile('/proc/sys/kernel/osrelease', 'utf8')).trim();
  assert.match(
    once.split('\n')[0] ?? '',
    new RegExp(`^=== HookOS status: .+ \\| kernel ${kernel.replaceAll('.', '\\.')} \\| \\S+ ===$`),
  );
  // The oracle: iproute2 itself, asked by Node.
  const links = JSON.parse((await run('ip', ['-j', 'address', 'show'], { env })).stdout) as Array<{
    ifname: string;
    link_type: string;
    addr_info: Array<{ family: string; local: string; prefixlen: number; scope: string }>;
  }>;
  for (const link of links.filter((l) => l.link_type !== 'loopback' && !l.ifname.startsWith('veth'))) {
    const line = once.split('\n').find((l) => l.startsWith(`  ${link.ifname} `));
    assert.ok(line, `${link.ifname} is listed:\n${once}`);
    for (const a of link.addr_info.filter((i) => i.family === 'inet' && i.scope === 'global')) {
      assert.ok(line.includes(` ${a.local}/${a.prefixlen}`), `${a.local} on ${line}`);
    }
  }
  assert.doesNotMatch(once, /^ {2}lo /m, 'no loopback');
  assert.match(once, /^ {2}tink-worker {8}/m);

  const state = join(dir, 'run');
  const service = spawn(qjs, args('--dir', state), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  service.stdout.on('data', (chunk) => {
    log += chunk;
  });
  const exited = new Promise<number | null>((resolve) => service.on('close', resolve));
  try {
    for (let i = 0; i < 100 && !existsSync(join(state, 'status.gen')); i++) await sleep(100);
    assert.equal(await readFile(join(state, 'status.gen'), 'utf8'), '1\n');
    const status = await readFile(join(state, 'status'), 'utf8');
    assert.equal(status.split('\n')[0], once.split('\n')[0]);
    assert.ok(existsSync(join(state, 'console')), 'the folder the shells register in');
  } finally {
    service.kill('SIGTERM');
  }
  assert.equal(await exited, 0, log);
  assert.match(log, /level=info component=hook-status msg="status changed" generation=1/);
});
