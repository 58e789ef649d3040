/** What the test Docker engine (fake-docker-engine.ts) records and holds, as the tests see it. */

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface FakeContainer {
  id: string;
  name: string;
  body: { Image: string; Env: string[] };
  running: boolean;
  exitCode: number;
  /** One line per log record: even lines are stdout, odd ones stderr (frames of the log stream). */
  logs: string;
  command?: string;
  /** Unix seconds. */
  created?: number;
  tty?: boolean;
}

/** What a container does when started: keep running, or exit at once with a code and logs. */
export type StartBehavior = 'run' | { exitCode: number; logs: string };
