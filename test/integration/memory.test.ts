/**
 * Memory during training is bounded by the batch, the dictionary and the loader's fixed
 * read-ahead (two buffers of about 16 MB and its scratch, src/main/formats/batches.ts), not
 * by the data: the same run on 250 000 and on 1 000 000 rows (64 and 256 MB of float32, both
 * larger than the read-ahead) must peak at about the same resident size, and the peak is
 * recorded with the run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/shared/contract';
import { assertBuilt, json, runCli, smallRunFlags } from './cliHarness';

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
