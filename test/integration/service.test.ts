/**
 * The service over a real database and real worker processes (the built worker bundle):
 * concurrent runs, loss curves, reconstructions on demand, comparison, export then import
 * of a dictionary, the bundled sample.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatasetInfo, RunSummary } from '../../src/shared/contract';
import { generatePlanted } from '../../src/main/generate/planted';
import { writeNpy } from '../../src/main/formats/npyWrite';
import { createService, type BasisService } from '../../src/main/service/service';
import { assertBuilt, ROOT } from './cliHarness';

/** Float32 reconstructions summed in float64 agree to this relative error. */
const RELATIVE_TOLERANCE = 1e-4;

let folder: string;
let service: BasisService;
let dataset: DatasetInfo;
let topk: RunSummary;
let ica: RunSummary;

beforeAll(async () => {
  assertBuilt();
  folder = mkdtempSync(join(tmpdir(), 'basis-service-'));
  const planted = generatePlanted({
    dimensions: 12,
    features: 20,
    activePerRow: 2,
    rows: 2000,
    magnitudes: 'uniform',
    probabilities: 'uniform',
    noise: 0.02,
    seed: 3,
  });
  await writeNpy(join(folder, 'data.npy'), [2000, 12], planted.data);
  writeFileSync(
    join(folder, 'labels.txt'),
    Array.from({ length: 2000 }, (_, row) => `row-${row}`).join('\n'),
  );
  service = createService({
    databasePath: join(folder, 'basis.sqlite'),
    workerPath: join(ROOT, 'out', 'main', 'worker.js'),
    sampleFolder: join(ROOT, 'resources', 'sample'),
  });
  dataset = await service.openDataset(join(folder, 'data.npy'), {
    labels: join(folder, 'labels.txt'),
  });

  // Two runs at once.
  // Default evaluation rows (half of 2000), as an imported dictionary gets.
  const common = { steps: 40, batchSize: 128, checkpointEvery: 10 };
  const started = await Promise.all([
    service.startRun({
      datasetId: dataset.id,
      config: { method: 'sae-topk', features: 24, k: 3, ...common },
    }),
    service.startRun({ datasetId: dataset.id, config: { method: 'ica', features: 20, ...common } }),
  ]);
  const finished = await Promise.all(started.map((run) => service.waitForRun(run.id)));
  topk = finished[0]!;
  ica = finished[1]!;
});

afterAll(async () => {
  await service?.close();
  rmSync(folder, { recursive: true, force: true });
});

describe('service', () => {
  it('trains two runs at once to completion, with loss curves and progress', async () => {
    expect([topk.status, ica.status]).toEqual(['completed', 'completed']);
    const steps = await service.getSteps(topk.id);
    expect(steps.length).toBeGreaterThan(0);
    expect(steps.at(-1)!.step).toBe(40);
    expect(steps.map((record) => record.step)).toEqual(
      [...steps.map((record) => record.step)].sort((a, b) => a - b),
    );
    const progress = await service.getProgress(ica.id);
    expect(progress).toMatchObject({ status: 'completed', step: 40, totalSteps: 40 });
    expect((await service.listFeatures(ica.id)).map((feature) => feature.index)).toEqual(
      Array.from({ length: 20 }, (_, index) => index),
    );
  });

  it('reconstructs chosen rows from the last checkpoint, with labels', async () => {
    const { rows } = await service.getReconstructions(topk.id, [0, 7]);
    expect(rows.map((row) => row.row)).toEqual([0, 7]);
    expect(rows[1]!.label).toBe('row-7');
    for (const row of rows) {
      expect(row.original).toHaveLength(12);
      const squaredError = row.original.reduce(
        (sum, value, c) => sum + (value - row.reconstruction[c]!) ** 2,
        0,
      );
      expect(Math.abs(squaredError - row.squaredError)).toBeLessThanOrEqual(
        RELATIVE_TOLERANCE * (1 + squaredError),
      );
      expect(row.activeFeatures).toBeLessThanOrEqual(3);
    }
    await expect(service.getReconstructions(topk.id, [2000])).rejects.toThrow(
      /outside the dataset/,
    );
  });

  it('compares a run with itself as a perfect one-to-one match', async () => {
    const comparison = await service.compareRuns(ica.id, ica.id);
    expect(comparison.matches).toHaveLength(20);
    expect(Math.abs(comparison.meanBestCosine - 1)).toBeLessThan(RELATIVE_TOLERANCE);
  });

  it('imports an exported SAELens folder as a run with the same metrics', async () => {
    const exported = await service.exportRun(topk.id, 'saelens', join(folder, 'topk-sae'));
    const imported = await service.importDictionary(exported, dataset.id);
    expect(imported.status).toBe('completed');
    expect(imported.method).toBe('sae-topk');
    expect(imported.warnings[0]).toMatch(/imported from/);
    const original = topk.metrics!;
    const again = imported.metrics!;
    expect(again.evaluationRows).toBe(original.evaluationRows);
    expect(Math.abs(again.mse - original.mse)).toBeLessThanOrEqual(
      RELATIVE_TOLERANCE * original.mse,
    );
    expect(again.l0).toBeCloseTo(original.l0, 6);
    await expect(service.resumeRun(imported.id)).rejects.toThrow(/imported/);
  });

  it('refuses bad requests with input and not-found errors', async () => {
    await expect(
      service.startRun({
        datasetId: dataset.id,
        config: { method: 'sae-topk', k: 100, features: 10 },
      }),
    ).rejects.toMatchObject({ kind: 'input' });
    await expect(service.getRun(999)).rejects.toMatchObject({ kind: 'not-found' });
    await expect(service.cancelRun(topk.id)).rejects.toThrow(/not running/);
    await expect(service.resumeRun(topk.id)).rejects.toThrow(/completed/);
  });

  it('deletes a run with everything recorded about it', async () => {
    const run = await service.startRun({
      datasetId: dataset.id,
      config: { method: 'sae-relu', features: 16, steps: 5, batchSize: 64, evaluationRows: 100 },
    });
    await service.deleteRun(run.id);
    await expect(service.getRun(run.id)).rejects.toMatchObject({ kind: 'not-found' });
  });

  it('opens the bundled sample with its labels', async () => {
    const sample = await service.openSample();
    expect(sample).toMatchObject({ rows: 16320, columns: 172, dtype: 'f32' });
    const preview = await service.previewLabels(sample.id, 0, 2);
    expect(preview).toEqual([
      { row: 0, label: '<s>[[upon]]' },
      { row: 1, label: '<s>upon[[ a]]' },
    ]);
  });
});
