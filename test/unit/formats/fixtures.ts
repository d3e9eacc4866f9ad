/**
 * Writers for test files: .npy with any descr, safetensors with any dtypes, ZIP archives
 * (stored, deflated, ZIP64 records) and element encodings. Written independently of the
 * readers under test (except the .npy header, which numpy cross-checks in npyWrite.test.ts).
 */
import { crc32, deflateRawSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';

import { encodeNpyHeader } from '../../../src/main/formats/npyWrite';

export type TestDtype =
  | 'f32'
  | 'f16'
  | 'bf16'
  | 'f64'
  | 'f8e4m3'
  | 'i8'
  | 'u8'
  | 'i16'
  | 'u16'
  | 'i32'
  | 'u32'
  | 'i64'
  | 'u64';

export const BYTES: Record<TestDtype, number> = {
  f32: 4,
  f16: 2,
  bf16: 2,
  f64: 8,
  f8e4m3: 1,
  i8: 1,
  u8: 1,
  i16: 2,
  u16: 2,
  i32: 4,
  u32: 4,
  i64: 8,
  u64: 8,
};

/** float32 bits of a number. */
function float32Bits(value: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value);
  return view.getUint32(0);
}

/** binary16 bits of a value exactly representable in half precision (tests use such values). */
export function halfBits(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  if (magnitude === Infinity) return sign | 0x7c00;
  if (magnitude === 0) return sign;
  let exponent = Math.floor(Math.log2(magnitude));
  if (exponent < -14) return sign | Math.round(magnitude / 2 ** -24);
  let mantissa = Math.round((magnitude / 2 ** exponent - 1) * 1024);
  if (mantissa === 1024) {
    exponent++;
    mantissa = 0;
  }
  return sign | ((exponent + 15) << 10) | mantissa;
}

/** E4M3 bits of an exactly representable value. */
function e4m3Bits(value: number): number {
  const sign = value < 0 ? 0x80 : 0;
  const magnitude = Math.abs(value);
  if (magnitude === 0) return sign;
  const exponent = Math.floor(Math.log2(magnitude));
  if (exponent < -6) return sign | Math.round(magnitude / 2 ** -9);
  return sign | ((exponent + 7) << 3) | Math.round((magnitude / 2 ** exponent - 1) * 8);
}

/** Encodes values as `dtype` elements; integers must be in range, floats representable. */
export function encodeValues(
  values: ArrayLike<number>,
  dtype: TestDtype,
  littleEndian = true,
): Uint8Array {
  const size = BYTES[dtype];
  const bytes = new Uint8Array(values.length * size);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    const at = i * size;
    switch (dtype) {
      case 'f32':
        view.setFloat32(at, value, littleEndian);
        break;
      case 'f16':
        view.setUint16(at, halfBits(value), littleEndian);
        break;
      case 'bf16':
        view.setUint16(at, float32Bits(value) >>> 16, littleEndian);
        break;
      case 'f64':
        view.setFloat64(at, value, littleEndian);
        break;
      case 'f8e4m3':
        view.setUint8(at, e4m3Bits(value));
        break;
      case 'i8':
        view.setInt8(at, value);
        break;
      case 'u8':
        view.setUint8(at, value);
        break;
      case 'i16':
        view.setInt16(at, value, littleEndian);
        break;
      case 'u16':
        view.setUint16(at, value, littleEndian);
        break;
      case 'i32':
        view.setInt32(at, value, littleEndian);
        break;
      case 'u32':
        view.setUint32(at, value, littleEndian);
        break;
      case 'i64':
        view.setBigInt64(at, BigInt(value), littleEndian);
        break;
      case 'u64':
        view.setBigUint64(at, BigInt(value), littleEndian);
        break;
    }
  }
  return bytes;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const joined = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.length;
  }
  return joined;
}

/** .npy bytes with a header dict written by hand (any text) and a body. */
export function npyWithHeaderText(headerText: string, body: Uint8Array, version = 1): Uint8Array {
  const dict = new TextEncoder().encode(headerText);
  const preamble = version === 1 ? 10 : 12;
  const total = Math.ceil((preamble + dict.length + 1) / 64) * 64;
  const header = new Uint8Array(total).fill(0x20);
  header.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(header.buffer);
  if (version === 1) view.setUint16(8, total - preamble, true);
  else view.setUint32(8, total - preamble, true);
  header.set(dict, preamble);
  header[total - 1] = 0x0a;
  return concatBytes(header, body);
}

export function npyBytes(
  shape: number[],
  descr: string,
  body: Uint8Array,
  fortran = false,
): Uint8Array {
  return concatBytes(encodeNpyHeader(shape, descr, fortran), body);
}

/** Values in column-major order of a rows x columns row-major matrix. */
export function toColumnMajor(values: ArrayLike<number>, rows: number, columns: number): number[] {
  const result: number[] = [];
  for (let j = 0; j < columns; j++)
    for (let r = 0; r < rows; r++) result.push(values[r * columns + j]!);
  return result;
}

export interface SafetensorsTensorSpec {
  name: string;
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

/** Safetensors bytes; tensors are laid out in the buffer in the reverse of header order. */
export function safetensorsBytes(
  tensors: SafetensorsTensorSpec[],
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const reversed = [...tensors].reverse();
  const offsets = new Map<string, [number, number]>();
  let offset = 0;
  for (const tensor of reversed) {
    offsets.set(tensor.name, [offset, offset + tensor.bytes.length]);
    offset += tensor.bytes.length;
  }
  for (const tensor of tensors) {
    header[tensor.name] = {
      dtype: tensor.dtype,
      shape: tensor.shape,
      data_offsets: offsets.get(tensor.name),
    };
  }
  return safetensorsFromHeader(header, concatBytes(...reversed.map((tensor) => tensor.bytes)));
}

export function safetensorsFromHeader(header: unknown, buffer: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(json.length), true);
  return concatBytes(length, json, buffer);
}

export interface ZipMemberSpec {
  name: string;
  data: Uint8Array;
  deflate?: boolean;
}

/**
 * A ZIP archive. With `zip64`, central-directory sizes and offsets are saturated to
 * 0xFFFFFFFF with their values in ZIP64 extra fields, and a ZIP64 end record is written.
 */
export function zipBytes(members: ZipMemberSpec[], zip64 = false): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const member of members) {
    const name = new TextEncoder().encode(member.name);
    const stored = member.deflate ? new Uint8Array(deflateRawSync(member.data)) : member.data;
    const crc = crc32(member.data);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, member.deflate ? 8 : 0, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, stored.length, true);
    lv.setUint32(22, member.data.length, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    locals.push(local, stored);

    const extra = zip64 ? new Uint8Array(4 + 24) : new Uint8Array(0);
    if (zip64) {
      const ev = new DataView(extra.buffer);
      ev.setUint16(0, 1, true);
      ev.setUint16(2, 24, true);
      ev.setBigUint64(4, BigInt(member.data.length), true);
      ev.setBigUint64(12, BigInt(stored.length), true);
      ev.setBigUint64(20, BigInt(offset), true);
    }
    const central = new Uint8Array(46 + name.length + extra.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 45, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, member.deflate ? 8 : 0, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, zip64 ? 0xffffffff : stored.length, true);
    cv.setUint32(24, zip64 ? 0xffffffff : member.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint16(30, extra.length, true);
    cv.setUint32(42, zip64 ? 0xffffffff : offset, true);
    central.set(name, 46);
    central.set(extra, 46 + name.length);
    centrals.push(central);
    offset += local.length + stored.length;
  }
  const directory = concatBytes(...centrals);
  const tail: Uint8Array[] = [];
  if (zip64) {
    const record = new Uint8Array(56);
    const rv = new DataView(record.buffer);
    rv.setUint32(0, 0x06064b50, true);
    rv.setBigUint64(4, 44n, true);
    rv.setBigUint64(24, BigInt(members.length), true);
    rv.setBigUint64(32, BigInt(members.length), true);
    rv.setBigUint64(40, BigInt(directory.length), true);
    rv.setBigUint64(48, BigInt(offset), true);
    const locator = new Uint8Array(20);
    const lv = new DataView(locator.buffer);
    lv.setUint32(0, 0x07064b50, true);
    lv.setBigUint64(8, BigInt(offset + directory.length), true);
    lv.setUint32(16, 1, true);
    tail.push(record, locator);
  }
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, zip64 ? 0xffff : members.length, true);
  ev.setUint16(10, zip64 ? 0xffff : members.length, true);
  ev.setUint32(12, zip64 ? 0xffffffff : directory.length, true);
  ev.setUint32(16, zip64 ? 0xffffffff : offset, true);
  return concatBytes(...locals, directory, ...tail, end);
}

/** True when /usr/bin/python3 can import numpy (for cross-checks written by numpy itself). */
export function numpyAvailable(): boolean {
  const result = spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { timeout: 20_000 });
  return result.status === 0;
}

/** Runs a Python snippet with numpy; throws with its stderr when it fails. */
export function runPython(code: string, args: string[] = []): string {
  const result = spawnSync('/usr/bin/python3', ['-c', code, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 256 << 20,
  });
  if (result.status !== 0) {
    throw new Error(`python failed (${result.status ?? result.error?.message}): ${result.stderr}`);
  }
  return result.stdout;
}
