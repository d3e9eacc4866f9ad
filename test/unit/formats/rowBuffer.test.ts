/**
 * Row buffers, which float16 and bfloat16 reads fill in place on the calling thread and on
 * helper threads: bit for bit against the scalar reference on every 16-bit pattern, for
 * requests cut into parts and requests of a few elements, side by side in one buffer; a
 * file truncated under an open source; the same reads with no helpers at all; and
 * TrainingBatches, whose buffers are row buffers.
 */
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { TrainingBatches } from '../../../src/main/formats/batches';
import type { WideElement } from '../../../src/main/formats/halfSimd';
import { openActivations } from '../../../src/main/formats/open';
import { allocateRowBuffer, inPlaceTarget } from '../../../src/main/formats/rowBuffer';
import { idleHelpers, MIN_PART_ELEMENTS } from '../../../src/main/formats/wideningThreads';
import { halfBits, npyBytes } from './fixtures';
import { cyclingPatterns, differing } from './halfPatterns';

let folder: string;
beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), 'basis-rows-'));
});
afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
});

// Enough elements for a request to be cut into several parts.
const columns = 1000;
const rows = Math.ceil((5 * MIN_PART_ELEMENTS) / columns) + 3;
const patterns = cyclingPatterns(rows * columns);

function writeFile(name: string, element: WideElement): string {
  const path = join(folder, name);
  const descr = element === 'f16' ? '<f2' : '<V2';
  writeFileSync(path, npyBytes([rows, columns], descr, new Uint8Array(patterns.buffer)));
  return path;
}

describe('row buffers', () => {
  it('live in shared WebAssembly memory, with helpers on every core but one', () => {
    const buffer = allocateRowBuffer(10);
    expect(buffer).toHaveLength(10);
    expect(inPlaceTarget(buffer)?.shared).toBeDefined();
    expect(inPlaceTarget(new Float32Array(10))).toBeUndefined();
    expect(idleHelpers()).toBe(Math.min(4, availableParallelism() - 1));
  });

  it.each(['f16', 'bf16'] as const)(
    'take %s whole, in parts, and side by side at odd offsets, bit for bit',
    async (element) => {
      const path = writeFile(`${element}.npy`, element);
      const source = await openActivations(path, element === 'bf16' ? { dtype: 'bf16' } : {});
      try {
        const whole = allocateRowBuffer(rows * columns);
        await source.readRows(0, rows, whole);
        expect(differing(element, patterns, whole)).toBe(0);

        // Requests side by side in one buffer, each ending where the next begins: a part
        // that wrote past its rows would show in its neighbour.
        const ranges = [
          [0, 1],
          [1, 2],
          [3, 70],
          [73, rows - 73 - 3],
          [rows - 3, 3],
        ] as const;
        const shared = allocateRowBuffer(rows * columns);
        await Promise.all(
          ranges.map(([first, count]) =>
            source.readRows(
              first,
              count,
              shared.subarray(first * columns, (first + count) * columns),
            ),
          ),
        );
        expect(differing(element, patterns, shared)).toBe(0);
        expect(idleHelpers()).toBe(Math.min(4, availableParallelism() - 1));
      } finally {
        await source.close();
      }
    },
  );

  it('fill requests of fewer than 8 elements and a last group cut short', async () => {
    const path = join(folder, 'narrow.npy');
    const narrow = patterns.subarray(0, 13 * 3);
    writeFileSync(path, npyBytes([13, 3], '<f2', new Uint8Array(narrow.slice().buffer)));
    const source = await openActivations(path);
    try {
      const buffer = allocateRowBuffer(13 * 3 + 5).fill(7);
      await source.readRows(2, 1, buffer.subarray(1));
      expect(differing('f16', narrow.subarray(6, 9), buffer.subarray(1, 4))).toBe(0);
      await source.readRows(0, 13, buffer.subarray(4));
      expect(differing('f16', narrow, buffer.subarray(4, 4 + 39))).toBe(0);
      // Nothing written outside the request.
      expect(buffer[0]).toBe(7);
      expect(Array.from(buffer.subarray(43))).toEqual([7]);
    } finally {
      await source.close();
    }
  });

  it('say where a file truncated under an open source ends, and keep working', async () => {
    const path = writeFile('shrinking.npy', 'f16');
    const source = await openActivations(path);
    try {
      truncateSync(path, 4096);
      const buffer = allocateRowBuffer(rows * columns);
      await expect(source.readRows(0, rows, buffer)).rejects.toThrow(
        /shrinking\.npy: the file now ends at byte 4096, before byte \d+ being read \(it held/,
      );
      expect(idleHelpers()).toBe(Math.min(4, availableParallelism() - 1));
    } finally {
      await source.close();
    }
    const intact = await openActivations(writeFile('intact.npy', 'f16'));
    try {
      const buffer = allocateRowBuffer(rows * columns);
      await intact.readRows(0, rows, buffer);
      expect(differing('f16', patterns, buffer)).toBe(0);
    } finally {
      await intact.close();
    }
  });

  it('are filled on the calling thread alone when there are no helpers', async () => {
    vi.stubEnv('BASIS_LOADER_THREADS', '0');
    vi.resetModules();
    try {
      const threads = await import('../../../src/main/formats/wideningThreads');
      const buffers = await import('../../../src/main/formats/rowBuffer');
      const opening = await import('../../../src/main/formats/open');
      expect(threads.idleHelpers()).toBe(0);
      const source = await opening.openActivations(writeFile('alone.npy', 'f16'));
      try {
        const buffer = buffers.allocateRowBuffer(rows * columns);
        await source.readRows(0, rows, buffer);
        expect(differing('f16', patterns, buffer)).toBe(0);
      } finally {
        await source.close();
      }
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });

  it('hold the rows TrainingBatches hands out from a float16 file', async () => {
    // Finite patterns (exponent below 31), with each row's number in its first column.
    const finite = patterns.map((bits) => bits & 0xbfff);
    for (let r = 0; r < rows; r++) finite[r * columns] = halfBits(r);
    const path = join(folder, 'batches.npy');
    writeFileSync(path, npyBytes([rows, columns], '<f2', new Uint8Array(finite.buffer)));
    const source = await openActivations(path);
    try {
      const batches = new TrainingBatches(source, {
        batchSize: rows,
        seed: 3,
        skipNonfinite: false,
        blockRows: 16,
        blocksPerBuffer: 4,
      });
      const batch = await batches.next();
      batches.close();
      // One epoch: every row once, in some order, each bit for bit.
      const seen = new Set<number>();
      for (let k = 0; k < rows; k++) {
        const row = batch.values.subarray(k * columns, (k + 1) * columns);
        const r = row[0]!;
        expect(differing('f16', finite.subarray(r * columns, (r + 1) * columns), row)).toBe(0);
        seen.add(r);
      }
      expect(seen.size).toBe(rows);
    } finally {
      await source.close();
    }
  });
});
