/**
 * float16 and bfloat16 to float32: the scalar reference against the textbook formula, then
 * every faster path (WebAssembly SIMD lanes, decodeElements, MatrixSource reading straight
 * into lanes) against the reference bit for bit, on all 65536 patterns: NaN payloads
 * (signalling ones too), infinities, subnormals and -0 included.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { decodeElements, elementType } from '../../../src/main/formats/elements';
import { brainToFloatBits, halfToFloatBits } from '../../../src/main/formats/halfBits';
import {
  returnLane,
  SLOT_ELEMENTS,
  takeLane,
  type WideElement,
} from '../../../src/main/formats/halfSimd';
import { openActivations } from '../../../src/main/formats/open';
import { computeStatistics } from '../../../src/main/formats/statistics';
import { npyBytes } from './fixtures';
import { cyclingPatterns, differing } from './halfPatterns';

const ELEMENTS: WideElement[] = ['f16', 'bf16'];

function allPatterns(): Uint16Array {
  return Uint16Array.from({ length: 65536 }, (_, bits) => bits);
}

/** The value of a binary16 by the textbook formula. */
function halfValue(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

const floatOfBits = (bits: number) => new Float32Array(new Uint32Array([bits]).buffer)[0]!;

describe('the scalar reference', () => {
  it('gives every float16 its value, and every NaN its payload', () => {
    let wrongValues = 0;
    let wrongPayloads = 0;
    for (let half = 0; half < 65536; half++) {
      const bits = halfToFloatBits(half);
      const value = halfValue(half);
      if (Number.isNaN(value)) {
        const payload = ((half & 0x8000) << 16) | 0x7f800000 | ((half & 0x3ff) << 13);
        if (bits !== payload >>> 0) wrongPayloads++;
      } else if (!Object.is(floatOfBits(bits), value)) {
        wrongValues++;
      }
    }
    expect(wrongValues).toBe(0);
    expect(wrongPayloads).toBe(0);
  });

  it('gives every bfloat16 the float32 of its upper half', () => {
    for (const value of [1, -2.5, 3.140625, 2 ** -126, 2 ** -133, -0, Infinity]) {
      const bits = new Uint32Array(new Float32Array([value]).buffer)[0]!;
      expect(Object.is(floatOfBits(brainToFloatBits(bits >>> 16)), value)).toBe(true);
    }
  });
});

describe('WebAssembly SIMD lanes', () => {
  it('are available in Node 20', () => {
    const lane = takeLane();
    expect(lane).not.toBeNull();
    returnLane(lane!);
  });

  it.each(ELEMENTS)('convert all 65536 %s patterns bit for bit, from either slot', (element) => {
    const patterns = allPatterns();
    for (const slot of [0, 1] as const) {
      const lane = takeLane()!;
      const input = lane.slots[slot];
      new Uint16Array(input.buffer, input.byteOffset, 65536).set(patterns);
      const output = new Float32Array(65536 + 3);
      lane.widen(element, slot, 65536, output, 3);
      returnLane(lane);
      expect(differing(element, patterns, output.subarray(3))).toBe(0);
    }
  });

  it('write exactly `count` values when the count is not a multiple of 8', () => {
    const lane = takeLane()!;
    const patterns = Uint16Array.from([0x3c00, 0x8001, 0x7c01, 0xfbff, 0x0400, 0x7e00, 0x03ff]);
    new Uint16Array(lane.slots[0].buffer, lane.slots[0].byteOffset, 16).fill(0x4000);
    new Uint16Array(lane.slots[0].buffer, lane.slots[0].byteOffset, 7).set(patterns);
    const output = new Float32Array(12).fill(-7);
    lane.widen('f16', 0, 7, output, 2);
    returnLane(lane);
    expect(differing('f16', patterns, output.subarray(2, 9))).toBe(0);
    expect([...output.subarray(0, 2), ...output.subarray(9)]).toEqual([-7, -7, -7, -7, -7]);
  });
});

describe('decodeElements on 16-bit floats', () => {
  it.each(ELEMENTS.flatMap((element) => [true, false].map((little) => [element, little] as const)))(
    'matches the reference on all 65536 %s patterns (little-endian: %s), unaligned, odd counts',
    (element, littleEndian) => {
      const patterns = allPatterns();
      // One byte of offset: the source is not aligned for a typed view.
      const storage = new Uint8Array(2 * 65536 + 1);
      const view = new DataView(storage.buffer, 1);
      patterns.forEach((bits, i) => view.setUint16(2 * i, bits, littleEndian));
      const source = storage.subarray(1);
      const output = new Float32Array(65536 + 5);
      decodeElements(elementType(element, littleEndian), source, 65536, output, 5);
      expect(differing(element, patterns, output.subarray(5))).toBe(0);
      // 1001 values from element 3: an odd count, an odd start.
      const part = new Float32Array(1001);
      decodeElements(elementType(element, littleEndian), source.subarray(6), 1001, part, 0);
      expect(differing(element, patterns.subarray(3, 1004), part)).toBe(0);
    },
  );
});

describe('MatrixSource reads of 16-bit floats', () => {
  let folder: string;
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'basis-half-'));
  });
  afterAll(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  // More than two lane slots per full read, so the read-ahead slot is reused.
  const columns = 1000;
  const rows = Math.ceil((2.5 * SLOT_ELEMENTS) / columns);
  const patterns = cyclingPatterns(rows * columns);

  it.each(ELEMENTS)(
    'read %s straight into lanes, many chunks per request and concurrently, bit for bit',
    async (element) => {
      const path = join(folder, `${element}.npy`);
      const descr = element === 'f16' ? '<f2' : '<V2';
      writeFileSync(path, npyBytes([rows, columns], descr, new Uint8Array(patterns.buffer)));
      const source = await openActivations(path, element === 'bf16' ? { dtype: 'bf16' } : {});
      try {
        const whole = await source.readRows(0, rows);
        expect(differing(element, patterns, whole)).toBe(0);
        // Concurrent requests each take their own lane; odd starts and lengths.
        const ranges = [
          [0, 1],
          [3, 700],
          [rows - 601, 601],
          [17, 1],
          [250, 524],
        ] as const;
        const parts = await Promise.all(
          ranges.map(([first, count]) => source.readRows(first, count)),
        );
        ranges.forEach(([first, count], k) => {
          const expected = patterns.subarray(first * columns, (first + count) * columns);
          expect(differing(element, expected, parts[k]!), `rows ${first}+${count}`).toBe(0);
        });
      } finally {
        await source.close();
      }
    },
  );

  it('read sequential blocks with read-ahead, then jump back, bit for bit', async () => {
    const path = join(folder, 'sequential.npy');
    writeFileSync(path, npyBytes([rows, columns], '<f2', new Uint8Array(patterns.buffer)));
    const source = await openActivations(path);
    try {
      // Blocks of one chunk, then of two (over SLOT_ELEMENTS), each starting where the
      // previous one ended; then a jump back, which must drop the read-ahead.
      const blocks: [number, number][] = [];
      let first = 0;
      for (const count of [300, 300, 700, 1]) {
        blocks.push([first, count]);
        first += count;
      }
      blocks.push([5, 20], [25, rows - 25]);
      for (const [start, count] of blocks) {
        const values = await source.readRows(start, count);
        const expected = patterns.subarray(start * columns, (start + count) * columns);
        expect(differing('f16', expected, values), `rows ${start}+${count}`).toBe(0);
      }
      // Leaves a read-ahead in flight for close() to wait for.
      await source.readRows(0, 10);
      await source.readRows(10, 10);
    } finally {
      await source.close();
    }
  });

  it('still find the float16 rows that hold NaN or infinity', async () => {
    const halves = new Uint16Array(40 * 3).fill(0x3c00);
    const bad = [2, 17, 39];
    halves[2 * 3 + 1] = 0x7c00; // +Inf
    halves[17 * 3] = 0xfd01; // a signalling NaN
    halves[39 * 3 + 2] = 0xfc00; // -Inf
    const path = join(folder, 'nonfinite.npy');
    writeFileSync(path, npyBytes([40, 3], '<f2', new Uint8Array(halves.buffer)));
    const source = await openActivations(path);
    try {
      const statistics = await computeStatistics(source);
      expect(statistics.nonfiniteRows).toBe(bad.length);
      expect(statistics.nonfiniteRowIndices).toEqual(bad);
    } finally {
      await source.close();
    }
  });
});
