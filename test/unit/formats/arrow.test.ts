import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Field,
  FixedSizeList,
  Float16,
  Float32,
  Int32,
  List,
  Table,
  tableToIPC,
  vectorFromArray,
  type DataType,
} from 'apache-arrow';

import { openActivations } from '../../../src/main/formats/open';

const RECORDS = 6;
const CONTEXT = 4;
const COLUMNS = 3;

let folder: string;

/** Record r, position p, column j holds r * 100 + p * 10 + j (exact in float16). */
function records(first: number, count: number): number[][][] {
  return Array.from({ length: count }, (_, r) =>
    Array.from({ length: CONTEXT }, (_, p) =>
      Array.from({ length: COLUMNS }, (_, j) => (first + r) * 100 + p * 10 + j),
    ),
  );
}

function expectedRows(count: number): number[] {
  return records(0, count).flat(2);
}

function nested(kind: 'fixed' | 'variable', element: DataType): DataType {
  const inner =
    kind === 'fixed'
      ? new FixedSizeList(COLUMNS, new Field('item', element))
      : new List(new Field('item', element));
  return kind === 'fixed'
    ? new FixedSizeList(CONTEXT, new Field('item', inner))
    : new List(new Field('item', inner));
}

/** A table of `count` records from `first`, in two record batches. */
function table(kind: 'fixed' | 'variable', element: DataType, first: number, count: number): Table {
  const half = Math.floor(count / 2);
  const part = (from: number, size: number) => {
    const tokens = Array.from({ length: size }, (_, r) =>
      Array.from({ length: CONTEXT }, (_, p) => from + r + p),
    );
    return new Table({
      // A column before the activations shifts the buffer indices the reader must count.
      token_ids: vectorFromArray(
        tokens,
        new FixedSizeList(CONTEXT, new Field('item', new Int32())),
      ),
      activations: vectorFromArray(records(from, size), nested(kind, element)),
    });
  };
  return part(first, half).concat(part(first + half, count - half));
}

describe('Hugging Face datasets and Arrow files', () => {
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'basis-arrow-'));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it.each([
    ['fixed-size lists of float32, stream format', 'fixed', new Float32(), 'stream', 'f32'],
    ['variable lists of float32, file format', 'variable', new Float32(), 'file', 'f32'],
    ['fixed-size lists of float16, stream format', 'fixed', new Float16(), 'stream', 'f16'],
  ] as const)(
    'read (context, d_in) records of %s as rows',
    async (_, kind, element, format, dtype) => {
      const path = join(folder, `${kind}-${dtype}-${format}.arrow`);
      writeFileSync(path, tableToIPC(table(kind, element, 0, RECORDS), format));
      const source = await openActivations(path);
      try {
        expect(source.description).toMatchObject({
          format: 'arrow',
          tensor: 'activations',
          dtype,
          rows: RECORDS * CONTEXT,
          columns: COLUMNS,
          shape: [RECORDS, CONTEXT, COLUMNS],
        });
        expect(Array.from(await source.readRows(0, RECORDS * CONTEXT))).toEqual(
          expectedRows(RECORDS),
        );
        // A block across the record-batch boundary (batches of 3 records = 12 rows).
        expect(Array.from(await source.readRows(10, 5))).toEqual(
          expectedRows(RECORDS).slice(30, 45),
        );
      } finally {
        await source.close();
      }
    },
  );

  it('read a datasets folder in the order its state.json lists the files', async () => {
    const dataset = join(folder, 'dataset');
    mkdirSync(dataset);
    writeFileSync(
      join(dataset, 'data-00001-of-00002.arrow'),
      tableToIPC(table('fixed', new Float32(), 0, 4), 'stream'),
    );
    writeFileSync(
      join(dataset, 'data-00000-of-00002.arrow'),
      tableToIPC(table('fixed', new Float32(), 4, 2), 'stream'),
    );
    writeFileSync(
      join(dataset, 'state.json'),
      JSON.stringify({
        _data_files: [
          { filename: 'data-00001-of-00002.arrow' },
          { filename: 'data-00000-of-00002.arrow' },
        ],
      }),
    );
    writeFileSync(join(dataset, 'dataset_info.json'), '{}');
    const source = await openActivations(dataset);
    try {
      expect(source.description).toMatchObject({ format: 'arrow', rows: 24, columns: COLUMNS });
      expect(Array.from(await source.readRows(0, 24))).toEqual(expectedRows(6));
    } finally {
      await source.close();
    }
  });

  it('refuse an unknown column, listing the columns', async () => {
    const path = join(folder, 'named.arrow');
    writeFileSync(path, tableToIPC(table('fixed', new Float32(), 0, 2), 'stream'));
    await expect(openActivations(path, { tensor: 'hidden' })).rejects.toMatchObject({
      kind: 'input',
      message: expect.stringMatching(/no column named 'hidden'; it holds token_ids .*activations/),
    });
  });

  it('refuse arrays of unequal lengths', async () => {
    const path = join(folder, 'ragged.arrow');
    const ragged = [
      [[1, 2, 3]],
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
    ];
    writeFileSync(
      path,
      tableToIPC(
        new Table({ activations: vectorFromArray(ragged, nested('variable', new Float32())) }),
        'stream',
      ),
    );
    await expect(openActivations(path)).rejects.toMatchObject({
      kind: 'input',
      message: expect.stringMatching(/different lengths/),
    });
  });

  it('refuse huge counts anywhere in the metadata quickly, without decoding them', async () => {
    // Every 32-bit field of the schema and first batch messages set to 2^31 - 1 in turn: a
    // vector length among them once made apache-arrow's decoder loop until out of memory.
    const valid = tableToIPC(table('fixed', new Float32(), 0, RECORDS), 'stream');
    const path = join(folder, 'huge-count.arrow');
    const started = Date.now();
    let refused = 0;
    for (let at = 8; at + 4 <= Math.min(valid.length, 700); at += 4) {
      const bytes = valid.slice();
      new DataView(bytes.buffer).setUint32(at, 0x7fffffff, true);
      writeFileSync(path, bytes);
      try {
        const source = await openActivations(path);
        await source.close();
      } catch (error) {
        expect(error, `field at byte ${at}`).toMatchObject({ kind: 'input' });
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(20);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('refuse a truncated Arrow file', async () => {
    const path = join(folder, 'cut.arrow');
    const bytes = tableToIPC(table('fixed', new Float32(), 0, RECORDS), 'stream');
    writeFileSync(path, bytes.subarray(0, bytes.length - 200));
    await expect(openActivations(path)).rejects.toMatchObject({
      kind: 'input',
      message: expect.stringContaining('cut.arrow'),
    });
  });
});
