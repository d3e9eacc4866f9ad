/**
 * The service behind the contract: one object implements every BasisApi method over the
 * store (SQLite), the format readers, and the job manager that runs compute workers. The
 * Electron IPC, the loopback HTTP transport and the CLI all call it. Transports validate
 * arguments with parseArguments (src/shared/contractArguments.ts); the CLI parses its flags
 * itself; identifiers and rows are still checked here against what exists.
 */
import { join, resolve } from 'node:path';
import type {
  BasisApi,
  DatasetInfo,
  DictionaryComparison,
  ExportFormat,
  FeatureDetail,
  FeatureSummary,
  LabelPreview,
  OpenOptions,
  Reconstructions,
  RunProgress,
  RunSummary,
  StartRunRequest,
  StepRecord,
} from '../../shared/contract';
import { inputError, notFound } from '../../shared/errors';
import type { Method, RunConfig } from '../../shared/methods';
import { defaultRunConfig, parseRunConfig } from '../../shared/runConfig';
import { compareDictionaries } from '../analysis/compare';
import { datasetLocation, JobManager } from '../jobs/jobManager';
import type { FeatureOrder } from '../store/analysis';
import type { DatasetRecord } from '../store/datasets';
import { toSummary, type RunRecord } from '../store/runs';
import { Store } from '../store/store';
import type { ModelSource } from '../../worker/protocol';
import { openAndRecordDataset } from './datasets';
import { exportRunFiles, importDictionaryFile } from './exchange';
import { LabelCache } from './labelCache';
import { createLogger } from './log';
import {
  defaultSampleFolder,
  defaultWorkerPath,
  SAMPLE_ACTIVATIONS,
  SAMPLE_LABELS,
} from './resources';

const log = createLogger('service');

export interface ServiceOptions {
  databasePath: string;
  /** The built worker bundle (default: worker.js beside this bundle). */
  workerPath?: string;
  /** Folder holding the bundled sample (default: resources/sample of the project). */
  sampleFolder?: string;
}

export interface FeatureListOptions {
  order?: FeatureOrder;
  limit?: number;
}

export class BasisService implements BasisApi {
  readonly databasePath: string;
  private readonly store: Store;
  private readonly jobs: JobManager;
  private readonly labels = new LabelCache();
  private readonly sampleFolder: string;

  constructor(options: ServiceOptions) {
    this.databasePath = options.databasePath;
    this.store = Store.open(options.databasePath);
    this.jobs = new JobManager(this.store, options.workerPath ?? defaultWorkerPath());
    this.sampleFolder = options.sampleFolder ?? defaultSampleFolder();
  }

  // -------------------------------------------------------------------------------------------
  // Datasets

  async openDataset(path: string, options: OpenOptions): Promise<DatasetInfo> {
    return toDatasetInfo(await openAndRecordDataset(this.store, this.labels, path, options));
  }

  async listDatasets(): Promise<DatasetInfo[]> {
    return this.store.datasets.list().map(toDatasetInfo);
  }

  async previewLabels(datasetId: number, firstRow: number, count: number): Promise<LabelPreview[]> {
    const dataset = this.store.datasets.get(datasetId);
    if (dataset.labelsPath === null) return [];
    const labels = await this.labels.get(dataset.labelsPath, dataset.rows);
    const end = Math.min(dataset.rows, firstRow + count);
    const preview: LabelPreview[] = [];
    for (let row = Math.max(0, firstRow); row < end; row++) {
      preview.push({ row, label: labels.get(row) });
    }
    return preview;
  }

  async openSample(): Promise<DatasetInfo> {
    return this.openDataset(join(this.sampleFolder, SAMPLE_ACTIVATIONS), {
      labels: join(this.sampleFolder, SAMPLE_LABELS),
    });
  }

  /** The dataset last recorded at `path`, if any (the CLI finds runs' datasets by path). */
  findDataset(path: string): DatasetInfo | undefined {
    const dataset = this.store.datasets.findByPath(resolve(path));
    return dataset === undefined ? undefined : toDatasetInfo(dataset);
  }

  // -------------------------------------------------------------------------------------------
  // Runs

  async defaultConfig(datasetId: number, method: Method): Promise<RunConfig> {
    return defaultRunConfig(method, this.store.datasets.get(datasetId).columns);
  }

  async startRun(request: StartRunRequest): Promise<RunSummary> {
    const dataset = this.store.datasets.get(request.datasetId);
    const config = parseRunConfig(request.config, dataset.columns);
    checkTrainable(dataset, config);
    const run = this.store.runs.create(dataset.id, config);
    this.jobs.startTraining(run, dataset, false);
    return this.getRun(run.id);
  }

  async cancelRun(runId: number): Promise<void> {
    const run = this.store.runs.get(runId);
    if (this.jobs.cancel(runId)) return;
    if (run.status === 'running' || run.status === 'queued') {
      // Another process supervises it: it sees the request at its next heartbeat.
      this.store.runs.requestCancel(runId);
      return;
    }
    throw inputError(`run ${runId} is ${run.status}, not running: there is nothing to cancel`);
  }

  async resumeRun(runId: number): Promise<RunSummary> {
    const run = this.store.runs.get(runId);
    if (run.origin === 'imported') {
      throw inputError(`run ${runId} is an imported dictionary: it has no training to resume`);
    }
    if (run.status === 'running' || run.status === 'queued' || this.jobs.isActive(runId)) {
      throw inputError(`run ${runId} is already running`);
    }
    if (run.status === 'completed') {
      throw inputError(`run ${runId} has completed: start a new run to train longer`);
    }
    const dataset = this.store.datasets.get(run.datasetId);
    this.jobs.startTraining(run, dataset, true);
    return this.getRun(runId);
  }

  async deleteRun(runId: number): Promise<void> {
    const run = this.store.runs.get(runId);
    if (this.jobs.isActive(runId)) {
      this.jobs.cancel(runId);
      await this.jobs.waitFor(runId);
    } else if (run.status === 'running' || run.status === 'queued') {
      throw inputError(
        `run ${runId} is running in another process (pid ${run.ownerPid}): cancel it first`,
      );
    }
    this.store.runs.delete(runId);
    log.info(`run ${runId} deleted`);
  }

  async listRuns(): Promise<RunSummary[]> {
    return this.store.runs.list().map(toSummary);
  }

  async getRun(runId: number): Promise<RunSummary> {
    return toSummary(this.store.runs.get(runId));
  }

  async getProgress(runId: number): Promise<RunProgress> {
    const live = this.jobs.progress(runId);
    if (live) return live;
    const run = this.store.runs.get(runId);
    const latest = this.store.steps.latest(runId);
    return {
      runId,
      status: run.status,
      step: run.step,
      totalSteps: run.totalSteps,
      phase: run.status,
      rowsPerSecond: latest?.rowsPerSecond ?? 0,
      etaSeconds: null,
      latest,
      peakMemoryBytes: run.peakMemoryBytes,
    };
  }

  async getSteps(runId: number): Promise<StepRecord[]> {
    this.store.runs.get(runId);
    return this.store.steps.list(runId);
  }

  /** Resolves when a run this process supervises has ended (at once for any other run). */
  async waitForRun(runId: number): Promise<RunSummary> {
    return toSummary(await this.jobs.waitFor(runId));
  }

  /** Live progress of the runs this process supervises. Returns an unsubscribe function. */
  onProgress(listener: (progress: RunProgress) => void): () => void {
    return this.jobs.on('progress', listener);
  }

  // -------------------------------------------------------------------------------------------
  // Features

  async listFeatures(runId: number, options: FeatureListOptions = {}): Promise<FeatureSummary[]> {
    this.store.runs.get(runId);
    return this.store.analysis.listFeatures(runId, options.order ?? 'index', options.limit ?? -1);
  }

  async getFeature(runId: number, feature: number): Promise<FeatureDetail> {
    const run = this.store.runs.get(runId);
    const record = this.store.analysis.getFeature(runId, feature);
    const labels = await this.labelsOf(run.datasetId);
    return {
      ...record,
      atom: Array.from(record.atom),
      topExamples: record.topExamples.map((example) => ({
        ...example,
        label: labels?.(example.row) ?? null,
      })),
    };
  }

  async getReconstructions(runId: number, rows: number[]): Promise<Reconstructions> {
    const run = this.store.runs.get(runId);
    const dataset = this.store.datasets.get(run.datasetId);
    for (const row of rows) {
      if (!Number.isInteger(row) || row < 0 || row >= dataset.rows) {
        throw inputError(`row ${row} is outside the dataset (rows 0 to ${dataset.rows - 1})`);
      }
    }
    if (rows.length === 0) return { runId, rows: [] };
    const reply = await this.jobs.runTask(
      {
        type: 'reconstruct',
        model: this.modelSource(run),
        dataset: datasetLocation(dataset),
        rows,
      },
      'reconstructions',
    );
    const labels = await this.labelsOf(run.datasetId);
    return {
      runId,
      rows: reply.rows.map((row) => ({ ...row, label: labels?.(row.row) ?? null })),
    };
  }

  async compareRuns(runA: number, runB: number): Promise<DictionaryComparison> {
    const dictionaries = [runA, runB].map((runId) => {
      this.store.runs.get(runId);
      const atoms = this.store.analysis.atoms(runId);
      if (atoms.features === 0) {
        throw inputError(`run ${runId} has no analysed dictionary yet: compare completed runs`);
      }
      return { runId, features: atoms.features, dimensions: atoms.columns, atoms: atoms.values };
    });
    return compareDictionaries(dictionaries[0]!, dictionaries[1]!);
  }

  // -------------------------------------------------------------------------------------------
  // Exchange

  async importDictionary(path: string, datasetId: number): Promise<RunSummary> {
    const dataset = this.store.datasets.get(datasetId);
    return importDictionaryFile(this.store, this.jobs, dataset, resolve(path));
  }

  async exportRun(runId: number, format: ExportFormat, outPath: string): Promise<string> {
    const run = this.store.runs.get(runId);
    const dataset = this.store.datasets.get(run.datasetId);
    return exportRunFiles(
      this.store,
      this.jobs,
      run,
      dataset,
      this.modelSource(run),
      format,
      resolve(outPath),
    );
  }

  /** Cancels the runs this process supervises, waits for them, and closes the database. */
  async close(): Promise<void> {
    await this.jobs.shutdown();
    this.store.close();
  }

  // -------------------------------------------------------------------------------------------

  private modelSource(run: RunRecord): ModelSource {
    const checkpoint = this.store.checkpoints.latest(run.id);
    if (checkpoint === null) {
      throw notFound(`run ${run.id} has no saved dictionary yet (status ${run.status})`);
    }
    return { config: run.config, tensors: checkpoint.tensors };
  }

  private async labelsOf(datasetId: number): Promise<((row: number) => string) | null> {
    const dataset = this.store.datasets.get(datasetId);
    if (dataset.labelsPath === null) return null;
    try {
      const labels = await this.labels.get(dataset.labelsPath, dataset.rows);
      return (row) => labels.get(row);
    } catch (error) {
      log.warn(`labels of dataset ${datasetId} unavailable: ${(error as Error).message}`);
      return null;
    }
  }
}

export function createService(options: ServiceOptions): BasisService {
  return new BasisService(options);
}

/** Refuses runs that cannot train on the dataset, before a worker starts. */
function checkTrainable(dataset: DatasetRecord, config: RunConfig): void {
  const { nonfiniteRows, nonfiniteRowIndices } = dataset.statistics;
  if (nonfiniteRows > 0 && !config.skipNonfinite) {
    throw inputError(
      `${dataset.path}: ${nonfiniteRows} row(s) hold NaN or infinity ` +
        `(first: row ${nonfiniteRowIndices[0]}); ` +
        'drop them with --skip-nonfinite (skipNonfinite: true) or fix the data',
    );
  }
  if (nonfiniteRows >= dataset.rows) {
    throw inputError(`${dataset.path}: every row holds NaN or infinity; nothing to train on`);
  }
  if (dataset.rows < 2) {
    throw inputError(`${dataset.path}: ${dataset.rows} row is too few to train and evaluate on`);
  }
}

function toDatasetInfo(record: DatasetRecord): DatasetInfo {
  const info: DatasetInfo & { openOptions?: unknown } = { ...record };
  delete info.openOptions;
  return info;
}
