import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { OpenOptions } from '../../../src/shared/contract';
import { BasisError } from '../../../src/shared/errors';
import { openActivations } from '../../../src/main/formats/open';
import {
  concatBytes,
  encodeValues,
  npyBytes,
  npyWithHeaderText,
  safetensorsBytes,
  safetensorsFromHeader,
  zipBytes,
} from './fixtures';

let folder: string;

const f32 = (count: number) =>
  encodeValues(
    Array.from({ length: count }, (_, i) => i),
    'f32',
  );

function npyHeader(fields: string): string {
  return `{${fields}}`;
}

/** .npy with a v1 or v2 preamble whose header length field says `claimed`. */
function npyClaimingHeaderLength(claimed: number, version: number, fileBytes: number): Uint8Array {
  const bytes = new Uint8Array(fileBytes).fill(0x20);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(bytes.buffer);
  if (version === 1) view.setUint16(8, claimed, true);
  else view.setUint32(8, claimed, true);
  return bytes;
}

function safetensorsClaimingHeaderLength(claimed: bigint, fileBytes: number): Uint8Array {
  const bytes = new Uint8Array(fileBytes).fill(0x20);
  new DataView(bytes.buffer).setBigUint64(0, claimed, true);
  bytes[8] = 0x7b;
  return bytes;
}

interface HostileCase {
  name: string;
  file: string;
  bytes: () => Uint8Array;
  options?: OpenOptions;
  /** What the message must say. */
  message: RegExp;
}

const DATA = "'descr': '<f4', 'fortran_order': False";

const cases: HostileCase[] = [
  {
    name: 'an npy header length beyond the end of the file',
    file: 'long-header.npy',
    bytes: () => npyClaimingHeaderLength(60000, 1, 200),
    message: /header claims 60000 bytes but the file holds 190 .*truncated/,
  },
  {
    name: 'an npy header length over 100 MB',
    file: 'huge-header.npy',
    bytes: () => npyClaimingHeaderLength(0xfffffff0, 2, 300),
    message: /more than the 100 MB/,
  },
  {
    name: 'an npy shape of 1e15 rows',
    file: 'absurd.npy',
    bytes: () => npyWithHeaderText(npyHeader(`${DATA}, 'shape': (1000000000000000, 5)`), f32(10)),
    message:
      /1000000000000000 x 5 f32 .* but the file holds 40 bytes after the header: the file is truncated/,
  },
  {
    name: 'an npy extent beyond 2^53',
    file: 'overflow.npy',
    bytes: () =>
      npyWithHeaderText(npyHeader(`${DATA}, 'shape': (100000000000000000000, 5)`), f32(10)),
    message: /invalid extent/,
  },
  {
    name: 'an npy shape whose product overflows',
    file: 'product.npy',
    bytes: () =>
      npyWithHeaderText(npyHeader(`${DATA}, 'shape': (4000000000, 4000000000, 4)`), f32(10)),
    message: /more elements than any file can hold/,
  },
  {
    name: 'an unknown npy element type',
    file: 'complex.npy',
    bytes: () => npyBytes([2, 2], '<c8', new Uint8Array(32)),
    message: /element type '<c8' is not supported.*astype\(numpy.float32\)/,
  },
  {
    name: 'a Python expression in an npy header',
    file: 'evil.npy',
    bytes: () =>
      npyWithHeaderText(
        `{'descr': __import__('os').system('echo hi'), 'fortran_order': False, 'shape': (2, 2)}`,
        f32(4),
      ),
    message: /not a plain dict literal .*never runs them/,
  },
  {
    name: 'an arithmetic expression in an npy shape',
    file: 'arith.npy',
    bytes: () => npyWithHeaderText(npyHeader(`${DATA}, 'shape': (2*2, 2)`), f32(8)),
    message: /not a plain dict literal/,
  },
  {
    name: 'a structured npy dtype',
    file: 'structured.npy',
    bytes: () =>
      npyWithHeaderText(`{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}`, f32(2)),
    message: /structured \(record\) dtype/,
  },
  {
    name: 'an npy header without a shape',
    file: 'noshape.npy',
    bytes: () => npyWithHeaderText(npyHeader(DATA), f32(2)),
    message: /no 'shape' tuple/,
  },
  {
    name: 'a truncated npy body',
    file: 'activations.npy',
    bytes: () => npyBytes([16384, 172], '<f4', new Uint8Array(5_100_000)),
    message:
      /^activations\.npy: header says 16384 x 172 f32 \(11\.3 MB of data\) but the file holds 5\.1 MB after the header: the file is truncated$/,
  },
  {
    name: 'bfloat16 saved as <V2 without saying so',
    file: 'bf16.npy',
    bytes: () => npyBytes([2, 2], '<V2', new Uint8Array(8)),
    message: /bfloat16.*--dtype bf16/,
  },
  {
    name: 'a dtype the file contradicts',
    file: 'floats.npy',
    bytes: () => npyBytes([2, 2], '<f4', f32(4)),
    options: { dtype: 'bf16' },
    message:
      /^floats\.npy: the file records its elements as f32, but dtype bf16 was given; .* f32$/,
  },
  {
    name: 'a 0-d npy array',
    file: 'scalar.npy',
    bytes: () => npyBytes([], '<f4', f32(1)),
    message: /single number \(0-d\)/,
  },
  {
    name: 'an empty npy array',
    file: 'empty.npy',
    bytes: () => npyBytes([0, 5], '<f4', new Uint8Array(0)),
    message: /holds no values/,
  },
  {
    name: 'a 3-D npy array in Fortran order',
    file: 'fortran3.npy',
    bytes: () => npyBytes([2, 2, 2], '<f4', f32(8), true),
    message: /Fortran order .*ascontiguousarray/,
  },
  {
    name: 'an unknown npy version',
    file: 'v9.npy',
    bytes: () => npyClaimingHeaderLength(10, 9, 100),
    message: /version 9\.0 is not known/,
  },
  {
    name: 'a safetensors header over 100 MB',
    file: 'huge.safetensors',
    bytes: () => safetensorsClaimingHeaderLength(200_000_000n, 64),
    message: /over the 100 MB limit/,
  },
  {
    name: 'a safetensors header length of 2^64 - 1',
    file: 'max.safetensors',
    bytes: () => safetensorsClaimingHeaderLength(0xffffffffffffffffn, 64),
    message: /over the 100 MB limit/,
  },
  {
    name: 'a safetensors header beyond the end of the file',
    file: 'short.safetensors',
    bytes: () => safetensorsClaimingHeaderLength(5000n, 64),
    message: /header claims 5\.0 kB but the file holds 56 bytes .*truncated/,
  },
  {
    name: 'safetensors offsets outside the file',
    file: 'outside.safetensors',
    bytes: () =>
      safetensorsFromHeader(
        { x: { dtype: 'F32', shape: [100, 4], data_offsets: [0, 1600] } },
        f32(4),
      ),
    message: /tensor 'x' lies at bytes 0\.\.1600 of a data buffer of 16 bytes.*outside the file/,
  },
  {
    name: 'overlapping safetensors tensors',
    file: 'overlap.safetensors',
    bytes: () =>
      safetensorsFromHeader(
        {
          a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] },
          b: { dtype: 'F32', shape: [2, 2], data_offsets: [8, 24] },
        },
        f32(6),
      ),
    message: /tensors 'a' and 'b' overlap/,
  },
  {
    name: 'a safetensors shape that disagrees with the offsets',
    file: 'mismatch.safetensors',
    bytes: () =>
      safetensorsFromHeader({ x: { dtype: 'F32', shape: [3, 3], data_offsets: [0, 16] } }, f32(4)),
    message: /shape \(3, 3\) F32, which needs 36 bytes, but its offsets span 16/,
  },
  {
    name: 'an unknown safetensors dtype',
    file: 'complex.safetensors',
    bytes: () =>
      safetensorsFromHeader({ x: { dtype: 'C64', shape: [2], data_offsets: [0, 16] } }, f32(4)),
    message: /element type C64, which Basis does not read/,
  },
  {
    name: 'a safetensors header that is not JSON',
    file: 'garbage.safetensors',
    bytes: () =>
      concatBytes(safetensorsClaimingHeaderLength(10n, 8), new TextEncoder().encode('{"a": nope}')),
    message: /not valid UTF-8 JSON/,
  },
  {
    name: 'a safetensors file with several matrices and no tensor chosen',
    file: 'two.safetensors',
    bytes: () =>
      safetensorsBytes([
        { name: 'W_enc', dtype: 'F32', shape: [2, 2], bytes: f32(4) },
        { name: 'W_dec', dtype: 'F32', shape: [2, 2], bytes: f32(4) },
      ]),
    message: /several tensors, W_enc \(2 x 2 F32\), W_dec \(2 x 2 F32\); choose one .*--tensor/,
  },
  {
    name: 'an npz with several members and none chosen',
    file: 'two.npz',
    bytes: () =>
      zipBytes([
        { name: 'a.npy', data: npyBytes([2], '<f4', f32(2)) },
        { name: 'b.npy', data: npyBytes([2], '<f4', f32(2)) },
      ]),
    message: /several arrays \(a, b\); choose one .*--member/,
  },
  {
    name: 'an npz member that does not exist',
    file: 'one.npz',
    bytes: () => zipBytes([{ name: 'a.npy', data: npyBytes([2], '<f4', f32(2)) }]),
    options: { member: 'acts' },
    message: /no member named 'acts'; it holds a/,
  },
  {
    name: 'a truncated npz',
    file: 'cut.npz',
    bytes: () => zipBytes([{ name: 'a.npy', data: npyBytes([2], '<f4', f32(2)) }]).subarray(0, 120),
    message: /no ZIP end-of-directory record .*truncated or damaged/,
  },
  {
    name: 'an npz member larger than the archive',
    file: 'lying.npz',
    bytes: () => {
      const archive = zipBytes([{ name: 'a.npy', data: npyBytes([2], '<f4', f32(2)) }]);
      // Central directory entry: compressed size field (at +20 of the entry).
      const view = new DataView(archive.buffer);
      const directoryOffset = view.getUint32(archive.length - 22 + 16, true);
      view.setUint32(directoryOffset + 20, 1_000_000, true);
      return archive;
    },
    message: /claims 1000000 bytes/,
  },
  {
    name: 'a PyTorch .pt pickle',
    file: 'acts.pt',
    bytes: () => Uint8Array.from([0x80, 0x04, 0x95, 0, 0, 0, 0, 0, 0, 0, 0]),
    message: /pickle file: loading one runs code.*python -c .*save_file.*acts\.safetensors/,
  },
  {
    name: 'a PyTorch zip checkpoint named .pth',
    file: 'model.pth',
    bytes: () => zipBytes([{ name: 'archive/data.pkl', data: new Uint8Array([0x80, 2]) }]),
    message: /pickle file/,
  },
  {
    name: 'a .bin pickle',
    file: 'pytorch_model.bin',
    bytes: () => Uint8Array.from([0x80, 0x02, 0x8a, 0x0a]),
    message: /pickle file/,
  },
  {
    name: 'a raw file without a shape',
    file: 'floats.bin',
    bytes: () => f32(8),
    message: /pickle file.*If it holds raw floats instead, give its shape and dtype/,
  },
  {
    name: 'a raw file whose size disagrees with the declared shape',
    file: 'floats.raw',
    bytes: () => f32(8),
    options: { shape: [3, 3] },
    message: /needs 36 bytes, but the file holds 32 bytes; check --shape and --dtype/,
  },
  {
    name: 'an unrecognised file',
    file: 'notes.txt',
    bytes: () => new TextEncoder().encode('hello'),
    message: /not a recognised activation file/,
  },
];

describe('hostile and damaged activation files', () => {
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'basis-hostile-'));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it.each(cases.map((entry) => [entry.name, entry] as const))(
    'refuse %s with a clear input error',
    async (_, entry) => {
      const path = join(folder, entry.file);
      writeFileSync(path, entry.bytes());
      const error = await openActivations(path, entry.options).then(
        async (source) => {
          await source.close();
          return undefined;
        },
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(BasisError);
      expect((error as BasisError).kind).toBe('input');
      expect((error as BasisError).message).toContain(entry.file);
      expect((error as BasisError).message).toMatch(entry.message);
    },
  );

  it('names a missing path in an input error', async () => {
    const path = join(folder, 'nowhere', 'acts.npy');
    await expect(openActivations(path)).rejects.toMatchObject({
      kind: 'input',
      message: expect.stringContaining(path),
    });
  });

  it('refuses a folder holding no activations', async () => {
    const empty = join(folder, 'empty');
    mkdirSync(empty);
    writeFileSync(join(empty, 'readme.txt'), 'nothing here');
    await expect(openActivations(empty)).rejects.toMatchObject({
      kind: 'input',
      message: expect.stringMatching(
        /neither .safetensors shards nor a Hugging Face datasets folder/,
      ),
    });
  });
});
