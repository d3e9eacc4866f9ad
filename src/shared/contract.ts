/**
 * The one contract between the user interface and the back end. Electron's IPC, the loopback
 * HTTP transport of `basis serve` and the CLI all call a service that implements `BasisApi`.
 * Every argument crossing a process or network boundary is checked by `parseArguments`
 * (src/shared/contractArguments.ts) before the service sees it.
 */
import type { SerializedError } from './errors';
import type { Method, RunConfig } from './methods';

// ---------------------------------------------------------------------------------------------
// Datasets

export type DatasetFormat = 'npy' | 'npz' | 'safetensors' | 'safetensors-shards' | 'arrow' | 'raw';

/** How to open a file whose contents do not say everything. */
export interface OpenOptions {
  /** Tensor name inside a safetensors file or folder (default: the only 2-D tensor). */
  tensor?: string;
  /** Member name inside an .npz archive (default: the only member). */
  member?: string;
  /** Declared element type: needed for raw files and for bfloat16 saved as '<V2'. */
  dtype?: 'f32' | 'f16' | 'bf16' | 'f64';
  /** Shape of a raw file, e.g. [rows, columns]. */
  shape?: number[];
  /** Label file: TSV with header (the `context` column when present), JSONL, or plain lines. */
  labels?: string;
  /** Rows are square image patches of this side, e.g. [8, 8]; lets the UI draw atoms. */
  imageShape?: [number, number];
}

export interface DatasetStatistics {
  /** Rows counted (all rows of the file). */
  rows: number;
  /** Per column, over finite rows. */
  mean: number[];
  variance: number[];
  /** Mean Euclidean norm of finite rows. */
  meanNorm: number;
  /** Rows holding a NaN or an infinity, and the first few of their indices. */
  nonfiniteRows: number;
  nonfiniteRowIndices: number[];
}

export interface DatasetInfo {
  id: number;
  path: string;
  format: DatasetFormat;
  /** Tensor or member read, when the file holds several. */
  tensor: string | null;
  /** Element type on disk, e.g. 'f32', 'f16', 'bf16', 'i32'. */
  dtype: string;
  /** Shape on disk; rows are all axes but the last flattened. */
  shape: number[];
  rows: number;
  columns: number;
  bytes: number;
  /** Hash of size, header and sampled data blocks: the same file gives the same fingerprint. */
  fingerprint: string;
  labelsPath: string | null;
  imageShape: [number, number] | null;
  statistics: DatasetStatistics;
  createdAt: string;
}

export interface LabelPreview {
  row: number;
  label: string;
}

// ---------------------------------------------------------------------------------------------
// Runs

export type RunStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted';

/** Figures of the analysis pass over held-out rows (spec/sae.md, Metrics). */
export interface RunMetrics {
  evaluationRows: number;
  mse: number;
  fvu: number;
  explainedVariance: number;
  l0: number;
  l1: number;
  cosine: number;
  relativeNorm: number;
  deadFeatures: number;
  denseFeatures: number;
  /** log10(density) histogram across features. */
  densityHistogram: Histogram;
  /** Coding cost under the Laplacian generative model, bits per dimension (held-out rows). */
  bitsPerDimension: number | null;
  /** Largest KKT residual over the evaluation codes, relative to alpha (ICA only). */
  kktResidual: number | null;
  kktConverged: boolean | null;
}

export interface Histogram {
  /** Bin edges, length = counts.length + 1. */
  edges: number[];
  counts: number[];
}

export interface RunSummary {
  id: number;
  datasetId: number;
  datasetPath: string;
  method: Method;
  config: RunConfig;
  /** The tfjs backend the run used: 'tensorflow', 'wasm', 'cpu', ... */
  backend: string | null;
  status: RunStatus;
  step: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  elapsedMs: number | null;
  /** Peak resident memory of the run's worker process, bytes; null before any report. */
  peakMemoryBytes: number | null;
  error: SerializedError | null;
  metrics: RunMetrics | null;
  /** Notes of the method about this run: collapsed atoms, KKT not reached, ... */
  warnings: string[];
}

/** One point of the live loss curves. */
export interface StepRecord {
  step: number;
  /** Loss terms by name, e.g. { mse: 0.1, l1: 0.02 } or { reconstruction: ..., kkt: ... }. */
  losses: Record<string, number>;
  rowsPerSecond: number;
  elapsedMs: number;
}

export interface RunProgress {
  runId: number;
  status: RunStatus;
  step: number;
  totalSteps: number;
  /** 'training' | 'evaluating' | ...: what the worker is doing now. */
  phase: string;
  rowsPerSecond: number;
  etaSeconds: number | null;
  latest: StepRecord | null;
  /** Peak resident memory of the worker so far, bytes; null until it reports. */
  peakMemoryBytes: number | null;
}

// ---------------------------------------------------------------------------------------------
// Features

export interface LaplaceFit {
  /** 'two-sided' for ICA codes (location = median, scale = mean |x - median|),
   *  'one-sided' for nonnegative SAE codes (exponential fit of the nonzero activations). */
  kind: 'two-sided' | 'one-sided';
  location: number;
  scale: number;
  /** Kolmogorov-Smirnov distance between the values and the fitted law. */
  ksDistance: number;
  /** Mean log-likelihood ratio per value, fitted Laplacian against a Gaussian of equal variance. */
  logLikelihoodRatio: number;
}

export interface FeatureSummary {
  index: number;
  density: number;
  mean: number;
  max: number;
  kurtosis: number;
  laplace: LaplaceFit;
  /** Norm of the atom in data units. */
  atomNorm: number;
}

export interface TopExample {
  row: number;
  value: number;
  label: string | null;
}

export interface FeatureDetail extends FeatureSummary {
  /** The atom (decoder row / column of A), length = dataset columns. */
  atom: number[];
  /** Histogram of the nonzero activations. */
  histogram: Histogram;
  quantiles: { q: number; value: number }[];
  topExamples: TopExample[];
}

export interface ReconstructionRow {
  row: number;
  label: string | null;
  original: number[];
  reconstruction: number[];
  squaredError: number;
  activeFeatures: number;
}

export interface Reconstructions {
  runId: number;
  rows: ReconstructionRow[];
}

export interface FeatureMatch {
  /** Feature of run A and its best match in run B, by |cos| of the atoms. */
  featureA: number;
  featureB: number;
  cosine: number;
}

export interface DictionaryComparison {
  runA: number;
  runB: number;
  /** For each feature of A, the best |cos| over B's atoms. */
  bestCosineHistogram: Histogram;
  meanBestCosine: number;
  /** One-to-one matching (greedy by |cos|), best pairs first. */
  matches: FeatureMatch[];
  /** Features of A whose best match is below the threshold. */
  unmatchedA: number[];
  unmatchedB: number[];
  threshold: number;
}

export type ExportFormat = 'npy' | 'saelens' | 'features-csv';

// ---------------------------------------------------------------------------------------------
// The service

export interface StartRunRequest {
  datasetId: number;
  /** Fields override the method's defaults; `method` is required. */
  config: Partial<RunConfig> & { method: Method };
}

export interface BasisApi {
  /** Reads the header and statistics of a file and records it (once per fingerprint). */
  openDataset(path: string, options: OpenOptions): Promise<DatasetInfo>;
  listDatasets(): Promise<DatasetInfo[]>;
  previewLabels(datasetId: number, firstRow: number, count: number): Promise<LabelPreview[]>;
  /** The bundled sample, recorded on first use. */
  openSample(): Promise<DatasetInfo>;

  defaultConfig(datasetId: number, method: Method): Promise<RunConfig>;
  startRun(request: StartRunRequest): Promise<RunSummary>;
  cancelRun(runId: number): Promise<void>;
  resumeRun(runId: number): Promise<RunSummary>;
  deleteRun(runId: number): Promise<void>;
  listRuns(): Promise<RunSummary[]>;
  getRun(runId: number): Promise<RunSummary>;
  getProgress(runId: number): Promise<RunProgress>;
  getSteps(runId: number): Promise<StepRecord[]>;

  listFeatures(runId: number): Promise<FeatureSummary[]>;
  getFeature(runId: number, feature: number): Promise<FeatureDetail>;
  getReconstructions(runId: number, rows: number[]): Promise<Reconstructions>;
  compareRuns(runA: number, runB: number): Promise<DictionaryComparison>;

  /**
   * Brings a trained SAE from elsewhere (a SAELens folder, a dictionary_learning or sparsify
   * checkpoint) as a completed run on a dataset, and runs the analysis pass on it.
   */
  importDictionary(path: string, datasetId: number): Promise<RunSummary>;

  /** Writes atomically to `outPath` (a file, or a folder for 'saelens'); returns the path. */
  exportRun(runId: number, format: ExportFormat, outPath: string): Promise<string>;
}

export type ApiMethodName = keyof BasisApi;

/** The names, for transports that build one handler per method. */
export const API_METHOD_NAMES = [
  'openDataset',
  'listDatasets',
  'previewLabels',
  'openSample',
  'defaultConfig',
  'startRun',
  'cancelRun',
  'resumeRun',
  'deleteRun',
  'listRuns',
  'getRun',
  'getProgress',
  'getSteps',
  'listFeatures',
  'getFeature',
  'getReconstructions',
  'compareRuns',
  'importDictionary',
  'exportRun',
] as const satisfies readonly ApiMethodName[];

/** A reply over a transport: a value, or an error with its kind. */
export type ApiReply<T> = { ok: true; value: T } | { ok: false; error: SerializedError };

// Renaming or adding a method of BasisApi without listing it above breaks the build here.
type UnlistedMethods = Exclude<ApiMethodName, (typeof API_METHOD_NAMES)[number]>;
const everyMethodListed: UnlistedMethods extends never ? true : never = true;
void everyMethodListed;
