/**
 * The firmware image for the tests: the asconfig.json target 'firmware'
 * (firmware/main.ts) built by `kmemlab build`'s API into build/firmware.elf,
 * once per test run (the build is cached by content hash, so an unchanged
 * tree is not rebuilt).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImages } from '../../toolchain/build.js';

const ROOT = join(__dirname, '../..');

export interface FirmwareImage {
  elf: Uint8Array;
  /** build/firmware.elf, for tools that want a path (the CLI, QEMU). */
  path: string;
}

let cached: Promise<FirmwareImage> | undefined;

export function firmwareImage(): Promise<FirmwareImage> {
  cached ??= (async () => {
    const result = await buildImages({ root: ROOT, targets: ['firmware'] });
    const t = result.targets[0]!;
    if (!result.ok) throw new Error(`building the firmware failed:\n${t.errors.join('\n')}`);
    return { elf: readFileSync(t.elf), path: t.elf };
  })();
  return cached;
}
