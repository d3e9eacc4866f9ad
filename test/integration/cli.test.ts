/**
 * The CLI end to end through the built bundle, on small generated data: inspect, train
 * (ICA and a TopK SAE, briefly), runs, show, export, compare, and the errors a user meets.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatasetInfo, DictionaryComparison, RunSummary } from '../../src/shared/contract';
import { assertBuilt, json, runCli, smallRunFlags } from './cliHarness';

let folder: string;
let database: string;
let data: string;

beforeAll(async () => {
  assertBuilt();
  folder = mkdtempSync(join(tmpdir(), 'basis-cli-'));
  database = join(folder, 'basis.sqlite');
  data = join(folder, 'planted.npy');
  const generated = await runCli(
    [
      'generate',
      '--out',
      data,
      '--dimensions',
      '16',
      '--features',
      '24',
      '--active',
      '3',
      '--rows',
      '3000',
      '--seed',
      '4',
    ],
    database,
  );
  expect(generated.code).toBe(0);
  // Labels: one line per row.
  writeFileSync(
    join(folder, 'labels.txt'),
    Array.from({ length: 3000 }, (_, row) => `token ${row}`).join('\n') + '\n',
  );
});

afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
});

describe('basis CLI', () => {
  let icaRun: RunSummary;
  let saeRun: RunSummary;

  it('generate writes the data and a sidecar with the true features', () => {
    const truth = JSON.parse(readFileSync(join(folder, 'planted.json'), 'utf8')) as {
      parameters: { dimensions: number; features: number };
      features: number[][];
    };
    expect(truth.parameters).toMatchObject({ dimensions: 16, features: 24 });
    expect(truth.features).toHaveLength(24);
    expect(truth.features[0]).toHaveLength(16);
  });

  it('inspect shows shape, dtype and statistics', async () => {
    const info = json<DatasetInfo>(
      await runCli(['inspect', data, '--labels', join(folder, 'labels.txt'), '--json'], database),
    );
    expect(info).toMatchObject({ rows: 3000, columns: 16, dtype: 'f32', format: 'npy' });
    expect(info.statistics.mean).toHaveLength(16);
    expect(info.statistics.nonfiniteRows).toBe(0);
    const text = await runCli(['inspect', data], database);
    expect(text.stdout).toMatch(/3000 rows x 16 columns/);
  });

  it('train ica and sae-topk complete with metrics and features', async () => {
    icaRun = json<RunSummary>(
      await runCli(
        [
          'train',
          data,
          '--labels',
          join(folder, 'labels.txt'),
          '--method',
          'ica',
          '--features',
          '24',
          '--steps',
          '30',
          '--batch',
          '128',
          '--eval-rows',
          '300',
          '--json',
        ],
        database,
      ),
    );
    expect(icaRun.status).toBe('completed');
    expect(icaRun.step).toBe(30);
    expect(icaRun.metrics!.evaluationRows).toBe(300);
    expect(icaRun.metrics!.explainedVariance).toBeGreaterThan(0);
    expect(icaRun.metrics!.kktResidual).not.toBeNull();

    saeRun = json<RunSummary>(
      await runCli(
        ['train', data, ...smallRunFlags({ steps: 40, batch: 128, 'eval-rows': 300 }), '--json'],
        database,
      ),
    );
    expect(saeRun.status).toBe('completed');
    expect(saeRun.metrics!.l0).toBeLessThanOrEqual(4);
    expect(saeRun.metrics!.bitsPerDimension).not.toBeNull();
  });

  it('runs lists both runs', async () => {
    const runs = json<RunSummary[]>(await runCli(['runs', '--json'], database));
    expect(runs.map((run) => run.method)).toEqual(['ica', 'sae-topk']);
    const text = await runCli(['runs'], database);
    expect(text.stdout).toMatch(/completed/);
  });

  it('show lists features with density, Laplace fit and labelled top rows', async () => {
    const text = await runCli(
      ['show', String(icaRun.id), '--sort', 'kurtosis', '--limit', '5'],
      database,
    );
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/density/);
    expect(text.stdout).toMatch(/two-sided/);
    expect(text.stdout).toMatch(/token \d+/);
    const feature = json<{
      index: number;
      laplace: { kind: string };
      topExamples: { label: string }[];
      atom: number[];
    }>(await runCli(['show', String(icaRun.id), '--feature', '0', '--json'], database));
    expect(feature.index).toBe(0);
    expect(feature.atom).toHaveLength(16);
    expect(feature.topExamples[0]?.label).toMatch(/^token \d+$/);
  });

  it('export writes the atoms as .npy and a SAELens folder', async () => {
    const npy = join(folder, 'atoms.npy');
    expect(
      (await runCli(['export', String(icaRun.id), '--format', 'npy', '--out', npy], database)).code,
    ).toBe(0);
    const header = readFileSync(npy).subarray(0, 128).toString('latin1');
    // Columns are atoms: (dimensions, features), the layout of A in x = A s.
    expect(header).toMatch(/'shape': \(16, 24\)/);

    const saelens = join(folder, 'sae');
    const exported = await runCli(
      ['export', String(saeRun.id), '--format', 'saelens', '--out', saelens],
      database,
    );
    expect(exported.code).toBe(0);
    expect(existsSync(join(saelens, 'cfg.json'))).toBe(true);
    expect(existsSync(join(saelens, 'sae_weights.safetensors'))).toBe(true);
    const config = JSON.parse(readFileSync(join(saelens, 'cfg.json'), 'utf8')) as {
      d_in: number;
      d_sae: number;
    };
    expect(config).toMatchObject({ d_in: 16, d_sae: 32 });

    const csv = join(folder, 'features.csv');
    expect(
      (await runCli(['export', String(saeRun.id), '--format', 'csv', '--out', csv], database)).code,
    ).toBe(0);
    expect(readFileSync(csv, 'utf8').trim().split('\n')).toHaveLength(33);
  });

  it('import brings an exported SAELens folder back as an analysed run', async () => {
    const imported = json<RunSummary>(
      await runCli(['import', join(folder, 'sae'), '--dataset', data, '--json'], database),
    );
    expect(imported).toMatchObject({ status: 'completed', method: 'sae-topk' });
    expect(imported.config.features).toBe(32);
    expect(imported.metrics!.l0).toBeLessThanOrEqual(4);
    expect((await runCli(['delete', String(imported.id), '--yes'], database)).code).toBe(0);
  });

  it('compare matches the two dictionaries', async () => {
    const comparison = json<DictionaryComparison>(
      await runCli(['compare', String(icaRun.id), String(saeRun.id), '--json'], database),
    );
    expect(comparison.runA).toBe(icaRun.id);
    expect(comparison.bestCosineHistogram.counts.reduce((sum, count) => sum + count, 0)).toBe(24);
    expect(comparison.meanBestCosine).toBeGreaterThan(0);
  });

  it('delete refuses without --yes when not on a terminal, and deletes with it', async () => {
    const refused = await runCli(['delete', String(saeRun.id)], database);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^basis: .*--yes\n$/);
    expect((await runCli(['delete', String(saeRun.id), '--yes'], database)).code).toBe(0);
    const missing = await runCli(['show', String(saeRun.id)], database);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^basis: no run \d+/);
  });
});

describe('basis CLI errors', () => {
  /** One line on stderr starting with "basis: ", exit code 2. */
  function expectInputError(
    result: { code: number | null; stderr: string },
    pattern: RegExp,
  ): void {
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n').filter((line) => line !== '')).toHaveLength(1);
    expect(result.stderr).toMatch(/^basis: /);
    expect(result.stderr).toMatch(pattern);
  }

  it('a missing file', async () => {
    expectInputError(await runCli(['inspect', join(folder, 'nope.npy')], database), /nope\.npy/);
  });

  it('a truncated .npy', async () => {
    const bytes = readFileSync(data);
    const truncated = join(folder, 'truncated.npy');
    writeFileSync(truncated, bytes.subarray(0, bytes.length - 1000));
    expectInputError(await runCli(['inspect', truncated], database), /truncated/);
  });

  it('a malformed file', async () => {
    const malformed = join(folder, 'malformed.npy');
    writeFileSync(
      malformed,
      Buffer.concat([
        Buffer.from('\x93NUMPY\x01\x00\x10\x00', 'latin1'),
        Buffer.from('{not a dict}    \n'),
      ]),
    );
    expectInputError(await runCli(['inspect', malformed], database), /malformed\.npy/);
  });

  it('rows holding NaN', async () => {
    const bytes = Buffer.from(readFileSync(data));
    const headerLength = bytes.readUInt16LE(8);
    // Row 5, column 3 becomes NaN.
    bytes.writeFloatLE(Number.NaN, 10 + headerLength + (5 * 16 + 3) * 4);
    const withNan = join(folder, 'nan.npy');
    writeFileSync(withNan, bytes);
    expectInputError(
      await runCli(
        ['train', withNan, '--method', 'sae-topk', '--features', '32', '--k', '4', '--steps', '5'],
        database,
      ),
      /NaN.*row 5/,
    );
    // With --skip-nonfinite the row is dropped and the run completes.
    const skipped = json<RunSummary>(
      await runCli(
        [
          'train',
          withNan,
          '--method',
          'sae-topk',
          '--features',
          '32',
          '--k',
          '4',
          '--steps',
          '5',
          '--eval-rows',
          '200',
          '--skip-nonfinite',
          '--json',
        ],
        database,
      ),
    );
    expect(skipped.status).toBe('completed');
    expect(skipped.metrics!.evaluationRows).toBeLessThanOrEqual(200);
  });

  it('an unknown flag, a missing --method and an unknown command', async () => {
    expectInputError(await runCli(['runs', '--colour'], database), /colour/);
    expectInputError(await runCli(['train', data], database), /--method is required/);
    expectInputError(await runCli(['frobnicate'], database), /unknown command/);
    expectInputError(
      await runCli(['train', data, '--method', 'ica', '--k', '3'], database),
      /--k applies to/,
    );
  });
});
