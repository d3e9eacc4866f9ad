/**
 * A matrix stored as one run of elements inside a file: the reader behind .npy, stored .npz
 * members, safetensors tensors and raw files. Rows are read by positioned reads and
 * converted to float32 (float16 and bfloat16 through wideReader.ts); memory is bounded by
 * the request, never by the file.
 */
import { assert, inputError } from '../../shared/errors';
import { decodeElements, hostIsLittleEndian, isNativeFloat32, type ElementType } from './elements';
import { allocateBytes, formatBytes, type RandomAccessFile } from './fileAccess';
import type { WideElement } from './halfSimd';
import type { ActivationSource, SourceDescription } from './source';
import { WideReader } from './wideReader';

/** Elements converted per chunk when the bytes on disk are not native float32. */
const CHUNK_ELEMENTS = 1 << 18;
/** Scratch buffers kept between reads. */
const MAX_POOLED_SCRATCH = 16;

export interface MatrixLayout {
  /** Byte offset of element 0. */
  dataOffset: number;
  type: ElementType;
  rows: number;
  columns: number;
  /** 'C': rows stored one after another; 'F': columns stored one after another. */
  order: 'C' | 'F';
}

/** Product of a shape's extents, refused when it is not a safe integer. */
export function elementCount(shape: readonly number[], fileName: string): number {
  let count = 1;
  for (const extent of shape) {
    if (!Number.isSafeInteger(extent) || extent < 0) {
      throw inputError(
        `${fileName}: shape (${shape.join(', ')}) holds an invalid extent ${extent}: the ` +
          `header is damaged`,
      );
    }
    count *= extent;
  }
  if (!Number.isSafeInteger(count)) {
    throw inputError(
      `${fileName}: shape (${shape.join(', ')}) describes more elements than any file can ` +
        `hold: the header is damaged`,
    );
  }
  return count;
}

/** Rows and columns of a shape: all axes but the last flattened, the last axis as columns. */
export function rowsAndColumns(
  shape: readonly number[],
  fileName: string,
): { rows: number; columns: number } {
  if (shape.length === 0) {
    throw inputError(
      `${fileName}: the array is a single number (0-d), not a matrix of rows; save the ` +
        `activations as a 2-D array`,
    );
  }
  const count = elementCount(shape, fileName);
  const columns = shape[shape.length - 1]!;
  if (count === 0) {
    throw inputError(
      `${fileName}: the array of shape (${shape.join(', ')}) holds no values: there is nothing ` +
        `to analyse`,
    );
  }
  return { rows: count / columns, columns };
}

/**
 * Checks that `dataBytes` bytes from `dataOffset` fit in the file, with a message that says
 * what the header claims and what the file holds.
 */
export function checkDataFits(
  file: RandomAccessFile,
  dataOffset: number,
  rows: number,
  columns: number,
  type: ElementType,
  what: string,
): void {
  const dataBytes = rows * columns * type.bytes;
  const available = Math.max(0, file.size - dataOffset);
  if (!Number.isSafeInteger(dataBytes) || dataBytes > available) {
    throw inputError(
      `${file.name}: ${what} says ${rows} x ${columns} ${type.name} (${formatBytes(dataBytes)} ` +
        `of data) but the file holds ${formatBytes(available)} after the header: the file is ` +
        `truncated`,
    );
  }
}

/** Checks a readRows request against the source's rows; a bad request is a caller bug. */
export function checkRowRequest(
  description: SourceDescription,
  firstRow: number,
  rowCount: number,
  target: Float32Array | undefined,
): Float32Array {
  assert(
    Number.isSafeInteger(firstRow) &&
      Number.isSafeInteger(rowCount) &&
      firstRow >= 0 &&
      rowCount >= 0 &&
      firstRow + rowCount <= description.rows,
    () => `rows ${firstRow}..${firstRow + rowCount} requested of ${description.rows}`,
  );
  const length = rowCount * description.columns;
  if (target) {
    assert(target.length >= length, () => `target holds ${target.length} < ${length} values`);
    return target;
  }
  return new Float32Array(length);
}

export class MatrixSource implements ActivationSource {
  readonly description: SourceDescription;
  private readonly file: RandomAccessFile;
  private readonly layout: MatrixLayout;
  /** Free scratch chunks, at most two per concurrent read. */
  private scratchPool: Uint8Array[] = [];
  /** float16 and bfloat16 stored little-endian go through SIMD lanes instead. */
  private readonly wide: WideReader | undefined;

  constructor(
    file: RandomAccessFile,
    layout: MatrixLayout,
    description: Omit<SourceDescription, 'rows' | 'columns' | 'dataBytes' | 'path'>,
  ) {
    this.file = file;
    this.layout = layout;
    checkDataFits(file, layout.dataOffset, layout.rows, layout.columns, layout.type, 'the header');
    this.description = {
      ...description,
      path: file.path,
      rows: layout.rows,
      columns: layout.columns,
      dataBytes: layout.rows * layout.columns * layout.type.bytes,
    };
    const element = wideElement(layout.type);
    const elements = layout.rows * layout.columns;
    if (element) this.wide = new WideReader(file, layout.dataOffset, element, elements);
  }

  async readRows(firstRow: number, rowCount: number, target?: Float32Array): Promise<Float32Array> {
    const values = checkRowRequest(this.description, firstRow, rowCount, target);
    if (rowCount === 0) return values;
    if (this.layout.order === 'C') {
      await this.readContiguous(
        firstRow * this.layout.columns,
        rowCount * this.layout.columns,
        values,
        0,
      );
    } else {
      await this.readColumnMajor(firstRow, rowCount, values);
    }
    return values;
  }

  async close(): Promise<void> {
    this.scratchPool = [];
    await this.wide?.close();
    await this.file.close();
  }

  /** Reads `count` consecutive elements starting at element `first` into target[offset...]. */
  private async readContiguous(
    first: number,
    count: number,
    target: Float32Array,
    targetOffset: number,
  ): Promise<void> {
    const { type, dataOffset } = this.layout;
    if (isNativeFloat32(type)) {
      const bytes = new Uint8Array(target.buffer, target.byteOffset + 4 * targetOffset, 4 * count);
      await this.file.readInto(bytes, dataOffset + 4 * first);
      return;
    }
    if (this.wide && (await this.wide.read(first, count, target, targetOffset))) return;
    // Two scratch chunks: the next chunk is being read while this one is converted.
    const chunks = Math.ceil(count / CHUNK_ELEMENTS);
    const chunkLength = (index: number) => Math.min(CHUNK_ELEMENTS, count - index * CHUNK_ELEMENTS);
    const buffers = [
      this.takeScratch(chunkLength(0) * type.bytes),
      chunks > 1 ? this.takeScratch(chunkLength(0) * type.bytes) : undefined,
    ];
    const readChunk = (index: number) => {
      const scratch = sized(buffers[index % 2]!, chunkLength(index) * type.bytes);
      return this.file.readInto(
        scratch,
        dataOffset + (first + index * CHUNK_ELEMENTS) * type.bytes,
      );
    };
    let pending = readChunk(0);
    try {
      for (let index = 0; index < chunks; index++) {
        await pending;
        if (index + 1 < chunks) pending = readChunk(index + 1);
        const scratch = buffers[index % 2]!;
        decodeElements(
          type,
          scratch,
          chunkLength(index),
          target,
          targetOffset + index * CHUNK_ELEMENTS,
        );
      }
    } finally {
      // A read still in flight after a failure must land before its buffer is reused.
      await pending.catch(() => undefined);
      for (const buffer of buffers) if (buffer) this.returnScratch(buffer);
    }
  }

  /** Column-major storage: each column's slice of the requested rows is one read. */
  private async readColumnMajor(firstRow: number, rowCount: number, target: Float32Array) {
    const { rows, columns } = this.layout;
    const column = new Float32Array(rowCount);
    for (let j = 0; j < columns; j++) {
      await this.readContiguous(j * rows + firstRow, rowCount, column, 0);
      for (let r = 0; r < rowCount; r++) target[r * columns + j] = column[r]!;
    }
  }

  /** A scratch buffer of at least `bytes`; concurrent reads each take their own. */
  private takeScratch(bytes: number): Uint8Array {
    const index = this.scratchPool.findIndex((buffer) => buffer.byteLength >= bytes);
    if (index >= 0) return this.scratchPool.splice(index, 1)[0]!;
    return allocateBytes(bytes);
  }

  private returnScratch(buffer: Uint8Array): void {
    this.scratchPool.push(buffer);
    if (this.scratchPool.length > MAX_POOLED_SCRATCH) {
      this.scratchPool.sort((a, b) => b.byteLength - a.byteLength);
      this.scratchPool.length = MAX_POOLED_SCRATCH;
    }
  }
}

/** The SIMD element of a 16-bit float type stored little-endian (WebAssembly's order). */
function wideElement(type: ElementType): WideElement | undefined {
  if (!type.littleEndian || !hostIsLittleEndian) return undefined;
  return type.name === 'f16' || type.name === 'bf16' ? type.name : undefined;
}

/** The first `length` bytes of a scratch buffer (still starting at offset 0, so aligned). */
function sized(buffer: Uint8Array, length: number): Uint8Array {
  return buffer.byteLength === length ? buffer : buffer.subarray(0, length);
}
