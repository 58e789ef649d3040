import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { exitCodeOf } from '../src/qemu/process.ts';

const processModule = fileURLToPath(new URL('../src/qemu/process.ts', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function goneWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await delay(50);
  }
  return !alive(pid);
}

/** A Node process that starts a halted QEMU through spawnQemu, prints its pid, then does `then`. */
function parentScript(then: string): string {
  return `
    import { spawnQemu } from ${JSON.stringify(processModule)};
    const qemu = spawnQemu('qemu-system-x86_64', ['-machine', 'q35', '-accel', 'tcg', '-nodefaults', '-display', 'none', '-S', '-m', '64'], { stdio: 'ignore' });
    console.log(qemu.pid);
    setTimeout(() => { ${then} }, 300);
  `;
}

async function qemuPidOfParent(then: string): Promise<{ qemuPid: number; parent: ReturnType<typeof spawn> }> {
  const parent = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', parentScript(then)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const line = await new Promise<string>((resolve) =>
    parent.stdout?.once('data', (chunk) => resolve(String(chunk))),
  );
  const qemuPid = Number(line.trim());
  assert.ok(qemuPid > 0 && alive(qemuPid), `QEMU pid ${line}`);
  return { qemuPid, parent };
}

test('QEMU dies when the Node process that started it exits normally', async () => {
  const { qemuPid } = await qemuPidOfParent('process.exit(0)');
  assert.ok(await goneWithin(qemuPid, 5_000), 'QEMU outlived its parent');
});

test('QEMU dies when the Node process that started it is killed with SIGTERM or SIGKILL', async () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    const { qemuPid, parent } = await qemuPidOfParent('/* stay alive */ setInterval(() => {}, 1000)');
    parent.kill(signal);
    assert.ok(await goneWithin(qemuPid, 5_000), `QEMU outlived a parent killed by ${signal}`);
  }
});

test('exitCodeOf follows the shell convention', () => {
  assert.equal(exitCodeOf(0, null), 0);
  assert.equal(exitCodeOf(3, null), 3);
  assert.equal(exitCodeOf(null, 'SIGKILL'), 137);
  assert.equal(exitCodeOf(null, 'SIGTERM'), 143);
});
