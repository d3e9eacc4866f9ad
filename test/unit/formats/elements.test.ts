import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { decodeElements, elementType } from '../../../src/main/formats/elements';
import { numpyAvailable, runPython } from './fixtures';

/** Every 16-bit pattern, as little-endian bytes. */
function allHalfPatterns(): Uint8Array {
  const patterns = new Uint16Array(65536);
  for (let bits = 0; bits < 65536; bits++) patterns[bits] = bits;
  return new Uint8Array(patterns.buffer);
}

describe('element conversion', () => {
  it('converts known float16 patterns: zero, one, subnormals, extremes, infinities, NaN', () => {
    const patterns = [
      0x0000, 0x8000, 0x3c00, 0xbc00, 0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00, 0xfc00, 0x7e00,
    ];
    const bytes = new Uint8Array(new Uint16Array(patterns).buffer);
    const output = new Float32Array(patterns.length);
    decodeElements(elementType('f16'), bytes, patterns.length, output, 0);
    expect(Array.from(output.subarray(0, 10))).toEqual([
      0,
      -0,
      1,
      -1,
      2 ** -24,
      1023 * 2 ** -24,
      2 ** -14,
      65504,
      Infinity,
      -Infinity,
    ]);
    expect(output[10]).toBeNaN();
  });

  it.skipIf(!numpyAvailable())(
    'converts all 65536 float16 patterns bit for bit as numpy does (skipped without numpy)',
    () => {
      const folder = mkdtempSync(join(tmpdir(), 'basis-elements-'));
      try {
        const path = join(folder, 'reference.f32');
        runPython(
          "import numpy, sys\nnumpy.arange(65536, dtype='<u2').view('<f2').astype('<f4').tofile(sys.argv[1])",
          [path],
        );
        // Bit for bit: NumPy keeps NaN payloads, signalling ones included, and so does Basis.
        const reference = new Uint32Array(new Uint8Array(readFileSync(path)).buffer);
        const output = new Float32Array(65536);
        decodeElements(elementType('f16'), allHalfPatterns(), 65536, output, 0);
        const bits = new Uint32Array(output.buffer);
        let differing = 0;
        for (let half = 0; half < 65536; half++) if (bits[half] !== reference[half]) differing++;
        expect(differing).toBe(0);
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    },
  );

  it('converts bfloat16 as the upper half of a float32, both byte orders', () => {
    const values = [1, -2.5, 3.140625, 1e-38, -Infinity];
    const little = new Uint8Array(values.length * 2);
    const big = new Uint8Array(values.length * 2);
    values.forEach((value, i) => {
      const bits = new Uint32Array(new Float32Array([value]).buffer)[0]! >>> 16;
      new DataView(little.buffer).setUint16(2 * i, bits, true);
      new DataView(big.buffer).setUint16(2 * i, bits, false);
    });
    const fromLittle = new Float32Array(values.length);
    const fromBig = new Float32Array(values.length + 2);
    decodeElements(elementType('bf16'), little, values.length, fromLittle, 0);
    decodeElements(elementType('bf16', false), big, values.length, fromBig, 2);
    const expected = values.map((value) => {
      const bits = new Uint32Array(new Float32Array([value]).buffer)[0]! & 0xffff0000;
      return new Float32Array(new Uint32Array([bits]).buffer)[0]!;
    });
    expect(Array.from(fromLittle)).toEqual(expected);
    expect(Array.from(fromBig.subarray(2))).toEqual(expected);
  });

  it('converts float8 E4M3 and E5M2 extremes', () => {
    const bytes = Uint8Array.from([0x00, 0x38, 0x7e, 0x01, 0xff, 0x7f]);
    const e4m3 = new Float32Array(6);
    decodeElements(elementType('f8e4m3'), bytes, 6, e4m3, 0);
    expect(Array.from(e4m3.subarray(0, 4))).toEqual([0, 1, 448, 2 ** -9]);
    expect(e4m3[4]).toBeNaN();
    expect(e4m3[5]).toBeNaN();
    const e5m2 = new Float32Array(3);
    decodeElements(elementType('f8e5m2'), Uint8Array.from([0x3c, 0x7b, 0x7c]), 3, e5m2, 0);
    expect(Array.from(e5m2)).toEqual([1, 57344, Infinity]);
  });

  it('converts 64-bit integers and doubles, both byte orders', () => {
    const bytes = new Uint8Array(24);
    const view = new DataView(bytes.buffer);
    view.setBigInt64(0, -5n, false);
    view.setBigInt64(8, 2n ** 40n, false);
    view.setFloat64(16, 0.1, false);
    const integers = new Float32Array(2);
    decodeElements(elementType('i64', false), bytes, 2, integers, 0);
    expect(Array.from(integers)).toEqual([-5, 2 ** 40]);
    const double = new Float32Array(1);
    decodeElements(elementType('f64', false), bytes.subarray(16), 1, double, 0);
    expect(double[0]).toBe(Math.fround(0.1));
  });
});
