import { describe, expect, it } from 'vitest';
import type { FeatureSummary, RunSummary } from '../../../src/shared/contract';
import { defaultRunConfig } from '../../../src/shared/runConfig';
import type { Method } from '../../../src/shared/methods';
import { METHODS } from '../../../src/shared/methods';
import {
  baseName,
  formatBytes,
  formatDuration,
  formatNumber,
  splitMarkedLabel,
} from '../../../src/renderer/src/format';
import { knobsOf, sparsityField } from '../../../src/renderer/src/knobs';
import { formatRoute, numberParam, parseRoute } from '../../../src/renderer/src/routes';
import { filterRuns, sortFeatures, sortRuns, toggleOrder } from '../../../src/renderer/src/tables';
import { scrollToReveal, visibleRange } from '../../../src/renderer/src/windowing';
import { createApiProxy } from '../../../src/renderer/src/api/transport';
import { API_METHOD_NAMES } from '../../../src/shared/contract';

function feature(index: number, density: number, kurtosis: number, ks: number): FeatureSummary {
  return {
    index,
    density,
    mean: 0,
    max: 1,
    kurtosis,
    atomNorm: 1,
    laplace: { kind: 'two-sided', location: 0, scale: 1, ksDistance: ks, logLikelihoodRatio: 0 },
  };
}

function run(
  id: number,
  method: Method,
  status: RunSummary['status'],
  l0: number | null,
): RunSummary {
  return {
    id,
    datasetId: 1,
    datasetPath: `/data/run${id}/acts.npy`,
    method,
    config: defaultRunConfig(method, 8),
    backend: null,
    status,
    step: 0,
    createdAt: '',
    startedAt: null,
    finishedAt: null,
    elapsedMs: null,
    peakMemoryBytes: null,
    error: null,
    warnings: [],
    metrics:
      l0 === null
        ? null
        : {
            evaluationRows: 1,
            mse: 0,
            fvu: 0,
            explainedVariance: 1,
            l0,
            l1: 0,
            cosine: 1,
            relativeNorm: 1,
            deadFeatures: 0,
            denseFeatures: 0,
            densityHistogram: { edges: [], counts: [] },
            bitsPerDimension: null,
            kktResidual: null,
            kktConverged: null,
          },
  };
}

describe('windowing of long lists', () => {
  it('renders the visible rows and the overscan, clamped to the list', () => {
    expect(visibleRange(16384, 30, 0, 600, 8)).toEqual({ start: 0, end: 28 });
    expect(visibleRange(16384, 30, 30 * 1000, 600, 8)).toEqual({ start: 992, end: 1028 });
    expect(visibleRange(16384, 30, 30 * 16384, 600, 8)).toEqual({ start: 16376, end: 16384 });
  });

  it('renders nothing for an empty list or a zero row height', () => {
    expect(visibleRange(0, 30, 0, 600)).toEqual({ start: 0, end: 0 });
    expect(visibleRange(10, 0, 0, 600)).toEqual({ start: 0, end: 0 });
  });

  it('scrolls just enough to reveal a row, and not at all when it is visible', () => {
    expect(scrollToReveal(5, 30, 0, 300)).toBeNull();
    expect(scrollToReveal(20, 30, 0, 300)).toBe(20 * 30 + 30 - 300);
    expect(scrollToReveal(2, 30, 300, 300)).toBe(60);
  });
});

describe('sorting and filtering', () => {
  const features = [
    feature(0, 0.1, 3, 0.2),
    feature(1, 0.5, NaN, 0.1),
    feature(2, 0.3, 9, 0.3),
    feature(3, 0.5, 1, 0.05),
  ];

  it('sorts features by density, ties by index', () => {
    const sorted = sortFeatures(features, { key: 'density', direction: 'descending' });
    expect(sorted.map((item) => item.index)).toEqual([1, 3, 2, 0]);
  });

  it('puts NaN kurtosis last in both directions', () => {
    expect(
      sortFeatures(features, { key: 'kurtosis', direction: 'descending' }).map(
        (item) => item.index,
      ),
    ).toEqual([2, 0, 3, 1]);
    expect(
      sortFeatures(features, { key: 'kurtosis', direction: 'ascending' }).map((item) => item.index),
    ).toEqual([3, 0, 2, 1]);
  });

  it('sorts by the Laplace fit, best (smallest KS) first', () => {
    expect(sortFeatures(features, { key: 'ks', direction: 'ascending' })[0]?.index).toBe(3);
  });

  it('leaves the input untouched and handles an empty list', () => {
    sortFeatures(features, { key: 'density', direction: 'ascending' });
    expect(features.map((item) => item.index)).toEqual([0, 1, 2, 3]);
    expect(sortFeatures([], { key: 'density', direction: 'ascending' })).toEqual([]);
  });

  const runs = [
    run(1, 'ica', 'completed', 30),
    run(2, 'sae-topk', 'completed', 8),
    run(3, 'sae-relu', 'failed', null),
  ];

  it('sorts runs by metric with missing metrics last, and by name', () => {
    expect(sortRuns(runs, { key: 'l0', direction: 'ascending' }).map((item) => item.id)).toEqual([
      2, 1, 3,
    ]);
    expect(sortRuns(runs, { key: 'l0', direction: 'descending' }).map((item) => item.id)).toEqual([
      1, 2, 3,
    ]);
    expect(
      sortRuns(runs, { key: 'method', direction: 'ascending' }).map((item) => item.method),
    ).toEqual(['ica', 'sae-relu', 'sae-topk']);
  });

  it('filters runs by every word of the query', () => {
    expect(filterRuns(runs, 'sae').map((item) => item.id)).toEqual([2, 3]);
    expect(filterRuns(runs, 'SAE failed').map((item) => item.id)).toEqual([3]);
    expect(filterRuns(runs, '#1').map((item) => item.id)).toEqual([1]);
    expect(filterRuns(runs, '  ')).toHaveLength(3);
  });

  it('toggles the direction on the same key and starts descending on a new one', () => {
    expect(toggleOrder({ key: 'l0', direction: 'descending' }, 'l0')).toEqual({
      key: 'l0',
      direction: 'ascending',
    });
    expect(toggleOrder({ key: 'l0', direction: 'ascending' }, 'mse')).toEqual({
      key: 'mse',
      direction: 'descending',
    });
  });
});

describe('formatting', () => {
  it('prints numbers compactly and missing values as a dash', () => {
    expect(formatNumber(0.123456)).toBe('0.123');
    expect(formatNumber(1234567)).toBe('1.23e+6');
    expect(formatNumber(0.0000123)).toBe('1.23e-5');
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(NaN)).toBe('—');
    expect(formatNumber(null)).toBe('—');
  });

  it('prints sizes and durations in readable units', () => {
    expect(formatBytes(4194304)).toBe('4.0 MiB');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(200)).toBe('3 min 20 s');
    expect(formatDuration(7500)).toBe('2 h 05 min');
    expect(formatDuration(-1)).toBe('—');
  });

  it('splits a label around its [[marked]] token', () => {
    expect(splitMarkedLabel('Once upon a [[time]], there')).toEqual([
      { text: 'Once upon a ', marked: false },
      { text: 'time', marked: true },
      { text: ', there', marked: false },
    ]);
    expect(splitMarkedLabel('plain')).toEqual([{ text: 'plain', marked: false }]);
    expect(splitMarkedLabel('')).toEqual([]);
    expect(splitMarkedLabel('[[ a]]')).toEqual([{ text: ' a', marked: true }]);
  });

  it('takes the last segment of POSIX and Windows paths', () => {
    expect(baseName('/data/acts.npy')).toBe('acts.npy');
    expect(baseName('C:\\data\\acts.npy')).toBe('acts.npy');
  });
});

describe('routes', () => {
  it('round-trips a view and its parameters through the hash', () => {
    const hash = formatRoute('features', { run: 3, feature: 12, empty: '' });
    expect(hash).toBe('#/features?run=3&feature=12');
    const route = parseRoute(hash);
    expect(route.view).toBe('features');
    expect(numberParam(route.params, 'run')).toBe(3);
    expect(numberParam(route.params, 'missing')).toBeNull();
  });

  it('falls back to datasets for unknown views and refuses non-numeric ids', () => {
    expect(parseRoute('#/nowhere').view).toBe('datasets');
    expect(parseRoute('').view).toBe('datasets');
    expect(numberParam({ run: 'abc' }, 'run')).toBeNull();
    expect(numberParam({ run: '-1' }, 'run')).toBeNull();
  });
});

describe('run form knobs', () => {
  it('names a sparsity knob for every method but complete ICA', () => {
    expect(METHODS.map(sparsityField)).toEqual(['alpha', null, 'l1', 'k', 'k', 'sparsity']);
  });

  it('covers every configuration field, the main ones first, each explained', () => {
    for (const method of METHODS) {
      const config = defaultRunConfig(method, 16);
      const { main, advanced } = knobsOf(config);
      const fields = [...main, ...advanced].map((knob) => knob.field).sort();
      expect(fields).toEqual(
        Object.keys(config)
          .filter((field) => field !== 'method')
          .sort(),
      );
      expect(main[0]?.field).toBe('features');
      for (const knob of [...main, ...advanced])
        expect(knob.help, `${method}.${knob.field}`).not.toBe('');
    }
  });
});

describe('API proxy', () => {
  it('forwards every contract method by name with its arguments', async () => {
    const calls: [string, unknown[]][] = [];
    const api = createApiProxy(async (method, args) => {
      calls.push([method, args]);
      return method;
    });
    for (const method of API_METHOD_NAMES) {
      const callable = api[method] as (...args: unknown[]) => Promise<unknown>;
      expect(await callable(1, 'x')).toBe(method);
    }
    expect(calls.map(([method]) => method)).toEqual([...API_METHOD_NAMES]);
    expect(calls[0]?.[1]).toEqual([1, 'x']);
  });
});
