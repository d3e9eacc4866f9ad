/**
 * Training and evaluation rows of a dataset, streamed from its source.
 *
 * Evaluation rows are a fixed, sorted choice that depends only on the dataset's row count,
 * so every run on a dataset is evaluated on the same rows whatever its seed. Training
 * batches come from the other rows: each epoch visits the row blocks in a seeded random
 * order, fills a buffer of several blocks, and hands out its rows in a seeded random order
 * while the next buffer is already being read.
 *
 * Memory bound of TrainingBatches: two buffers of blocksPerBuffer x blockRows x columns
 * float32 (about 16 MB each with the defaults; row buffers, which float16 and bfloat16
 * reads fill in place, see rowBuffer.ts), one Uint32Array of the block
 * order (4 bytes per block), the source's scratch buffers (at most 16 chunks of 256 K
 * elements; for float16 and bfloat16, at most 16 SIMD lanes of 2.4 MB instead, one per
 * concurrent read, kept for reuse), plus the batch handed out (batchSize x columns float32).
 */
import { basename } from 'node:path';

import { assert, inputError } from '../../shared/errors';
import { Random } from '../../shared/random';
import type { ActivationSource } from './source';
import { allocateRowBuffer } from './rowBuffer';
import { rowIsFinite, rowsPerBlock } from './statistics';

/** The evaluation seed is a function of the row count alone. */
function evaluationSeed(totalRows: number): number {
  const low = totalRows >>> 0;
  const high = Math.floor(totalRows / 4294967296) >>> 0;
  return (Math.imul(low ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(high + 0x27d4eb2f, 0x85ebca77)) >>> 0;
}

/**
 * `count` distinct row indices of 0..totalRows-1, sorted, chosen by Floyd's sampling from a
 * seed derived from totalRows (memory O(count), not O(totalRows)). All rows when count >=
 * totalRows.
 */
export function evaluationRowIndices(totalRows: number, count: number): Uint32Array {
  assert(
    Number.isSafeInteger(totalRows) && totalRows >= 0 && totalRows <= 2 ** 32,
    () => `row count ${totalRows}`,
  );
  const wanted = Math.max(0, Math.min(Math.floor(count), totalRows));
  if (wanted === totalRows) return Uint32Array.from({ length: totalRows }, (_, i) => i);
  const random = new Random(evaluationSeed(totalRows));
  const chosen = new Set<number>();
  for (let j = totalRows - wanted; j < totalRows; j++) {
    const candidate = random.integer(j + 1);
    chosen.add(chosen.has(candidate) ? j : candidate);
  }
  return Uint32Array.from(chosen).sort();
}

/** First index i of sorted `values` with values[i] >= target. */
function lowerBound(values: Uint32Array, target: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (values[middle]! < target) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Rows read together when the gaps between wanted rows are at most this. */
const MAX_GAP_ROWS = 16;

/**
 * Reads the rows at `indices` (any order, repeats allowed) into rows x columns float32, in
 * the order given. Nearby rows are read together; memory is the result plus one span of
 * at most about 4 MB.
 */
export async function readRowsAt(
  source: ActivationSource,
  indices: ArrayLike<number>,
): Promise<Float32Array> {
  const { rows, columns } = source.description;
  const result = new Float32Array(indices.length * columns);
  const order = Array.from({ length: indices.length }, (_, i) => i);
  order.sort((a, b) => indices[a]! - indices[b]!);
  for (const position of order) {
    const row = indices[position]!;
    assert(Number.isInteger(row) && row >= 0 && row < rows, () => `row ${row} of ${rows}`);
  }
  const maxSpan = rowsPerBlock(columns);
  let span = new Float32Array(0);
  let at = 0;
  while (at < order.length) {
    const first = indices[order[at]!]!;
    let end = at + 1;
    while (
      end < order.length &&
      indices[order[end]!]! - indices[order[end - 1]!]! <= MAX_GAP_ROWS &&
      indices[order[end]!]! - first < maxSpan
    ) {
      end++;
    }
    const spanRows = indices[order[end - 1]!]! - first + 1;
    if (span.length < spanRows * columns) span = new Float32Array(spanRows * columns);
    await source.readRows(first, spanRows, span);
    for (let k = at; k < end; k++) {
      const position = order[k]!;
      const offset = (indices[position]! - first) * columns;
      result.set(span.subarray(offset, offset + columns), position * columns);
    }
    at = end;
  }
  return result;
}

export interface TrainingBatchOptions {
  /** Rows per batch. */
  batchSize: number;
  /** Seeds the block order and the shuffle inside buffers. */
  seed: number;
  /** Drop rows holding NaN or infinity instead of failing on the first. */
  skipNonfinite: boolean;
  /** Rows never handed out (sorted), e.g. evaluationRowIndices(rows, n). */
  excludedRows?: Uint32Array;
  /** Rows per block (default: about 1 MB of float32). */
  blockRows?: number;
  /** Blocks shuffled together (default 16). */
  blocksPerBuffer?: number;
}

export interface Batch {
  /** batchSize x columns float32, row-major, raw data units. */
  values: Float32Array;
  rows: number;
}

interface FilledBuffer {
  values: Float32Array;
  /** Kept rows, in the order they are handed out. */
  order: Uint32Array;
}

/** Endless, seeded, read-ahead batches of training rows. */
export class TrainingBatches {
  /** Passes over the training rows whose reading has completed (read-ahead included). */
  epoch = 0;
  private readonly source: ActivationSource;
  private readonly options: Required<Omit<TrainingBatchOptions, 'excludedRows'>>;
  private readonly excluded: Uint32Array;
  private readonly random: Random;
  private readonly blockCount: number;
  private blockOrder: Uint32Array;
  private nextBlock = 0;
  private keptThisEpoch = 0;
  private current: FilledBuffer | undefined;
  private position = 0;
  private pending: Promise<FilledBuffer> | undefined;
  private spare: Float32Array | undefined;
  private closed = false;

  constructor(source: ActivationSource, options: TrainingBatchOptions) {
    const { rows, columns } = source.description;
    assert(Number.isSafeInteger(options.batchSize) && options.batchSize > 0, () => 'batch size');
    this.source = source;
    this.excluded = options.excludedRows ?? new Uint32Array(0);
    const blockRows = Math.max(1, options.blockRows ?? rowsPerBlock(columns, 1 << 20));
    this.options = {
      batchSize: options.batchSize,
      seed: options.seed,
      skipNonfinite: options.skipNonfinite,
      blockRows,
      blocksPerBuffer: Math.max(1, options.blocksPerBuffer ?? 16),
    };
    if (rows - this.excluded.length <= 0) {
      throw inputError(
        `${basename(source.description.path)}: no rows are left for training (${rows} rows, ` +
          `${this.excluded.length} held out for evaluation); use a larger file or fewer ` +
          `evaluation rows`,
      );
    }
    this.random = new Random(options.seed);
    this.blockCount = Math.ceil(rows / this.options.blockRows);
    this.blockOrder = this.random.permutation(this.blockCount);
    this.pending = this.startFill();
  }

  /**
   * The next batch. Pass `target` (batchSize x columns) to reuse one array across batches;
   * otherwise each batch is a new array the caller may keep.
   */
  async next(target?: Float32Array): Promise<Batch> {
    assert(!this.closed, () => 'TrainingBatches used after close');
    const { batchSize } = this.options;
    const columns = this.source.description.columns;
    assert(!target || target.length >= batchSize * columns, () => 'batch target too small');
    const values = target ?? new Float32Array(batchSize * columns);
    let filled = 0;
    while (filled < batchSize) {
      if (!this.current || this.position >= this.current.order.length) {
        await this.advance();
        continue;
      }
      const buffer = this.current;
      const take = Math.min(batchSize - filled, buffer.order.length - this.position);
      for (let k = 0; k < take; k++) {
        const row = buffer.order[this.position + k]!;
        values.set(
          buffer.values.subarray(row * columns, (row + 1) * columns),
          (filled + k) * columns,
        );
      }
      this.position += take;
      filled += take;
    }
    return { values, rows: batchSize };
  }

  /** Stops reading ahead; the source stays open (its owner closes it). */
  close(): void {
    this.closed = true;
    this.current = undefined;
    this.spare = undefined;
  }

  /** Makes the read-ahead buffer current and starts reading the next one. */
  private async advance(): Promise<void> {
    const finished = this.current;
    const next = await this.pending!;
    if (finished) this.spare = finished.values;
    this.current = next;
    this.position = 0;
    this.pending = this.startFill();
  }

  private startFill(): Promise<FilledBuffer> {
    const promise = this.fill();
    // Marked handled now; the error surfaces when next() awaits it.
    promise.catch(() => undefined);
    return promise;
  }

  /** Reads the next blocksPerBuffer blocks, drops held-out and non-finite rows, shuffles. */
  private async fill(): Promise<FilledBuffer> {
    const { blockRows, blocksPerBuffer, skipNonfinite } = this.options;
    const { rows, columns } = this.source.description;
    const capacity = blockRows * blocksPerBuffer * columns;
    const values =
      this.spare && this.spare.length === capacity ? this.spare : allocateRowBuffer(capacity);
    this.spare = undefined;

    // Choose the blocks, moving to a new epoch when the order is used up.
    const blocks: number[] = [];
    let epochEnded = false;
    while (blocks.length < blocksPerBuffer && !epochEnded) {
      blocks.push(this.blockOrder[this.nextBlock++]!);
      if (this.nextBlock >= this.blockCount) epochEnded = true;
    }

    // Read the blocks side by side into consecutive slots.
    const counts = blocks.map((block) => Math.min(blockRows, rows - block * blockRows));
    await Promise.all(
      blocks.map((block, slot) =>
        this.source.readRows(
          block * blockRows,
          counts[slot]!,
          values.subarray(slot * blockRows * columns, (slot + 1) * blockRows * columns),
        ),
      ),
    );

    // Closed meanwhile: nobody will take this buffer.
    if (this.closed) return { values, order: new Uint32Array(0) };

    // Compact the kept rows to the front.
    let kept = 0;
    for (let slot = 0; slot < blocks.length; slot++) {
      const firstRow = blocks[slot]! * blockRows;
      let excludedAt = lowerBound(this.excluded, firstRow);
      for (let r = 0; r < counts[slot]!; r++) {
        const row = firstRow + r;
        if (excludedAt < this.excluded.length && this.excluded[excludedAt] === row) {
          excludedAt++;
          continue;
        }
        const from = (slot * blockRows + r) * columns;
        if (!rowIsFinite(values, from, columns)) {
          if (skipNonfinite) continue;
          throw inputError(
            `${basename(this.source.description.path)}: row ${row} holds NaN or infinity; drop ` +
              `such rows with --skip-nonfinite (skipNonfinite: true) or fix the data`,
          );
        }
        if (from !== kept * columns) values.copyWithin(kept * columns, from, from + columns);
        kept++;
      }
    }
    this.keptThisEpoch += kept;

    if (epochEnded) {
      if (this.keptThisEpoch === 0) {
        throw inputError(
          `${basename(this.source.description.path)}: every training row holds NaN or ` +
            `infinity; nothing is left to train on`,
        );
      }
      this.epoch++;
      this.keptThisEpoch = 0;
      this.nextBlock = 0;
      this.blockOrder = this.random.permutation(this.blockCount);
    }
    return { values, order: this.random.permutation(kept) };
  }
}
