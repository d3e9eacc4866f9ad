/**
 * Mutates valid .npy, .npz, .safetensors and Arrow files (bytes, header text, header JSON fields,
 * lengths) and opens and reads each mutant. Every outcome must be a clean read or a
 * BasisError of kind 'input'; no case may hang, and no buffer allocated by the readers may
 * exceed the file's size (deflated members: what the compressed bytes can inflate to).
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Field,
  FixedSizeList,
  Float32,
  Int32,
  Table,
  tableToIPC,
  vectorFromArray,
} from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { OpenOptions } from '../../src/shared/contract';
import { BasisError } from '../../src/shared/errors';
import { Random } from '../../src/shared/random';
import { allocationProbe } from '../../src/main/formats/fileAccess';
import { openActivations } from '../../src/main/formats/open';
import { allocateRowBuffer } from '../../src/main/formats/rowBuffer';
import { encodeValues, npyBytes, safetensorsBytes, zipBytes } from '../unit/formats/fixtures';

/** BASIS_FUZZ_SEED and BASIS_FUZZ_CASES explore further by hand; the defaults fit CI. */
const SEED = Number(process.env.BASIS_FUZZ_SEED ?? 20261204);
const MAX_CASES = Number(process.env.BASIS_FUZZ_CASES ?? 6000);
const TIME_BUDGET_MS = process.env.BASIS_FUZZ_CASES ? Infinity : 12_000;
const TEST_TIMEOUT_MS = process.env.BASIS_FUZZ_CASES ? 600_000 : 60_000;
const MIN_CASES = 1000;
const CASE_TIMEOUT_MS = 3000;
/** Deflate never expands more than about 1032 to 1. */
const DEFLATE_RATIO = 1100;

interface Seed {
  name: string;
  extension: string;
  bytes: Uint8Array;
  options: OpenOptions;
  deflated: boolean;
}

/** A Hugging Face style table: token ids, then (4, 3) float32 arrays per record. */
function arrowBytes(format: 'stream' | 'file'): Uint8Array {
  const records = Array.from({ length: 6 }, (_, r) =>
    Array.from({ length: 4 }, (_, p) => [r, p, r - p]),
  );
  const table = new Table({
    token_ids: vectorFromArray(
      records.map((_, r) => [r, r + 1, r + 2, r + 3]),
      new FixedSizeList(4, new Field('item', new Int32())),
    ),
    activations: vectorFromArray(
      records,
      new FixedSizeList(
        4,
        new Field('item', new FixedSizeList(3, new Field('item', new Float32()))),
      ),
    ),
  });
  return tableToIPC(table, format);
}

const values = (count: number) => Array.from({ length: count }, (_, i) => ((i % 17) - 8) * 0.5);

const seeds: Seed[] = [
  {
    name: 'npy f4',
    extension: '.npy',
    bytes: npyBytes([40, 6], '<f4', encodeValues(values(240), 'f32')),
    options: {},
    deflated: false,
  },
  {
    name: 'npy f2 fortran',
    extension: '.npy',
    bytes: npyBytes([20, 3], '<f2', encodeValues(values(60), 'f16'), true),
    options: {},
    deflated: false,
  },
  {
    name: 'npy bf16',
    extension: '.npy',
    bytes: npyBytes([2, 5, 4], '<V2', encodeValues(values(40), 'bf16')),
    options: { dtype: 'bf16' },
    deflated: false,
  },
  {
    name: 'npz stored',
    extension: '.npz',
    bytes: zipBytes([
      { name: 'a.npy', data: npyBytes([10, 4], '<f4', encodeValues(values(40), 'f32')) },
      { name: 'b.npy', data: npyBytes([8, 2], '<f8', encodeValues(values(16), 'f64')) },
    ]),
    options: { member: 'a' },
    deflated: false,
  },
  {
    name: 'npz zip64 deflated',
    extension: '.npz',
    bytes: zipBytes(
      [
        {
          name: 'x.npy',
          data: npyBytes([30, 5], '<f4', encodeValues(values(150), 'f32')),
          deflate: true,
        },
      ],
      true,
    ),
    options: {},
    deflated: true,
  },
  {
    name: 'safetensors',
    extension: '.safetensors',
    bytes: safetensorsBytes(
      [
        { name: 'step', dtype: 'I64', shape: [], bytes: encodeValues([3], 'i64') },
        { name: 'acts', dtype: 'BF16', shape: [16, 8], bytes: encodeValues(values(128), 'bf16') },
        { name: 'bias', dtype: 'F32', shape: [8], bytes: encodeValues(values(8), 'f32') },
      ],
      { note: 'x' },
    ),
    options: {},
    deflated: false,
  },
  {
    name: 'arrow stream',
    extension: '.arrow',
    bytes: arrowBytes('stream'),
    options: {},
    deflated: false,
  },
  {
    name: 'arrow file',
    extension: '.arrow',
    bytes: arrowBytes('file'),
    options: {},
    deflated: false,
  },
];

const INTERESTING_BYTES = [0x00, 0xff, 0x7f, 0x80, 0x20, 0x0a, 0x27, 0x28, 0x29, 0x2c, 0x39];
const INTERESTING_NUMBERS = [
  0,
  1,
  -1,
  7,
  255,
  65535,
  2 ** 31,
  2 ** 32 + 1,
  2 ** 53,
  1e15,
  1e20,
  0.5,
];

/** One mutation of `bytes`, chosen by `random`. */
function mutate(seed: Seed, random: Random): Uint8Array {
  const bytes = seed.bytes.slice();
  // Arrow metadata (schema and batch messages) spans the first several hundred bytes.
  const headerEnd = Math.min(bytes.length, seed.extension === '.arrow' ? 700 : 160);
  const position = () =>
    random.uniform() < 0.7 ? random.integer(headerEnd) : random.integer(bytes.length);
  switch (random.integer(7)) {
    case 0: {
      for (let k = 1 + random.integer(8); k > 0; k--) {
        const at = position();
        bytes[at] = bytes[at]! ^ (1 << random.integer(8));
      }
      return bytes;
    }
    case 1: {
      for (let k = 1 + random.integer(4); k > 0; k--) {
        bytes[position()] = INTERESTING_BYTES[random.integer(INTERESTING_BYTES.length)]!;
      }
      return bytes;
    }
    case 2:
      return bytes.subarray(0, random.integer(bytes.length));
    case 3: {
      const extra = Uint8Array.from({ length: 1 + random.integer(300) }, () => random.integer(256));
      const grown = new Uint8Array(bytes.length + extra.length);
      grown.set(bytes);
      grown.set(extra, bytes.length);
      return grown;
    }
    case 4: {
      // A 32- or 64-bit little-endian field set to an interesting number.
      const at = position();
      const view = new DataView(bytes.buffer);
      const value = INTERESTING_NUMBERS[random.integer(INTERESTING_NUMBERS.length)]!;
      if (at + 8 <= bytes.length && random.uniform() < 0.5) {
        view.setBigUint64(at, BigInt(Math.floor(Math.min(value, 2 ** 63))), true);
      } else if (at + 4 <= bytes.length) {
        view.setUint32(at, Math.floor(value) >>> 0, true);
      }
      return bytes;
    }
    case 5:
      return mutateText(bytes, random);
    default:
      return seed.extension === '.safetensors'
        ? mutateSafetensorsJson(bytes, random)
        : mutateText(bytes, random);
  }
}

/** Replaces a run of digits in the header text by an interesting number. */
function mutateText(bytes: Uint8Array, random: Random): Uint8Array {
  const text = new TextDecoder('latin1').decode(bytes.subarray(0, Math.min(bytes.length, 400)));
  const runs = [...text.matchAll(/\d+/g)];
  if (runs.length === 0) return bytes;
  const run = runs[random.integer(runs.length)]!;
  const replacement = String(INTERESTING_NUMBERS[random.integer(INTERESTING_NUMBERS.length)]);
  const before = bytes.subarray(0, run.index);
  const after = bytes.subarray(run.index + run[0].length);
  const middle = new TextEncoder().encode(replacement);
  const result = new Uint8Array(before.length + middle.length + after.length);
  result.set(before);
  result.set(middle, before.length);
  result.set(after, before.length + middle.length);
  return result;
}

/**
 * Sets one field of the safetensors header JSON to a hostile value, keeping the length field
 * right.
 */
function mutateSafetensorsJson(bytes: Uint8Array, random: Random): Uint8Array {
  const length = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))) as Record<
    string,
    Record<string, unknown>
  >;
  const names = Object.keys(header).filter((name) => name !== '__metadata__');
  const entry = header[names[random.integer(names.length)]!]!;
  const hostile: unknown[] = [
    -1,
    0,
    2 ** 53,
    1e20,
    'x',
    null,
    [],
    [1, 2, 3],
    [2 ** 40, 2 ** 40],
    [0, 2 ** 60],
    { a: 1 },
    'F16',
    'Q8',
  ];
  const field = ['dtype', 'shape', 'data_offsets'][random.integer(3)]!;
  const value = hostile[random.integer(hostile.length)];
  if (Array.isArray(entry[field]) && random.uniform() < 0.5) {
    const list = [...(entry[field] as unknown[])];
    list[random.integer(Math.max(1, list.length))] =
      INTERESTING_NUMBERS[random.integer(INTERESTING_NUMBERS.length)];
    entry[field] = list;
  } else {
    entry[field] = value;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const result = new Uint8Array(8 + json.length + bytes.length - 8 - length);
  new DataView(result.buffer).setBigUint64(0, BigInt(json.length), true);
  result.set(json, 8);
  result.set(bytes.subarray(8 + length), 8 + json.length);
  return result;
}

/**
 * Opens the file and reads its first, last and a middle block of rows, the last into a row
 * buffer (16-bit floats are widened in place there, on helper threads).
 */
async function exercise(path: string, options: OpenOptions): Promise<void> {
  const source = await openActivations(path, options);
  try {
    const { rows, columns } = source.description;
    const block = Math.min(rows, 7);
    await source.readRows(0, block);
    await source.readRows(rows - block, block, allocateRowBuffer(block * columns));
    await source.readRows(Math.floor(rows / 2), Math.min(1, rows - Math.floor(rows / 2)));
  } finally {
    await source.close();
  }
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`hang: ${what} took over ${CASE_TIMEOUT_MS} ms`)),
      CASE_TIMEOUT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

let folder: string;

describe('format fuzzing', () => {
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'basis-fuzz-'));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it(
    'opens every mutant cleanly or refuses it with an input error, never over-allocating',
    async () => {
      const random = new Random(SEED);
      const started = Date.now();
      const outcomes = { read: 0, refused: 0 };
      let cases = 0;
      while (cases < MAX_CASES && (cases < MIN_CASES || Date.now() - started < TIME_BUDGET_MS)) {
        const seed = seeds[cases % seeds.length]!;
        const mutant = mutate(seed, random);
        const path = join(folder, `case${seed.extension}`);
        writeFileSync(path, mutant);
        const what = `case ${cases} (${seed.name}, ${mutant.length} bytes)`;

        allocationProbe.reset();
        try {
          await withTimeout(exercise(path, seed.options), what);
          outcomes.read++;
        } catch (error) {
          if (!(error instanceof BasisError) || error.kind !== 'input') {
            writeFileSync(join(tmpdir(), 'basis-fuzz-failure.bin'), mutant);
            throw new Error(`${what}: ${String(error)} (mutant saved as basis-fuzz-failure.bin)`, {
              cause: error,
            });
          }
          expect(error.message.length, what).toBeGreaterThan(10);
          outcomes.refused++;
        }
        const size = statSync(path).size;
        const bound = seed.deflated ? DEFLATE_RATIO * size : size;
        expect(
          allocationProbe.largestBytes,
          `${what}: allocation beyond the file size`,
        ).toBeLessThanOrEqual(bound);
        cases++;
      }
      console.log(
        `format fuzzing: ${cases} cases in ${Date.now() - started} ms, ${outcomes.read} read, ` +
          `${outcomes.refused} refused`,
      );
      expect(cases).toBeGreaterThanOrEqual(MIN_CASES);
      // The mutations must reach both outcomes, or they test nothing.
      expect(outcomes.read).toBeGreaterThan(50);
      expect(outcomes.refused).toBeGreaterThan(50);
    },
    TEST_TIMEOUT_MS,
  );
});
