/**
 * ICA's sparse coding split over CPU cores. Rows are coded independently, so a batch is cut
 * into blocks of rows: the calling thread codes the first block while helper threads
 * (worker_threads running the bundled codingThread.js) code the others with the same
 * solver, on copies of the correlations and warm starts in shared memory; the caller then
 * blocks on Atomics until they are done and copies their codes back. Every row gets the same
 * arithmetic whichever thread codes it, so codes are identical for every thread count
 * (tested).
 *
 * Helpers need the built script: `useCodingThreads(path)` names it and starts them (the
 * worker process names the one beside its own bundle); without it, or with one thread
 * (BASIS_THREADS=1, or `computeThreads()` of the SAE's threads.ts), everything runs on the
 * calling thread. Helpers start in the background and a batch uses only those already
 * listening, so a script that fails to load costs nothing but the split
 * (`codingThreadsReady()` starts them and waits). A helper that fails a block hands it back, and
 * the caller codes it; one that dies fails its block on the way out; one that stops
 * counting rows for a minute (killed outright, out of memory; a row takes milliseconds to
 * seconds) is ended and its block coded by the caller. Helpers that ended are replaced.
 */
import { Worker } from 'node:worker_threads';

import { computeThreads } from '../sae/threads';
import {
  CODING_STATE,
  CODING_STATS_BYTES,
  CONTROL,
  CONTROL_LENGTH,
  type CodingJob,
  mergeCodingStats,
  readCodingStats,
} from './codingJob';
import type { CodingOptions, CodingProblem, CodingStats } from './inference';

/** Batches below this many rows stay on the calling thread (a hand-off costs ~0.1 ms). */
export const MIN_SPLIT_ROWS = 32;
/** A helper that codes no row for this long is taken for dead (see useCodingThreads). */
const DEFAULT_STALL_LIMIT_MS = 60_000;
/** How often a waiting caller looks at a helper's row count. */
const WATCH_MS = 500;

interface Helper {
  worker: Worker;
  control: Int32Array;
  stats: SharedArrayBuffer;
  /** Resolves true once the helper listens, false if it ends first. */
  started: Promise<boolean>;
  /** Whether it has listened. */
  listened: boolean;
}

type CodeRows = (
  problem: CodingProblem,
  correlations: Float64Array,
  rows: number,
  codes: Float64Array,
  options: CodingOptions,
) => CodingStats;

let script: string | undefined;
let stallLimitMs = DEFAULT_STALL_LIMIT_MS;
let helpers: Helper[] = [];
let splits = 0;
const shared: Record<'gram' | 'correlations' | 'codes', Float64Array | undefined> = {
  gram: undefined,
  correlations: undefined,
  codes: undefined,
};

/**
 * Names the helpers' script (out/main/codingThread.js), or none to code on one thread. The
 * helpers start with the first batch large enough to split (which they are too late for).
 */
export function useCodingThreads(
  path: string | undefined,
  options: { stallLimitMs?: number } = {},
): void {
  stallLimitMs = options.stallLimitMs ?? DEFAULT_STALL_LIMIT_MS;
  if (path === script) return;
  void stopCodingThreads();
  script = path;
}

/** Starts the helpers the thread count asks for and resolves with how many listen. */
export async function codingThreadsReady(): Promise<number> {
  startHelpers(computeThreads() - 1);
  const started = await Promise.all(helpers.map((helper) => helper.started));
  return started.filter(Boolean).length;
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
    Atomics.store(helper.control, CONTROL.state, CODING_STATE.busy);
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
    const state = awaitHelper(helper);
    Atomics.store(helper.control, CONTROL.state, CODING_STATE.idle);
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

/** Starts helpers up to `count` (in the background); none without a script. */
function startHelpers(count: number): void {
  if (script === undefined) return;
  // A helper that listened and then ended is replaced; one that never listened (a script
  // that does not load) is not, or every batch would start another.
  helpers = helpers.filter(
    (helper) => !(helper.listened && Atomics.load(helper.control, CONTROL.ready) === -1),
  );
  while (helpers.length < count) helpers.push(startHelper(script));
}

/** The helpers a split may use now: started and listening; others are left out. */
function readyHelpers(count: number): Helper[] {
  startHelpers(count);
  return helpers
    .slice(0, count)
    .filter((helper) => Atomics.load(helper.control, CONTROL.ready) === 1);
}

/**
 * Blocks until the helper has finished its block; returns its final state. A helper whose
 * row count stands still for the stall limit is ended and its block reported failed.
 */
function awaitHelper(helper: Helper): number {
  const { control } = helper;
  let rows = Atomics.load(control, CONTROL.progress);
  let quietSince = performance.now();
  while (Atomics.wait(control, CONTROL.state, CODING_STATE.busy, WATCH_MS) === 'timed-out') {
    const now = Atomics.load(control, CONTROL.progress);
    if (now !== rows) {
      rows = now;
      quietSince = performance.now();
    } else if (performance.now() - quietSince > stallLimitMs) {
      retire(helper);
      return CODING_STATE.failed;
    }
  }
  return Atomics.load(control, CONTROL.state);
}

/**
 * Takes a helper out of use and ends it; the shared scratch it may still write into is
 * dropped, so the next split gets its own.
 */
function retire(helper: Helper): void {
  Atomics.store(helper.control, CONTROL.ready, -1);
  void helper.worker.terminate();
  shared.gram = shared.correlations = shared.codes = undefined;
}

function startHelper(path: string): Helper {
  const control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_LENGTH));
  const worker = new Worker(path, { workerData: { control: control.buffer } });
  worker.unref();
  const helper: Helper = {
    worker,
    control,
    stats: new SharedArrayBuffer(CODING_STATS_BYTES),
    started: new Promise<boolean>((resolve) => {
      worker.once('message', () => {
        helper.listened = true;
        resolve(true);
      });
      worker.once('error', () => resolve(false));
      worker.once('exit', () => resolve(false));
    }),
    listened: false,
  };
  // A helper that ends is never handed a block again.
  const ended = () => Atomics.store(control, CONTROL.ready, -1);
  worker.on('error', ended);
  worker.on('exit', ended);
  return helper;
}
