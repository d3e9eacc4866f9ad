/**
 * Training of the SAE family (spec/sae.md): inputs scaled by one constant so that
 * E||c x||^2 = d_in, Adam with linear warm-up and linear decay, global gradient clipping,
 * unit-norm decoder rows for TopK, BatchTopK and JumpReLU, dead features tracked over a
 * window of rows and optionally resampled.
 */
import { assert, inputError } from '../../shared/errors';
import type { Random } from '../../shared/random';
import type {
  SaeBatchTopkConfig,
  SaeCommonConfig,
  SaeJumpReluConfig,
  SaeReluConfig,
  SaeTopkConfig,
} from '../../shared/methods';
import { scheduledL1, scheduledLearningRate } from '../../shared/saeSchedule';
import type { NamedTensors } from '../../shared/tensors';
import type { FeatureModel, StepReport, Trainer, TrainerContext } from '../methods/method';
import type { Moments } from './adam';
import { zeroMoments } from './adam';
import { rowNorm } from './dense';
import { transpose } from './transpose';
import { SaeFeatureModel, foldScale } from './model';
import { applyGradients } from './optimizer';
import type { Architecture, ParameterName, SaeParameters } from './parameters';
import { PARAMETER_NAMES, floatArray, sharedCopy, zeroParameters } from './parameters';
import type { PassSettings } from './passes';
import { decodeCodes, lossAndGradients, preActivations } from './passes';
import { reluCodes } from './codes';
import { sharedScratch } from './scratch';

export type SaeConfig = SaeReluConfig | SaeTopkConfig | SaeBatchTopkConfig | SaeJumpReluConfig;

/** What distinguishes the members of the family, taken from their configurations. */
export interface ArchitectureSettings {
  architecture: Architecture;
  k: number;
  l1: number;
  l1WarmupSteps: number;
  sparsity: number;
  bandwidth: number;
  initialThreshold: number;
  auxK: number;
  auxCoefficient: number;
}

/** Weight of a new batch in the running BatchTopK threshold estimate. */
const THRESHOLD_ESTIMATE_RATE = 0.01;
/** JumpReLU thresholds stay positive. */
const MINIMUM_THRESHOLD = 1e-6;
/** Iterations of Weiszfeld's algorithm for the geometric median. */
const WEISZFELD_ITERATIONS = 100;

export interface TrainingState {
  parameters: SaeParameters;
  moments: Record<ParameterName, Moments>;
  inputScale: number;
  /** Adam updates done. */
  updates: number;
  rowsSinceActive: Float64Array;
  /** BatchTopK: running estimate of the threshold (NaN before the first batch). */
  thresholdEstimate: number;
}

export class SaeTrainer implements Trainer {
  private gradientBuffer: SaeParameters | undefined;

  constructor(
    private readonly config: SaeCommonConfig,
    private readonly settings: ArchitectureSettings,
    private readonly state: TrainingState,
    private readonly random: Random,
  ) {}

  step(batch: Float32Array, rows: number, step: number): StepReport {
    const { parameters, inputScale } = this.state;
    const { dimensions, features } = parameters;
    assert(rows > 0, () => 'a training step needs rows');

    // Forward and backward on scaled inputs.
    // On shared memory, reused from step to step: compute threads read it where it is.
    const scaled = sharedScratch('sae.scaledBatch', rows * dimensions);
    for (let i = 0; i < scaled.length; i++) scaled[i] = batch[i]! * inputScale;
    // Shared memory lets the compute threads (threads.ts) write gradients directly.
    this.gradientBuffer ??= zeroParameters(dimensions, features, true);
    const pass = lossAndGradients(
      parameters,
      scaled,
      rows,
      this.passSettings(step),
      this.gradientBuffer,
    );
    const { gradients } = pass;
    if (!Number.isFinite(pass.losses.loss)) {
      // Refused before the update, so the parameters stay usable for a resumed run.
      throw inputError(
        `step ${step}: the loss is not finite (${pass.losses.loss}): the batch holds NaN or ` +
          `infinite values (turn on skipNonfinite), or the learning rate ` +
          `${this.config.learningRate} is too high`,
      );
    }

    // Tangent projection of unit-norm decoder rows, global norm clip, Adam (optimizer.ts).
    const rate = scheduledLearningRate(this.config, step);
    this.state.updates++;
    const gradientNorm = applyGradients(
      parameters,
      gradients,
      this.state.moments,
      this.trainedNames,
      {
        unitDecoderRows: this.constrained,
        gradientClip: this.config.gradientClip,
        rate,
        update: this.state.updates,
      },
    );
    if (this.settings.architecture === 'jumprelu') {
      const threshold = parameters.threshold;
      for (let j = 0; j < features; j++) threshold[j] = Math.max(threshold[j]!, MINIMUM_THRESHOLD);
    }

    // Book-keeping: dead features, the BatchTopK threshold, resampling.
    const active = new Uint8Array(features);
    const activeIndex = pass.codes.index;
    for (let p = 0; p < activeIndex.length; p++) active[activeIndex[p]!] = 1;
    for (let j = 0; j < features; j++) {
      this.state.rowsSinceActive[j] = active[j] === 1 ? 0 : this.state.rowsSinceActive[j]! + rows;
    }
    if (this.settings.architecture === 'batchtopk' && pass.smallestKept > 0) {
      const previous = this.state.thresholdEstimate;
      // Held at float32 precision, the precision in which checkpoints keep it.
      this.state.thresholdEstimate = Math.fround(
        Number.isNaN(previous)
          ? pass.smallestKept
          : previous + THRESHOLD_ESTIMATE_RATE * (pass.smallestKept - previous),
      );
      parameters.threshold.fill(this.state.thresholdEstimate);
    }
    const every = this.config.resampleDeadEvery;
    if (every > 0 && (step + 1) % every === 0) this.resampleDead(scaled, rows);

    const losses: Record<string, number> = {
      ...pass.losses,
      // Reported in raw units: (1/c^2) of the scaled squared error.
      mse: pass.losses.mse! / (inputScale * inputScale),
      deadFeatures: this.deadMask().reduce((sum, d) => sum + d, 0),
      gradientNorm,
      learningRate: rate,
    };
    return { losses };
  }

  checkpoint(): NamedTensors {
    const { parameters, moments, inputScale } = this.state;
    const { dimensions, features } = parameters;
    const tensors: NamedTensors = {
      W_enc: {
        shape: [dimensions, features],
        values: transpose(parameters.encoderT, features, dimensions),
      },
      b_enc: { shape: [features], values: parameters.encoderBias.slice() },
      W_dec: { shape: [features, dimensions], values: parameters.decoder.slice() },
      b_dec: { shape: [dimensions], values: parameters.decoderBias.slice() },
      input_scale: { shape: [1], values: Float32Array.of(inputScale) },
      'state.updates': { shape: [1], values: Float32Array.of(this.state.updates) },
      'state.rows_since_active': {
        shape: [features],
        values: Float32Array.from(this.state.rowsSinceActive),
      },
      'state.threshold_estimate': {
        shape: [1],
        values: Float32Array.of(this.state.thresholdEstimate),
      },
    };
    if (hasThreshold(this.settings.architecture)) {
      tensors.threshold = { shape: [features], values: parameters.threshold.slice() };
    }
    for (const name of PARAMETER_NAMES) {
      const shape = shapeOf(name, dimensions, features);
      tensors[`adam.first.${name}`] = { shape, values: moments[name].first.slice() };
      tensors[`adam.second.${name}`] = { shape, values: moments[name].second.slice() };
    }
    return tensors;
  }

  model(): FeatureModel {
    return new SaeFeatureModel(
      this.settings.architecture,
      foldScale(this.state.parameters, this.state.inputScale),
      this.settings.k,
    );
  }

  warnings(): string[] {
    const dead = this.deadMask().reduce((sum, d) => sum + d, 0);
    if (dead === 0) return [];
    return [
      `${dead} of ${this.state.parameters.features} features are dead (no activation in the ` +
        `last ${this.config.deadWindowRows} training rows)`,
    ];
  }

  dispose(): void {
    // Parameters live in Float32Arrays; no tensors are held between steps.
  }

  private get constrained(): boolean {
    return this.settings.architecture !== 'relu';
  }

  private get trainedNames(): ParameterName[] {
    return PARAMETER_NAMES.filter(
      (name) => name !== 'threshold' || this.settings.architecture === 'jumprelu',
    );
  }

  private passSettings(step: number): PassSettings {
    const { settings } = this;
    return {
      architecture: settings.architecture,
      k: settings.k,
      l1: scheduledL1(settings.l1, settings.l1WarmupSteps, step),
      sparsity: settings.sparsity,
      bandwidth: settings.bandwidth,
      auxK: settings.auxK,
      auxCoefficient: settings.auxCoefficient,
      dead: this.deadMask(),
    };
  }

  private deadMask(): Uint8Array {
    const window = this.config.deadWindowRows;
    return Uint8Array.from(this.state.rowsSinceActive, (rows) => (rows >= window ? 1 : 0));
  }

  /**
   * Re-initialises dead features towards rows the model reconstructs badly (Bricken et al.
   * 2023): decoder row = the chosen row's residual, normalised; encoder row = the same
   * direction at 0.2 of the mean live encoder norm; bias and Adam moments reset.
   */
  private resampleDead(scaled: Float32Array, rows: number): void {
    const { parameters, moments } = this.state;
    const { dimensions, features } = parameters;
    const dead = this.deadMask();
    if (!dead.includes(1)) return;

    const { pre } = preActivations(parameters, scaled, rows);
    const codes = reluCodes(pre, rows, features);
    const reconstruction = decodeCodes(parameters, codes);
    const residual = new Float32Array(rows * dimensions);
    const weights = new Float64Array(rows);
    let totalWeight = 0;
    for (let r = 0; r < rows; r++) {
      let squared = 0;
      for (let c = 0; c < dimensions; c++) {
        const e = scaled[r * dimensions + c]! - reconstruction[r * dimensions + c]!;
        residual[r * dimensions + c] = e;
        squared += e * e;
      }
      weights[r] = squared * squared;
      totalWeight += squared * squared;
    }
    if (!(totalWeight > 0)) return;
    let liveNorm = 0;
    let live = 0;
    for (let j = 0; j < features; j++) {
      if (dead[j] === 1) continue;
      liveNorm += rowNorm(parameters.encoderT, j, dimensions);
      live++;
    }
    const encoderNorm = 0.2 * (live > 0 ? liveNorm / live : 1);

    for (let j = 0; j < features; j++) {
      if (dead[j] === 0) continue;
      let target = this.random.uniform() * totalWeight;
      let row = 0;
      while (row < rows - 1 && target > weights[row]!) target -= weights[row++]!;
      const norm = rowNorm(residual, row, dimensions) || 1;
      for (let c = 0; c < dimensions; c++) {
        const direction = residual[row * dimensions + c]! / norm;
        parameters.decoder[j * dimensions + c] = direction;
        parameters.encoderT[j * dimensions + c] = direction * encoderNorm;
      }
      parameters.encoderBias[j] = 0;
      for (const name of ['encoderT', 'decoder'] as const) {
        moments[name].first.fill(0, j * dimensions, (j + 1) * dimensions);
        moments[name].second.fill(0, j * dimensions, (j + 1) * dimensions);
      }
      moments.encoderBias.first[j] = 0;
      moments.encoderBias.second[j] = 0;
      this.state.rowsSinceActive[j] = 0;
    }
  }
}

/** A fresh training state: scaling, b_dec, unit-norm decoder rows, encoder = decoder^T. */
export function initialState(
  context: TrainerContext<SaeConfig>,
  settings: ArchitectureSettings,
): TrainingState {
  const { config, data, random } = context;
  const dimensions = data.dimensions;
  const features = config.features;
  // Held at float32 precision, the precision in which checkpoints keep it.
  const inputScale = Math.fround(
    data.meanSquaredNorm > 0 ? Math.sqrt(dimensions / data.meanSquaredNorm) : 1,
  );
  // Shared memory lets the compute threads (threads.ts) update parameters and moments.
  const parameters = zeroParameters(dimensions, features, true);

  for (let i = 0; i < parameters.decoder.length; i++) parameters.decoder[i] = random.gaussian();
  normalizeRows(parameters.decoder, features, dimensions);
  parameters.encoderT.set(parameters.decoder);

  if (config.decoderBiasInit === 'geometric-median' && context.initialRowCount > 0) {
    const median = geometricMedian(context.initialRows, context.initialRowCount, dimensions);
    for (let c = 0; c < dimensions; c++) parameters.decoderBias[c] = median[c]! * inputScale;
  } else {
    for (let c = 0; c < dimensions; c++) parameters.decoderBias[c] = data.mean[c]! * inputScale;
  }
  if (settings.architecture === 'jumprelu') {
    parameters.threshold.fill(settings.initialThreshold);
  }

  const moments = {} as Record<ParameterName, Moments>;
  for (const name of PARAMETER_NAMES) moments[name] = zeroMoments(parameters[name].length, true);
  return {
    parameters,
    moments,
    inputScale,
    updates: 0,
    rowsSinceActive: new Float64Array(features),
    thresholdEstimate: Number.NaN,
  };
}

/** Reads a training state from a checkpoint (`SaeTrainer.checkpoint`, or an imported one). */
export function stateFromCheckpoint(
  checkpoint: NamedTensors,
  architecture: Architecture,
  dimensions: number,
): TrainingState {
  const W_enc = required(checkpoint, 'W_enc');
  const features = W_enc.shape[1] ?? 0;
  expectShape(checkpoint, 'W_enc', [dimensions, features]);
  expectShape(checkpoint, 'W_dec', [features, dimensions]);
  expectShape(checkpoint, 'b_enc', [features]);
  expectShape(checkpoint, 'b_dec', [dimensions]);
  const parameters: SaeParameters = {
    dimensions,
    features,
    // On shared memory, as initialState's.
    encoderT: transpose(
      W_enc.values,
      dimensions,
      features,
      floatArray(features * dimensions, true),
    ),
    encoderBias: sharedCopy(required(checkpoint, 'b_enc').values),
    decoder: sharedCopy(required(checkpoint, 'W_dec').values),
    decoderBias: sharedCopy(required(checkpoint, 'b_dec').values),
    threshold: floatArray(features, true),
  };
  if (hasThreshold(architecture)) {
    expectShape(checkpoint, 'threshold', [features]);
    parameters.threshold.set(required(checkpoint, 'threshold').values);
  }
  const moments = {} as Record<ParameterName, Moments>;
  for (const name of PARAMETER_NAMES) {
    const first = checkpoint[`adam.first.${name}`]?.values;
    const second = checkpoint[`adam.second.${name}`]?.values;
    const size = parameters[name].length;
    moments[name] =
      first?.length === size && second?.length === size
        ? { first: sharedCopy(first), second: sharedCopy(second) }
        : zeroMoments(size, true);
  }
  const rowsSinceActive = checkpoint['state.rows_since_active']?.values;
  const estimate = checkpoint['state.threshold_estimate']?.values[0];
  return {
    parameters,
    moments,
    inputScale: checkpoint.input_scale?.values[0] ?? 1,
    updates: checkpoint['state.updates']?.values[0] ?? 0,
    rowsSinceActive:
      rowsSinceActive?.length === features
        ? Float64Array.from(rowsSinceActive)
        : new Float64Array(features),
    thresholdEstimate:
      estimate ?? (architecture === 'batchtopk' ? (parameters.threshold[0] ?? 0) : Number.NaN),
  };
}

function hasThreshold(architecture: Architecture): boolean {
  return architecture === 'jumprelu' || architecture === 'batchtopk';
}

function required(
  checkpoint: NamedTensors,
  name: string,
): { shape: number[]; values: Float32Array } {
  const found = checkpoint[name];
  if (found === undefined) {
    throw inputError(
      `the SAE checkpoint has no tensor "${name}": it was not written by a Basis SAE or an SAE ` +
        `import`,
    );
  }
  return found;
}

function expectShape(checkpoint: NamedTensors, name: string, shape: number[]): void {
  const found = required(checkpoint, name);
  if (found.shape.length !== shape.length || found.shape.some((extent, i) => extent !== shape[i])) {
    throw inputError(
      `SAE checkpoint tensor "${name}" has shape [${found.shape.join(', ')}], expected ` +
        `[${shape.join(', ')}]`,
    );
  }
  if (found.values.length !== shape.reduce((a, b) => a * b, 1)) {
    throw inputError(
      `SAE checkpoint tensor "${name}" holds ${found.values.length} values, not its shape's`,
    );
  }
}

function shapeOf(name: ParameterName, dimensions: number, features: number): number[] {
  switch (name) {
    case 'encoderT':
    case 'decoder':
      return [features, dimensions];
    case 'encoderBias':
    case 'threshold':
      return [features];
    case 'decoderBias':
      return [dimensions];
  }
}

/** Scales every row of a rows x columns matrix to unit norm (zero rows stay zero). */
export function normalizeRows(matrix: Float32Array, rows: number, columns: number): void {
  for (let r = 0; r < rows; r++) {
    const norm = rowNorm(matrix, r, columns);
    if (norm === 0) continue;
    for (let c = r * columns; c < (r + 1) * columns; c++) matrix[c] = matrix[c]! / norm;
  }
}

/** Weiszfeld's algorithm for the point minimising the sum of distances to the rows. */
export function geometricMedian(
  rowsData: Float32Array,
  rows: number,
  dimensions: number,
): Float64Array {
  const median = new Float64Array(dimensions);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < dimensions; c++)
      median[c] = median[c]! + rowsData[r * dimensions + c]! / rows;
  }
  const next = new Float64Array(dimensions);
  for (let iteration = 0; iteration < WEISZFELD_ITERATIONS; iteration++) {
    next.fill(0);
    let totalWeight = 0;
    for (let r = 0; r < rows; r++) {
      let squared = 0;
      for (let c = 0; c < dimensions; c++) {
        const d = rowsData[r * dimensions + c]! - median[c]!;
        squared += d * d;
      }
      const weight = 1 / Math.max(Math.sqrt(squared), 1e-12);
      totalWeight += weight;
      for (let c = 0; c < dimensions; c++)
        next[c] = next[c]! + weight * rowsData[r * dimensions + c]!;
    }
    let moved = 0;
    for (let c = 0; c < dimensions; c++) {
      const value = next[c]! / totalWeight;
      moved += (value - median[c]!) ** 2;
      median[c] = value;
    }
    if (moved < 1e-14) break;
  }
  return median;
}
