/**
 * Named float32 tensors: the form in which parameters, checkpoints and exported weights move
 * between the worker, the database (as safetensors bytes) and export files.
 */
export interface Tensor {
  /** Row-major shape. */
  shape: number[];
  values: Float32Array;
}

export type NamedTensors = Record<string, Tensor>;

export function tensor(shape: number[], values?: Float32Array): Tensor {
  const size = shape.reduce((product, extent) => product * extent, 1);
  return { shape, values: values ?? new Float32Array(size) };
}
