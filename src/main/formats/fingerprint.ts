/**
 * A fingerprint of a dataset: sha256 over its description (format, tensor, dtype, shape,
 * data size) and a few row blocks sampled at fixed positions (first, last and evenly spaced
 * between). Reads at most about 1 MB whatever the file size, so it is fast on huge files;
 * the same data gives the same fingerprint wherever the file lives.
 */
import { createHash } from 'node:crypto';

import type { ActivationSource } from './source';

const SAMPLED_BLOCKS = 16;
const BLOCK_BYTES = 64 * 1024;

export async function fingerprintSource(source: ActivationSource): Promise<string> {
  const { format, tensor, dtype, shape, rows, columns, dataBytes } = source.description;
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ format, tensor, dtype, shape, rows, columns, dataBytes }));

  const blockRows = Math.max(1, Math.min(rows, Math.floor(BLOCK_BYTES / (4 * columns))));
  const lastStart = rows - blockRows;
  const starts = new Set<number>();
  for (let i = 0; i < SAMPLED_BLOCKS; i++) {
    starts.add(Math.round((lastStart * i) / (SAMPLED_BLOCKS - 1)));
  }
  const block = new Float32Array(blockRows * columns);
  for (const start of [...starts].sort((a, b) => a - b)) {
    await source.readRows(start, blockRows, block);
    hash.update(new Uint8Array(block.buffer, block.byteOffset, block.byteLength));
  }
  return hash.digest('hex');
}
