/**
 * The worker's tasks other than training: the analysis pass alone (imported dictionaries)
 * and reconstructions of chosen rows.
 */
import { inputError } from '../../shared/errors';
import { isIcaMethod } from '../../shared/methods';
import { readRowsAt } from '../../main/formats/batches';
import { initializeBackend } from '../backend';
import type { AnalyzeTask, ReconstructTask, WeightsTask } from '../protocol';
import { analyzeModel } from './analysis';
import type { Channel } from './channel';
import { dataSummary, openDataset } from './data';
import { peakMemoryBytes } from './memory';
import { buildModel } from './models';

export async function runAnalysis(task: AnalyzeTask, channel: Channel): Promise<void> {
  const backend = await initializeBackend();
  channel.send({ type: 'started', backend, pid: process.pid });
  const startedMs = performance.now();
  const source = await openDataset(task.dataset);
  try {
    const columns = source.description.columns;
    const model = buildModel(task.model, columns);
    const signed = isIcaMethod(task.config.method);
    const result = await analyzeModel(model, source, {
      evaluationRows: task.config.evaluationRows,
      skipNonfinite: task.config.skipNonfinite,
      laplaceKind: signed ? 'two-sided' : 'one-sided',
      data: dataSummary(task.dataset.statistics, columns),
      cancelled: () => channel.cancelled(),
      onProgress: (fraction) =>
        channel.send({
          type: 'progress',
          records: [],
          progress: {
            step: 0,
            totalSteps: 0,
            phase: `evaluating ${Math.round(100 * fraction)}%`,
            rowsPerSecond: 0,
            etaSeconds: null,
            elapsedMs: performance.now() - startedMs,
            latest: null,
            peakMemoryBytes: peakMemoryBytes(),
          },
        }),
    });
    channel.send({ type: 'analysis', result });
    channel.send({
      type: 'done',
      step: 0,
      elapsedMs: performance.now() - startedMs,
      peakMemoryBytes: peakMemoryBytes(),
    });
  } finally {
    await source.close();
  }
}

export async function runReconstruction(task: ReconstructTask, channel: Channel): Promise<void> {
  await initializeBackend();
  const source = await openDataset(task.dataset);
  try {
    const { rows: totalRows, columns } = source.description;
    for (const row of task.rows) {
      if (!Number.isInteger(row) || row < 0 || row >= totalRows) {
        throw inputError(`row ${row} is outside the dataset (rows 0 to ${totalRows - 1})`);
      }
    }
    const model = buildModel(task.model, columns);
    const values = await readRowsAt(source, task.rows);
    const codes = model.encode(values, task.rows.length);
    const reconstruction = model.decode(codes, task.rows.length);
    const rows = task.rows.map((row, r) => {
      const original = Array.from(values.subarray(r * columns, (r + 1) * columns));
      const rebuilt = Array.from(reconstruction.subarray(r * columns, (r + 1) * columns));
      let squaredError = 0;
      for (let c = 0; c < columns; c++) squaredError += (original[c]! - rebuilt[c]!) ** 2;
      let activeFeatures = 0;
      for (let f = 0; f < model.features; f++) {
        if (codes[r * model.features + f] !== 0) activeFeatures++;
      }
      return { row, original, reconstruction: rebuilt, squaredError, activeFeatures };
    });
    channel.send({ type: 'reconstructions', rows });
    channel.send({ type: 'done', step: 0, elapsedMs: 0, peakMemoryBytes: peakMemoryBytes() });
  } finally {
    await source.close();
  }
}

export async function runWeights(task: WeightsTask, channel: Channel): Promise<void> {
  await initializeBackend();
  const model = buildModel(task.model, task.dimensions);
  channel.send({ type: 'weights', weights: model.saeLens(), atoms: model.atoms() });
  channel.send({ type: 'done', step: 0, elapsedMs: 0, peakMemoryBytes: peakMemoryBytes() });
}
