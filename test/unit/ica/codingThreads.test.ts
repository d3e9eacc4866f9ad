/**
 * Sparse coding split over threads (codingThreads.ts, helpers running the built
 * out/main/codingThread.js): the same codes and statistics as one thread, bit for bit, from
 * cold and warm starts; blocks a helper fails are coded by the caller; small batches and a
 * single thread stay on the caller.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { Random } from '../../../src/shared/random';
import {
  MIN_SPLIT_ROWS,
  splitCodingCount,
  stopCodingThreads,
  useCodingThreads,
} from '../../../src/worker/ica/codingThreads';
import { codeRows, type CodingOptions, sparseCode } from '../../../src/worker/ica/inference';
import { normaliseRows } from '../../../src/worker/ica/learning';
import { gramOfRows, multiplyTransposed } from '../../../src/worker/linalg/dense';
import { setComputeThreads } from '../../../src/worker/sae/threads';

const SCRIPT = resolve('out/main/codingThread.js');
const [N, M, L] = [300, 48, 24];
const OPTIONS: CodingOptions = { tolerance: 1e-6, maxSweeps: 1000, polish: true };

function problem(seed: number) {
  const random = new Random(seed);
  const dictionary = new Float64Array(M * L);
  for (let i = 0; i < dictionary.length; i++) dictionary[i] = random.gaussian();
  normaliseRows(dictionary, M, L);
  const rows = new Float64Array(N * L);
  for (let i = 0; i < rows.length; i++) rows[i] = random.laplacian(1);
  return {
    problem: { gram: gramOfRows(dictionary, M, L), features: M, alpha: 0.2 },
    correlations: multiplyTransposed(rows, N, dictionary, M, L),
  };
}

let folder: string;
beforeAll(() => {
  if (!existsSync(SCRIPT)) {
    throw new Error('out/main/codingThread.js is missing: run "npm run build" (npm test does it)');
  }
  folder = mkdtempSync(join(tmpdir(), 'basis-coding-'));
});
afterEach(async () => {
  useCodingThreads(undefined);
  await stopCodingThreads();
});
afterAll(() => {
  setComputeThreads(1);
  rmSync(folder, { recursive: true, force: true });
});

describe('sparse coding over threads', () => {
  it('gives the codes and statistics of one thread, from cold and warm starts', () => {
    const { problem: coding, correlations } = problem(1);
    const alone = new Float64Array(N * M);
    const aloneStats = codeRows(coding, correlations, N, alone, OPTIONS);

    useCodingThreads(SCRIPT);
    setComputeThreads(3);
    const before = splitCodingCount();
    const split = new Float64Array(N * M);
    const splitStats = sparseCode(coding, correlations, N, split, OPTIONS);
    expect(splitCodingCount()).toBe(before + 1);
    expect(split).toEqual(alone);
    expect(splitStats).toEqual(aloneStats);
    expect(aloneStats.polishedRows).toBeGreaterThan(N / 2);

    // Warm starts: the codes of a slightly different alpha, coded again at 0.2.
    const warm = new Float64Array(N * M);
    codeRows({ ...coding, alpha: 0.25 }, correlations, N, warm, OPTIONS);
    const warmAlone = warm.slice();
    codeRows(coding, correlations, N, warmAlone, OPTIONS);
    sparseCode(coding, correlations, N, warm, OPTIONS);
    expect(warm).toEqual(warmAlone);
  });

  it('codes a block itself when its helper fails it', () => {
    // A helper that says it is ready, then fails every block.
    const failing = join(folder, 'failing.js');
    writeFileSync(
      failing,
      `const { parentPort, workerData } = require('node:worker_threads');
const control = new Int32Array(workerData.control);
parentPort.on('message', () => { Atomics.store(control, 0, 3); Atomics.notify(control, 0); });
Atomics.store(control, 1, 1);
Atomics.notify(control, 1);
`,
    );
    const { problem: coding, correlations } = problem(2);
    const alone = new Float64Array(N * M);
    const aloneStats = codeRows(coding, correlations, N, alone, OPTIONS);
    useCodingThreads(failing);
    setComputeThreads(2);
    const split = new Float64Array(N * M);
    expect(sparseCode(coding, correlations, N, split, OPTIONS)).toEqual(aloneStats);
    expect(split).toEqual(alone);
  });

  it('keeps small batches and a single thread on the caller', () => {
    const { problem: coding, correlations } = problem(3);
    useCodingThreads(SCRIPT);
    setComputeThreads(2);
    const before = splitCodingCount();
    sparseCode(coding, correlations, MIN_SPLIT_ROWS - 1, new Float64Array(N * M), OPTIONS);
    setComputeThreads(1);
    sparseCode(coding, correlations, N, new Float64Array(N * M), OPTIONS);
    expect(splitCodingCount()).toBe(before);
  });
});
