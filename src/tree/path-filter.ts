/** Include/exclude path globs on image paths (`usr/share/doc/**`), as the spec writes them. */
import picomatch from 'picomatch';
import type { TreePath } from './tree.ts';

export type PathPredicate = (path: TreePath) => boolean;

const GLOB_OPTIONS = { dot: true } as const;

export function globMatcher(globs: readonly string[]): PathPredicate {
  if (globs.length === 0) return () => false;
  const matchers = globs.map((glob) => picomatch(stripSlash(glob), GLOB_OPTIONS));
  return (path) => matchers.some((match) => match(path));
}

function stripSlash(glob: string): string {
  return glob.replace(/^\/+/, '');
}

/**
 * Keeps a path when it matches `include` (if any include globs are given) and no `exclude`
 * glob. Directories are always kept unless excluded: they are needed as parents.
 */
export function pathFilter(include: readonly string[], exclude: readonly string[]) {
  const included = include.length === 0 ? () => true : globMatcher(include);
  const excluded = globMatcher(exclude);
  return (path: TreePath, isDir: boolean): boolean => {
    if (excluded(path)) return false;
    return isDir || included(path);
  };
}
