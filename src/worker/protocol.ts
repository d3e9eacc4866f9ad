/**
 * The messages between the main process and a compute worker (a child process started with
 * child_process.fork and `serialization: 'advanced'`, so typed arrays pass as they are).
 *
 * One worker process serves one task: main sends a task message, the worker answers with
 * progress, records and results, and ends with exactly one of `done`, `error` or
 * `cancelled`, then exits. Every message carries the task's `requestId`. Data never travels
 * this way: the worker opens the activation file itself.
 */
import type {
  DatasetStatistics,
  OpenOptions,
  ReconstructionRow,
  StepRecord,
} from '../shared/contract';
import type { SerializedError } from '../shared/errors';
import type { RunConfig } from '../shared/methods';
import type { NamedTensors } from '../shared/tensors';
import type { AnalysisResult } from '../main/analysis/analysisResult';
import type { SaeLensWeights } from './methods/method';

/** Where the worker finds the rows. */
export interface DatasetLocation {
  path: string;
  options: OpenOptions;
  rows: number;
  columns: number;
  statistics: DatasetStatistics;
}

/** Train a run (from scratch, or from a checkpoint), then analyse it. */
export interface TrainTask {
  type: 'train';
  requestId: number;
  runId: number;
  config: RunConfig;
  dataset: DatasetLocation;
  /** Continue from here; `step` counts completed updates. */
  resume: { step: number; tensors: NamedTensors } | null;
  /** Training time already spent before a resume, so elapsed figures continue. */
  elapsedMsBefore: number;
}

/** The model to analyse or to run rows through: a checkpoint of a method. */
export interface ModelSource {
  config: RunConfig;
  tensors: NamedTensors;
}

/** The analysis pass alone, e.g. for an imported dictionary. */
export interface AnalyzeTask {
  type: 'analyze';
  requestId: number;
  runId: number;
  /** Decides the analysis: held-out rows, seed, the kind of Laplace fit. */
  config: RunConfig;
  model: ModelSource;
  dataset: DatasetLocation;
}

/** Reconstructions of chosen rows through a model. */
export interface ReconstructTask {
  type: 'reconstruct';
  requestId: number;
  model: ModelSource;
  dataset: DatasetLocation;
  rows: number[];
}

/** The model's weights in the SAELens layout and its atoms, for export. */
export interface WeightsTask {
  type: 'export-weights';
  requestId: number;
  model: ModelSource;
  dimensions: number;
}

export interface CancelMessage {
  type: 'cancel';
  requestId: number;
}

export type MainToWorker = TrainTask | AnalyzeTask | ReconstructTask | WeightsTask | CancelMessage;

export interface WorkerProgress {
  /** Completed updates. */
  step: number;
  totalSteps: number;
  /** 'starting' | 'training' | 'evaluating' */
  phase: string;
  rowsPerSecond: number;
  etaSeconds: number | null;
  elapsedMs: number;
  latest: StepRecord | null;
  /** The worker's peak resident memory so far (training/memory.ts). */
  peakMemoryBytes: number;
}

export type WorkerToMain =
  | { type: 'started'; requestId: number; backend: string; pid: number }
  /** Throttled (a few a second); `records` are the loss-curve points since the last one. */
  | { type: 'progress'; requestId: number; progress: WorkerProgress; records: StepRecord[] }
  | { type: 'checkpoint'; requestId: number; step: number; tensors: NamedTensors }
  | { type: 'warnings'; requestId: number; warnings: string[] }
  | { type: 'analysis'; requestId: number; result: AnalysisResult }
  | { type: 'reconstructions'; requestId: number; rows: Omit<ReconstructionRow, 'label'>[] }
  | { type: 'weights'; requestId: number; weights: SaeLensWeights; atoms: Float32Array }
  | { type: 'log'; requestId: number; level: 'info' | 'warn'; message: string }
  | { type: 'done'; requestId: number; step: number; elapsedMs: number; peakMemoryBytes: number }
  | { type: 'error'; requestId: number; error: SerializedError }
  | { type: 'cancelled'; requestId: number; step: number };

export type WorkerMessageType = WorkerToMain['type'];
