/**
 * Parameters of one sparse autoencoder (spec/sae.md, Architectures), in the units the
 * trainer works in (inputs multiplied by `inputScale`). The encoder is held transposed,
 * features x dimensions, so that a feature's weights are contiguous for the sparse kernels.
 */

export type Architecture = 'relu' | 'topk' | 'batchtopk' | 'jumprelu';

export interface SaeParameters {
  dimensions: number;
  features: number;
  /** W_enc transposed: features x dimensions. */
  encoderT: Float32Array;
  /** b_enc: features. */
  encoderBias: Float32Array;
  /** W_dec: features x dimensions, row i = atom i. */
  decoder: Float32Array;
  /** b_dec: dimensions. */
  decoderBias: Float32Array;
  /** JumpReLU: the per-feature thresholds, trained directly (in pre-activation units, so that
   *  Adam moves them as fast as the biases; a log parameterisation moves them by a fraction of
   *  themselves per step and barely leaves a small initial value in a short run); BatchTopK:
   *  the threshold estimate in every entry (not trained by gradient); others: unused zeros. */
  threshold: Float32Array;
}

/** Names of the trainable tensors, in a fixed order (gradients, Adam moments, clipping). */
export const PARAMETER_NAMES = [
  'encoderT',
  'encoderBias',
  'decoder',
  'decoderBias',
  'threshold',
] as const;
export type ParameterName = (typeof PARAMETER_NAMES)[number];

/**
 * Zero parameters. `shared`: on SharedArrayBuffers (floatArray), so that compute threads can
 * write them (the trainer's parameters and gradient buffers).
 */
export function zeroParameters(
  dimensions: number,
  features: number,
  shared = false,
): SaeParameters {
  const floats = (length: number): Float32Array => floatArray(length, shared);
  return {
    dimensions,
    features,
    encoderT: floats(features * dimensions),
    encoderBias: floats(features),
    decoder: floats(features * dimensions),
    decoderBias: floats(dimensions),
    threshold: floats(features),
  };
}

/**
 * A zero Float32Array; `shared`: on a SharedArrayBuffer, so that compute threads can write it
 * (it behaves as an ordinary Float32Array otherwise).
 */
export function floatArray(length: number, shared: boolean): Float32Array {
  return shared ? new Float32Array(new SharedArrayBuffer(length * 4)) : new Float32Array(length);
}

/** A copy of `values` on shared memory (floatArray). */
export function sharedCopy(values: Float32Array): Float32Array {
  const copy = floatArray(values.length, true);
  copy.set(values);
  return copy;
}

export function cloneParameters(parameters: SaeParameters): SaeParameters {
  return {
    dimensions: parameters.dimensions,
    features: parameters.features,
    encoderT: parameters.encoderT.slice(),
    encoderBias: parameters.encoderBias.slice(),
    decoder: parameters.decoder.slice(),
    decoderBias: parameters.decoderBias.slice(),
    threshold: parameters.threshold.slice(),
  };
}
