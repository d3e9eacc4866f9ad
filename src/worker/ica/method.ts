/**
 * `ica`: Lewicki-Sejnowski overcomplete ICA with a Laplacian prior (spec/overcomplete-ica.md).
 * Each step codes the batch by MAP inference at the learning tolerance (inference.ts) and
 * applies the natural-gradient rule (learning.ts) with eta_t = eta_0 / (1 + t / tau), times
 * min(1, L / M) for an overcomplete basis under unit-norm (overcompleteRateScale).
 *
 * State is kept in float32-representable values (every update is rounded with Math.fround)
 * so a checkpoint, stored as float32, resumes training exactly.
 */
import type { IcaConfig } from '../../shared/methods';
import type { NamedTensors } from '../../shared/tensors';
import { tensor } from '../../shared/tensors';
import { assert, inputError } from '../../shared/errors';
import type { Random } from '../../shared/random';
import type {
  FeatureModel,
  MethodDefinition,
  StepReport,
  Trainer,
  TrainerContext,
} from '../methods/method';
import { axpy, gramOfRows, multiplyTransposed } from '../linalg/dense';
import { sparseCode } from './inference';
import {
  applyLearningRule,
  learningRateAt,
  normaliseRows,
  overcompleteRateScale,
  rowNorms,
} from './learning';
import { createIcaModel } from './model';
import type { Scaling } from './scaling';
import { scalingFromSummary, toScaled } from './scaling';

/** Atoms whose norm falls below this count as collapsed (spec section 5, T2). */
export const COLLAPSE_NORM = 0.01;
/** Usage (fraction of rows with s_m != 0, running average) below which an atom is dead. */
export const DEAD_USAGE = 1e-4;
/** Running averages (usage, theta) forget with this weight per update. */
const AVERAGE_WEIGHT = 0.02;
/** Dead atoms are looked for every this many updates, after the first DEAD_CHECK_START. */
const DEAD_CHECK_EVERY = 100;
const DEAD_CHECK_START = 200;

interface IcaState {
  dictionary: Float64Array;
  scaling: Scaling;
  theta: number;
  usage: Float64Array;
  updates: number;
  reinitialised: number;
  unconvergedBatches: number;
}

export const icaMethod: MethodDefinition<IcaConfig> = {
  create(context) {
    const scaling = scalingFromSummary(context.data);
    const dictionary = initialDictionary(context, scaling);
    const features = context.config.features;
    return new IcaTrainer(context.config, context.data.dimensions, {
      dictionary,
      scaling,
      theta: 1,
      usage: new Float64Array(features).fill(Math.fround(1 / features)),
      updates: 0,
      reinitialised: 0,
      unconvergedBatches: 0,
    });
  },
  restore(context, checkpoint) {
    return new IcaTrainer(
      context.config,
      context.data.dimensions,
      stateFromCheckpoint(context.config, context.data.dimensions, checkpoint),
    );
  },
  modelFromCheckpoint(config, dimensions, checkpoint) {
    const state = stateFromCheckpoint(config, dimensions, checkpoint);
    return createIcaModel({
      dictionary: state.dictionary,
      features: config.features,
      dimensions,
      scaling: state.scaling,
      alpha: config.alpha,
    });
  },
};

class IcaTrainer implements Trainer {
  private readonly features: number;

  constructor(
    private readonly config: IcaConfig,
    private readonly dimensions: number,
    private readonly state: IcaState,
  ) {
    this.features = config.features;
  }

  step(batch: Float32Array, rows: number, step: number): StepReport {
    const m = this.features;
    const l = this.dimensions;
    const { config, state } = this;
    assert(batch.length >= rows * l, () => `batch holds ${batch.length} values for ${rows} rows`);

    // MAP codes at the learning tolerance, cold-started (every batch holds new rows).
    const scaled = toScaled(batch, rows, state.scaling);
    const bad = scaled.findIndex((value) => !Number.isFinite(value));
    if (bad >= 0) {
      throw inputError(
        `ica: row ${Math.floor(bad / l)} of the batch at step ${step} holds a non-finite value ` +
          `in column ${bad % l}: drop such rows (skipNonfinite) or clean the file`,
      );
    }
    if (rows === 0) return { losses: {} };
    const gram = gramOfRows(state.dictionary, m, l);
    const correlations = multiplyTransposed(scaled, rows, state.dictionary, m, l);
    const codes = new Float64Array(rows * m);
    const stats = sparseCode(
      { gram, features: m, alpha: config.alpha },
      correlations,
      rows,
      codes,
      {
        tolerance: config.inferenceTolerance,
        maxSweeps: config.inferenceIterations,
        polish: false,
      },
    );
    if (stats.unconvergedRows > 0) state.unconvergedBatches++;
    const fit = measureFit(scaled, codes, rows, state.dictionary, m, l);

    // Running theta = 1 / mean|s| under unit-norm (the prior no longer sets the scale there).
    if (config.variant === 'unit-norm' && fit.meanAbsolute > 0) {
      const estimate = 1 / fit.meanAbsolute;
      state.theta = Math.fround(
        state.updates === 0
          ? estimate
          : (1 - AVERAGE_WEIGHT) * state.theta + AVERAGE_WEIGHT * estimate,
      );
    }

    // The update, then the bookkeeping on atom usage.
    // Under unit-norm, theta = 1 / mean|s| makes every atom take a full-size step: scale eta
    // by min(1, L / M) there (learning.ts). literal and activity keep theta = 1 and eta as set.
    const rate =
      learningRateAt(config.learningRate, config.learningRateDecaySteps, step) *
      (config.variant === 'unit-norm' ? overcompleteRateScale(l, m) : 1);
    const { usage } = applyLearningRule(
      state.dictionary,
      m,
      l,
      codes,
      rows,
      state.theta,
      rate,
      config.variant,
    );
    for (let j = 0; j < m; j++) {
      state.usage[j] = Math.fround(
        (1 - AVERAGE_WEIGHT) * state.usage[j]! + AVERAGE_WEIGHT * usage[j]!,
      );
    }
    state.updates = step + 1;
    if (
      config.reinitializeDead &&
      state.updates >= DEAD_CHECK_START &&
      state.updates % DEAD_CHECK_EVERY === 0
    ) {
      state.reinitialised += reinitialiseDead(state, scaled, codes, rows, m, l, config.variant);
    }
    for (let i = 0; i < state.dictionary.length; i++) {
      state.dictionary[i] = Math.fround(state.dictionary[i]!);
    }

    return {
      losses: {
        fvu: fit.squaredError / Math.max(fit.squaredNorm, 1e-30),
        l0: fit.activeCount / Math.max(rows, 1),
        kkt: stats.maxResidual,
        theta: state.theta,
        learningRate: rate,
      },
    };
  }

  checkpoint(): NamedTensors {
    const { state } = this;
    return {
      dictionary: tensor([this.features, this.dimensions], Float32Array.from(state.dictionary)),
      mean: tensor([this.dimensions], Float32Array.from(state.scaling.mean)),
      scale: tensor([1], Float32Array.of(state.scaling.scale)),
      theta: tensor([1], Float32Array.of(state.theta)),
      usage: tensor([this.features], Float32Array.from(state.usage)),
      updates: tensor([1], Float32Array.of(state.updates)),
      reinitialised: tensor([1], Float32Array.of(state.reinitialised)),
      unconvergedBatches: tensor([1], Float32Array.of(state.unconvergedBatches)),
    };
  }

  model(): FeatureModel {
    return createIcaModel({
      dictionary: Float64Array.from(this.state.dictionary),
      features: this.features,
      dimensions: this.dimensions,
      scaling: this.state.scaling,
      alpha: this.config.alpha,
    });
  }

  warnings(): string[] {
    const { state, config } = this;
    const warnings: string[] = [];
    const norms = rowNorms(state.dictionary, this.features, this.dimensions);
    const collapsed = norms.filter((norm) => norm < COLLAPSE_NORM).length;
    if (collapsed > 0) {
      warnings.push(
        `${collapsed} atoms collapsed (norm < ${COLLAPSE_NORM}) under the ${config.variant} rule`,
      );
    }
    const dead = state.usage.filter((usage) => usage < DEAD_USAGE).length;
    if (dead > 0) {
      warnings.push(`${dead} atoms unused (running usage < ${DEAD_USAGE}) at the end of training`);
    }
    if (state.reinitialised > 0) {
      warnings.push(`${state.reinitialised} dead atoms re-initialised to high-residual rows`);
    }
    if (state.unconvergedBatches > 0) {
      warnings.push(
        `KKT residual above tolerance (${config.inferenceTolerance} alpha) in ` +
          `${state.unconvergedBatches} of ${state.updates} batches (cap ` +
          `${config.inferenceIterations} sweeps)`,
      );
    }
    return warnings;
  }

  dispose(): void {
    // Plain typed arrays: nothing to free.
  }
}

interface Fit {
  squaredError: number;
  squaredNorm: number;
  meanAbsolute: number;
  activeCount: number;
}

/** Residual energy, data energy, mean |s| (over all M x B codes) and active codes. */
function measureFit(
  scaled: Float64Array,
  codes: Float64Array,
  rows: number,
  dictionary: Float64Array,
  m: number,
  l: number,
): Fit {
  const residual = new Float64Array(l);
  let squaredError = 0;
  let squaredNorm = 0;
  let absoluteSum = 0;
  let activeCount = 0;
  for (let row = 0; row < rows; row++) {
    residual.set(scaled.subarray(row * l, row * l + l));
    for (let i = 0; i < l; i++) squaredNorm += residual[i]! * residual[i]!;
    for (let j = 0; j < m; j++) {
      const value = codes[row * m + j]!;
      if (value === 0) continue;
      activeCount++;
      absoluteSum += Math.abs(value);
      axpy(-value, dictionary, j * l, residual, 0, l);
    }
    for (let i = 0; i < l; i++) squaredError += residual[i]! * residual[i]!;
  }
  return {
    squaredError,
    squaredNorm,
    meanAbsolute: absoluteSum / Math.max(rows * m, 1),
    activeCount,
  };
}

/**
 * Unit-norm initial atoms (M x L, scaled units): distinct random training rows when there
 * are enough non-zero ones, otherwise Gaussian directions. Seeded by the context's Random.
 */
function initialDictionary(context: TrainerContext<IcaConfig>, scaling: Scaling): Float64Array {
  const m = context.config.features;
  const l = context.data.dimensions;
  const dictionary = new Float64Array(m * l);
  const random: Random = context.random;
  const count = context.initialRowCount;
  const rows = count > 0 ? toScaled(context.initialRows, count, scaling) : new Float64Array(0);
  const order = random.permutation(count);

  let filled = 0;
  for (let index = 0; index < count && filled < m; index++) {
    const row = order[index]!;
    let squaredNorm = 0;
    for (let i = 0; i < l; i++) squaredNorm += rows[row * l + i]! ** 2;
    if (!(squaredNorm > 1e-12 * l)) continue;
    dictionary.set(rows.subarray(row * l, row * l + l), filled * l);
    filled++;
  }
  for (let index = filled * l; index < m * l; index++) dictionary[index] = random.gaussian();
  normaliseRows(dictionary, m, l);
  for (let i = 0; i < dictionary.length; i++) dictionary[i] = Math.fround(dictionary[i]!);
  return dictionary;
}

/**
 * Points every dead atom (running usage < DEAD_USAGE) at one of the batch rows worst
 * explained by the current codes, scaled to the mean norm of the live atoms. Returns the
 * number re-initialised.
 */
function reinitialiseDead(
  state: IcaState,
  scaled: Float64Array,
  codes: Float64Array,
  rows: number,
  m: number,
  l: number,
  variant: IcaConfig['variant'],
): number {
  const dead: number[] = [];
  for (let j = 0; j < m; j++) if (state.usage[j]! < DEAD_USAGE) dead.push(j);
  if (dead.length === 0 || rows === 0) return 0;

  // Residual energy per row, worst first.
  const residuals: Float64Array[] = [];
  const energies: number[] = [];
  for (let row = 0; row < rows; row++) {
    const residual = Float64Array.from(scaled.subarray(row * l, row * l + l));
    for (let j = 0; j < m; j++) {
      const value = codes[row * m + j]!;
      if (value !== 0) axpy(-value, state.dictionary, j * l, residual, 0, l);
    }
    residuals.push(residual);
    energies.push(residual.reduce((sum, value) => sum + value * value, 0));
  }
  const order = energies.map((_, index) => index).sort((a, b) => energies[b]! - energies[a]!);

  const norms = rowNorms(state.dictionary, m, l);
  let liveNorm = 0;
  let liveCount = 0;
  for (let j = 0; j < m; j++) {
    if (state.usage[j]! >= DEAD_USAGE) {
      liveNorm += norms[j]!;
      liveCount++;
    }
  }
  const targetNorm = variant === 'unit-norm' || liveCount === 0 ? 1 : liveNorm / liveCount;

  let replaced = 0;
  for (const j of dead) {
    const row = order[replaced % order.length]!;
    const residual = residuals[row]!;
    const norm = Math.sqrt(energies[row]!);
    if (!(norm > 0)) continue;
    for (let i = 0; i < l; i++) state.dictionary[j * l + i] = (targetNorm * residual[i]!) / norm;
    state.usage[j] = Math.fround(1 / m);
    replaced++;
  }
  return replaced;
}

function stateFromCheckpoint(
  config: IcaConfig,
  dimensions: number,
  checkpoint: NamedTensors,
): IcaState {
  const m = config.features;
  const read = (name: string, size: number): Float32Array => {
    const found = checkpoint[name];
    if (!found || found.values.length !== size) {
      throw inputError(
        `ica checkpoint: tensor "${name}" is missing or holds ${found?.values.length ?? 0} ` +
          `values instead of ${size}: the checkpoint does not belong to this configuration`,
      );
    }
    return found.values;
  };
  return {
    dictionary: Float64Array.from(read('dictionary', m * dimensions)),
    scaling: { mean: Float64Array.from(read('mean', dimensions)), scale: read('scale', 1)[0]! },
    theta: read('theta', 1)[0]!,
    usage: Float64Array.from(read('usage', m)),
    updates: read('updates', 1)[0]!,
    reinitialised: read('reinitialised', 1)[0]!,
    unconvergedBatches: read('unconvergedBatches', 1)[0]!,
  };
}
