/**
 * Work split across CPU cores. tensorflow.js on WebAssembly runs one thread in Node, so large
 * products are split by columns of the right operand: the calling thread computes the first
 * block with its own backend while helper threads (worker_threads, each with its own
 * tfjs-wasm backend) compute the others. `runSplit` does the same for self-contained
 * JavaScript kernels. Operands travel through SharedArrayBuffers; the caller blocks on
 * Atomics until every helper is done, so a product stays a synchronous call. A part a
 * helper fails is computed by the caller: a helper that dies fails its part on the way out
 * (and is replaced for the next product), one busy for HELPER_TIMEOUT_MS is ended.
 *
 * Every output element is computed by the same kernel over the same inner dimension in the
 * same order whichever thread computes it, so results are identical for every thread count
 * (tested).
 *
 * Thread count: `setComputeThreads(n)`, else the environment variable BASIS_THREADS, else
 * os.availableParallelism() on machines with at least MINIMUM_CORES_TO_SPLIT cores, else 1.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import { MessageChannel, Worker } from 'node:worker_threads';
import { assert } from '../../shared/errors';

/**
 * From this many cores up the default is every core. On the idle 2-core benchmark machine
 * two threads made a TopK step 1.2-1.3x faster (302 -> 233 ms, docs/benchmarks.md), and
 * PyTorch's default step there keeps both cores busy too. (With the machine shared and
 * loaded, two threads were no faster than one; BASIS_THREADS=1 restores one thread.)
 */
const MINIMUM_CORES_TO_SPLIT = 2;

/** How long a product waits for a starting helper before computing on its own. */
const START_TIMEOUT_MS = 20_000;

/** A helper busy with one part for this long is taken for dead (parts take seconds at most). */
const HELPER_TIMEOUT_MS = 300_000;

/** Products below this many multiply-adds are not worth a thread hand-off (~0.2 ms). */
export const PARALLEL_MINIMUM_WORK = 1 << 24;

/** Slots of a helper's control array. */
const STATE = 0;
const READY = 1;
const IDLE = 0;
const BUSY = 1;
const DONE = 2;
const FAILED = 3;

interface Helper {
  worker: Worker;
  port: MessagePort;
  control: Int32Array;
  ready: Promise<void>;
}

let requestedThreads: number | undefined;
let helpers: Helper[] = [];
let shared: { a: Float32Array; b: Float32Array; out: Float32Array } | undefined;
let splitProducts = 0;
const scratch = new Map<string, Float32Array>();

/** How many products have been split over threads in this process (for tests and benches). */
export function splitProductCount(): number {
  return splitProducts;
}

/** Sets the number of threads dense products may use (1: the calling thread only). */
export function setComputeThreads(threads: number): void {
  assert(Number.isInteger(threads) && threads >= 1, () => `thread count ${threads}`);
  requestedThreads = threads;
}

/** The number of threads dense products use. */
export function computeThreads(): number {
  if (requestedThreads !== undefined) return requestedThreads;
  const fromEnvironment = Number(process.env.BASIS_THREADS);
  if (Number.isInteger(fromEnvironment) && fromEnvironment >= 1) return fromEnvironment;
  const cores = availableParallelism();
  return cores >= MINIMUM_CORES_TO_SPLIT ? cores : 1;
}

/** Starts the helper threads now, so the first product does not wait for them. */
export async function startComputeThreads(): Promise<void> {
  ensureHelpers(computeThreads() - 1);
  await Promise.all(helpers.map((helper) => helper.ready));
}

/** Ends the helper threads (they are unreferenced, so a process may also just exit). */
export async function stopComputeThreads(): Promise<void> {
  const ending = helpers;
  helpers = [];
  shared = undefined;
  scratch.clear();
  await Promise.all(ending.map((helper) => helper.worker.terminate()));
}

/**
 * `a (rows x inner) @ b (inner x columns) (+ bias)` split by columns of `b` over the ready helper
 * threads; `multiply` computes a block on the calling thread. Columns rather than rows,
 * because the WebAssembly backend repacks the whole right operand on every product: split by
 * rows, every thread would repack all of it. Returns null when the product is too small to
 * split or no helper is ready (the caller then computes it whole).
 */
export function parallelMatMul(
  a: Float32Array,
  rows: number,
  inner: number,
  b: Float32Array,
  columns: number,
  multiply: (
    a: Float32Array,
    rows: number,
    inner: number,
    b: Float32Array,
    columns: number,
    bias?: Float32Array,
  ) => Float32Array,
  bias?: Float32Array,
): Float32Array | null {
  const threads = computeThreads();
  if (threads < 2 || columns < 8 * threads || rows * inner * columns < PARALLEL_MINIMUM_WORK) {
    return null;
  }
  const ready = readyHelpers(threads);
  if (ready.length === 0) return null;

  // Blocks of columns (multiples of 8, the kernels' tile width): the calling thread takes the
  // first, each helper one of the rest.
  const parts = ready.length + 1;
  const bounds = Array.from({ length: parts + 1 }, (_, i) =>
    i === parts ? columns : 8 * Math.round((i * columns) / parts / 8),
  );
  const buffers = sharedBuffers(a.length, b.length, rows * columns);
  buffers.a.set(a);
  buffers.b.set(b);
  ready.forEach((helper, i) => {
    Atomics.store(helper.control, STATE, BUSY);
    helper.port.postMessage({
      kind: 'product',
      a: buffers.a.buffer,
      b: buffers.b.buffer,
      out: buffers.out.buffer,
      rows,
      inner,
      columns,
      bias: bias === undefined ? null : bias,
      firstColumn: bounds[i + 1]!,
      endColumn: bounds[i + 2]!,
    });
  });

  const out = new Float32Array(rows * columns);
  const localColumns = bounds[1]!;
  placeBlock(
    multiply(
      a,
      rows,
      inner,
      columnBlock(b, inner, columns, 0, localColumns),
      localColumns,
      bias?.subarray(0, localColumns),
    ),
    out,
    rows,
    columns,
    0,
    localColumns,
  );
  const failed = new Set(awaitHelpers(ready).map((index) => index + 1));
  for (let part = 1; part < parts; part++) {
    const first = bounds[part]!;
    const width = bounds[part + 1]! - first;
    // Each helper leaves its rows x width block contiguous at offset rows * first; a block
    // a helper failed is computed here.
    const block = failed.has(part)
      ? multiply(
          a,
          rows,
          inner,
          columnBlock(b, inner, columns, first, width),
          width,
          bias?.subarray(first, first + width),
        )
      : buffers.out.subarray(rows * first, rows * (first + width));
    placeBlock(block, out, rows, columns, first, width);
  }
  splitProducts++;
  return out;
}

/** Columns first .. first + width - 1 of a row-major rows x columns matrix, as rows x width. */
function columnBlock(
  matrix: Float32Array,
  rows: number,
  columns: number,
  first: number,
  width: number,
): Float32Array {
  const block = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    block.set(matrix.subarray(r * columns + first, r * columns + first + width), r * width);
  }
  return block;
}

/** Writes a rows x width block into columns first .. first + width - 1 of `out`. */
function placeBlock(
  block: Float32Array,
  out: Float32Array,
  rows: number,
  columns: number,
  first: number,
  width: number,
): void {
  for (let r = 0; r < rows; r++) {
    out.set(block.subarray(r * width, (r + 1) * width), r * columns + first);
  }
}

/**
 * Runs `kernel` once per part, part 0 on the calling thread and the others on helper threads,
 * and returns when all are done; `argumentsOf(part, parts)` gives each part's arguments. The
 * kernel must be self-contained (it is sent as source text: no imports, no outer variables)
 * and its typed-array arguments must be shared (`sharedScratch`) for helpers to see them and
 * for their writes to come back. Returns the number of parts (1 when nothing was split).
 */
export function runSplit(
  kernel: (...args: never[]) => void,
  work: number,
  argumentsOf: (part: number, parts: number) => unknown[],
): number {
  const threads = computeThreads();
  const ready = threads < 2 || work < PARALLEL_MINIMUM_WORK ? [] : readyHelpers(threads);
  const parts = ready.length + 1;
  const run = kernel as unknown as (...args: unknown[]) => void;
  if (parts === 1) {
    run(...argumentsOf(0, 1));
    return 1;
  }
  const source = kernel.toString();
  ready.forEach((helper, i) => {
    Atomics.store(helper.control, STATE, BUSY);
    helper.port.postMessage({
      kind: 'kernel',
      source,
      args: argumentsOf(i + 1, parts),
    });
  });
  run(...argumentsOf(0, parts));
  // A part a helper failed is run here.
  for (const index of awaitHelpers(ready)) run(...argumentsOf(index + 1, parts));
  return parts;
}

/** A typed array of `length` floats on shared memory, kept for reuse under `key`. */
export function sharedScratch(key: string, length: number): Float32Array {
  let held = scratch.get(key);
  if (held === undefined || held.length < length) {
    held = new Float32Array(new SharedArrayBuffer(Math.ceil(length * 1.25) * 4));
    scratch.set(key, held);
  }
  return held.subarray(0, length);
}

/** The helpers a split may use now: started ones are waited for once; failed ones are left out. */
function readyHelpers(threads: number): Helper[] {
  // Helpers that ended are replaced.
  helpers = helpers.filter((helper) => Atomics.load(helper.control, READY) !== -1);
  ensureHelpers(threads - 1);
  return helpers.slice(0, threads - 1).filter((helper) => {
    Atomics.wait(helper.control, READY, 0, START_TIMEOUT_MS);
    return Atomics.load(helper.control, READY) === 1;
  });
}

/**
 * Waits for the busy helpers; returns the indices of those that failed their part (the
 * caller computes it itself). A helper still busy after HELPER_TIMEOUT_MS is ended.
 */
function awaitHelpers(busy: Helper[]): number[] {
  const failed: number[] = [];
  busy.forEach((helper, index) => {
    if (Atomics.wait(helper.control, STATE, BUSY, HELPER_TIMEOUT_MS) === 'timed-out') {
      retire(helper);
    }
    if (Atomics.load(helper.control, STATE) !== DONE) failed.push(index);
    Atomics.store(helper.control, STATE, IDLE);
  });
  return failed;
}

/**
 * Ends a helper that stopped answering; the shared buffers it may still write into are
 * dropped, so later products get their own.
 */
function retire(helper: Helper): void {
  Atomics.store(helper.control, READY, -1);
  void helper.worker.terminate();
  shared = undefined;
  scratch.clear();
}

function sharedBuffers(
  aLength: number,
  bLength: number,
  outLength: number,
): { a: Float32Array; b: Float32Array; out: Float32Array } {
  const fits = (held: Float32Array | undefined, length: number): boolean =>
    held !== undefined && held.length >= length;
  const grow = (held: Float32Array | undefined, length: number): Float32Array =>
    fits(held, length)
      ? held!
      : new Float32Array(new SharedArrayBuffer(Math.ceil(length * 1.25) * 4));
  shared = {
    a: grow(shared?.a, aLength),
    b: grow(shared?.b, bLength),
    out: grow(shared?.out, outLength),
  };
  return {
    a: shared.a.subarray(0, aLength),
    b: shared.b.subarray(0, bLength),
    out: shared.out.subarray(0, outLength),
  };
}

function ensureHelpers(count: number): void {
  while (helpers.length < count) helpers.push(startHelper());
}

function startHelper(): Helper {
  const requireHere = nodeRequire();
  const wasmFolder =
    join(dirname(requireHere.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
  const control = new Int32Array(new SharedArrayBuffer(8));
  const channel = new MessageChannel();
  const worker = new Worker(HELPER_SOURCE, {
    eval: true,
    workerData: {
      tfjs: requireHere.resolve('@tensorflow/tfjs'),
      wasm: requireHere.resolve('@tensorflow/tfjs-backend-wasm'),
      wasmFolder,
      control: control.buffer,
      port: channel.port2,
    },
    transferList: [channel.port2],
  });
  worker.unref();
  const ready = new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', (error) => {
      // Products stop waiting for a helper that failed to start.
      Atomics.store(control, READY, -1);
      Atomics.notify(control, READY);
      reject(error);
    });
  });
  // A helper that never starts leaves products on the calling thread; nothing else waits on it.
  ready.catch(() => undefined);
  worker.on('exit', () => Atomics.store(control, READY, -1));
  return { worker, port: channel.port1, control, ready };
}

function nodeRequire(): NodeRequire {
  // CommonJS bundles have `require`; ES modules (vitest on sources) build one from their URL.
  return typeof require === 'function' ? require : createRequire(import.meta.url);
}

/**
 * The helper thread, plain CommonJS so that it runs the same from sources and from bundles:
 * it sets up its own tfjs-wasm backend, then waits for blocks of products on its port.
 */
const HELPER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const tf = require(workerData.tfjs);
const wasm = require(workerData.wasm);
const control = new Int32Array(workerData.control);
const port = workerData.port;
const kernels = new Map();
function runKernel(job) {
  let kernel = kernels.get(job.source);
  if (kernel === undefined) {
    kernel = (0, eval)('(' + job.source + ')');
    kernels.set(job.source, kernel);
  }
  kernel(...job.args);
}
function run(job) {
  if (job.kind === 'kernel') return runKernel(job);
  const width = job.endColumn - job.firstColumn;
  const a = new Float32Array(job.a, 0, job.rows * job.inner);
  const b = new Float32Array(job.b, 0, job.inner * job.columns);
  const block = new Float32Array(job.inner * width);
  for (let r = 0; r < job.inner; r++) {
    block.set(b.subarray(r * job.columns + job.firstColumn, r * job.columns + job.endColumn), r * width);
  }
  const product = tf.tidy(() => {
    const left = tf.tensor2d(a, [job.rows, job.inner]);
    const right = tf.tensor2d(block, [job.inner, width]);
    if (job.bias === null) return tf.matMul(left, right);
    const bias = tf.tensor1d(job.bias.slice(job.firstColumn, job.endColumn));
    return tf.fused.matMul({ a: left, b: right, bias });
  });
  new Float32Array(job.out, job.rows * job.firstColumn * 4, job.rows * width).set(product.dataSync());
  product.dispose();
}
port.on('message', (job) => {
  try {
    run(job);
    Atomics.store(control, ${STATE}, ${DONE});
  } catch (error) {
    Atomics.store(control, ${STATE}, ${FAILED});
  }
  Atomics.notify(control, ${STATE});
});
// A helper on its way out fails the job in hand, so that a caller blocked on it wakes.
process.on('exit', () => {
  Atomics.store(control, ${READY}, -1);
  if (Atomics.load(control, ${STATE}) === ${BUSY}) {
    Atomics.store(control, ${STATE}, ${FAILED});
    Atomics.notify(control, ${STATE});
  }
});
wasm.setWasmPaths(workerData.wasmFolder);
tf.setBackend('wasm').then(() => tf.ready()).then(() => {
  Atomics.store(control, ${READY}, 1);
  Atomics.notify(control, ${READY});
  parentPort.postMessage('ready');
});
`;
