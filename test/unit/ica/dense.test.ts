/**
 * The tiled products inference is built on (linalg/dense.ts) against a plain dot per entry,
 * on shapes that leave ragged edges in both tile directions.
 */
import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/shared/random';
import { gramOfRows, multiplyTransposed } from '../../../src/worker/linalg/dense';

function naive(x: Float64Array, n: number, y: Float64Array, m: number, k: number) {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += x[i * k + p]! * y[j * k + p]!;
      out[i * m + j] = sum;
    }
  }
  return out;
}

describe('tiled products', () => {
  const random = new Random(9);
  const matrix = (size: number) => Float64Array.from({ length: size }, () => random.gaussian());
  for (const [n, m, k] of [
    [1, 1, 1],
    [3, 5, 7],
    [8, 12, 16],
    [9, 301, 3],
    [37, 70, 33],
  ] as const) {
    it(`multiplyTransposed and gramOfRows match a plain sum (${n} x ${k}, ${m} x ${k})`, () => {
      const x = matrix(n * k);
      const y = matrix(m * k);
      const expected = naive(x, n, y, m, k);
      const product = multiplyTransposed(x, n, y, m, k);
      for (let i = 0; i < n * m; i++) expect(product[i]).toBeCloseTo(expected[i]!, 11);
      const gram = gramOfRows(y, m, k);
      const reference = naive(y, m, y, m, k);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < m; j++) {
          expect(gram[i * m + j]).toBeCloseTo(reference[i * m + j]!, 11);
          expect(gram[i * m + j]).toBe(gram[j * m + i]);
        }
      }
    });
  }
});
