import { describe, expect, test } from 'vitest';
import { Random } from '../../../src/shared/random';
import {
  DENSITY_HISTOGRAM_EDGES,
  ReconstructionMetrics,
  WORSE_THAN_MEAN_HINT,
} from '../../../src/main/analysis/metrics';

const TIGHT = 1e-9;

function randomMatrix(seed: number, rows: number, columns: number, offset = 0): Float32Array {
  const random = new Random(seed);
  return Float32Array.from({ length: rows * columns }, () => offset + random.gaussian());
}

function columnMeans(values: Float32Array, rows: number, columns: number): Float32Array {
  const mean = new Float64Array(columns);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < columns; c++) mean[c]! += values[r * columns + c]! / rows;
  const out = new Float32Array(rows * columns);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) out[r * columns + c] = mean[c]!;
  return out;
}

describe('ReconstructionMetrics', () => {
  test('a perfect reconstruction explains all variance', () => {
    const x = randomMatrix(1, 50, 4);
    const metrics = new ReconstructionMetrics(4, 3);
    metrics.add(x, x, new Float32Array(50 * 3), 50);
    const result = metrics.result();
    expect(result.mse).toBe(0);
    expect(result.fvu).toBe(0);
    expect(result.explainedVariance).toBe(1);
    expect(result.cosine).toBeCloseTo(1, 6);
    expect(result.relativeNorm).toBeCloseTo(1, 6);
    expect(result.worseThanMean).toBe(false);
    expect(result.hint).toBeNull();
  });

  test('predicting the mean explains exactly zero variance, even offset by 1e4 and in batches', () => {
    const rows = 300;
    const x = randomMatrix(2, rows, 5, 1e4);
    const mean = columnMeans(x, rows, 5);
    const metrics = new ReconstructionMetrics(5, 2);
    for (let first = 0; first < rows; first += 70) {
      const count = Math.min(70, rows - first);
      metrics.add(
        x.subarray(first * 5),
        mean.subarray(first * 5),
        new Float32Array(count * 2),
        count,
      );
    }
    const result = metrics.result();
    expect(Math.abs(result.explainedVariance)).toBeLessThan(1e-6);
    expect(Math.abs(result.fvu - 1)).toBeLessThan(1e-6);
  });

  test('MSE, FVU, L0, L1, cosine and relative norm by their formulas on a hand-made case', () => {
    // Two rows in two dimensions; mean of x = (2, 1).
    const x = Float32Array.of(1, 0, 3, 2);
    const xhat = Float32Array.of(1, 1, 3, 0);
    const codes = Float32Array.of(0, 2, -1, 0, 0, 0);
    const metrics = new ReconstructionMetrics(2, 3);
    metrics.add(x, xhat, codes, 2);
    const r = metrics.result();
    // Squared errors: row 0: 1; row 1: 4. Deviations: row 0: 1 + 1, row 1: 1 + 1.
    expect(r.mse).toBeCloseTo((1 / 2 + 4 / 2) / 2, 12);
    expect(r.fvu).toBeCloseTo(5 / 4, 12);
    expect(r.explainedVariance).toBeCloseTo(-1 / 4, 12);
    expect(r.worseThanMean).toBe(true);
    expect(r.hint).toBe(WORSE_THAN_MEAN_HINT);
    expect(r.l0).toBeCloseTo(1, 12);
    expect(r.l1).toBeCloseTo(1.5, 12);
    const cos0 = 1 / Math.sqrt(2);
    const cos1 = 9 / (Math.sqrt(13) * 3);
    expect(r.cosine).toBeCloseTo((cos0 + cos1) / 2, 6);
    expect(r.relativeNorm).toBeCloseTo((Math.sqrt(2) + 3 / Math.sqrt(13)) / 2, 6);
    expect(Array.from(r.densities)).toEqual([0, 0.5, 0.5]);
    expect(r.deadFeatures).toBe(1);
    expect(r.denseFeatures).toBe(2);
  });

  test('density histogram puts dead features in the first bin and counts every feature', () => {
    const rows = 1000;
    const features = 4;
    const codes = new Float32Array(rows * features);
    for (let r = 0; r < rows; r++) {
      codes[r * features] = 1; // density 1
      if (r < 10) codes[r * features + 1] = 1; // 1e-2
      if (r === 0) codes[r * features + 2] = 1; // 1e-3
    }
    const x = randomMatrix(3, rows, 2);
    const metrics = new ReconstructionMetrics(2, features);
    metrics.add(x, x, codes, rows);
    const { densityHistogram: h, deadFeatures } = metrics.result();
    expect(h.edges).toEqual([...DENSITY_HISTOGRAM_EDGES]);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(features);
    expect(h.counts[0]).toBe(1);
    expect(h.counts[h.counts.length - 1]).toBe(1);
    expect(h.counts[DENSITY_HISTOGRAM_EDGES.indexOf(-2)]).toBe(1);
    expect(h.counts[DENSITY_HISTOGRAM_EDGES.indexOf(-3)]).toBe(1);
    expect(deadFeatures).toBe(1);
  });

  test('batches give the same result as one pass', () => {
    const rows = 100;
    const x = randomMatrix(4, rows, 3, 5);
    const xhat = randomMatrix(5, rows, 3, 5);
    const codes = randomMatrix(6, rows, 2).map((v) => (v > 0.5 ? v : 0));
    const whole = new ReconstructionMetrics(3, 2);
    whole.add(x, xhat, codes, rows);
    const split = new ReconstructionMetrics(3, 2);
    split.add(x.subarray(0, 30 * 3), xhat.subarray(0, 30 * 3), codes.subarray(0, 60), 30);
    split.add(x.subarray(90), xhat.subarray(90), codes.subarray(60), 70);
    const a = whole.result();
    const b = split.result();
    for (const key of ['mse', 'fvu', 'l0', 'l1', 'cosine', 'relativeNorm'] as const) {
      expect(Math.abs(a[key] - b[key])).toBeLessThan(TIGHT * 1e3);
    }
  });

  test('no rows gives NaN figures; zero-variance data with errors gives NaN FVU', () => {
    const empty = new ReconstructionMetrics(2, 2).result();
    expect(empty.mse).toBeNaN();
    expect(empty.l0).toBeNaN();
    expect(empty.deadFeatures).toBe(2);
    const constant = new ReconstructionMetrics(1, 1);
    constant.add(Float32Array.of(1, 1), Float32Array.of(0, 0), Float32Array.of(0, 0), 2);
    expect(constant.result().fvu).toBeNaN();
    expect(constant.result().worseThanMean).toBe(false);
  });

  test('a NaN in the reconstruction shows as NaN MSE, not as a number', () => {
    const metrics = new ReconstructionMetrics(1, 1);
    metrics.add(Float32Array.of(1, 2), Float32Array.of(Number.NaN, 2), Float32Array.of(1, 1), 2);
    expect(metrics.result().mse).toBeNaN();
    expect(metrics.result().explainedVariance).toBeNaN();
  });
});
