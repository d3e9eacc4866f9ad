/**
 * Reconstruction metrics of a dictionary over evaluation batches (spec/sae.md, Metrics),
 * accumulated batch by batch so the evaluation set never has to sit in memory at once.
 *
 *   MSE    = (1/N) sum_n ||x_n - xhat_n||^2 / d
 *   FVU    = sum_n ||x_n - xhat_n||^2 / sum_n ||x_n - mean(x)||^2, mean(x) per dimension over
 *            the evaluation set; explained variance = 1 - FVU
 *   L0, L1 = (1/N) sum_n ||f_n||_0, (1/N) sum_n ||f_n||_1
 *   cosine = (1/N) sum_n cos(x_n, xhat_n); relative norm = (1/N) sum_n ||xhat_n|| / ||x_n||
 *   density_i = fraction of rows where feature i is nonzero
 *
 * The denominator of FVU is accumulated with Welford/Chan updates of per-dimension means and
 * squared deviations in float64, so data offset by a large constant does not inflate it.
 */
import type { Histogram } from '../../shared/contract';

/** Features active in more than this fraction of rows count as dense. */
export const DENSE_DENSITY = 0.1;
/** Bin edges of the log10 density histogram: -10 (dead) .. 0 in steps of 0.5. */
export const DENSITY_HISTOGRAM_EDGES: readonly number[] = Array.from(
  { length: 21 },
  (_, i) => -10 + i * 0.5,
);
/** Added to densities before log10, so dead features land in the first bin. */
export const DENSITY_FLOOR = 1e-10;

export const WORSE_THAN_MEAN_HINT =
  'worse than predicting the mean: the data may not match what the dictionary was trained on';

export interface ReconstructionResult {
  rows: number;
  mse: number;
  fvu: number;
  explainedVariance: number;
  l0: number;
  l1: number;
  cosine: number;
  relativeNorm: number;
  /** Per feature: fraction of rows where it is nonzero. */
  densities: Float64Array;
  deadFeatures: number;
  denseFeatures: number;
  /** Histogram of log10(density + 1e-10) across features. */
  densityHistogram: Histogram;
  /** True when FVU > 1; `hint` then says what it likely means. */
  worseThanMean: boolean;
  hint: string | null;
}

export class ReconstructionMetrics {
  private rows = 0;
  private squaredErrorSum = 0;
  private l0Sum = 0;
  private l1Sum = 0;
  private cosineSum = 0;
  private relativeNormSum = 0;
  /** Rows whose original has zero norm: cosine and relative norm are undefined there. */
  private normRows = 0;
  private readonly mean: Float64Array;
  private readonly squaredDeviation: Float64Array;
  private readonly activeCounts: Float64Array;

  constructor(
    readonly dimensions: number,
    readonly features: number,
  ) {
    this.mean = new Float64Array(dimensions);
    this.squaredDeviation = new Float64Array(dimensions);
    this.activeCounts = new Float64Array(features);
  }

  /**
   * Adds `rows` rows: `original` and `reconstruction` are rows x dimensions, `codes` rows x
   * features, all row-major.
   */
  add(
    original: Float32Array,
    reconstruction: Float32Array,
    codes: Float32Array,
    rows: number,
  ): void {
    if (rows === 0) return;
    const { dimensions, features } = this;

    const batchMean = new Float64Array(dimensions);
    for (let r = 0; r < rows; r++) {
      const base = r * dimensions;
      let squaredError = 0;
      let dot = 0;
      let originalSquared = 0;
      let reconstructionSquared = 0;
      for (let c = 0; c < dimensions; c++) {
        const x = original[base + c]!;
        const y = reconstruction[base + c]!;
        squaredError += (x - y) * (x - y);
        dot += x * y;
        originalSquared += x * x;
        reconstructionSquared += y * y;
        batchMean[c] = batchMean[c]! + x;
      }
      this.squaredErrorSum += squaredError;
      if (originalSquared > 0) {
        const denominator = Math.sqrt(originalSquared * reconstructionSquared);
        this.cosineSum += denominator > 0 ? dot / denominator : 0;
        this.relativeNormSum += Math.sqrt(reconstructionSquared / originalSquared);
        this.normRows++;
      }
    }

    // Per-dimension mean and squared deviations: the batch's own, merged by Chan et al.
    for (let c = 0; c < dimensions; c++) batchMean[c] = batchMean[c]! / rows;
    const batchDeviation = new Float64Array(dimensions);
    for (let r = 0; r < rows; r++) {
      const base = r * dimensions;
      for (let c = 0; c < dimensions; c++) {
        const d = original[base + c]! - batchMean[c]!;
        batchDeviation[c] = batchDeviation[c]! + d * d;
      }
    }
    const total = this.rows + rows;
    for (let c = 0; c < dimensions; c++) {
      const delta = batchMean[c]! - this.mean[c]!;
      this.squaredDeviation[c] =
        this.squaredDeviation[c]! + batchDeviation[c]! + (delta * delta * this.rows * rows) / total;
      this.mean[c] = this.mean[c]! + (delta * rows) / total;
    }
    this.rows = total;

    for (let r = 0; r < rows; r++) {
      const base = r * features;
      for (let j = 0; j < features; j++) {
        const v = codes[base + j]!;
        if (v !== 0) {
          this.l0Sum++;
          this.l1Sum += Math.abs(v);
          this.activeCounts[j] = this.activeCounts[j]! + 1;
        }
      }
    }
  }

  result(): ReconstructionResult {
    const { rows, features } = this;
    let totalVariance = 0;
    for (let c = 0; c < this.dimensions; c++) totalVariance += this.squaredDeviation[c]!;
    // No variance at all: FVU is 0 for a perfect reconstruction, undefined (NaN) otherwise.
    const fvu =
      totalVariance > 0
        ? this.squaredErrorSum / totalVariance
        : this.squaredErrorSum === 0
          ? 0
          : Number.NaN;
    const densities = new Float64Array(features);
    let dead = 0;
    let dense = 0;
    const counts = new Array<number>(DENSITY_HISTOGRAM_EDGES.length - 1).fill(0);
    for (let j = 0; j < features; j++) {
      const density = rows > 0 ? this.activeCounts[j]! / rows : 0;
      densities[j] = density;
      if (density === 0) dead++;
      if (density > DENSE_DENSITY) dense++;
      counts[histogramBin(Math.log10(density + DENSITY_FLOOR))]! += 1;
    }
    const worseThanMean = fvu > 1;
    return {
      rows,
      mse: rows > 0 ? this.squaredErrorSum / (rows * this.dimensions) : Number.NaN,
      fvu,
      explainedVariance: 1 - fvu,
      l0: rows > 0 ? this.l0Sum / rows : Number.NaN,
      l1: rows > 0 ? this.l1Sum / rows : Number.NaN,
      cosine: this.normRows > 0 ? this.cosineSum / this.normRows : Number.NaN,
      relativeNorm: this.normRows > 0 ? this.relativeNormSum / this.normRows : Number.NaN,
      densities,
      deadFeatures: dead,
      denseFeatures: dense,
      densityHistogram: { edges: [...DENSITY_HISTOGRAM_EDGES], counts },
      worseThanMean,
      hint: worseThanMean ? WORSE_THAN_MEAN_HINT : null,
    };
  }
}

function histogramBin(value: number): number {
  const edges = DENSITY_HISTOGRAM_EDGES;
  const bins = edges.length - 1;
  const width = edges[1]! - edges[0]!;
  const bin = Math.floor((value - edges[0]!) / width);
  return Math.min(bins - 1, Math.max(0, bin));
}
