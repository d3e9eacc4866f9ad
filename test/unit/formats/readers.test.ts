import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { OpenOptions } from '../../../src/shared/contract';
import { openActivations } from '../../../src/main/formats/open';
import type { ActivationSource } from '../../../src/main/formats/source';
import {
  encodeValues,
  npyBytes,
  npyWithHeaderText,
  numpyAvailable,
  runPython,
  safetensorsBytes,
  toColumnMajor,
  zipBytes,
  type TestDtype,
} from './fixtures';

const ROWS = 37;
const COLUMNS = 5;
const COUNT = ROWS * COLUMNS;

/** Values exactly representable in every float type tested, from f8 E4M3 up. */
const FLOATS = Array.from({ length: COUNT }, (_, i) => (((i * 7) % 23) - 11) * 0.25);
const SIGNED = Array.from({ length: COUNT }, (_, i) => ((i * 7) % 23) - 11);
const UNSIGNED = Array.from({ length: COUNT }, (_, i) => (i * 7) % 23);

function valuesFor(dtype: TestDtype): number[] {
  if (dtype.startsWith('f') || dtype === 'bf16') return FLOATS;
  return dtype.startsWith('u') ? UNSIGNED : SIGNED;
}

let folder: string;

function write(name: string, bytes: Uint8Array): string {
  const path = join(folder, name);
  writeFileSync(path, bytes);
  return path;
}

interface ReaderCase {
  name: string;
  /** Writes the file (or folder) and returns its path. */
  make: () => string;
  options?: OpenOptions;
  format: string;
  dtype: string;
  expected: number[];
  shape?: number[];
}

const NPY_DESCRS: [string, TestDtype, boolean][] = [
  ['<f4', 'f32', true],
  ['>f4', 'f32', false],
  ['<f2', 'f16', true],
  ['>f2', 'f16', false],
  ['<f8', 'f64', true],
  ['>f8', 'f64', false],
  ['|i1', 'i8', true],
  ['|u1', 'u8', true],
  ['<i2', 'i16', true],
  ['>i2', 'i16', false],
  ['<u2', 'u16', true],
  ['<i4', 'i32', true],
  ['<u4', 'u32', true],
  ['<i8', 'i64', true],
  ['<u8', 'u64', true],
];

const SAFETENSORS_DTYPES: [string, TestDtype][] = [
  ['F32', 'f32'],
  ['F16', 'f16'],
  ['BF16', 'bf16'],
  ['F64', 'f64'],
  ['F8_E4M3', 'f8e4m3'],
  ['I8', 'i8'],
  ['U8', 'u8'],
  ['I16', 'i16'],
  ['I32', 'i32'],
  ['I64', 'i64'],
];

const cases: ReaderCase[] = [
  ...NPY_DESCRS.map(([descr, dtype, little]): ReaderCase => ({
    name: `npy ${descr}`,
    make: () =>
      write(
        `m${descr.replace(/[<>|]/, '_')}${little ? 'le' : 'be'}.npy`,
        npyBytes([ROWS, COLUMNS], descr, encodeValues(valuesFor(dtype), dtype, little)),
      ),
    format: 'npy',
    dtype,
    expected: valuesFor(dtype),
  })),
  {
    name: 'npy <V2 read as bfloat16 when asked',
    make: () => write('bf16.npy', npyBytes([ROWS, COLUMNS], '<V2', encodeValues(FLOATS, 'bf16'))),
    options: { dtype: 'bf16' },
    format: 'npy',
    dtype: 'bf16',
    expected: FLOATS,
  },
  {
    name: 'npy <u2 and <i2 holding bfloat16 bits, read as bfloat16 when asked',
    make: () => write('bf16u.npy', npyBytes([ROWS, COLUMNS], '<u2', encodeValues(FLOATS, 'bf16'))),
    options: { dtype: 'bf16' },
    format: 'npy',
    dtype: 'bf16',
    expected: FLOATS,
  },
  {
    name: 'npy float32 in Fortran order',
    make: () =>
      write(
        'fortran32.npy',
        npyBytes(
          [ROWS, COLUMNS],
          '<f4',
          encodeValues(toColumnMajor(FLOATS, ROWS, COLUMNS), 'f32'),
          true,
        ),
      ),
    format: 'npy',
    dtype: 'f32',
    expected: FLOATS,
  },
  {
    name: 'npy float16 in Fortran order',
    make: () =>
      write(
        'fortran16.npy',
        npyBytes(
          [ROWS, COLUMNS],
          '<f2',
          encodeValues(toColumnMajor(FLOATS, ROWS, COLUMNS), 'f16'),
          true,
        ),
      ),
    format: 'npy',
    dtype: 'f16',
    expected: FLOATS,
  },
  {
    name: 'npy version 2.0 header',
    make: () =>
      write(
        'v2.npy',
        npyWithHeaderText(
          `{'descr': '<f4', 'fortran_order': False, 'shape': (${ROWS}, ${COLUMNS}), }`,
          encodeValues(FLOATS, 'f32'),
          2,
        ),
      ),
    format: 'npy',
    dtype: 'f32',
    expected: FLOATS,
  },
  {
    name: 'npy version 3.0 header with UTF-8 and double quotes',
    make: () =>
      write(
        'v3.npy',
        npyWithHeaderText(
          `{"descr": "<f4", "fortran_order": False, "shape": (${ROWS}L, ${COLUMNS}), "note": ` +
            `"été"}`,
          encodeValues(FLOATS, 'f32'),
          3,
        ),
      ),
    format: 'npy',
    dtype: 'f32',
    expected: FLOATS,
  },
  {
    name: 'npy 3-D array flattened to rows of the last axis',
    make: () =>
      write('three.npy', npyBytes([1, ROWS, COLUMNS], '<f4', encodeValues(FLOATS, 'f32'))),
    format: 'npy',
    dtype: 'f32',
    expected: FLOATS,
    shape: [1, ROWS, COLUMNS],
  },
  {
    name: 'npz stored member read in place',
    make: () =>
      write(
        'stored.npz',
        zipBytes([
          {
            name: 'activations.npy',
            data: npyBytes([ROWS, COLUMNS], '<f4', encodeValues(FLOATS, 'f32')),
          },
        ]),
      ),
    format: 'npz',
    dtype: 'f32',
    expected: FLOATS,
  },
  {
    name: 'npz deflated member streamed through inflate',
    make: () =>
      write(
        'deflated.npz',
        zipBytes([
          {
            name: 'x.npy',
            data: npyBytes([ROWS, COLUMNS], '<f2', encodeValues(FLOATS, 'f16')),
            deflate: true,
          },
        ]),
      ),
    format: 'npz',
    dtype: 'f16',
    expected: FLOATS,
  },
  {
    name: 'npz with ZIP64 records and a chosen member',
    make: () =>
      write(
        'zip64.npz',
        zipBytes(
          [
            { name: 'other.npy', data: npyBytes([2, 2], '<f4', encodeValues([1, 2, 3, 4], 'f32')) },
            {
              name: 'acts.npy',
              data: npyBytes([ROWS, COLUMNS], '<f8', encodeValues(FLOATS, 'f64')),
            },
          ],
          true,
        ),
      ),
    options: { member: 'acts' },
    format: 'npz',
    dtype: 'f64',
    expected: FLOATS,
  },
  ...SAFETENSORS_DTYPES.map(([code, dtype]): ReaderCase => ({
    name: `safetensors ${code} beside a 0-d tensor and metadata`,
    make: () =>
      write(
        `t_${code}.safetensors`,
        safetensorsBytes(
          [
            { name: 'step', dtype: 'I64', shape: [], bytes: encodeValues([7], 'i64') },
            { name: 'bias', dtype: 'F32', shape: [3], bytes: encodeValues([1, 2, 3], 'f32') },
            {
              name: 'acts',
              dtype: code,
              shape: [ROWS, COLUMNS],
              bytes: encodeValues(valuesFor(dtype), dtype),
            },
          ],
          { format: 'pt' },
        ),
      ),
    format: 'safetensors',
    dtype,
    expected: valuesFor(dtype),
  })),
  {
    name: 'safetensors tensor chosen by name among several matrices',
    make: () =>
      write(
        'several.safetensors',
        safetensorsBytes([
          { name: 'a', dtype: 'F32', shape: [2, 2], bytes: encodeValues([1, 2, 3, 4], 'f32') },
          { name: 'b', dtype: 'F16', shape: [ROWS, COLUMNS], bytes: encodeValues(FLOATS, 'f16') },
        ]),
      ),
    options: { tensor: 'b' },
    format: 'safetensors',
    dtype: 'f16',
    expected: FLOATS,
  },
  {
    name: 'folder of safetensors shards read as one dataset',
    make: () => {
      const shards = join(folder, 'shards');
      mkdirSync(shards);
      // Rows split 10 / 20 / 7 across shards named so that natural order matters.
      const splits: [string, number, number][] = [
        ['2.safetensors', 0, 10],
        ['10.safetensors', 10, 30],
        ['11.safetensors', 30, 37],
      ];
      for (const [name, first, end] of splits) {
        const part = FLOATS.slice(first * COLUMNS, end * COLUMNS);
        writeFileSync(
          join(shards, name),
          safetensorsBytes([
            {
              name: 'activations',
              dtype: 'BF16',
              shape: [end - first, COLUMNS],
              bytes: encodeValues(part, 'bf16'),
            },
          ]),
        );
      }
      return shards;
    },
    format: 'safetensors-shards',
    dtype: 'bf16',
    expected: FLOATS,
  },
  {
    name: 'raw float32 with a declared shape',
    make: () => write('plain.f32', encodeValues(FLOATS, 'f32')),
    options: { shape: [ROWS, COLUMNS] },
    format: 'raw',
    dtype: 'f32',
    expected: FLOATS,
  },
  {
    name: 'raw float16 with a declared shape and dtype',
    make: () => write('plain.raw', encodeValues(FLOATS, 'f16')),
    options: { shape: [ROWS, COLUMNS], dtype: 'f16' },
    format: 'raw',
    dtype: 'f16',
    expected: FLOATS,
  },
];

async function expectRowsMatch(source: ActivationSource, expected: number[]): Promise<void> {
  const { rows, columns } = source.description;
  expect(Array.from(await source.readRows(0, rows))).toEqual(expected);
  // Partial blocks, a block into a given target, and an empty request.
  expect(Array.from(await source.readRows(3, 11))).toEqual(
    expected.slice(3 * columns, 14 * columns),
  );
  const target = new Float32Array(2 * columns);
  await source.readRows(rows - 2, 2, target);
  expect(Array.from(target)).toEqual(expected.slice((rows - 2) * columns));
  expect((await source.readRows(5, 0)).length).toBe(0);
}

describe('activation readers', () => {
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'basis-readers-'));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it.each(cases.map((entry) => [entry.name, entry] as const))(
    'read the same values from %s',
    async (_, entry) => {
      const source = await openActivations(entry.make(), entry.options);
      try {
        expect(source.description).toMatchObject({
          format: entry.format,
          dtype: entry.dtype,
          rows: ROWS,
          columns: COLUMNS,
          shape: entry.shape ?? [ROWS, COLUMNS],
        });
        await expectRowsMatch(source, entry.expected);
      } finally {
        await source.close();
      }
    },
  );

  it('reads the rows numpy reads from the real stories260K activations', async () => {
    const path = '../shared/data/stories260K/acts_mlp_hidden_L2_16384x172_f32.npy';
    const source = await openActivations(path);
    try {
      expect(source.description).toMatchObject({
        rows: 16384,
        columns: 172,
        dtype: 'f32',
        dataBytes: 16384 * 172 * 4,
      });
      const block = await source.readRows(16000, 384);
      if (!numpyAvailable()) {
        console.warn('numpy is not available: checked shape and finiteness only');
        expect(block.every(Number.isFinite)).toBe(true);
        return;
      }
      const reference = JSON.parse(
        runPython(
          `import numpy, json, sys\na = numpy.load(sys.argv[1], ` +
            `mmap_mode='r')\nprint(json.dumps([float(v) for v in a[16000:16384].ravel()]))`,
          [path],
        ),
      ) as number[];
      expect(Array.from(block)).toEqual(reference);
    } finally {
      await source.close();
    }
  });

  describe('files written by numpy itself', () => {
    const hasNumpy = numpyAvailable();
    it.skipIf(!hasNumpy)(
      'read npy and npz as numpy wrote them (skipped when /usr/bin/python3 lacks numpy)',
      async () => {
        const out = join(folder, 'numpy');
        mkdirSync(out);
        runPython(
          `import numpy as np, sys
out = sys.argv[1]
a = ((np.arange(${COUNT}) * 7 % 23 - 11) * 0.25).reshape(${ROWS}, ${COLUMNS})
np.save(out + '/f4.npy', a.astype('<f4'))
np.save(out + '/f2.npy', a.astype('<f2'))
np.save(out + '/f8be.npy', a.astype('>f8'))
np.save(out + '/fortran.npy', np.asfortranarray(a.astype('<f4')))
np.save(out + '/i2.npy', (a * 4).astype('<i2'))
np.savez(out + '/stored.npz', other=np.zeros(3), acts=a.astype('<f4'))
np.savez_compressed(out + '/compressed.npz', acts=a.astype('<f2'))
np.save(out + '/three.npy', a.astype('<f4').reshape(1, ${ROWS}, ${COLUMNS}))`,
          [out],
        );
        const expectations: [string, OpenOptions, number[]][] = [
          ['f4.npy', {}, FLOATS],
          ['f2.npy', {}, FLOATS],
          ['f8be.npy', {}, FLOATS],
          ['fortran.npy', {}, FLOATS],
          ['i2.npy', {}, FLOATS.map((value) => value * 4)],
          ['stored.npz', { member: 'acts' }, FLOATS],
          ['compressed.npz', {}, FLOATS],
          ['three.npy', {}, FLOATS],
        ];
        for (const [name, options, expected] of expectations) {
          const source = await openActivations(join(out, name), options);
          try {
            expect(source.description.rows, name).toBe(ROWS);
            await expectRowsMatch(source, expected);
          } finally {
            await source.close();
          }
        }
      },
    );
  });
});
