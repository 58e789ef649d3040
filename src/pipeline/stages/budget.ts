/**
 * The size budget: the OS lives in RAM, so the build fails when its files add up to more than
 * the spec's `sizeBudget`, naming the largest packages.
 */
import { HookError } from '../../errors.ts';
import type { Ownership } from '../../rootfs/install.ts';
import type { Tree } from '../../tree/tree.ts';
import { formatSize } from '../../util/size.ts';
import type { BuildContext } from '../context.ts';

/** `imageBytes`: what the embedded images add (their files live in RAM as well). */
export function checkBudget(ctx: BuildContext, tree: Tree, ownership: Ownership, imageBytes = 0): void {
  const uncompressed = tree.contentBytes() + imageBytes;
  if (uncompressed <= ctx.spec.sizeBudget) return;
  const images = imageBytes > 0 ? `, ${formatSize(imageBytes)} of them embedded images` : '';
  throw new HookError(
    'E_BUDGET',
    `The OS holds ${formatSize(uncompressed)} of files${images}, over the size budget of ${formatSize(ctx.spec.sizeBudget)}`,
    {
      hint: `Largest packages: ${largestPackages(tree, ownership, 8)}. Exclude what is not needed (packages, exclude globs, images) or raise sizeBudget.`,
    },
  );
}

function largestPackages(tree: Tree, ownership: Ownership, count: number): string {
  const bytes = new Map<string, number>();
  for (const [path, node] of tree.entries()) {
    if (node.kind !== 'file') continue;
    const owner = ownership.get(path) ?? '(generated)';
    bytes.set(owner, (bytes.get(owner) ?? 0) + node.content.data.byteLength);
  }
  return [...bytes.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, size]) => `${name} ${formatSize(size)}`)
    .join(', ');
}
