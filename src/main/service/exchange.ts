/**
 * Dictionaries in and out of Basis: exports of a run (atoms as .npy, a SAELens folder, the
 * feature statistics as CSV) through src/main/export, and imports of trained SAEs from
 * elsewhere, which become completed runs with their own analysis.
 */
import type { ExportFormat, RunSummary } from '../../shared/contract';
import { inputError } from '../../shared/errors';
import type { NamedTensors } from '../../shared/tensors';
import type { SaeLensWeights } from '../../worker/methods/method';
import type { ModelSource } from '../../worker/protocol';
import type { JobManager } from '../jobs/jobManager';
import type { DatasetRecord } from '../store/datasets';
import type { RunRecord } from '../store/runs';
import type { Store } from '../store/store';

const WEIGHT_NAMES = ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const;

/** Imported weights are stored as the run's checkpoint under their SAELens names. */
export function weightsToTensors(weights: SaeLensWeights): NamedTensors {
  const features = weights.b_enc.length;
  const dimensions = weights.b_dec.length;
  const tensors: NamedTensors = {
    W_enc: { shape: [dimensions, features], values: weights.W_enc },
    b_enc: { shape: [features], values: weights.b_enc },
    W_dec: { shape: [features, dimensions], values: weights.W_dec },
    b_dec: { shape: [dimensions], values: weights.b_dec },
    architecture: {
      shape: [1],
      values: Float32Array.of(['standard', 'topk', 'jumprelu'].indexOf(weights.architecture)),
    },
    k: { shape: [1], values: Float32Array.of(weights.k ?? 0) },
    approximate_encoder: { shape: [1], values: Float32Array.of(weights.approximateEncoder ? 1 : 0) },
  };
  if (weights.threshold) tensors.threshold = { shape: [features], values: weights.threshold };
  return tensors;
}

export function importedModelSource(tensors: NamedTensors): ModelSource {
  for (const name of WEIGHT_NAMES) {
    if (!tensors[name]) throw inputError(`the stored dictionary lacks ${name}`);
  }
  const architecture =
    (['standard', 'topk', 'jumprelu'] as const)[tensors.architecture?.values[0] ?? 0] ?? 'standard';
  const k = tensors.k?.values[0] ?? 0;
  const weights: SaeLensWeights = {
    architecture,
    W_enc: tensors.W_enc!.values,
    b_enc: tensors.b_enc!.values,
    W_dec: tensors.W_dec!.values,
    b_dec: tensors.b_dec!.values,
    approximateEncoder: (tensors.approximate_encoder?.values[0] ?? 0) === 1,
    ...(tensors.threshold ? { threshold: tensors.threshold.values } : {}),
    ...(k > 0 ? { k } : {}),
  };
  return { kind: 'weights', weights };
}

export async function importDictionaryFile(
  _store: Store,
  _jobs: JobManager,
  _dataset: DatasetRecord,
  _path: string,
): Promise<RunSummary> {
  throw inputError('importing dictionaries is not available yet');
}

export async function exportRunFiles(
  _store: Store,
  _jobs: JobManager,
  _run: RunRecord,
  _dataset: DatasetRecord,
  _model: ModelSource,
  _format: ExportFormat,
  _outPath: string,
): Promise<string> {
  throw inputError('exports are not available yet');
}
