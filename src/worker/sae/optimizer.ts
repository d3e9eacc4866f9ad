/**
 * The parameter update of one training step (docs/sae.md, Optimiser), in two passes over the
 * large matrices: first every gradient's squared norm (for the global clip; for unit-norm
 * decoder rows, of the gradient's part tangent to the row), then Adam on the tangent part
 * and, for unit-norm decoders, the renormalisation of each row while it is in cache.
 *
 * Both passes work on ranges of rows and are split over the compute threads (threads.ts) when
 * the matrices are on shared memory. Squared norms are summed per block of NORM_BLOCK_ROWS
 * rows and the blocks in order, so the norm, like every updated value, is the same for every
 * thread count.
 */
import { ADAM_BETA1, ADAM_BETA2, adamStepSize } from '../../shared/saeSchedule';
import type { Moments } from './adam';
import type { ParameterName, SaeParameters } from './parameters';
import { onSharedMemory, sharedDoubleScratch } from './scratch';
import { partRange, runSplit } from './threads';

/** Rows per block of the squared-norm sums (the unit of work a thread takes). */
const NORM_BLOCK_ROWS = 64;

/**
 * Cost of one element of either pass, in the multiply-adds of a product (threads.ts splits
 * work above a minimum): scalar JavaScript runs about 16x slower per element than the SIMD
 * product kernels.
 */
const UPDATE_WORK_PER_ELEMENT = 16;

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
 * Updates `parameters` in place from `gradients` (for unit-norm decoder rows, from each
 * row's gradient without its radial part; `gradients` are left as they are) and returns the
 * gradient norm before clipping.
 */
export function applyGradients(
  parameters: SaeParameters,
  gradients: SaeParameters,
  moments: Record<ParameterName, Moments>,
  trained: readonly ParameterName[],
  settings: UpdateSettings,
): number {
  const { dimensions } = parameters;
  const columnsOf = (name: ParameterName): number =>
    name === 'encoderT' || name === 'decoder' ? dimensions : parameters[name].length;
  const unitRows = (name: ParameterName): boolean => name === 'decoder' && settings.unitDecoderRows;

  // Squared gradient norm, the decoder's after the projection.
  let squaredNorm = 0;
  for (const name of trained) {
    squaredNorm += squaredGradientNorm(
      gradients[name],
      unitRows(name) ? parameters[name] : null,
      columnsOf(name),
    );
  }
  const gradientNorm = Math.sqrt(squaredNorm);
  const clip = settings.gradientClip;
  const gradientScale = clip > 0 && gradientNorm > clip ? clip / gradientNorm : 1;

  const { stepSize, epsilon } = adamStepSize(settings.rate, settings.update);
  for (const name of trained) {
    const values = parameters[name];
    const columns = columnsOf(name);
    const rows = values.length / columns;
    const { first, second } = moments[name];
    const shared = [values, gradients[name], first, second].every(onSharedMemory);
    runSplit(
      adamRows,
      shared ? UPDATE_WORK_PER_ELEMENT * values.length : 0,
      (part) => [
        ...partRange(part, rows),
        columns,
        unitRows(name),
        values,
        gradients[name],
        first,
        second,
        [stepSize, epsilon, ADAM_BETA1, ADAM_BETA2, gradientScale],
      ],
      { dependencies: [tangentPart], rerunnable: false },
    );
  }
  return gradientNorm;
}

/**
 * Squared norm of a rows x columns gradient; with `tangentTo`, of each gradient row's part
 * orthogonal to the matching row of `tangentTo` (the gradient itself is left as it is).
 */
function squaredGradientNorm(
  gradient: Float32Array,
  tangentTo: Float32Array | null,
  columns: number,
): number {
  const rows = gradient.length / columns;
  const blocks = Math.ceil(rows / NORM_BLOCK_ROWS);
  const shared = onSharedMemory(gradient) && (tangentTo === null || onSharedMemory(tangentTo));
  const blockSums = sharedDoubleScratch('sae.normBlocks', blocks);
  runSplit(
    squaredRowBlocks,
    shared ? UPDATE_WORK_PER_ELEMENT * gradient.length : 0,
    (part) => [
      ...partRange(part, blocks),
      NORM_BLOCK_ROWS,
      columns,
      gradient,
      tangentTo,
      blockSums,
    ],
    { dependencies: [tangentPart] },
  );
  let sum = 0;
  for (const blockSum of blockSums) sum += blockSum;
  return sum;
}

/**
 * For blocks firstBlock .. endBlock - 1 of `blockRows` rows of a gradient matrix, each
 * block's sum of squares into `blockSums`; with `tangentTo`, of each row's part orthogonal to
 * the matching row of `tangentTo` (|g|^2 - (g.r)^2 / |r|^2, the squared norm of the projection
 * adamRows applies). Reads its inputs only, so a part can be run again. Self-contained:
 * compute threads receive it as source text.
 */
function squaredRowBlocks(
  firstBlock: number,
  endBlock: number,
  blockRows: number,
  columns: number,
  gradient: Float32Array,
  tangentTo: Float32Array | null,
  blockSums: Float64Array,
): void {
  const rows = gradient.length / columns;
  for (let block = firstBlock; block < endBlock; block++) {
    let blockSum = 0;
    const endRow = Math.min(rows, (block + 1) * blockRows);
    for (let r = block * blockRows; r < endRow; r++) {
      const gradientRow = gradient.subarray(r * columns, (r + 1) * columns);
      // Two accumulators each: the sums are chains of dependent additions otherwise.
      let squares0 = 0;
      let squares1 = 0;
      let c = 0;
      for (; c + 1 < columns; c += 2) {
        squares0 += gradientRow[c]! * gradientRow[c]!;
        squares1 += gradientRow[c + 1]! * gradientRow[c + 1]!;
      }
      if (c < columns) squares0 += gradientRow[c]! * gradientRow[c]!;
      let squares = squares0 + squares1;
      if (tangentTo !== null) {
        const row = tangentTo.subarray(r * columns, (r + 1) * columns);
        const { along, dot } = tangentPart(gradientRow, row);
        squares = Math.max(0, squares - along * dot);
      }
      blockSum += squares;
    }
    blockSums[block] = blockSum;
  }
}

/**
 * Adam (Kingma & Ba 2015, with bias correction folded into stepSize and epsilon by
 * adamStepSize) on rows firstRow .. endRow - 1 of a rows x columns parameter matrix, the
 * gradient multiplied by gradientScale (the clip). With `unitRows`, each row's gradient first
 * loses its part along the row (tangentPart, from the row before its update), and the row is
 * scaled back to unit norm right after its update, while it is in cache (a zero row stays
 * zero). `constants`: stepSize, epsilon, beta1, beta2, gradientScale. Updates its inputs in
 * place, so a part cannot be run twice (runSplit's `rerunnable`). Self-contained but for
 * tangentPart, which runSplit sends with it.
 */
export function adamRows(
  firstRow: number,
  endRow: number,
  columns: number,
  unitRows: boolean,
  values: Float32Array,
  gradient: Float32Array,
  first: Float32Array,
  second: Float32Array,
  constants: readonly number[],
): void {
  const [stepSize, epsilon, beta1, beta2, gradientScale] = constants as [
    number,
    number,
    number,
    number,
    number,
  ];
  const keep1 = 1 - beta1;
  const keep2 = 1 - beta2;
  for (let r = firstRow; r < endRow; r++) {
    const start = r * columns;
    const end = start + columns;
    const along = unitRows
      ? tangentPart(gradient.subarray(start, end), values.subarray(start, end)).along
      : 0;
    for (let i = start; i < end; i++) {
      const g = (gradient[i]! - along * values[i]!) * gradientScale;
      const m = beta1 * first[i]! + keep1 * g;
      const v = beta2 * second[i]! + keep2 * g * g;
      first[i] = m;
      second[i] = v;
      values[i] = values[i]! - (stepSize * m) / (Math.sqrt(v) + epsilon);
    }
    if (!unitRows) continue;
    let sum0 = 0;
    let sum1 = 0;
    let i = start;
    for (; i + 1 < end; i += 2) {
      sum0 += values[i]! * values[i]!;
      sum1 += values[i + 1]! * values[i + 1]!;
    }
    if (i < end) sum0 += values[i]! * values[i]!;
    const norm = Math.sqrt(sum0 + sum1);
    if (norm === 0) continue;
    for (i = start; i < end; i++) values[i] = values[i]! / norm;
  }
}

/**
 * The part of `gradientRow` along `row`: the coefficient `along` = (g.r) / |r|^2 (0 for a zero
 * row) and the dot product g.r.
 */
function tangentPart(gradientRow: Float32Array, row: Float32Array): { along: number; dot: number } {
  // Two accumulators each: the sums are chains of dependent additions otherwise.
  let dot0 = 0;
  let dot1 = 0;
  let squared0 = 0;
  let squared1 = 0;
  let c = 0;
  for (; c + 1 < row.length; c += 2) {
    dot0 += gradientRow[c]! * row[c]!;
    dot1 += gradientRow[c + 1]! * row[c + 1]!;
    squared0 += row[c]! * row[c]!;
    squared1 += row[c + 1]! * row[c + 1]!;
  }
  if (c < row.length) {
    dot0 += gradientRow[c]! * row[c]!;
    squared0 += row[c]! * row[c]!;
  }
  const dot = dot0 + dot1;
  const squared = squared0 + squared1;
  return { along: squared > 0 ? dot / squared : 0, dot };
}
