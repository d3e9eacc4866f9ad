/**
 * The evaluation model of an overcomplete ICA basis: MAP codes at evaluation tolerance
 * (KKT residual <= 1e-6 alpha, then the exact active-set polish), in RAW data units at its
 * boundary. Inside, rows are scaled (scaling.ts) and the basis is D = A^T (M x L).
 */
import type { FeatureModel, SaeLensWeights } from '../methods/method';
import { dot, gramOfRows, multiplyTransposed } from '../linalg/dense';
import { sparseCode } from './inference';
import { dictionaryCodingCost } from './likelihood';
import type { Scaling } from './scaling';
import { toScaled } from './scaling';

/** Evaluation tolerance of the KKT test, relative to alpha (spec section 2). */
export const EVALUATION_TOLERANCE = 1e-6;
const EVALUATION_SWEEPS = 2000;
/** Rows encoded at once; bounds the rows x M work arrays. */
const CHUNK_ROWS = 1024;

export interface IcaModelParameters {
  /** Basis vectors as rows (M x L), scaled units. */
  dictionary: Float64Array;
  features: number;
  dimensions: number;
  scaling: Scaling;
  /** L1 weight of MAP inference, scaled units. */
  alpha: number;
}

export function createIcaModel(parameters: IcaModelParameters): FeatureModel {
  return new IcaModel(parameters);
}

class IcaModel implements FeatureModel {
  readonly dimensions: number;
  readonly features: number;
  private readonly gram: Float64Array;
  private lastResidual = 0;

  constructor(private readonly parameters: IcaModelParameters) {
    this.dimensions = parameters.dimensions;
    this.features = parameters.features;
    this.gram = gramOfRows(parameters.dictionary, this.features, this.dimensions);
  }

  /** MAP codes s_hat (rows x M) of raw rows; records the largest KKT residual. */
  encode(batch: Float32Array, rows: number): Float32Array {
    const { dictionary, scaling, alpha } = this.parameters;
    const m = this.features;
    const l = this.dimensions;
    const result = new Float32Array(rows * m);
    let worst = 0;

    for (let start = 0; start < rows; start += CHUNK_ROWS) {
      const count = Math.min(CHUNK_ROWS, rows - start);
      const scaled = toScaled(batch.subarray(start * l, (start + count) * l), count, scaling);
      const correlations = multiplyTransposed(scaled, count, dictionary, m, l);
      const codes = new Float64Array(count * m);
      const stats = sparseCode(
        { gram: this.gram, features: m, alpha },
        correlations,
        count,
        codes,
        {
          tolerance: EVALUATION_TOLERANCE,
          maxSweeps: EVALUATION_SWEEPS,
          polish: true,
        },
      );
      if (!(stats.maxResidual <= worst)) worst = stats.maxResidual;
      result.set(codes, start * m);
    }
    this.lastResidual = worst;
    return result;
  }

  /** Reconstructions A s / scale + mean (rows x L, raw units). */
  decode(codes: Float32Array, rows: number): Float32Array {
    const { dictionary, scaling } = this.parameters;
    const m = this.features;
    const l = this.dimensions;
    const result = new Float32Array(rows * l);
    const reconstruction = new Float64Array(l);
    for (let row = 0; row < rows; row++) {
      reconstruction.fill(0);
      for (let j = 0; j < m; j++) {
        const value = codes[row * m + j]!;
        if (value === 0) continue;
        for (let i = 0; i < l; i++) {
          reconstruction[i] = reconstruction[i]! + value * dictionary[j * l + i]!;
        }
      }
      for (let i = 0; i < l; i++) {
        result[row * l + i] = reconstruction[i]! / scaling.scale + scaling.mean[i]!;
      }
    }
    return result;
  }

  /** Columns of A as rows (M x L), raw units: decode(s) = s atoms + mean. */
  atoms(): Float32Array {
    const { dictionary, scaling } = this.parameters;
    const result = new Float32Array(dictionary.length);
    for (let i = 0; i < dictionary.length; i++) result[i] = dictionary[i]! / scaling.scale;
    return result;
  }

  /**
   * SAELens "standard" layout. The decoder is exact (W_dec = atoms, b_dec = mean). The
   * encoder is the one-coefficient lasso solution per atom, relu((x - b_dec) W_enc + b_enc)
   * with W_enc[:, m] = scale a_m / ||a_m||^2 and b_enc[m] = -alpha / ||a_m||^2: it ignores
   * the explaining-away between atoms and, through the ReLU, the negative codes, hence
   * approximateEncoder.
   */
  saeLens(): SaeLensWeights {
    const { dictionary, scaling, alpha } = this.parameters;
    const m = this.features;
    const l = this.dimensions;
    const encoderWeights = new Float32Array(l * m);
    const encoderBias = new Float32Array(m);
    for (let j = 0; j < m; j++) {
      const squaredNorm = dot(dictionary, j * l, dictionary, j * l, l);
      if (!(squaredNorm > 0)) continue;
      for (let i = 0; i < l; i++) {
        encoderWeights[i * m + j] = (scaling.scale * dictionary[j * l + i]!) / squaredNorm;
      }
      encoderBias[j] = -alpha / squaredNorm;
    }
    return {
      architecture: 'standard',
      W_enc: encoderWeights,
      b_enc: encoderBias,
      W_dec: this.atoms(),
      b_dec: Float32Array.from(scaling.mean),
      approximateEncoder: true,
    };
  }

  evaluationExtras(
    batch: Float32Array,
    rows: number,
  ): { kktResidual: number; bitsPerDimension: number } {
    this.encode(batch, rows);
    const cost = dictionaryCodingCost({
      atoms: this.atoms(),
      features: this.features,
      dimensions: this.dimensions,
      rows: batch,
      rowCount: rows,
      scaling: this.parameters.scaling,
      alpha: this.parameters.alpha,
    });
    return { kktResidual: this.lastResidual, bitsPerDimension: cost.bitsPerDimension };
  }
}
