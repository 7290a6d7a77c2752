/**
 * A scratch source tree for `kmemlab build --root`: the repository's
 * asconfig.json with the tests' minimal kernel and firmware (not the
 * repository's, which grow with the project), the toolchain, and the
 * kernel target's asc transform (KUNIT_* failure texts) with the packages
 * it imports, resolved from the root as in the repository.
 */
import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');

/** Fill the empty directory `root` with the minimal tree. */
export function makeScratchTree(root: string): void {
  cpSync(join(ROOT, 'asconfig.json'), join(root, 'asconfig.json'));
  for (const d of ['kernel', 'firmware']) {
    mkdirSync(join(root, d));
    cpSync(join(__dirname, 'programs', `${d}_min.ts`), join(root, d, 'main.ts'));
  }
  symlinkSync(join(ROOT, 'toolchain'), join(root, 'toolchain'));
  mkdirSync(join(root, 'kernel', 'test'));
  cpSync(join(ROOT, 'kernel', 'test', 'kunit_transform.mjs'), join(root, 'kernel', 'test', 'kunit_transform.mjs'));
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
}
