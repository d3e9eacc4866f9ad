/**
 * Adam's moment estimates (Kingma & Ba 2015) of Float32Array parameters; the update itself
 * is optimizer.ts's adamRows.
 */
import { floatArray } from './parameters';

export interface Moments {
  first: Float32Array;
  second: Float32Array;
}

/** Zero moments; `shared`: on SharedArrayBuffers, so that compute threads can update them. */
export function zeroMoments(size: number, shared = false): Moments {
  return { first: floatArray(size, shared), second: floatArray(size, shared) };
}
