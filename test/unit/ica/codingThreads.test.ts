/**
 * Sparse coding split over threads (codingThreads.ts, helpers running the built
 * out/main/codingThread.js): the same codes and statistics as one thread, bit for bit, from
 * cold and warm starts; blocks a helper fails, dies on or hangs on are coded by the caller;
 * a script that does not load costs no wait; small batches and a single thread stay on the
 * caller.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { Random } from '../../../src/shared/random';
import {
  codingThreadsReady,
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
  it('gives the codes and statistics of one thread, from cold and warm starts', async () => {
    const { problem: coding, correlations } = problem(1);
    const alone = new Float64Array(N * M);
    const aloneStats = codeRows(coding, correlations, N, alone, OPTIONS);

    useCodingThreads(SCRIPT);
    setComputeThreads(3);
    expect(await codingThreadsReady()).toBe(2);
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

  /** A helper script that says it listens, then does `onJob` with every block. */
  function helperScript(name: string, onJob: string): string {
    const path = join(folder, name);
    writeFileSync(
      path,
      `const { parentPort, workerData } = require('node:worker_threads');
const control = new Int32Array(workerData.control);
parentPort.on('message', () => { ${onJob} });
Atomics.store(control, 1, 1);
parentPort.postMessage('ready');
`,
    );
    return path;
  }

  /** Codes problem `seed` split over a helper running `script`; expects one thread's codes. */
  async function codesDespite(script: string, seed: number, stallLimitMs?: number) {
    const { problem: coding, correlations } = problem(seed);
    const alone = new Float64Array(N * M);
    const aloneStats = codeRows(coding, correlations, N, alone, OPTIONS);
    useCodingThreads(script, { stallLimitMs });
    setComputeThreads(2);
    expect(await codingThreadsReady()).toBe(1);
    const split = new Float64Array(N * M);
    const started = performance.now();
    expect(sparseCode(coding, correlations, N, split, OPTIONS)).toEqual(aloneStats);
    expect(split).toEqual(alone);
    return performance.now() - started;
  }

  it('codes a block itself when its helper fails it', async () => {
    await codesDespite(
      helperScript('failing.js', 'Atomics.store(control, 0, 3); Atomics.notify(control, 0);'),
      2,
    );
  });

  it('codes a block itself when its helper dies, and replaces that helper', async () => {
    // The real helper, with a listener ahead of its own that ends the thread on every block:
    // the helper's exit handler must fail the block in hand.
    const dying = join(folder, 'dying.js');
    writeFileSync(
      dying,
      `require('node:worker_threads').parentPort.on('message', () => process.exit(1));
require(${JSON.stringify(SCRIPT)});
`,
    );
    // At once, not after the watchdog's minute.
    expect(await codesDespite(dying, 4)).toBeLessThan(5_000);
    const before = splitCodingCount();
    const { problem: coding, correlations } = problem(5);
    sparseCode(coding, correlations, N, new Float64Array(N * M), OPTIONS);
    expect(splitCodingCount()).toBe(before);
    // That batch started a replacement, which listens for the next.
    expect(await codingThreadsReady()).toBe(1);
  });

  it('ends a helper that stops coding rows and codes its block itself', async () => {
    const milliseconds = await codesDespite(helperScript('hanging.js', 'for (;;) {}'), 6, 2_000);
    expect(milliseconds).toBeGreaterThan(1_900);
  });

  it('starts without waiting when the script does not load', async () => {
    const broken = join(folder, 'broken.js');
    writeFileSync(broken, "throw new Error('a broken build');\n");
    useCodingThreads(broken);
    setComputeThreads(2);
    const started = performance.now();
    const { problem: coding, correlations } = problem(7);
    const before = splitCodingCount();
    sparseCode(coding, correlations, N, new Float64Array(N * M), OPTIONS);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(await codingThreadsReady()).toBe(0);
    sparseCode(coding, correlations, N, new Float64Array(N * M), OPTIONS);
    expect(splitCodingCount()).toBe(before);
  });

  it('keeps small batches and a single thread on the caller', async () => {
    const { problem: coding, correlations } = problem(3);
    useCodingThreads(SCRIPT);
    setComputeThreads(2);
    expect(await codingThreadsReady()).toBe(1);
    const before = splitCodingCount();
    sparseCode(coding, correlations, MIN_SPLIT_ROWS - 1, new Float64Array(N * M), OPTIONS);
    setComputeThreads(1);
    sparseCode(coding, correlations, N, new Float64Array(N * M), OPTIONS);
    expect(splitCodingCount()).toBe(before);
  });
});
