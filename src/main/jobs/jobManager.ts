/**
 * Starts and supervises compute workers. For a training run it forks a worker, persists
 * what the worker reports (loss-curve points and progress, checkpoints, warnings, the
 * analysis) in transactions, keeps the run's heartbeat, passes on cancellation (from this
 * process or, through the database, from another one), and settles the run when the
 * worker ends: completed, failed (with the error), cancelled, or interrupted when the worker
 * was killed by a signal. Checkpoints stay, so a failed or interrupted run can resume.
 *
 * Other tasks (analysis alone, reconstructions) run in a worker too; `runTask` resolves with
 * the worker's result.
 */
import { EventEmitter } from 'node:events';
import type { RunProgress, RunStatus } from '../../shared/contract';
import { BasisError, deserializeError, type SerializedError } from '../../shared/errors';
import type {
  AnalyzeTask,
  DatasetLocation,
  ReconstructTask,
  TrainTask,
  WeightsTask,
  WorkerToMain,
} from '../../worker/protocol';
import type { DatasetRecord } from '../store/datasets';
import type { RunRecord } from '../store/runs';
import type { Store } from '../store/store';
import { createLogger } from '../service/log';
import { WorkerProcess, type WorkerExit } from './workerProcess';

const log = createLogger('jobs');
/** How often a supervised run proves its owner alive and looks for a cancel request. */
const HEARTBEAT_MS = 1000;
/** How long shutdown waits for workers to stop after a cancel before killing them. */
const SHUTDOWN_GRACE_MS = 15_000;

export interface JobEvents {
  progress: (progress: RunProgress) => void;
  finished: (run: RunRecord) => void;
}

interface Job {
  runId: number;
  worker: WorkerProcess;
  progress: RunProgress;
  /** The terminal message, once it arrived. */
  outcome: { status: RunStatus; error: SerializedError | null; elapsedMs: number | null } | null;
  heartbeat: NodeJS.Timeout;
  finished: Promise<RunRecord>;
  cancelSent: boolean;
}

export function datasetLocation(dataset: DatasetRecord): DatasetLocation {
  return {
    path: dataset.path,
    options: dataset.openOptions,
    rows: dataset.rows,
    columns: dataset.columns,
    statistics: dataset.statistics,
  };
}

export class JobManager {
  private readonly jobs = new Map<number, Job>();
  private readonly events = new EventEmitter();
  private nextRequestId = 1;

  constructor(
    private readonly store: Store,
    private readonly workerPath: string,
  ) {}

  on<E extends keyof JobEvents>(event: E, listener: JobEvents[E]): () => void {
    this.events.on(event, listener);
    return () => this.events.off(event, listener);
  }

  isActive(runId: number): boolean {
    return this.jobs.has(runId);
  }

  activeRuns(): number[] {
    return [...this.jobs.keys()];
  }

  /** Live progress of a run this process supervises. */
  progress(runId: number): RunProgress | null {
    return this.jobs.get(runId)?.progress ?? null;
  }

  /** Starts training `run` (fresh, or from its newest checkpoint when `resume`). */
  startTraining(run: RunRecord, dataset: DatasetRecord, resume: boolean): void {
    const { store } = this;
    const checkpoint = resume ? store.checkpoints.latest(run.id) : null;
    const startStep = checkpoint?.step ?? 0;
    store.transaction(() => {
      store.steps.deleteAfter(run.id, startStep);
      store.analysis.clear(run.id);
      store.runs.heartbeat(run.id, startStep, startStep === 0 ? 0 : null);
      store.runs.markRunning(run.id, process.pid);
    });
    const task: TrainTask = {
      type: 'train',
      requestId: this.nextRequestId++,
      runId: run.id,
      config: run.config,
      dataset: datasetLocation(dataset),
      resume: checkpoint,
      elapsedMsBefore: startStep === 0 ? 0 : (run.elapsedMs ?? 0),
    };
    this.supervise(run, task);
    log.info(
      `run ${run.id} (${run.method}) started${startStep > 0 ? ` from step ${startStep}` : ''}`,
    );
  }

  /** Asks the worker of `runId` to stop; it saves a checkpoint and reports 'cancelled'. */
  cancel(runId: number): boolean {
    const job = this.jobs.get(runId);
    if (!job) return false;
    if (!job.cancelSent) {
      job.cancelSent = true;
      job.worker.send({ type: 'cancel', requestId: 0 });
    }
    return true;
  }

  /** Resolves when the run's worker has ended and its outcome is stored. */
  waitFor(runId: number): Promise<RunRecord> {
    const job = this.jobs.get(runId);
    return job ? job.finished : Promise.resolve(this.store.runs.get(runId));
  }

  /** Cancels every supervised run and waits for them to settle. */
  /**
   * Cancels every run and waits for the workers to save and stop. A worker stuck inside a
   * long synchronous computation cannot read the cancel message: after `graceMs` it is
   * killed, and its run is left interrupted with its last checkpoint, ready to resume.
   */
  async shutdown(graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
    const runs = this.activeRuns();
    for (const runId of runs) this.cancel(runId);
    const stopped = Promise.all(runs.map((runId) => this.waitFor(runId)));
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), graceMs);
    });
    const outcome = await Promise.race([stopped, graceOver]);
    clearTimeout(timer);
    if (outcome !== 'late') return;
    for (const runId of this.activeRuns()) {
      log.warn(`run ${runId}: the worker did not stop within ${graceMs} ms; killing it`);
      this.jobs.get(runId)?.worker.kill('SIGKILL');
    }
    await stopped;
  }

  /** Runs a task that is not training in a worker and returns its one result message. */
  async runTask<T extends 'analysis' | 'reconstructions' | 'weights'>(
    task:
      | Omit<AnalyzeTask, 'requestId'>
      | Omit<ReconstructTask, 'requestId'>
      | Omit<WeightsTask, 'requestId'>,
    resultType: T,
    onProgress?: (phase: string) => void,
  ): Promise<Extract<WorkerToMain, { type: T }>> {
    const requestId = this.nextRequestId++;
    let result: Extract<WorkerToMain, { type: T }> | undefined;
    let failure: SerializedError | undefined;
    const worker = new WorkerProcess(this.workerPath, (message) => {
      if (message.type === resultType) result = message as Extract<WorkerToMain, { type: T }>;
      else if (message.type === 'error') failure = message.error;
      else if (message.type === 'cancelled') failure = { kind: 'cancelled', message: 'cancelled' };
      else if (message.type === 'progress') onProgress?.(message.progress.phase);
    });
    worker.send({ ...task, requestId } as AnalyzeTask | ReconstructTask | WeightsTask);
    const exit = await worker.exited;
    if (failure) throw deserializeError(failure);
    if (result === undefined) throw workerCrash(exit);
    return result;
  }

  private supervise(run: RunRecord, task: TrainTask): void {
    const { store } = this;
    const runId = run.id;
    const job: Job = {
      runId,
      worker: new WorkerProcess(this.workerPath, (message) => this.handle(job, message)),
      progress: {
        runId,
        status: 'running',
        step: task.resume?.step ?? 0,
        totalSteps: run.config.steps,
        phase: 'starting',
        rowsPerSecond: 0,
        etaSeconds: null,
        latest: null,
        peakMemoryBytes: null,
      },
      outcome: null,
      cancelSent: false,
      heartbeat: setInterval(() => {
        try {
          store.runs.heartbeat(runId, null, null);
          if (store.runs.isCancelRequested(runId)) this.cancel(runId);
        } catch (error) {
          log.warn(`run ${runId}: heartbeat failed: ${(error as Error).message}`);
        }
      }, HEARTBEAT_MS),
      finished: Promise.resolve(run),
    };
    job.heartbeat.unref();
    job.finished = job.worker.exited.then((exit) => this.settle(job, exit));
    this.jobs.set(runId, job);
    job.worker.send(task);
  }

  private handle(job: Job, message: WorkerToMain): void {
    const { store } = this;
    const runId = job.runId;
    try {
      switch (message.type) {
        case 'started':
          store.runs.setBackend(runId, message.backend);
          break;
        case 'progress': {
          const { progress, records } = message;
          store.transaction(() => {
            store.steps.add(runId, records);
            store.runs.heartbeat(
              runId,
              progress.step,
              progress.elapsedMs,
              progress.peakMemoryBytes,
            );
          });
          job.progress = {
            runId,
            status: 'running',
            step: progress.step,
            totalSteps: progress.totalSteps,
            phase: progress.phase,
            rowsPerSecond: progress.rowsPerSecond,
            etaSeconds: progress.etaSeconds,
            latest: progress.latest,
            peakMemoryBytes: progress.peakMemoryBytes,
          };
          this.events.emit('progress', job.progress);
          break;
        }
        case 'checkpoint':
          store.checkpoints.save(runId, message.step, message.tensors);
          break;
        case 'warnings':
          store.runs.setWarnings(runId, message.warnings);
          break;
        case 'analysis':
          store.analysis.save(runId, message.result);
          break;
        case 'log':
          log.info(`run ${runId}: ${message.message}`);
          break;
        case 'done':
          store.runs.heartbeat(runId, null, null, message.peakMemoryBytes);
          job.outcome = { status: 'completed', error: null, elapsedMs: message.elapsedMs };
          break;
        case 'error':
          job.outcome = { status: 'failed', error: message.error, elapsedMs: null };
          break;
        case 'cancelled':
          job.outcome = { status: 'cancelled', error: null, elapsedMs: null };
          break;
        case 'reconstructions':
        case 'weights':
          break;
      }
    } catch (error) {
      // A store failure (disk full, ...) ends the run rather than losing data silently.
      log.error(`run ${runId}: could not record ${message.type}: ${(error as Error).message}`);
      job.outcome = {
        status: 'failed',
        error: { kind: 'io', message: `could not record the run: ${(error as Error).message}` },
        elapsedMs: null,
      };
      job.worker.kill();
    }
  }

  private settle(job: Job, exit: WorkerExit): RunRecord {
    clearInterval(job.heartbeat);
    this.jobs.delete(job.runId);
    const outcome =
      job.outcome ??
      (exit.signal !== null
        ? {
            status: 'interrupted' as const,
            error: {
              kind: 'io' as const,
              message:
                `the worker was killed by ${exit.signal} at step ${job.progress.step}; ` +
                `resume it with "basis resume ${job.runId}"`,
            },
            elapsedMs: null,
          }
        : { status: 'failed' as const, error: workerCrash(exit).toSerialized(), elapsedMs: null });
    this.store.runs.finish(job.runId, outcome.status, outcome.error, outcome.elapsedMs);
    const run = this.store.runs.get(job.runId);
    log.info(
      `run ${run.id} ${run.status} at step ${run.step}` +
        (run.elapsedMs === null ? '' : ` after ${(run.elapsedMs / 1000).toFixed(1)} s`),
    );
    this.events.emit('finished', run);
    return run;
  }
}

class WorkerCrash extends BasisError {
  toSerialized(): SerializedError {
    return { kind: this.kind, message: this.message };
  }
}

function workerCrash(exit: WorkerExit): WorkerCrash {
  const lines = exit.stderrTail.split('\n').filter((line) => line.trim() !== '');
  const lastLine = lines.find((line) => /Error\b/.test(line)) ?? lines.pop();
  return new WorkerCrash(
    'bug',
    `the compute worker stopped unexpectedly (exit code ${exit.code}${
      lastLine ? `: ${lastLine}` : ''
    })`,
  );
}
