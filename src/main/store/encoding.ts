/** Conversions between column values and typed values: JSON text and float32 BLOBs. */

export function toJson(value: unknown): string {
  return JSON.stringify(value);
}

export function fromJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

export function floatsToBlob(values: Float32Array | readonly number[]): Buffer {
  const floats = values instanceof Float32Array ? values : Float32Array.from(values);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength);
}

/** A copy, so the result owns aligned memory whatever the driver's buffer pooling does. */
export function blobToFloats(blob: Buffer): Float32Array {
  const copy = new Uint8Array(blob.byteLength);
  copy.set(blob);
  return new Float32Array(copy.buffer);
}

export function now(): string {
  return new Date().toISOString();
}
