/**
 * Encodes named float32 tensors as safetensors bytes and decodes them back. Used for
 * checkpoints stored in the database and for exported weights. Files from elsewhere go
 * through the validating reader in safetensors.ts, not through `decodeSafetensors`'s trust.
 */
import { inputError } from '../../shared/errors';
import type { NamedTensors } from '../../shared/tensors';

/** Layout: u64 LE header length N, N bytes of JSON (space-padded to 8), then the data. */
export function encodeSafetensors(
  tensors: NamedTensors,
  metadata: Record<string, string> = {},
): Buffer {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const { shape, values } = tensors[name]!;
    const bytes = values.length * 4;
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const output = Buffer.alloc(8 + headerBytes.length + offset);
  output.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(output, 8);
  let position = 8 + headerBytes.length;
  for (const name of names) {
    const { values } = tensors[name]!;
    const view = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    if (isLittleEndian) {
      view.copy(output, position);
    } else {
      for (let i = 0; i < values.length; i++) output.writeFloatLE(values[i]!, position + 4 * i);
    }
    position += values.byteLength;
  }
  return output;
}

/** Decodes bytes written by `encodeSafetensors` (F32 tensors only). */
export function decodeSafetensors(bytes: Buffer): {
  tensors: NamedTensors;
  metadata: Record<string, string>;
} {
  if (bytes.length < 8) throw inputError('safetensors data is shorter than its 8-byte header');
  const headerLength = Number(bytes.readBigUInt64LE(0));
  if (headerLength > bytes.length - 8) {
    throw inputError('safetensors header length points beyond the end of the data');
  }
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + headerLength;
  const tensors: NamedTensors = {};
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as unknown as Record<string, string>;
      continue;
    }
    if (entry.dtype !== 'F32') throw inputError(`tensor ${name} is ${entry.dtype}, expected F32`);
    const [begin, end] = entry.data_offsets;
    if (base + end > bytes.length || begin > end) {
      throw inputError(`tensor ${name} lies outside the safetensors data`);
    }
    const start = bytes.byteOffset + base + begin;
    const values = isLittleEndian
      ? new Float32Array(bytes.buffer.slice(start, start + end - begin))
      : Float32Array.from({ length: (end - begin) / 4 }, (_, i) =>
          bytes.readFloatLE(base + begin + 4 * i),
        );
    tensors[name] = { shape: entry.shape, values };
  }
  return { tensors, metadata };
}

const isLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
