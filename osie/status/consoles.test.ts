import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  atEmptyPrompt,
  parseProcStat,
  parsePromptRecord,
  parseRegistration,
  pselectSyscall,
  terminalText,
} from './consoles.ts';

// /proc/<pid>/stat of an autologin bash on ttyS1 at its prompt: pgrp 612 = tpgid 612.
const IDLE_STAT = '612 (bash) S 1 612 612 1089 612 4194560 1650 7371 0 3 1 2 15 7 20 0 1 0 1290 8650752 1201';
const BUSY_STAT = '612 (bash) S 1 612 612 1089 871 4194560 1650 7371 0 3 1 2 15 7 20 0 1 0 1290 8650752 1201';
const io = (syscr: number) => `rchar: 91234\nwchar: 5120\nsyscr: ${syscr}\nsyscw: 77\nread_bytes: 0\n`;
const registration = { tty: '/dev/ttyS1', ioDelta: 1 };
const prompt = { syscr: 400, prompt: 'hookos:~# ' };
const PSELECT = 270;

test('an empty prompt: foreground, asleep in pselect6, no read since the prompt was recorded', () => {
  const snapshot = { stat: IDLE_STAT, syscall: '270 0x1 0x7ffd 0x0 0x0 0x0 0x7ffd', io: io(401) };
  assert.equal(atEmptyPrompt(snapshot, registration, prompt, PSELECT), true);
});

test('not at an empty prompt: a key typed, a command running, not in pselect6, unknown architecture', () => {
  const idle = { stat: IDLE_STAT, syscall: '270 0x1 0x7ffd', io: io(401) };
  assert.equal(atEmptyPrompt({ ...idle, io: io(402) }, registration, prompt, PSELECT), false, 'one key read');
  assert.equal(
    atEmptyPrompt({ ...idle, stat: BUSY_STAT }, registration, prompt, PSELECT),
    false,
    'a job in front',
  );
  assert.equal(atEmptyPrompt({ ...idle, syscall: 'running' }, registration, prompt, PSELECT), false);
  assert.equal(
    atEmptyPrompt({ ...idle, syscall: '0 0x0 0x7ffd 0x1' }, registration, prompt, PSELECT),
    false,
    'read(2)',
  );
  assert.equal(
    atEmptyPrompt({ ...idle, stat: IDLE_STAT.replace(' S ', ' R ') }, registration, prompt, PSELECT),
    false,
  );
  assert.equal(atEmptyPrompt(idle, registration, prompt, undefined), false);
  assert.equal(atEmptyPrompt({ ...idle, io: '' }, registration, prompt, PSELECT), false);
  assert.equal(pselectSyscall('x86_64'), 270);
  assert.equal(pselectSyscall('aarch64'), 72);
  assert.equal(pselectSyscall('riscv64'), undefined);
});

test('the files the shells write are read strictly', () => {
  assert.deepEqual(parseRegistration('/dev/ttyS1\n1\n'), { tty: '/dev/ttyS1', ioDelta: 1 });
  assert.equal(parseRegistration('/dev/pts/0\n1\n'), undefined, 'not a console');
  assert.equal(parseRegistration('/etc/passwd; rm\n1\n'), undefined);
  assert.equal(parseRegistration('/dev/tty1\n99\n'), undefined);
  assert.deepEqual(parsePromptRecord('400\nhookos:/var/log# '), { syscr: 400, prompt: 'hookos:/var/log# ' });
  assert.equal(parsePromptRecord('x\nhookos# '), undefined);
  assert.equal(parsePromptRecord('400'), undefined);
  // A command name with spaces and parentheses does not shift the fields.
  assert.deepEqual(parseProcStat('77 (a) b (c)) S 1 70 70 1089 70 0'), { state: 'S', pgrp: 70, tpgid: 70 });
});

test('onto the terminal: clear the prompt line, the status with CR LF, the prompt again', () => {
  assert.equal(terminalText('line 1\nline 2\n', 'hookos:~# '), '\r\u001b[Kline 1\r\nline 2\r\nhookos:~# ');
});
