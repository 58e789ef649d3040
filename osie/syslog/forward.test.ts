import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { utf8Length } from '../lib/platform/bytes.ts';
import { credentialValues, Redactor } from '../lib/redact.ts';
import { JOURNAL_FIELDS, MAX_MESSAGE_BYTES, parseJournalLine, syslogLine } from './forward.ts';

const none = (text: string) => text;

/** The redactor hook-syslog builds from the command line of the boot. */
function forwarderRedactor(cmdline: string): (text: string) => string {
  const redactor = new Redactor();
  for (const secret of credentialValues(cmdline)) redactor.add(secret);
  return (text) => redactor.redact(text);
}

test('a service line becomes an RFC 5424 line with the journal priority and facility', () => {
  const line = syslogLine(
    {
      MESSAGE: 'level=info component=hook-bootkit msg="the worker container is running"',
      PRIORITY: '6',
      SYSLOG_FACILITY: '3',
      SYSLOG_IDENTIFIER: 'node',
      _SYSTEMD_UNIT: 'hook-bootkit.service',
      _PID: '812',
      _HOSTNAME: 'hook-525400123456',
      __REALTIME_TIMESTAMP: '1700000000123456',
    },
    'fallback',
    none,
  );
  assert.equal(
    line,
    '<30>1 2023-11-14T22:13:20.123Z hook-525400123456 node 812 - - level=info component=hook-bootkit msg="the worker container is running"',
  );
});

test('kernel messages keep facility 0; missing fields become "-"; bytes are decoded', () => {
  const line = syslogLine({ MESSAGE: [104, 105, 10], PRIORITY: '3', SYSLOG_FACILITY: '0' }, 'host one', none);
  assert.equal(line, '<3>1 - hostone - - - - hi');
});

test('the unit name stands in for a missing identifier; bad numbers fall back to daemon.info', () => {
  const line = syslogLine(
    { MESSAGE: 'x', PRIORITY: '42', SYSLOG_FACILITY: 'x', _SYSTEMD_UNIT: 'hook-docker.service' },
    'h',
    none,
  );
  assert.equal(line, '<30>1 - h hook-docker - - - x');
});

test('long messages are cut', () => {
  const line = syslogLine({ MESSAGE: 'é'.repeat(MAX_MESSAGE_BYTES) }, 'h', none);
  assert.ok(utf8Length(line) < MAX_MESSAGE_BYTES + 40);
  assert.equal(line, `<30>1 - h - - - - ${'é'.repeat(MAX_MESSAGE_BYTES / 2)}`, 'cut between characters');
});

test("fields in journalctl's other JSON forms (bytes, repeated values, numbers) are read, never thrown on", () => {
  assert.equal(
    syslogLine(
      { MESSAGE: ['first', 'second'], SYSLOG_IDENTIFIER: [107, 101, 114, 110, 101, 108], _PID: 7 },
      'h',
      none,
    ),
    '<30>1 - h kernel 7 - - first',
  );
  assert.equal(
    syslogLine({ SYSLOG_IDENTIFIER: [], _HOSTNAME: null, MESSAGE: {} }, 'h', none),
    '<30>1 - h - - - - ',
  );
});

test('journal lines that are not JSON objects are skipped, never thrown', () => {
  assert.equal(parseJournalLine(''), undefined);
  assert.equal(parseJournalLine('{oops'), undefined);
  assert.equal(parseJournalLine('[1]'), undefined);
  assert.deepEqual(parseJournalLine('{"MESSAGE":"a"}'), { MESSAGE: 'a' });
});

const BOOT = (password: string) =>
  `console=ttyS1,115200 docker_registry=10.0.2.2:5000 registry_username=admin registry_password=${password} syslog_host=10.0.2.2`;

test("the kernel's own command line line reaches syslog_host without the password, whatever its length", () => {
  for (const password of ['a', 'pw', 'hunter2-Very-Secret']) {
    const line = syslogLine(
      {
        MESSAGE: `Kernel command line: ${BOOT(password)}`,
        PRIORITY: '5',
        SYSLOG_FACILITY: '0',
        SYSLOG_IDENTIFIER: 'kernel',
      },
      'h',
      forwarderRedactor(BOOT(password)),
    );
    assert.equal(
      line,
      '<5>1 - h kernel - - - Kernel command line: console=ttyS1,115200 docker_registry=10.0.2.2:5000 registry_username=admin registry_password=*** syslog_host=10.0.2.2',
    );
  }
});

test('any forwarded line loses the password value; a 1-character one only where it stands alone', () => {
  const redact = forwarderRedactor(BOOT('a'));
  const forward = (message: string, app = 'tink-worker') =>
    syslogLine({ MESSAGE: message, SYSLOG_IDENTIFIER: app }, 'h', redact);
  assert.equal(
    forward('auth with "a" failed for admin at a banana stand'),
    '<30>1 - h tink-worker - - - auth with "***" failed for admin at *** banana stand',
  );
  assert.equal(forward('x', 'a'), '<30>1 - h *** - - - x', 'header fields too');
  const long = forwarderRedactor(BOOT('hunter2-Very-Secret'));
  const cut = syslogLine({ MESSAGE: `${'x'.repeat(MAX_MESSAGE_BYTES - 5)}hunter2-Very-Secret` }, 'h', long);
  assert.ok(!cut.includes('hunter2'), 'redacted before the cut, so no half survives');
  assert.ok(cut.endsWith('xxxxx***'));
});

test('property: no forwarded line ever carries registry_password=<value>, for any value and message', () => {
  const password = fc.string({
    unit: fc.constantFrom(...'ab1=:@/"\\%-_.'.split('')),
    minLength: 1,
    maxLength: 10,
  });
  const text = fc.string({ maxLength: 60 });
  fc.assert(
    fc.property(password, text, text, (value, before, after) => {
      fc.pre(!value.startsWith('"'));
      const line = syslogLine(
        { MESSAGE: `${before} registry_password=${value} ${after}` },
        'h',
        forwarderRedactor(BOOT(value)),
      );
      assert.ok(!line.includes(`registry_password=${value}`), line);
      assert.ok(line.includes('registry_password=***'), line);
    }),
    { numRuns: 500 },
  );
});

test('property: any journal line, JSON or not, gives no line or one line, never an exception', () => {
  const field = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.integer(),
    fc.constant(null),
    fc.array(fc.integer({ min: -5, max: 300 }), { maxLength: 10 }),
  );
  const entry = fc.dictionary(
    fc.constantFrom(
      'MESSAGE',
      'PRIORITY',
      'SYSLOG_FACILITY',
      'SYSLOG_IDENTIFIER',
      '_SYSTEMD_UNIT',
      '_COMM',
      '_PID',
      '_HOSTNAME',
      '__REALTIME_TIMESTAMP',
    ),
    field,
  );
  const redact = forwarderRedactor(BOOT('a'));
  fc.assert(
    fc.property(
      fc.oneof(
        entry.map((e) => JSON.stringify(e)),
        fc.string({ maxLength: 80 }),
      ),
      (line) => {
        const parsed = parseJournalLine(line);
        if (parsed === undefined) return;
        const out = syslogLine(parsed, 'h', redact);
        assert.match(out, /^<\d{1,3}>1 /);
      },
    ),
    { numRuns: 3000 },
  );
});

test('the line depends only on JOURNAL_FIELDS and the __ fields, the ones hook-syslog asks journalctl for', () => {
  const full = {
    MESSAGE: 'hello',
    PRIORITY: '3',
    SYSLOG_FACILITY: '4',
    _SYSTEMD_UNIT: 'docker.service',
    _COMM: 'dockerd',
    _PID: '42',
    _HOSTNAME: 'hook-1',
    __REALTIME_TIMESTAMP: '1700000000123456',
    _BOOT_ID: 'b',
    _TRANSPORT: 'stdout',
    _CMDLINE: '/usr/sbin/dockerd -H fd://',
    CONTAINER_NAME: 'tink-worker',
  };
  const asked = Object.fromEntries(
    Object.entries(full).filter(([key]) => key.startsWith('__') || JOURNAL_FIELDS.includes(key)),
  );
  assert.equal(syslogLine(asked, 'fallback', none), syslogLine(full, 'fallback', none));
  // Each field asked for changes the line when it changes, so none is asked for in vain.
  for (const key of JOURNAL_FIELDS) {
    const changed = {
      ...full,
      [key]: key === 'PRIORITY' || key === 'SYSLOG_FACILITY' || key === '_PID' ? '1' : 'x',
    };
    const withoutIdentifier = key === '_SYSTEMD_UNIT' || key === '_COMM';
    if (withoutIdentifier) continue; // only read when SYSLOG_IDENTIFIER is absent: checked below
    assert.notEqual(syslogLine(changed, 'fallback', none), syslogLine(full, 'fallback', none), key);
  }
  const noIdentifier = { ...full, SYSLOG_IDENTIFIER: undefined };
  assert.match(syslogLine(noIdentifier, 'fallback', none), / docker 42 /);
  assert.match(syslogLine({ ...noIdentifier, _SYSTEMD_UNIT: undefined }, 'fallback', none), / dockerd 42 /);
});
