/**
 * A trained sparse autoencoder as a FeatureModel: raw data units in and out, the trainer's
 * input scale folded into the weights (spec/sae.md, Input scaling).
 */
import type { FeatureModel, SaeLensWeights } from '../methods/method';
import { compress } from './codes';
import { transpose } from './transpose';
import type { Architecture, SaeParameters } from './parameters';
import { activate, decodeCodes, preActivations } from './passes';

/** Rows encoded per block, to bound the memory of the rows x features intermediates. */
const ENCODE_BLOCK_ROWS = 4096;

/**
 * Parameters for raw inputs from parameters trained on inputs multiplied by `scale`:
 * (c x - b) W + e = (x - b/c) (c W) + e and (f D + b)/c = f (D/c) + b/c. Codes and
 * thresholds are unchanged.
 */
export function foldScale(parameters: SaeParameters, scale: number): SaeParameters {
  return {
    dimensions: parameters.dimensions,
    features: parameters.features,
    encoderT: parameters.encoderT.map((v) => v * scale),
    encoderBias: parameters.encoderBias.slice(),
    decoder: parameters.decoder.map((v) => v / scale),
    decoderBias: parameters.decoderBias.map((v) => v / scale),
    threshold: parameters.threshold.slice(),
  };
}

export class SaeFeatureModel implements FeatureModel {
  readonly dimensions: number;
  readonly features: number;

  /** `parameters` in raw units (already folded). */
  constructor(
    private readonly architecture: Architecture,
    private readonly parameters: SaeParameters,
    private readonly k: number,
  ) {
    this.dimensions = parameters.dimensions;
    this.features = parameters.features;
  }

  encode(batch: Float32Array, rows: number): Float32Array {
    const codes = new Float32Array(rows * this.features);
    for (let first = 0; first < rows; first += ENCODE_BLOCK_ROWS) {
      const count = Math.min(ENCODE_BLOCK_ROWS, rows - first);
      const block = batch.subarray(first * this.dimensions, (first + count) * this.dimensions);
      const { pre } = preActivations(this.parameters, block, count);
      codes.set(
        activate(this.architecture, this.parameters, pre, count, this.k),
        first * this.features,
      );
    }
    return codes;
  }

  decode(codes: Float32Array, rows: number): Float32Array {
    return decodeCodes(
      this.parameters,
      compress(codes.subarray(0, rows * this.features), rows, this.features),
    );
  }

  atoms(): Float32Array {
    return this.parameters.decoder.slice();
  }

  saeLens(): SaeLensWeights {
    const weights: SaeLensWeights = {
      architecture: saeLensArchitecture(this.architecture),
      W_enc: transpose(this.parameters.encoderT, this.features, this.dimensions),
      b_enc: this.parameters.encoderBias.slice(),
      W_dec: this.parameters.decoder.slice(),
      b_dec: this.parameters.decoderBias.slice(),
      approximateEncoder: false,
    };
    if (this.architecture === 'topk') weights.k = this.k;
    if (this.architecture === 'jumprelu' || this.architecture === 'batchtopk') {
      weights.threshold = this.parameters.threshold.slice();
    }
    return weights;
  }
}

function saeLensArchitecture(architecture: Architecture): SaeLensWeights['architecture'] {
  switch (architecture) {
    case 'relu':
      return 'standard';
    case 'topk':
      return 'topk';
    case 'batchtopk':
    case 'jumprelu':
      return 'jumprelu';
  }
}
