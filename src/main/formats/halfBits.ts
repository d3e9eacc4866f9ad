/**
 * The scalar reference for 16-bit floats: IEEE 754 binary16 and bfloat16 to the bits of the
 * float32 holding the same value. Working on bits rather than numbers keeps NaN payloads
 * (a number round trip would quiet signalling NaNs), so every faster path can be checked
 * against these bit for bit.
 */

/** float32 bits of the binary16 `half`; NaN payloads kept, as NumPy does. */
export function halfToFloatBits(half: number): number {
  const sign = (half & 0x8000) << 16;
  const exponent = (half >> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
  if (exponent !== 0) return (sign | ((exponent + 127 - 15) << 23) | (mantissa << 13)) >>> 0;
  if (mantissa === 0) return sign >>> 0;
  // Subnormal: move the leading 1 up to the implicit bit, lowering the exponent each step.
  let shifted = mantissa;
  let biased = 127 - 14;
  while ((shifted & 0x400) === 0) {
    shifted <<= 1;
    biased--;
  }
  return (sign | (biased << 23) | ((shifted & 0x3ff) << 13)) >>> 0;
}

/** float32 bits of the bfloat16 `brain`: its upper half. */
export function brainToFloatBits(brain: number): number {
  return (brain << 16) >>> 0;
}

let halfTable: Uint32Array | undefined;

/** float32 bits of all 65536 halves, built once (256 kB). */
export function halfBitsTable(): Uint32Array {
  if (!halfTable) {
    halfTable = new Uint32Array(65536);
    for (let half = 0; half < 65536; half++) halfTable[half] = halfToFloatBits(half);
  }
  return halfTable;
}
