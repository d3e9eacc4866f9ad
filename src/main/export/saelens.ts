/**
 * Export of a dictionary as a SAELens 6.x folder (spec/sae.md, SAELens format): cfg.json,
 * sae_weights.safetensors and optionally sparsity.safetensors, written atomically.
 */
import { inputError } from '../../shared/errors';
import type { NamedTensors } from '../../shared/tensors';
import type { SaeLensWeights } from '../../worker/methods/method';
import { encodeSafetensors } from '../formats/safetensorsCodec';
import { writeFolderAtomic } from './atomicWrite';

/** The SAELens version whose config layout the export follows (at least 6.0.0, else SAELens
 *  treats cfg.json as an old-format config and rewrites it). */
export const SAE_LENS_VERSION = '6.0.0';
/** Added to densities before log10 in sparsity.safetensors, as SAELens does. */
export const SPARSITY_FLOOR = 1e-10;

export interface SaeLensExtra {
  /** Per-feature densities (fraction of rows active, in [0, 1]); written as
   *  log10(density + 1e-10) to sparsity.safetensors. */
  sparsity?: Float32Array;
  /** Merged into cfg.json's metadata (model, hook, dataset, Basis run id, ...). */
  metadata?: Record<string, unknown>;
}

/** Writes `weights` as a new SAELens folder at `folder` (refused when it exists). */
export async function exportSaeLens(
  folder: string,
  weights: SaeLensWeights,
  extra: SaeLensExtra,
): Promise<void> {
  const files: Record<string, Uint8Array | string> = {
    'cfg.json': JSON.stringify(saeLensConfig(weights, extra.metadata ?? {}), null, 2) + '\n',
    'sae_weights.safetensors': encodeSafetensors(saeLensTensors(weights)),
  };
  if (extra.sparsity !== undefined) {
    files['sparsity.safetensors'] = encodeSafetensors(sparsityTensors(extra.sparsity, weights));
  }
  await writeFolderAtomic(folder, files);
}

/** cfg.json of a SAELens 6.x SAE with the architecture and sizes of `weights`. */
export function saeLensConfig(
  weights: SaeLensWeights,
  metadata: Record<string, unknown>,
): Record<string, unknown> {
  const { dimensions, features } = sizes(weights);
  const config: Record<string, unknown> = {
    architecture: weights.architecture,
    d_in: dimensions,
    d_sae: features,
    dtype: 'float32',
    device: 'cpu',
    apply_b_dec_to_input: true,
    normalize_activations: 'none',
    reshape_activations: 'none',
  };
  if (weights.architecture === 'topk') {
    config.k = weights.k;
    config.rescale_acts_by_decoder_norm = false;
  }
  const approximate: Record<string, unknown> = weights.approximateEncoder
    ? {
        approximate_encoder: true,
        approximate_encoder_note:
          'this dictionary has no feed-forward encoder (overcomplete ICA infers codes by ' +
          'optimisation); W_enc and b_enc only approximate its inference',
      }
    : {};
  config.metadata = {
    ...metadata,
    ...approximate,
    sae_lens_version: SAE_LENS_VERSION,
    sae_lens_training_version: null,
    exported_by: 'basis',
  };
  return config;
}

function saeLensTensors(weights: SaeLensWeights): NamedTensors {
  const { dimensions, features } = sizes(weights);
  const tensors: NamedTensors = {
    W_enc: { shape: [dimensions, features], values: weights.W_enc },
    W_dec: { shape: [features, dimensions], values: weights.W_dec },
    b_enc: { shape: [features], values: weights.b_enc },
    b_dec: { shape: [dimensions], values: weights.b_dec },
  };
  if (weights.architecture === 'jumprelu') {
    if (weights.threshold?.length !== features) {
      throw inputError(`a JumpReLU export needs a threshold for each of the ${features} features`);
    }
    tensors.threshold = { shape: [features], values: weights.threshold };
  }
  return tensors;
}

function sparsityTensors(densities: Float32Array, weights: SaeLensWeights): NamedTensors {
  const { features } = sizes(weights);
  if (densities.length !== features) {
    throw inputError(`sparsity has ${densities.length} values for ${features} features`);
  }
  const values = new Float32Array(features);
  for (let j = 0; j < features; j++) {
    const density = densities[j]!;
    if (!(density >= 0 && density <= 1)) {
      throw inputError(`feature ${j} has density ${density}: densities must lie in [0, 1]`);
    }
    values[j] = Math.log10(density + SPARSITY_FLOOR);
  }
  return { sparsity: { shape: [features], values } };
}

function sizes(weights: SaeLensWeights): { dimensions: number; features: number } {
  const dimensions = weights.b_dec.length;
  const features = weights.b_enc.length;
  const consistent =
    dimensions > 0 &&
    features > 0 &&
    weights.W_enc.length === dimensions * features &&
    weights.W_dec.length === dimensions * features;
  if (!consistent) {
    throw inputError(
      `inconsistent SAE weights: b_dec ${dimensions}, b_enc ${features}, W_enc ` +
        `${weights.W_enc.length}, W_dec ${weights.W_dec.length} values`,
    );
  }
  return { dimensions, features };
}
