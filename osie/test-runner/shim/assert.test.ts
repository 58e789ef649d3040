/** The assert shim fails when node:assert/strict would, and passes when it would (runs on qjs). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AssertionError } from './assert.ts';

const fails = (fn: () => unknown, what: string) => {
  let threw = false;
  try {
    fn();
  } catch (error) {
    threw = error instanceof AssertionError;
  }
  if (!threw) throw new Error(`expected an AssertionError: ${what}`);
};

test('deepEqual compares like deepStrictEqual', () => {
  assert.deepEqual(
    { a: [1, { b: 'x' }], m: new Map([['k', new Set([1])]]) },
    { a: [1, { b: 'x' }], m: new Map([['k', new Set([1])]]) },
  );
  assert.deepEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]));
  assert.deepEqual([NaN], [NaN]);
  fails(() => assert.deepEqual({ a: 1 }, { a: 2 }), 'different values');
  fails(() => assert.deepEqual({ a: 1 }, { a: 1, b: undefined }), 'a missing key');
  fails(() => assert.deepEqual([1, 2], [1, 2, 3]), 'different lengths');
  fails(() => assert.deepEqual(1, '1'), 'no type coercion');
  fails(() => assert.deepEqual(new Map([['k', 1]]), new Map([['k', 2]])), 'Map values');
  fails(() => assert.deepEqual(new Set([1]), new Set([2])), 'Set members');
  fails(() => assert.deepEqual(new Uint8Array([1]), new Uint8Array([2])), 'bytes');
  fails(() => assert.deepEqual({}, []), 'prototypes');
  fails(() => assert.deepEqual([0], [-0]), 'Object.is on primitives');
});

test('equal, ok, match, throws and rejects fail when they should', async () => {
  assert.equal(1, 1);
  fails(() => assert.equal(1, 2), 'equal');
  fails(() => assert.equal({}, {}), 'equal is identity');
  fails(() => assert.notEqual(1, 1), 'notEqual');
  fails(() => assert.ok(0), 'ok');
  fails(() => assert.match('abc', /x/), 'match');
  fails(() => assert.match(5 as unknown as string, /5/), 'match needs a string');
  fails(() => assert.doesNotMatch('abc', /b/), 'doesNotMatch');
  fails(() => assert.throws(() => {}), 'throws without a throw');
  fails(
    () =>
      assert.throws(() => {
        throw new Error('a');
      }, /b/),
    'throws with another message',
  );
  fails(
    () =>
      assert.throws(() => {
        throw new Error('a');
      }, TypeError),
    'throws with another class',
  );
  fails(
    () =>
      assert.doesNotThrow(() => {
        throw new Error('a');
      }),
    'doesNotThrow',
  );
  assert.throws(() => {
    throw new TypeError('bad thing');
  }, /bad thing/);
  assert.throws(() => {
    throw new TypeError('x');
  }, TypeError);
  assert.throws(
    () => {
      throw new Error('x');
    },
    (error: unknown) => error instanceof Error,
  );
  assert.throws(
    () => {
      throw new Error('x');
    },
    { message: 'x' },
  );
  await assert.rejects(Promise.reject(new Error('late')), /late/);
  let rejected = false;
  await assert.rejects(Promise.resolve(1)).catch((error: unknown) => {
    rejected = error instanceof AssertionError;
  });
  assert.ok(rejected, 'rejects fails on a fulfilled promise');
  fails(() => assert.fail('explicit'), 'fail');
  let message = '';
  try {
    assert.equal('actual', 'expected', undefined);
  } catch (error) {
    message = (error as Error).message;
  }
  assert.match(message, /actual: "actual"\nexpected: "expected"/);
});
