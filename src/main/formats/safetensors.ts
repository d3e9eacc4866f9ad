/**
 * Validating .safetensors reader: u64 LE header length N, N bytes of UTF-8 JSON describing
 * each tensor (dtype, shape, data_offsets relative to the data buffer), then the buffer.
 * The header is checked whole (sizes, offsets, overlaps) before any tensor is read.
 */
import type { OpenOptions } from '../../shared/contract';
import { inputError } from '../../shared/errors';
import { elementType, type ElementName, type ElementType } from './elements';
import { formatBytes, RandomAccessFile } from './fileAccess';
import { MatrixSource, elementCount, rowsAndColumns } from './matrixSource';

export const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000;

const SAFETENSORS_TYPES: Record<string, ElementName> = {
  F32: 'f32',
  F16: 'f16',
  BF16: 'bf16',
  F64: 'f64',
  F8_E4M3: 'f8e4m3',
  F8_E5M2: 'f8e5m2',
  I8: 'i8',
  U8: 'u8',
  I16: 'i16',
  U16: 'u16',
  I32: 'i32',
  U32: 'u32',
  I64: 'i64',
  U64: 'u64',
  BOOL: 'bool',
};

export interface SafetensorsEntry {
  name: string;
  dtype: string;
  type: ElementType;
  shape: number[];
  /** Absolute file offsets of the tensor's bytes. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: SafetensorsEntry[];
  metadata: Record<string, unknown> | null;
  /** File offset of the data buffer. */
  dataStart: number;
}

/** Reads and validates the header of an open safetensors file. */
export async function readSafetensorsHeader(file: RandomAccessFile): Promise<SafetensorsHeader> {
  const name = file.name;
  if (file.size < 8) {
    throw inputError(
      `${name}: ${file.size} bytes is too short for a safetensors file: it is truncated`,
    );
  }
  const lengthBytes = await file.read(0, 8, 'the safetensors header length');
  const headerLength = new DataView(lengthBytes.buffer).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_SAFETENSORS_HEADER_BYTES)) {
    throw inputError(
      `${name}: the safetensors header claims ${formatBytes(Number(headerLength))}, over the ` +
        `100 MB limit: the file is damaged or not a safetensors file`,
    );
  }
  const length = Number(headerLength);
  if (8 + length > file.size) {
    throw inputError(
      `${name}: the safetensors header claims ${formatBytes(length)} but the file holds ` +
        `${formatBytes(file.size - 8)} after the length: the file is truncated`,
    );
  }
  const headerBytes = await file.read(8, length, 'the safetensors header');
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (error) {
    throw inputError(
      `${name}: the safetensors header is not valid UTF-8 JSON (${(error as Error).message}): ` +
        `the file is damaged`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw inputError(`${name}: the safetensors header is not a JSON object: the file is damaged`);
  }

  const dataStart = 8 + length;
  const bufferBytes = file.size - dataStart;
  const entries: SafetensorsEntry[] = [];
  let metadata: Record<string, unknown> | null = null;
  for (const [tensorName, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (tensorName === '__metadata__') {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        metadata = value as Record<string, unknown>;
      }
      continue;
    }
    entries.push(parseEntry(name, tensorName, value, dataStart, bufferBytes));
  }

  // Tensors must not share bytes (empty tensors occupy none).
  const occupied = entries.filter((entry) => entry.end > entry.begin);
  occupied.sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < occupied.length; i++) {
    const previous = occupied[i - 1]!;
    const current = occupied[i]!;
    if (current.begin < previous.end) {
      throw inputError(
        `${name}: tensors '${previous.name}' and '${current.name}' overlap in the data buffer: ` +
          `the file is damaged`,
      );
    }
  }
  return { entries, metadata, dataStart };
}

function parseEntry(
  fileName: string,
  tensorName: string,
  value: unknown,
  dataStart: number,
  bufferBytes: number,
): SafetensorsEntry {
  const where = `${fileName}: tensor '${tensorName}'`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw inputError(`${where} is not described by an object: the header is damaged`);
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string') throw inputError(`${where} has no dtype: the header is damaged`);
  const element = SAFETENSORS_TYPES[dtype];
  if (!element) {
    throw inputError(
      `${where} has element type ${dtype}, which Basis does not read; save it as F32, F16 or BF16`,
    );
  }
  if (
    !Array.isArray(shape) ||
    !shape.every((extent) => Number.isSafeInteger(extent) && extent >= 0)
  ) {
    throw inputError(`${where} has no valid shape (a list of non-negative integers)`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((offset) => Number.isSafeInteger(offset) && offset >= 0)
  ) {
    throw inputError(`${where} has no valid data_offsets [begin, end]`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > bufferBytes) {
    throw inputError(
      `${where} lies at bytes ${begin}..${end} of a data buffer of ${bufferBytes} bytes: the ` +
        `offsets point outside the file, which is truncated or damaged`,
    );
  }
  const type = elementType(element);
  const expected = elementCount(shape as number[], fileName) * type.bytes;
  if (expected !== end - begin) {
    throw inputError(
      `${where} has shape (${shape.join(', ')}) ${dtype}, which needs ${expected} bytes, but ` +
        `its offsets span ${end - begin}: the header is damaged`,
    );
  }
  return {
    name: tensorName,
    dtype,
    type,
    shape: shape as number[],
    begin: dataStart + begin,
    end: dataStart + end,
  };
}

function describeEntries(entries: readonly SafetensorsEntry[]): string {
  return entries
    .map((entry) => `${entry.name} (${entry.shape.join(' x ')} ${entry.dtype})`)
    .join(', ');
}

/** The tensor to read: the named one, else the only 2-D tensor, else the only tensor. */
export function chooseTensor(
  entries: readonly SafetensorsEntry[],
  requested: string | undefined,
  fileName: string,
): SafetensorsEntry {
  if (requested !== undefined) {
    const entry = entries.find((candidate) => candidate.name === requested);
    if (!entry) {
      throw inputError(
        `${fileName}: no tensor named '${requested}'; it holds ` +
          `${describeEntries(entries) || 'no tensors'}`,
      );
    }
    return entry;
  }
  const matrices = entries.filter((entry) => entry.shape.length === 2);
  if (matrices.length === 1) return matrices[0]!;
  const arrays = entries.filter((entry) => entry.shape.length >= 1);
  if (matrices.length === 0 && arrays.length === 1) return arrays[0]!;
  if (entries.length === 0) throw inputError(`${fileName}: the safetensors file holds no tensors`);
  throw inputError(
    `${fileName}: holds several tensors, ${describeEntries(entries)}; choose one with the ` +
      `tensor option (--tensor NAME)`,
  );
}

export function sourceFromEntry(
  file: RandomAccessFile,
  entry: SafetensorsEntry,
  format: 'safetensors',
): MatrixSource {
  const { rows, columns } = rowsAndColumns(entry.shape, `${file.name}: tensor '${entry.name}'`);
  return new MatrixSource(
    file,
    { dataOffset: entry.begin, type: entry.type, rows, columns, order: 'C' },
    { format, tensor: entry.name, dtype: entry.type.name, shape: entry.shape },
  );
}

export async function openSafetensors(
  path: string,
  options: OpenOptions = {},
): Promise<MatrixSource> {
  const file = await RandomAccessFile.open(path);
  try {
    const header = await readSafetensorsHeader(file);
    const entry = chooseTensor(header.entries, options.tensor, file.name);
    return sourceFromEntry(file, entry, 'safetensors');
  } catch (error) {
    await file.close();
    throw error;
  }
}
