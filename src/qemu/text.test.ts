import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanConsoleText, lastLines, stripAnsi } from './text.ts';

test('stripAnsi removes colours, cursor moves, OSC titles and two-byte escapes', () => {
  assert.equal(stripAnsi('\x1b[0;32m OK \x1b[0m done'), ' OK  done');
  assert.equal(stripAnsi('q\x1b[K\x1b[Dqu\x1b[?25l'), 'qqu');
  assert.equal(stripAnsi('\x1b]0;title\x07text\x1bc'), 'text');
  assert.equal(stripAnsi('\x1b7saved\x1b8\x1b(B!'), 'saved!');
});

test('cleanConsoleText also drops carriage returns', () => {
  assert.equal(cleanConsoleText('a\r\n\x1b[1mb\x1b[0m\r\n'), 'a\nb\n');
});

test('lastLines keeps the last N lines; a trailing newline is no extra line', () => {
  assert.equal(lastLines('1\n2\n3\n4\n', 2), '3\n4');
  assert.equal(lastLines('1\n2', 5), '1\n2');
  assert.equal(lastLines('', 3), '');
});
