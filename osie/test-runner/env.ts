/** What osie/test-runner/run.ts tells the test files it runs on qjs. */
import { getenv } from '../lib/platform/process.ts';

/** The repository's root folder. */
export function repoRoot(): string {
  const root = getenv('HOOK_TEST_REPO');
  if (root === undefined)
    throw new Error('HOOK_TEST_REPO is not set: run the osie tests through osie/test-runner');
  return root;
}
