/**
 * The training loop of one run: backend, data, method, seeded batches, throttled progress,
 * periodic checkpoints, cancellation between steps; then the analysis pass.
 */
import { inputError } from '../../shared/errors';
import { isIcaMethod } from '../../shared/methods';
import { Random } from '../../shared/random';
import { TrainingBatches } from '../../main/formats/batches';
import { initializeBackend } from '../backend';
import { startComputeThreads } from '../sae/threads';
import type { TrainerContext } from '../methods/method';
import { methodFor } from '../methods/registry';
import type { TrainTask } from '../protocol';
import { analyzeModel } from './analysis';
import { CancelledAtStep, type Channel } from './channel';
import { dataSummary, evaluationRows, openDataset } from './data';
import { peakMemoryBytes } from './memory';
import { StepRecorder } from './progress';

/** Training rows handed to the method for initialisation. */
const INITIAL_ROWS = 4096;
/** Yield to the event loop (to receive a cancel message) at least this often. */
const YIELD_INTERVAL_MS = 50;

export async function runTraining(task: TrainTask, channel: Channel): Promise<void> {
  const { config, dataset } = task;
  const backend = await initializeBackend();
  // SAE products and kernels split over helper threads, which start while the data opens.
  if (!isIcaMethod(config.method)) startComputeThreads().catch(() => undefined);
  channel.send({ type: 'started', backend, pid: process.pid });
  const source = await openDataset(dataset);
  let batches: TrainingBatches | undefined;
  try {
    // Data: summary, held-out rows, seeded streams for initialisation and for training.
    const { rows: totalRows, columns } = source.description;
    const data = dataSummary(dataset.statistics, columns);
    const heldOut = evaluationRows(totalRows, config.evaluationRows);
    const startStep = task.resume?.step ?? 0;
    const seeds = new Random(config.seed);
    const initialSeed = seeds.nextUint32();
    const batchSeed = seeds.nextUint32();
    const trainerRandom =
      startStep === 0 ? seeds.fork() : new Random(seeds.nextUint32() ^ startStep);
    const batchOptions = { skipNonfinite: config.skipNonfinite, excludedRows: heldOut };
    const initialCount = Math.min(INITIAL_ROWS, totalRows - heldOut.length);
    const initialStream = new TrainingBatches(source, {
      ...batchOptions,
      batchSize: initialCount,
      seed: initialSeed,
    });
    const initial = await initialStream.next();
    initialStream.close();
    batches = new TrainingBatches(source, {
      ...batchOptions,
      batchSize: config.batchSize,
      seed: batchSeed,
    });
    // A resumed run reads past the batches the first steps consumed, so it sees the same
    // stream as an uninterrupted run: the methods whose steps use no randomness of their own
    // then resume to the same result. Reading costs disk time only, no training.
    const scratch = new Float32Array(config.batchSize * columns);
    for (let skipped = 0; skipped < startStep; skipped++) await batches.next(scratch);

    // The method's trainer, fresh or from the checkpoint.
    const context: TrainerContext = {
      config,
      data,
      initialRows: initial.values,
      initialRowCount: initial.rows,
      random: trainerRandom,
    };
    const method = methodFor(config);
    const trainer =
      task.resume === null ? method.create(context) : method.restore(context, task.resume.tensors);

    try {
      // Steps.
      const recorder = new StepRecorder(config.steps);
      const startedMs = performance.now();
      const elapsed = (): number => task.elapsedMsBefore + performance.now() - startedMs;
      let lastYieldMs = performance.now();
      let step = startStep;
      const sendProgress = (phase: string, force: boolean): void => {
        if (!recorder.due(force)) return;
        const done = step - startStep;
        const secondsPerStep = done > 0 ? (performance.now() - startedMs) / 1000 / done : null;
        channel.send({
          type: 'progress',
          records: recorder.take(),
          progress: {
            step,
            totalSteps: config.steps,
            phase,
            rowsPerSecond: recorder.rowsPerSecond,
            etaSeconds: secondsPerStep === null ? null : secondsPerStep * (config.steps - step),
            elapsedMs: elapsed(),
            latest: recorder.latest,
            peakMemoryBytes: peakMemoryBytes(),
          },
        });
      };
      sendProgress('training', true);

      while (step < config.steps) {
        if (performance.now() - lastYieldMs >= YIELD_INTERVAL_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          lastYieldMs = performance.now();
        }
        if (channel.cancelled()) {
          channel.send({ type: 'checkpoint', step, tensors: trainer.checkpoint() });
          throw new CancelledAtStep(step);
        }
        const batch = await batches.next();
        const report = trainer.step(batch.values, batch.rows, step);
        step++;
        for (const [name, value] of Object.entries(report.losses)) {
          if (!Number.isFinite(value)) {
            throw inputError(
              `training diverged at step ${step}: the ${name} loss is ${value}; ` +
                'lower the learning rate (--lr) or check the data for extreme values',
            );
          }
        }
        recorder.add(step, report.losses, batch.rows, elapsed());
        if (
          config.checkpointEvery > 0 &&
          step % config.checkpointEvery === 0 &&
          step < config.steps
        ) {
          channel.send({ type: 'checkpoint', step, tensors: trainer.checkpoint() });
        }
        sendProgress('training', step === config.steps);
      }
      channel.send({ type: 'checkpoint', step, tensors: trainer.checkpoint() });
      channel.send({ type: 'warnings', warnings: trainer.warnings() });
      batches.close();
      batches = undefined;

      // Analysis of the trained model on the held-out rows.
      sendProgress('evaluating', true);
      const result = await analyzeModel(trainer.model(), source, {
        evaluationRows: config.evaluationRows,
        skipNonfinite: config.skipNonfinite,
        laplaceKind: isIcaMethod(config.method) ? 'two-sided' : 'one-sided',
        data,
        cancelled: () => channel.cancelled(),
        log: (message) => channel.send({ type: 'log', level: 'info', message }),
      });
      channel.send({ type: 'analysis', result });
      channel.send({
        type: 'done',
        step,
        elapsedMs: elapsed(),
        peakMemoryBytes: peakMemoryBytes(),
      });
    } finally {
      trainer.dispose();
    }
  } finally {
    batches?.close();
    await source.close();
  }
}
