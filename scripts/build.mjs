// Builds the CLI and the benchmark with esbuild (Node 20 cannot run TypeScript).
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
};

await build({
  ...common,
  stdin: { contents: "import { cliMain } from './cli/kmemlab.ts'; cliMain();", resolveDir: '.', sourcefile: 'main.ts', loader: 'ts' },
  outfile: 'dist/kmemlab.js',
  banner: { js: '#!/usr/bin/env node' },
});
chmodSync('dist/kmemlab.js', 0o755);

await build({ ...common, entryPoints: ['bench/bench.ts'], outfile: 'dist/bench.js' });
