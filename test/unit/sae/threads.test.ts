import { afterAll, expect, test } from 'vitest';
import { Random } from '../../../src/shared/random';
import { initializeBackend } from '../../../src/worker/backend';
import { matMul, matMulTransposedPlusBias, serialMatMul } from '../../../src/worker/sae/dense';
import { transpose } from '../../../src/worker/sae/transpose';
import {
  PARALLEL_MINIMUM_WORK,
  computeThreads,
  failedPartCount,
  parallelMatMul,
  runSplit,
  setComputeThreads,
  startComputeThreads,
  splitCount,
  stopComputeThreads,
} from '../../../src/worker/sae/threads';
import { sharedScratch } from '../../../src/worker/sae/scratch';

import { sameBits } from './helpers';

afterAll(async () => {
  await stopComputeThreads();
});

function randomMatrix(random: Random, length: number): Float32Array {
  return Float32Array.from({ length }, () => random.gaussian());
}

test('a product split over 2 and 3 threads equals the single-thread product bit for bit', async () => {
  await initializeBackend();
  const random = new Random(7);
  // Odd sizes, so the row blocks are uneven; large enough to be split.
  const rows = 301;
  const inner = 257;
  const columns = 263;
  expect(rows * inner * columns).toBeGreaterThan(PARALLEL_MINIMUM_WORK);
  const a = randomMatrix(random, rows * inner);
  const b = randomMatrix(random, inner * columns);
  const serial = serialMatMul(a, rows, inner, b, columns);

  const failedBefore = failedPartCount();
  for (const threads of [2, 3]) {
    setComputeThreads(threads);
    await startComputeThreads();
    expect(computeThreads()).toBe(threads);
    const splitBefore = splitCount();
    const parallel = matMul(a, rows, inner, b, columns);
    expect(splitCount()).toBe(splitBefore + 1);
    expect(parallel.length).toBe(rows * columns);
    expect(sameBits(parallel, serial)).toBe(true);
  }
  // With a bias added by the kernel: split equals one thread, and both are near product + bias.
  const bias = randomMatrix(random, columns);
  setComputeThreads(1);
  // The right operand given transposed, as the SAE encoder is held.
  const bT = transpose(b, inner, columns);
  const serialWithBias = matMulTransposedPlusBias(a, rows, inner, bT, columns, bias);
  setComputeThreads(2);
  const splitBefore = splitCount();
  const splitWithBias = matMulTransposedPlusBias(a, rows, inner, bT, columns, bias);
  expect(splitCount()).toBe(splitBefore + 1);
  expect(sameBits(splitWithBias, serialWithBias)).toBe(true);
  // Into a given array, shared (the threads write it) or not (copied in at the end).
  for (const into of [
    sharedScratch('test.product', rows * columns),
    new Float32Array(rows * columns),
  ]) {
    into.fill(Number.NaN);
    expect(matMulTransposedPlusBias(a, rows, inner, bT, columns, bias, into)).toBe(into);
    expect(sameBits(into, serialWithBias)).toBe(true);
  }
  const BIAS_TOLERANCE = 1e-4;
  for (let i = 0; i < rows * columns; i += 97) {
    expect(Math.abs(serialWithBias[i]! - (serial[i]! + bias[i % columns]!))).toBeLessThan(
      BIAS_TOLERANCE * (1 + Math.abs(serial[i]!)),
    );
  }
  // Repeated calls reuse the shared buffers and still agree (a smaller product after a larger).
  const smaller = matMul(a.subarray(0, 200 * inner), 200, inner, b, columns);
  expect(Array.from(smaller)).toEqual(Array.from(serial.subarray(0, 200 * columns)));
  // Every part ran where it was sent (a helper's failure would be hidden by the caller).
  expect(failedPartCount()).toBe(failedBefore);
  setComputeThreads(1);
});

test('a product of columns no multiple of 8 splits within the matrix at any share', async () => {
  await initializeBackend();
  setComputeThreads(2);
  await startComputeThreads();
  const random = new Random(13);
  const a = randomMatrix(random, 1024 * 1000);
  const wide = randomMatrix(random, 1000 * 2048);
  // A calling thread that is slow at its blocks pushes its share of products down; one that
  // is fast pushes it up: both ends of the share.
  for (const pause of [3, 0]) {
    const timed = (...args: Parameters<typeof serialMatMul>): Float32Array => {
      const started = performance.now();
      while (performance.now() - started < pause);
      return pause > 0 ? serialMatMul(...args) : new Float32Array(args[1] * args[4]);
    };
    for (let i = 0; i < 12; i++) parallelMatMul(a, 1024, 1000, wide, 2048, false, timed);
    for (const columns of [17, 23, 31, 55]) {
      const b = randomMatrix(random, 1000 * columns);
      const split = parallelMatMul(a, 1024, 1000, b, columns, false, serialMatMul);
      expect(split).not.toBeNull();
      expect(sameBits(split!, serialMatMul(a, 1024, 1000, b, columns))).toBe(true);
    }
  }
  await stopComputeThreads();
  setComputeThreads(1);
});

test('small products and a thread count of 1 stay on the calling thread with equal results', async () => {
  await initializeBackend();
  setComputeThreads(1);
  const random = new Random(3);
  const a = randomMatrix(random, 6 * 4);
  const b = randomMatrix(random, 4 * 5);
  const splitBefore = splitCount();
  expect(Array.from(matMul(a, 6, 4, b, 5))).toEqual(Array.from(serialMatMul(a, 6, 4, b, 5)));
  expect(splitCount()).toBe(splitBefore);
  expect(matMul(new Float32Array(0), 0, 4, b, 5).length).toBe(0);
});

test('a thread count that is not a positive integer is refused', () => {
  expect(() => setComputeThreads(0)).toThrow();
  expect(() => setComputeThreads(1.5)).toThrow();
});

/**
 * Adds `part + 1` to every value of its block of `target` (a shared array). With `attempts`,
 * the first run of any part but the first ends its thread instead (a dying helper).
 */
function fillBlock(
  part: number,
  from: number,
  to: number,
  target: Float32Array,
  attempts?: Int32Array,
) {
  if (attempts && Atomics.add(attempts, part, 1) === 0 && part > 0) process.exit(1);
  const first = Math.round(from * target.length);
  const end = Math.round(to * target.length);
  for (let i = first; i < end; i++) target[i] = target[i]! + part + 1;
}

test('a split kernel runs each part once, on helpers for parts after the first', async () => {
  setComputeThreads(2);
  await startComputeThreads();
  const target = sharedScratch('test.target', 1000);
  target.fill(0);
  const parts = runSplit(fillBlock, PARALLEL_MINIMUM_WORK, (part) => [
    part.index,
    part.from,
    part.to,
    target,
  ]);
  expect(parts).toBe(2);
  expect(target.subarray(0, 500).every((value) => value === 1)).toBe(true);
  expect(target.subarray(500).every((value) => value === 2)).toBe(true);

  // Too little work: one part, on the calling thread.
  target.fill(0);
  expect(runSplit(fillBlock, 10, (part) => [part.index, part.from, part.to, target])).toBe(1);
  expect(target.every((value) => value === 1)).toBe(true);
  setComputeThreads(1);
});

test('a part that updates in place throws when its helper dies, and is not run twice', async () => {
  setComputeThreads(2);
  await startComputeThreads();
  const target = sharedScratch('test.inPlace', 1000);
  target.fill(0);
  const attempts = new Int32Array(new SharedArrayBuffer(8));
  expect(() =>
    runSplit(
      fillBlock,
      PARALLEL_MINIMUM_WORK,
      (part) => [part.index, part.from, part.to, target, attempts],
      { rerunnable: false },
    ),
  ).toThrow(/compute thread failed part way .* cannot be redone: the run stops here/);
  // The caller's own part was done once; the failed part was not redone.
  expect(target.subarray(0, 500).every((value) => value === 1)).toBe(true);
  expect(Array.from(attempts)).toEqual([1, 1]);
  setComputeThreads(1);
});

test('a part whose helper dies runs here, and the helper is replaced', async () => {
  setComputeThreads(2);
  await startComputeThreads();
  const target = sharedScratch('test.dying', 1000);
  target.fill(0);
  const attempts = new Int32Array(new SharedArrayBuffer(8));
  const split = (withAttempts: Int32Array | undefined) =>
    runSplit(fillBlock, PARALLEL_MINIMUM_WORK, (part) => [
      part.index,
      part.from,
      part.to,
      target,
      withAttempts,
    ]);
  const started = performance.now();
  expect(split(attempts)).toBe(2);
  // At once: the dying helper fails its part on the way out (no 5-minute timeout).
  expect(performance.now() - started).toBeLessThan(10_000);
  expect(Array.from(attempts)).toEqual([1, 2]);
  expect(target.subarray(0, 500).every((value) => value === 1)).toBe(true);
  expect(target.subarray(500).every((value) => value === 2)).toBe(true);

  // The next split has a new helper.
  target.fill(0);
  expect(split(undefined)).toBe(2);
  expect(target.subarray(500).every((value) => value === 2)).toBe(true);
  setComputeThreads(1);
});
