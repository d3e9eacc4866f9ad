/**
 * Filling row buffers (rowBuffer.ts) in place, on the calling thread and on helper threads.
 * A request is cut into parts, one per idle helper plus one for the caller. A part is
 * self-contained: its 16-bit elements are read, by positioned reads on the process's file
 * descriptor, into the back half of the rows it fills, and widened there chunk by chunk
 * (`fillPart`, whose source text the helpers run too). Each helper runs its own instance
 * of the kernels on the buffer's shared WebAssembly memory.
 *
 * The caller fills its part synchronously while the helpers fill theirs, then waits for
 * them by spinning (a wake-up through the event loop costs about as much as a 4 MB part
 * takes on a virtual machine), falling back to an asynchronous wait after SPIN_LIMIT_MS.
 * So reading blocks the calling thread for about one part; Basis uses row buffers where
 * that is fine (training, in the worker process), not in the window's main process.
 *
 * A helper that fails (a short read, a memory it does not know) reports it, and the caller
 * fills that part itself, which throws the error with its message. A helper that dies ends
 * its part as failed. Helpers never keep the process alive. There are as many helpers as
 * cores but one (at most MAX_HELPERS); `BASIS_LOADER_THREADS=n` sets the count, 0 for none.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';

import { sharedKernelModule, type WasmMemory, type WideElement } from './halfSimd';

/** A part of a request: `count` elements (a multiple of 8) from file offset `position`. */
export interface InPlacePart {
  position: number;
  /** Byte address of the part's 16-bit elements in the memory. */
  input: number;
  /** Byte address of its float32 values (input lies inside them). */
  output: number;
  count: number;
}

/** A memory the helpers may be asked to work on, with the id they know it by. */
export interface SharedRows {
  id: number;
  memory: WasmMemory;
}

type Kernel = (source: number, target: number, groups: number) => void;

/** Elements per positioned read inside a part: 256 kB, widened while still in the cache. */
export const PART_CHUNK_ELEMENTS = 1 << 17;
/** Parts smaller than this are not worth a helper's wake-up. */
export const MIN_PART_ELEMENTS = 1 << 15;
/** Helpers at most: past four, memory bandwidth, not cores, bounds the conversion. */
const MAX_HELPERS = 4;
/** How long the caller spins for its helpers before waiting asynchronously. */
const SPIN_LIMIT_MS = 5;

// A helper's control[0]; its job array holds the posted part.
const [IDLE, POSTED, DONE, FAILED] = [0, 1, 2, 3];
const JOB_FIELDS = 7;

/**
 * Reads a part into `buffer` and widens it in place, `chunk` elements at a time. It uses
 * nothing but its parameters: the helpers run its source text.
 */
export function fillPart(
  read: (bytes: Uint8Array, position: number) => void,
  convert: Kernel,
  buffer: ArrayBufferLike,
  part: InPlacePart,
  chunk: number,
): void {
  for (let start = 0; start < part.count; start += chunk) {
    const length = Math.min(chunk, part.count - start);
    read(new Uint8Array(buffer, part.input + 2 * start, 2 * length), part.position + 2 * start);
    convert(part.input + 2 * start, part.output + 4 * start, length / 8);
  }
}

interface Helper {
  control: Int32Array;
  job: Float64Array;
  port: MessagePort;
  /** Ids of the memories this helper has been sent. */
  known: Set<number>;
  busy: boolean;
  alive: boolean;
}

/** Parts handed to helpers, to be finished with `finishPosted`. */
export interface Posted {
  helpers: Helper[];
  parts: InPlacePart[];
}

// ES2022's library lacks Atomics.waitAsync, which Node has had since 16.
const waitAsync = (
  Atomics as unknown as {
    waitAsync?: (
      array: Int32Array,
      index: number,
      value: number,
    ) => { async: boolean; value: Promise<string> | string };
  }
).waitAsync;

let helpers: Helper[] | undefined;

/** How many helpers are idle now, that a request may hand parts to. */
export function idleHelpers(): number {
  return idle().length;
}

function idle(): Helper[] {
  return startHelpers().filter((helper) => helper.alive && !helper.busy);
}

/**
 * Hands each part to an idle helper; the parts no helper took are returned to be filled
 * by the caller.
 */
export function postParts(
  rows: SharedRows,
  parts: InPlacePart[],
  element: WideElement,
  fd: number,
): { posted: Posted; left: InPlacePart[] } {
  const posted: Posted = { helpers: [], parts: [] };
  const left: InPlacePart[] = [];
  const free = idle();
  for (const part of parts) {
    const helper = free.shift();
    if (!helper) {
      left.push(part);
      continue;
    }
    post(helper, { rows, part, element, fd });
    posted.helpers.push(helper);
    posted.parts.push(part);
  }
  return { posted, left };
}

/** Waits for posted parts; returns those that failed, for the caller to fill. */
export async function finishPosted(posted: Posted): Promise<InPlacePart[]> {
  const until = performance.now() + SPIN_LIMIT_MS;
  const failed: InPlacePart[] = [];
  for (let k = 0; k < posted.helpers.length; k++) {
    const helper = posted.helpers[k]!;
    const control = helper.control;
    while (Atomics.load(control, 0) === POSTED && performance.now() < until);
    const wait = waitAsync!(control, 0, POSTED);
    if (wait.async) await wait.value;
    if (Atomics.load(control, 0) !== DONE) failed.push(posted.parts[k]!);
    if (helper.alive) Atomics.store(control, 0, IDLE);
    helper.busy = false;
  }
  return failed;
}

/** Lets the helpers drop a memory whose rows are gone. */
export function forgetRows(id: number): void {
  for (const helper of helpers ?? []) {
    if (helper.known.delete(id) && helper.alive) helper.port.postMessage({ release: id });
  }
}

interface Job {
  rows: SharedRows;
  part: InPlacePart;
  element: WideElement;
  fd: number;
}

function post(helper: Helper, { rows, part, element, fd }: Job): void {
  if (!helper.known.has(rows.id)) {
    helper.port.postMessage({ id: rows.id, memory: rows.memory });
    helper.known.add(rows.id);
  }
  helper.busy = true;
  const { position, input, output, count } = part;
  helper.job.set([position, input, output, count, element === 'f16' ? 0 : 1, rows.id, fd]);
  Atomics.store(helper.control, 0, POSTED);
  Atomics.notify(helper.control, 0);
}

function startHelpers(): Helper[] {
  if (helpers) return helpers;
  helpers = [];
  const module = sharedKernelModule;
  if (!module || !waitAsync || typeof SharedArrayBuffer === 'undefined') return helpers;
  const wanted = Number(process.env.BASIS_LOADER_THREADS ?? availableParallelism() - 1);
  const count = Math.min(MAX_HELPERS, Math.max(0, Math.floor(wanted) || 0));
  try {
    for (let k = 0; k < count; k++) helpers.push(startHelper(module));
  } catch {
    // Fewer helpers; the caller fills what they cannot.
  }
  return helpers;
}

function startHelper(module: object): Helper {
  const control = new Int32Array(new SharedArrayBuffer(4));
  const job = new Float64Array(new SharedArrayBuffer(8 * JOB_FIELDS));
  const channel = new MessageChannel();
  const worker = new Worker(HELPER_SOURCE, {
    eval: true,
    workerData: {
      module,
      control: control.buffer,
      job: job.buffer,
      port: channel.port2,
      chunk: PART_CHUNK_ELEMENTS,
    },
    transferList: [channel.port2],
  });
  worker.unref();
  channel.port1.unref();
  const helper: Helper = {
    control,
    job,
    port: channel.port1,
    known: new Set(),
    busy: false,
    alive: true,
  };
  const died = () => {
    helper.alive = false;
    // A part in flight ends as failed; a caller waiting on it wakes on this store.
    Atomics.store(control, 0, FAILED);
    Atomics.notify(control, 0);
  };
  worker.on('error', died);
  worker.on('exit', died);
  return helper;
}

/**
 * The helper, plain CommonJS so that it runs the same from sources and from bundles. It
 * waits for a posted part, takes the memories and releases sent on its port, fills the
 * part, and reports DONE or FAILED. The job holds the part, the element type, the memory's
 * id and the file descriptor.
 */
const HELPER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { readSync } = require('node:fs');
const [POSTED, DONE, FAILED] = [${POSTED}, ${DONE}, ${FAILED}];
const { module, port, chunk } = workerData;
const control = new Int32Array(workerData.control);
const job = new Float64Array(workerData.job);
const memories = new Map();
const fillPart = ${fillPart.toString()};

function takeMessages() {
  for (let received; (received = receiveMessageOnPort(port)); ) {
    const message = received.message;
    if (message.release !== undefined) {
      memories.delete(message.release);
      continue;
    }
    const instance = new WebAssembly.Instance(module, { basis: { memory: message.memory } });
    memories.set(message.id, { buffer: message.memory.buffer, kernels: instance.exports });
  }
}

function fill() {
  takeMessages();
  const [position, input, output, count, element, id, fd] = job;
  const rows = memories.get(id);
  if (!rows) return false;
  const read = (bytes, at) => {
    for (let done = 0; done < bytes.length; ) {
      const length = readSync(fd, bytes, done, bytes.length - done, at + done);
      if (length === 0) throw new Error('short read');
      done += length;
    }
  };
  const convert = element === 0 ? rows.kernels.f16 : rows.kernels.bf16;
  fillPart(read, convert, rows.buffer, { position, input, output, count }, chunk);
  return true;
}

for (;;) {
  for (let state; (state = Atomics.load(control, 0)) !== POSTED; ) Atomics.wait(control, 0, state);
  let succeeded = false;
  try {
    succeeded = fill();
  } catch {
    succeeded = false;
  }
  Atomics.store(control, 0, succeeded ? DONE : FAILED);
  Atomics.notify(control, 0);
}
`;
