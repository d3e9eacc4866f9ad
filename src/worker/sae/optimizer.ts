/**
 * The parameter update of one training step (docs/sae.md, Optimiser), in as few passes over
 * the large matrices as the order of its parts allows: the tangent projection of unit-norm
 * decoder rows' gradients together with their squared norm, the global norm clip, then Adam
 * and, for unit-norm decoders, the renormalisation of each row while it is in cache.
 */
import type { Moments } from './adam';
import { adamUpdate } from './adam';
import { rowNorm } from './dense';
import type { ParameterName, SaeParameters } from './parameters';

export interface UpdateSettings {
  /** Decoder rows held at unit norm (every architecture but ReLU). */
  unitDecoderRows: boolean;
  /** Global gradient-norm clip (0: off). */
  gradientClip: number;
  rate: number;
  /** Adam's update count, from 1. */
  update: number;
}

/**
 * Updates `parameters` in place from `gradients` (whose decoder rows lose their radial part
 * when rows are unit norm) and returns the gradient norm before clipping.
 */
export function applyGradients(
  parameters: SaeParameters,
  gradients: SaeParameters,
  moments: Record<ParameterName, Moments>,
  trained: readonly ParameterName[],
  settings: UpdateSettings,
): number {
  const { dimensions, features } = parameters;

  // Squared gradient norm, the decoder's after the projection.
  let squaredNorm = 0;
  for (const name of trained) {
    squaredNorm +=
      name === 'decoder' && settings.unitDecoderRows
        ? projectTangent(gradients.decoder, parameters.decoder, features, dimensions)
        : squaredSum(gradients[name]);
  }
  const gradientNorm = Math.sqrt(squaredNorm);
  const clip = settings.gradientClip;
  const gradientScale = clip > 0 && gradientNorm > clip ? clip / gradientNorm : 1;

  // Adam, renormalising each unit-norm decoder row right after its update.
  for (const name of trained) {
    const values = parameters[name];
    if (name !== 'decoder' || !settings.unitDecoderRows) {
      adamUpdate(
        values,
        gradients[name],
        moments[name],
        settings.rate,
        settings.update,
        gradientScale,
      );
      continue;
    }
    for (let j = 0; j < features; j++) {
      const start = j * dimensions;
      const end = start + dimensions;
      adamUpdate(
        values,
        gradients.decoder,
        moments.decoder,
        settings.rate,
        settings.update,
        gradientScale,
        start,
        end,
      );
      normalizeRow(values, start, end);
    }
  }
  return gradientNorm;
}

/**
 * Removes from each gradient row its part along the matching row of `rows` (the component
 * that would change the row's norm); returns the squared norm of the result.
 */
function projectTangent(
  gradient: Float32Array,
  rows: Float32Array,
  count: number,
  columns: number,
): number {
  let squaredNorm = 0;
  for (let j = 0; j < count; j++) {
    const gradientRow = gradient.subarray(j * columns, (j + 1) * columns);
    const row = rows.subarray(j * columns, (j + 1) * columns);
    // Two accumulators each: the sums are chains of dependent additions otherwise.
    let dot0 = 0;
    let dot1 = 0;
    let squared0 = 0;
    let squared1 = 0;
    let c = 0;
    for (; c + 1 < columns; c += 2) {
      const r0 = row[c]!;
      const r1 = row[c + 1]!;
      dot0 += gradientRow[c]! * r0;
      dot1 += gradientRow[c + 1]! * r1;
      squared0 += r0 * r0;
      squared1 += r1 * r1;
    }
    if (c < columns) {
      dot0 += gradientRow[c]! * row[c]!;
      squared0 += row[c]! * row[c]!;
    }
    const squared = squared0 + squared1;
    const along = squared > 0 ? (dot0 + dot1) / squared : 0;
    let result0 = 0;
    let result1 = 0;
    for (c = 0; c + 1 < columns; c += 2) {
      gradientRow[c] = gradientRow[c]! - along * row[c]!;
      gradientRow[c + 1] = gradientRow[c + 1]! - along * row[c + 1]!;
      result0 += gradientRow[c]! * gradientRow[c]!;
      result1 += gradientRow[c + 1]! * gradientRow[c + 1]!;
    }
    if (c < columns) {
      gradientRow[c] = gradientRow[c]! - along * row[c]!;
      result0 += gradientRow[c]! * gradientRow[c]!;
    }
    squaredNorm += result0 + result1;
  }
  return squaredNorm;
}

/** Sum of squares, over four accumulators (independent chains of additions). */
export function squaredSum(values: Float32Array): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < values.length; i += 4) {
    const v0 = values[i]!;
    const v1 = values[i + 1]!;
    const v2 = values[i + 2]!;
    const v3 = values[i + 3]!;
    s0 += v0 * v0;
    s1 += v1 * v1;
    s2 += v2 * v2;
    s3 += v3 * v3;
  }
  for (; i < values.length; i++) s0 += values[i]! * values[i]!;
  return s0 + s1 + s2 + s3;
}

/** Scales values[start .. end) to unit norm (a zero row stays zero). */
export function normalizeRow(values: Float32Array, start: number, end: number): void {
  const row = values.subarray(start, end);
  const norm = rowNorm(row, 0, row.length);
  if (norm === 0) return;
  for (let c = 0; c < row.length; c++) row[c] = row[c]! / norm;
}
