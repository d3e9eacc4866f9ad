/**
 * The encoder product of the sae-step shape (1024 x 512 by 512 x 4096) on one thread and
 * split over the compute threads, interleaved, best of 10 each:
 *   npx vitest run --config bench/sae-vitest.config.ts sae-matmul
 */
import { test } from 'vitest';
import { Random } from '../src/shared/random';
import { initializeBackend } from '../src/worker/backend';
import { matMul, serialMatMul } from '../src/worker/sae/dense';
import { computeThreads, startComputeThreads } from '../src/worker/sae/threads';

test('split product against one thread', async () => {
  await initializeBackend();
  await startComputeThreads();
  const random = new Random(0);
  const a = Float32Array.from({ length: 1024 * 512 }, () => random.gaussian());
  const b = Float32Array.from({ length: 512 * 4096 }, () => random.gaussian());
  const best = { serial: Infinity, split: Infinity };
  for (let i = 0; i < 10; i++) {
    let started = performance.now();
    serialMatMul(a, 1024, 512, b, 4096);
    best.serial = Math.min(best.serial, performance.now() - started);
    started = performance.now();
    matMul(a, 1024, 512, b, 4096);
    best.split = Math.min(best.split, performance.now() - started);
  }
  console.log(
    `${computeThreads()} threads: one thread ${best.serial.toFixed(0)} ms, split ` +
      `${best.split.toFixed(0)} ms (best of 10)`,
  );
});
