/** Minimal .npy writer (float64, C order) for handing arrays to the Python peers. */
import { writeFileSync } from 'node:fs';

export function writeFloat64Npy(path: string, values: Float64Array, shape: number[]): void {
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  writeFileSync(
    path,
    Buffer.concat([
      prefix,
      Buffer.from(header, 'latin1'),
      Buffer.from(values.buffer, values.byteOffset, values.byteLength),
    ]),
  );
}
