import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactSecrets } from '../errors.ts';
import { basicAuthorization, parseChallenge } from './auth.ts';

describe('parseChallenge', () => {
  it('reads a Docker Hub style Bearer challenge', () => {
    assert.deepEqual(
      parseChallenge(
        'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"',
      ),
      {
        scheme: 'bearer',
        realm: 'https://auth.example/token',
        service: 'registry.example',
        scope: 'repository:a/b:pull,push',
      },
    );
  });
  it('reads Basic, unquoted values, escapes and scheme case', () => {
    assert.deepEqual(parseChallenge('Basic realm="hook-test"'), { scheme: 'basic', realm: 'hook-test' });
    assert.deepEqual(parseChallenge('basic'), { scheme: 'basic' });
    assert.deepEqual(parseChallenge('BEARER realm=http://x/t, service="a \\"b\\""'), {
      scheme: 'bearer',
      realm: 'http://x/t',
      service: 'a "b"',
    });
  });
  it('ignores schemes it cannot answer and Bearer without realm', () => {
    assert.equal(parseChallenge('Negotiate abc'), undefined);
    assert.equal(parseChallenge('Bearer service="x"'), undefined);
    assert.equal(parseChallenge(''), undefined);
  });
});

describe('basicAuthorization', () => {
  it('encodes user:password and registers the encoding as a secret', () => {
    const header = basicAuthorization({ username: 'u', password: 'p4ss-word' });
    assert.equal(header, `Basic ${Buffer.from('u:p4ss-word').toString('base64')}`);
    assert.equal(redactSecrets(`sent ${header}`), 'sent Basic ***');
  });
});
