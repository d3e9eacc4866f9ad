/**
 * 16-bit float patterns for the conversion tests, and their check against the scalar
 * reference (halfBits.ts), bit for bit, so that NaN payloads count too.
 */
import { brainToFloatBits, halfToFloatBits } from '../../../src/main/formats/halfBits';
import type { WideElement } from '../../../src/main/formats/halfSimd';

const REFERENCE: Record<WideElement, (bits: number) => number> = {
  f16: halfToFloatBits,
  bf16: brainToFloatBits,
};

/** `length` patterns; the odd multiplier visits all 65536 in every 65536 in a row. */
export function cyclingPatterns(length: number): Uint16Array {
  return Uint16Array.from({ length }, (_, i) => (i * 40503) & 0xffff);
}

/** How many of `values` differ in their bits from the reference conversion of `patterns`. */
export function differing(
  element: WideElement,
  patterns: Uint16Array,
  values: Float32Array,
): number {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  let count = 0;
  for (let i = 0; i < patterns.length; i++) {
    if (bits[i] !== REFERENCE[element](patterns[i]!)) count++;
  }
  return count;
}
