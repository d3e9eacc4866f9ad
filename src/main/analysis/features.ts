/**
 * Per-feature statistics over the evaluation rows (spec/sae.md, "Per-feature statistics"):
 * density, mean, max, excess kurtosis, quantiles and a histogram of the nonzero activations,
 * a Laplacian fit with its goodness of fit, and the top-activating rows.
 *
 * Codes arrive in chunks (rows x features, row-major). Only nonzero activations are kept,
 * per feature, so memory is bounded by the number of nonzero codes of the evaluation set
 * (at most evaluation rows x features). Fits, quantiles and histograms use the nonzero
 * values; density says how many there are. Mean, max and kurtosis use every value.
 */
import type { FeatureSummary, Histogram } from '../../shared/contract';
import { assert } from '../../shared/errors';
import type { FeatureRecord } from './analysisResult';
import { fitLaplace, quantile, type LaplaceKind } from './laplace';

export const QUANTILES = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99] as const;
export const HISTOGRAM_BINS = 40;
export const TOP_EXAMPLES = 20;

/** A growable pair of arrays: the nonzero values of one feature and their rows. */
class NonzeroList {
  values = new Float32Array(16);
  rows = new Int32Array(16);
  length = 0;

  push(value: number, row: number): void {
    if (this.length === this.values.length) {
      const values = new Float32Array(this.length * 2);
      values.set(this.values);
      this.values = values;
      const rows = new Int32Array(this.length * 2);
      rows.set(this.rows);
      this.rows = rows;
    }
    this.values[this.length] = value;
    this.rows[this.length] = row;
    this.length++;
  }
}

export class FeatureStatistics {
  private readonly lists: NonzeroList[];
  private rowCount = 0;

  /** `kind`: two-sided fits for signed (ICA) codes, one-sided for nonnegative (SAE) codes. */
  constructor(
    readonly features: number,
    readonly kind: LaplaceKind,
  ) {
    this.lists = Array.from({ length: features }, () => new NonzeroList());
  }

  get rows(): number {
    return this.rowCount;
  }

  /** Adds codes of `rows` rows (rows x features); `rowIndices[r]` is row r's index in the file. */
  add(codes: Float32Array, rows: number, rowIndices: ArrayLike<number>): void {
    assert(codes.length === rows * this.features, () => `codes hold ${codes.length} values`);
    for (let r = 0; r < rows; r++) {
      const offset = r * this.features;
      const row = rowIndices[r]!;
      for (let f = 0; f < this.features; f++) {
        const value = codes[offset + f]!;
        if (value !== 0) this.lists[f]!.push(value, row);
      }
    }
    this.rowCount += rows;
  }

  /** Densities of every feature so far (fraction of rows with a nonzero code). */
  densities(): Float64Array {
    return Float64Array.from(this.lists, (list) =>
      this.rowCount === 0 ? 0 : list.length / this.rowCount,
    );
  }

  /** Every feature's record; `atoms` are rows (features x dimensions) in data units. */
  finish(atoms: Float32Array, dimensions: number): FeatureRecord[] {
    assert(atoms.length === this.features * dimensions, () => `atoms hold ${atoms.length} values`);
    return this.lists.map((list, index) => {
      const atom = atoms.slice(index * dimensions, (index + 1) * dimensions);
      return { ...this.summarize(list, index, atom), atom };
    });
  }

  private summarize(
    list: NonzeroList,
    index: number,
    atom: Float32Array,
  ): Omit<FeatureRecord, 'atom'> {
    const total = this.rowCount;
    const nonzero = list.values.subarray(0, list.length);
    const moments = momentsWithZeros(nonzero, total);
    const sorted = Float64Array.from(nonzero);
    const laplace = fitLaplace(sorted, this.kind); // sorts `sorted` ascending
    let atomNormSquared = 0;
    for (let i = 0; i < atom.length; i++) atomNormSquared += atom[i]! ** 2;

    const summary: FeatureSummary = {
      index,
      density: total === 0 ? 0 : list.length / total,
      mean: moments.mean,
      max: moments.max,
      kurtosis: moments.excessKurtosis,
      laplace,
      atomNorm: Math.sqrt(atomNormSquared),
    };
    return {
      ...summary,
      histogram: histogram(sorted, this.kind),
      quantiles:
        sorted.length === 0 ? [] : QUANTILES.map((q) => ({ q, value: quantile(sorted, q) })),
      topExamples: topExamples(list, this.kind, TOP_EXAMPLES),
    };
  }
}

/**
 * Mean, max and excess kurtosis m4 / m2^2 - 3 of `total` values of which `nonzero` are the
 * nonzero ones (the rest are zeros). Central moments are summed exactly, not from raw sums.
 */
export function momentsWithZeros(
  nonzero: ArrayLike<number>,
  total: number,
): { mean: number; max: number; excessKurtosis: number } {
  if (total === 0) return { mean: 0, max: 0, excessKurtosis: 0 };
  const zeros = total - nonzero.length;
  let sum = 0;
  let max = zeros > 0 ? 0 : -Infinity;
  for (let i = 0; i < nonzero.length; i++) {
    sum += nonzero[i]!;
    max = Math.max(max, nonzero[i]!);
  }
  const mean = sum / total;
  let m2 = zeros * mean ** 2;
  let m4 = zeros * mean ** 4;
  for (let i = 0; i < nonzero.length; i++) {
    const deviation = nonzero[i]! - mean;
    m2 += deviation ** 2;
    m4 += deviation ** 4;
  }
  m2 /= total;
  m4 /= total;
  return { mean, max, excessKurtosis: m2 > 0 ? m4 / (m2 * m2) - 3 : 0 };
}

/** Histogram of sorted values: symmetric around 0 for signed codes, [0, max] for nonnegative. */
export function histogram(
  sorted: Float64Array,
  kind: LaplaceKind,
  bins = HISTOGRAM_BINS,
): Histogram {
  if (sorted.length === 0) return { edges: [0, 1], counts: [0] };
  const lowest = sorted[0]!;
  const highest = sorted[sorted.length - 1]!;
  const reach = Math.max(Math.abs(lowest), Math.abs(highest)) || 1;
  const low = kind === 'two-sided' ? -reach : Math.min(0, lowest);
  const high = kind === 'two-sided' ? reach : highest > low ? highest : low + 1;
  const width = (high - low) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => low + i * width);
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < sorted.length; i++) {
    const bin = Math.min(bins - 1, Math.max(0, Math.floor((sorted[i]! - low) / width)));
    counts[bin]!++;
  }
  return { edges, counts };
}

/** The strongest activations, strongest first: by value (one-sided) or |value| (two-sided). */
function topExamples(
  list: NonzeroList,
  kind: LaplaceKind,
  count: number,
): { row: number; value: number }[] {
  const strength = (i: number): number =>
    kind === 'two-sided' ? Math.abs(list.values[i]!) : list.values[i]!;
  const order = Array.from({ length: list.length }, (_, i) => i);
  order.sort((a, b) => strength(b) - strength(a) || list.rows[a]! - list.rows[b]!);
  return order.slice(0, count).map((i) => ({ row: list.rows[i]!, value: list.values[i]! }));
}
