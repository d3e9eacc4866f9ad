/**
 * The transpose of a row-major matrix by cache-sized tiles. Self-contained: the compute
 * threads (threads.ts) run its source to transpose their blocks of a product's operand.
 */

/**
 * The transpose of a row-major `rows x columns` matrix into `out` (columns x rows); with
 * `accumulate`, added to what `out` holds.
 */
export function transpose(
  a: Float32Array,
  rows: number,
  columns: number,
  out: Float32Array = new Float32Array(rows * columns),
  accumulate = false,
): Float32Array {
  const tile = 32;
  // The innermost loop writes consecutive elements (measured on 4096 x 512: 6.7 ms, against
  // 13.8 ms for consecutive reads).
  for (let c0 = 0; c0 < columns; c0 += tile) {
    const c1 = Math.min(columns, c0 + tile);
    for (let r0 = 0; r0 < rows; r0 += tile) {
      const r1 = Math.min(rows, r0 + tile);
      for (let c = c0; c < c1; c++) {
        const outBase = c * rows;
        for (let r = r0; r < r1; r++) {
          const value = a[r * columns + c]!;
          out[outBase + r] = accumulate ? out[outBase + r]! + value : value;
        }
      }
    }
  }
  return out;
}
