/**
 * Defaults and validation of run configurations. `parseRunConfig` is the one place where an
 * untrusted configuration (CLI flags, a UI form, an HTTP body) becomes a trusted RunConfig.
 */
import { assertNever, inputError } from './errors';
import type { CommonConfig, Method, RunConfig, SaeCommonConfig } from './methods';
import { ICA_VARIANTS, parseMethod } from './methods';
import {
  expectBoolean,
  expectNumber,
  expectObject,
  expectOneOf,
  expectOnlyKeys,
  type Record_,
} from './validate';

/** Sensible defaults for a dataset with `dimensions` columns. */
export function defaultRunConfig(method: Method, dimensions: number): RunConfig {
  const common: CommonConfig = {
    features: method === 'ica-complete' ? dimensions : 2 * dimensions,
    steps: 2000,
    batchSize: 256,
    seed: 0,
    learningRate: 1e-3,
    checkpointEvery: 200,
    evaluationRows: 4096,
    skipNonfinite: false,
  };
  // SAE defaults measured on the stories260K MLP activations (172 x 16 384 rows, docs/sae.md):
  // TopK reaches its plateau of explained variance within about 1000 updates at this rate.
  const sae: SaeCommonConfig = {
    ...common,
    features: 4 * dimensions,
    steps: 1500,
    learningRate: 4e-3,
    batchSize: 1024,
    warmupSteps: 100,
    decayFraction: 0.2,
    gradientClip: 1,
    decoderBiasInit: 'mean',
    resampleDeadEvery: 0,
    deadWindowRows: 100_000,
  };
  switch (method) {
    case 'ica':
      return {
        ...common,
        method,
        // Measured on stories260K MLP activations (L = 172, M = 344, docs/ica.md): alpha 0.35
        // keeps the mean active codes per row between L / 4 and L / 3 as the basis learns;
        // 500 updates of 256 rows took about 2 CPU-minutes. The unit-norm trainer multiplies
        // learningRate by min(1, L / M) (docs/ica.md: 0.05 oscillated at L = 256, M = 512).
        steps: 500,
        learningRate: 0.05,
        alpha: 0.35,
        variant: 'unit-norm',
        learningRateDecaySteps: 500,
        reinitializeDead: false,
        inferenceIterations: 200,
        inferenceTolerance: 1e-3,
      };
    case 'ica-complete':
      return { ...common, method, learningRate: 0.02, learningRateDecaySteps: 500 };
    case 'sae-relu':
      return { ...sae, method, l1: 1, l1WarmupSteps: 200 };
    case 'sae-topk':
      return { ...sae, method, k: 32, auxK: 256, auxCoefficient: 1 / 32 };
    case 'sae-batchtopk':
      return { ...sae, method, k: 32, auxK: 256, auxCoefficient: 1 / 32 };
    case 'sae-jumprelu':
      return { ...sae, method, sparsity: 1, bandwidth: 0.05, initialThreshold: 0.05 };
    default:
      return assertNever(method, 'method');
  }
}

/**
 * Parses `input` (an object whose fields override the method's defaults) into a RunConfig.
 * Numbers may arrive as strings (CLI flags). Unknown fields are refused.
 */
export function parseRunConfig(input: unknown, dimensions: number): RunConfig {
  const fields = expectObject(input, 'run configuration');
  const method = parseMethod(fields.method);
  const defaults = defaultRunConfig(method, dimensions);
  expectOnlyKeys(fields, Object.keys(defaults), `configuration of ${method}`);
  const merged: Record_ = { ...defaults };
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) merged[key] = value;
  }
  const config = validateFields(merged, method);
  checkRelations(config, dimensions);
  return config;
}

const positiveInteger = { integer: true, min: 1 };
const count = { integer: true, min: 0 };

function validateCommon(fields: Record_): CommonConfig {
  return {
    features: expectNumber(fields.features, 'features', { ...positiveInteger, max: 1 << 20 }),
    steps: expectNumber(fields.steps, 'steps', { ...positiveInteger, max: 1e9 }),
    batchSize: expectNumber(fields.batchSize, 'batch size', { ...positiveInteger, max: 1 << 20 }),
    seed: expectNumber(fields.seed, 'seed', { integer: true, min: 0, max: 2 ** 32 - 1 }),
    learningRate: expectNumber(fields.learningRate, 'learning rate', { positive: true, max: 10 }),
    checkpointEvery: expectNumber(fields.checkpointEvery, 'checkpoint interval', count),
    evaluationRows: expectNumber(fields.evaluationRows, 'evaluation rows', {
      ...positiveInteger,
      max: 1 << 24,
    }),
    skipNonfinite: expectBoolean(fields.skipNonfinite, 'skip non-finite rows'),
  };
}

function validateSaeCommon(fields: Record_): SaeCommonConfig {
  return {
    ...validateCommon(fields),
    warmupSteps: expectNumber(fields.warmupSteps, 'warm-up steps', count),
    decayFraction: expectNumber(fields.decayFraction, 'decay fraction', { min: 0, max: 1 }),
    gradientClip: expectNumber(fields.gradientClip, 'gradient clip', { min: 0 }),
    decoderBiasInit: expectOneOf(
      fields.decoderBiasInit,
      ['mean', 'geometric-median'] as const,
      'decoder bias initialisation',
    ),
    resampleDeadEvery: expectNumber(fields.resampleDeadEvery, 'dead-feature resampling', count),
    deadWindowRows: expectNumber(fields.deadWindowRows, 'dead-feature window', positiveInteger),
  };
}

function validateFields(fields: Record_, method: Method): RunConfig {
  switch (method) {
    case 'ica':
      return {
        ...validateCommon(fields),
        method,
        alpha: expectNumber(fields.alpha, 'alpha', { positive: true }),
        variant: expectOneOf(fields.variant, ICA_VARIANTS, 'ICA variant'),
        learningRateDecaySteps: expectNumber(fields.learningRateDecaySteps, 'decay steps', {
          positive: true,
        }),
        reinitializeDead: expectBoolean(fields.reinitializeDead, 'dead-atom re-initialisation'),
        inferenceIterations: expectNumber(fields.inferenceIterations, 'inference iterations', {
          ...positiveInteger,
          max: 1e6,
        }),
        inferenceTolerance: expectNumber(fields.inferenceTolerance, 'inference tolerance', {
          positive: true,
          max: 1,
        }),
      };
    case 'ica-complete':
      return {
        ...validateCommon(fields),
        method,
        learningRateDecaySteps: expectNumber(fields.learningRateDecaySteps, 'decay steps', {
          positive: true,
        }),
      };
    case 'sae-relu':
      return {
        ...validateSaeCommon(fields),
        method,
        l1: expectNumber(fields.l1, 'l1', { min: 0 }),
        l1WarmupSteps: expectNumber(fields.l1WarmupSteps, 'l1 warm-up steps', count),
      };
    case 'sae-topk':
    case 'sae-batchtopk':
      return {
        ...validateSaeCommon(fields),
        method,
        k: expectNumber(fields.k, 'k', positiveInteger),
        auxK: expectNumber(fields.auxK, 'auxiliary k', count),
        auxCoefficient: expectNumber(fields.auxCoefficient, 'auxiliary coefficient', { min: 0 }),
      };
    case 'sae-jumprelu':
      return {
        ...validateSaeCommon(fields),
        method,
        sparsity: expectNumber(fields.sparsity, 'sparsity coefficient', { min: 0 }),
        bandwidth: expectNumber(fields.bandwidth, 'bandwidth', { positive: true }),
        initialThreshold: expectNumber(fields.initialThreshold, 'initial threshold', {
          positive: true,
        }),
      };
    default:
      return assertNever(method, 'method');
  }
}

function checkRelations(config: RunConfig, dimensions: number): void {
  if (config.method === 'ica' && config.features < dimensions) {
    throw inputError(
      `ica needs at least as many features as dimensions (${dimensions}), got ${config.features}`,
    );
  }
  if (config.method === 'ica-complete' && config.features !== dimensions) {
    throw inputError(
      `ica-complete learns a square basis: features must equal the ${dimensions} dimensions`,
    );
  }
  if (
    (config.method === 'sae-topk' || config.method === 'sae-batchtopk') &&
    config.k > config.features
  ) {
    throw inputError(`k (${config.k}) cannot exceed the number of features (${config.features})`);
  }
}
