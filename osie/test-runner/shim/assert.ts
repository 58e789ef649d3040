/**
 * `node:assert/strict` for test files that run on qjs (osie/test-runner/run.ts aliases the import
 * here): the strict forms only, as `node:assert/strict` has them. deepEqual compares like Node's
 * deepStrictEqual: same prototypes, own enumerable keys, Map and Set contents, typed array bytes,
 * Date times, RegExp source and flags; primitives with Object.is. Its own tests are in
 * assert.test.ts (run on qjs too).
 */
import { inspect } from './format.ts';

export class AssertionError extends Error {
  readonly actual: unknown;
  readonly expected: unknown;
  readonly operator: string;
  constructor(options: { message?: string | Error; actual?: unknown; expected?: unknown; operator: string }) {
    const { message, actual, expected, operator } = options;
    super(
      message instanceof Error
        ? message.message
        : (message ??
            `Expected values to be ${operator}:\n  actual: ${inspect(actual)}\nexpected: ${inspect(expected)}`),
    );
    this.name = 'AssertionError';
    this.actual = actual;
    this.expected = expected;
    this.operator = operator;
  }
}

type Message = string | Error | undefined;

function failWith(message: Message, actual: unknown, expected: unknown, operator: string): never {
  if (message instanceof Error) throw message;
  throw new AssertionError({ message, actual, expected, operator });
}

export function ok(value: unknown, message?: Message): asserts value {
  if (!value)
    failWith(message ?? `The expression evaluated to a falsy value: ${inspect(value)}`, value, true, '==');
}

export function equal<T>(actual: unknown, expected: T, message?: Message): asserts actual is T {
  if (!Object.is(actual, expected)) failWith(message, actual, expected, 'strictly equal');
}

export function notEqual(actual: unknown, expected: unknown, message?: Message): void {
  if (Object.is(actual, expected))
    failWith(
      message ?? `Expected "actual" to be strictly unequal to: ${inspect(expected)}`,
      actual,
      expected,
      'notStrictEqual',
    );
}

export function deepEqual<T>(actual: unknown, expected: T, message?: Message): asserts actual is T {
  if (!isDeepEqual(actual, expected, [])) failWith(message, actual, expected, 'deep-equal');
}

export function notDeepEqual(actual: unknown, expected: unknown, message?: Message): void {
  if (isDeepEqual(actual, expected, []))
    failWith(
      message ?? `Expected "actual" not to be deep-equal to: ${inspect(expected)}`,
      actual,
      expected,
      'notDeepStrictEqual',
    );
}

export function match(actual: string, pattern: RegExp, message?: Message): void {
  if (typeof actual !== 'string')
    failWith(
      message ?? `The "string" argument must be of type string, got ${inspect(actual)}`,
      actual,
      pattern,
      'match',
    );
  pattern.lastIndex = 0;
  if (!pattern.test(actual))
    failWith(
      message ?? `The input did not match the regular expression ${pattern}. Input:\n\n${inspect(actual)}\n`,
      actual,
      pattern,
      'match',
    );
}

export function doesNotMatch(actual: string, pattern: RegExp, message?: Message): void {
  pattern.lastIndex = 0;
  if (typeof actual !== 'string' || pattern.test(actual))
    failWith(
      message ??
        `The input was expected to not match the regular expression ${pattern}. Input:\n\n${inspect(actual)}\n`,
      actual,
      pattern,
      'doesNotMatch',
    );
}

export function fail(message: Message = 'Failed'): never {
  return failWith(message, undefined, undefined, 'fail');
}

/** A RegExp for the message, an Error class, a validation function, or an object of properties. */
type Expected = RegExp | ((error: never) => unknown) | object;

function checkThrown(
  error: unknown,
  expected: Expected | undefined,
  message: Message,
  operator: string,
): void {
  if (expected === undefined) return;
  if (expected instanceof RegExp) {
    expected.lastIndex = 0;
    if (!expected.test(String(error)))
      failWith(
        message ?? `The error did not match ${expected}: ${inspect(error)}`,
        error,
        expected,
        operator,
      );
    return;
  }
  if (typeof expected === 'function') {
    if (expected.prototype !== undefined && error instanceof (expected as new () => unknown)) return;
    if (expected === Error || expected.prototype instanceof Error) {
      failWith(
        message ?? `The error is not an instance of ${expected.name}: ${inspect(error)}`,
        error,
        expected,
        operator,
      );
    }
    const result = (expected as (error: unknown) => unknown)(error);
    if (result !== true)
      failWith(
        message ?? `The validation function did not return true for ${inspect(error)}`,
        error,
        expected,
        operator,
      );
    return;
  }
  for (const [key, value] of Object.entries(expected)) {
    const actualValue = (error as Record<string, unknown>)?.[key];
    const same =
      value instanceof RegExp && typeof actualValue === 'string'
        ? value.test(actualValue)
        : isDeepEqual(actualValue, value, []);
    if (!same)
      failWith(
        message ?? `The error's "${key}" is ${inspect(actualValue)}, expected ${inspect(value)}`,
        error,
        expected,
        operator,
      );
  }
}

export function throws(fn: () => unknown, expected?: Expected | string, message?: Message): void {
  if (typeof expected === 'string') {
    message = expected;
    expected = undefined;
  }
  try {
    fn();
  } catch (error) {
    checkThrown(error, expected, message, 'throws');
    return;
  }
  failWith(message ?? 'Missing expected exception.', undefined, expected, 'throws');
}

export function doesNotThrow(fn: () => unknown, message?: Message): void {
  try {
    fn();
  } catch (error) {
    failWith(message ?? `Got unwanted exception: ${inspect(error)}`, error, undefined, 'doesNotThrow');
  }
}

export async function rejects(
  promiseOrFn: Promise<unknown> | (() => Promise<unknown>),
  expected?: Expected | string,
  message?: Message,
): Promise<void> {
  if (typeof expected === 'string') {
    message = expected;
    expected = undefined;
  }
  try {
    await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
  } catch (error) {
    checkThrown(error, expected, message, 'rejects');
    return;
  }
  failWith(message ?? 'Missing expected rejection.', undefined, expected, 'rejects');
}

export async function doesNotReject(
  promiseOrFn: Promise<unknown> | (() => Promise<unknown>),
  message?: Message,
): Promise<void> {
  try {
    await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
  } catch (error) {
    failWith(message ?? `Got unwanted rejection: ${inspect(error)}`, error, undefined, 'doesNotReject');
  }
}

function isDeepEqual(a: unknown, b: unknown, seen: [unknown, unknown][]): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (seen.some(([x, y]) => x === a && y === b)) return true;
  const pairs: [unknown, unknown][] = [...seen, [a, b]];
  if (a instanceof Date) return a.getTime() === (b as Date).getTime();
  if (a instanceof RegExp) return String(a) === String(b);
  if (a instanceof Error && (a.message !== (b as Error).message || a.name !== (b as Error).name))
    return false;
  if (ArrayBuffer.isView(a)) {
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const yView = b as ArrayBufferView;
    const y = new Uint8Array(yView.buffer, yView.byteOffset, yView.byteLength);
    return x.length === y.length && x.every((byte, i) => byte === y[i]);
  }
  if (a instanceof Map) {
    const other = b as Map<unknown, unknown>;
    if (a.size !== other.size) return false;
    for (const [key, value] of a) {
      if (other.has(key)) {
        if (!isDeepEqual(value, other.get(key), pairs)) return false;
      } else if (![...other].some(([k, v]) => isDeepEqual(key, k, pairs) && isDeepEqual(value, v, pairs))) {
        return false;
      }
    }
    return true;
  }
  if (a instanceof Set) {
    const other = b as Set<unknown>;
    if (a.size !== other.size) return false;
    for (const value of a) {
      if (!other.has(value) && ![...other].some((v) => isDeepEqual(value, v, pairs))) return false;
    }
    return true;
  }
  if (Array.isArray(a) && a.length !== (b as unknown[]).length) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  for (const key of keysA) {
    if (!Object.hasOwn(b, key)) return false;
    if (!isDeepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], pairs))
      return false;
  }
  return true;
}

export const strictEqual = equal;
export const notStrictEqual = notEqual;
export const deepStrictEqual = deepEqual;
export const notDeepStrictEqual = notDeepEqual;

/** The default export, typed like node:assert/strict's so that its assertions narrow types. */
export interface Assert {
  (value: unknown, message?: Message): asserts value;
  ok(value: unknown, message?: Message): asserts value;
  equal<T>(actual: unknown, expected: T, message?: Message): asserts actual is T;
  strictEqual<T>(actual: unknown, expected: T, message?: Message): asserts actual is T;
  notEqual(actual: unknown, expected: unknown, message?: Message): void;
  notStrictEqual(actual: unknown, expected: unknown, message?: Message): void;
  deepEqual<T>(actual: unknown, expected: T, message?: Message): asserts actual is T;
  deepStrictEqual<T>(actual: unknown, expected: T, message?: Message): asserts actual is T;
  notDeepEqual(actual: unknown, expected: unknown, message?: Message): void;
  notDeepStrictEqual(actual: unknown, expected: unknown, message?: Message): void;
  match(actual: string, pattern: RegExp, message?: Message): void;
  doesNotMatch(actual: string, pattern: RegExp, message?: Message): void;
  throws(fn: () => unknown, expected?: Expected | string, message?: Message): void;
  doesNotThrow(fn: () => unknown, message?: Message): void;
  rejects(
    promiseOrFn: Promise<unknown> | (() => Promise<unknown>),
    expected?: Expected | string,
    message?: Message,
  ): Promise<void>;
  doesNotReject(promiseOrFn: Promise<unknown> | (() => Promise<unknown>), message?: Message): Promise<void>;
  fail(message?: Message): never;
  AssertionError: typeof AssertionError;
  strict: Assert;
}

const assert: Assert = Object.assign((value: unknown, message?: Message) => ok(value, message), {
  ok,
  equal,
  notEqual,
  strictEqual,
  notStrictEqual,
  deepEqual,
  notDeepEqual,
  deepStrictEqual,
  notDeepStrictEqual,
  match,
  doesNotMatch,
  throws,
  doesNotThrow,
  rejects,
  doesNotReject,
  fail,
  AssertionError,
}) as unknown as Assert;
assert.strict = assert;

export default assert;
