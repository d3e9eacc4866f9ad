import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/shared/random';

describe('seeded random numbers', () => {
  it('repeat exactly for the same seed and differ for another', () => {
    const a = new Random(7);
    const b = new Random(7);
    const c = new Random(8);
    const first = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(first);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(first);
  });

  it('draw Gaussians and Laplacians with the right moments', () => {
    const random = new Random(1);
    const n = 200_000;
    let gaussianSquares = 0;
    let laplaceAbsolute = 0;
    for (let i = 0; i < n; i++) {
      gaussianSquares += random.gaussian() ** 2;
      laplaceAbsolute += Math.abs(random.laplacian(2));
    }
    expect(gaussianSquares / n).toBeCloseTo(1, 1);
    expect(laplaceAbsolute / n).toBeCloseTo(2, 1);
  });

  it('permutes every index exactly once', () => {
    const order = new Random(3).permutation(1000);
    expect(new Set(order).size).toBe(1000);
    expect(Math.max(...order)).toBe(999);
  });
});
