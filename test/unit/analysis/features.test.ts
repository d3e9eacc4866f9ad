import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/shared/random';
import {
  FeatureStatistics,
  histogram,
  momentsWithZeros,
} from '../../../src/main/analysis/features';

const KURTOSIS_TOLERANCE = 0.3;

describe('moments with implicit zeros', () => {
  it('count the zeros: one 1 among two values has mean 1/2 and excess kurtosis -2', () => {
    expect(momentsWithZeros(Float32Array.of(1), 2)).toEqual({
      mean: 0.5,
      max: 1,
      excessKurtosis: -2,
    });
  });

  it('give the Laplacian excess kurtosis of 3 for dense Laplacian values', () => {
    const random = new Random(5);
    const values = Float64Array.from({ length: 50_000 }, () => random.laplacian(1));
    expect(Math.abs(momentsWithZeros(values, values.length).excessKurtosis - 3)).toBeLessThan(
      KURTOSIS_TOLERANCE,
    );
  });

  it('are zero for no values at all', () => {
    expect(momentsWithZeros(new Float32Array(0), 0)).toEqual({
      mean: 0,
      max: 0,
      excessKurtosis: 0,
    });
  });
});

describe('feature statistics', () => {
  it('report density, top rows, quantiles and fits per feature', () => {
    // 3 features over 1000 rows: feature 0 fires on every 10th row with value row/1000,
    // feature 1 is dense Laplacian, feature 2 never fires.
    const rows = 1000;
    const features = 3;
    const random = new Random(9);
    const codes = new Float32Array(rows * features);
    for (let r = 0; r < rows; r++) {
      if (r % 10 === 0) codes[r * features] = (r + 1) / 1000;
      codes[r * features + 1] = random.laplacian(1);
    }
    const statistics = new FeatureStatistics(features, 'two-sided');
    // Two chunks with file row indices offset by 5000.
    const indices = Array.from({ length: rows }, (_, r) => 5000 + r);
    statistics.add(codes.subarray(0, 600 * features), 600, indices.slice(0, 600));
    statistics.add(codes.subarray(600 * features), 400, indices.slice(600));
    const atoms = Float32Array.of(3, 4, 0, 1, 0, 0, 0, 0, 0);
    const [first, second, dead] = statistics.finish(atoms, 3);

    expect(first!.density).toBeCloseTo(0.1, 12);
    expect(first!.atomNorm).toBeCloseTo(5, 6);
    expect(first!.topExamples[0]).toEqual({ row: 5990, value: expect.closeTo(0.991, 6) });
    expect(first!.topExamples).toHaveLength(20);
    expect(first!.histogram.counts.reduce((sum, count) => sum + count, 0)).toBe(100);
    // The 100 values are 0.001, 0.011, ..., 0.991: the median is (0.491 + 0.501) / 2.
    expect(first!.quantiles.find((q) => q.q === 0.5)?.value).toBeCloseTo(0.496, 5);

    expect(second!.density).toBe(1);
    expect(Math.abs(second!.laplace.scale - 1)).toBeLessThan(0.1);
    expect(second!.laplace.ksDistance).toBeLessThan(0.06);
    // Two-sided features rank top rows by |value|.
    const magnitudes = second!.topExamples.map((example) => Math.abs(example.value));
    expect(magnitudes).toEqual([...magnitudes].sort((a, b) => b - a));

    expect(dead).toMatchObject({
      density: 0,
      mean: 0,
      max: 0,
      kurtosis: 0,
      quantiles: [],
      topExamples: [],
    });
    expect(dead!.histogram).toEqual({ edges: [0, 1], counts: [0] });
  });

  it('refuse codes of the wrong size', () => {
    const statistics = new FeatureStatistics(4, 'one-sided');
    expect(() => statistics.add(new Float32Array(7), 2, [0, 1])).toThrow(/codes hold 7/);
  });
});

describe('histograms', () => {
  it('are symmetric for signed codes and start at 0 for nonnegative ones', () => {
    const signed = histogram(Float64Array.of(-1, 0.5, 2), 'two-sided', 4);
    expect(signed.edges).toEqual([-2, -1, 0, 1, 2]);
    expect(signed.counts).toEqual([0, 1, 1, 1]);
    const nonnegative = histogram(Float64Array.of(0.5, 1, 2), 'one-sided', 2);
    expect(nonnegative.edges).toEqual([0, 1, 2]);
    expect(nonnegative.counts).toEqual([1, 2]);
  });
});
