/**
 * Import of sparse autoencoders trained elsewhere, as checkpoints the sae-* methods accept
 * (`modelFromCheckpoint`): SAELens folders (cfg.json + sae_weights.safetensors, 6.x and
 * older configs), sparsify folders (cfg.json + sae.safetensors) and dictionary_learning
 * weights saved as safetensors. Every file goes through the validating safetensors reader.
 *
 * Imported weights are in the data's raw units (input_scale 1), with b_dec subtracted from
 * the input before the encoder, as Basis computes: pre = (x - b_dec) W_enc + b_enc.
 */
import { promises as fs } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { inputError } from '../../shared/errors';
import type { Method, RunConfig } from '../../shared/methods';
import type { NamedTensors, Tensor } from '../../shared/tensors';
import { decodeElements } from '../formats/elements';
import { RandomAccessFile } from '../formats/fileAccess';
import { readSafetensorsHeader } from '../formats/safetensors';

export type DictionarySource = 'saelens' | 'sparsify' | 'dictionary_learning';

export interface ImportedDictionary {
  source: DictionarySource;
  /** Fields of the run configuration the weights determine; the rest take the defaults. */
  config: Partial<RunConfig> & { method: Method; features: number };
  dimensions: number;
  checkpoint: NamedTensors;
  /** What the import changed or could not carry over, for the run record. */
  warnings: string[];
}

/** Decoder rows whose norms differ from 1 by more than this are not unit norm. */
const UNIT_NORM_TOLERANCE = 1e-3;

/** Reads a dictionary from a SAELens or sparsify folder, or a safetensors file. */
export async function importDictionary(path: string): Promise<ImportedDictionary> {
  const stats = await fs.stat(path).catch(() => {
    throw inputError(
      `${path} does not exist: give a SAELens or sparsify folder, or a .safetensors file`,
    );
  });
  if (!stats.isDirectory()) {
    refusePickle(path);
    const tensors = await readAllTensors(path);
    return fromTensors(tensors, path, null);
  }

  const entries = await fs.readdir(path);
  const configPath = ['cfg.json', 'config.json'].find((name) => entries.includes(name));
  const config = configPath === undefined ? null : await readJson(join(path, configPath));
  const weightsName =
    ['sae_weights.safetensors', 'sae.safetensors', 'ae.safetensors', 'model.safetensors'].find(
      (name) => entries.includes(name),
    ) ??
    entries.filter((name) => name.endsWith('.safetensors') && name !== 'sparsity.safetensors')[0];
  if (weightsName === undefined) {
    const pickled = entries.find((name) => /\.(pt|pth|bin|pkl|ckpt)$/.test(name));
    throw inputError(
      pickled === undefined
        ? `${path} holds no .safetensors weights: expected sae_weights.safetensors (SAELens) or sae.safetensors (sparsify)`
        : `${path} holds ${pickled}, a Python pickle, which Basis does not open (loading it could run code); convert it with safetensors.torch.save_file(torch.load(path), "ae.safetensors") and import again`,
    );
  }
  const tensors = await readAllTensors(join(path, weightsName));
  return fromTensors(tensors, join(path, weightsName), config);
}

function fromTensors(
  tensors: NamedTensors,
  path: string,
  config: Record<string, unknown> | null,
): ImportedDictionary {
  if (tensors.W_enc !== undefined && tensors.W_dec !== undefined) {
    return fromSaeLens(tensors, path, config ?? {});
  }
  if (tensors['encoder.weight'] !== undefined && tensors.W_dec !== undefined) {
    return fromSparsify(tensors, path, config ?? {});
  }
  if (tensors['encoder.weight'] !== undefined && tensors['decoder.weight'] !== undefined) {
    return fromDictionaryLearning(tensors, path);
  }
  throw inputError(
    `${path}: not a known SAE layout; it holds ` +
      `${Object.keys(tensors).join(', ') || 'no tensors'}. Expected W_enc/W_dec/b_enc/b_dec ` +
      `(SAELens), encoder.weight/encoder.bias/W_dec/b_dec (sparsify) or ` +
      `encoder.weight/encoder.bias/decoder.weight/bias (dictionary_learning)`,
  );
}

function fromSaeLens(
  tensors: NamedTensors,
  path: string,
  config: Record<string, unknown>,
): ImportedDictionary {
  const warnings: string[] = [];
  const W_enc = need(tensors, 'W_enc', path);
  if (W_enc.shape.length !== 2)
    throw inputError(`${path}: W_enc must be 2-D, got [${W_enc.shape.join(', ')}]`);
  const [dimensions, features] = W_enc.shape as [number, number];
  const W_dec = expect2d(tensors, 'W_dec', [features, dimensions], path);
  const b_enc = expect1d(tensors, 'b_enc', features, path);
  const b_dec = expect1d(tensors, 'b_dec', dimensions, path);

  // Architecture: SAELens 6.x names it; older configs say it through activation_fn(_str).
  const activation = String(config.activation_fn ?? config.activation_fn_str ?? 'relu');
  // Without a config, a threshold tensor marks a JumpReLU SAE.
  const implied = activation === 'topk' ? 'topk' : tensors.threshold ? 'jumprelu' : 'standard';
  const architecture = String(config.architecture ?? implied);
  const kwargs = (config.activation_fn_kwargs ?? {}) as Record<string, unknown>;
  const k = Number(config.k ?? kwargs.k);
  if (
    config.normalize_activations !== undefined &&
    config.normalize_activations !== 'none' &&
    config.normalize_activations !== null
  ) {
    warnings.push(
      `cfg.json says normalize_activations = ${JSON.stringify(config.normalize_activations)}: ` +
        `the weights expect normalised inputs, and the factor is not stored with them; ` +
        `reconstructions of raw data may be off by a constant scale`,
    );
  }

  const encoderBias = b_enc.values.slice();
  if (config.apply_b_dec_to_input === false) {
    // The SAE encodes x W_enc + b_enc; Basis encodes (x - b_dec) W_enc + b_enc', so
    // b_enc' = b_enc + b_dec W_enc.
    for (let j = 0; j < features; j++) {
      let sum = 0;
      for (let c = 0; c < dimensions; c++)
        sum += b_dec.values[c]! * W_enc.values[c * features + j]!;
      encoderBias[j] = encoderBias[j]! + sum;
    }
  }

  const checkpoint = baseCheckpoint(
    W_enc.values,
    encoderBias,
    W_dec.values,
    b_dec.values,
    dimensions,
    features,
  );
  switch (architecture) {
    case 'standard':
      return {
        source: 'saelens',
        config: { method: 'sae-relu', features },
        dimensions,
        checkpoint,
        warnings,
      };
    case 'topk': {
      if (!Number.isInteger(k) || k < 1 || k > features) {
        throw inputError(
          `${path}: a TopK SAE needs an integer k in 1..${features} in cfg.json, got ` +
            `${String(config.k ?? kwargs.k)}`,
        );
      }
      if (
        config.rescale_acts_by_decoder_norm === true &&
        !unitRows(W_dec.values, features, dimensions)
      ) {
        throw inputError(
          `${path}: rescale_acts_by_decoder_norm with decoder rows of norm other than 1 is not ` +
            `supported; normalise the decoder first`,
        );
      }
      return {
        source: 'saelens',
        config: { method: 'sae-topk', features, k },
        dimensions,
        checkpoint,
        warnings,
      };
    }
    case 'jumprelu': {
      checkpoint.threshold = {
        shape: [features],
        values: expect1d(tensors, 'threshold', features, path).values.slice(),
      };
      return {
        source: 'saelens',
        config: { method: 'sae-jumprelu', features },
        dimensions,
        checkpoint,
        warnings,
      };
    }
    default:
      throw inputError(
        `${path}: SAELens architecture ${JSON.stringify(architecture)} is not supported; Basis ` +
          `imports standard, topk and jumprelu`,
      );
  }
}

function fromSparsify(
  tensors: NamedTensors,
  path: string,
  config: Record<string, unknown>,
): ImportedDictionary {
  const encoder = need(tensors, 'encoder.weight', path);
  if (encoder.shape.length !== 2) throw inputError(`${path}: encoder.weight must be 2-D`);
  const [features, dimensions] = encoder.shape as [number, number];
  const W_dec = expect2d(tensors, 'W_dec', [features, dimensions], path);
  const b_enc = expect1d(tensors, 'encoder.bias', features, path);
  const b_dec = expect1d(tensors, 'b_dec', dimensions, path);
  const k = Number(config.k);
  if (!Number.isInteger(k) || k < 1 || k > features) {
    throw inputError(
      `${path}: a sparsify SAE needs an integer k in 1..${features} in its cfg.json, got ` +
        `${String(config.k)}`,
    );
  }
  const checkpoint = baseCheckpoint(
    transposeOf(encoder.values, features, dimensions),
    b_enc.values.slice(),
    W_dec.values,
    b_dec.values,
    dimensions,
    features,
  );
  return {
    source: 'sparsify',
    config: { method: 'sae-topk', features, k },
    dimensions,
    checkpoint,
    warnings: [],
  };
}

function fromDictionaryLearning(tensors: NamedTensors, path: string): ImportedDictionary {
  const encoder = need(tensors, 'encoder.weight', path);
  if (encoder.shape.length !== 2) throw inputError(`${path}: encoder.weight must be 2-D`);
  const [features, dimensions] = encoder.shape as [number, number];
  const decoder = expect2d(tensors, 'decoder.weight', [dimensions, features], path);
  const b_enc = expect1d(tensors, 'encoder.bias', features, path);
  const bias = expect1d(tensors, 'bias', dimensions, path);
  const checkpoint = baseCheckpoint(
    transposeOf(encoder.values, features, dimensions),
    b_enc.values.slice(),
    transposeOf(decoder.values, dimensions, features),
    bias.values,
    dimensions,
    features,
  );
  const warnings: string[] = [];
  const imported = (config: ImportedDictionary['config']): ImportedDictionary => ({
    source: 'dictionary_learning',
    config,
    dimensions,
    checkpoint,
    warnings,
  });
  const k = tensors.k?.values[0];
  if (k !== undefined) {
    if (!Number.isInteger(k) || k < 1 || k > features)
      throw inputError(`${path}: k = ${k} is not in 1..${features}`);
    const threshold = tensors.threshold?.values[0];
    if (threshold !== undefined && threshold > 0) {
      // BatchTopK: inference is a JumpReLU with one threshold for every feature.
      checkpoint.threshold = {
        shape: [features],
        values: new Float32Array(features).fill(threshold),
      };
      return imported({ method: 'sae-batchtopk', features, k });
    }
    return imported({ method: 'sae-topk', features, k });
  }
  return imported({ method: 'sae-relu', features });
}

function baseCheckpoint(
  W_enc: Float32Array,
  b_enc: Float32Array,
  W_dec: Float32Array,
  b_dec: Float32Array,
  dimensions: number,
  features: number,
): NamedTensors {
  return {
    W_enc: { shape: [dimensions, features], values: W_enc.slice() },
    b_enc: { shape: [features], values: b_enc.slice() },
    W_dec: { shape: [features, dimensions], values: W_dec.slice() },
    b_dec: { shape: [dimensions], values: b_dec.slice() },
    input_scale: { shape: [1], values: Float32Array.of(1) },
  };
}

/** Reads every tensor of a safetensors file as float32, through the validating reader. */
async function readAllTensors(path: string): Promise<NamedTensors> {
  const file = await RandomAccessFile.open(path);
  try {
    const header = await readSafetensorsHeader(file);
    const tensors: NamedTensors = {};
    for (const entry of header.entries) {
      const count = entry.shape.reduce((product, extent) => product * extent, 1);
      const bytes = await file.read(entry.begin, entry.end - entry.begin, `tensor ${entry.name}`);
      const values = new Float32Array(count);
      decodeElements(entry.type, bytes, count, values, 0);
      tensors[entry.name] = { shape: entry.shape, values };
    }
    return tensors;
  } finally {
    await file.close();
  }
}

/** A configuration is a few kilobytes; anything far larger is not one. */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

async function readJson(path: string): Promise<Record<string, unknown>> {
  // Checked before reading: a folder, a pipe (which would block) or a huge file is refused.
  const stats = await fs.stat(path);
  if (!stats.isFile() || stats.size > MAX_CONFIG_BYTES) {
    throw inputError(
      `${path} is not a configuration file (a regular file of at most ${MAX_CONFIG_BYTES} ` +
        `bytes); replace it with the cfg.json the SAE was saved with`,
    );
  }
  const text = await fs.readFile(path, 'utf8');
  let parsed: unknown;
  try {
    // toString and valueOf keys are dropped: String() and Number() on the fields call them.
    parsed = JSON.parse(text, (key, value: unknown) =>
      key === 'toString' || key === 'valueOf' ? undefined : value,
    );
  } catch (error) {
    throw inputError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw inputError(`${path} must hold a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

function refusePickle(path: string): void {
  if (['.pt', '.pth', '.bin', '.pkl', '.ckpt'].includes(extname(path))) {
    throw inputError(
      `${basename(path)} is a Python pickle, which Basis does not open (loading it could run ` +
        `code); convert it with safetensors.torch.save_file(torch.load(path), "ae.safetensors") ` +
        `and import that`,
    );
  }
}

function need(tensors: NamedTensors, name: string, path: string): Tensor {
  const found = tensors[name];
  if (found === undefined) throw inputError(`${path}: tensor ${name} is missing`);
  for (const v of found.values) {
    if (!Number.isFinite(v))
      throw inputError(`${path}: tensor ${name} holds NaN or infinite values`);
  }
  return found;
}

function expect2d(
  tensors: NamedTensors,
  name: string,
  shape: [number, number],
  path: string,
): Tensor {
  const found = need(tensors, name, path);
  if (found.shape.length !== 2 || found.shape[0] !== shape[0] || found.shape[1] !== shape[1]) {
    throw inputError(
      `${path}: tensor ${name} has shape [${found.shape.join(', ')}], expected ` +
        `[${shape.join(', ')}]`,
    );
  }
  return found;
}

function expect1d(tensors: NamedTensors, name: string, length: number, path: string): Tensor {
  const found = need(tensors, name, path);
  if (found.values.length !== length || found.shape.length > 1) {
    throw inputError(
      `${path}: tensor ${name} has shape [${found.shape.join(', ')}], expected [${length}]`,
    );
  }
  return found;
}

function transposeOf(values: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(rows * columns);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < columns; c++) out[c * rows + r] = values[r * columns + c]!;
  return out;
}

function unitRows(matrix: Float32Array, rows: number, columns: number): boolean {
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < columns; c++) sum += matrix[r * columns + c]! ** 2;
    if (Math.abs(Math.sqrt(sum) - 1) > UNIT_NORM_TOLERANCE) return false;
  }
  return true;
}
