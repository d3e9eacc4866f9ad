/**
 * ICA's own units. Rows are centred on the data mean and multiplied by one global constant
 * `scale` so that E||scale (x - mean)||^2 = L (spec section 3.4: no whitening, which would
 * move the mixing directions). Every code, alpha and likelihood inside src/worker/ica lives
 * in these "scaled units"; FeatureModel converts back to raw units at its boundary.
 */
import type { DataSummary } from '../methods/method';

export interface Scaling {
  /** Per-dimension data mean (raw units), L. */
  mean: Float64Array;
  /** Global multiplier from raw to scaled units. */
  scale: number;
}

/** The scaling for data with the given summary; constant data gets scale 1. */
export function scalingFromSummary(data: DataSummary): Scaling {
  let totalVariance = 0;
  for (let i = 0; i < data.dimensions; i++) totalVariance += data.variance[i] ?? 0;
  // Rounded to float32 so a checkpoint (float32) restores exactly the same units.
  const scale =
    totalVariance > 0 && Number.isFinite(totalVariance)
      ? Math.fround(Math.sqrt(data.dimensions / totalVariance))
      : 1;
  return { mean: Float64Array.from(Float32Array.from(data.mean)), scale };
}

/** Scaled copy (rows x L) of raw rows: scale * (x - mean). */
export function toScaled(
  batch: Float32Array,
  rows: number,
  scaling: Scaling,
  out: Float64Array = new Float64Array(rows * scaling.mean.length),
): Float64Array {
  const dimensions = scaling.mean.length;
  const { mean, scale } = scaling;
  for (let row = 0; row < rows; row++) {
    const offset = row * dimensions;
    for (let i = 0; i < dimensions; i++) {
      out[offset + i] = scale * (batch[offset + i]! - mean[i]!);
    }
  }
  return out;
}
