/**
 * How the build tells what it is doing. The pipeline only knows this interface; the CLI
 * implements it for terminals and CI (src/cli/reporter.ts), tests use silentReporter.
 */
export interface Reporter {
  /** Starts a stage; returns a function that ends it with an optional summary. */
  stage(name: string): (summary?: string) => void;
  /** Transient progress within the current stage (shown on a TTY only). */
  progress(text: string): void;
  info(text: string): void;
  warn(text: string): void;
}

export const silentReporter: Reporter = {
  stage: () => () => {},
  progress: () => {},
  info: () => {},
  warn: () => {},
};
