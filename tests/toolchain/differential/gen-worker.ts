/**
 * Worker thread for generated.test.ts: runs seeds with gen-runner and posts
 * the results back. The test bundles this file with esbuild (vitest runs one
 * test file per CPU at most, and on two cores only one at a time; threads
 * let one file use every core).
 */
import { parentPort } from 'node:worker_threads';
import './bundle-inline.js';
import { runSeed, type RunOptions } from './gen-runner.js';

process.setSourceMapsEnabled(true);

parentPort!.on('message', (msg: { id: number; seed: number; opts: RunOptions }) => {
  try {
    parentPort!.postMessage({ id: msg.id, result: runSeed(msg.seed, msg.opts) });
  } catch (e) {
    parentPort!.postMessage({ id: msg.id, error: (e as Error).stack ?? String(e) });
  }
});
parentPort!.postMessage({ ready: true });
