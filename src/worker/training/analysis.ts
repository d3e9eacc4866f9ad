/**
 * The analysis pass: runs a model over the held-out evaluation rows in chunks and gathers
 * the run's metrics (metrics.ts), the coding cost in bits per dimension under ICA's
 * Laplacian model (ICA: the model's own evaluationExtras; other dictionaries: the ICA
 * likelihood scoring their atoms), per-feature statistics with top rows (features.ts) and a
 * few reconstruction samples. Memory: one chunk of rows and codes, plus the nonzero codes
 * kept by FeatureStatistics.
 */
import type { RunMetrics } from '../../shared/contract';
import { CancelledError } from '../../shared/errors';
import { defaultRunConfig } from '../../shared/runConfig';
import type { AnalysisResult, ReconstructionSample } from '../../main/analysis/analysisResult';
import { FeatureStatistics } from '../../main/analysis/features';
import type { LaplaceKind } from '../../main/analysis/laplace';
import { ReconstructionMetrics } from '../../main/analysis/metrics';
import type { ActivationSource } from '../../main/formats/source';
import { dictionaryCodingCost } from '../ica/likelihood';
import { scalingFromSummary } from '../ica/scaling';
import type { DataSummary, FeatureModel } from '../methods/method';
import { evaluationRows, readFiniteRows } from './data';

/** Rows encoded at once. */
const CHUNK_ROWS = 512;
/**
 * Rows scored for bits per dimension at most. The likelihood fits one theta and lambda to the
 * rows it scores, so they are scored together, in one call.
 */
const CODING_COST_ROWS = 1024;
/**
 * Floating-point operations the coding cost may spend. Each row costs about M^3 / 3 for the
 * Cholesky factor of its M x M Hessian (M = features), so large dictionaries score fewer rows.
 */
const CODING_COST_BUDGET_FLOPS = 3e10;
/** Fewer affordable rows than this give no usable estimate: bits per dimension is skipped. */
const CODING_COST_MINIMUM_ROWS = 16;
/** Reconstruction samples kept with the run. */
const RECONSTRUCTION_SAMPLES = 8;

export interface AnalysisOptions {
  /** Held-out rows wanted (capped at half the dataset). */
  evaluationRows: number;
  skipNonfinite: boolean;
  /** Two-sided fits for signed codes (ICA), one-sided for nonnegative codes (SAEs). */
  laplaceKind: LaplaceKind;
  data: DataSummary;
  cancelled: () => boolean;
  /** Called after each chunk with the fraction done. */
  onProgress?: (fraction: number) => void;
  /** Timings of the phases, for the log. */
  log?: (message: string) => void;
}

export async function analyzeModel(
  model: FeatureModel,
  source: ActivationSource,
  options: AnalysisOptions,
): Promise<AnalysisResult> {
  const { rows: totalRows, columns } = source.description;
  const startedMs = performance.now();
  const indices = evaluationRows(totalRows, options.evaluationRows);
  const metrics = new ReconstructionMetrics(columns, model.features);
  const features = new FeatureStatistics(model.features, options.laplaceKind);
  const samples: ReconstructionSample[] = [];
  let costRows: Float32Array | null = null;
  let costRowCount = 0;

  // Encode, decode and accumulate chunk by chunk.
  for (let start = 0; start < indices.length; start += CHUNK_ROWS) {
    if (options.cancelled()) throw new CancelledError('analysis cancelled');
    const chunk = await readFiniteRows(
      source,
      indices.subarray(start, start + CHUNK_ROWS),
      options.skipNonfinite,
    );
    const count = chunk.indices.length;
    const codes = model.encode(chunk.values, count);
    const reconstruction = model.decode(codes, count);
    metrics.add(chunk.values, reconstruction, codes, count);
    features.add(codes, count, chunk.indices);
    if (costRows === null) {
      costRowCount = Math.min(CODING_COST_ROWS, count);
      costRows = chunk.values.slice(0, costRowCount * columns);
    } else if (costRowCount < CODING_COST_ROWS) {
      const more = Math.min(CODING_COST_ROWS - costRowCount, count);
      const grown = new Float32Array((costRowCount + more) * columns);
      grown.set(costRows);
      grown.set(chunk.values.subarray(0, more * columns), costRowCount * columns);
      costRows = grown;
      costRowCount += more;
    }
    collectSamples(samples, chunk, codes, reconstruction, columns, model.features);
    options.onProgress?.(Math.min(1, (start + CHUNK_ROWS) / indices.length));
    // Let a cancel message in between chunks.
    await new Promise((resolve) => setImmediate(resolve));
  }

  options.log?.(`encoded ${indices.length} evaluation rows in ${elapsedSeconds(startedMs)} s`);

  // Coding cost and, for ICA, the KKT residual of exact inference.
  const costStartedMs = performance.now();
  const affordableRows = Math.min(costRowCount, codingCostRows(model.features));
  if (costRows !== null && affordableRows < CODING_COST_MINIMUM_ROWS) {
    options.log?.(
      `coding cost skipped: ${model.features} features make the likelihood too costly per row`,
    );
  }
  const cost =
    costRows === null || affordableRows < CODING_COST_MINIMUM_ROWS
      ? null
      : codingCost(model, costRows, affordableRows, columns, options.data);
  const bitsPerDimension = cost?.bitsPerDimension ?? null;
  const kktResidual = cost?.kktResidual ?? null;
  options.log?.(`coding cost of ${cost?.rows ?? 0} rows in ${elapsedSeconds(costStartedMs)} s`);

  const featuresStartedMs = performance.now();
  const records = features.finish(model.atoms(), columns);
  options.log?.(
    `statistics of ${model.features} features in ${elapsedSeconds(featuresStartedMs)} s`,
  );
  const reconstruction = metrics.result();
  const runMetrics: RunMetrics = {
    evaluationRows: reconstruction.rows,
    mse: reconstruction.mse,
    fvu: reconstruction.fvu,
    explainedVariance: reconstruction.explainedVariance,
    l0: reconstruction.l0,
    l1: reconstruction.l1,
    cosine: reconstruction.cosine,
    relativeNorm: reconstruction.relativeNorm,
    deadFeatures: reconstruction.deadFeatures,
    denseFeatures: reconstruction.denseFeatures,
    densityHistogram: reconstruction.densityHistogram,
    bitsPerDimension: finiteOrNull(bitsPerDimension),
    kktResidual: finiteOrNull(kktResidual),
    kktConverged: kktResidual === null ? null : kktResidual <= KKT_EVALUATION_TOLERANCE,
  };
  return {
    metrics: runMetrics,
    features: records,
    reconstructions: samples,
  };
}

/** Rows whose coding cost fits CODING_COST_BUDGET_FLOPS for a dictionary of `features` atoms. */
export function codingCostRows(features: number): number {
  const flopsPerRow = features ** 3 / 3 + 1;
  return Math.min(CODING_COST_ROWS, Math.floor(CODING_COST_BUDGET_FLOPS / flopsPerRow));
}

/**
 * Bits per dimension (and, for ICA, the largest KKT residual) of the first `rowCount` rows of
 * the evaluation set, under the Laplacian generative model: ICA through its own exact
 * inference, any other dictionary through `dictionaryCodingCost` starting its search over
 * alpha at ICA's default alpha. Both choose the model's hyper-parameters by the same rule
 * (the best approximate likelihood), so every run on a dataset is scored the same way.
 */
function codingCost(
  model: FeatureModel,
  rows: Float32Array,
  rowCount: number,
  columns: number,
  data: DataSummary,
): { bitsPerDimension: number; kktResidual: number | null; rows: number } {
  const scored = rows.subarray(0, rowCount * columns);
  if (model.evaluationExtras) {
    const extras = model.evaluationExtras(scored, rowCount);
    return { ...extras, rows: rowCount };
  }
  const cost = dictionaryCodingCost({
    atoms: model.atoms(),
    features: model.features,
    dimensions: columns,
    rows: scored,
    rowCount,
    scaling: scalingFromSummary(data),
    alpha: referenceAlpha(columns),
  });
  return { bitsPerDimension: cost.bitsPerDimension, kktResidual: null, rows: rowCount };
}

/** A run's KKT residual counts as converged at this tolerance (relative to alpha). */
const KKT_EVALUATION_TOLERANCE = 1e-3;

/**
 * Where the search over the L1 weight starts for non-ICA dictionaries: ICA's default alpha,
 * the start of a default ICA run's search too.
 */
function referenceAlpha(columns: number): number {
  const defaults = defaultRunConfig('ica', columns);
  return defaults.method === 'ica' ? defaults.alpha : 0.2;
}

function elapsedSeconds(sinceMs: number): string {
  return ((performance.now() - sinceMs) / 1000).toFixed(1);
}

function finiteOrNull(value: number | null): number | null {
  return value !== null && Number.isFinite(value) ? value : null;
}

function collectSamples(
  samples: ReconstructionSample[],
  chunk: { values: Float32Array; indices: Uint32Array },
  codes: Float32Array,
  reconstruction: Float32Array,
  columns: number,
  features: number,
): void {
  for (let r = 0; r < chunk.indices.length && samples.length < RECONSTRUCTION_SAMPLES; r++) {
    const original = chunk.values.slice(r * columns, (r + 1) * columns);
    const rebuilt = reconstruction.slice(r * columns, (r + 1) * columns);
    let squaredError = 0;
    for (let c = 0; c < columns; c++) squaredError += (original[c]! - rebuilt[c]!) ** 2;
    let active = 0;
    for (let f = 0; f < features; f++) if (codes[r * features + f] !== 0) active++;
    samples.push({
      row: chunk.indices[r]!,
      original,
      reconstruction: rebuilt,
      squaredError,
      activeFeatures: active,
    });
  }
}
