/**
 * ICA's sparse coding split over CPU cores. Rows are coded independently, so a batch is cut
 * into blocks of rows: the calling thread codes the first block while helper threads
 * (worker_threads running the bundled codingThread.js) code the others with the same
 * solver, on copies of the correlations and warm starts in shared memory; the caller then
 * blocks on Atomics until they are done and copies their codes back. Every row gets the same
 * arithmetic whichever thread codes it, so codes are identical for every thread count
 * (tested).
 *
 * Helpers need the built script: `useCodingThreads(path)` names it (the worker process
 * names the one beside its own bundle); without it, or with one thread (BASIS_THREADS=1,
 * or `computeThreads()` of the SAE's threads.ts), everything runs on the calling thread. A
 * helper that fails a block hands it back, and the caller codes it.
 */
import { Worker } from 'node:worker_threads';

import { computeThreads } from '../sae/threads';
import {
  CODING_STATE,
  CODING_STATS_BYTES,
  type CodingJob,
  mergeCodingStats,
  readCodingStats,
} from './codingJob';
import type { CodingOptions, CodingProblem, CodingStats } from './inference';

/** Batches below this many rows stay on the calling thread (a hand-off costs ~0.1 ms). */
export const MIN_SPLIT_ROWS = 32;
/** How long a split waits for a starting helper before coding on its own. */
const START_TIMEOUT_MS = 20_000;

interface Helper {
  worker: Worker;
  control: Int32Array;
  stats: SharedArrayBuffer;
}

type CodeRows = (
  problem: CodingProblem,
  correlations: Float64Array,
  rows: number,
  codes: Float64Array,
  options: CodingOptions,
) => CodingStats;

let script: string | undefined;
let helpers: Helper[] = [];
let splits = 0;
const shared: Record<'gram' | 'correlations' | 'codes', Float64Array | undefined> = {
  gram: undefined,
  correlations: undefined,
  codes: undefined,
};

/** Names the helpers' script (out/main/codingThread.js), or none to code on one thread. */
export function useCodingThreads(path: string | undefined): void {
  if (path === script) return;
  void stopCodingThreads();
  script = path;
}

/** Ends the helper threads (they are unreferenced, so a process may also just exit). */
export async function stopCodingThreads(): Promise<void> {
  const ending = helpers;
  helpers = [];
  await Promise.all(ending.map((helper) => helper.worker.terminate()));
}

/** How many batches have been split over threads in this process (for tests and benches). */
export function splitCodingCount(): number {
  return splits;
}

/**
 * Codes the rows over the calling thread and the ready helpers, each block with
 * `codeRows`; null when the batch is too small or no helper is ready (the caller then codes
 * it whole).
 */
export function splitCoding(
  problem: CodingProblem,
  correlations: Float64Array,
  rows: number,
  codes: Float64Array,
  options: CodingOptions,
  codeRows: CodeRows,
): CodingStats | null {
  const threads = computeThreads();
  if (script === undefined || threads < 2 || rows < MIN_SPLIT_ROWS) return null;
  const ready = readyHelpers(threads - 1);
  if (ready.length === 0) return null;
  const m = problem.features;
  const parts = ready.length + 1;
  const bounds = Array.from({ length: parts + 1 }, (_, i) => Math.round((i * rows) / parts));

  const gram = sharedFloats('gram', m * m);
  gram.set(problem.gram.subarray(0, m * m));
  const helperValues = (rows - bounds[1]!) * m;
  const sharedCorrelations = sharedFloats('correlations', helperValues);
  const sharedCodes = sharedFloats('codes', helperValues);
  sharedCorrelations.set(correlations.subarray(bounds[1]! * m, rows * m));
  sharedCodes.set(codes.subarray(bounds[1]! * m, rows * m));

  const jobs = ready.map((helper, i): CodingJob => {
    const first = bounds[i + 1]!;
    const job: CodingJob = {
      gram: gram.buffer as SharedArrayBuffer,
      features: m,
      alpha: problem.alpha,
      correlations: sharedCorrelations.buffer as SharedArrayBuffer,
      codes: sharedCodes.buffer as SharedArrayBuffer,
      byteOffset: 8 * (first - bounds[1]!) * m,
      rows: bounds[i + 2]! - first,
      options,
      stats: helper.stats,
    };
    Atomics.store(helper.control, 0, CODING_STATE.busy);
    helper.worker.postMessage(job);
    return job;
  });

  const local = bounds[1]! * m;
  const stats = [
    codeRows(
      problem,
      correlations.subarray(0, local),
      bounds[1]!,
      codes.subarray(0, local),
      options,
    ),
  ];
  ready.forEach((helper, i) => {
    Atomics.wait(helper.control, 0, CODING_STATE.busy);
    const state = Atomics.load(helper.control, 0);
    Atomics.store(helper.control, 0, CODING_STATE.idle);
    const first = bounds[i + 1]!;
    const end = bounds[i + 2]!;
    const block = codes.subarray(first * m, end * m);
    if (state === CODING_STATE.done) {
      block.set(sharedCodes.subarray((first - bounds[1]!) * m, (end - bounds[1]!) * m));
      stats.push(readCodingStats(jobs[i]!));
    } else {
      // The helper failed: code its block here, from the warm start still in `codes`.
      stats.push(
        codeRows(problem, correlations.subarray(first * m, end * m), end - first, block, options),
      );
    }
  });
  splits++;
  return mergeCodingStats(stats);
}

/** Shared float64 scratch of `length` values, kept for reuse under `key`. */
function sharedFloats(key: keyof typeof shared, length: number): Float64Array {
  let held = shared[key];
  if (held === undefined || held.length < length) {
    held = new Float64Array(new SharedArrayBuffer(8 * Math.ceil(length * 1.25)));
    shared[key] = held;
  }
  return held.subarray(0, length);
}

/** The helpers a split may use: started ones are waited for once; failed ones are left out. */
function readyHelpers(count: number): Helper[] {
  while (helpers.length < count) helpers.push(startHelper(script!));
  return helpers.slice(0, count).filter((helper) => {
    Atomics.wait(helper.control, 1, 0, START_TIMEOUT_MS);
    return Atomics.load(helper.control, 1) === 1;
  });
}

function startHelper(path: string): Helper {
  const control = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(path, { workerData: { control: control.buffer } });
  worker.unref();
  worker.on('error', () => {
    // Splits stop waiting for a helper that failed to start, and leave it out.
    Atomics.store(control, 1, -1);
    Atomics.notify(control, 1);
  });
  return { worker, control, stats: new SharedArrayBuffer(CODING_STATS_BYTES) };
}
