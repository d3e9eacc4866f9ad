/**
 * Memory during training is bounded by the batch, the dictionary and the loader's fixed
 * read-ahead (two buffers of about 16 MB and its scratch, src/main/formats/batches.ts), not
 * by the data: the same run on 250 000 and on 1 000 000 rows (64 and 256 MB of float32, both
 * larger than the read-ahead) must peak at about the same resident size, and the peak is
 * recorded with the run. Under a virtual-memory limit (common on shared clusters), where
 * WebAssembly memories cannot all be reserved, float16 data still trains: the loader falls
 * back to plain arrays and scalar conversion.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/shared/contract';
import { Random } from '../../src/shared/random';
import { encodeValues, npyBytes } from '../unit/formats/fixtures';
import { assertBuilt, BIN, json, ROOT, runCli, smallRunFlags } from './cliHarness';

const DIMENSIONS = 64;
const ROW_COUNTS = [250_000, 1_000_000];
/** Allowed growth of the peak from the smaller to the larger file (192 MB more data). */
const GROWTH_BYTES = 10e6;

let folder: string;
let database: string;
let files: string[];

async function generate(rows: number): Promise<string> {
  const path = join(folder, `planted-${rows}.npy`);
  const generated = await runCli(
    [
      'generate',
      '--out',
      path,
      '--dimensions',
      String(DIMENSIONS),
      '--features',
      '128',
      '--rows',
      String(rows),
    ],
    database,
  );
  expect(generated.code).toBe(0);
  return path;
}

beforeAll(async () => {
  assertBuilt();
  folder = mkdtempSync(join(tmpdir(), 'basis-memory-'));
  database = join(folder, 'basis.sqlite');
  files = [];
  for (const rows of ROW_COUNTS) files.push(await generate(rows));
});

afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('memory during training', () => {
  for (const method of ['sae-topk', 'ica']) {
    it(`${method}: the peak does not grow with the number of rows`, async () => {
      const peaks: number[] = [];
      for (const data of files) {
        const flags = smallRunFlags({
          method,
          features: 128,
          k: method === 'ica' ? undefined : 8,
          steps: 60,
          batch: 256,
        });
        const run = json<RunSummary>(await runCli(['train', data, ...flags, '--json'], database));
        expect(run.status).toBe('completed');
        expect(run.peakMemoryBytes).toBeGreaterThan(20e6);
        peaks.push(run.peakMemoryBytes!);
      }
      expect(peaks[1]! - peaks[0]!).toBeLessThan(GROWTH_BYTES);
    });
  }
});

describe('under a virtual-memory limit', () => {
  it('trains on float16 data as on float32 (16 GB of address space)', () => {
    const rows = 4096;
    const random = new Random(5);
    const values = Float32Array.from({ length: rows * DIMENSIONS }, () => random.laplacian(1));
    const path = join(folder, 'limited-f16.npy');
    writeFileSync(path, npyBytes([rows, DIMENSIONS], '<f2', encodeValues(values, 'f16')));
    const flags = smallRunFlags({ method: 'sae-topk', features: 128, k: 8, steps: 30 });
    // ulimit -v takes KiB; each WebAssembly memory reserves about 10 GB of address space.
    const command = `ulimit -v 16000000 && exec "$0" "$@"`;
    const result = spawnSync(
      'sh',
      ['-c', command, process.execPath, BIN, 'train', path, ...flags, '--json', '--db', database],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, BASIS_LOG: 'warn' } },
    );
    expect(result.status, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as RunSummary).status).toBe('completed');
  });
});
