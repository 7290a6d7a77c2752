/**
 * Import this first in an entry point that esbuild bundles (the generated
 * tests' worker, the toolchain benchmark): it hands the harness the code
 * under test from the bundle itself, so the harness does not bundle it again
 * (see loadBundle in harness.ts).
 */
import { Machine } from '../../../emulator/machine/machine.js';
import { readModule } from '../../../toolchain/wasm/reader.js';
import { translateModule } from '../../../toolchain/translate.js';
import { linkImage } from '../../../toolchain/link.js';

(globalThis as { __kmemlabDiffBundle?: unknown }).__kmemlabDiffBundle = { Machine, readModule, translateModule, linkImage };
