/** Atomic writes, the .npy dictionary and the feature CSV. */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { explain, writeFileAtomic, writeFolderAtomic } from '../../../src/main/export/atomicWrite';
import {
  FEATURE_CSV_COLUMNS,
  exportFeaturesCsv,
  featuresCsv,
} from '../../../src/main/export/featuresCsv';
import { exportNpyDictionary } from '../../../src/main/export/npyDictionary';
import type { FeatureSummary } from '../../../src/shared/contract';
import { readFloat32Npy } from '../../support/npy';

let folder: string;
beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), 'basis-export-'));
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function leftovers(): string[] {
  return readdirSync(folder).filter((name) => name.includes('.partial'));
}

describe('atomic writes', () => {
  test('write a file and a folder whole', async () => {
    await writeFileAtomic(join(folder, 'a.txt'), 'hello');
    expect(readFileSync(join(folder, 'a.txt'), 'utf8')).toBe('hello');
    await writeFolderAtomic(join(folder, 'f'), { 'x.bin': Uint8Array.of(1, 2), 'y.txt': 'y' });
    expect(readdirSync(join(folder, 'f')).sort()).toEqual(['x.bin', 'y.txt']);
    expect([...readFileSync(join(folder, 'f', 'x.bin'))]).toEqual([1, 2]);
    expect(leftovers()).toEqual([]);
  });

  test('refuse an existing target, say so and suggest another path', async () => {
    writeFileSync(join(folder, 'taken.npy'), 'old');
    await expect(writeFileAtomic(join(folder, 'taken.npy'), 'new')).rejects.toThrow(
      /taken\.npy exists already: choose another path \(for example .*taken-2\.npy\)/,
    );
    expect(readFileSync(join(folder, 'taken.npy'), 'utf8')).toBe('old');
    mkdirSync(join(folder, 'taken-folder'));
    await expect(writeFolderAtomic(join(folder, 'taken-folder'), { a: 'a' })).rejects.toThrow(
      /exists already/,
    );
    expect(leftovers()).toEqual([]);
  });

  test('a missing folder or a file in the path is an io error that says what to do', async () => {
    await expect(writeFileAtomic(join(folder, 'no', 'such', 'x.npy'), 'x')).rejects.toMatchObject({
      kind: 'io',
      message: expect.stringMatching(/folder .*no[/\\]such does not exist; create it/),
    });
    writeFileSync(join(folder, 'plain'), 'x');
    await expect(writeFolderAtomic(join(folder, 'plain', 'sub'), { a: 'a' })).rejects.toMatchObject(
      {
        kind: 'io',
        message: expect.stringMatching(/is a file, not a folder/),
      },
    );
    expect(leftovers()).toEqual([]);
  });

  test('a failure half-way through a folder leaves nothing behind', async () => {
    // A file name with a slash cannot be created inside the temporary folder.
    await expect(
      writeFolderAtomic(join(folder, 'half'), { good: 'a', 'missing/bad': 'b' }),
    ).rejects.toThrow();
    expect(readdirSync(folder).filter((name) => name.includes('half'))).toEqual([]);
  });

  test('full disk and permission errors are explained', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    expect(explain(enospc, '/data/out.npy')).toMatchObject({
      kind: 'io',
      message: expect.stringMatching(
        /the disk is full.*free some space or choose a folder on another disk/,
      ),
    });
    const eacces = Object.assign(new Error('EACCES'), { code: 'EACCES' });
    expect(explain(eacces, '/data/out.npy').message).toMatch(
      /permission denied in \/data; choose a folder you can write to/,
    );
    const other = new Error('strange');
    expect(explain(other, '/x')).toBe(other);
  });
});

describe('npy dictionary', () => {
  test('writes dimensions x features float32 with atoms as columns', async () => {
    // Two atoms in three dimensions: (1, 2, 3) and (4, 5, 6).
    const path = join(folder, 'dictionary.npy');
    await exportNpyDictionary(path, Float32Array.of(1, 2, 3, 4, 5, 6), 2, 3);
    const read = readFloat32Npy(path);
    expect([read.rows, read.columns]).toEqual([3, 2]);
    expect(Array.from(read.data)).toEqual([1, 4, 2, 5, 3, 6]);
    const header = readFileSync(path).subarray(0, 128).toString('latin1');
    expect(header).toContain("'descr': '<f4', 'fortran_order': False, 'shape': (3, 2)");
  });

  test('refuses values that do not match the shape, and an existing file', async () => {
    await expect(
      exportNpyDictionary(join(folder, 'short.npy'), new Float32Array(5), 2, 3),
    ).rejects.toThrow(/needs 6 values, got 5/);
    await expect(
      exportNpyDictionary(join(folder, 'dictionary.npy'), new Float32Array(6), 2, 3),
    ).rejects.toThrow(/exists already/);
  });
});

describe('feature CSV', () => {
  const feature = (index: number, kurtosis: number): FeatureSummary => ({
    index,
    density: 0.25,
    mean: 1.5,
    max: 7,
    kurtosis,
    atomNorm: 1,
    laplace: {
      kind: 'one-sided',
      location: 0,
      scale: 1.5,
      ksDistance: 0.125,
      logLikelihoodRatio: -0.5,
    },
  });

  test('one header and one line per feature, NaN spelled out', async () => {
    const text = featuresCsv([feature(0, 3.5), feature(1, NaN)]);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe(FEATURE_CSV_COLUMNS.join(','));
    expect(lines[1]).toBe('0,0.25,1.5,7,3.5,1,one-sided,0,1.5,0.125,-0.5');
    expect(lines[2]).toBe('1,0.25,1.5,7,NaN,1,one-sided,0,1.5,0.125,-0.5');
    const path = join(folder, 'features.csv');
    await exportFeaturesCsv(path, [feature(0, 3.5)]);
    expect(readFileSync(path, 'utf8').split('\n')).toHaveLength(3);
  });

  test('no features gives only the header', () => {
    expect(featuresCsv([])).toBe(FEATURE_CSV_COLUMNS.join(',') + '\n');
  });
});
