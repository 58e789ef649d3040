import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseImageRef } from '../lib/image-ref.ts';
import { settingsFromText as settings } from '../lib/settings.ts';
import {
  bootkitWarnings,
  isSameWorker,
  registryAuthFor,
  workerContainer,
  workerEnv,
  workerImage,
} from './config.ts';

test('tink_worker_image wins over docker_registry; docker_registry gives the default image', () => {
  assert.equal(
    workerImage(settings('docker_registry=r.lan:5000 tink_worker_image=q.io/t/agent:v1')),
    'q.io/t/agent:v1',
  );
  assert.equal(workerImage(settings('docker_registry=r.lan:5000')), 'r.lan:5000/tink-worker:latest');
  assert.equal(workerImage(settings('worker_id=x')), undefined);
});

test('docker_registry is path-joined as Hook does: host:5000/ gives host:5000/tink-worker:latest', () => {
  assert.equal(workerImage(settings('docker_registry=host:5000/')), 'host:5000/tink-worker:latest');
  assert.equal(workerImage(settings('docker_registry=host:5000//ns/')), 'host:5000/ns/tink-worker:latest');
  assert.deepEqual(workerEnv(settings('docker_registry=host:5000/'))[0], 'DOCKER_REGISTRY=host:5000');
  const s = settings('docker_registry=host:5000/ registry_username=u registry_password=p');
  assert.equal(registryAuthFor('host:5000/tink-worker:latest', s)?.serveraddress, 'host:5000');
});

test("quotes around tink_worker_image are the kernel's, not part of the reference; an invalid one is ignored", () => {
  assert.equal(workerImage(settings('tink_worker_image="quay.io/t/agent:v1"')), 'quay.io/t/agent:v1');
  const bad = settings('tink_worker_image=Quay.io/T/Agent docker_registry=r.lan:5000');
  assert.equal(workerImage(bad), 'r.lan:5000/tink-worker:latest');
  assert.match(
    bootkitWarnings(bad)[0] ?? '',
    /^tink_worker_image=.*lower-case.*; ignored \(the worker image comes from docker_registry/,
  );
});

test('grpc_authority is passed through unchanged; an invalid one becomes empty with a warning', () => {
  assert.ok(workerEnv(settings('grpc_authority=tink.lan')).includes('TINKERBELL_GRPC_AUTHORITY=tink.lan'));
  assert.ok(
    workerEnv(settings('grpc_authority=10.0.2.2:42113')).includes('TINKERBELL_GRPC_AUTHORITY=10.0.2.2:42113'),
  );
  const bad = settings('grpc_authority=[::1');
  assert.ok(workerEnv(bad).includes('TINKERBELL_GRPC_AUTHORITY='));
  assert.match(
    bootkitWarnings(bad)[0] ?? '',
    /^grpc_authority="\[::1": .*; the worker gets an empty TINKERBELL_GRPC_AUTHORITY$/,
  );
});

test('credentials go only to the registry equal to docker_registry', () => {
  const s = settings('docker_registry=r.lan:5000 registry_username=u registry_password=p');
  assert.deepEqual(registryAuthFor('r.lan:5000/tink-worker:latest', s), {
    username: 'u',
    password: 'p',
    serveraddress: 'r.lan:5000',
  });
  assert.equal(registryAuthFor('r.lan/tink-worker:latest', s), undefined, 'port differs');
  assert.equal(registryAuthFor('quay.io/tinkerbell/tink-worker', s), undefined);
  assert.equal(registryAuthFor('tink-worker', s), undefined, 'bare name is docker.io');
  assert.equal(registryAuthFor('r.lan:5000x/tink-worker', s), undefined);
  const hub = settings('docker_registry=docker.io registry_username=u registry_password=p');
  assert.notEqual(
    registryAuthFor('tinkerbell/tink-worker', hub),
    undefined,
    'bare name belongs to docker.io',
  );
  const anonymous = settings('docker_registry=r.lan:5000');
  assert.equal(registryAuthFor('r.lan:5000/tink-worker', anonymous), undefined);
});

test('the worker environment always has all eleven keys, empty ones as KEY=', () => {
  assert.deepEqual(workerEnv(settings('')), [
    'DOCKER_REGISTRY=',
    'REGISTRY_USERNAME=',
    'REGISTRY_PASSWORD=',
    'TINKERBELL_GRPC_AUTHORITY=',
    'TINKERBELL_TLS=',
    'TINKERBELL_INSECURE_TLS=',
    'WORKER_ID=',
    'ID=',
    'HTTP_PROXY=',
    'HTTPS_PROXY=',
    'NO_PROXY=',
  ]);
  const full = settings(
    'docker_registry=r:5000 registry_username=u registry_password=p=w grpc_authority=t.lan tinkerbell_tls=true ' +
      'tinkerbell_insecure_tls=false worker_id=52:54:00:00:00:01 HTTP_PROXY=http://p:1 HTTPS_PROXY=http://p:2 NO_PROXY=.lan',
  );
  assert.deepEqual(workerEnv(full), [
    'DOCKER_REGISTRY=r:5000',
    'REGISTRY_USERNAME=u',
    'REGISTRY_PASSWORD=p=w',
    'TINKERBELL_GRPC_AUTHORITY=t.lan',
    'TINKERBELL_TLS=true',
    'TINKERBELL_INSECURE_TLS=false',
    'WORKER_ID=52:54:00:00:00:01',
    'ID=52:54:00:00:00:01',
    'HTTP_PROXY=http://p:1',
    'HTTPS_PROXY=http://p:2',
    'NO_PROXY=.lan',
  ]);
});

test('the worker container is privileged, on the host network and PID namespace, with the four binds', () => {
  const body = workerContainer('r:5000/tink-worker:latest', settings('docker_registry=r:5000'));
  assert.equal(body.Image, 'r:5000/tink-worker:latest');
  assert.deepEqual(body.HostConfig, {
    NetworkMode: 'host',
    Privileged: true,
    Binds: ['/worker:/worker', '/var/run/docker.sock:/var/run/docker.sock', '/dev:/dev', '/run:/run'],
    PidMode: 'host',
  });
});

test('a running worker with the same image and our environment is adopted', () => {
  const wanted = workerContainer('r:5000/tw:latest', settings('docker_registry=r:5000 worker_id=a'));
  const env = ['PATH=/usr/bin', ...wanted.Env];
  assert.ok(isSameWorker({ Config: { Image: 'r:5000/tw:latest', Env: env } }, wanted));
  assert.ok(!isSameWorker({ Config: { Image: 'r:5000/tw:v2', Env: env } }, wanted));
  assert.ok(!isSameWorker({ Config: { Image: 'r:5000/tw:latest', Env: env.slice(0, -1) } }, wanted));
  assert.ok(!isSameWorker({ Config: { Image: 'r:5000/tw:latest', Env: null } }, wanted));
});

test('property: the worker decisions never throw, and the image they pick is always a valid reference', () => {
  const keys = [
    'tink_worker_image',
    'docker_registry',
    'registry_username',
    'registry_password',
    'grpc_authority',
  ];
  const value = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom('r.lan:5000/', 'Quay.io/x', '"q.io/x:v1"', '[::1', 'docker.io', '../..', '.'),
  );
  const pair = fc.tuple(fc.constantFrom(...keys), value).map(([k, v]) => `${k}=${v}`);
  fc.assert(
    fc.property(fc.array(pair, { maxLength: 6 }), (pairs) => {
      const s = settings(pairs.join(' '));
      const image = workerImage(s);
      if (image === undefined) return;
      assert.ok(parseImageRef(image).ok, image);
      registryAuthFor(image, s);
      assert.equal(workerContainer(image, s).Env.length, 11);
    }),
    { numRuns: 3000 },
  );
});
