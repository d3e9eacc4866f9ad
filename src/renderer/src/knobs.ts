/**
 * What each run configuration field means, in one line, and how the form edits it. The
 * values themselves are checked by parseRunConfig (src/shared/runConfig.ts) before a start.
 */
import type { Method, RunConfig } from '../../shared/methods';
import { isIcaMethod } from '../../shared/methods';

export type KnobKind = 'integer' | 'number' | 'boolean' | 'choice';

export interface Knob {
  field: string;
  label: string;
  help: string;
  kind: KnobKind;
  choices?: readonly string[];
}

const KNOBS: Readonly<Record<string, Omit<Knob, 'field'>>> = {
  features: { label: 'Features', help: 'Number of dictionary atoms to learn.', kind: 'integer' },
  alpha: {
    label: 'Sparsity α',
    help: 'L1 weight of MAP inference (Laplacian prior): larger gives sparser codes.',
    kind: 'number',
  },
  l1: {
    label: 'L1 coefficient',
    help: 'Weight of the L1 penalty on codes times atom norms: larger gives sparser codes.',
    kind: 'number',
  },
  k: {
    label: 'k',
    help: 'Active features per row: exactly k codes are non-zero.',
    kind: 'integer',
  },
  sparsity: {
    label: 'L0 coefficient',
    help: 'Weight of the L0 penalty of JumpReLU: larger gives fewer active features.',
    kind: 'number',
  },
  steps: { label: 'Steps', help: 'Optimiser updates; each reads one batch.', kind: 'integer' },
  batchSize: { label: 'Batch size', help: 'Rows per update.', kind: 'integer' },
  seed: {
    label: 'Seed',
    help: 'Seeds initialisation and sampling: the same seed repeats the run.',
    kind: 'integer',
  },
  learningRate: {
    label: 'Learning rate',
    help: 'Base step size (ICA: η₀ of the 1/(1+t/τ) schedule; SAEs: Adam).',
    kind: 'number',
  },
  evaluationRows: {
    label: 'Evaluation rows',
    help: 'Held-out rows of the analysis pass after training (metrics, feature statistics).',
    kind: 'integer',
  },
  checkpointEvery: {
    label: 'Checkpoint every',
    help: 'Save the dictionary every this many steps (0: only at the end).',
    kind: 'integer',
  },
  skipNonfinite: {
    label: 'Skip non-finite rows',
    help: 'Drop rows holding NaN or Inf instead of refusing the dataset.',
    kind: 'boolean',
  },
  variant: {
    label: 'ICA variant',
    help: 'How atom norms are kept: unit norm, activity-normalised, or the literal rule.',
    kind: 'choice',
    choices: ['unit-norm', 'activity', 'literal'],
  },
  learningRateDecaySteps: {
    label: 'Decay steps τ',
    help: 'The rate falls as η₀ / (1 + t/τ).',
    kind: 'number',
  },
  reinitializeDead: {
    label: 'Re-initialise dead atoms',
    help: 'Move atoms that stay unused to rows that are badly reconstructed.',
    kind: 'boolean',
  },
  inferenceIterations: {
    label: 'Inference iterations',
    help: 'FISTA iteration cap per batch while learning.',
    kind: 'integer',
  },
  inferenceTolerance: {
    label: 'Inference tolerance',
    help: 'Stop inference when the KKT residual falls below this fraction of α.',
    kind: 'number',
  },
  warmupSteps: { label: 'Warm-up steps', help: 'Linear learning-rate warm-up.', kind: 'integer' },
  decayFraction: {
    label: 'Decay fraction',
    help: 'Fraction of the steps at the end over which the rate falls to zero.',
    kind: 'number',
  },
  gradientClip: {
    label: 'Gradient clip',
    help: 'Clip the global gradient norm to this value (0: off).',
    kind: 'number',
  },
  decoderBiasInit: {
    label: 'Decoder bias init',
    help: 'Start b_dec at the data mean or the geometric median.',
    kind: 'choice',
    choices: ['mean', 'geometric-median'],
  },
  resampleDeadEvery: {
    label: 'Resample dead every',
    help: 'Re-initialise dead features every this many steps (0: never).',
    kind: 'integer',
  },
  deadWindowRows: {
    label: 'Dead window (rows)',
    help: 'Rows without activation after which a feature counts as dead.',
    kind: 'integer',
  },
  l1WarmupSteps: {
    label: 'L1 warm-up steps',
    help: 'Steps over which the L1 coefficient rises from 0.',
    kind: 'integer',
  },
  auxK: {
    label: 'Auxiliary k',
    help: 'Dead features used by the auxiliary loss to model the residual.',
    kind: 'integer',
  },
  auxCoefficient: {
    label: 'Auxiliary coefficient',
    help: 'Weight of the auxiliary loss of dead features.',
    kind: 'number',
  },
  bandwidth: {
    label: 'Bandwidth',
    help: 'Kernel width of the straight-through estimator of the threshold.',
    kind: 'number',
  },
  initialThreshold: {
    label: 'Initial threshold',
    help: 'Starting JumpReLU threshold of every feature.',
    kind: 'number',
  },
};

/** The field that sets how sparse a method's codes are. */
export function sparsityField(method: Method): 'alpha' | 'l1' | 'k' | 'sparsity' | null {
  switch (method) {
    case 'ica':
      return 'alpha';
    case 'ica-complete':
      return null;
    case 'sae-relu':
      return 'l1';
    case 'sae-topk':
    case 'sae-batchtopk':
      return 'k';
    case 'sae-jumprelu':
      return 'sparsity';
  }
}

export function sparsityValue(config: RunConfig): number | null {
  const field = sparsityField(config.method);
  if (field === null) return null;
  const value = (config as unknown as Record<string, unknown>)[field];
  return typeof value === 'number' ? value : null;
}

/** Every editable field of a configuration, the main ones first. */
export function knobsOf(config: RunConfig): { main: Knob[]; advanced: Knob[] } {
  const sparsity = sparsityField(config.method);
  const mainFields = ['features', ...(sparsity ? [sparsity] : []), 'steps', 'batchSize', 'seed'];
  const fields = Object.keys(config).filter((field) => field !== 'method');
  const knob = (field: string): Knob => ({
    field,
    ...(KNOBS[field] ?? { label: field, help: '', kind: 'number' as const }),
  });
  return {
    main: mainFields.filter((field) => fields.includes(field)).map(knob),
    advanced: fields.filter((field) => !mainFields.includes(field)).map(knob),
  };
}

export const METHOD_DESCRIPTIONS: Readonly<Record<Method, string>> = {
  ica: 'Overcomplete ICA (Lewicki & Sejnowski): Laplacian prior, MAP codes, natural gradient.',
  'ica-complete': 'Complete ICA: a square basis, natural gradient (Amari et al.).',
  'sae-relu': 'Sparse autoencoder, ReLU with an L1 penalty.',
  'sae-topk': 'Sparse autoencoder keeping the k largest activations per row.',
  'sae-batchtopk': 'TopK over the whole batch: k per row on average.',
  'sae-jumprelu': 'JumpReLU: a learned threshold per feature and an L0 penalty.',
};

/** The family a method belongs to, for colours and the frontier. */
export function familyOf(method: Method): 'ICA' | 'SAE' {
  return isIcaMethod(method) ? 'ICA' : 'SAE';
}
