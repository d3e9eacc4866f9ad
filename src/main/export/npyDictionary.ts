/**
 * Export of a dictionary as .npy: float32, shape (dimensions, features), column i = atom i,
 * the layout of a matrix A in x = A s.
 */
import { inputError } from '../../shared/errors';
import { encodeNpyHeader } from '../formats/npyWrite';
import { writeFileAtomic } from './atomicWrite';

/** Writes `atoms` (features x dimensions, row i = atom i) to a new .npy file at `path`. */
export async function exportNpyDictionary(
  path: string,
  atoms: Float32Array,
  features: number,
  dimensions: number,
): Promise<void> {
  if (atoms.length !== features * dimensions || features === 0 || dimensions === 0) {
    throw inputError(
      `a dictionary of ${features} atoms in ${dimensions} dimensions needs ` +
        `${features * dimensions} values, got ${atoms.length}`,
    );
  }
  const bytes = transposedLittleEndianBytes(atoms, features, dimensions);
  await writeFileAtomic(path, [encodeNpyHeader([dimensions, features], '<f4'), bytes]);
}

/** The bytes of the transpose (dimensions x features) of `atoms`, float32 little-endian. */
function transposedLittleEndianBytes(
  atoms: Float32Array,
  features: number,
  dimensions: number,
): Uint8Array {
  const bytes = new Uint8Array(atoms.length * 4);
  const view = new DataView(bytes.buffer);
  for (let j = 0; j < features; j++) {
    for (let c = 0; c < dimensions; c++) {
      view.setFloat32(4 * (c * features + j), atoms[j * dimensions + c]!, true);
    }
  }
  return bytes;
}
