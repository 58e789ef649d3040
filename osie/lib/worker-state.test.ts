import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeWorkerState, parseWorkerState, serializeWorkerState } from './worker-state.ts';

test('the state round-trips; empty fields are left out; a long error is cut', () => {
  const text = serializeWorkerState({
    phase: 'running',
    image: 'reg/w:1',
    container: 'abc123def456',
    error: '',
  });
  assert.equal(text, '{"phase":"running","image":"reg/w:1","container":"abc123def456"}\n');
  assert.deepEqual(parseWorkerState(text), { phase: 'running', image: 'reg/w:1', container: 'abc123def456' });
  const long = serializeWorkerState({ phase: 'failing', error: 'x'.repeat(1000) });
  assert.equal(parseWorkerState(long)?.error?.length, 400);
});

test('anything that is not a state is refused', () => {
  for (const text of [
    '',
    'null',
    '[]',
    '{"phase":"dancing"}',
    '{"phase":"running","image":3}',
    '{"image":"x"}',
  ]) {
    assert.equal(parseWorkerState(text), undefined, text);
  }
});

test('one console line per phase; an error on one line, cut with an ellipsis', () => {
  assert.equal(describeWorkerState(undefined), 'not started yet');
  assert.equal(describeWorkerState({ phase: 'waiting' }), 'waiting for the Docker engine');
  assert.equal(describeWorkerState({ phase: 'pulling', image: 'reg/w:1' }), 'pulling reg/w:1');
  assert.equal(describeWorkerState({ phase: 'starting' }), 'starting the container');
  assert.equal(describeWorkerState({ phase: 'running', container: 'abc' }), 'running (container abc)');
  assert.equal(
    describeWorkerState({ phase: 'failing', error: 'cannot pull x:\n  connection\trefused\u001b[31m' }),
    'failing, retrying: cannot pull x: connection refused [31m',
  );
  assert.equal(
    describeWorkerState({ phase: 'pulling', image: 'reg/w:1', error: 'it stopped' }),
    'pulling reg/w:1 (last attempt failed: it stopped)',
  );
  const cut = describeWorkerState({ phase: 'failing', error: 'e'.repeat(300) }, 40);
  assert.equal(cut, `failing, retrying: ${'e'.repeat(37)}...`);
});
