/**
 * Builds the FeatureModel a task names: a run's checkpoint through its method, or weights
 * in the SAELens layout (an imported dictionary) as a sparse autoencoder.
 */
import { inputError } from '../../shared/errors';
import type { FeatureModel, SaeLensWeights } from '../methods/method';
import { methodFor } from '../methods/registry';
import { SaeFeatureModel } from '../sae/model';
import type { Architecture } from '../sae/parameters';
import { transpose } from '../sae/dense';
import type { ModelSource } from '../protocol';

export function buildModel(model: ModelSource, dimensions: number): FeatureModel {
  if (model.kind === 'checkpoint') {
    return methodFor(model.config).modelFromCheckpoint(model.config, dimensions, model.tensors);
  }
  return modelFromWeights(model.weights, dimensions);
}

/** A sparse autoencoder from SAELens-layout weights (raw units, W_enc: dimensions x features). */
export function modelFromWeights(weights: SaeLensWeights, dimensions: number): FeatureModel {
  const features = weights.b_enc.length;
  if (weights.b_dec.length !== dimensions) {
    throw inputError(
      `the dictionary reads ${weights.b_dec.length} dimensions but the dataset has ${dimensions} columns`,
    );
  }
  const architecture: Architecture =
    weights.architecture === 'topk' ? 'topk' : weights.architecture === 'jumprelu' ? 'jumprelu' : 'relu';
  return new SaeFeatureModel(
    architecture,
    {
      dimensions,
      features,
      encoderT: transpose(weights.W_enc, dimensions, features),
      encoderBias: weights.b_enc,
      decoder: weights.W_dec,
      decoderBias: weights.b_dec,
      threshold: weights.threshold ?? new Float32Array(features),
    },
    weights.k ?? 0,
  );
}
