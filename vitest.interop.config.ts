import { defineConfig } from 'vitest/config';

// Interop tests: real programs nobody here wrote (OpenSBI, QEMU, dtc, objdump).
export default defineConfig({
  test: {
    include: ['tests/interop/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
