/**
 * `ica-complete`: complete (M = L) ICA with a Laplacian prior by the natural gradient of
 * Amari, Cichocki & Yang (1996), the baseline for `ica`. With s = W x (no noise) and the
 * score function phi(s) = -d log p / ds = sign(s):
 *
 *     W <- W + eta_t (I - E[phi(s) s^T]) W,     eta_t = eta_0 / (1 + t / tau)
 *
 * Rows are centred and globally scaled as for `ica` (scaling.ts); W starts at the identity.
 * The basis is A = W^-1; codes are exact (s = W x), so the SAELens encoder is exact too
 * apart from its ReLU. Coding cost is the exact likelihood log p(W x) + log |det W|.
 */
import type { CompleteIcaConfig } from '../../shared/methods';
import type { NamedTensors } from '../../shared/tensors';
import { tensor } from '../../shared/tensors';
import { inputError } from '../../shared/errors';
import type {
  FeatureModel,
  MethodDefinition,
  SaeLensWeights,
  StepReport,
  Trainer,
} from '../methods/method';
import { invert, logAbsDeterminantInPlace } from '../linalg/dense';
import { learningRateAt } from './learning';
import { QUANTISATION_STEP } from './likelihood';
import type { Scaling } from './scaling';
import { scalingFromSummary, toScaled } from './scaling';

export const completeIcaMethod: MethodDefinition<CompleteIcaConfig> = {
  create(context) {
    const l = context.data.dimensions;
    const unmixing = new Float64Array(l * l);
    for (let i = 0; i < l; i++) unmixing[i * l + i] = 1;
    return new CompleteIcaTrainer(context.config, l, unmixing, scalingFromSummary(context.data));
  },
  restore(context, checkpoint) {
    const l = context.data.dimensions;
    const { unmixing, scaling } = readCheckpoint(l, checkpoint);
    return new CompleteIcaTrainer(context.config, l, unmixing, scaling);
  },
  modelFromCheckpoint(_config, dimensions, checkpoint) {
    const { unmixing, scaling } = readCheckpoint(dimensions, checkpoint);
    return new CompleteIcaModel(dimensions, unmixing, scaling);
  },
};

/**
 * One natural-gradient step on W (L x L, in place) from scaled rows (B x L).
 * Returns the mean log-likelihood per row (nats) under the unit-rate Laplacian.
 */
export function naturalGradientStep(
  unmixing: Float64Array,
  l: number,
  rows: Float64Array,
  count: number,
  rate: number,
): { meanAbsolute: number } {
  // C = E[sign(s) s^T] (L x L), s = W x per row.
  const correlation = new Float64Array(l * l);
  const s = new Float64Array(l);
  let absoluteSum = 0;
  for (let row = 0; row < count; row++) {
    for (let i = 0; i < l; i++) {
      let sum = 0;
      for (let k = 0; k < l; k++) sum += unmixing[i * l + k]! * rows[row * l + k]!;
      s[i] = sum;
      absoluteSum += Math.abs(sum);
    }
    for (let i = 0; i < l; i++) {
      const sign = Math.sign(s[i]!);
      if (sign === 0) continue;
      for (let k = 0; k < l; k++) correlation[i * l + k] = correlation[i * l + k]! + sign * s[k]!;
    }
  }

  // W <- W + rate (I - C / B) W, with the old W on the right.
  const gradient = new Float64Array(l * l);
  for (let i = 0; i < l; i++) {
    for (let k = 0; k < l; k++) {
      gradient[i * l + k] = (i === k ? 1 : 0) - correlation[i * l + k]! / Math.max(count, 1);
    }
  }
  const product = new Float64Array(l * l);
  for (let i = 0; i < l; i++) {
    for (let k = 0; k < l; k++) {
      const g = gradient[i * l + k]!;
      if (g === 0) continue;
      for (let j = 0; j < l; j++)
        product[i * l + j] = product[i * l + j]! + g * unmixing[k * l + j]!;
    }
  }
  for (let i = 0; i < l * l; i++) unmixing[i] = Math.fround(unmixing[i]! + rate * product[i]!);
  return { meanAbsolute: absoluteSum / Math.max(count * l, 1) };
}

class CompleteIcaTrainer implements Trainer {
  constructor(
    private readonly config: CompleteIcaConfig,
    private readonly dimensions: number,
    private readonly unmixing: Float64Array,
    private readonly scaling: Scaling,
  ) {}

  step(batch: Float32Array, rows: number, step: number): StepReport {
    const rate = learningRateAt(this.config.learningRate, this.config.learningRateDecaySteps, step);
    const scaled = toScaled(batch, rows, this.scaling);
    const { meanAbsolute } = naturalGradientStep(
      this.unmixing,
      this.dimensions,
      scaled,
      rows,
      rate,
    );
    return { losses: { meanAbsoluteCode: meanAbsolute, learningRate: rate } };
  }

  checkpoint(): NamedTensors {
    const l = this.dimensions;
    return {
      unmixing: tensor([l, l], Float32Array.from(this.unmixing)),
      mean: tensor([l], Float32Array.from(this.scaling.mean)),
      scale: tensor([1], Float32Array.of(this.scaling.scale)),
    };
  }

  model(): FeatureModel {
    return new CompleteIcaModel(this.dimensions, Float64Array.from(this.unmixing), this.scaling);
  }

  warnings(): string[] {
    const work = Float64Array.from(this.unmixing);
    const { logAbs } = logAbsDeterminantInPlace(work, this.dimensions);
    return Number.isFinite(logAbs) ? [] : ['the unmixing matrix W became singular'];
  }

  dispose(): void {
    // Plain typed arrays: nothing to free.
  }
}

class CompleteIcaModel implements FeatureModel {
  readonly features: number;
  /** A^T = (W^-1)^T: basis vectors as rows (L x L), scaled units. */
  private readonly basisRows: Float64Array;

  constructor(
    readonly dimensions: number,
    private readonly unmixing: Float64Array,
    private readonly scaling: Scaling,
  ) {
    const l = dimensions;
    this.features = l;
    const mixing = invert(unmixing, l);
    this.basisRows = new Float64Array(l * l);
    for (let i = 0; i < l; i++) {
      for (let j = 0; j < l; j++) this.basisRows[j * l + i] = mixing[i * l + j]!;
    }
  }

  encode(batch: Float32Array, rows: number): Float32Array {
    const l = this.dimensions;
    const scaled = toScaled(batch, rows, this.scaling);
    const codes = new Float32Array(rows * l);
    for (let row = 0; row < rows; row++) {
      for (let i = 0; i < l; i++) {
        let sum = 0;
        for (let k = 0; k < l; k++) sum += this.unmixing[i * l + k]! * scaled[row * l + k]!;
        codes[row * l + i] = sum;
      }
    }
    return codes;
  }

  decode(codes: Float32Array, rows: number): Float32Array {
    const l = this.dimensions;
    const result = new Float32Array(rows * l);
    for (let row = 0; row < rows; row++) {
      for (let i = 0; i < l; i++) {
        let sum = 0;
        for (let j = 0; j < l; j++) sum += codes[row * l + j]! * this.basisRows[j * l + i]!;
        result[row * l + i] = sum / this.scaling.scale + this.scaling.mean[i]!;
      }
    }
    return result;
  }

  atoms(): Float32Array {
    const result = new Float32Array(this.basisRows.length);
    for (let i = 0; i < result.length; i++) result[i] = this.basisRows[i]! / this.scaling.scale;
    return result;
  }

  /** Exact linear encoder s = W scale (x - mean); only the ReLU of the layout drops s < 0. */
  saeLens(): SaeLensWeights {
    const l = this.dimensions;
    const encoderWeights = new Float32Array(l * l);
    for (let i = 0; i < l; i++) {
      for (let k = 0; k < l; k++) {
        encoderWeights[k * l + i] = this.scaling.scale * this.unmixing[i * l + k]!;
      }
    }
    return {
      architecture: 'standard',
      W_enc: encoderWeights,
      b_enc: new Float32Array(l),
      W_dec: this.atoms(),
      b_dec: Float32Array.from(this.scaling.mean),
      approximateEncoder: true,
    };
  }

  /** Exact complete-ICA likelihood log p(s) + log |det W| with p the unit Laplacian. */
  evaluationExtras(
    batch: Float32Array,
    rows: number,
  ): { kktResidual: number; bitsPerDimension: number } {
    const l = this.dimensions;
    const codes = this.encode(batch, rows);
    const { logAbs } = logAbsDeterminantInPlace(Float64Array.from(this.unmixing), l);
    let sum = 0;
    for (const value of codes) sum += Math.abs(value);
    const meanLogLikelihood = -sum / Math.max(rows, 1) - l * Math.LN2 + logAbs;
    const bits = -meanLogLikelihood / Math.LN2 - l * Math.log2(QUANTISATION_STEP);
    return { kktResidual: 0, bitsPerDimension: bits / l };
  }
}

function readCheckpoint(
  dimensions: number,
  checkpoint: NamedTensors,
): { unmixing: Float64Array; scaling: Scaling } {
  const read = (name: string, size: number): Float32Array => {
    const found = checkpoint[name];
    if (!found || found.values.length !== size) {
      throw inputError(
        `ica-complete checkpoint: tensor "${name}" is missing or holds ` +
          `${found?.values.length ?? 0} values instead of ${size}`,
      );
    }
    return found.values;
  };
  return {
    unmixing: Float64Array.from(read('unmixing', dimensions * dimensions)),
    scaling: {
      mean: Float64Array.from(read('mean', dimensions)),
      scale: read('scale', 1)[0]!,
    },
  };
}
