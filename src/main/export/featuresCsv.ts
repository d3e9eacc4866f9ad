/**
 * Export of per-feature statistics as CSV: one header line, one line per feature, numbers in
 * full precision (JavaScript's shortest round-trip form), NaN and infinities spelled out.
 */
import type { FeatureSummary } from '../../shared/contract';
import { writeFileAtomic } from './atomicWrite';

export const FEATURE_CSV_COLUMNS = [
  'feature',
  'density',
  'mean',
  'max',
  'kurtosis',
  'atom_norm',
  'laplace_kind',
  'laplace_location',
  'laplace_scale',
  'laplace_ks_distance',
  'laplace_log_likelihood_ratio',
] as const;

export function featuresCsv(features: readonly FeatureSummary[]): string {
  const lines = [FEATURE_CSV_COLUMNS.join(',')];
  for (const f of features) {
    lines.push(
      [
        String(f.index),
        number(f.density),
        number(f.mean),
        number(f.max),
        number(f.kurtosis),
        number(f.atomNorm),
        f.laplace.kind,
        number(f.laplace.location),
        number(f.laplace.scale),
        number(f.laplace.ksDistance),
        number(f.laplace.logLikelihoodRatio),
      ].join(','),
    );
  }
  return lines.join('\n') + '\n';
}

/** Writes the statistics to a new CSV file at `path`. */
export async function exportFeaturesCsv(
  path: string,
  features: readonly FeatureSummary[],
): Promise<void> {
  await writeFileAtomic(path, featuresCsv(features));
}

function number(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return String(value);
}
