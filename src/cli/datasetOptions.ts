/** The flags that say how to open an activation file, shared by inspect, train and import. */
import type { OpenOptions } from '../shared/contract';
import { inputError } from '../shared/errors';
import { expectNumber, expectOneOf } from '../shared/validate';
import type { OptionSpec } from './command';

export const DATASET_OPTIONS: Record<string, OptionSpec> = {
  tensor: {
    type: 'string',
    value: 'NAME',
    description: 'tensor inside a safetensors file or folder',
  },
  member: { type: 'string', value: 'NAME', description: 'member inside an .npz archive' },
  dtype: {
    type: 'string',
    value: 'f32|f16|bf16|f64',
    description: 'element type of a raw file, or bf16 for <V2 .npy data',
  },
  shape: { type: 'string', value: 'R,C', description: 'shape of a raw file' },
  labels: {
    type: 'string',
    value: 'FILE',
    description: 'label file: one line per row (TSV with header, JSONL or plain lines)',
  },
  'image-shape': { type: 'string', value: 'H,W', description: 'rows are H x W image patches' },
};

export function openOptionsFrom(
  options: Record<string, string | boolean | undefined>,
): OpenOptions {
  const result: OpenOptions = {};
  if (typeof options.tensor === 'string') result.tensor = options.tensor;
  if (typeof options.member === 'string') result.member = options.member;
  if (typeof options.dtype === 'string') {
    result.dtype = expectOneOf(options.dtype, ['f32', 'f16', 'bf16', 'f64'] as const, '--dtype');
  }
  if (typeof options.shape === 'string') result.shape = parseIntegers(options.shape, '--shape');
  if (typeof options.labels === 'string') result.labels = options.labels;
  if (typeof options['image-shape'] === 'string') {
    const shape = parseIntegers(options['image-shape'], '--image-shape');
    if (shape.length !== 2) throw inputError('--image-shape takes two numbers, e.g. 8,8');
    result.imageShape = [shape[0]!, shape[1]!];
  }
  return result;
}

function parseIntegers(text: string, what: string): number[] {
  const parts = text.split(/[,x]/).map((part) => part.trim());
  if (parts.some((part) => part === ''))
    throw inputError(`${what} takes numbers separated by commas, e.g. 1000,64`);
  return parts.map((part) => expectNumber(part, what, { integer: true, min: 1 }));
}
