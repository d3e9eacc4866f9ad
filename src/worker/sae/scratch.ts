/**
 * Shared memory reused across calls, by key: the buffers the compute threads (threads.ts)
 * read and write in place. Reuse matters: V8 frees a dropped SharedArrayBuffer late, so one
 * allocated per training step lets the process grow by tens of MB.
 */

const scratch = new Map<string, SharedArrayBuffer>();

/**
 * A typed array of `length` floats on shared memory, kept for reuse under `key` (what it held
 * is overwritten by the next user of the key).
 */
export function sharedScratch(key: string, length: number): Float32Array {
  return new Float32Array(scratchBuffer(key, 4 * length), 0, length);
}

/** sharedScratch for 32-bit integers. */
export function sharedIntScratch(key: string, length: number): Int32Array {
  return new Int32Array(scratchBuffer(key, 4 * length), 0, length);
}

/** sharedScratch for float64 values. */
export function sharedDoubleScratch(key: string, length: number): Float64Array {
  return new Float64Array(scratchBuffer(key, 8 * length), 0, length);
}

function scratchBuffer(key: string, bytes: number): SharedArrayBuffer {
  let held = scratch.get(key);
  if (held === undefined || held.byteLength < bytes) {
    held = new SharedArrayBuffer(8 * Math.ceil((bytes * 1.25) / 8));
    scratch.set(key, held);
  }
  return held;
}

/** Whether `values` live on shared memory, where compute threads can read and write them. */
export function onSharedMemory(values: Float32Array | Int32Array | Float64Array): boolean {
  return values.buffer instanceof SharedArrayBuffer;
}

/** Drops every buffer (a helper that may still write into them was ended). */
export function clearScratch(): void {
  scratch.clear();
}
