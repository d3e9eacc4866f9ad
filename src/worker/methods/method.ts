/**
 * What every training method provides to the training loop, the analysis pass and export.
 * Implementations: src/worker/ica (ica, ica-complete) and src/worker/sae (sae-*).
 *
 * Conventions: a batch is a row-major Float32Array of `rows x dimensions` in RAW data units
 * (as read from the file). Each method does its own centring and scaling internally and
 * folds them back, so `FeatureModel` speaks raw units in and out.
 */
import type { Random } from '../../shared/random';
import type { RunConfig } from '../../shared/methods';
import type { NamedTensors } from '../../shared/tensors';

export interface DataSummary {
  dimensions: number;
  /** Per-column mean and variance of the training rows (raw units). */
  mean: Float32Array;
  variance: Float32Array;
  /** Mean squared row norm, E||x||^2 (raw units). */
  meanSquaredNorm: number;
}

export interface TrainerContext<C extends RunConfig = RunConfig> {
  config: C;
  data: DataSummary;
  /** A few thousand training rows (raw units) for initialisation, e.g. atoms from rows. */
  initialRows: Float32Array;
  initialRowCount: number;
  random: Random;
}

export interface StepReport {
  /** Loss terms by name; shown as curves. Keep names stable within a method. */
  losses: Record<string, number>;
}

export interface Trainer {
  /** One update on `rows` rows of raw data. `step` counts from 0. */
  step(batch: Float32Array, rows: number, step: number): StepReport;
  /** Everything needed to resume training and to evaluate (parameters, optimiser state). */
  checkpoint(): NamedTensors;
  /** The model as it stands, for evaluation. */
  model(): FeatureModel;
  /** Observations for the run record (collapsed atoms, ...). */
  warnings(): string[];
  /** Frees tensors the trainer holds. */
  dispose(): void;
}

/** Weights in the SAELens layout (spec/sae.md), raw data units, scaling folded in. */
export interface SaeLensWeights {
  architecture: 'standard' | 'topk' | 'jumprelu';
  W_enc: Float32Array; // dimensions x features
  b_enc: Float32Array; // features
  W_dec: Float32Array; // features x dimensions
  b_dec: Float32Array; // dimensions
  threshold?: Float32Array; // features (jumprelu)
  k?: number; // topk
  /** True when the encoder only approximates the model's own inference (ICA). */
  approximateEncoder: boolean;
}

export interface FeatureModel {
  dimensions: number;
  features: number;
  /** Codes of `rows` rows: rows x features, row-major. */
  encode(batch: Float32Array, rows: number): Float32Array;
  /** Reconstructions of `rows` codes: rows x dimensions, raw units. */
  decode(codes: Float32Array, rows: number): Float32Array;
  /** Atoms as rows (features x dimensions), raw units. */
  atoms(): Float32Array;
  saeLens(): SaeLensWeights;
  /**
   * ICA only: extra figures of the evaluation (the largest KKT residual relative to alpha of
   * the codes returned by the last `encode`, and coding cost in bits per dimension).
   */
  evaluationExtras?(
    batch: Float32Array,
    rows: number,
  ): {
    kktResidual: number;
    bitsPerDimension: number;
  };
}

export interface MethodDefinition<C extends RunConfig = RunConfig> {
  create(context: TrainerContext<C>): Trainer;
  /** Continues from a checkpoint written by `Trainer.checkpoint`. */
  restore(context: TrainerContext<C>, checkpoint: NamedTensors): Trainer;
  /** Rebuilds the evaluation model from a checkpoint. */
  modelFromCheckpoint(config: C, dimensions: number, checkpoint: NamedTensors): FeatureModel;
}
