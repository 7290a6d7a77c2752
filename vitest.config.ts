import { defineConfig } from 'vitest/config';

// Unit and guest tests: everything under tests/ except the interop suite,
// which needs Debian packages (.ci/run installs them) and runs separately.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    exclude: ['tests/interop/**', 'node_modules/**'],
    testTimeout: 120_000,
  },
});
