/**
 * Credentials from Docker's config.json: auths keys in every form `docker login` writes
 * (host, URL, Docker Hub's v1 index URL), username/password entries, helpers in the order
 * Docker asks them, and passwords registered as secrets.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDirSync } from '../../test/helpers/temp-dir.ts';
import { redactSecrets } from '../errors.ts';
import {
  credentialsFor,
  dockerConfigCredentials,
  dockerConfigPath,
  parseDockerConfig,
} from './docker-config.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');

test('auths: host, URL and Docker Hub keys; auth or username/password', async () => {
  const config = parseDockerConfig(
    JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pass') },
        'https://quay.io/v2/': { auth: b64('quayuser:quaypass') },
        '127.0.0.1:5000': { username: 'local', password: 'localpass' },
      },
    }),
    '/x/config.json',
  );
  assert.deepEqual(await credentialsFor(config, 'docker.io'), { username: 'hubuser', password: 'hub:pass' });
  assert.deepEqual(await credentialsFor(config, 'quay.io'), { username: 'quayuser', password: 'quaypass' });
  assert.deepEqual(await credentialsFor(config, '127.0.0.1:5000'), {
    username: 'local',
    password: 'localpass',
  });
  assert.equal(await credentialsFor(config, '127.0.0.1:5001'), undefined);
  assert.equal(await credentialsFor(config, 'ghcr.io'), undefined);
  assert.ok(!redactSecrets('x quaypass y').includes('quaypass'), 'a password found is a secret from then on');
});

test('helpers: credHelpers for the registry, then auths, then credsStore', async () => {
  const asked: string[] = [];
  const helper = async (name: string, server: string) => {
    asked.push(`${name} ${server}`);
    return name === 'none' ? undefined : { username: name, password: `${name}-secret` };
  };
  const config = parseDockerConfig(
    JSON.stringify({
      credsStore: 'desktop',
      credHelpers: { 'gcr.io': 'gcloud' },
      auths: { 'quay.io': { auth: b64('q:p') } },
    }),
    '/x/config.json',
  );
  assert.deepEqual(await credentialsFor(config, 'gcr.io', helper), {
    username: 'gcloud',
    password: 'gcloud-secret',
  });
  assert.deepEqual(await credentialsFor(config, 'quay.io', helper), { username: 'q', password: 'p' });
  assert.deepEqual(await credentialsFor(config, 'docker.io', helper), {
    username: 'desktop',
    password: 'desktop-secret',
  });
  assert.deepEqual(asked, ['gcloud gcr.io', 'desktop https://index.docker.io/v1/']);
});

test('a missing file is no credentials; a broken one or a malformed auth is E_OCI naming the file', async () => {
  const dir = tempDirSync('hook-docker-config-');
  assert.equal(await dockerConfigCredentials('quay.io', join(dir, 'none.json')), undefined);
  writeFileSync(join(dir, 'config.json'), '{ not json');
  await assert.rejects(dockerConfigCredentials('quay.io', join(dir, 'config.json')), (error: Error) => {
    assert.match(error.message, /^Cannot parse the Docker configuration .*config\.json: /);
    return true;
  });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { 'quay.io': { auth: b64('nocolon') } } }));
  await assert.rejects(
    dockerConfigCredentials('quay.io', join(dir, 'config.json')),
    /malformed "auth" for quay\.io/,
  );
  assert.equal(dockerConfigPath({ DOCKER_CONFIG: '/etc/dc' }), '/etc/dc/config.json');
});
