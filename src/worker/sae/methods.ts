/**
 * The four SAE methods as MethodDefinitions: sae-relu, sae-topk, sae-batchtopk, sae-jumprelu.
 */
import type {
  SaeBatchTopkConfig,
  SaeCommonConfig,
  SaeJumpReluConfig,
  SaeReluConfig,
  SaeTopkConfig,
} from '../../shared/methods';
import type { NamedTensors } from '../../shared/tensors';
import type { FeatureModel, MethodDefinition, TrainerContext } from '../methods/method';
import { SaeFeatureModel, foldScale } from './model';
import type { ArchitectureSettings, SaeConfig } from './trainer';
import { SaeTrainer, initialState, stateFromCheckpoint } from './trainer';

function settingsOf(config: SaeConfig): ArchitectureSettings {
  const base: ArchitectureSettings = {
    architecture: 'relu',
    k: 0,
    l1: 0,
    l1WarmupSteps: 0,
    sparsity: 0,
    bandwidth: 1,
    initialThreshold: 1,
    auxK: 0,
    auxCoefficient: 0,
  };
  switch (config.method) {
    case 'sae-relu':
      return { ...base, l1: config.l1, l1WarmupSteps: config.l1WarmupSteps };
    case 'sae-topk':
    case 'sae-batchtopk':
      return {
        ...base,
        architecture: config.method === 'sae-topk' ? 'topk' : 'batchtopk',
        k: config.k,
        auxK: config.auxK,
        auxCoefficient: config.auxCoefficient,
      };
    case 'sae-jumprelu':
      return {
        ...base,
        architecture: 'jumprelu',
        sparsity: config.sparsity,
        bandwidth: config.bandwidth,
        initialThreshold: config.initialThreshold,
      };
  }
}

function definition<C extends SaeConfig>(): MethodDefinition<C> {
  return {
    create(context: TrainerContext<C>) {
      const settings = settingsOf(context.config);
      const config: SaeCommonConfig = context.config;
      return new SaeTrainer(config, settings, initialState(context, settings), context.random);
    },
    restore(context: TrainerContext<C>, checkpoint: NamedTensors) {
      const settings = settingsOf(context.config);
      const state = stateFromCheckpoint(checkpoint, settings.architecture, context.data.dimensions);
      return new SaeTrainer(context.config, settings, state, context.random);
    },
    modelFromCheckpoint(config: C, dimensions: number, checkpoint: NamedTensors): FeatureModel {
      const settings = settingsOf(config);
      const state = stateFromCheckpoint(checkpoint, settings.architecture, dimensions);
      return new SaeFeatureModel(
        settings.architecture,
        foldScale(state.parameters, state.inputScale),
        settings.k,
      );
    },
  };
}

export const saeReluMethod: MethodDefinition<SaeReluConfig> = definition<SaeReluConfig>();
export const saeTopkMethod: MethodDefinition<SaeTopkConfig> = definition<SaeTopkConfig>();
export const saeBatchTopkMethod: MethodDefinition<SaeBatchTopkConfig> =
  definition<SaeBatchTopkConfig>();
export const saeJumpReluMethod: MethodDefinition<SaeJumpReluConfig> =
  definition<SaeJumpReluConfig>();
