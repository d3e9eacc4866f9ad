/**
 * Raw little-endian element files: no header, so the shape and element type come from the
 * user (OpenOptions.shape and OpenOptions.dtype, float32 by default).
 */
import type { OpenOptions } from '../../shared/contract';
import { inputError } from '../../shared/errors';
import { elementType } from './elements';
import { formatBytes, RandomAccessFile } from './fileAccess';
import { MatrixSource, elementCount, rowsAndColumns } from './matrixSource';

export async function openRaw(path: string, options: OpenOptions = {}): Promise<MatrixSource> {
  const file = await RandomAccessFile.open(path);
  try {
    const shape = options.shape;
    if (!shape || shape.length === 0) {
      throw inputError(
        `${file.name}: a raw file has no header, so its shape must be given (--shape ` +
          `ROWS,COLUMNS) along with its element type (--dtype f32|f16|bf16|f64)`,
      );
    }
    const type = elementType(options.dtype ?? 'f32');
    const { rows, columns } = rowsAndColumns(shape, file.name);
    const expected = elementCount(shape, file.name) * type.bytes;
    if (expected !== file.size) {
      throw inputError(
        `${file.name}: shape ${shape.join(' x ')} ${type.name} needs ${expected < 1000 ? '' : `${formatBytes(expected)}, `}${expected} bytes, but the file holds ${file.size} bytes; check --shape and --dtype`,
      );
    }
    return new MatrixSource(
      file,
      { dataOffset: 0, type, rows, columns, order: 'C' },
      { format: 'raw', tensor: null, dtype: type.name, shape: [...shape] },
    );
  } catch (error) {
    await file.close();
    throw error;
  }
}
