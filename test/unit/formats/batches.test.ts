import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  TrainingBatches,
  evaluationRowIndices,
  readRowsAt,
} from '../../../src/main/formats/batches';
import { writeNpy } from '../../../src/main/formats/npyWrite';
import { openActivations } from '../../../src/main/formats/open';
import type { ActivationSource } from '../../../src/main/formats/source';

let folder: string;

/** A rows x 3 file whose row r holds (r, -r, r / 2): every row says where it came from. */
async function indexedSource(rows: number, poison: number[] = []): Promise<ActivationSource> {
  const values = new Float32Array(rows * 3);
  for (let r = 0; r < rows; r++) values.set([r, -r, r / 2], r * 3);
  for (const row of poison) values[row * 3 + 1] = NaN;
  const path = join(folder, `indexed-${rows}-${poison.join('_')}.npy`);
  await writeNpy(path, [rows, 3], values);
  return openActivations(path);
}

function rowIds(values: Float32Array, rows: number): number[] {
  return Array.from({ length: rows }, (_, r) => values[r * 3]!);
}

describe('evaluation rows', () => {
  it('are sorted, distinct, in range and the same for the same row count', () => {
    const first = evaluationRowIndices(100_000, 2000);
    expect(first.length).toBe(2000);
    expect(new Set(first).size).toBe(2000);
    for (let i = 1; i < first.length; i++) expect(first[i]!).toBeGreaterThan(first[i - 1]!);
    expect(first[first.length - 1]!).toBeLessThan(100_000);
    expect(Array.from(evaluationRowIndices(100_000, 2000))).toEqual(Array.from(first));
    expect(Array.from(evaluationRowIndices(100_001, 2000))).not.toEqual(Array.from(first));
  });

  it('are spread over the whole file', () => {
    const rows = evaluationRowIndices(1_000_000, 1000);
    const inFirstHalf = rows.filter((row) => row < 500_000).length;
    // Binomial(1000, 1/2): 5 standard deviations is about 79.
    expect(Math.abs(inFirstHalf - 500)).toBeLessThan(80);
  });

  it('are every row when more are asked for than exist, and none for zero', () => {
    expect(Array.from(evaluationRowIndices(5, 10))).toEqual([0, 1, 2, 3, 4]);
    expect(evaluationRowIndices(5, 0).length).toBe(0);
    expect(evaluationRowIndices(0, 10).length).toBe(0);
  });
});

describe('training batches', () => {
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'basis-batches-'));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('read rows at given indices in the given order, repeats included', async () => {
    const source = await indexedSource(1000);
    const indices = [999, 3, 4, 5, 500, 3, 0, 40];
    const values = await readRowsAt(source, indices);
    expect(rowIds(values, indices.length)).toEqual(indices);
    expect(values[1 * 3 + 1]).toBe(-3);
    expect((await readRowsAt(source, [])).length).toBe(0);
    await source.close();
  });

  it('visit every training row once per epoch and never an evaluation row', async () => {
    const rows = 1000;
    const source = await indexedSource(rows);
    const held = evaluationRowIndices(rows, 100);
    const batches = new TrainingBatches(source, {
      batchSize: 50,
      seed: 11,
      skipNonfinite: false,
      excludedRows: held,
      blockRows: 32,
      blocksPerBuffer: 4,
    });
    // 900 training rows = 18 batches of 50.
    const seen: number[] = [];
    for (let i = 0; i < 18; i++) {
      const batch = await batches.next();
      expect(batch.rows).toBe(50);
      expect(batch.values.length).toBe(150);
      seen.push(...rowIds(batch.values, 50));
    }
    batches.close();
    await source.close();

    const heldSet = new Set(held);
    expect(seen.some((row) => heldSet.has(row))).toBe(false);
    expect(new Set(seen).size).toBe(900);
    // Shuffled: the order is far from sequential.
    const ascending = seen.filter((row, i) => i > 0 && row === seen[i - 1]! + 1).length;
    expect(ascending).toBeLessThan(100);
  });

  it('repeat exactly for a seed, differ for another, and run on past the first epoch', async () => {
    const source = await indexedSource(300);
    const draw = async (seed: number) => {
      const batches = new TrainingBatches(source, {
        batchSize: 64,
        seed,
        skipNonfinite: false,
        blockRows: 16,
      });
      const rows: number[] = [];
      for (let i = 0; i < 12; i++) rows.push(...rowIds((await batches.next()).values, 64));
      const epoch = batches.epoch;
      batches.close();
      return { rows, epoch };
    };
    const first = await draw(1);
    expect((await draw(1)).rows).toEqual(first.rows);
    expect((await draw(2)).rows).not.toEqual(first.rows);
    // 768 rows handed out from 300: at least two epochs completed.
    expect(first.epoch).toBeGreaterThanOrEqual(2);
    // Each complete epoch holds every row exactly once.
    expect(new Set(first.rows.slice(0, 300)).size).toBe(300);
    await source.close();
  });

  it('fail on a row holding NaN, naming it and the flag that skips it', async () => {
    const source = await indexedSource(200, [137]);
    const batches = new TrainingBatches(source, {
      batchSize: 200,
      seed: 3,
      skipNonfinite: false,
      blockRows: 8,
    });
    await expect(batches.next()).rejects.toMatchObject({
      kind: 'input',
      message: expect.stringMatching(/row 137 holds NaN or infinity; .*--skip-nonfinite/),
    });
    batches.close();
    await source.close();
  });

  it('drop rows holding NaN when asked to', async () => {
    const source = await indexedSource(200, [0, 137, 199]);
    const batches = new TrainingBatches(source, {
      batchSize: 197,
      seed: 3,
      skipNonfinite: true,
      blockRows: 8,
    });
    const batch = await batches.next();
    const rows = rowIds(batch.values, 197);
    expect(batch.values.every(Number.isFinite)).toBe(true);
    expect(new Set(rows).size).toBe(197);
    expect(rows).not.toContain(137);
    batches.close();
    await source.close();
  });

  it('refuse a dataset whose every row is held out or non-finite', async () => {
    const source = await indexedSource(4, [0, 1, 2, 3]);
    expect(
      () =>
        new TrainingBatches(source, {
          batchSize: 2,
          seed: 1,
          skipNonfinite: true,
          excludedRows: evaluationRowIndices(4, 4),
        }),
    ).toThrow(/no rows are left for training/);
    const batches = new TrainingBatches(source, { batchSize: 2, seed: 1, skipNonfinite: true });
    await expect(batches.next()).rejects.toMatchObject({
      message: expect.stringMatching(/every training row holds NaN/),
    });
    batches.close();
    await source.close();
  });
});
