/**
 * The reader interface every activation format implements. A source reads row blocks by
 * positioned reads and converts them to float32; it never loads the whole file.
 * `openActivations` (src/main/formats/open.ts) picks the reader from the file's contents.
 */
import type { DatasetFormat } from '../../shared/contract';

export interface SourceDescription {
  /** Absolute path of the file or folder. */
  path: string;
  format: DatasetFormat;
  /** Tensor or member read, when the file holds several. */
  tensor: string | null;
  /** Element type on disk: 'f32', 'f16', 'bf16', 'f64', 'i8', 'u8', 'i16', ... */
  dtype: string;
  /** Shape on disk (or declared, for raw files). */
  shape: number[];
  /** All axes but the last, flattened. */
  rows: number;
  columns: number;
  /** Bytes of the data read (not the whole file when it holds other tensors). */
  dataBytes: number;
}

export interface ActivationSource {
  readonly description: SourceDescription;
  /**
   * Reads rows [firstRow, firstRow + rowCount) as row-major float32. Writes into `target`
   * when given (it must hold rowCount x columns values) and returns it.
   */
  readRows(firstRow: number, rowCount: number, target?: Float32Array): Promise<Float32Array>;
  close(): Promise<void>;
}
