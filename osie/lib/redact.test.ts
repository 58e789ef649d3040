import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CREDENTIAL_KEYS, credentialValues, MASK, MIN_SUBSTRING_SECRET, Redactor } from './redact.ts';

const redactorFor = (...secrets: string[]) => {
  const redactor = new Redactor();
  for (const secret of secrets) redactor.add(secret);
  return redactor;
};

test('the kernel command line line loses the password, whatever its length, even unregistered', () => {
  const kernel = (password: string) =>
    `Kernel command line: console=ttyS1,115200 docker_registry=10.0.2.2:5000 registry_username=admin registry_password=${password} worker_id=52:54:00:12:34:56`;
  for (const password of ['a', 'pw', 'hunter2', 'p=w:x@y/z', 'a'.repeat(300)]) {
    for (const redactor of [new Redactor(), redactorFor(password)]) {
      const out = redactor.redact(kernel(password));
      assert.equal(
        out,
        'Kernel command line: console=ttyS1,115200 docker_registry=10.0.2.2:5000 registry_username=admin registry_password=*** worker_id=52:54:00:12:34:56',
      );
    }
  }
});

test('the key=value token is masked in the kernel, quoted, environment and JSON spellings', () => {
  const r = new Redactor();
  assert.equal(r.redact('registry_password="a b c" next=1'), 'registry_password=*** next=1');
  assert.equal(r.redact('x REGISTRY_PASSWORD=s3cr3t y'), 'x REGISTRY_PASSWORD=*** y');
  assert.equal(
    r.redact('"Env":["REGISTRY_PASSWORD=s3 cr","ID=x"]'),
    '"Env":["REGISTRY_PASSWORD=***","ID=x"]',
    'the value ends at the closing quote of the list item',
  );
  assert.equal(r.redact('{"registry_password": "a\\"b", "x": 1}'), '{"registry_password": "***", "x": 1}');
  assert.equal(r.redact("'registry_password=q'"), "'registry_password=***'");
  assert.equal(r.redact('my_registry_password=abc'), 'my_registry_password=abc', 'another key is not ours');
  assert.equal(r.redact('registry_password= x'), 'registry_password= x', 'an empty value shows nothing');
});

test('URL userinfo passwords are masked, the user name kept', () => {
  assert.equal(
    new Redactor().redact('HTTPS_PROXY=http://proxyuser:pr0xy@10.0.0.1:3128 go'),
    'HTTPS_PROXY=http://***@10.0.0.1:3128 go',
  );
});

test('a 1-character password is masked as a whole token only, never inside words', () => {
  const r = redactorFor('a');
  assert.equal(
    r.redact('found a link: banana x-a-y a.out "a" msg=a user:a@host (a) a'),
    'found *** link: banana x-a-y a.out "***" msg=*** user:***@host (***) ***',
  );
  assert.equal(r.redact('nothing to see in this banana'), 'nothing to see in this banana');
});

test('short secrets with punctuation follow the same whole-token rule', () => {
  const r = redactorFor('-');
  assert.equal(r.redact('<30>1 - --help a-b - x'), '<30>1 *** --help a-b *** x');
  const at = redactorFor('p@');
  assert.equal(r.redact('p@'), 'p@', 'another redactor does not know it');
  assert.equal(at.redact('say p@ ok, xp@ no'), 'say *** ok, xp@ no');
});

test(`secrets of ${MIN_SUBSTRING_SECRET}+ characters are masked even inside words and in their escaped spellings`, () => {
  const r = redactorFor('hunter22', 'p"w\\d\u0001xyz');
  assert.equal(r.redact('x-hunter22-y abchunter22def'), 'x-***-y abc***def');
  assert.equal(r.redact(JSON.stringify({ password: 'p"w\\d\u0001xyz' })), '{"password":"***"}');
  assert.equal(r.redact(`http://u:${encodeURIComponent('p"w\\d\u0001xyz')}@h`), 'http://***@h');
});

test('credentialValues reads every occurrence of every credential key, and the trimmed spelling', () => {
  assert.deepEqual(CREDENTIAL_KEYS, ['registry_password']);
  assert.deepEqual(credentialValues('registry_password="a b" registry_username=u'), ['a b']);
  assert.deepEqual(credentialValues('registry_password=first x registry_password=second'), [
    'first',
    'second',
  ]);
  assert.deepEqual(credentialValues('registry_password="pw\n"'), ['pw\n', 'pw']);
  assert.deepEqual(credentialValues('registry_password registry_password='), []);
});

// Secrets without `*` (the mask's own character) and without whitespace (a kernel word).
const secretChar = fc.constantFrom(...'abcxyzAZ019_.-=:@/"\'\\%é'.split(''));
const secret = fc.string({ unit: secretChar, minLength: 1, maxLength: 12 });
const lineChar = fc.constantFrom(...'abcxyz AZ019_.-=:@/"\'\\%é\t,;()[]{}<>'.split(''));
const filler = fc.string({ unit: lineChar, maxLength: 30 });

test('property: a registered secret never survives as a whole token or in key=value; long ones never at all', () => {
  fc.assert(
    fc.property(secret, fc.array(fc.tuple(filler, fc.boolean()), { maxLength: 6 }), (value, parts) => {
      const r = redactorFor(value);
      const text = parts
        .map(([text, withKey]) => (withKey ? `${text} registry_password=${value} ` : `${text} ${value} `))
        .join('');
      const out = r.redact(text);
      assert.ok(!out.includes(`registry_password=${value}`) || value.startsWith('*'));
      if (value.length >= MIN_SUBSTRING_SECRET) assert.ok(!out.includes(value), out);
      for (const word of out.split(/\s+/)) assert.notEqual(word, value, out);
    }),
    { numRuns: 1000 },
  );
});

test('property: text without credential keys, URLs or the secret comes back unchanged', () => {
  fc.assert(
    fc.property(secret, filler, (value, text) => {
      fc.pre(!text.includes(value) && !/registry_password/i.test(text) && !text.includes('://'));
      assert.equal(redactorFor(value).redact(text), text);
    }),
    { numRuns: 1000 },
  );
});

test('property: a short secret inside longer words is left alone', () => {
  const word = fc.string({ unit: fc.constantFrom(...'abcxyz019'.split('')), minLength: 1, maxLength: 5 });
  fc.assert(
    fc.property(
      fc.string({ unit: fc.constantFrom('a', 'b', 'x'), minLength: 1, maxLength: 3 }),
      word,
      word,
      (value, left, right) => {
        const text = `${left}${value}${right} ${left}${value} ${value}${right}`;
        assert.equal(redactorFor(value).redact(text), text);
      },
    ),
    { numRuns: 300 },
  );
});

test('property: redact never throws and is idempotent', () => {
  fc.assert(
    fc.property(fc.array(secret, { maxLength: 3 }), fc.string({ maxLength: 200 }), (secrets, text) => {
      const r = redactorFor(...secrets);
      const once = r.redact(text);
      assert.equal(r.redact(once), once);
    }),
    { numRuns: 1000 },
  );
  assert.equal(MASK, '***');
});

test('keys are found under Unicode case folding, as the patterns match them (the quick pre-check must agree)', () => {
  const r = new Redactor();
  // U+017F (long s) folds to `s`, U+212A (Kelvin sign) to `k`: the `iu` patterns match them.
  assert.equal(r.redact('x REGISTRY_PAſſWORD=abc y'), 'x REGISTRY_PAſſWORD=*** y');
  assert.equal(r.redact('GET /v2/?to\u212Aen=abc&x=1'), 'GET /v2/?to\u212Aen=***&x=1');
  assert.equal(r.redact('Passwd=abc Access_Token=def'), 'Passwd=*** Access_Token=***');
  assert.equal(r.redact('proxy HTTP://u:p@host'), 'proxy HTTP://***@host');
});
