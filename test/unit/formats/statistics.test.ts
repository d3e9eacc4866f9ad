import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CancelledError } from '../../../src/shared/errors';
import { Random } from '../../../src/shared/random';
import { fingerprintSource } from '../../../src/main/formats/fingerprint';
import { writeNpy } from '../../../src/main/formats/npyWrite';
import { openActivations } from '../../../src/main/formats/open';
import { computeStatistics } from '../../../src/main/formats/statistics';

/** Relative tolerance for float64 accumulations compared with a float64 reference. */
const RELATIVE_TOLERANCE = 1e-9;

let folder: string;

/** Reference moments in float64 by the two-pass formula. */
function referenceMoments(values: Float32Array, rows: number, columns: number, skip: Set<number>) {
  const mean = new Float64Array(columns);
  let count = 0;
  let normSum = 0;
  for (let r = 0; r < rows; r++) {
    if (skip.has(r)) continue;
    count++;
    let norm = 0;
    for (let j = 0; j < columns; j++) {
      mean[j] = mean[j]! + values[r * columns + j]!;
      norm += values[r * columns + j]! ** 2;
    }
    normSum += Math.sqrt(norm);
  }
  for (let j = 0; j < columns; j++) mean[j] = mean[j]! / count;
  const variance = new Float64Array(columns);
  for (let r = 0; r < rows; r++) {
    if (skip.has(r)) continue;
    for (let j = 0; j < columns; j++) {
      variance[j] = variance[j]! + (values[r * columns + j]! - mean[j]!) ** 2;
    }
  }
  for (let j = 0; j < columns; j++) variance[j] = variance[j]! / count;
  return { mean, variance, meanNorm: normSum / count };
}

function expectClose(actual: number, expected: number, tolerance: number, what: string) {
  expect(Math.abs(actual - expected), what).toBeLessThanOrEqual(
    tolerance * Math.max(1, Math.abs(expected)),
  );
}

describe('dataset statistics', () => {
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'basis-statistics-'));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('match a two-pass float64 reference on data with a large offset, over many blocks', async () => {
    // 30000 x 50 float32 is 6 MB: two blocks of 4 MB. Columns sit at 1e4 with unit spread,
    // where a naive sum of squares would lose the variance.
    const rows = 30000;
    const columns = 50;
    const random = new Random(5);
    const values = new Float32Array(rows * columns);
    for (let i = 0; i < values.length; i++) values[i] = 1e4 + (i % columns) + random.gaussian();
    const path = join(folder, 'offset.npy');
    await writeNpy(path, [rows, columns], values);

    const source = await openActivations(path);
    const progress: number[] = [];
    const statistics = await computeStatistics(source, {
      onProgress: (done) => progress.push(done),
    });
    await source.close();

    const reference = referenceMoments(values, rows, columns, new Set());
    expect(statistics.rows).toBe(rows);
    expect(statistics.nonfiniteRows).toBe(0);
    for (let j = 0; j < columns; j++) {
      expectClose(statistics.mean[j]!, reference.mean[j]!, RELATIVE_TOLERANCE, `mean ${j}`);
      expectClose(statistics.variance[j]!, reference.variance[j]!, 1e-7, `variance ${j}`);
      expect(statistics.variance[j]).toBeGreaterThan(0.9);
    }
    expectClose(statistics.meanNorm, reference.meanNorm, RELATIVE_TOLERANCE, 'mean norm');
    expect(progress.length).toBeGreaterThan(1);
    expect(progress[progress.length - 1]).toBe(rows);
  });

  it('leave out rows holding NaN or infinity and report their indices', async () => {
    const rows = 300;
    const columns = 4;
    const values = Float32Array.from({ length: rows * columns }, (_, i) => Math.sin(i));
    const bad = [0, 17, 18, 299];
    values[0 * columns + 1] = NaN;
    values[17 * columns + 3] = Infinity;
    values[18 * columns + 0] = -Infinity;
    values[299 * columns + 2] = NaN;
    const path = join(folder, 'nonfinite.npy');
    await writeNpy(path, [rows, columns], values);

    const source = await openActivations(path);
    const statistics = await computeStatistics(source);
    await source.close();

    expect(statistics.nonfiniteRows).toBe(4);
    expect(statistics.nonfiniteRowIndices).toEqual(bad);
    const reference = referenceMoments(values, rows, columns, new Set(bad));
    statistics.mean.forEach((mean, j) =>
      expectClose(mean, reference.mean[j]!, RELATIVE_TOLERANCE, `mean ${j}`),
    );
    statistics.variance.forEach((variance, j) =>
      expectClose(variance, reference.variance[j]!, RELATIVE_TOLERANCE, `variance ${j}`),
    );
    expect(Number.isFinite(statistics.meanNorm)).toBe(true);
  });

  it('report zeros, not NaN, when every row is non-finite, and keep only the first 100 indices', async () => {
    const rows = 150;
    const path = join(folder, 'allnan.npy');
    await writeNpy(path, [rows, 2], new Float32Array(rows * 2).fill(NaN));
    const source = await openActivations(path);
    const statistics = await computeStatistics(source);
    await source.close();
    expect(statistics.nonfiniteRows).toBe(rows);
    expect(statistics.nonfiniteRowIndices).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(statistics.mean).toEqual([0, 0]);
    expect(statistics.variance).toEqual([0, 0]);
    expect(statistics.meanNorm).toBe(0);
  });

  it('stop with a cancellation when the signal is aborted', async () => {
    const path = join(folder, 'cancel.npy');
    await writeNpy(path, [10, 2], new Float32Array(20));
    const source = await openActivations(path);
    const controller = new AbortController();
    controller.abort();
    await expect(computeStatistics(source, { signal: controller.signal })).rejects.toBeInstanceOf(
      CancelledError,
    );
    await source.close();
  });

  it('fingerprint equal data equally wherever it lives, and changed data differently', async () => {
    const values = Float32Array.from({ length: 4000 * 8 }, (_, i) => Math.cos(i));
    const first = join(folder, 'a.npy');
    const copy = join(folder, 'b.npy');
    await writeNpy(first, [4000, 8], values);
    await writeNpy(copy, [4000, 8], values);
    values[3999 * 8 + 7] = 42;
    const changed = join(folder, 'c.npy');
    await writeNpy(changed, [4000, 8], values);

    const fingerprints: string[] = [];
    for (const path of [first, copy, changed]) {
      const source = await openActivations(path);
      fingerprints.push(await fingerprintSource(source));
      await source.close();
    }
    expect(fingerprints[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprints[1]).toBe(fingerprints[0]);
    expect(fingerprints[2]).not.toBe(fingerprints[0]);
  });
});
