/**
 * The training methods Basis offers and the configuration each takes. These are the typed
 * values every layer trusts once `parseRunConfig` has accepted the input.
 */
import { inputError } from './errors';

export const METHODS = [
  'ica',
  'ica-complete',
  'sae-relu',
  'sae-topk',
  'sae-batchtopk',
  'sae-jumprelu',
] as const;
export type Method = (typeof METHODS)[number];

export const ICA_VARIANTS = ['unit-norm', 'activity', 'literal'] as const;
export type IcaVariant = (typeof ICA_VARIANTS)[number];

/** Knobs shared by every method. */
export interface CommonConfig {
  /** Number of dictionary atoms (features). */
  features: number;
  /** Optimiser updates. */
  steps: number;
  /** Rows per update. */
  batchSize: number;
  seed: number;
  /** Base learning rate (ICA: eta_0 of the 1/(1+t/tau) schedule; SAEs: Adam's rate). */
  learningRate: number;
  /** Save the dictionary every this many steps (0: only at the end). */
  checkpointEvery: number;
  /** Rows held out for the analysis pass after training. */
  evaluationRows: number;
  /** Drop rows holding NaN or Inf instead of refusing the dataset. */
  skipNonfinite: boolean;
}

export interface IcaConfig extends CommonConfig {
  method: 'ica';
  /** L1 weight of MAP inference: s = argmin 1/2||x - As||^2 + alpha ||s||_1. */
  alpha: number;
  variant: IcaVariant;
  /** Learning-rate decay constant tau (updates) of eta_t = eta_0 / (1 + t / tau). */
  learningRateDecaySteps: number;
  /** Re-initialise atoms whose usage stays below 1e-4 to high-residual rows. */
  reinitializeDead: boolean;
  /** FISTA iteration cap per batch while learning. */
  inferenceIterations: number;
  /** KKT tolerance (relative to alpha) while learning. */
  inferenceTolerance: number;
}

/** Complete (M = L) natural-gradient ICA with a Laplacian prior (Amari et al. 1996). */
export interface CompleteIcaConfig extends CommonConfig {
  method: 'ica-complete';
  learningRateDecaySteps: number;
}

export interface SaeCommonConfig extends CommonConfig {
  /** Linear learning-rate warm-up steps. */
  warmupSteps: number;
  /** Fraction of the steps at the end over which the rate decays linearly to zero. */
  decayFraction: number;
  /** Clip the global gradient norm to this value (0: off). */
  gradientClip: number;
  /** Initialise b_dec at the data mean or the geometric median. */
  decoderBiasInit: 'mean' | 'geometric-median';
  /** Resample dead features every this many steps (0: never). */
  resampleDeadEvery: number;
  /** Rows without activation after which a feature counts as dead. */
  deadWindowRows: number;
}

export interface SaeReluConfig extends SaeCommonConfig {
  method: 'sae-relu';
  /** L1 coefficient on sum_i f_i ||W_dec[i]||. */
  l1: number;
  /** Steps over which l1 rises linearly from 0. */
  l1WarmupSteps: number;
}

export interface SaeTopkConfig extends SaeCommonConfig {
  method: 'sae-topk';
  k: number;
  /** Features used by the auxiliary loss of dead features. */
  auxK: number;
  auxCoefficient: number;
}

export interface SaeBatchTopkConfig extends SaeCommonConfig {
  method: 'sae-batchtopk';
  k: number;
  auxK: number;
  auxCoefficient: number;
}

export interface SaeJumpReluConfig extends SaeCommonConfig {
  method: 'sae-jumprelu';
  /** Coefficient of the L0 penalty. */
  sparsity: number;
  /** Width of the straight-through estimator's kernel. */
  bandwidth: number;
  initialThreshold: number;
}

export type RunConfig =
  | IcaConfig
  | CompleteIcaConfig
  | SaeReluConfig
  | SaeTopkConfig
  | SaeBatchTopkConfig
  | SaeJumpReluConfig;

export function isIcaMethod(method: Method): method is 'ica' | 'ica-complete' {
  return method === 'ica' || method === 'ica-complete';
}

export function isMethod(value: unknown): value is Method {
  return typeof value === 'string' && (METHODS as readonly string[]).includes(value);
}

export function parseMethod(value: unknown): Method {
  if (!isMethod(value)) {
    throw inputError(
      `unknown method ${JSON.stringify(value)}: choose one of ${METHODS.join(', ')}`,
    );
  }
  return value;
}
