import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunMetrics } from '../../../src/shared/contract';
import { defaultRunConfig } from '../../../src/shared/runConfig';
import type { AnalysisResult, FeatureRecord } from '../../../src/main/analysis/analysisResult';
import { markOrphanedRuns } from '../../../src/main/store/recovery';
import type { NewDataset } from '../../../src/main/store/datasets';
import { Store } from '../../../src/main/store/store';

let folder: string;
let store: Store;

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'basis-store-'));
  store = Store.open(join(folder, 'basis.sqlite'));
});

afterEach(() => {
  store.close();
  rmSync(folder, { recursive: true, force: true });
});

const dataset: NewDataset = {
  path: '/data/acts.npy',
  format: 'npy',
  tensor: null,
  dtype: 'f32',
  shape: [100, 4],
  rows: 100,
  columns: 4,
  bytes: 1600,
  fingerprint: 'abc',
  openOptions: {},
  labelsPath: null,
  imageShape: null,
  statistics: {
    rows: 100,
    mean: [0, 0, 0, 0],
    variance: [1, 1, 1, 1],
    meanNorm: 2,
    nonfiniteRows: 0,
    nonfiniteRowIndices: [],
  },
};

function feature(index: number, density: number, kurtosis: number, ks: number): FeatureRecord {
  return {
    index,
    density,
    mean: 0.1,
    max: 1,
    kurtosis,
    laplace: {
      kind: 'one-sided',
      location: 0,
      scale: 0.5,
      ksDistance: ks,
      logLikelihoodRatio: 0.2,
    },
    atomNorm: 1,
    histogram: { edges: [0, 1], counts: [3] },
    quantiles: [{ q: 0.5, value: 0.4 }],
    atom: Float32Array.of(index, 1, 2, 3),
    topExamples: [
      { row: 7, value: 0.9 },
      { row: 3, value: 0.5 },
    ],
  };
}

const metrics: RunMetrics = {
  evaluationRows: 50,
  mse: 0.1,
  fvu: 0.2,
  explainedVariance: 0.8,
  l0: 2,
  l1: 1,
  cosine: 0.9,
  relativeNorm: 0.95,
  deadFeatures: 0,
  denseFeatures: 1,
  densityHistogram: { edges: [0, 1], counts: [3] },
  bitsPerDimension: 3.5,
  kktResidual: null,
  kktConverged: null,
};

describe('datasets', () => {
  it('records a file once per fingerprint, path and tensor, refreshing its labels', () => {
    const first = store.datasets.save(dataset);
    const again = store.datasets.save({ ...dataset, labelsPath: '/data/labels.tsv' });
    expect(again.id).toBe(first.id);
    expect(again.labelsPath).toBe('/data/labels.tsv');
    const changed = store.datasets.save({ ...dataset, fingerprint: 'def' });
    expect(changed.id).not.toBe(first.id);
    expect(store.datasets.list()).toHaveLength(2);
    expect(store.datasets.get(first.id).statistics.variance).toEqual([1, 1, 1, 1]);
  });

  it('names a missing dataset', () => {
    expect(() => store.datasets.get(99)).toThrow(/no dataset 99/);
  });
});

describe('runs', () => {
  it('goes from queued to running to completed with its figures', () => {
    const { id: datasetId } = store.datasets.save(dataset);
    const run = store.runs.create(datasetId, defaultRunConfig('sae-topk', 4));
    expect(run.status).toBe('queued');
    store.runs.markRunning(run.id, process.pid);
    store.runs.setBackend(run.id, 'wasm');
    expect(store.runs.get(run.id).peakMemoryBytes).toBeNull();
    store.runs.heartbeat(run.id, 10, 1234, 300e6);
    // A later, smaller report (a resumed worker) does not lower the recorded peak.
    store.runs.heartbeat(run.id, null, null, 200e6);
    store.runs.finish(run.id, 'completed', null, 2000);
    const done = store.runs.get(run.id);
    expect(done).toMatchObject({
      status: 'completed',
      step: 10,
      backend: 'wasm',
      elapsedMs: 2000,
      peakMemoryBytes: 300e6,
    });
    expect(done.config.method).toBe('sae-topk');
    expect(done.startedAt).not.toBeNull();
    expect(done.finishedAt).not.toBeNull();
  });

  it('keeps only the newest checkpoints and decodes them exactly', () => {
    const { id: datasetId } = store.datasets.save(dataset);
    const run = store.runs.create(datasetId, defaultRunConfig('ica', 4));
    for (const step of [100, 200, 300, 400]) {
      store.checkpoints.save(run.id, step, {
        A: { shape: [2, 2], values: Float32Array.of(step, 1, 2, 3) },
      });
    }
    expect(store.checkpoints.steps(run.id)).toEqual([200, 300, 400]);
    const latest = store.checkpoints.latest(run.id)!;
    expect(latest.step).toBe(400);
    expect(Array.from(latest.tensors.A!.values)).toEqual([400, 1, 2, 3]);
  });

  it('stores steps and forgets those after a resume point', () => {
    const { id: datasetId } = store.datasets.save(dataset);
    const run = store.runs.create(datasetId, defaultRunConfig('ica', 4));
    store.steps.add(
      run.id,
      [1, 2, 3].map((step) => ({
        step,
        losses: { mse: 1 / step },
        rowsPerSecond: 10,
        elapsedMs: step,
      })),
    );
    store.steps.deleteAfter(run.id, 2);
    expect(store.steps.list(run.id).map((record) => record.step)).toEqual([1, 2]);
    expect(store.steps.latest(run.id)?.losses.mse).toBeCloseTo(0.5, 12);
  });

  it('saves an analysis and lists features sorted by density, kurtosis or KS distance', () => {
    const { id: datasetId } = store.datasets.save(dataset);
    const run = store.runs.create(datasetId, defaultRunConfig('sae-topk', 4));
    const result: AnalysisResult = {
      metrics,
      features: [feature(0, 0.1, 5, 0.3), feature(1, 0.5, 1, 0.1), feature(2, 0.01, 9, 0.2)],
      reconstructions: [
        {
          row: 4,
          original: Float32Array.of(1, 2, 3, 4),
          reconstruction: Float32Array.of(1, 2, 3, 3),
          squaredError: 1,
          activeFeatures: 2,
        },
      ],
    };
    store.analysis.save(run.id, result);
    const order = (sort: 'density' | 'kurtosis' | 'ks'): number[] =>
      store.analysis.listFeatures(run.id, sort).map((item) => item.index);
    expect(order('density')).toEqual([1, 0, 2]);
    expect(order('kurtosis')).toEqual([2, 0, 1]);
    expect(order('ks')).toEqual([1, 2, 0]);
    expect(store.analysis.listFeatures(run.id, 'index', 2)).toHaveLength(2);
    const detail = store.analysis.getFeature(run.id, 2);
    expect(Array.from(detail.atom)).toEqual([2, 1, 2, 3]);
    expect(detail.topExamples).toEqual([
      { row: 7, value: expect.closeTo(0.9, 6) },
      { row: 3, value: 0.5 },
    ]);
    expect(store.runs.get(run.id).metrics?.bitsPerDimension).toBe(3.5);
    expect(store.analysis.atoms(run.id).values).toHaveLength(12);
    expect(store.analysis.reconstructionSamples(run.id)[0]?.squaredError).toBe(1);
    expect(() => store.analysis.getFeature(run.id, 3)).toThrow(/no feature 3/);

    // Saving again replaces, deleting the run removes everything by cascade.
    store.analysis.save(run.id, { ...result, features: [feature(0, 0.2, 1, 0.1)] });
    expect(store.analysis.featureCount(run.id)).toBe(1);
    store.runs.delete(run.id);
    expect(store.analysis.featureCount(run.id)).toBe(0);
    expect(store.analysis.metrics(run.id)).toBeNull();
  });
});

describe('run ids', () => {
  it('are never reused after a delete, so exports and notes naming a run stay unambiguous', () => {
    const { id: datasetId } = store.datasets.save(dataset);
    const first = store.runs.create(datasetId, defaultRunConfig('ica', 4));
    const second = store.runs.create(datasetId, defaultRunConfig('ica', 4));
    store.runs.delete(second.id);
    const third = store.runs.create(datasetId, defaultRunConfig('ica', 4));
    expect(third.id).toBeGreaterThan(second.id);
    expect(second.id).toBeGreaterThan(first.id);
  });
});

describe('recovery of runs whose process is gone', () => {
  it('marks them interrupted and keeps their checkpoint', () => {
    const { id: datasetId } = store.datasets.save(dataset);
    const orphan = store.runs.create(datasetId, defaultRunConfig('ica', 4));
    const alive = store.runs.create(datasetId, defaultRunConfig('ica', 4));
    store.runs.markRunning(orphan.id, 999_999);
    store.runs.markRunning(alive.id, 424_242);
    store.checkpoints.save(orphan.id, 50, { A: { shape: [1], values: Float32Array.of(1) } });

    const interrupted = markOrphanedRuns(store.database, (pid) => pid === 424_242);
    expect(interrupted).toEqual([orphan.id]);
    expect(store.runs.get(orphan.id).status).toBe('interrupted');
    expect(store.runs.get(orphan.id).error?.message).toMatch(/stopped before the run finished/);
    expect(store.checkpoints.latest(orphan.id)?.step).toBe(50);
    expect(store.runs.get(alive.id).status).toBe('running');
  });

  it('treats a stale heartbeat as a stopped owner', () => {
    const { id: datasetId } = store.datasets.save(dataset);
    const run = store.runs.create(datasetId, defaultRunConfig('ica', 4));
    store.runs.markRunning(run.id, 424_242);
    const later = Date.now() + 10 * 60_000;
    expect(markOrphanedRuns(store.database, () => true, later)).toEqual([run.id]);
  });
});
