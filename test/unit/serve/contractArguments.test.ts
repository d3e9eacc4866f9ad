import { describe, expect, it } from 'vitest';
import { API_METHOD_NAMES, type ApiMethodName } from '../../../src/shared/contract';
import {
  MAX_PATH_LENGTH,
  MAX_RECONSTRUCTION_ROWS,
  parseArguments,
} from '../../../src/shared/contractArguments';
import { BasisError } from '../../../src/shared/errors';

/** A valid argument list for every method, so each schema is exercised at least once. */
const VALID: Record<ApiMethodName, unknown[]> = {
  openDataset: ['/data/acts.npy', { labels: '/data/labels.tsv', imageShape: [8, 8] }],
  listDatasets: [],
  previewLabels: [1, 0, 20],
  openSample: [],
  defaultConfig: [1, 'sae-topk'],
  startRun: [{ datasetId: 1, config: { method: 'ica', alpha: 0.1, steps: 50 } }],
  cancelRun: [3],
  resumeRun: [3],
  deleteRun: [3],
  listRuns: [],
  getRun: [3],
  getProgress: [3],
  getSteps: [3],
  listFeatures: [3],
  getFeature: [3, 0],
  getReconstructions: [3, [0, 5, 9]],
  compareRuns: [3, 4],
  importDictionary: ['/models/sae', 2],
  exportRun: [3, 'saelens', '/tmp/out'],
};

function inputErrorOf(call: () => unknown): BasisError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(BasisError);
    expect((error as BasisError).kind).toBe('input');
    return error as BasisError;
  }
  throw new Error('expected an input error, got none');
}

describe('contract argument schemas', () => {
  it('accepts a valid call of every method and returns its arguments', () => {
    for (const method of API_METHOD_NAMES) {
      const parsed = parseArguments(method, VALID[method]);
      expect(parsed.length).toBeLessThanOrEqual(VALID[method].length);
      expect(parsed).toEqual(VALID[method]);
    }
  });

  it('refuses an unknown method and a non-array argument list', () => {
    expect(inputErrorOf(() => parseArguments('dropTables' as ApiMethodName, [])).message).toMatch(
      /unknown API method "dropTables"/,
    );
    expect(inputErrorOf(() => parseArguments('getRun', { 0: 1 })).message).toMatch(
      /getRun: arguments must be an array/,
    );
  });

  it('refuses extra arguments', () => {
    expect(inputErrorOf(() => parseArguments('listRuns', [1])).message).toMatch(
      /listRuns takes 0 argument/,
    );
  });

  it('names the method and the argument at fault', () => {
    const error = inputErrorOf(() => parseArguments('getFeature', [3, -1]));
    expect(error.message).toMatch(/getFeature argument 2 \(feature\) must be at least 0/);
    expect(inputErrorOf(() => parseArguments('getRun', [])).message).toMatch(
      /getRun argument 1 \(runId\) must be a finite number, got nothing/,
    );
  });

  it('refuses ids that are not positive whole numbers, NaN included', () => {
    for (const bad of [0, -3, 1.5, Number.NaN, Infinity, null, 'x', [1], 2 ** 60]) {
      inputErrorOf(() => parseArguments('deleteRun', [bad]));
    }
  });

  it('turns ids given as numeric strings into numbers', () => {
    expect(parseArguments('getRun', ['12'])).toEqual([12]);
  });

  it('refuses empty, overlong and NUL-holding paths', () => {
    inputErrorOf(() => parseArguments('openDataset', ['', {}]));
    inputErrorOf(() => parseArguments('openDataset', ['   ', {}]));
    inputErrorOf(() => parseArguments('openDataset', ['/a\0b', {}]));
    inputErrorOf(() => parseArguments('openDataset', ['x'.repeat(MAX_PATH_LENGTH + 1), {}]));
    inputErrorOf(() => parseArguments('exportRun', [1, 'npy', 42]));
  });

  it('fills omitted open options and refuses unknown or malformed ones', () => {
    expect(parseArguments('openDataset', ['/a.npy'])).toEqual(['/a.npy', {}]);
    expect(
      inputErrorOf(() => parseArguments('openDataset', ['/a', { label: 'x' }])).message,
    ).toMatch(/unknown field "label"/);
    inputErrorOf(() => parseArguments('openDataset', ['/a', { imageShape: [8] }]));
    inputErrorOf(() => parseArguments('openDataset', ['/a', { imageShape: [8, 0] }]));
    inputErrorOf(() => parseArguments('openDataset', ['/a', { shape: [] }]));
    inputErrorOf(() => parseArguments('openDataset', ['/a', { dtype: 'i8' }]));
    inputErrorOf(() => parseArguments('openDataset', ['/a', null]));
  });

  it('refuses unknown export formats and methods', () => {
    expect(inputErrorOf(() => parseArguments('exportRun', [1, 'pickle', '/o'])).message).toMatch(
      /format\) must be one of npy, saelens, features-csv/,
    );
    expect(inputErrorOf(() => parseArguments('defaultConfig', [1, 'pca'])).message).toMatch(
      /defaultConfig argument 2 \(method\) must be one of ica/,
    );
  });

  it('bounds the rows of a reconstruction request', () => {
    inputErrorOf(() => parseArguments('getReconstructions', [1, []]));
    inputErrorOf(() => parseArguments('getReconstructions', [1, [0, -1]]));
    inputErrorOf(() => parseArguments('getReconstructions', [1, [0.5]]));
    const tooMany = Array.from({ length: MAX_RECONSTRUCTION_ROWS + 1 }, (_, index) => index);
    inputErrorOf(() => parseArguments('getReconstructions', [1, tooMany]));
  });

  it('checks run configurations with the run configuration rules', () => {
    const start = (config: unknown): unknown[] =>
      parseArguments('startRun', [{ datasetId: 1, config }]);
    expect(inputErrorOf(() => start({ method: 'ica', alhpa: 1 })).message).toMatch(
      /unknown field "alhpa"/,
    );
    inputErrorOf(() => start({ method: 'sae-relu', l1: -1 }));
    inputErrorOf(() => start({ method: 'sae-topk', steps: 0 }));
    inputErrorOf(() => start({ method: 'sae-topk', features: 8, k: 9 }));
    inputErrorOf(() => start({ method: 'lda' }));
    inputErrorOf(() => start({ alpha: 1 }));
    inputErrorOf(() => parseArguments('startRun', [{ datasetId: 1, config: {}, extra: 1 }]));
  });

  it('keeps only the configuration fields given, converted to numbers', () => {
    const [request] = parseArguments('startRun', [
      { datasetId: '2', config: { method: 'sae-topk', k: '16', steps: 10 } },
    ]);
    expect(request).toEqual({ datasetId: 2, config: { method: 'sae-topk', k: 16, steps: 10 } });
  });

  it('leaves width-dependent relations to the service', () => {
    // A large k without features, and a square ICA basis of any size, pass here.
    expect(() =>
      parseArguments('startRun', [{ datasetId: 1, config: { method: 'sae-topk', k: 512 } }]),
    ).not.toThrow();
    expect(() =>
      parseArguments('startRun', [
        { datasetId: 1, config: { method: 'ica-complete', features: 96 } },
      ]),
    ).not.toThrow();
  });
});
