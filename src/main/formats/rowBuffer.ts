/**
 * Float32 arrays that float16 and bfloat16 reads fill in place. Each array lies in a
 * WebAssembly memory of its own, shared between threads where the runtime allows, with the
 * widening kernels (halfSimd.ts) instantiated on it. A read lands the 16-bit elements in
 * the back half of the rows it fills and the kernels widen them forward, each group of 8
 * loaded before its 32 bytes are stored: no copy out of a lane, and on a shared memory the
 * helper threads (wideningThreads.ts) do the reading and widening. Any other read fills
 * these arrays as it fills a plain Float32Array.
 *
 * Where WebAssembly SIMD is missing, or the array would pass WebAssembly's 4 GB, a plain
 * Float32Array is returned, which every reader accepts too.
 */
import { CONSTANTS_BYTES, kernelsOnNewMemory, PAGE_BYTES, type WideningKernels } from './halfSimd';
import { forgetRows, type SharedRows } from './wideningThreads';

/** The largest memory allocated here: WebAssembly addresses 32 bits. */
const MAX_MEMORY_BYTES = 2 ** 32 - PAGE_BYTES;

export interface InPlaceTarget {
  kernels: WideningKernels;
  /** The memory as the helper threads know it; undefined when it is not shared. */
  shared: SharedRows | undefined;
}

const targets = new WeakMap<ArrayBuffer, InPlaceTarget>();
let nextId = 1;
const released = new FinalizationRegistry<number>(forgetRows);

/** A zeroed Float32Array of `length` values that 16-bit float reads fill in place. */
export function allocateRowBuffer(length: number): Float32Array {
  const bytes = CONSTANTS_BYTES + 4 * length;
  const made =
    bytes <= MAX_MEMORY_BYTES ? kernelsOnNewMemory(Math.ceil(bytes / PAGE_BYTES), true) : null;
  if (!made) return new Float32Array(length);
  const buffer = made.memory.buffer;
  const shared = made.shared ? { id: nextId++, memory: made.memory } : undefined;
  targets.set(buffer, { kernels: made.kernels, shared });
  if (shared) released.register(buffer, shared.id);
  return new Float32Array(buffer, CONSTANTS_BYTES, length);
}

/** How `target` is filled in place, when allocateRowBuffer made it. */
export function inPlaceTarget(target: Float32Array): InPlaceTarget | undefined {
  return targets.get(target.buffer as ArrayBuffer);
}
