import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { encodeNpyHeader, writeNpy } from '../../../src/main/formats/npyWrite';
import { openActivations } from '../../../src/main/formats/open';
import { numpyAvailable, runPython } from './fixtures';

let folder: string;

describe('writing .npy', () => {
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'basis-npywrite-'));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('pads the header so the data starts on a 64-byte boundary, ending in a newline', () => {
    for (const shape of [[3], [7, 5], [1, 2, 3], [123456789, 4096]]) {
      const header = encodeNpyHeader(shape, '<f4');
      expect(header.length % 64).toBe(0);
      expect(header[header.length - 1]).toBe(0x0a);
      expect(new TextDecoder().decode(header.subarray(10))).toContain(
        shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`,
      );
    }
  });

  it('writes a file that Basis reads back exactly, leaving no temporary file', async () => {
    const values = Float32Array.from({ length: 21 }, (_, i) => i / 3 - 2);
    const path = join(folder, 'round.npy');
    await writeNpy(path, [7, 3], values);
    await writeNpy(path, [7, 3], values); // replaces atomically
    expect(readdirSync(folder)).toEqual(['round.npy']);
    const source = await openActivations(path);
    expect(source.description).toMatchObject({ rows: 7, columns: 3, dtype: 'f32' });
    expect(Array.from(await source.readRows(0, 7))).toEqual(Array.from(values));
    await source.close();
    expect(readFileSync(path).length).toBe(128 + 21 * 4);
  });

  it.skipIf(!numpyAvailable())(
    'writes a file numpy loads with the same values (skipped without numpy)',
    async () => {
      const values = Float32Array.from({ length: 12 }, (_, i) => Math.fround(Math.sqrt(i)));
      const path = join(folder, 'numpy.npy');
      await writeNpy(path, [4, 3], values);
      const loaded = JSON.parse(
        runPython(
          'import numpy, json, sys\na = numpy.load(sys.argv[1])\nprint(json.dumps({"shape": a.shape, "dtype": str(a.dtype), "values": [float(v) for v in a.ravel()]}))',
          [path],
        ),
      ) as { shape: number[]; dtype: string; values: number[] };
      expect(loaded.shape).toEqual([4, 3]);
      expect(loaded.dtype).toBe('float32');
      expect(loaded.values).toEqual(Array.from(values));
    },
  );
});
