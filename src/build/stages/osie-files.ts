/** Places the Hook services (bundled from osie/) and their systemd units into the image. */
import { enableUnit } from '../../rootfs/systemd-units.ts';
import { fileNode, type Tree, treePath } from '../../tree/tree.ts';
import { bundleOsie, OSIE_ENABLED_UNITS } from '../osie-bundle.ts';

export async function addOsieServices(tree: Tree): Promise<void> {
  for (const [path, data] of await bundleOsie()) {
    const executable =
      path.endsWith('.js') || path.startsWith('usr/bin/') || path.includes('/system-generators/');
    tree.set(treePath(path), fileNode(data, executable ? 0o755 : 0o644));
  }
  for (const unit of OSIE_ENABLED_UNITS) enableUnit(tree, unit);
}
