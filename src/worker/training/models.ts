/** Builds the FeatureModel a task names: a run's checkpoint through its method. */
import type { FeatureModel } from '../methods/method';
import { methodFor } from '../methods/registry';
import type { ModelSource } from '../protocol';

export function buildModel(model: ModelSource, dimensions: number): FeatureModel {
  return methodFor(model.config).modelFromCheckpoint(model.config, dimensions, model.tensors);
}
