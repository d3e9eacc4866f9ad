/**
 * Writes float32 matrices as .npy (format 1.0, or 2.0 when the header needs it), atomically:
 * a temporary name in the same folder, fsync, then rename over the target.
 */
import { assert } from '../../shared/errors';
import { replaceFileAtomic } from '../export/atomicWrite';
import { hostIsLittleEndian } from './elements';
import { NPY_MAGIC } from './npy';

/**
 * The bytes before the data: magic, version, header length and the header dict, padded
 * with spaces and a final newline so the data starts on a 64-byte boundary.
 */
export function encodeNpyHeader(
  shape: readonly number[],
  descr = '<f4',
  fortranOrder = false,
): Uint8Array {
  assert(
    shape.every((extent) => Number.isSafeInteger(extent) && extent >= 0),
    () => `invalid shape ${shape.join(', ')}`,
  );
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortranOrder ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const dictBytes = new TextEncoder().encode(dict);
  let version = 1;
  let preamble = 10;
  if (dictBytes.length + 1 + preamble > 65535) {
    version = 2;
    preamble = 12;
  }
  const total = Math.ceil((preamble + dictBytes.length + 1) / 64) * 64;
  const header = new Uint8Array(total);
  header.set(NPY_MAGIC, 0);
  header[6] = version;
  header[7] = 0;
  const view = new DataView(header.buffer);
  if (version === 1) view.setUint16(8, total - preamble, true);
  else view.setUint32(8, total - preamble, true);
  header.set(dictBytes, preamble);
  header.fill(0x20, preamble + dictBytes.length, total - 1);
  header[total - 1] = 0x0a;
  return header;
}

/** Little-endian float32 bytes of `values`, without copying on little-endian hosts. */
function float32Bytes(values: Float32Array): Uint8Array {
  if (hostIsLittleEndian)
    return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const bytes = new Uint8Array(values.byteLength);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i]!, true);
  return bytes;
}

/** Writes `values` (row-major, shape `shape`) as a float32 .npy at `path`, atomically. */
export async function writeNpy(
  path: string,
  shape: readonly number[],
  values: Float32Array,
): Promise<void> {
  const count = shape.reduce((product, extent) => product * extent, 1);
  assert(
    count === values.length,
    () => `shape ${shape.join('x')} holds ${count} values, given ${values.length}`,
  );
  const header = encodeNpyHeader(shape, '<f4');
  await replaceFileAtomic(path, [header, float32Bytes(values)]);
}
