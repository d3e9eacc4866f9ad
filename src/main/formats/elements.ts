/**
 * Element types on disk and their conversion to float32. Half floats and bfloat16 go through
 * WebAssembly SIMD (halfSimd.ts) where available, else through the scalar reference
 * (halfBits.ts), both bit-exact; 8-bit floats through lookup tables built once.
 */
import { assert, assertNever } from '../../shared/errors';
import { brainToFloatBits, halfBitsTable, halfToFloatBits } from './halfBits';
import { widenBytes, type WideElement } from './halfSimd';

export type ElementName =
  | 'f32'
  | 'f16'
  | 'bf16'
  | 'f64'
  | 'f8e4m3'
  | 'f8e5m2'
  | 'i8'
  | 'u8'
  | 'i16'
  | 'u16'
  | 'i32'
  | 'u32'
  | 'i64'
  | 'u64'
  | 'bool';

export interface ElementType {
  name: ElementName;
  /** Bytes per element. */
  bytes: number;
  littleEndian: boolean;
}

const ELEMENT_BYTES: Record<ElementName, number> = {
  f32: 4,
  f16: 2,
  bf16: 2,
  f64: 8,
  f8e4m3: 1,
  f8e5m2: 1,
  i8: 1,
  u8: 1,
  i16: 2,
  u16: 2,
  i32: 4,
  u32: 4,
  i64: 8,
  u64: 8,
  bool: 1,
};

export function elementType(name: ElementName, littleEndian = true): ElementType {
  const bytes = ELEMENT_BYTES[name];
  return { name, bytes, littleEndian: bytes === 1 ? true : littleEndian };
}

export const hostIsLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** True when the bytes on disk are already native float32 and can be read into the target. */
export function isNativeFloat32(type: ElementType): boolean {
  return type.name === 'f32' && type.littleEndian === hostIsLittleEndian;
}

/** OCP 8-bit E4M3 ("fn": no infinities, S.1111.111 is NaN). */
function e4m3ToNumber(bits: number): number {
  const sign = bits & 0x80 ? -1 : 1;
  const exponent = (bits >> 3) & 0xf;
  const mantissa = bits & 0x7;
  if (exponent === 0xf && mantissa === 0x7) return NaN;
  if (exponent === 0) return sign * mantissa * 2 ** -9;
  return sign * (1 + mantissa / 8) * 2 ** (exponent - 7);
}

let e4m3Table: Float32Array | undefined;
let e5m2Table: Float32Array | undefined;

function e4m3Lookup(): Float32Array {
  if (!e4m3Table) {
    e4m3Table = new Float32Array(256);
    for (let bits = 0; bits < 256; bits++) e4m3Table[bits] = e4m3ToNumber(bits);
  }
  return e4m3Table;
}

function e5m2Lookup(): Float32Array {
  // E5M2 is the upper byte of a binary16.
  if (!e5m2Table) {
    const bits = new Uint32Array(256);
    for (let byte = 0; byte < 256; byte++) bits[byte] = halfToFloatBits(byte << 8);
    e5m2Table = new Float32Array(bits.buffer);
  }
  return e5m2Table;
}

/** The scalar path for 16-bit floats: bits through the reference, NaN payloads kept. */
function widenScalar(
  element: WideElement,
  view: DataView,
  littleEndian: boolean,
  count: number,
  target: Float32Array,
  targetOffset: number,
): void {
  const bits = new Uint32Array(target.buffer, target.byteOffset + 4 * targetOffset, count);
  if (element === 'bf16') {
    for (let i = 0; i < count; i++) bits[i] = brainToFloatBits(view.getUint16(2 * i, littleEndian));
  } else {
    const table = halfBitsTable();
    for (let i = 0; i < count; i++) bits[i] = table[view.getUint16(2 * i, littleEndian)]!;
  }
}

/**
 * Converts `count` elements of `type` from `source` (a zero-offset, aligned byte array
 * holding at least count * type.bytes bytes) into target[targetOffset ...].
 */
export function decodeElements(
  type: ElementType,
  source: Uint8Array,
  count: number,
  target: Float32Array,
  targetOffset: number,
): void {
  assert(source.byteLength >= count * type.bytes, () => 'decode source too short');
  assert(target.length >= targetOffset + count, () => 'decode target too short');
  const aligned = source.byteOffset % 8 === 0;
  const native = type.littleEndian === hostIsLittleEndian && aligned;
  const buffer = source.buffer;
  const base = source.byteOffset;

  switch (type.name) {
    case 'f32':
      if (native) {
        target.set(new Float32Array(buffer, base, count), targetOffset);
      } else {
        const view = new DataView(buffer, base);
        for (let i = 0; i < count; i++) {
          target[targetOffset + i] = view.getFloat32(4 * i, type.littleEndian);
        }
      }
      return;
    case 'f16':
    case 'bf16': {
      // WebAssembly memory is little-endian whatever the host.
      const simd = type.littleEndian && hostIsLittleEndian;
      if (simd && widenBytes(type.name, source, count, target, targetOffset)) return;
      widenScalar(
        type.name,
        new DataView(buffer, base),
        type.littleEndian,
        count,
        target,
        targetOffset,
      );
      return;
    }
    case 'f64':
      if (native) {
        const doubles = new Float64Array(buffer, base, count);
        for (let i = 0; i < count; i++) target[targetOffset + i] = doubles[i]!;
      } else {
        const view = new DataView(buffer, base);
        for (let i = 0; i < count; i++) {
          target[targetOffset + i] = view.getFloat64(8 * i, type.littleEndian);
        }
      }
      return;
    case 'f8e4m3': {
      const table = e4m3Lookup();
      for (let i = 0; i < count; i++) target[targetOffset + i] = table[source[i]!]!;
      return;
    }
    case 'f8e5m2': {
      const table = e5m2Lookup();
      for (let i = 0; i < count; i++) target[targetOffset + i] = table[source[i]!]!;
      return;
    }
    case 'u8':
    case 'bool':
      for (let i = 0; i < count; i++) target[targetOffset + i] = source[i]!;
      return;
    case 'i8': {
      const signed = new Int8Array(buffer, base, count);
      for (let i = 0; i < count; i++) target[targetOffset + i] = signed[i]!;
      return;
    }
    case 'i16':
    case 'u16':
    case 'i32':
    case 'u32': {
      const view = new DataView(buffer, base);
      const little = type.littleEndian;
      const read =
        type.name === 'i16'
          ? (i: number) => view.getInt16(2 * i, little)
          : type.name === 'u16'
            ? (i: number) => view.getUint16(2 * i, little)
            : type.name === 'i32'
              ? (i: number) => view.getInt32(4 * i, little)
              : (i: number) => view.getUint32(4 * i, little);
      for (let i = 0; i < count; i++) target[targetOffset + i] = read(i);
      return;
    }
    case 'i64':
    case 'u64': {
      const view = new DataView(buffer, base);
      const little = type.littleEndian;
      for (let i = 0; i < count; i++) {
        const value =
          type.name === 'i64' ? view.getBigInt64(8 * i, little) : view.getBigUint64(8 * i, little);
        target[targetOffset + i] = Number(value);
      }
      return;
    }
    default:
      assertNever(type.name, 'element type');
  }
}
