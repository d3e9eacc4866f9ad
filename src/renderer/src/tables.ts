/**
 * Sorting and filtering of the feature list and the runs table. NaN and missing values sort
 * last whichever the direction, so that a dead feature's undefined kurtosis never tops a list.
 */
import type { FeatureSummary, RunSummary } from '../../shared/contract';
import { baseName } from './format';
import { sparsityValue } from './knobs';

export type Direction = 'ascending' | 'descending';

export interface SortOrder<K extends string> {
  key: K;
  direction: Direction;
}

function compareNumbers(a: number | null, b: number | null, direction: Direction): number {
  const aMissing = a === null || !Number.isFinite(a);
  const bMissing = b === null || !Number.isFinite(b);
  if (aMissing || bMissing) return aMissing === bMissing ? 0 : aMissing ? 1 : -1;
  return direction === 'ascending' ? a - b : b - a;
}

// ---------------------------------------------------------------------------------------------
// Features

export const FEATURE_SORT_KEYS = ['index', 'density', 'kurtosis', 'ks', 'llr', 'max'] as const;
export type FeatureSortKey = (typeof FEATURE_SORT_KEYS)[number];

export const FEATURE_SORT_LABELS: Readonly<Record<FeatureSortKey, string>> = {
  index: 'Index',
  density: 'Density',
  kurtosis: 'Kurtosis',
  ks: 'Laplace fit (KS)',
  llr: 'Laplace vs Gauss (LLR)',
  max: 'Max activation',
};

function featureValue(feature: FeatureSummary, key: FeatureSortKey): number | null {
  switch (key) {
    case 'index':
      return feature.index;
    case 'density':
      return feature.density;
    case 'kurtosis':
      return feature.kurtosis;
    case 'ks':
      return feature.laplace?.ksDistance ?? null;
    case 'llr':
      return feature.laplace?.logLikelihoodRatio ?? null;
    case 'max':
      return feature.max;
  }
}

/** A sorted copy; ties keep the feature order. */
export function sortFeatures(
  features: readonly FeatureSummary[],
  order: SortOrder<FeatureSortKey>,
): FeatureSummary[] {
  const keyed = features.map((feature) => ({ feature, value: featureValue(feature, order.key) }));
  keyed.sort(
    (a, b) =>
      compareNumbers(a.value, b.value, order.direction) || a.feature.index - b.feature.index,
  );
  return keyed.map((entry) => entry.feature);
}

// ---------------------------------------------------------------------------------------------
// Runs

export const RUN_SORT_KEYS = [
  'id',
  'method',
  'status',
  'features',
  'sparsity',
  'l0',
  'explainedVariance',
  'mse',
  'bitsPerDimension',
  'deadFeatures',
  'elapsed',
] as const;
export type RunSortKey = (typeof RUN_SORT_KEYS)[number];

function runValue(run: RunSummary, key: RunSortKey): number | string | null {
  const metrics = run.metrics;
  switch (key) {
    case 'id':
      return run.id;
    case 'method':
      return run.method;
    case 'status':
      return run.status;
    case 'features':
      return run.config.features;
    case 'sparsity':
      return sparsityValue(run.config);
    case 'l0':
      return metrics?.l0 ?? null;
    case 'explainedVariance':
      return metrics?.explainedVariance ?? null;
    case 'mse':
      return metrics?.mse ?? null;
    case 'bitsPerDimension':
      return metrics?.bitsPerDimension ?? null;
    case 'deadFeatures':
      return metrics?.deadFeatures ?? null;
    case 'elapsed':
      return run.elapsedMs;
  }
}

export function sortRuns(runs: readonly RunSummary[], order: SortOrder<RunSortKey>): RunSummary[] {
  return [...runs].sort((a, b) => {
    const x = runValue(a, order.key);
    const y = runValue(b, order.key);
    if (typeof x === 'string' || typeof y === 'string') {
      const text = String(x ?? '').localeCompare(String(y ?? ''));
      return (order.direction === 'ascending' ? text : -text) || a.id - b.id;
    }
    return compareNumbers(x, y, order.direction) || a.id - b.id;
  });
}

/**
 * Keeps runs whose method, status, dataset file name or id contain every word of `query`
 * (case-insensitive).
 */
export function filterRuns(runs: readonly RunSummary[], query: string): RunSummary[] {
  const words = query
    .toLowerCase()
    .split(/\s+/)
    .filter((word) => word !== '');
  if (words.length === 0) return [...runs];
  return runs.filter((run) => {
    const text =
      `#${run.id} ${run.method} ${run.status} ${baseName(run.datasetPath)}`.toLowerCase();
    return words.every((word) => text.includes(word));
  });
}

export function toggleOrder<K extends string>(current: SortOrder<K>, key: K): SortOrder<K> {
  if (current.key !== key) return { key, direction: 'descending' };
  return { key, direction: current.direction === 'ascending' ? 'descending' : 'ascending' };
}
