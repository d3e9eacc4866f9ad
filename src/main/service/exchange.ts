/**
 * Dictionaries in and out of Basis: exports of a run (atoms as .npy, a SAELens folder, the
 * feature statistics as CSV) through src/main/export, and imports of trained SAEs from
 * elsewhere (src/main/export/import.ts), which become completed runs with their own analysis.
 */
import type { ExportFormat, RunSummary } from '../../shared/contract';
import { assertNever, inputError } from '../../shared/errors';
import type { RunConfig } from '../../shared/methods';
import { defaultRunConfig } from '../../shared/runConfig';
import type { ModelSource } from '../../worker/protocol';
import { exportFeaturesCsv } from '../export/featuresCsv';
import { importDictionary } from '../export/import';
import { exportNpyDictionary } from '../export/npyDictionary';
import { exportSaeLens } from '../export/saelens';
import { datasetLocation, type JobManager } from '../jobs/jobManager';
import type { DatasetRecord } from '../store/datasets';
import { toSummary, type RunRecord } from '../store/runs';
import type { Store } from '../store/store';
import { createLogger } from './log';

const log = createLogger('exchange');

export async function exportRunFiles(
  store: Store,
  jobs: JobManager,
  run: RunRecord,
  dataset: DatasetRecord,
  model: ModelSource,
  format: ExportFormat,
  outPath: string,
): Promise<string> {
  switch (format) {
    case 'features-csv': {
      const features = store.analysis.listFeatures(run.id);
      if (features.length === 0) {
        throw inputError(`run ${run.id} has no feature statistics yet (status ${run.status})`);
      }
      await exportFeaturesCsv(outPath, features);
      break;
    }
    case 'npy':
    case 'saelens': {
      const { weights, atoms } = await jobs.runTask(
        { type: 'export-weights', model, dimensions: dataset.columns },
        'weights',
      );
      const features = atoms.length / dataset.columns;
      if (format === 'npy') {
        await exportNpyDictionary(outPath, atoms, features, dataset.columns);
        break;
      }
      const densities = store.analysis.listFeatures(run.id).map((feature) => feature.density);
      await exportSaeLens(outPath, weights, {
        ...(densities.length === features ? { sparsity: Float32Array.from(densities) } : {}),
        metadata: {
          basis_run: run.id,
          basis_method: run.method,
          dataset_path: dataset.path,
          dataset_fingerprint: dataset.fingerprint,
          ...(weights.approximateEncoder
            ? {
                approximate_encoder:
                  'the encoder approximates the model own inference (ICA codes come from MAP ' +
                  'inference, not from this feed-forward encoder)',
              }
            : {}),
        },
      });
      break;
    }
    default:
      assertNever(format, 'export format');
  }
  log.info(`run ${run.id} exported as ${format} to ${outPath}`);
  return outPath;
}

/**
 * Imports the dictionary at `path` as a completed run on `dataset` and analyses it on the
 * dataset's held-out rows, as if Basis had trained it.
 */
export async function importDictionaryFile(
  store: Store,
  jobs: JobManager,
  dataset: DatasetRecord,
  path: string,
): Promise<RunSummary> {
  const imported = await importDictionary(path);
  if (imported.dimensions !== dataset.columns) {
    throw inputError(
      `${path} reads ${imported.dimensions} dimensions but ${dataset.path} has ` +
        `${dataset.columns} columns: import it with the activations it was trained on`,
    );
  }
  const config = {
    ...defaultRunConfig(imported.config.method, dataset.columns),
    ...imported.config,
  } as RunConfig;
  const run = store.runs.create(dataset.id, config, 'imported');
  const startedMs = performance.now();
  store.transaction(() => {
    store.runs.markRunning(run.id, process.pid);
    store.checkpoints.save(run.id, 0, imported.checkpoint);
    store.runs.setWarnings(run.id, [
      `imported from ${path} (${imported.source})`,
      ...imported.warnings,
    ]);
  });
  try {
    const { result } = await jobs.runTask(
      {
        type: 'analyze',
        runId: run.id,
        config,
        model: { config, tensors: imported.checkpoint },
        dataset: datasetLocation(dataset),
      },
      'analysis',
    );
    store.analysis.save(run.id, result);
    store.runs.finish(run.id, 'completed', null, performance.now() - startedMs);
  } catch (error) {
    store.runs.finish(
      run.id,
      'failed',
      {
        kind: 'bug',
        message: `analysis of the imported dictionary failed: ${(error as Error).message}`,
      },
      null,
    );
    throw error;
  }
  return toSummary(store.runs.get(run.id));
}
