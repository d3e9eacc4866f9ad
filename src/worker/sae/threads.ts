/**
 * Work split across CPU cores. tensorflow.js on WebAssembly runs one thread in Node, so large
 * products are split by columns of the right operand: the calling thread computes the first
 * block with its own backend while helper threads (worker_threads, each with its own
 * tfjs-wasm backend) compute the others. `runSplit` does the same for self-contained
 * JavaScript kernels. Operands travel through SharedArrayBuffers; the caller blocks on
 * Atomics until every helper is done, so a product stays a synchronous call. The parts'
 * sizes follow the threads' measured speeds (balance.ts); the buffers they share are reused
 * across calls (scratch.ts). A part a helper fails is computed by the caller (work that
 * updates its inputs in place throws instead, SplitOptions.rerunnable): a helper that dies
 * fails its part on the way out (and is replaced for the next split), one busy for
 * HELPER_TIMEOUT_MS is ended.
 *
 * Every output element is computed by the same kernel over the same inner dimension in the
 * same order whichever thread computes it and however the work is cut, so results are
 * identical for every thread count (tested). A helper that never starts (a broken script,
 * too little memory) costs at most one wait of START_TIMEOUT_MS; no more are started in
 * that process.
 *
 * Thread count: `setComputeThreads(n)`, else the environment variable BASIS_THREADS, else
 * os.availableParallelism() on machines with at least MINIMUM_CORES_TO_SPLIT cores, else 1.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import { MessageChannel, Worker } from 'node:worker_threads';
import { BasisError, assert } from '../../shared/errors';
import { PRODUCT, forgetShares, partFractions, rebalance } from './balance';
import { clearScratch, onSharedMemory, sharedScratch } from './scratch';
import { transpose } from './transpose';

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

/** Slots of a helper's control array: its state, whether it is ready, and the time its last
 *  part took, in microseconds. */
const STATE = 0;
const READY = 1;
/** Values of READY: starting, ready, never ready (failed to start), ended after being ready. */
const STARTING = 0;
const STARTED = 1;
const NEVER_STARTED = -1;
const ENDED = -2;
const ELAPSED = 2;
const CONTROL_SLOTS = 3;
const IDLE = 0;
const BUSY = 1;
const DONE = 2;
const FAILED = 3;

interface Helper {
  worker: Worker;
  port: MessagePort;
  control: Int32Array;
  ready: Promise<void>;
  /** A split has waited for it to start (it is not waited for twice). */
  awaited: boolean;
}

let requestedThreads: number | undefined;
let helpers: Helper[] = [];
/** Set once a helper failed to start: no more are started in this process. */
let helpersUnavailable = false;
let splits = 0;
let failedParts = 0;

/** How many products and kernels have been split over threads in this process (for tests). */
export function splitCount(): number {
  return splits;
}

/** How many parts helpers failed (the caller computed them, or the split threw), for tests. */
export function failedPartCount(): number {
  return failedParts;
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

/**
 * Starts the helper threads now, so the first product does not wait for them; resolves when
 * they are ready (rejects when one fails to start: the work then stays on this thread).
 */
export async function startComputeThreads(): Promise<void> {
  if (!helpersUnavailable) ensureHelpers(computeThreads() - 1);
  await Promise.all(helpers.map((helper) => helper.ready));
}

/** Ends the helper threads (they are unreferenced, so a process may also just exit). */
export async function stopComputeThreads(): Promise<void> {
  const ending = helpers;
  helpers = [];
  helpersUnavailable = false;
  forgetShares();
  clearScratch();
  await Promise.all(ending.map((helper) => helper.worker.terminate()));
}

/**
 * `a (rows x inner) @ b (inner x columns) (+ bias)` split by columns of `b` over the ready helper
 * threads; `multiply` computes a block on the calling thread. Columns rather than rows,
 * because the WebAssembly backend repacks the whole right operand on every product: split by
 * rows, every thread would repack all of it. With `transposed`, `b` is given as its
 * transpose (columns x inner), and each thread transposes only its own block. The product
 * goes into `into` when given, else a new array; when that is on shared memory the helpers
 * write their columns straight into it. Returns null when the product is too small to split
 * or no helper is ready (the caller then computes it whole).
 */
export function parallelMatMul(
  a: Float32Array,
  rows: number,
  inner: number,
  b: Float32Array,
  columns: number,
  transposed: boolean,
  multiply: (
    a: Float32Array,
    rows: number,
    inner: number,
    b: Float32Array,
    columns: number,
    bias?: Float32Array,
  ) => Float32Array,
  bias?: Float32Array,
  into?: Float32Array,
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
  const fractions = partFractions(PRODUCT, parts);
  // Non-decreasing and within the matrix, whatever the share (columns need not be a multiple
  // of 8).
  const bounds = fractions.map((fraction, i) =>
    i === parts ? columns : Math.min(columns, 8 * Math.round((fraction * columns) / 8)),
  );
  // Operands already on shared memory go to the helpers as they are; others are copied there.
  const sharedA = onSharedMemory(a) ? a : copyInto(sharedScratch('threads.left', a.length), a);
  const sharedB = onSharedMemory(b) ? b : copyInto(sharedScratch('threads.right', b.length), b);
  // Helpers write their columns into `into` when it is shared, else into a reused shared
  // buffer from which the caller copies them.
  const out = into ?? new Float32Array(rows * columns);
  const target = onSharedMemory(out) ? out : sharedScratch('threads.product', rows * columns);
  ready.forEach((helper, i) => {
    Atomics.store(helper.control, STATE, BUSY);
    helper.port.postMessage({
      kind: 'product',
      a: sharedA.buffer,
      aOffset: sharedA.byteOffset,
      b: sharedB.buffer,
      bOffset: sharedB.byteOffset,
      transposed,
      out: target.buffer,
      outOffset: target.byteOffset,
      rows,
      inner,
      columns,
      bias: bias === undefined ? null : bias,
      firstColumn: bounds[i + 1]!,
      endColumn: bounds[i + 2]!,
    });
  });

  const multiplyPart = (part: number): void => {
    const first = bounds[part]!;
    const width = bounds[part + 1]! - first;
    blockRoom = roomFor(blockRoom, inner * width);
    const block = rightBlock(b, inner, columns, transposed, first, width, transpose, blockRoom);
    const product = multiply(a, rows, inner, block, width, bias?.subarray(first, first + width));
    placeBlock(product, out, rows, columns, first, width);
  };
  const started = performance.now();
  multiplyPart(0);
  const callerMs = performance.now() - started;
  const failed = awaitHelpers(ready);
  if (failed.length === 0) rebalance(PRODUCT, fractions, callerMs, helperTimes(ready));
  for (let part = 1; part < parts; part++) {
    // A block a helper failed is computed here.
    if (failed.includes(part - 1)) multiplyPart(part);
    else if (target !== out)
      copyColumns(target, out, rows, columns, bounds[part]!, bounds[part + 1]!);
  }
  splits++;
  return out;
}

/** Columns first .. end - 1 of every row of `from` into `to` (both rows x columns). */
function copyColumns(
  from: Float32Array,
  to: Float32Array,
  rows: number,
  columns: number,
  first: number,
  end: number,
): void {
  for (let r = 0; r < rows; r++) {
    to.set(from.subarray(r * columns + first, r * columns + end), r * columns + first);
  }
}

function copyInto(target: Float32Array, values: Float32Array): Float32Array {
  target.set(values);
  return target;
}

/**
 * Columns first .. first + width - 1 of the inner x columns right operand of a product, as an
 * inner x width block; with `transposed`, `b` holds the operand's transpose (columns x inner),
 * and `transposeInto` (transpose.ts) transposes the block; in the first inner x width values
 * of `room`. Self-contained: the helper threads run its source, and pass their own copy of
 * transpose (a call to the imported function would not survive the move: vitest, for one,
 * rewrites imported names).
 */
function rightBlock(
  b: Float32Array,
  inner: number,
  columns: number,
  transposed: boolean,
  first: number,
  width: number,
  transposeInto: typeof transpose,
  room: Float32Array,
): Float32Array {
  const block = room.subarray(0, inner * width);
  if (!transposed) {
    for (let r = 0; r < inner; r++) {
      block.set(b.subarray(r * columns + first, r * columns + first + width), r * width);
    }
    return block;
  }
  // Rows first .. first + width - 1 of the transpose are contiguous: their transpose.
  transposeInto(b.subarray(first * inner, (first + width) * inner), width, inner, block);
  return block;
}

/** Room for the calling thread's blocks of right operands, reused from product to product. */
let blockRoom: Float32Array = new Float32Array(0);

/** `room` when it holds `length` values, else a larger array. Self-contained (helpers). */
function roomFor(room: Float32Array, length: number): Float32Array {
  return room.length >= length ? room : new Float32Array(Math.ceil(length * 1.25));
}

/**
 * Writes a rows x width block into columns first .. first + width - 1 of `out`.
 * Self-contained: the helper threads run its source.
 */
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
 * One part of a split: its index (0: the calling thread's), and the fractions of the work it
 * spans.
 */
export interface SplitPart {
  index: number;
  /** The part spans [from, to) of the work, 0 <= from <= to <= 1. */
  from: number;
  to: number;
}

/** The items of `total` that a part spans: first and end (exclusive), rounded. */
export function partRange(part: SplitPart, total: number): [number, number] {
  return [Math.round(part.from * total), Math.round(part.to * total)];
}

export interface SplitOptions {
  /**
   * Functions the kernel calls, sent with it and defined under the names it calls them by.
   * They must be declared in the kernel's own module: calls to an imported function do not
   * survive the move (vitest, for one, rewrites imported names).
   */
  dependencies?: readonly ((...args: never[]) => unknown)[];
  /**
   * Whether a part may be run again after a helper failed it part way (true: it writes its
   * outputs without reading them). Work that updates its inputs in place is not: a failed
   * part then throws instead of being applied twice.
   */
  rerunnable?: boolean;
}

/**
 * Runs `kernel` once per part, part 0 on the calling thread and the others on helper threads,
 * and returns when all are done; `argumentsOf(part)` gives each part's arguments. The parts'
 * sizes follow the threads' measured speeds (partFractions), so callers must cut the work at
 * part.from and part.to, and every output must come out the same however it is cut. The
 * kernel must be self-contained (it is sent as source text: no imports, no outer variables)
 * but for `options.dependencies`, which are sent with it; its typed-array arguments
 * must be shared (`sharedScratch`) for helpers to see them and for their writes to come back.
 * Returns the number of parts (1 when nothing was split).
 */
export function runSplit(
  kernel: (...args: never[]) => void,
  work: number,
  argumentsOf: (part: SplitPart) => unknown[],
  options: SplitOptions = {},
): number {
  const { dependencies = [], rerunnable = true } = options;
  const threads = computeThreads();
  const ready = threads < 2 || work < PARALLEL_MINIMUM_WORK ? [] : readyHelpers(threads);
  const count = ready.length + 1;
  const run = kernel as unknown as (...args: unknown[]) => void;
  if (count === 1) {
    run(...argumentsOf({ index: 0, from: 0, to: 1 }));
    return 1;
  }
  const fractions = partFractions(kernel, count);
  const part = (index: number): SplitPart => ({
    index,
    from: fractions[index]!,
    to: fractions[index + 1]!,
  });
  const source = kernelSource(kernel, dependencies);
  ready.forEach((helper, i) => {
    Atomics.store(helper.control, STATE, BUSY);
    helper.port.postMessage({ kind: 'kernel', source, args: argumentsOf(part(i + 1)) });
  });
  const started = performance.now();
  run(...argumentsOf(part(0)));
  const callerMs = performance.now() - started;
  const failed = awaitHelpers(ready);
  if (failed.length === 0) rebalance(kernel, fractions, callerMs, helperTimes(ready));
  if (failed.length > 0 && !rerunnable) {
    throw new BasisError(
      'io',
      `a compute thread failed part way through work that updates its inputs in place ` +
        `(${kernel.name}; the reason is on stderr), so the result is incomplete and cannot be ` +
        `redone: the run stops here. Resume it from its last checkpoint (basis resume RUN), or ` +
        `set BASIS_THREADS=1 to train on one thread.`,
    );
  }
  // A part a helper failed is run here.
  for (const index of failed) run(...argumentsOf(part(index + 1)));
  splits++;
  return count;
}

/**
 * The source text of `kernel` as an expression, with the functions it calls (`dependencies`)
 * defined around it under the names it calls them by (a bundler renames a function's
 * declaration and its calls alike, and its `name` with them).
 */
function kernelSource(
  kernel: (...args: never[]) => void,
  dependencies: readonly ((...args: never[]) => unknown)[],
): string {
  // Built once per kernel: a kernel's call sites all send the same dependencies.
  let source = kernelSources.get(kernel);
  if (source !== undefined) return source;
  const definitions = dependencies.map((dependency) => {
    assert(/^[$\w]+$/.test(dependency.name), () => `kernel dependency "${dependency.name}"`);
    return `const ${dependency.name} = (${dependency.toString()});`;
  });
  source =
    dependencies.length === 0
      ? kernel.toString()
      : `(() => { ${definitions.join('\n')}\nreturn (${kernel.toString()}); })()`;
  kernelSources.set(kernel, source);
  return source;
}

/** Kernels' source texts, by kernel (kernelSource). */
const kernelSources = new WeakMap<(...args: never[]) => void, string>();

/** How long each helper took for its latest part, in milliseconds. */
function helperTimes(busy: Helper[]): number[] {
  return busy.map((helper) => Atomics.load(helper.control, ELAPSED) / 1000);
}

/** The helpers a split may use now: started ones are waited for once; failed ones are left out. */
function readyHelpers(threads: number): Helper[] {
  // Helpers that ended are replaced; after one that never started (a broken script, too
  // little memory), none are started again in this process and work stays on this thread.
  const states = helpers.map((helper) => Atomics.load(helper.control, READY));
  if (states.includes(NEVER_STARTED)) helpersUnavailable = true;
  helpers = helpers.filter((_, i) => states[i]! >= STARTING);
  if (!helpersUnavailable) ensureHelpers(threads - 1);
  return helpers.slice(0, threads - 1).filter((helper) => {
    // One wait per helper: one that does not start in time is passed over until it has.
    if (!helper.awaited) Atomics.wait(helper.control, READY, STARTING, START_TIMEOUT_MS);
    helper.awaited = true;
    return Atomics.load(helper.control, READY) === STARTED;
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
  failedParts += failed.length;
  return failed;
}

/**
 * Ends a helper that stopped answering; the shared buffers it may still write into are
 * dropped, so later products get their own.
 */
function retire(helper: Helper): void {
  Atomics.store(helper.control, READY, ENDED);
  void helper.worker.terminate();
  clearScratch();
}

function ensureHelpers(count: number): void {
  while (helpers.length < count) helpers.push(startHelper());
}

function startHelper(): Helper {
  const requireHere = nodeRequire();
  const wasmFolder =
    join(dirname(requireHere.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
  const control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_SLOTS));
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
      Atomics.compareExchange(control, READY, STARTING, NEVER_STARTED);
      Atomics.notify(control, READY);
      reject(error);
    });
  });
  // A helper that never starts leaves products on the calling thread; nothing else waits on it.
  ready.catch(() => undefined);
  worker.on('exit', () => {
    Atomics.compareExchange(control, READY, STARTED, ENDED);
    Atomics.compareExchange(control, READY, STARTING, NEVER_STARTED);
  });
  return { worker, port: channel.port1, control, ready, awaited: false };
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
const reported = new Set();
function runKernel(job) {
  let kernel = kernels.get(job.source);
  if (kernel === undefined) {
    kernel = (0, eval)('(' + job.source + ')');
    kernels.set(job.source, kernel);
  }
  kernel(...job.args);
}
const transpose = (${transpose.toString()});
const rightBlock = (${rightBlock.toString()});
const roomFor = (${roomFor.toString()});
let blockRoom = new Float32Array(0);
const placeBlock = (${placeBlock.toString()});
function run(job) {
  if (job.kind === 'kernel') return runKernel(job);
  const width = job.endColumn - job.firstColumn;
  const a = new Float32Array(job.a, job.aOffset, job.rows * job.inner);
  const b = new Float32Array(job.b, job.bOffset, job.inner * job.columns);
  blockRoom = roomFor(blockRoom, job.inner * width);
  const block = rightBlock(
    b, job.inner, job.columns, job.transposed, job.firstColumn, width, transpose, blockRoom,
  );
  const product = tf.tidy(() => {
    const left = tf.tensor2d(a, [job.rows, job.inner]);
    const right = tf.tensor2d(block, [job.inner, width]);
    if (job.bias === null) return tf.matMul(left, right);
    const bias = tf.tensor1d(job.bias.slice(job.firstColumn, job.endColumn));
    return tf.fused.matMul({ a: left, b: right, bias });
  });
  const out = new Float32Array(job.out, job.outOffset, job.rows * job.columns);
  placeBlock(product.dataSync(), out, job.rows, job.columns, job.firstColumn, width);
  product.dispose();
}
port.on('message', (job) => {
  try {
    const started = performance.now();
    run(job);
    Atomics.store(control, ${ELAPSED}, Math.round(1000 * (performance.now() - started)));
    Atomics.store(control, ${STATE}, ${DONE});
  } catch (error) {
    // The caller computes the part itself; the reason goes to stderr, once per kind of job.
    const kind = job.kind === 'kernel' ? job.source.slice(0, 80) : 'product';
    if (!reported.has(kind)) {
      reported.add(kind);
      process.stderr.write('basis compute thread: a ' + job.kind + ' failed here and runs on ' +
        'the calling thread: ' + (error && error.message) + '\\n');
    }
    Atomics.store(control, ${STATE}, ${FAILED});
  }
  Atomics.notify(control, ${STATE});
});
// A helper on its way out fails the job in hand, so that a caller blocked on it wakes.
process.on('exit', () => {
  Atomics.compareExchange(control, ${READY}, ${STARTED}, ${ENDED});
  Atomics.compareExchange(control, ${READY}, ${STARTING}, ${NEVER_STARTED});
  if (Atomics.load(control, ${STATE}) === ${BUSY}) {
    Atomics.store(control, ${STATE}, ${FAILED});
    Atomics.notify(control, ${STATE});
  }
});
wasm.setWasmPaths(workerData.wasmFolder);
tf.setBackend('wasm').then(() => tf.ready()).then(() => {
  Atomics.store(control, ${READY}, ${STARTED});
  Atomics.notify(control, ${READY});
  parentPort.postMessage('ready');
});
`;
