/**
 * The worker's view of a dataset: it opens the file itself (data never passes through main),
 * summarises it for the methods from the statistics main recorded, and picks the held-out
 * evaluation rows every run on the dataset shares.
 */
import type { DatasetStatistics } from '../../shared/contract';
import { inputError } from '../../shared/errors';
import { evaluationRowIndices, readRowsAt } from '../../main/formats/batches';
import { openActivations } from '../../main/formats/open';
import type { ActivationSource } from '../../main/formats/source';
import { rowIsFinite } from '../../main/formats/statistics';
import type { DataSummary } from '../methods/method';
import type { DatasetLocation } from '../protocol';

/** Opens the dataset and checks it is still the file main recorded. */
export async function openDataset(dataset: DatasetLocation): Promise<ActivationSource> {
  const source = await openActivations(dataset.path, dataset.options);
  const { rows, columns } = source.description;
  if (rows !== dataset.rows || columns !== dataset.columns) {
    await source.close();
    throw inputError(
      `${dataset.path} changed since it was opened: it now holds ${rows} x ${columns}, ` +
        `recorded ${dataset.rows} x ${dataset.columns}; open it again`,
    );
  }
  return source;
}

/** The methods' summary of the data, from the dataset statistics (raw units). */
export function dataSummary(statistics: DatasetStatistics, columns: number): DataSummary {
  const mean = Float32Array.from(statistics.mean);
  const variance = Float32Array.from(statistics.variance);
  let meanSquaredNorm = 0;
  // E||x||^2 = sum_j (Var x_j + (E x_j)^2)
  for (let j = 0; j < columns; j++) meanSquaredNorm += variance[j]! + mean[j]! ** 2;
  return { dimensions: columns, mean, variance, meanSquaredNorm };
}

/**
 * The held-out rows of a dataset: the same for every run of it (see evaluationRowIndices),
 * at most half of the rows so training keeps the rest.
 */
export function evaluationRows(totalRows: number, wanted: number): Uint32Array {
  return evaluationRowIndices(totalRows, Math.min(wanted, Math.floor(totalRows / 2)));
}

/**
 * Reads the rows at `indices`; with `skipNonfinite` rows holding NaN or infinity are
 * dropped (their indices too), otherwise they are refused with the row named.
 */
export async function readFiniteRows(
  source: ActivationSource,
  indices: Uint32Array,
  skipNonfinite: boolean,
): Promise<{ values: Float32Array; indices: Uint32Array }> {
  const columns = source.description.columns;
  const values = await readRowsAt(source, indices);
  const kept: number[] = [];
  for (let r = 0; r < indices.length; r++) {
    if (rowIsFinite(values, r * columns, columns)) {
      kept.push(r);
    } else if (!skipNonfinite) {
      throw inputError(
        `${source.description.path}: row ${indices[r]} holds NaN or infinity; drop such rows ` +
          'with --skip-nonfinite (skipNonfinite: true) or fix the data',
      );
    }
  }
  if (kept.length === indices.length) return { values, indices };
  const compact = new Float32Array(kept.length * columns);
  kept.forEach((r, k) => compact.set(values.subarray(r * columns, (r + 1) * columns), k * columns));
  return { values: compact, indices: Uint32Array.from(kept, (r) => indices[r]!) };
}
