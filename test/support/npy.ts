/**
 * A small .npy reader for tests and benchmarks: little-endian float32, C order, 2-D, header
 * versions 1 to 3. Independent of src/main/formats on purpose, so that it can check what
 * Basis writes.
 */
import { readFileSync } from 'node:fs';

export function readFloat32Npy(path: string): {
  data: Float32Array;
  rows: number;
  columns: number;
} {
  const bytes = readFileSync(path);
  const version = bytes[6]!;
  const headerLength = version === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const headerStart = version === 1 ? 10 : 12;
  const header = bytes.subarray(headerStart, headerStart + headerLength).toString('latin1');
  const shape = /'shape': \((\d+), (\d+)\)/.exec(header);
  if (!header.includes("'<f4'") || header.includes("'fortran_order': True") || !shape) {
    throw new Error(`${path}: this reader takes only 2-D, C-order <f4 .npy files`);
  }
  const rows = Number(shape[1]);
  const columns = Number(shape[2]);
  const start = bytes.byteOffset + headerStart + headerLength;
  const data = new Float32Array(bytes.buffer.slice(start, start + rows * columns * 4));
  return { data, rows, columns };
}
