import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_MESSAGE_BYTES, parseJournalLine, syslogLine } from './forward.ts';

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
  );
  assert.equal(
    line,
    '<30>1 2023-11-14T22:13:20.123Z hook-525400123456 node 812 - - level=info component=hook-bootkit msg="the worker container is running"',
  );
});

test('kernel messages keep facility 0; missing fields become "-"; bytes are decoded', () => {
  const line = syslogLine({ MESSAGE: [104, 105, 10], PRIORITY: '3', SYSLOG_FACILITY: '0' }, 'host one');
  assert.equal(line, '<3>1 - hostone - - - - hi');
});

test('the unit name stands in for a missing identifier; bad numbers fall back to daemon.info', () => {
  const line = syslogLine(
    { MESSAGE: 'x', PRIORITY: '42', SYSLOG_FACILITY: 'x', _SYSTEMD_UNIT: 'hook-docker.service' },
    'h',
  );
  assert.equal(line, '<30>1 - h hook-docker - - - x');
});

test('long messages are cut', () => {
  const line = syslogLine({ MESSAGE: 'é'.repeat(MAX_MESSAGE_BYTES) }, 'h');
  assert.ok(Buffer.byteLength(line) < MAX_MESSAGE_BYTES + 40);
});

test('journal lines that are not JSON objects are skipped, never thrown', () => {
  assert.equal(parseJournalLine(''), undefined);
  assert.equal(parseJournalLine('{oops'), undefined);
  assert.equal(parseJournalLine('[1]'), undefined);
  assert.deepEqual(parseJournalLine('{"MESSAGE":"a"}'), { MESSAGE: 'a' });
});
