/**
 * Opens an activation file or folder, choosing the reader from its contents first and its
 * name second. Pickles (.pt, .pth, .bin, .pkl, .ckpt) are refused: loading one runs code.
 */
import { promises as fs } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';

import type { OpenOptions } from '../../shared/contract';
import { inputError } from '../../shared/errors';
import { openArrowDataset } from './arrow';
import { openFileHandle } from './fileAccess';
import { NPY_MAGIC, openNpy } from './npy';
import { openNpz } from './npz';
import { openRaw } from './raw';
import { openSafetensors } from './safetensors';
import { openSafetensorsShards } from './shards';
import type { ActivationSource } from './source';

const PICKLE_EXTENSIONS = new Set(['.pt', '.pth', '.pkl', '.pickle', '.ckpt', '.bin']);

function refusePickle(path: string, maybeRaw = false): never {
  const name = basename(path);
  const stem = name.replace(/\.[^.]+$/, '');
  throw inputError(
    `${name} is (or may be) a PyTorch/pickle file: loading one runs code stored inside it, so Basis never does. ` +
      `Convert it once, in Python, to safetensors: ` +
      `python -c "import torch; from safetensors.torch import save_file; save_file({'activations': torch.load('${name}', weights_only=True).float().contiguous()}, '${stem}.safetensors')"` +
      (maybeRaw
        ? '. If it holds raw floats instead, give its shape and dtype (--shape ROWS,COLUMNS --dtype f32)'
        : ''),
  );
}

async function readPrefix(path: string): Promise<Uint8Array> {
  const { handle, size } = await openFileHandle(path);
  try {
    const prefix = new Uint8Array(Math.min(16, size));
    await handle.read(prefix, 0, prefix.length, 0);
    return prefix;
  } finally {
    await handle.close();
  }
}

function startsWith(bytes: Uint8Array, expected: ArrayLike<number>): boolean {
  if (bytes.length < expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (bytes[i] !== expected[i]) return false;
  return true;
}

/** A safetensors file starts with a u64 header length and then '{'. */
function looksLikeSafetensors(prefix: Uint8Array): boolean {
  return prefix.length >= 9 && prefix[8] === 0x7b && prefix[6] === 0 && prefix[7] === 0;
}

const ARROW_MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"
const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

async function openFolder(path: string, options: OpenOptions): Promise<ActivationSource> {
  const names = await fs.readdir(path);
  if (names.some((name) => name.endsWith('.safetensors'))) {
    return openSafetensorsShards(path, options);
  }
  if (names.some((name) => name.endsWith('.arrow')) || names.includes('dataset_info.json')) {
    return openArrowDataset(path, options);
  }
  const trainFolder = names.includes('train') ? join(path, 'train') : undefined;
  if (trainFolder && (await fs.stat(trainFolder)).isDirectory()) {
    return openArrowDataset(trainFolder, options);
  }
  throw inputError(
    `${path}: the folder holds neither .safetensors shards nor a Hugging Face datasets folder ` +
      `(.arrow files); open a file inside it instead`,
  );
}

/**
 * Opens activations at `path`: .npy, .npz, .safetensors, a folder of safetensors shards, a
 * Hugging Face datasets folder, or a raw file (with options.shape). The source must be closed.
 */
export async function openActivations(
  path: string,
  options: OpenOptions = {},
): Promise<ActivationSource> {
  const source = await openByContents(path, options);
  const declared = options.dtype;
  const recorded = source.description.dtype;
  if (declared !== undefined && declared !== recorded) {
    await source.close();
    throw inputError(
      `${basename(source.description.path)}: the file records its elements as ${recorded}, ` +
        `but dtype ${declared} was given; dtype sets the type of raw files and reads 2-byte ` +
        `.npy elements ('<V2', '<u2', '<i2') as bfloat16. Drop --dtype to read them as ` +
        `${recorded}`,
    );
  }
  return source;
}

/** The reader the file's contents call for (see openActivations). */
async function openByContents(path: string, options: OpenOptions): Promise<ActivationSource> {
  const absolute = resolve(path);
  let stats;
  try {
    stats = await fs.stat(absolute);
  } catch {
    throw inputError(`${path}: no such file or folder; check the path`);
  }
  if (stats.isDirectory()) return openFolder(absolute, options);

  const extension = extname(absolute).toLowerCase();
  const prefix = await readPrefix(absolute);
  if (startsWith(prefix, NPY_MAGIC)) return openNpy(absolute, options);
  if (startsWith(prefix, ZIP_MAGIC)) {
    if (PICKLE_EXTENSIONS.has(extension)) refusePickle(absolute);
    return openNpz(absolute, options);
  }
  // Pickle protocol 2+ starts with PROTO (0x80) and the version byte.
  if (prefix[0] === 0x80 && prefix[1] !== undefined && prefix[1] >= 2 && prefix[1] <= 5) {
    refusePickle(absolute);
  }
  if (startsWith(prefix, ARROW_MAGIC) || extension === '.arrow') {
    return openArrowDataset(absolute, options);
  }
  if (extension === '.safetensors' || looksLikeSafetensors(prefix)) {
    return openSafetensors(absolute, options);
  }
  if (options.shape) return openRaw(absolute, options);
  if (PICKLE_EXTENSIONS.has(extension)) refusePickle(absolute, extension === '.bin');
  throw inputError(
    `${basename(absolute)}: not a recognised activation file (.npy, .npz, .safetensors, a ` +
      `folder of shards, a Hugging Face datasets folder); for a raw file of floats give its ` +
      `shape and dtype (--shape ROWS,COLUMNS --dtype f32)`,
  );
}
