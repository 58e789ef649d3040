import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { domainOf, goPathClean, goPathJoin, parseImageRef, registryHost } from './image-ref.ts';

const HEX64 = 'f'.repeat(64);

test('registryHost follows Docker normalisation (splitDockerDomain)', () => {
  const cases: [string, string][] = [
    ['ubuntu', 'docker.io'],
    ['ubuntu:24.04', 'docker.io'],
    ['library/ubuntu', 'docker.io'],
    ['tinkerbell/tink-worker:latest', 'docker.io'],
    ['quay.io/tinkerbell/tink-agent:v0.1', 'quay.io'],
    ['10.0.2.2:5000/tink-worker:latest', '10.0.2.2:5000'],
    ['localhost/tink-worker', 'localhost'],
    ['localhost:5000/a/b', 'localhost:5000'],
    ['Registry/x', 'Registry'],
    ['index.docker.io/library/ubuntu', 'docker.io'],
    ['docker.io/library/ubuntu', 'docker.io'],
    [`ghcr.io/tinkerbell/tink-agent@sha256:${'a'.repeat(64)}`, 'ghcr.io'],
    ['[2001:db8::1]:5000/repo:tag', '[2001:db8::1]:5000'],
    ['xn--n3h.com:18080/foo', 'xn--n3h.com:18080'],
  ];
  for (const [reference, host] of cases) assert.equal(registryHost(reference), host, reference);
});

test('name, path and tag; a digest wins over a tag (ParseDockerRef)', () => {
  assert.deepEqual(parseImageRef('10.0.2.2:5000/tink-worker'), {
    ok: true,
    value: {
      registry: '10.0.2.2:5000',
      name: '10.0.2.2:5000/tink-worker',
      path: 'tink-worker',
      tag: 'latest',
    },
  });
  assert.deepEqual(parseImageRef('ubuntu'), {
    ok: true,
    value: { registry: 'docker.io', name: 'ubuntu', path: 'library/ubuntu', tag: 'latest' },
  });
  assert.deepEqual(parseImageRef(`test:5000/repo:tag@sha256:${HEX64}`), {
    ok: true,
    value: {
      registry: 'test:5000',
      name: 'test:5000/repo',
      path: 'repo',
      tag: `sha256:${HEX64}`,
      givenTag: 'tag',
      digest: `sha256:${HEX64}`,
    },
  });
  assert.deepEqual(parseImageRef('lowercase:Uppercase'), {
    ok: true,
    value: {
      registry: 'docker.io',
      name: 'lowercase',
      path: 'library/lowercase',
      tag: 'Uppercase',
      givenTag: 'Uppercase',
    },
  });
});

test("distribution/reference's accepted and refused references", () => {
  const valid = [
    'test_com',
    'test.com:tag',
    'test.com:5000',
    'test.com/repo:tag',
    'test:5000/repo',
    `test:5000/repo@sha256:${HEX64}`,
    'sub-dom1.foo.com/bar/baz/quux:some-long-tag',
    'b.gcr.io/test.example.com/my-app:test.example.com',
    `xn--7o8h.com/myimage:xn--7o8h.com@sha512:${'f'.repeat(128)}`,
    'foo_bar.com:8080',
    'foo/foo_bar.com:8080',
    '192.168.1.1',
    '192.168.1.1:5000',
    '192.168.1.1:5000/repo:5050',
    '[2001:db8::1]/repo',
    '[2001:db8::1]:5000/repo:tag',
    '[::1]:5000/repo',
    `${'a/'.repeat(127)}a:tag-puts-this-over-max`,
    'a__b/c--d/e.f',
    'Uppercase/lowercase:tag',
  ];
  for (const reference of valid) assert.equal(parseImageRef(reference).ok, true, reference);
  const invalid: [string, RegExp][] = [
    ['', /empty/],
    [':justtag', /name is path components/],
    [`@sha256:${HEX64}`, /name is path components/],
    ['repo@sha256:ffffffffffffffffffffffffffffffffff', /64 lower-case hex/],
    [`validname@invaliddigest:${HEX64}`, /not supported/],
    ['Uppercase:tag', /lower-case/],
    ['test:5000/Uppercase/lowercase:tag', /lower-case/],
    [`${'a/'.repeat(128)}a:tag`, /longer than 255/],
    ['aa/asdf$$^/aa', /name is path components/],
    ['[2001:db8::1]', /name is path components/],
    ['[2001:db8::1]:5000', /name is path components/],
    ['[fe80::1%eth0]:5000/repo', /name is path components/],
    [HEX64, /image ID/],
    ['"quay.io/t/agent:v1"', /not an image reference/],
    ['repo:tag:tag', /name is path components/],
    [`repo:${'t'.repeat(129)}`, /tag/],
    [`repo@sha256:${'F'.repeat(64)}`, /lower-case hex/],
    ['a//b', /name is path components/],
    ['a/b/', /name is path components/],
    ['-a', /name is path components/],
  ];
  for (const [reference, reason] of invalid) {
    const parsed = parseImageRef(reference);
    assert.equal(parsed.ok, false, reference);
    assert.match(parsed.ok ? '' : parsed.reason, reason, reference);
  }
});

test('a component with "." that is no valid domain becomes part of the path, as in Go (no registry)', () => {
  assert.deepEqual(parseImageRef('a_b.com/x'), {
    ok: true,
    value: { registry: '', name: 'a_b.com/x', path: 'a_b.com/x', tag: 'latest' },
  });
});

test("Go's path.Join as Hook uses it for <docker_registry>/tink-worker:latest", () => {
  assert.equal(goPathJoin('host:5000/', 'tink-worker:latest'), 'host:5000/tink-worker:latest');
  assert.equal(goPathJoin('host:5000//ns/./x/..', 'tink-worker:latest'), 'host:5000/ns/tink-worker:latest');
  assert.equal(goPathJoin('/abs', 'x'), '/abs/x');
  assert.equal(goPathClean('../a/../..'), '../..');
  assert.equal(goPathClean('/../a'), '/a');
  assert.equal(goPathClean(''), '.');
  assert.equal(domainOf('reg.lan:5000'), 'reg.lan:5000');
  assert.equal(domainOf('index.docker.io'), 'docker.io');
  assert.equal(domainOf('tinkerbell'), undefined);
});

test('property: valid references built from the grammar parse, with their parts; nothing throws, time stays linear', () => {
  const alnum = fc.string({ unit: fc.constantFrom(...'abz019'.split('')), minLength: 1, maxLength: 4 });
  const sep = fc.constantFrom('.', '_', '__', '-', '---');
  const component = fc
    .tuple(alnum, fc.array(fc.tuple(sep, alnum), { maxLength: 2 }))
    .map(([head, rest]) => head + rest.map(([s, a]) => s + a).join(''));
  const path = fc.array(component, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));
  const domain = fc.constantFrom('reg.lan', 'reg.lan:5000', 'localhost', '10.0.2.2:5000', '[fd00::1]:5000');
  const tag = fc
    .string({ unit: fc.constantFrom(...'aZ09_.-'.split('')), minLength: 0, maxLength: 10 })
    .map((t) => (/^[.-]/.test(t) ? `v${t}` : t));
  fc.assert(
    fc.property(domain, path, tag, (host, repo, t) => {
      const text = `${host}/${repo}${t === '' ? '' : `:${t}`}`;
      const parsed = parseImageRef(text);
      assert.deepEqual(parsed, {
        ok: true,
        value: {
          registry: host,
          name: `${host}/${repo}`,
          path: repo,
          tag: t === '' ? 'latest' : t,
          ...(t === '' ? {} : { givenTag: t }),
        },
      });
    }),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (text) => void parseImageRef(text)),
    { numRuns: 2000 },
  );
  // Adversarial shapes for a backtracking engine: long runs that fail only at the very end.
  const started = performance.now();
  for (const text of [
    'a-'.repeat(5000) + '!',
    `${'a'.repeat(10000)}-`,
    `${'a.'.repeat(5000)}/x`,
    `${'a'.repeat(5000)}:${'1'.repeat(5000)}x/y`,
  ])
    parseImageRef(text);
  assert.ok(performance.now() - started < 500, 'linear-time parsing');
});
