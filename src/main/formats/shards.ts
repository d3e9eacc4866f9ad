/**
 * A folder of safetensors shards (older SAELens activation caches: one tensor `activations`
 * per file) read as one dataset: the shards' rows one after another, in natural name order.
 */
import { promises as fs } from 'node:fs';
import { basename, join } from 'node:path';

import type { OpenOptions } from '../../shared/contract';
import { inputError } from '../../shared/errors';
import { RandomAccessFile } from './fileAccess';
import { checkRowRequest, type MatrixSource } from './matrixSource';
import { chooseTensor, readSafetensorsHeader, sourceFromEntry } from './safetensors';
import type { ActivationSource, SourceDescription } from './source';

/** Sorts "shard_2" before "shard_10". */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** Rows of several sources with equal columns, one after another. */
export class ConcatenatedSource implements ActivationSource {
  readonly description: SourceDescription;
  private readonly parts: readonly ActivationSource[];
  /** starts[i]: first row of parts[i]; starts[parts.length]: total rows. */
  private readonly starts: number[];

  constructor(
    parts: readonly ActivationSource[],
    description: Omit<SourceDescription, 'rows' | 'dataBytes'>,
  ) {
    this.parts = parts;
    this.starts = [0];
    let dataBytes = 0;
    for (const part of parts) {
      this.starts.push(this.starts[this.starts.length - 1]! + part.description.rows);
      dataBytes += part.description.dataBytes;
    }
    this.description = { ...description, rows: this.starts[parts.length]!, dataBytes };
  }

  async readRows(firstRow: number, rowCount: number, target?: Float32Array): Promise<Float32Array> {
    const values = checkRowRequest(this.description, firstRow, rowCount, target);
    const columns = this.description.columns;
    let row = firstRow;
    const end = firstRow + rowCount;
    let part = this.partOf(row);
    while (row < end) {
      const partStart = this.starts[part]!;
      const partEnd = this.starts[part + 1]!;
      const count = Math.min(end, partEnd) - row;
      const slice = values.subarray((row - firstRow) * columns, (row - firstRow + count) * columns);
      await this.parts[part]!.readRows(row - partStart, count, slice);
      row += count;
      part++;
    }
    return values;
  }

  async close(): Promise<void> {
    await Promise.all(this.parts.map((part) => part.close()));
  }

  private partOf(row: number): number {
    let low = 0;
    let high = this.parts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.starts[middle]! <= row) low = middle;
      else high = middle - 1;
    }
    return low;
  }
}

export async function openSafetensorsShards(
  folder: string,
  options: OpenOptions = {},
): Promise<ConcatenatedSource> {
  const names = (await fs.readdir(folder)).filter((name) => name.endsWith('.safetensors'));
  names.sort(naturalCompare);
  if (names.length === 0) {
    throw inputError(`${folder}: the folder holds no .safetensors shards`);
  }
  const parts: MatrixSource[] = [];
  try {
    for (const name of names) {
      const file = await RandomAccessFile.open(join(folder, name));
      try {
        const header = await readSafetensorsHeader(file);
        const requested =
          options.tensor ??
          (header.entries.some((entry) => entry.name === 'activations')
            ? 'activations'
            : undefined);
        const entry = chooseTensor(header.entries, requested, file.name);
        parts.push(sourceFromEntry(file, entry, 'safetensors'));
      } catch (error) {
        await file.close();
        throw error;
      }
    }
    const first = parts[0]!.description;
    for (const part of parts) {
      const { columns, dtype, tensor } = part.description;
      if (columns !== first.columns || dtype !== first.dtype) {
        throw inputError(
          `${folder}: shard ${basename(part.description.path)} holds ${columns} columns of ` +
            `${dtype} (tensor ${tensor}) but ${basename(first.path)} holds ${first.columns} of ` +
            `${first.dtype}; all shards must match`,
        );
      }
    }
    const rows = parts.reduce((sum, part) => sum + part.description.rows, 0);
    return new ConcatenatedSource(parts, {
      path: folder,
      format: 'safetensors-shards',
      tensor: first.tensor,
      dtype: first.dtype,
      shape: [rows, first.columns],
      columns: first.columns,
    });
  } catch (error) {
    await Promise.all(parts.map((part) => part.close()));
    throw error;
  }
}
