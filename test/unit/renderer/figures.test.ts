import { describe, expect, it } from 'vitest';
import type { Histogram, LaplaceFit, RunSummary, StepRecord } from '../../../src/shared/contract';
import { defaultRunConfig } from '../../../src/shared/runConfig';
import type { Method } from '../../../src/shared/methods';
import * as atom from '../../../src/renderer/src/figures/atom';
import * as datasetColumns from '../../../src/renderer/src/figures/datasetColumns';
import * as featureHistogram from '../../../src/renderer/src/figures/featureHistogram';
import * as frontier from '../../../src/renderer/src/figures/frontier';
import * as histogramBars from '../../../src/renderer/src/figures/histogramBars';
import * as lossCurves from '../../../src/renderer/src/figures/lossCurves';
import * as reconstruction from '../../../src/renderer/src/figures/reconstruction';
import { logTicks } from '../../../src/renderer/src/figures/theme';

/** Probabilities and counts computed in closed form agree to this relative tolerance. */
const TOLERANCE = 1e-9;

type Trace = Record<string, unknown> & {
  x?: unknown[];
  y?: unknown[];
  type?: string;
  name?: string;
};
const traces = (figure: { data: unknown[] }): Trace[] => figure.data as Trace[];

function run(
  id: number,
  method: Method,
  metrics: { l0: number; explainedVariance: number } | null,
): RunSummary {
  return {
    id,
    datasetId: 1,
    datasetPath: '/data/acts.npy',
    method,
    config: defaultRunConfig(method, 8),
    backend: 'wasm',
    status: metrics ? 'completed' : 'running',
    step: 10,
    createdAt: '2026-01-01T00:00:00Z',
    startedAt: null,
    finishedAt: null,
    elapsedMs: 1000,
    peakMemoryBytes: 300e6,
    error: null,
    warnings: [],
    metrics: metrics && {
      evaluationRows: 100,
      mse: 0.1,
      fvu: 1 - metrics.explainedVariance,
      explainedVariance: metrics.explainedVariance,
      l0: metrics.l0,
      l1: 1,
      cosine: 0.9,
      relativeNorm: 0.9,
      deadFeatures: 0,
      denseFeatures: 0,
      densityHistogram: { edges: [-2, -1, 0], counts: [1, 2] },
      bitsPerDimension: null,
      kktResidual: null,
      kktConverged: null,
    },
  };
}

describe('feature histogram with its Laplace fit', () => {
  const twoSided: LaplaceFit = {
    kind: 'two-sided',
    location: 0.5,
    scale: 2,
    ksDistance: 0.05,
    logLikelihoodRatio: 0.2,
  };

  it('has the Laplace CDF: one half at the location, exp tails on both sides', () => {
    expect(featureHistogram.laplaceCdf(twoSided, 0.5)).toBeCloseTo(0.5, 12);
    expect(featureHistogram.laplaceCdf(twoSided, 2.5)).toBeCloseTo(1 - 0.5 * Math.exp(-1), 12);
    expect(featureHistogram.laplaceCdf(twoSided, -1.5)).toBeCloseTo(0.5 * Math.exp(-1), 12);
  });

  it('has the exponential CDF for one-sided fits, zero below the location', () => {
    const oneSided: LaplaceFit = { ...twoSided, kind: 'one-sided', location: 0, scale: 0.5 };
    expect(featureHistogram.laplaceCdf(oneSided, -1)).toBe(0);
    expect(featureHistogram.laplaceCdf(oneSided, 0.5)).toBeCloseTo(1 - Math.exp(-1), 12);
  });

  it('expects counts that sum to the histogram total, most mass near the location', () => {
    const histogram: Histogram = { edges: [-4, -2, 0, 2, 4, 6], counts: [3, 20, 40, 15, 2] };
    const expected = featureHistogram.expectedCounts(histogram, twoSided) as number[];
    const total = expected.reduce((sum, count) => sum + count, 0);
    expect(Math.abs(total - 80) / 80).toBeLessThan(TOLERANCE);
    // The bins [0, 2] and [-2, 0] hold the location 0.5: the largest expectation is there.
    expect(expected.indexOf(Math.max(...expected))).toBe(2);
    // Bin [2, 4] by hand: 80 (F(4) - F(2)) / (F(6) - F(-4)).
    const F = (x: number): number => featureHistogram.laplaceCdf(twoSided, x);
    expect(expected[3]).toBeCloseTo((80 * (F(4) - F(2))) / (F(6) - F(-4)), 9);
  });

  it('draws bars at bin centres with bin widths, and the fit as a line', () => {
    const figure = featureHistogram.toFigure({
      histogram: { edges: [0, 1, 3], counts: [5, 7] },
      laplace: twoSided,
      logY: false,
    });
    const [bars, fit] = traces(figure);
    expect(bars?.type).toBe('bar');
    expect(bars?.x).toEqual([0.5, 2]);
    expect(bars?.width).toEqual([1, 2]);
    expect(fit?.type).toBe('scatter');
    expect(fit?.name).toMatch(/Laplace fit/);
    expect(figure.layout.yaxis?.type).toBe('linear');
  });

  it('switches to a log axis and leaves gaps where the fit expects nothing', () => {
    const oneSided: LaplaceFit = {
      kind: 'one-sided',
      location: 0,
      scale: 1,
      ksDistance: 0,
      logLikelihoodRatio: 0,
    };
    const figure = featureHistogram.toFigure({
      histogram: { edges: [-2, -1, 0, 1], counts: [0, 0, 9] },
      laplace: oneSided,
      logY: true,
    });
    expect(figure.layout.yaxis?.type).toBe('log');
    expect(traces(figure)[1]?.y).toEqual([null, null, 9]);
  });

  it('draws no fit for a degenerate scale, an empty histogram or NaN location', () => {
    const flat = { ...twoSided, scale: 0 };
    expect(featureHistogram.expectedCounts({ edges: [0, 1], counts: [4] }, flat)).toBeNull();
    expect(featureHistogram.expectedCounts({ edges: [0], counts: [] }, twoSided)).toBeNull();
    expect(
      featureHistogram.expectedCounts(
        { edges: [0, 1], counts: [4] },
        { ...twoSided, location: NaN },
      ),
    ).toBeNull();
    expect(
      traces(
        featureHistogram.toFigure({
          histogram: { edges: [0], counts: [] },
          laplace: twoSided,
          logY: false,
        }),
      ),
    ).toHaveLength(1);
  });
});

describe('atom figure', () => {
  it('draws bars per dimension without an image shape', () => {
    const [bars] = traces(atom.toFigure({ atom: [0.5, -0.25, 0], imageShape: null }));
    expect(bars?.type).toBe('bar');
    expect(bars?.x).toEqual([0, 1, 2]);
  });

  it('draws an image row by row, on a scale symmetric about zero', () => {
    const [image] = traces(atom.toFigure({ atom: [1, 2, 3, -4, 5, 6], imageShape: [2, 3] }));
    expect(image?.type).toBe('heatmap');
    expect(image?.z).toEqual([
      [1, 2, 3],
      [-4, 5, 6],
    ]);
    expect(image?.zmin).toBe(-6);
    expect(image?.zmax).toBe(6);
  });

  it('falls back to bars when the image shape does not fit the atom', () => {
    expect(atom.atomImage([1, 2, 3], [2, 2])).toBeNull();
    expect(traces(atom.toFigure({ atom: [1, 2, 3], imageShape: [2, 2] }))[0]?.type).toBe('bar');
  });
});

describe('loss curves', () => {
  const steps: StepRecord[] = [1, 2, 3].map((step) => ({
    step,
    losses: { loss: 10 / step ** 3, l0: 8, deadFeatures: step === 2 ? NaN : 0 },
    rowsPerSecond: 100,
    elapsedMs: step * 10,
  }));

  it('draws one panel per term on its own axes', () => {
    const figure = lossCurves.toFigure(steps);
    expect(traces(figure).map((trace) => trace.name)).toEqual(['loss', 'l0', 'deadFeatures']);
    expect(traces(figure).map((trace) => trace.yaxis)).toEqual(['y', 'y2', 'y3']);
    expect(lossCurves.panelRows(steps)).toBe(1);
  });

  it('log-scales terms spanning decades only, and skips NaN points', () => {
    const figure = lossCurves.toFigure(steps) as unknown as {
      layout: Record<string, { type?: string }>;
    };
    expect(figure.layout.yaxis?.type).toBe('log');
    expect(figure.layout.yaxis2?.type).toBe('linear');
    expect(figure.layout.yaxis3?.type).toBe('linear');
    expect(traces(lossCurves.toFigure(steps))[2]?.x).toEqual([1, 3]);
  });

  it('draws nothing for no steps', () => {
    expect(lossCurves.toFigure([]).data).toEqual([]);
  });
});

describe('sparsity-fidelity frontier', () => {
  const runs = [
    run(1, 'ica', { l0: 10, explainedVariance: 0.9 }),
    run(2, 'ica', { l0: 20, explainedVariance: 0.8 }),
    run(3, 'ica', { l0: 30, explainedVariance: 0.95 }),
    run(4, 'sae-topk', { l0: 8, explainedVariance: 0.7 }),
    run(5, 'sae-relu', { l0: NaN, explainedVariance: 0.7 }),
    run(6, 'sae-topk', null),
  ];

  it('splits runs with finite metrics by family', () => {
    const points = frontier.frontierPoints(runs);
    expect(points.ICA.map((point) => point.runId)).toEqual([1, 2, 3]);
    expect(points.SAE.map((point) => point.runId)).toEqual([4]);
  });

  it('keeps only runs that no sparser run beats', () => {
    const front = frontier.paretoFront(frontier.frontierPoints(runs).ICA);
    expect(front.map((point) => point.runId)).toEqual([1, 3]);
  });

  it('draws families in their colours with the run ids as custom data', () => {
    const figure = frontier.toFigure(runs);
    const markers = traces(figure).filter((trace) => trace.mode === 'markers');
    expect(markers.map((trace) => trace.name)).toEqual(['ICA', 'SAE']);
    expect(markers[0]?.customdata).toEqual([1, 2, 3]);
    expect((markers[0]?.marker as { color: string }).color).not.toBe(
      (markers[1]?.marker as { color: string }).color,
    );
    expect(figure.layout.xaxis?.type).toBe('log');
  });

  it('keeps negative explained variance (worse than the mean) in view', () => {
    const figure = frontier.toFigure([run(1, 'sae-relu', { l0: 3, explainedVariance: -0.4 })]);
    expect((figure.layout.yaxis?.range as number[])[0]).toBeLessThan(-0.4);
  });
});

describe('other figures', () => {
  it('draws a stored histogram with a threshold marker', () => {
    const figure = histogramBars.toFigure({
      histogram: { edges: [0, 0.5, 1], counts: [3, 4] },
      xTitle: 'best |cos|',
      markerAt: { x: 0.7, label: 'threshold' },
    });
    expect(traces(figure)[0]?.x).toEqual([0.25, 0.75]);
    expect(figure.layout.shapes?.[0]?.x0).toBe(0.7);
  });

  it('draws nothing for a malformed histogram', () => {
    expect(
      traces(histogramBars.toFigure({ histogram: { edges: [0], counts: [1, 2] }, xTitle: '' }))[0]
        ?.y,
    ).toEqual([]);
  });

  it('draws the original row and each reconstruction', () => {
    const figure = reconstruction.toFigure({
      original: [1, 2],
      reconstructions: [
        { name: '#1 ica', values: [1, 1.5], family: 'ICA' },
        { name: '#2 sae', values: [0.5, 2], family: 'SAE' },
      ],
      imageShape: null,
    });
    expect(traces(figure).map((trace) => trace.name)).toEqual(['original', '#1 ica', '#2 sae']);
  });

  it('draws image rows side by side for image patches', () => {
    const figure = reconstruction.toFigure({
      original: [1, 2, 3, 4],
      reconstructions: [{ name: '#1', values: [1, 2, 3, 3], family: 'ICA' }],
      imageShape: [2, 2],
    });
    expect(traces(figure).map((trace) => trace.type)).toEqual(['heatmap', 'heatmap']);
    expect(traces(figure)[1]?.xaxis).toBe('x2');
  });

  it('draws column means within one standard deviation', () => {
    const figure = datasetColumns.toFigure({
      rows: 10,
      mean: [0, 1],
      variance: [4, 0],
      meanNorm: 1,
      nonfiniteRows: 0,
      nonfiniteRowIndices: [],
    });
    const [upper, lower, mean] = traces(figure);
    expect(upper?.y).toEqual([2, 1]);
    expect(lower?.y).toEqual([-2, 1]);
    expect(mean?.y).toEqual([0, 1]);
  });
});

describe('log axis ticks', () => {
  it('steps 1, 2, 5 per decade within the range', () => {
    expect(logTicks(7, 80)).toEqual([10, 20, 50]);
    expect(logTicks(5.7, 42)).toEqual([6, 8, 10, 20, 30, 40]);
    expect(logTicks(1, 1000)).toEqual([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]);
    expect(logTicks(0.03, 0.3)).toEqual([0.05, 0.1, 0.2]);
  });

  it('gives no ticks for empty or non-positive ranges', () => {
    expect(logTicks(0, 10)).toEqual([]);
    expect(logTicks(5, 1)).toEqual([]);
    expect(logTicks(1, Infinity)).toEqual([]);
  });
});
