import { expect, test } from 'vitest';
import { Random } from '../../../src/shared/random';
import { transpose } from '../../../src/worker/sae/transpose';

test('transpose moves element (r, c) to (c, r) for shapes that are not multiples of the tile', () => {
  const random = new Random(2);
  for (const [rows, columns] of [
    [37, 45],
    [1, 70],
    [70, 1],
    [64, 32],
  ] as const) {
    const a = Float32Array.from({ length: rows * columns }, () => random.gaussian());
    const t = transpose(a, rows, columns);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < columns; c++) expect(t[c * rows + r]).toBe(a[r * columns + c]);
    }
    expect(Array.from(transpose(t, columns, rows))).toEqual(Array.from(a));
  }
  expect(transpose(new Float32Array(0), 0, 5).length).toBe(0);
});
