/**
 * .npy reader (NumPy format versions 1.0, 2.0 and 3.0). The header is a Python dict literal;
 * it is parsed as data by a small grammar (pythonLiteral.ts), never evaluated. The data is
 * read in place by row blocks through MatrixSource.
 */
import type { OpenOptions } from '../../shared/contract';
import { inputError } from '../../shared/errors';
import { elementType, type ElementName, type ElementType } from './elements';
import { formatBytes, RandomAccessFile } from './fileAccess';
import { MatrixSource, elementCount, rowsAndColumns } from './matrixSource';
import { LiteralSyntaxError, parsePythonLiteral, type PythonValue } from './pythonLiteral';

export const NPY_MAGIC = Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

/** Headers beyond this are not written by NumPy; refusing them bounds what we allocate. */
export const MAX_NPY_HEADER_BYTES = 100_000_000;

export interface NpyHeader {
  descr: string;
  type: ElementType;
  fortranOrder: boolean;
  shape: number[];
  /** Offset of the first data byte from the start of the .npy bytes. */
  dataOffset: number;
}

/** Reads `length` bytes at `offset` of the .npy bytes (which may live inside an .npz). */
export type ByteReader = (offset: number, length: number, what: string) => Promise<Uint8Array>;

export function startsWithNpyMagic(bytes: Uint8Array): boolean {
  return NPY_MAGIC.every((byte, index) => bytes[index] === byte);
}

/**
 * Parses the header of .npy bytes of `totalBytes` length. `name` names the file (or the
 * archive member) in messages.
 */
export async function readNpyHeader(
  read: ByteReader,
  totalBytes: number,
  name: string,
  options: OpenOptions,
): Promise<NpyHeader> {
  if (totalBytes < 10) {
    throw inputError(`${name}: ${totalBytes} bytes is too short for a .npy file: it is truncated`);
  }
  const prefix = await read(0, Math.min(12, totalBytes), 'the .npy preamble');
  if (!startsWithNpyMagic(prefix)) {
    throw inputError(`${name}: not a .npy file (it does not start with \\x93NUMPY)`);
  }
  const major = prefix[6]!;
  if (major !== 1 && major !== 2 && major !== 3) {
    throw inputError(
      `${name}: .npy format version ${major}.${prefix[7]} is not known (1.0, 2.0 and 3.0 are); ` +
        `re-save it with numpy.save`,
    );
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  if (major > 1 && totalBytes < 12) {
    throw inputError(`${name}: ${totalBytes} bytes is too short for a .npy file: it is truncated`);
  }
  const headerStart = major === 1 ? 10 : 12;
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLength > MAX_NPY_HEADER_BYTES) {
    throw inputError(
      `${name}: the .npy header claims ${formatBytes(headerLength)}, more than the 100 MB any ` +
        `real header needs: the file is damaged or not a .npy file`,
    );
  }
  if (headerStart + headerLength > totalBytes) {
    throw inputError(
      `${name}: the .npy header claims ${headerLength} bytes but the file holds ` +
        `${totalBytes - headerStart} after the preamble: the file is truncated`,
    );
  }
  const headerBytes = await read(headerStart, headerLength, 'the .npy header');
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(headerBytes);
  const fields = parseHeaderDict(text, name);
  return {
    ...fields,
    type: elementFromDescr(fields.descr, options, name),
    dataOffset: headerStart + headerLength,
  };
}

function parseHeaderDict(
  text: string,
  name: string,
): { descr: string; fortranOrder: boolean; shape: number[] } {
  let value: PythonValue;
  try {
    value = parsePythonLiteral(text);
  } catch (error) {
    if (!(error instanceof LiteralSyntaxError)) throw error;
    throw inputError(
      `${name}: the .npy header is not a plain dict literal (${error.message}); Basis reads ` +
        `headers as data and never runs them. Re-save the array with numpy.save`,
    );
  }
  if (value === null || typeof value !== 'object' || value.kind !== 'dict') {
    throw inputError(`${name}: the .npy header is not a dict; re-save the array with numpy.save`);
  }
  const fields = new Map<string, PythonValue>();
  for (const [key, entry] of value.entries) {
    if (typeof key === 'string') fields.set(key, entry);
  }
  const descr = fields.get('descr');
  const fortranOrder = fields.get('fortran_order');
  const shape = fields.get('shape');
  if (typeof descr !== 'string') {
    const structured = descr !== undefined && descr !== null && typeof descr === 'object';
    throw inputError(
      structured
        ? `${name}: the array has a structured (record) dtype; save the activation matrix alone as a plain float array`
        : `${name}: the .npy header has no 'descr' string`,
    );
  }
  if (typeof fortranOrder !== 'boolean') {
    throw inputError(`${name}: the .npy header has no 'fortran_order' True/False`);
  }
  if (
    shape === null ||
    typeof shape !== 'object' ||
    shape.kind !== 'tuple' ||
    !shape.items.every((item) => typeof item === 'number')
  ) {
    throw inputError(
      `${name}: the .npy header has no 'shape' tuple of integers; re-save the array with ` +
        `numpy.save`,
    );
  }
  return { descr, fortranOrder, shape: shape.items as number[] };
}

const DESCR_KINDS: Record<string, Partial<Record<number, ElementName>>> = {
  f: { 2: 'f16', 4: 'f32', 8: 'f64' },
  i: { 1: 'i8', 2: 'i16', 4: 'i32', 8: 'i64' },
  u: { 1: 'u8', 2: 'u16', 4: 'u32', 8: 'u64' },
  b: { 1: 'bool' },
};

function elementFromDescr(descr: string, options: OpenOptions, name: string): ElementType {
  const match = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(descr);
  const littleEndian = match?.[1] !== '>';
  if (match && match[2] === 'V' && match[3] === '2') {
    if (options.dtype === 'bf16') return elementType('bf16', littleEndian);
    throw inputError(
      `${name}: the elements are opaque 2-byte values ('${descr}'), which is how bfloat16 ` +
        `arrays saved through ml_dtypes look; if the data is bfloat16, open it with dtype bf16 ` +
        `(--dtype bf16)`,
    );
  }
  const element = match ? DESCR_KINDS[match[2]!]?.[Number(match[3])] : undefined;
  if (!element) {
    throw inputError(
      `${name}: element type '${descr}' is not supported; Basis reads float16/32/64, bfloat16 ` +
        `and integer arrays. Convert with array.astype(numpy.float32)`,
    );
  }
  // bfloat16 saved as its bits (tensor.view(torch.int16).numpy()) is read as declared.
  if (options.dtype === 'bf16' && (element === 'u16' || element === 'i16')) {
    return elementType('bf16', littleEndian);
  }
  return elementType(element, littleEndian);
}

/**
 * Opens .npy bytes that start at `baseOffset` of `file` and span `totalBytes` (the whole file
 * for a .npy, a stored member for an .npz).
 */
export async function openNpyAt(
  file: RandomAccessFile,
  baseOffset: number,
  totalBytes: number,
  name: string,
  options: OpenOptions,
  description: { format: 'npy' | 'npz'; tensor: string | null },
): Promise<MatrixSource> {
  const read: ByteReader = (offset, length, what) => file.read(baseOffset + offset, length, what);
  const header = await readNpyHeader(read, totalBytes, name, options);
  const { rows, columns } = rowsAndColumns(header.shape, name);
  if (header.fortranOrder && header.shape.length > 2) {
    throw inputError(
      `${name}: a ${header.shape.length}-D array in Fortran order cannot be read by rows in ` +
        `place; re-save it with numpy.save(path, numpy.ascontiguousarray(array))`,
    );
  }
  const dataBytes = elementCount(header.shape, name) * header.type.bytes;
  const available = totalBytes - header.dataOffset;
  if (dataBytes > available) {
    throw inputError(
      `${name}: header says ${header.shape.join(' x ')} ${header.type.name} ` +
        `(${formatBytes(dataBytes)} of data) but the file holds ${formatBytes(available)} after ` +
        `the header: the file is truncated`,
    );
  }
  return new MatrixSource(
    file,
    {
      dataOffset: baseOffset + header.dataOffset,
      type: header.type,
      rows,
      columns,
      order: header.fortranOrder && header.shape.length === 2 ? 'F' : 'C',
    },
    { ...description, dtype: header.type.name, shape: header.shape },
  );
}

export async function openNpy(path: string, options: OpenOptions = {}): Promise<MatrixSource> {
  const file = await RandomAccessFile.open(path);
  try {
    return await openNpyAt(file, 0, file.size, file.name, options, { format: 'npy', tensor: null });
  } catch (error) {
    await file.close();
    throw error;
  }
}
