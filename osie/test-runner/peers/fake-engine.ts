/**
 * The test Docker engine (osie/bootkit/fake-docker-engine.ts, Node's HTTP server on a unix
 * socket) as a peer of the bootkit tests on qjs: they set it up and read what it recorded
 * through these calls.
 */
import {
  type FakeContainer,
  FakeDockerEngine,
  type StartBehavior,
} from '../../bootkit/fake-docker-engine.ts';
import { servePeer } from './rpc.ts';

let engine = new FakeDockerEngine();

await servePeer(
  {
    listen: (socketPath: string) => engine.listen(socketPath),
    close: () => engine.close(),
    /** A fresh engine with nothing recorded (the previous one is closed). */
    reset: async () => {
      await engine.close();
      engine = new FakeDockerEngine();
    },
    setPullable: (ref: string, auth: string | null) => {
      engine.pullable.set(ref, auth ?? undefined);
    },
    addLocalImage: (ref: string) => {
      engine.localImages.add(ref);
    },
    pushStartBehavior: (behavior: StartBehavior) => {
      engine.startBehaviors.push(behavior);
    },
    setContainer: (container: FakeContainer) => {
      engine.containers.set(container.name, container);
    },
    container: (name: string) => engine.containers.get(name) ?? null,
    crash: (name: string, exitCode: number, logs: string) => engine.crash(name, exitCode, logs),
    requests: () => engine.requests,
  },
  () => ({}),
);
