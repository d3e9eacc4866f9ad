/**
 * Summary statistics of a dataset in one streaming pass over row blocks: per-column mean and
 * variance of the finite rows, their mean Euclidean norm, and the rows holding NaN or
 * infinity (all zero when no row is finite). Memory: one block (about 4 MB of float32) plus
 * O(columns) accumulators.
 */
import type { DatasetStatistics } from '../../shared/contract';
import { CancelledError } from '../../shared/errors';
import type { ActivationSource } from './source';

/** Indices of non-finite rows kept for the report. */
export const MAX_REPORTED_NONFINITE_ROWS = 100;

const BLOCK_BYTES = 4 << 20;

export interface StatisticsOptions {
  signal?: AbortSignal;
  onProgress?: (rowsDone: number) => void;
}

/** Rows per block so a block holds about `bytes` of float32 (at least one row). */
export function rowsPerBlock(columns: number, bytes = BLOCK_BYTES): number {
  return Math.max(1, Math.floor(bytes / (4 * Math.max(1, columns))));
}

/** True when row values[offset .. offset + columns) holds no NaN or infinity. */
export function rowIsFinite(values: Float32Array, offset: number, columns: number): boolean {
  // x * 0 is NaN exactly when x is NaN or infinite; summing without branches is fastest.
  let probe = 0;
  const end = offset + columns;
  let j = offset;
  for (; j + 4 <= end; j += 4) {
    probe += values[j]! * 0 + values[j + 1]! * 0 + values[j + 2]! * 0 + values[j + 3]! * 0;
  }
  for (; j < end; j++) probe += values[j]! * 0;
  return probe === 0;
}

/**
 * Per-column mean and (population) variance by merging block moments (Chan, Golub & LeVeque
 * 1979): each block's mean and sum of squared deviations are computed in float64 around the
 * block mean, then combined, so large offsets do not cancel catastrophically.
 */
export async function computeStatistics(
  source: ActivationSource,
  options: StatisticsOptions = {},
): Promise<DatasetStatistics> {
  const { rows, columns } = source.description;
  const blockRows = rowsPerBlock(columns);
  const block = new Float32Array(blockRows * columns);
  const finite = new Uint8Array(blockRows);

  const mean = new Float64Array(columns);
  const squares = new Float64Array(columns);
  const blockMean = new Float64Array(columns);
  const blockSquares = new Float64Array(columns);
  let count = 0;
  let normSum = 0;
  let nonfiniteRows = 0;
  const nonfiniteRowIndices: number[] = [];

  for (let first = 0; first < rows; first += blockRows) {
    if (options.signal?.aborted) throw new CancelledError('statistics cancelled');
    const rowCount = Math.min(blockRows, rows - first);
    await source.readRows(first, rowCount, block);

    // Finite rows of the block, their norms, and the block mean.
    blockMean.fill(0);
    let blockCount = 0;
    for (let r = 0; r < rowCount; r++) {
      const offset = r * columns;
      if (!rowIsFinite(block, offset, columns)) {
        finite[r] = 0;
        nonfiniteRows++;
        if (nonfiniteRowIndices.length < MAX_REPORTED_NONFINITE_ROWS) {
          nonfiniteRowIndices.push(first + r);
        }
        continue;
      }
      finite[r] = 1;
      blockCount++;
      let norm = 0;
      for (let j = 0; j < columns; j++) {
        const value = block[offset + j]!;
        blockMean[j] = blockMean[j]! + value;
        norm += value * value;
      }
      normSum += Math.sqrt(norm);
    }
    if (blockCount === 0) {
      options.onProgress?.(first + rowCount);
      continue;
    }
    for (let j = 0; j < columns; j++) blockMean[j] = blockMean[j]! / blockCount;

    // Squared deviations around the block mean.
    blockSquares.fill(0);
    for (let r = 0; r < rowCount; r++) {
      if (!finite[r]) continue;
      const offset = r * columns;
      for (let j = 0; j < columns; j++) {
        const deviation = block[offset + j]! - blockMean[j]!;
        blockSquares[j] = blockSquares[j]! + deviation * deviation;
      }
    }

    // Merge with the running moments.
    const total = count + blockCount;
    for (let j = 0; j < columns; j++) {
      const delta = blockMean[j]! - mean[j]!;
      mean[j] = mean[j]! + (delta * blockCount) / total;
      squares[j] = squares[j]! + blockSquares[j]! + (delta * delta * count * blockCount) / total;
    }
    count = total;
    options.onProgress?.(first + rowCount);
  }

  return {
    rows,
    mean: Array.from(mean, (value) => (count > 0 ? value : 0)),
    variance: Array.from(squares, (value) => (count > 0 ? value / count : 0)),
    meanNorm: count > 0 ? normSum / count : 0,
    nonfiniteRows,
    nonfiniteRowIndices,
  };
}
